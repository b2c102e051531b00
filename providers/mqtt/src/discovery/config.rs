//! Discovery config payloads (after [`super::abbrev`] expansion) as typed values.
//!
//! One struct covers every supported platform: each key is optional and
//! means the same on every platform that uses it (Home Assistant's MQTT
//! platform docs). Unknown keys are ignored, as Home Assistant ignores keys of
//! other platforms. A payload key (`payload_on`, `state_locked`, …) may be
//! text, a number or a boolean in the wild (Zigbee2MQTT sends `true`); it is
//! kept as text ([`Text`]).

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value as J};

use super::abbrev;

/// A payload or state value: text, or a number/boolean kept as its text
/// (`true`, `1`). Booleans compare case-insensitively (a template renders
/// `true`, Home Assistant's Python would render `True`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// The text.
    pub text: String,
    /// It was a JSON boolean.
    pub boolean: bool,
}

impl Text {
    /// A text value.
    pub fn new(s: &str) -> Text {
        Text {
            text: s.to_string(),
            boolean: false,
        }
    }

    /// Whether `rendered` is this value.
    pub fn matches(&self, rendered: &str) -> bool {
        self.text == rendered || (self.boolean && self.text.eq_ignore_ascii_case(rendered.trim()))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        match J::deserialize(d)? {
            J::String(s) => Ok(Text {
                text: s,
                boolean: false,
            }),
            J::Bool(b) => Ok(Text {
                text: b.to_string(),
                boolean: true,
            }),
            J::Number(n) => Ok(Text {
                text: n.to_string(),
                boolean: false,
            }),
            other => Err(serde::de::Error::custom(format!(
                "expected text, a number or a boolean, got {other}"
            ))),
        }
    }
}

/// `identifiers`: one string or a list.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match J::deserialize(d)? {
        J::String(s) => vec![s],
        J::Array(a) => a
            .into_iter()
            .filter_map(|v| match v {
                J::String(s) => Some(s),
                J::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        J::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    })
}

/// `connections`: `[[type, value], …]`.
fn pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    Ok(match J::deserialize(d)? {
        J::Array(a) => a
            .into_iter()
            .filter_map(|p| match p {
                J::Array(mut p) if p.len() == 2 => {
                    let v = p.pop()?;
                    let k = p.pop()?;
                    Some((k.as_str()?.to_string(), v.as_str()?.to_string()))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// The `device` block.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DeviceInfo {
    /// Identifiers (serial numbers, MACs, `zigbee2mqtt_0x…`).
    #[serde(deserialize_with = "one_or_many")]
    pub identifiers: Vec<String>,
    /// Connections: `[["mac", "aa:bb:…"]]`.
    #[serde(deserialize_with = "pairs")]
    pub connections: Vec<(String, String)>,
    /// Display name.
    pub name: Option<String>,
    /// Manufacturer.
    pub manufacturer: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Model id.
    pub model_id: Option<String>,
    /// Firmware version.
    pub sw_version: Option<String>,
    /// Hardware version.
    pub hw_version: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Suggested area.
    pub suggested_area: Option<String>,
    /// The device's own web page.
    pub configuration_url: Option<String>,
    /// The identifier of the device this one is reached through.
    pub via_device: Option<String>,
}

/// The `origin` block: who published the config.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Origin {
    /// Name of the publishing software (`Zigbee2MQTT`, `ESPHome`, …).
    pub name: Option<String>,
    /// Its version.
    pub sw_version: Option<String>,
}

/// One entry of an `availability` list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AvailabilityEntry {
    /// Topic carrying the availability payload.
    pub topic: String,
    /// Payload meaning available (default `online`).
    #[serde(default)]
    pub payload_available: Option<Text>,
    /// Payload meaning not available (default `offline`).
    #[serde(default)]
    pub payload_not_available: Option<Text>,
    /// Template applied to the payload first.
    #[serde(default)]
    pub value_template: Option<String>,
}

/// One entity's config (or one `components` entry of device-based discovery).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[allow(missing_docs)] // Home Assistant's key names; see its MQTT platform docs.
pub struct EntityConfig {
    /// `null` = the device's main feature (named after the device); absent = a default name.
    pub name: Option<J>,
    pub unique_id: Option<String>,
    pub object_id: Option<String>,
    pub platform: Option<String>,
    pub device: Option<DeviceInfo>,
    pub origin: Option<Origin>,
    pub availability: Option<Vec<AvailabilityEntry>>,
    pub availability_topic: Option<String>,
    pub availability_template: Option<String>,
    pub availability_mode: Option<String>,
    pub payload_available: Option<Text>,
    pub payload_not_available: Option<Text>,
    pub device_class: Option<String>,
    pub unit_of_measurement: Option<String>,
    pub state_class: Option<String>,
    pub entity_category: Option<String>,
    pub qos: Option<u8>,
    pub retain: Option<bool>,
    pub optimistic: Option<bool>,
    pub encoding: Option<String>,
    // Common state and command.
    pub state_topic: Option<String>,
    pub value_template: Option<String>,
    pub command_topic: Option<String>,
    pub command_template: Option<String>,
    pub payload_on: Option<Text>,
    pub payload_off: Option<Text>,
    pub state_on: Option<Text>,
    pub state_off: Option<Text>,
    // Light.
    pub schema: Option<String>,
    pub brightness: Option<bool>,
    pub brightness_scale: Option<f64>,
    pub brightness_state_topic: Option<String>,
    pub brightness_command_topic: Option<String>,
    pub brightness_value_template: Option<String>,
    pub brightness_command_template: Option<String>,
    pub color_temp_state_topic: Option<String>,
    pub color_temp_command_topic: Option<String>,
    pub color_temp_value_template: Option<String>,
    pub color_temp_command_template: Option<String>,
    pub color_temp_kelvin: Option<bool>,
    pub min_mireds: Option<f64>,
    pub max_mireds: Option<f64>,
    pub min_kelvin: Option<f64>,
    pub max_kelvin: Option<f64>,
    pub rgb_state_topic: Option<String>,
    pub rgb_command_topic: Option<String>,
    pub rgb_value_template: Option<String>,
    pub rgb_command_template: Option<String>,
    pub hs_state_topic: Option<String>,
    pub hs_command_topic: Option<String>,
    pub hs_value_template: Option<String>,
    pub xy_state_topic: Option<String>,
    pub xy_command_topic: Option<String>,
    pub xy_value_template: Option<String>,
    pub supported_color_modes: Option<Vec<String>>,
    pub on_command_type: Option<String>,
    pub effect_list: Option<Vec<J>>,
    /// JSON schema: the light takes `effect` (with `effect_list`).
    pub effect: Option<bool>,
    pub effect_state_topic: Option<String>,
    pub effect_command_topic: Option<String>,
    pub effect_value_template: Option<String>,
    pub effect_command_template: Option<String>,
    // Template-schema light: one state topic read by a template per value,
    // one command topic written by the on or the off template.
    pub command_on_template: Option<String>,
    pub command_off_template: Option<String>,
    pub state_template: Option<String>,
    pub brightness_template: Option<String>,
    pub color_temp_template: Option<String>,
    pub red_template: Option<String>,
    pub green_template: Option<String>,
    pub blue_template: Option<String>,
    pub effect_template: Option<String>,
    // Cover.
    pub position_topic: Option<String>,
    pub position_template: Option<String>,
    pub set_position_topic: Option<String>,
    pub set_position_template: Option<String>,
    pub position_open: Option<f64>,
    pub position_closed: Option<f64>,
    pub payload_open: Option<Text>,
    pub payload_close: Option<Text>,
    pub payload_stop: Option<Text>,
    pub state_open: Option<Text>,
    pub state_opening: Option<Text>,
    pub state_closed: Option<Text>,
    pub state_closing: Option<Text>,
    pub state_stopped: Option<Text>,
    pub tilt_status_topic: Option<String>,
    pub tilt_status_template: Option<String>,
    pub tilt_command_topic: Option<String>,
    pub tilt_command_template: Option<String>,
    pub tilt_min: Option<f64>,
    pub tilt_max: Option<f64>,
    // Fan.
    pub percentage_state_topic: Option<String>,
    pub percentage_command_topic: Option<String>,
    pub percentage_value_template: Option<String>,
    pub percentage_command_template: Option<String>,
    pub speed_range_min: Option<f64>,
    pub speed_range_max: Option<f64>,
    pub oscillation_state_topic: Option<String>,
    pub oscillation_command_topic: Option<String>,
    pub oscillation_value_template: Option<String>,
    pub payload_oscillation_on: Option<Text>,
    pub payload_oscillation_off: Option<Text>,
    pub direction_state_topic: Option<String>,
    pub direction_command_topic: Option<String>,
    pub direction_value_template: Option<String>,
    pub payload_direction_forward: Option<Text>,
    pub payload_direction_reverse: Option<Text>,
    // Fan and climate presets.
    pub preset_mode_state_topic: Option<String>,
    pub preset_mode_value_template: Option<String>,
    pub preset_mode_command_topic: Option<String>,
    pub preset_mode_command_template: Option<String>,
    pub preset_modes: Option<Vec<J>>,
    /// A fan's state payload meaning "no preset" (Home Assistant's default
    /// `None`).
    pub payload_reset_preset_mode: Option<Text>,
    // Climate.
    pub current_temperature_topic: Option<String>,
    pub current_temperature_template: Option<String>,
    pub temperature_state_topic: Option<String>,
    pub temperature_state_template: Option<String>,
    pub temperature_command_topic: Option<String>,
    pub temperature_command_template: Option<String>,
    pub temperature_low_state_topic: Option<String>,
    pub temperature_low_state_template: Option<String>,
    pub temperature_low_command_topic: Option<String>,
    pub temperature_low_command_template: Option<String>,
    pub temperature_high_state_topic: Option<String>,
    pub temperature_high_state_template: Option<String>,
    pub temperature_high_command_topic: Option<String>,
    pub temperature_high_command_template: Option<String>,
    pub mode_state_topic: Option<String>,
    pub mode_state_template: Option<String>,
    pub mode_command_topic: Option<String>,
    pub mode_command_template: Option<String>,
    pub modes: Option<Vec<String>>,
    pub fan_mode_state_topic: Option<String>,
    pub fan_mode_state_template: Option<String>,
    pub fan_mode_command_topic: Option<String>,
    pub fan_mode_command_template: Option<String>,
    pub fan_modes: Option<Vec<J>>,
    pub swing_mode_state_topic: Option<String>,
    pub swing_mode_state_template: Option<String>,
    pub swing_mode_command_topic: Option<String>,
    pub swing_mode_command_template: Option<String>,
    pub swing_modes: Option<Vec<J>>,
    pub action_topic: Option<String>,
    pub action_template: Option<String>,
    pub temperature_unit: Option<String>,
    pub min_temp: Option<f64>,
    pub max_temp: Option<f64>,
    pub temp_step: Option<f64>,
    // Lock.
    pub payload_lock: Option<Text>,
    pub payload_unlock: Option<Text>,
    pub state_locked: Option<Text>,
    pub state_unlocked: Option<Text>,
    pub state_locking: Option<Text>,
    pub state_unlocking: Option<Text>,
    pub state_jammed: Option<Text>,
    // Number, text, select, button, event.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<f64>,
    pub mode: Option<String>,
    pub pattern: Option<String>,
    pub options: Option<Vec<String>>,
    pub payload_press: Option<Text>,
    pub event_types: Option<Vec<String>>,
    // Device trigger (device_automation).
    pub automation_type: Option<String>,
    pub topic: Option<String>,
    #[serde(rename = "type")]
    pub trigger_type: Option<String>,
    pub subtype: Option<String>,
    pub payload: Option<Text>,
}

/// A config payload that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON, or not an object.
    #[error("not a JSON object: {0}")]
    Json(String),
    /// A key has the wrong type.
    #[error("{0}")]
    Shape(String),
    /// Device-based discovery without `device` or `components`.
    #[error("device-based discovery needs `device` and `components`")]
    DeviceBased,
}

/// One entity from a config message: its platform (from the topic, or the
/// `platform` key in device-based discovery), its id (unique within the
/// discovery prefix), and its config.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    /// `sensor`, `light`, …
    pub platform: String,
    /// `<platform>/<discovery id>` (per-entity) or `device/<object_id>/<component key>`.
    pub id: String,
    /// The expanded, parsed config.
    pub config: EntityConfig,
}

fn object(payload: &[u8]) -> Result<Map<String, J>, ConfigError> {
    match serde_json::from_slice::<J>(payload) {
        Ok(J::Object(m)) => Ok(m),
        Ok(other) => Err(ConfigError::Json(format!(
            "got {}",
            crate::z2m::json_kind(&other)
        ))),
        Err(e) => Err(ConfigError::Json(e.to_string())),
    }
}

fn typed(map: Map<String, J>) -> Result<EntityConfig, ConfigError> {
    EntityConfig::deserialize(J::Object(map)).map_err(|e| ConfigError::Shape(e.to_string()))
}

/// Parses a per-entity config payload (topic `<prefix>/<platform>/…/config`).
///
/// # Errors
/// [`ConfigError`] when it is not a JSON object or a key has the wrong type.
pub fn parse_entity(platform: &str, id: &str, payload: &[u8]) -> Result<Discovered, ConfigError> {
    let mut map = object(payload)?;
    abbrev::expand_entity(&mut map);
    Ok(Discovered {
        platform: platform.to_string(),
        id: format!("{platform}/{id}"),
        config: typed(map)?,
    })
}

/// Parses a device-based config payload (`<prefix>/device/<object_id>/config`):
/// shared `device`, `origin`, `availability…`, `qos`, `state_topic`,
/// `command_topic` are copied into each component that does not set them.
/// A component that does not parse is returned as an error beside the others.
///
/// # Errors
/// [`ConfigError`] for the payload as a whole.
#[allow(clippy::type_complexity)]
pub fn parse_device(
    object_id: &str,
    payload: &[u8],
) -> Result<Vec<Result<Discovered, (String, ConfigError)>>, ConfigError> {
    let mut map = object(payload)?;
    abbrev::expand_entity(&mut map);
    let Some(J::Object(components)) = map.remove("components") else {
        return Err(ConfigError::DeviceBased);
    };
    if !matches!(map.get("device"), Some(J::Object(_))) {
        return Err(ConfigError::DeviceBased);
    }
    const SHARED: &[&str] = &[
        "device",
        "origin",
        "availability",
        "availability_topic",
        "availability_template",
        "availability_mode",
        "payload_available",
        "payload_not_available",
        "qos",
        "state_topic",
        "command_topic",
        "encoding",
    ];
    let mut out = Vec::new();
    for (key, component) in components {
        let id = format!("device/{object_id}/{key}");
        let J::Object(mut c) = component else {
            out.push(Err((
                id,
                ConfigError::Json("a component is not an object".into()),
            )));
            continue;
        };
        abbrev::expand_entity(&mut c);
        for k in SHARED {
            if !c.contains_key(*k)
                && let Some(v) = map.get(*k)
            {
                c.insert((*k).to_string(), v.clone());
            }
        }
        let platform = c
            .get("platform")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_string();
        out.push(
            typed(c)
                .map(|config| Discovered {
                    platform,
                    id: id.clone(),
                    config,
                })
                .map_err(|e| (id, e)),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_accept_numbers_and_booleans() {
        let c = parse_entity(
            "binary_sensor",
            "x",
            json!({"pl_on": true, "pl_off": 0, "stat_t": "a"})
                .to_string()
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let on = c.config.payload_on.unwrap_or_else(|| panic!("payload_on"));
        assert!(on.matches("True") && on.matches("true") && !on.matches("false"));
        assert_eq!(c.config.payload_off.map(|t| t.text).as_deref(), Some("0"));
        assert_eq!(c.id, "binary_sensor/x");
    }

    #[test]
    fn identifiers_may_be_one_string() {
        let c = parse_entity(
            "sensor",
            "x",
            br#"{"dev":{"ids":"a0b1","cns":[["mac","a0:b1"]]}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let d = c.config.device.unwrap_or_default();
        assert_eq!(d.identifiers, ["a0b1"]);
        assert_eq!(d.connections, [("mac".to_string(), "a0:b1".to_string())]);
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert!(matches!(
            parse_entity("sensor", "x", b"[1]"),
            Err(ConfigError::Json(_))
        ));
        assert!(matches!(
            parse_entity("sensor", "x", b"{"),
            Err(ConfigError::Json(_))
        ));
        assert!(matches!(
            parse_entity("sensor", "x", br#"{"qos": "high"}"#),
            Err(ConfigError::Shape(_))
        ));
        assert!(matches!(
            parse_device("d", br#"{"cmps": {}}"#),
            Err(ConfigError::DeviceBased)
        ));
    }

    #[test]
    fn device_based_components_inherit_shared_keys() {
        let payload = json!({
            "dev": {"ids": "plug1", "name": "Plug"},
            "o": {"name": "example"},
            "avty_t": "plug1/status",
            "stat_t": "plug1/state",
            "cmps": {
                "relay": {"p": "switch", "cmd_t": "plug1/set", "val_tpl": "{{ value_json.relay }}"},
                "power": {"p": "sensor", "dev_cla": "power", "unit_of_meas": "W", "stat_t": "plug1/power"},
                "broken": 7
            }
        });
        let list =
            parse_device("plug1", payload.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list.len(), 3);
        let ok: Vec<&Discovered> = list.iter().filter_map(|r| r.as_ref().ok()).collect();
        let relay = ok
            .iter()
            .find(|d| d.platform == "switch")
            .unwrap_or_else(|| panic!("{list:?}"));
        assert_eq!(relay.id, "device/plug1/relay");
        assert_eq!(relay.config.state_topic.as_deref(), Some("plug1/state"));
        assert_eq!(
            relay.config.availability_topic.as_deref(),
            Some("plug1/status")
        );
        assert_eq!(
            relay.config.device.as_ref().and_then(|d| d.name.as_deref()),
            Some("Plug")
        );
        let power = ok
            .iter()
            .find(|d| d.platform == "sensor")
            .unwrap_or_else(|| panic!("{list:?}"));
        assert_eq!(power.config.state_topic.as_deref(), Some("plug1/power"));
        assert!(
            list.iter()
                .any(|r| matches!(r, Err((id, _)) if id == "device/plug1/broken"))
        );
    }
}
