//! A state payload (after its template) → component values, by [`ReadConv`].
//!
//! Home Assistant treats some payloads as "no value": an empty text, and for
//! sensors `None`/`unknown`/`unavailable`. These give no value and no error.

use igloo_provider::protocol::{Color, Component, ComponentInfo, Kind, Value};
use serde_json::Value as J;

use super::plan::ReadConv;
use crate::color::{hs_to_rgb, xy_to_rgb};

/// Why a payload gave no value; the caller logs it with the topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

fn unusable(what: impl Into<String>) -> Unusable {
    Unusable(what.into())
}

/// Payloads that mean "no value" (Home Assistant's sensor treats them so).
fn is_no_value(s: &str) -> bool {
    matches!(
        s.trim(),
        "" | "None" | "none" | "null" | "unknown" | "unavailable"
    )
}

fn number(s: &str) -> Result<f64, Unusable> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| unusable(format!("{s:?} is not a number")))
}

fn make(component: &'static ComponentInfo, value: Value) -> Result<Component, Unusable> {
    Component::from_value(component.id, value)
        .map_err(|e| unusable(format!("not a {}: {e}", component.name)))
}

fn float_value(component: &'static ComponentInfo, v: f64) -> Result<Component, Unusable> {
    if component.kind == Kind::Int {
        let r = v.round();
        if r.abs() >= 9.0e18 {
            return Err(unusable("out of range"));
        }
        make(component, Value::Int(r as i64))
    } else {
        make(component, Value::Float(v))
    }
}

/// Decodes `rendered` (the payload, or its template's output).
///
/// # Errors
/// [`Unusable`] when the text does not fit; `Ok(vec![])` for "no value".
pub fn decode(conv: &ReadConv, rendered: &str) -> Result<Vec<Component>, Unusable> {
    let one = |c: Result<Component, Unusable>| c.map(|c| vec![c]);
    match conv {
        ReadConv::Number { component, linear } => {
            if is_no_value(rendered) {
                return Ok(vec![]);
            }
            one(float_value(component, linear.apply(number(rendered)?)))
        }
        ReadConv::Percent {
            component,
            min,
            max,
        } => {
            if is_no_value(rendered) {
                return Ok(vec![]);
            }
            let span = max - min;
            if span == 0.0 {
                return Err(unusable("empty range"));
            }
            let pct = ((number(rendered)? - min) * 100.0 / span).clamp(0.0, 100.0);
            one(float_value(component, pct))
        }
        ReadConv::Brightness { max } => {
            if is_no_value(rendered) {
                return Ok(vec![]);
            }
            brightness(number(rendered)?, *max)
        }
        ReadConv::Mired { kelvin } => {
            if is_no_value(rendered) {
                return Ok(vec![]);
            }
            one(mired(number(rendered)?, *kelvin))
        }
        ReadConv::OnOff {
            component,
            on,
            off,
            invert,
        } => {
            let v = if on.matches(rendered) {
                true
            } else if off.matches(rendered) {
                false
            } else if is_no_value(rendered) {
                return Ok(vec![]);
            } else {
                return Err(unusable(format!(
                    "{rendered:?} is neither {:?} nor {:?}",
                    on.text, off.text
                )));
            };
            one(make(component, Value::Bool(v != *invert)))
        }
        ReadConv::Text { component } => one(make(component, Value::String(rendered.to_string()))),
        ReadConv::Mode {
            component,
            names,
            none,
        } => {
            if let Some(name) = igloo_provider::protocol::find_name(names, rendered) {
                return one(make(component, Value::String(name.to_string())));
            }
            if none.iter().any(|t| t.matches(rendered)) {
                return one(make(component, Value::String(String::new())));
            }
            match rendered.trim().is_empty() {
                true => Ok(vec![]),
                false => Err(unusable(format!(
                    "{rendered:?} is not one of {}",
                    names.join(", ")
                ))),
            }
        }
        ReadConv::Enum { component, table } => {
            match table.iter().find(|(t, _)| t.matches(rendered)) {
                Some((_, variant)) => one(make(component, Value::Enum(variant))),
                None if is_no_value(rendered) => Ok(vec![]),
                None => Err(unusable(format!("{rendered:?} is not a known state"))),
            }
        }
        ReadConv::Rgb => one(triple(rendered).and_then(|[r, g, b]| {
            let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
            color(Color {
                r: c(r),
                g: c(g),
                b: c(b),
            })
        })),
        ReadConv::Hs => one(pair(rendered).and_then(|[h, s]| {
            color(hs_to_rgb(h, s).ok_or_else(|| unusable("not a hue/saturation"))?)
        })),
        ReadConv::Xy => one(pair(rendered).and_then(|[x, y]| {
            color(xy_to_rgb(x, y).ok_or_else(|| unusable("not a CIE xy colour"))?)
        })),
        ReadConv::LightJson { scale, kelvin } => light_json(rendered, *scale, *kelvin),
        ReadConv::Trigger { payload, action } => {
            if payload.as_ref().is_some_and(|p| !p.matches(rendered)) {
                return Ok(vec![]);
            }
            let value = if action.is_empty() { rendered } else { action };
            Ok(vec![Component::Action(value.to_string())])
        }
        ReadConv::Event => {
            let j: J = serde_json::from_str(rendered)
                .map_err(|e| unusable(format!("event payload is not JSON: {e}")))?;
            let t = j
                .get("event_type")
                .and_then(J::as_str)
                .ok_or_else(|| unusable("event payload has no event_type"))?;
            Ok(vec![Component::Action(t.to_string())])
        }
    }
}

fn color(c: Color) -> Result<Component, Unusable> {
    Ok(Component::Color(c))
}

fn mired(v: f64, kelvin: bool) -> Result<Component, Unusable> {
    let m = if kelvin {
        if v <= 0.0 {
            return Err(unusable("kelvin must be positive"));
        }
        1e6 / v
    } else {
        v
    };
    Ok(Component::ColorTemperature(m.round() as i64))
}

fn numbers<const N: usize>(s: &str) -> Result<[f64; N], Unusable> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.len() != N {
        return Err(unusable(format!(
            "{s:?}: expected {N} comma-separated numbers"
        )));
    }
    let mut out = [0.0; N];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = number(p)?;
    }
    Ok(out)
}

fn triple(s: &str) -> Result<[f64; 3], Unusable> {
    numbers::<3>(s)
}

fn pair(s: &str) -> Result<[f64; 2], Unusable> {
    numbers::<2>(s)
}

/// A light's brightness `value` of `0..=max` as a percentage; nothing for a
/// zero ([`ReadConv::Brightness`]).
fn brightness(value: f64, max: f64) -> Result<Vec<Component>, Unusable> {
    if max <= 0.0 {
        return Err(unusable("brightness_scale is not positive"));
    }
    if value == 0.0 {
        return Ok(vec![]);
    }
    Ok(vec![Component::Brightness(
        (value * 100.0 / max).clamp(0.0, 100.0),
    )])
}

/// A JSON-schema light state: `state`, `brightness` (0..scale, a zero ignored), `color_temp`,
/// `color` (`r,g,b` / `h,s` / `x,y`, chosen by `color_mode` when given).
fn light_json(text: &str, scale: f64, kelvin: bool) -> Result<Vec<Component>, Unusable> {
    let j: J = serde_json::from_str(text)
        .map_err(|e| unusable(format!("light state is not JSON: {e}")))?;
    let obj = j
        .as_object()
        .ok_or_else(|| unusable("light state is not a JSON object"))?;
    let mut out = Vec::new();
    match obj.get("state").and_then(J::as_str) {
        Some(s) if s.eq_ignore_ascii_case("on") => out.push(Component::Switch(true)),
        Some(s) if s.eq_ignore_ascii_case("off") => out.push(Component::Switch(false)),
        _ => {}
    }
    let num = |v: Option<&J>| v.and_then(J::as_f64).filter(|f| f.is_finite());
    if let Some(b) = num(obj.get("brightness")) {
        out.extend(brightness(b, scale)?);
    }
    let mode = obj.get("color_mode").and_then(J::as_str).unwrap_or("");
    if let Some(t) = num(obj.get("color_temp"))
        && (mode.is_empty() || mode == "color_temp")
    {
        out.push(mired(t, kelvin)?);
    }
    if let Some(c) = obj.get("color").and_then(J::as_object)
        && mode != "color_temp"
    {
        let get = |k: &str| num(c.get(k));
        let rgb = || {
            let ch = |k| get(k).map(|v| v.round().clamp(0.0, 255.0) as u8);
            Some(Color {
                r: ch("r")?,
                g: ch("g")?,
                b: ch("b")?,
            })
        };
        let hs = || hs_to_rgb(get("h")?, get("s")?);
        let xy = || xy_to_rgb(get("x")?, get("y")?);
        let picked = match mode {
            "hs" => hs().or_else(rgb).or_else(xy),
            "xy" => xy().or_else(rgb).or_else(hs),
            _ => rgb().or_else(hs).or_else(xy),
        };
        if let Some(c) = picked {
            out.push(Component::Color(c));
        }
    }
    if let Some(effect) = obj.get("effect").and_then(J::as_str) {
        out.push(Component::Effect(effect.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
