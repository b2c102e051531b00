//! Change requests → payloads for the entity's command topics.
//!
//! Payload forms from Home Assistant's MQTT platform docs: `payload_on`/
//! `payload_off` (switch, light, fan), the number as text (number, brightness
//! in `0..brightness_scale`, position in `position_closed..position_open`,
//! fan percentage in `speed_range_min..speed_range_max`), `r,g,b` / `h,s` /
//! `x,y` (default-schema light colour), the option text (select, text),
//! `payload_open`/`payload_close`/`payload_stop` (cover), `payload_lock`/
//! `payload_unlock`/`payload_open` (lock), the mode (climate),
//! `payload_press` (button), and one JSON object per request for JSON-schema
//! lights: `{"state":"ON","brightness":128,"color_temp":370,"color":{…}}`;
//! template-schema lights render their command templates with the
//! request's values ([`light_template`]).
//! A `command_template` receives the payload as `value` (and `red`, `green`,
//! `blue`, `brightness`, `position`, `tilt_position`, `x`, `y`, `h`, `s` where they apply).

use std::collections::BTreeMap;

use igloo_provider::protocol::{Component, Value as V, find_name};
use minijinja::Value;
use serde_json::{Map, Value as J, json};

use super::plan::{ColorSpace, WriteConv};
use crate::color::{rgb_to_hs, rgb_to_xy};
use crate::z2m::command::Encoded;

/// A value ready for its topic: the payload without a template, and what a
/// `command_template` gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The payload when there is no template.
    pub payload: String,
    /// `value` for the template.
    pub value: Value,
    /// Other names for the template.
    pub extra: Vec<(&'static str, Value)>,
}

fn number_payload(v: f64, int: bool) -> (String, Value) {
    if int || (v.fract() == 0.0 && v.abs() < 9.0e15) {
        let i = v.round() as i64;
        (i.to_string(), Value::from(i))
    } else {
        (v.to_string(), Value::from(v))
    }
}

fn as_float(c: &Component) -> Result<f64, &'static str> {
    match c.value() {
        V::Float(f) if f.is_finite() => Ok(f),
        V::Int(i) => Ok(i as f64),
        V::Float(_) => Err("the value is not a finite number"),
        _ => Err("the value is not a number"),
    }
}

/// Encodes `value` for a non-JSON write.
///
/// # Errors
/// Why it cannot be sent (wrong kind, no payload for this variant).
pub fn encode(conv: &WriteConv, value: &Component) -> Result<Command, &'static str> {
    let simple = |payload: String| Command {
        value: Value::from(payload.as_str()),
        payload,
        extra: Vec::new(),
    };
    Ok(match conv {
        WriteConv::OnOff { on, off } => match value.value() {
            V::Bool(b) => simple(if b { on.clone() } else { off.clone() }),
            _ => return Err("the value is not a boolean"),
        },
        WriteConv::Number { linear, int } => {
            let (payload, value) = number_payload(linear.invert(as_float(value)?), *int);
            Command {
                payload,
                value,
                extra: Vec::new(),
            }
        }
        WriteConv::Percent { min, max } => {
            let pct = as_float(value)?.clamp(0.0, 100.0);
            let (payload, v) = number_payload(min + pct / 100.0 * (max - min), true);
            let extra = match value {
                Component::CoverPosition(_) => vec![("position", v.clone())],
                Component::CoverTilt(_) => vec![("tilt_position", v.clone())],
                Component::Brightness(_) => vec![("brightness", v.clone())],
                _ => Vec::new(),
            };
            Command {
                payload,
                value: v,
                extra,
            }
        }
        WriteConv::Mired { kelvin } => {
            let m = as_float(value)?;
            if m <= 0.0 {
                return Err("colour temperature must be positive");
            }
            let v = if *kelvin { 1e6 / m } else { m };
            let (payload, value) = number_payload(v, true);
            Command {
                payload,
                value,
                extra: Vec::new(),
            }
        }
        WriteConv::Text => match value.value() {
            V::String(s) => simple(s),
            _ => return Err("the value is not text"),
        },
        WriteConv::Choice { options } => match value.value() {
            V::String(s) => simple(choose(options, &s)?.to_string()),
            _ => return Err("the value is not text"),
        },
        WriteConv::Enum { table } => {
            let variant = match value.value() {
                V::Enum(name) => name,
                _ => return Err("the value is not an enum"),
            };
            let (_, payload) = table
                .iter()
                .find(|(v, _)| *v == variant)
                .ok_or("the device has no command for this value")?;
            simple(payload.clone())
        }
        WriteConv::Press { payload } => simple(payload.clone()),
        WriteConv::Rgb | WriteConv::Hs | WriteConv::Xy => {
            let Component::Color(c) = value else {
                return Err("the value is not a colour");
            };
            let (r, g, b) = (Value::from(c.r), Value::from(c.g), Value::from(c.b));
            let mut extra = vec![("red", r), ("green", g), ("blue", b)];
            let payload = match conv {
                WriteConv::Rgb => format!("{},{},{}", c.r, c.g, c.b),
                WriteConv::Hs => {
                    let (h, s) = rgb_to_hs(*c);
                    extra.push(("h", Value::from(round(h, 1))));
                    extra.push(("s", Value::from(round(s, 1))));
                    format!("{},{}", round(h, 1), round(s, 1))
                }
                _ => {
                    let (x, y) = rgb_to_xy(*c);
                    extra.push(("x", Value::from(round(x, 4))));
                    extra.push(("y", Value::from(round(y, 4))));
                    format!("{},{}", round(x, 4), round(y, 4))
                }
            };
            Command {
                value: Value::from(payload.as_str()),
                payload,
                extra,
            }
        }
        WriteConv::LightJson { .. } => {
            return Err("JSON-schema light members go through light_json");
        }
        WriteConv::LightTemplate { .. } => {
            return Err("template-schema light values go through light_template");
        }
    })
}

/// `wanted` as `options` spell it: the exact match, else one that differs
/// only in case (Home Assistant matches effect and mode names exactly;
/// people type `rainbow` for `Rainbow`).
///
/// # Errors
/// `wanted` is none of them.
fn choose<'a>(options: &'a [String], wanted: &str) -> Result<&'a str, &'static str> {
    find_name(options, wanted).ok_or("not one of the names the device lists (its effects or modes)")
}

fn round(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// Adds `value` to a JSON-schema light command object.
///
/// # Errors
/// Why it cannot be sent.
pub fn light_json(
    conv: &WriteConv,
    value: &Component,
    out: &mut Map<String, J>,
) -> Result<(), &'static str> {
    let WriteConv::LightJson {
        scale,
        kelvin,
        color,
        effects,
    } = conv
    else {
        return Err("not a JSON-schema light");
    };
    match value {
        Component::Switch(on) => {
            out.insert("state".into(), J::from(if *on { "ON" } else { "OFF" }));
        }
        Component::Brightness(_) => {
            let pct = as_float(value)?.clamp(0.0, 100.0);
            out.insert(
                "brightness".into(),
                J::from((pct / 100.0 * scale).round() as i64),
            );
        }
        Component::ColorTemperature(m) => {
            if *m <= 0 {
                return Err("colour temperature must be positive");
            }
            let v = if *kelvin {
                (1e6 / *m as f64).round() as i64
            } else {
                *m
            };
            out.insert("color_temp".into(), J::from(v));
        }
        Component::Color(c) => {
            let obj = match color {
                ColorSpace::Rgb => json!({"r": c.r, "g": c.g, "b": c.b}),
                ColorSpace::Hs => {
                    let (h, s) = rgb_to_hs(*c);
                    json!({"h": round(h, 1), "s": round(s, 1)})
                }
                ColorSpace::Xy => {
                    let (x, y) = rgb_to_xy(*c);
                    json!({"x": round(x, 4), "y": round(y, 4)})
                }
            };
            out.insert("color".into(), obj);
        }
        Component::Effect(name) => {
            out.insert("effect".into(), J::from(choose(effects, name)?));
        }
        _ => {
            return Err(
                "a JSON-schema light takes Switch, Brightness, ColorTemperature, Color, Effect",
            );
        }
    }
    Ok(())
}

/// Adds `value` to the names a template-schema light's command template
/// gets, as Home Assistant's `schema_template.py` passes them: `state`
/// (bool), `brightness` (0–255), `color_temp` (mired), `red`, `green`,
/// `blue` (0–255), `hue` (degrees), `sat` (%), `effect` (as `effect_list`
/// spells it).
///
/// # Errors
/// Why it cannot be sent.
pub fn light_template(
    conv: &WriteConv,
    value: &Component,
    out: &mut BTreeMap<&'static str, Value>,
) -> Result<(), &'static str> {
    let WriteConv::LightTemplate { effects } = conv else {
        return Err("not a template-schema light");
    };
    match value {
        Component::Switch(on) => {
            out.insert("state", Value::from(*on));
        }
        Component::Brightness(_) => {
            let pct = as_float(value)?.clamp(0.0, 100.0);
            out.insert(
                "brightness",
                Value::from((pct / 100.0 * 255.0).round() as i64),
            );
        }
        Component::ColorTemperature(m) => {
            if *m <= 0 {
                return Err("colour temperature must be positive");
            }
            out.insert("color_temp", Value::from(*m));
        }
        Component::Color(c) => {
            let (h, s) = rgb_to_hs(*c);
            out.insert("red", Value::from(c.r));
            out.insert("green", Value::from(c.g));
            out.insert("blue", Value::from(c.b));
            out.insert("hue", Value::from(round(h, 1)));
            out.insert("sat", Value::from(round(s, 1)));
        }
        Component::Effect(name) => {
            out.insert("effect", Value::from(choose(effects, name)?));
        }
        _ => {
            return Err(
                "a template-schema light takes Switch, Brightness, ColorTemperature, Color, Effect",
            );
        }
    }
    Ok(())
}

/// A JSON light command object as text with sorted keys (stable bytes on the wire).
pub fn light_json_text(map: Map<String, J>) -> String {
    Encoded {
        payload: map,
        rejected: Vec::new(),
    }
    .to_json()
}

#[cfg(test)]
mod tests;
