//! Change requests (component values for one entity) → the JSON object
//! published to `<base>/<friendly_name>/set`.
//!
//! Payload forms from Zigbee2MQTT's docs (<https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-friendly-name-set>):
//! `{"state":"ON"}` (the expose's `value_on`/`value_off`), `{"brightness":127}`
//! (device range), `{"color_temp":370}` (mired), `{"color":{"r":..,"g":..,"b":..}}`,
//! `{"position":50}`, `{"state":"OPEN"|"CLOSE"|"STOP"}` for covers,
//! `{"occupied_heating_setpoint":21.5}`, `{"system_mode":"heat"}`,
//! `{"state":"LOCK"|"UNLOCK"}`, and `{"<property>": value}` for generic exposes.
//! All requested values for one entity go into one object.

use igloo_provider::protocol::component::{CoverCommand, CoverState, Lock};
use igloo_provider::protocol::{Component, Value};
use serde_json::{Map, Value as J, json};

use super::exposes::{Binding, Conv, EntityPlan, scale10};

/// The `/set` object for a change request, and the values that could not go in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoded {
    /// Property → value; publish only when not empty.
    pub payload: Map<String, J>,
    /// Requested components left out, with the reason.
    pub rejected: Vec<Rejected>,
}

impl Encoded {
    /// The payload as JSON text with object keys sorted (at every level), so
    /// the bytes on the wire do not depend on serde_json's map features.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Sorted(&J::Object(self.payload.clone()))).unwrap_or_default()
    }
}

/// Serializes JSON with object keys in sorted order.
struct Sorted<'a>(&'a J);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self.0 {
            J::Object(m) => {
                let mut entries: Vec<(&String, &J)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &Sorted(v))?;
                }
                map.end()
            }
            J::Array(a) => s.collect_seq(a.iter().map(Sorted)),
            other => other.serialize(s),
        }
    }
}

/// A requested component that cannot be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// Component name.
    pub component: &'static str,
    /// Why, for the log.
    pub reason: &'static str,
}

/// Builds the `/set` object for `values` written to `entity`. The entity's own
/// marker (e.g. `Light`) is accepted and ignored.
pub fn encode(entity: &EntityPlan, values: &[Component]) -> Encoded {
    let mut out = Encoded::default();
    for value in values {
        if entity.marker.as_ref() == Some(value) {
            continue;
        }
        let binding = match value {
            Component::CoverCommand(_) => entity
                .bindings
                .iter()
                .find(|b| b.component.name == "CoverState"),
            _ => entity
                .bindings
                .iter()
                .find(|b| b.component.id == value.id()),
        };
        let result = match binding {
            None => Err("the entity has no such component"),
            Some(b) if !b.writable => Err("the device does not accept /set for it"),
            Some(b) => encode_value(b, value).map(|v| (b.property.clone(), v)),
        };
        match result {
            Ok((property, v)) => {
                out.payload.insert(property, v);
            }
            Err(reason) => out.rejected.push(Rejected {
                component: value.name(),
                reason,
            }),
        }
    }
    out
}

/// A number as JSON: integral values as integers (`21.0` → `21`).
fn number_json(v: f64) -> J {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        J::from(v as i64)
    } else {
        serde_json::Number::from_f64(v)
            .map(J::Number)
            .unwrap_or(J::Null)
    }
}

fn encode_value(b: &Binding, value: &Component) -> Result<J, &'static str> {
    let v = value.value();
    let not_finite = "the value is not a finite number";
    Ok(match &b.conv {
        Conv::Number { exp10 } => {
            let x = scale10(v.as_float().ok_or("the value is not a number")?, -exp10);
            if !x.is_finite() {
                return Err(not_finite);
            }
            number_json(x)
        }
        Conv::Percent { max } => {
            let p = v.as_float().ok_or("the value is not a number")?;
            if !p.is_finite() {
                return Err(not_finite);
            }
            J::from((p.clamp(0.0, 100.0) * max / 100.0).round() as i64)
        }
        Conv::OnOff { on, off }
        | Conv::LockState {
            locked: on,
            unlocked: off,
        } => {
            let state = match value {
                Component::Lock(Lock::Locked) => true,
                Component::Lock(Lock::Unlocked) => false,
                Component::Lock(_) => return Err("only Locked and Unlocked can be commanded"),
                _ => match v {
                    Value::Bool(b) => b,
                    _ => return Err("the value is not a boolean"),
                },
            };
            if state { on.clone() } else { off.clone() }
        }
        Conv::Bool => match v {
            Value::Bool(b) => J::Bool(b),
            _ => return Err("the value is not a boolean"),
        },
        Conv::Text { numeric, .. } => match v {
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(n) if *numeric && n.is_finite() => number_json(n),
                _ => J::String(s),
            },
            _ => return Err("the value is not text"),
        },
        Conv::Color => match v {
            Value::Color(c) => json!({"r": c.r, "g": c.g, "b": c.b}),
            _ => return Err("the value is not a colour"),
        },
        Conv::Enum { table, values } => {
            let variant = match value {
                Component::CoverCommand(CoverCommand::Open) => CoverState::Open.name(),
                Component::CoverCommand(CoverCommand::Close) => CoverState::Closed.name(),
                Component::CoverCommand(CoverCommand::Stop) => CoverState::Stopped.name(),
                _ => match v {
                    Value::Enum(name) => name,
                    _ => return Err("the value is not an enum"),
                },
            };
            let (z2m, _) = table
                .iter()
                .find(|(_, var)| *var == variant)
                .ok_or("Zigbee2MQTT has no value for this variant")?;
            if !values.is_empty() && !values.iter().any(|v| v.eq_ignore_ascii_case(z2m)) {
                return Err("the device does not list this value");
            }
            J::from(*z2m)
        }
        Conv::Levels { levels, off } => {
            let p = v.as_float().ok_or("the value is not a number")?;
            if !p.is_finite() {
                return Err(not_finite);
            }
            if p <= 0.0 {
                J::from(off.clone().ok_or("the fan has no off mode")?)
            } else {
                let n = levels.len();
                if n == 0 {
                    return Err("the fan lists no speed levels");
                }
                let i = ((p.min(100.0) / 100.0 * n as f64).ceil() as usize).clamp(1, n);
                J::from(levels[i - 1].clone())
            }
        }
    })
}

#[cfg(test)]
mod tests;
