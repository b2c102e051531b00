//! The stateful part of discovery out: what has been published for each
//! device, turned into MQTT messages ([`Out`]) as the core's tree events
//! arrive, and commands from Home Assistant turned back into change requests.
//! No I/O here: the session publishes the [`Out`]s and sends the requests.

use std::collections::{BTreeMap, HashMap};

use igloo_provider::protocol::message::{TreeDevice, TreeEntity};
use igloo_provider::{Component, DeviceId};
use serde_json::{Map, Value as Json, json};

use super::map::{self, HaEntity};
use super::{Mode, Options};

/// One MQTT message to publish (QoS 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    /// Topic.
    pub topic: String,
    /// Payload (empty = clear a retained message).
    pub payload: String,
    /// Retained.
    pub retain: bool,
}

impl Out {
    fn retained(topic: String, payload: String) -> Out {
        Out {
            topic,
            payload,
            retain: true,
        }
    }
}

/// A command from Home Assistant, ready for `request_change`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The device.
    pub device: DeviceId,
    /// The entity name.
    pub entity: String,
    /// The requested values.
    pub values: Vec<Component>,
}

/// What is published for one device.
#[derive(Debug, Default)]
struct Published {
    /// The last `TreeDevice` (values kept current by `TreeState`).
    device: Option<TreeDevice>,
    /// Config topic → payload currently retained.
    configs: BTreeMap<String, String>,
    /// Entity slug → entity name (for commands).
    slugs: HashMap<String, String>,
    /// Entity name → slug.
    names: HashMap<String, String>,
}

/// Discovery out for every observed device. See the module docs.
pub struct Publisher {
    opts: Options,
    devices: BTreeMap<DeviceId, Published>,
    /// `device/entity` → why it is not published.
    skipped: BTreeMap<String, String>,
    /// Devices not published, by reason (`own`, `not selected`).
    excluded: BTreeMap<DeviceId, &'static str>,
    synced: bool,
    refused: Option<String>,
    /// Retained configs of ours seen before the first snapshot was complete.
    seen_before_sync: Vec<String>,
}

/// Most entries listed in `mqtt.status`.
const STATUS_LIST: usize = 200;

impl Publisher {
    /// A publisher with no devices yet.
    pub fn new(opts: Options) -> Publisher {
        Publisher {
            opts,
            devices: BTreeMap::new(),
            skipped: BTreeMap::new(),
            excluded: BTreeMap::new(),
            synced: false,
            refused: None,
            seen_before_sync: Vec::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// `<base>/bridge/state`, the provider's own availability (its LWT).
    pub fn bridge_topic(&self) -> String {
        format!("{}/bridge/state", self.opts.base_topic)
    }

    /// The filters the session subscribes to: Home Assistant's status and
    /// the command topics.
    pub fn topics(&self) -> Vec<String> {
        vec![
            format!("{}/status", self.opts.prefix),
            format!("{}/+/+/set", self.opts.base_topic),
            format!("{}/+/+/config", self.opts.prefix),
            format!("{}/+/+/+/config", self.opts.prefix),
        ]
    }

    /// The device id of a config topic this publisher would use
    /// (`<prefix>/<platform>/igloo_<id>/<object>/config` or
    /// `<prefix>/device/igloo_<id>/config`).
    fn own_config_device(&self, topic: &str) -> Option<DeviceId> {
        let rest = topic.strip_prefix(&format!("{}/", self.opts.prefix))?;
        let rest = rest.strip_suffix("/config")?;
        let mut parts = rest.split('/');
        let _platform = parts.next()?;
        let node = parts.next()?;
        let id = node.strip_prefix("igloo_")?.parse::<u64>().ok()?;
        Some(DeviceId(id))
    }

    /// A retained config on the broker: when it is one of ours (our node id
    /// and our bridge topic in it) that we no longer publish — its device was
    /// removed while this provider was away, or the mode changed — the
    /// empty payload that clears it. Before the first snapshot is complete
    /// such configs are remembered and judged at [`Publisher::synced`].
    pub fn stale_config(&mut self, topic: &str, payload: &[u8]) -> Option<Out> {
        let id = self.own_config_device(topic)?;
        let marker = format!("\"{}\"", self.bridge_topic());
        if payload.is_empty() || !String::from_utf8_lossy(payload).contains(&marker) {
            return None;
        }
        if !self.synced {
            self.seen_before_sync.push(topic.to_string());
            return None;
        }
        let ours = self
            .devices
            .get(&id)
            .is_some_and(|p| p.configs.contains_key(topic));
        (!ours).then(|| {
            tracing::info!(topic, "clearing a config of a device no longer published");
            Out::retained(topic.to_string(), String::new())
        })
    }

    /// The core refused the observation (no `tree` permission, or too old).
    pub fn set_refused(&mut self, why: String) {
        self.refused = Some(why);
    }

    fn selected(&self, d: &TreeDevice) -> Result<(), &'static str> {
        if self.opts.own.as_deref() == Some(d.provider.as_str()) {
            return Err("owned by this MQTT provider (it came from the broker)");
        }
        if self
            .opts
            .providers
            .iter()
            .any(|p| p == "*" || *p == d.provider)
        {
            Ok(())
        } else {
            Err("its provider is not in publish.providers")
        }
    }

    /// A whole device from the core: its configs (only those that changed),
    /// state and availability; configs of entities it no longer has are cleared.
    pub fn device(&mut self, d: TreeDevice) -> Vec<Out> {
        if let Err(why) = self.selected(&d) {
            if self.excluded.insert(d.device, why).is_none() {
                tracing::debug!(device = %d.device, provider = d.provider, "not published: {why}");
            }
            // A device that moved out of the selection is removed.
            return self.removed(d.device);
        }
        self.excluded.remove(&d.device);
        let id = d.device;
        let mut p = self.devices.remove(&id).unwrap_or_default();
        p.device = Some(d);
        let mut out = self.configs(id, &mut p);
        if let Some(d) = &p.device {
            out.push(self.availability_out(id, d.available));
            for e in &d.entities {
                if let Some(slug) = p.names.get(&e.name) {
                    out.push(self.state_out(id, slug, &e.values));
                }
            }
        }
        self.devices.insert(id, p);
        out
    }

    fn availability_out(&self, id: DeviceId, available: bool) -> Out {
        Out::retained(
            format!("{}/{id}/availability", self.opts.base_topic),
            if available { "online" } else { "offline" }.into(),
        )
    }

    fn state_out(&self, id: DeviceId, slug: &str, values: &[Component]) -> Out {
        Out::retained(
            format!("{}/{id}/{slug}", self.opts.base_topic),
            map::state_payload(values).to_string(),
        )
    }

    /// Confirmed new values of an entity: its state topic, and its configs
    /// again when the values changed what it is (a first value, a new component).
    pub fn state(&mut self, id: DeviceId, entity: &str, values: &[Component]) -> Vec<Out> {
        let Some(mut p) = self.devices.remove(&id) else {
            return vec![];
        };
        let mut out = Vec::new();
        let mut reshaped = false;
        if let Some(e) = p
            .device
            .as_mut()
            .and_then(|d| d.entities.iter_mut().find(|e| e.name == entity))
        {
            for v in values {
                match e.values.iter_mut().find(|c| c.id() == v.id()) {
                    Some(c) => *c = v.clone(),
                    None => {
                        e.values.push(v.clone());
                        e.values.sort_by_key(Component::id);
                        reshaped = true;
                    }
                }
            }
        }
        if reshaped {
            out = self.configs(id, &mut p);
        }
        let current = p
            .device
            .as_ref()
            .and_then(|d| d.entities.iter().find(|e| e.name == entity))
            .map(|e| e.values.clone());
        if let (Some(slug), Some(values)) = (p.names.get(entity), current) {
            out.push(self.state_out(id, slug, &values));
        }
        self.devices.insert(id, p);
        out
    }

    /// A device's availability.
    pub fn availability(&mut self, id: DeviceId, available: bool) -> Vec<Out> {
        match self.devices.get_mut(&id) {
            Some(p) => {
                if let Some(d) = p.device.as_mut() {
                    d.available = available;
                }
                vec![self.availability_out(id, available)]
            }
            None => vec![],
        }
    }

    /// A device is gone: empty retained configs (Home Assistant removes its
    /// entities) and its retained state and availability cleared.
    pub fn removed(&mut self, id: DeviceId) -> Vec<Out> {
        let Some(p) = self.devices.remove(&id) else {
            return vec![];
        };
        self.skipped
            .retain(|k, _| !k.starts_with(&format!("{id}/")));
        let mut out: Vec<Out> = p
            .configs
            .keys()
            .map(|t| Out::retained(t.clone(), String::new()))
            .collect();
        for slug in p.slugs.keys() {
            out.push(Out::retained(
                format!("{}/{id}/{slug}", self.opts.base_topic),
                String::new(),
            ));
        }
        out.push(Out::retained(
            format!("{}/{id}/availability", self.opts.base_topic),
            String::new(),
        ));
        out
    }

    /// The end of a snapshot from the core: configs of ours seen before it
    /// that are no longer published are cleared.
    pub fn synced(&mut self, devices: u32) -> Vec<Out> {
        if !self.synced {
            tracing::info!(
                devices,
                published = self.devices.len(),
                not_published = self.excluded.len(),
                "discovery out: the tree is published"
            );
        }
        self.synced = true;
        let seen = std::mem::take(&mut self.seen_before_sync);
        seen.iter()
            .filter_map(|t| {
                let marker = format!("\"{}\"", self.bridge_topic());
                self.stale_config(t, marker.as_bytes())
            })
            .collect()
    }

    /// Everything again (on every broker connection, and when Home Assistant
    /// says `online` on `<prefix>/status`): the bridge, every config, state
    /// and availability, all retained.
    pub fn everything(&self) -> Vec<Out> {
        let mut out = vec![Out::retained(self.bridge_topic(), "online".into())];
        out.extend(self.bridge_config());
        for (id, p) in &self.devices {
            for (topic, payload) in &p.configs {
                out.push(Out::retained(topic.clone(), payload.clone()));
            }
            if let Some(d) = &p.device {
                out.push(self.availability_out(*id, d.available));
                for e in &d.entities {
                    if let Some(slug) = p.names.get(&e.name) {
                        out.push(self.state_out(*id, slug, &e.values));
                    }
                }
            }
        }
        out
    }

    /// A message on a subscribed topic: `Some(outs)` for Home Assistant's
    /// `online` (publish everything again), `None` otherwise.
    pub fn ha_status(&self, topic: &str, payload: &[u8]) -> Option<Vec<Out>> {
        (topic == format!("{}/status", self.opts.prefix) && payload == b"online")
            .then(|| self.everything())
    }

    /// A command from Home Assistant on `<base>/<device>/<entity>/set`:
    /// `None` when the topic is not one; `Err` says why it cannot be carried out.
    pub fn command(&self, topic: &str, payload: &[u8]) -> Option<Result<Command, String>> {
        let rest = topic.strip_prefix(&format!("{}/", self.opts.base_topic))?;
        let mut parts = rest.split('/');
        let (Some(id), Some(slug), Some("set"), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let Ok(id) = id.parse::<u64>() else {
            return Some(Err(format!("{topic}: no such device")));
        };
        let device = DeviceId(id);
        let Some(entity) = self.devices.get(&device).and_then(|p| p.slugs.get(slug)) else {
            return Some(Err(format!(
                "{topic}: device {id} has no published entity {slug:?}"
            )));
        };
        Some(
            map::command_values(payload)
                .map(|values| Command {
                    device,
                    entity: entity.clone(),
                    values,
                })
                .map_err(|e| format!("{topic}: {e}")),
        )
    }

    /// `mqtt.status` → `publish`.
    pub fn status(&self) -> Json {
        let entities: usize = self.devices.values().map(|p| p.configs.len()).sum();
        let skipped: Vec<Json> = self
            .skipped
            .iter()
            .take(STATUS_LIST)
            .map(|(k, why)| json!({"entity": k, "reason": why}))
            .collect();
        let excluded: Vec<Json> = self
            .excluded
            .iter()
            .take(STATUS_LIST)
            .map(|(id, why)| json!({"device": id.0, "reason": why}))
            .collect();
        json!({
            "prefix": self.opts.prefix,
            "base_topic": self.opts.base_topic,
            "mode": match self.opts.mode { Mode::Entity => "entity", Mode::Device => "device" },
            "synced": self.synced,
            "refused": self.refused,
            "devices": self.devices.len(),
            "configs": entities,
            "skipped": skipped,
            "skipped_total": self.skipped.len(),
            "not_published": excluded,
            "not_published_total": self.excluded.len(),
        })
    }
}

mod configs;
#[cfg(test)]
mod tests;
