//! Device state JSON (`<base>/<friendly_name>`) and availability
//! (`<base>/<friendly_name>/availability`) → component values.
//!
//! Zigbee2MQTT publishes a device's whole cached state as one JSON object on
//! every change, e.g. `{"state":"ON","brightness":254,"linkquality":87}`;
//! values it does not know yet are `null`. Availability is
//! `{"state":"online"|"offline"}`, or the plain text `online`/`offline` with
//! `advanced.legacy_availability_payload` (Zigbee2MQTT 1.x default).

use igloo_provider::protocol::{Color, Component, Kind, Value};
use serde_json::{Map, Value as J};

use super::PayloadError;
use super::exposes::{Conv, EntityPlan, scale10};
use crate::color::{hs_to_rgb, xy_to_rgb};

/// What one entity's bindings read from a state object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    /// Components whose property was present and valid, in binding order.
    pub values: Vec<Component>,
    /// Properties present with a value that does not fit (not `null`: Zigbee2MQTT
    /// uses `null` for "unknown", which is skipped silently).
    pub junk: Vec<Junk>,
}

/// A property whose value could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Junk {
    /// State JSON key.
    pub property: String,
    /// The component it should have become.
    pub component: &'static str,
    /// The offending value.
    pub value: J,
}

/// Parses a state payload into its JSON object.
///
/// # Errors
/// [`PayloadError`] when it is not JSON or not an object.
pub fn parse_state(payload: &[u8]) -> Result<Map<String, J>, PayloadError> {
    match serde_json::from_slice(payload)? {
        J::Object(map) => Ok(map),
        other => Err(PayloadError::Shape {
            expected: "object",
            got: super::json_kind(&other),
        }),
    }
}

/// Parses an availability payload: `true` = online.
///
/// # Errors
/// [`PayloadError`] for anything but the two documented forms.
pub fn parse_availability(payload: &[u8]) -> Result<bool, PayloadError> {
    let text = std::str::from_utf8(payload).map_err(|_| PayloadError::Availability)?;
    let word = match text.trim() {
        plain @ ("online" | "offline") => plain.to_string(),
        json => {
            let value: J = serde_json::from_str(json)?;
            value
                .get("state")
                .and_then(J::as_str)
                .ok_or(PayloadError::Availability)?
                .to_string()
        }
    };
    match word.as_str() {
        "online" => Ok(true),
        "offline" => Ok(false),
        _ => Err(PayloadError::Availability),
    }
}

/// Reads `entity`'s components from a device state object. Only properties
/// present in `state` produce values.
pub fn decode(entity: &EntityPlan, state: &Map<String, J>) -> Decoded {
    let mut out = Decoded::default();
    for b in &entity.bindings {
        let Some(raw) = state.get(&b.property) else {
            continue;
        };
        if raw.is_null() {
            continue;
        }
        let value = match decode_value(&b.conv, b.component.kind, raw, state) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(()) => {
                out.junk.push(Junk {
                    property: b.property.clone(),
                    component: b.component.name,
                    value: raw.clone(),
                });
                continue;
            }
        };
        match Component::from_value(b.component.id, value) {
            Ok(c) => out.values.push(c),
            Err(_) => out.junk.push(Junk {
                property: b.property.clone(),
                component: b.component.name,
                value: raw.clone(),
            }),
        }
    }
    out
}

/// A JSON number, or a string holding a finite number.
fn number(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Equality of Zigbee2MQTT values, strings compared ASCII case-insensitively.
pub(crate) fn same(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::String(x), J::String(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// `Ok(None)`: valid but maps to no value (e.g. fan mode `auto`, empty `action`).
fn decode_value(
    conv: &Conv,
    kind: Kind,
    raw: &J,
    state: &Map<String, J>,
) -> Result<Option<Value>, ()> {
    Ok(Some(match conv {
        Conv::Number { exp10 } => {
            let v = scale10(number(raw).ok_or(())?, *exp10);
            if kind == Kind::Int {
                let r = v.round();
                if r.abs() >= 9.0e18 {
                    return Err(());
                }
                Value::Int(r as i64)
            } else {
                Value::Float(v)
            }
        }
        Conv::Percent { max } => {
            let v = number(raw).ok_or(())?;
            Value::Float((v * 100.0 / max).clamp(0.0, 100.0))
        }
        Conv::OnOff { on, off } => {
            if same(raw, on) {
                Value::Bool(true)
            } else if same(raw, off) {
                Value::Bool(false)
            } else {
                return Err(());
            }
        }
        Conv::Bool => Value::Bool(raw.as_bool().ok_or(())?),
        Conv::Text { skip_empty, .. } => match raw {
            J::String(s) if s.is_empty() && *skip_empty => return Ok(None),
            J::String(s) => Value::String(s.clone()),
            J::Number(n) => Value::String(n.to_string()),
            J::Bool(b) => Value::String(b.to_string()),
            _ => return Err(()),
        },
        Conv::Color => Value::Color(decode_color(raw, state).ok_or(())?),
        Conv::Enum { table, .. } => {
            let s = raw.as_str().ok_or(())?;
            let (_, variant) = table
                .iter()
                .find(|(z, _)| z.eq_ignore_ascii_case(s))
                .ok_or(())?;
            Value::Enum(variant)
        }
        Conv::LockState { locked, unlocked } => {
            if same(raw, locked) {
                Value::Enum("Locked")
            } else if same(raw, unlocked) {
                Value::Enum("Unlocked")
            } else {
                return Err(());
            }
        }
        Conv::Levels { levels, off } => {
            let s = raw.as_str().ok_or(())?.to_lowercase();
            if off.as_deref() == Some(s.as_str()) {
                Value::Float(0.0)
            } else if let Some(i) = levels.iter().position(|l| *l == s) {
                Value::Float((i + 1) as f64 * 100.0 / levels.len() as f64)
            } else {
                return Ok(None);
            }
        }
    }))
}

/// `color` object → sRGB. Uses the representation named by the state's
/// `color_mode` (`xy` or `hs`) when present, else `x`/`y`, else `hue`/`saturation`
/// (also accepted as `h`/`s`).
fn decode_color(raw: &J, state: &Map<String, J>) -> Option<Color> {
    let obj = raw.as_object()?;
    let num = |k: &str| obj.get(k).and_then(number);
    let xy = || xy_to_rgb(num("x")?, num("y")?);
    let hs = || {
        let h = num("hue").or_else(|| num("h"))?;
        let s = num("saturation").or_else(|| num("s"))?;
        hs_to_rgb(h, s)
    };
    match state.get("color_mode").and_then(J::as_str) {
        Some("hs") => hs().or_else(xy),
        _ => xy().or_else(hs),
    }
}

#[cfg(test)]
mod tests;
