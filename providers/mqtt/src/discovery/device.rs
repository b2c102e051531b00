//! Which Igloo device a discovered entity belongs to.
//!
//! One Igloo device per discovery `device` block. Its stable key is
//! `ha:<first identifier>`, else `ha:<type>:<value>` of its first connection;
//! an entity without a device block is a device of its own, keyed
//! `ha:entity:<unique_id>` (else its discovery id). Configs of one device that
//! list other identifiers or connections as well are joined to the device
//! found first by any of them ([`Aliases`]).

use std::collections::HashMap;

use igloo_provider::Attributes;

use super::config::{DeviceInfo, Discovered};
use super::platform::entity_name;

/// The device of one discovered entity.
#[derive(Debug, Clone, PartialEq)]
pub struct DevicePlan {
    /// Stable key (see the module docs).
    pub key: String,
    /// Display name.
    pub name: String,
    /// Metadata: `manufacturer`, `model`, `sw_version`, `via_device`, `origin`…
    pub attributes: Attributes,
    /// Every identifier and connection (`type:value`) the config lists.
    pub aliases: Vec<String>,
    /// The name came from the `device` block (else from the entity: an
    /// existing device keeps its name).
    pub named: bool,
}

fn aliases(d: &DeviceInfo) -> Vec<String> {
    d.identifiers
        .iter()
        .cloned()
        .chain(
            d.connections
                .iter()
                .map(|(t, v)| format!("{t}:{}", v.to_lowercase())),
        )
        .filter(|a| !a.is_empty())
        .collect()
}

/// Plans the device of `d`; `known` joins it to a device seen before under another alias.
pub fn plan(d: &Discovered, known: &Aliases) -> DevicePlan {
    let c = &d.config;
    let info = c.device.clone().unwrap_or_default();
    let aliases = aliases(&info);
    let key = aliases
        .iter()
        .find_map(|a| known.get(a))
        .or_else(|| aliases.first().map(|a| format!("ha:{a}")))
        .unwrap_or_else(|| {
            let id = c.unique_id.clone().unwrap_or_else(|| d.id.clone());
            format!("ha:entity:{id}")
        });
    let given = info.name.clone().filter(|n| !n.trim().is_empty());
    let named = given.is_some();
    let name = given.unwrap_or_else(|| {
        c.name
            .as_ref()
            .and_then(|n| n.as_str())
            .map_or_else(|| entity_name(d), str::to_string)
    });
    let mut attributes: Attributes = Vec::new();
    for (k, v) in [
        ("manufacturer", &info.manufacturer),
        ("model", &info.model),
        ("model_id", &info.model_id),
        ("sw_version", &info.sw_version),
        ("hw_version", &info.hw_version),
        ("serial_number", &info.serial_number),
        ("suggested_area", &info.suggested_area),
        ("configuration_url", &info.configuration_url),
        ("via_device", &info.via_device),
    ] {
        if let Some(v) = v {
            attributes.push((k.to_string(), v.clone()));
        }
    }
    if let Some(o) = c.origin.as_ref().and_then(|o| o.name.clone()) {
        attributes.push(("origin".into(), o));
    }
    attributes.push(("source".into(), "mqtt_discovery".into()));
    DevicePlan {
        key,
        name,
        attributes,
        aliases,
        named,
    }
}

/// Identifier or connection → device key.
#[derive(Debug, Default)]
pub struct Aliases(HashMap<String, String>);

impl Aliases {
    /// The device key known for `alias`.
    pub fn get(&self, alias: &str) -> Option<String> {
        self.0.get(alias).cloned()
    }

    /// Records every alias of `plan`.
    pub fn add(&mut self, plan: &DevicePlan) {
        for a in &plan.aliases {
            self.0.entry(a.clone()).or_insert_with(|| plan.key.clone());
        }
    }

    /// Forgets every alias of device `key`.
    pub fn remove_device(&mut self, key: &str) {
        self.0.retain(|_, k| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::config::parse_entity;

    fn d(payload: &str) -> Discovered {
        parse_entity("sensor", "x/y", payload.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn key_from_identifiers_then_connections_then_entity() {
        let none = Aliases::default();
        let a = plan(
            &d(r#"{"dev":{"ids":["ABC","other"],"name":"Plug","mf":"Tasmota"}}"#),
            &none,
        );
        assert_eq!(a.key, "ha:ABC");
        assert_eq!(a.name, "Plug");
        assert!(
            a.attributes
                .contains(&("manufacturer".into(), "Tasmota".into()))
        );
        let b = plan(&d(r#"{"dev":{"cns":[["mac","AA:BB"]]}}"#), &none);
        assert_eq!(b.key, "ha:mac:aa:bb");
        let c = plan(&d(r#"{"uniq_id":"u1","name":"Lonely"}"#), &none);
        assert_eq!(
            (c.key.as_str(), c.name.as_str()),
            ("ha:entity:u1", "Lonely")
        );
        let e = plan(&d(r#"{"name":"No id"}"#), &none);
        assert_eq!(e.key, "ha:entity:sensor/x/y");
    }

    #[test]
    fn a_second_config_listing_another_alias_joins_the_device() {
        let mut known = Aliases::default();
        let first = plan(
            &d(r#"{"dev":{"ids":["ABC"],"cns":[["mac","aa"]]}}"#),
            &known,
        );
        known.add(&first);
        let second = plan(&d(r#"{"dev":{"cns":[["mac","AA"]]}}"#), &known);
        assert_eq!(second.key, "ha:ABC");
        known.remove_device("ha:ABC");
        assert_eq!(known.get("ABC"), None);
    }
}
