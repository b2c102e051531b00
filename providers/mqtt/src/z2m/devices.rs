//! `<base>/bridge/devices` → the devices to create and their entities.
//!
//! Zigbee2MQTT publishes this topic retained, as a JSON array with one object
//! per device (<https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html#zigbee2mqtt-bridge-devices>):
//! `ieee_address`, `friendly_name`, `type` (`Coordinator`, `Router`,
//! `EndDevice`), and `definition` (`null` while a device is being interviewed
//! or when it is unsupported) with `model`, `vendor`, `description` and `exposes`.
//! It is re-published whole after every join, leave, rename or interview.

use igloo_provider::Attributes;
use serde::Deserialize;
use serde_json::Value as J;

use super::PayloadError;
use super::exposes::{Exposes, plan_entities};

/// One device to create: stable key, name, attributes and planned entities.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePlan {
    /// IEEE address, e.g. `0x00158d0001a2b3c4`: the device's stable key.
    pub ieee: String,
    /// Zigbee2MQTT friendly name; the state topic is `<base>/<friendly_name>`.
    /// May contain `/`.
    pub friendly_name: String,
    /// `model`, `manufacturer` (Zigbee2MQTT's `vendor`), `description`, where known.
    pub attributes: Attributes,
    /// Entities from `definition.exposes` (none when `definition` is null).
    pub exposes: Exposes,
}

/// The parsed device list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceList {
    /// Devices other than the coordinator, in list order, one per IEEE address.
    pub devices: Vec<DevicePlan>,
    /// Entries skipped because they lack `ieee_address`/`friendly_name` or repeat one.
    pub malformed: Vec<String>,
}

#[derive(Deserialize)]
struct RawDevice {
    ieee_address: String,
    friendly_name: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    definition: Option<RawDefinition>,
    /// Zigbee basic-cluster model id, used when there is no definition.
    #[serde(default)]
    model_id: Option<String>,
    /// Zigbee basic-cluster manufacturer, used when there is no definition.
    #[serde(default)]
    manufacturer: Option<String>,
}

#[derive(Deserialize)]
struct RawDefinition {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    vendor: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    exposes: Vec<J>,
}

/// Parses a `bridge/devices` payload.
///
/// # Errors
/// [`PayloadError`] when the payload is not JSON or not an array. A bad entry
/// inside the array only skips that entry (listed in [`DeviceList::malformed`]).
pub fn parse_devices(payload: &[u8]) -> Result<DeviceList, PayloadError> {
    let json: J = serde_json::from_slice(payload)?;
    let J::Array(entries) = json else {
        return Err(PayloadError::Shape {
            expected: "array",
            got: super::json_kind(&json),
        });
    };
    let mut list = DeviceList::default();
    for entry in entries {
        let raw = match RawDevice::deserialize(&entry) {
            Ok(raw) if !raw.ieee_address.is_empty() && !raw.friendly_name.is_empty() => raw,
            Ok(_) => {
                list.malformed
                    .push("empty ieee_address or friendly_name".into());
                continue;
            }
            Err(e) => {
                list.malformed.push(e.to_string());
                continue;
            }
        };
        if raw.kind.as_deref() == Some("Coordinator") {
            continue;
        }
        if list.devices.iter().any(|d| d.ieee == raw.ieee_address) {
            list.malformed
                .push(format!("duplicate ieee_address {}", raw.ieee_address));
            continue;
        }
        let mut attributes = Attributes::new();
        let def = raw.definition.as_ref();
        let model = def.and_then(|d| d.model.clone()).or(raw.model_id);
        let vendor = def.and_then(|d| d.vendor.clone()).or(raw.manufacturer);
        let description = def.and_then(|d| d.description.clone());
        for (key, value) in [
            ("model", model),
            ("manufacturer", vendor),
            ("description", description),
        ] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                attributes.push((key.into(), v));
            }
        }
        let exposes = def.map(|d| plan_entities(&d.exposes)).unwrap_or_default();
        if let Some(why) = unsupported_reason(def.is_some(), &exposes) {
            attributes.push((UNSUPPORTED.into(), why));
        }
        list.devices.push(DevicePlan {
            ieee: raw.ieee_address,
            friendly_name: raw.friendly_name,
            attributes,
            exposes,
        });
    }
    Ok(list)
}

/// The device attribute that says why a device has no entities
/// (`docs/providers.md`: the core shows the device as `unsupported`).
pub const UNSUPPORTED: &str = "unsupported";

/// Why a device gets no entities, if it gets none.
fn unsupported_reason(has_definition: bool, exposes: &Exposes) -> Option<String> {
    if !exposes.entities.is_empty() {
        return None;
    }
    if !has_definition {
        return Some(
            "Zigbee2MQTT has no definition for it (not supported by Zigbee2MQTT, or still being interviewed)"
                .into(),
        );
    }
    let kinds: Vec<&str> = exposes.skipped.iter().map(|s| s.kind.as_str()).collect();
    Some(if kinds.is_empty() {
        "Zigbee2MQTT lists no exposes for it".into()
    } else {
        format!(
            "none of its exposes maps to Igloo components (skipped: {})",
            kinds.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::z2m::fixtures::*;

    #[test]
    fn coordinator_is_skipped_and_order_is_kept() {
        let list = parse_devices(&device_list(&[
            coordinator(),
            ikea_led1545g12(),
            aqara_wsdcgq11lm(),
            aqara_mccgq11lm(),
            interviewing(),
        ]))
        .expect("valid list");
        let keys: Vec<(&str, &str)> = list
            .devices
            .iter()
            .map(|d| (d.ieee.as_str(), d.friendly_name.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("0x000b57fffec6a5b2", "living_lamp"),
                ("0x00158d0001a2b3c4", "bedroom/climate"),
                ("0x00158d000445d8e1", "front_door"),
                ("0x00158d0009999999", "0x00158d0009999999"),
            ]
        );
        assert!(list.malformed.is_empty());
    }

    #[test]
    fn a_device_without_entities_says_why() {
        let list =
            parse_devices(&device_list(&[ikea_led1545g12(), interviewing()])).expect("valid list");
        let reason = |d: &DevicePlan| {
            d.attributes
                .iter()
                .find(|(k, _)| k == UNSUPPORTED)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(reason(&list.devices[0]), None);
        let why = reason(&list.devices[1]).expect("the interviewing device is unsupported");
        assert!(why.contains("no definition"), "{why}");
        let unmapped = unsupported_reason(
            true,
            &Exposes {
                entities: Vec::new(),
                skipped: vec![crate::z2m::exposes::Skipped {
                    kind: "text".into(),
                    property: Some("x".into()),
                    reason: crate::z2m::exposes::SkipReason::NotMapped,
                }],
            },
        );
        assert_eq!(
            unmapped.as_deref(),
            Some("none of its exposes maps to Igloo components (skipped: text)")
        );
    }

    #[test]
    fn bad_entries_are_skipped_alone() {
        let list = parse_devices(&device_list(&[
            json!({"friendly_name": "no_ieee"}),
            json!("text"),
            json!({"ieee_address": "", "friendly_name": "empty"}),
            aqara_mccgq11lm(),
            aqara_mccgq11lm(),
        ]))
        .expect("the list itself is valid");
        assert_eq!(list.devices.len(), 1);
        assert_eq!(list.malformed.len(), 4, "{:?}", list.malformed);
        assert!(list.malformed[3].contains("duplicate ieee_address 0x00158d000445d8e1"));
    }

    #[test]
    fn malformed_lists_are_errors() {
        let e = parse_devices(b"[{\"ieee_address\": ")
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(e, PayloadError::Json(_)), "{e}");
        let e = parse_devices(br#"{"devices": []}"#)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(e.to_string(), "expected a JSON array, got object");
        assert_eq!(parse_devices(b"[]").map(|l| l.devices.len()).ok(), Some(0));
    }
}
