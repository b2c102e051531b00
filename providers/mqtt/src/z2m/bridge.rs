//! The Zigbee2MQTT bridge state: which devices exist, their entities, their
//! availability, and state that arrived before its device.
//!
//! It turns broker messages into SDK calls and change requests into `/set`
//! publishes. It owns no I/O of its own: the session feeds it messages and
//! connection changes and publishes what [`Bridge::change`] returns.
//!
//! Invariants:
//! - a device is keyed by its IEEE address (stable across renames); its
//!   friendly name only routes topics;
//! - a device is reported available iff the broker connection is up and its
//!   last `/availability` (if any) said online;
//! - errors in payloads are logged and skipped; only a closed core connection
//!   ([`SdkError::Closed`]) is returned as an error.

use std::collections::{BTreeMap, HashMap};

use igloo_provider::{Component, DeviceId, EntityId, Provider, SdkError};
use serde_json::{Map, Value as J};

use super::command;
use super::devices::{DevicePlan, parse_devices};
use super::exposes::{EntityPlan, SkipReason};
use super::state::{self, parse_availability, parse_state};
use super::topic::{Topic, classify};

/// Most friendly names whose state or availability is kept while their
/// device is unknown (bounds memory against junk topics, e.g. groups).
pub const MAX_PENDING: usize = 1024;

struct Device {
    id: DeviceId,
    plan: DevicePlan,
    entities: Vec<(EntityId, EntityPlan)>,
    /// The last `/availability` said online (true until told otherwise).
    online: bool,
}

/// The Zigbee2MQTT side of the provider. See the module docs.
pub struct Bridge {
    provider: Provider,
    base: String,
    /// By IEEE address (ordered, so bulk availability changes are reported in a stable order).
    devices: BTreeMap<String, Device>,
    /// Friendly name → IEEE address.
    names: HashMap<String, String>,
    /// Latest state per friendly name not (yet) known.
    pending_state: HashMap<String, Map<String, J>>,
    /// Latest availability per friendly name not (yet) known.
    pending_availability: HashMap<String, bool>,
    connected: bool,
}

impl Bridge {
    /// A bridge for Zigbee2MQTT under `base_topic`, reporting through `provider`.
    pub fn new(provider: Provider, base_topic: &str) -> Bridge {
        Bridge {
            provider,
            base: base_topic.to_string(),
            devices: BTreeMap::new(),
            names: HashMap::new(),
            pending_state: HashMap::new(),
            pending_availability: HashMap::new(),
            connected: false,
        }
    }

    /// Whether the broker connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The answer to the `mqtt.status` custom command: `{"connected":bool,"devices":n}`.
    pub fn status_json(&self) -> String {
        serde_json::json!({"connected": self.connected, "devices": self.devices.len()}).to_string()
    }

    /// The broker connection is up (after every CONNACK): devices become
    /// available again unless their last `/availability` said offline.
    ///
    /// # Errors
    /// [`SdkError::Closed`] when the core is gone.
    pub async fn connected(&mut self) -> Result<(), SdkError> {
        if self.connected {
            return Ok(());
        }
        self.connected = true;
        for d in self.devices.values() {
            if d.online {
                self.provider.set_available(d.id, true).await?;
            }
        }
        Ok(())
    }

    /// The broker connection is lost: every device becomes unavailable.
    ///
    /// # Errors
    /// [`SdkError::Closed`] when the core is gone.
    pub async fn disconnected(&mut self) -> Result<(), SdkError> {
        if !self.connected {
            return Ok(());
        }
        self.connected = false;
        for d in self.devices.values() {
            self.provider.set_available(d.id, false).await?;
        }
        Ok(())
    }

    /// Handles one message from the broker.
    ///
    /// # Errors
    /// [`SdkError::Closed`] when the core is gone; payload problems are logged.
    pub async fn message(&mut self, topic: &str, payload: &[u8]) -> Result<(), SdkError> {
        let names = &self.names;
        match classify(&self.base, topic, |n| names.contains_key(n)) {
            Topic::Devices => self.devices_message(topic, payload).await,
            Topic::State(name) => self.state_message(topic, name, payload).await,
            Topic::Availability(name) => self.availability_message(topic, name, payload).await,
            Topic::Ignored => Ok(()),
        }
    }

    async fn devices_message(&mut self, topic: &str, payload: &[u8]) -> Result<(), SdkError> {
        let list = match parse_devices(payload) {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!(topic, "skipping malformed device list: {e}");
                return Ok(());
            }
        };
        for why in &list.malformed {
            tracing::warn!(topic, "skipping device entry: {why}");
        }
        // Devices gone from the list are removed first, so that a friendly
        // name handed to a new device routes to the new one.
        let present: Vec<&str> = list.devices.iter().map(|d| d.ieee.as_str()).collect();
        let gone: Vec<String> = self
            .devices
            .keys()
            .filter(|k| !present.contains(&k.as_str()))
            .cloned()
            .collect();
        for ieee in gone {
            if let Some(d) = self.devices.remove(&ieee) {
                self.names.remove(&d.plan.friendly_name);
                tracing::info!(device = %d.id, ieee, name = d.plan.friendly_name, "device left");
                self.provider.remove_device(d.id).await?;
            }
        }
        for plan in list.devices {
            match self.sync_device(plan).await {
                Ok(()) => {}
                Err(SdkError::Refused { code, message }) => {
                    tracing::warn!(code = code.0, "the core refused a device: {message}");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Creates, renames or re-plans one device from the list.
    async fn sync_device(&mut self, plan: DevicePlan) -> Result<(), SdkError> {
        let name = plan.friendly_name.clone();
        let (id, kept_entities, old_online) = match self.devices.get(&plan.ieee) {
            Some(d) if d.plan == plan => return Ok(()),
            Some(d) => {
                if d.plan.friendly_name != plan.friendly_name
                    || d.plan.attributes != plan.attributes
                {
                    // The same key finds the same device; this updates its name and attributes.
                    self.provider
                        .create_device(&plan.ieee, &name, plan.attributes.clone())
                        .await?;
                    if d.plan.friendly_name != name {
                        tracing::info!(device = %d.id, from = d.plan.friendly_name, to = name, "device renamed");
                    }
                }
                let kept = (d.plan.exposes == plan.exposes).then(|| d.entities.clone());
                (d.id, kept, Some(d.online))
            }
            None => {
                let id = self
                    .provider
                    .create_device(&plan.ieee, &name, plan.attributes.clone())
                    .await?;
                (id, None, None)
            }
        };
        log_skipped(&plan);
        let entities = match kept_entities {
            Some(entities) => entities,
            None => {
                let mut entities = Vec::with_capacity(plan.exposes.entities.len());
                for e in &plan.exposes.entities {
                    let entity = self
                        .provider
                        .register_entity(id, &e.name, e.attributes.clone())
                        .await?;
                    if let Some(marker) = &e.marker {
                        self.provider
                            .write(id, entity, vec![marker.clone()])
                            .await?;
                    }
                    tracing::debug!(device = %id, entity = e.name, components = ?e.component_names(), "entity registered");
                    entities.push((entity, e.clone()));
                }
                entities
            }
        };
        // Availability that arrived under this name before the device (or the rename).
        let pending = self.pending_availability.remove(&name);
        let online = pending.or(old_online).unwrap_or(true);
        if old_online.is_none() {
            tracing::info!(device = %id, ieee = plan.ieee, name, entities = entities.len(), "device added");
        }
        if old_online != Some(online) && (self.connected || old_online.is_none()) {
            self.provider
                .set_available(id, online && self.connected)
                .await?;
        }
        if let Some(old) = self.devices.get(&plan.ieee) {
            // Only drop the old name's route if no other device took it over in this list.
            let old_name = &old.plan.friendly_name;
            if *old_name != name && self.names.get(old_name) == Some(&plan.ieee) {
                self.names.remove(old_name);
            }
        }
        self.names.insert(name.clone(), plan.ieee.clone());
        self.devices.insert(
            plan.ieee.clone(),
            Device {
                id,
                plan,
                entities,
                online,
            },
        );
        if let Some(state) = self.pending_state.remove(&name) {
            self.apply_state(&name, &state).await?;
        }
        Ok(())
    }

    async fn state_message(
        &mut self,
        topic: &str,
        name: &str,
        payload: &[u8],
    ) -> Result<(), SdkError> {
        let state = match parse_state(payload) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(topic, "skipping malformed device state: {e}");
                return Ok(());
            }
        };
        if self.names.contains_key(name) {
            return self.apply_state(name, &state).await;
        }
        if self.pending_state.len() >= MAX_PENDING && !self.pending_state.contains_key(name) {
            tracing::debug!(topic, "too many unknown devices; dropping state");
            return Ok(());
        }
        self.pending_state.insert(name.to_string(), state);
        Ok(())
    }

    async fn apply_state(&self, name: &str, state: &Map<String, J>) -> Result<(), SdkError> {
        let Some(d) = self.names.get(name).and_then(|ieee| self.devices.get(ieee)) else {
            return Ok(());
        };
        for (entity, plan) in &d.entities {
            let decoded = state::decode(plan, state);
            for junk in &decoded.junk {
                tracing::warn!(
                    device = %d.id,
                    entity = plan.name,
                    property = junk.property,
                    "skipping {} value {} that is not a {}",
                    junk.property,
                    junk.value,
                    junk.component
                );
            }
            if !decoded.values.is_empty() {
                self.provider.write(d.id, *entity, decoded.values).await?;
            }
        }
        Ok(())
    }

    async fn availability_message(
        &mut self,
        topic: &str,
        name: &str,
        payload: &[u8],
    ) -> Result<(), SdkError> {
        let online = match parse_availability(payload) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(topic, "skipping malformed availability: {e}");
                return Ok(());
            }
        };
        let Some(d) = self
            .names
            .get(name)
            .and_then(|ieee| self.devices.get_mut(ieee))
        else {
            if self.pending_availability.len() < MAX_PENDING
                || self.pending_availability.contains_key(name)
            {
                self.pending_availability.insert(name.to_string(), online);
            }
            return Ok(());
        };
        d.online = online;
        if self.connected {
            self.provider.set_available(d.id, online).await?;
        }
        Ok(())
    }

    /// A change request from the core → `(topic, payload)` to publish, or
    /// `None` when nothing can be sent (each reason is logged at warn).
    pub fn change(
        &self,
        device: DeviceId,
        entity: EntityId,
        values: &[Component],
    ) -> Option<(String, String)> {
        let Some(d) = self.devices.values().find(|d| d.id == device) else {
            tracing::warn!(device = %device, entity, "change request for an unknown device");
            return None;
        };
        let Some((_, plan)) = d.entities.iter().find(|(e, _)| *e == entity) else {
            tracing::warn!(device = %device, entity, "change request for an unknown entity");
            return None;
        };
        let encoded = command::encode(plan, values);
        for r in &encoded.rejected {
            tracing::warn!(
                device = %device,
                entity = plan.name,
                component = r.component,
                "cannot write {}: {}",
                r.component,
                r.reason
            );
        }
        if encoded.payload.is_empty() {
            return None;
        }
        let topic = format!("{}/{}/set", self.base, d.plan.friendly_name);
        Some((topic, encoded.to_json()))
    }
}

fn log_skipped(plan: &DevicePlan) {
    for s in &plan.exposes.skipped {
        let property = s.property.as_deref().unwrap_or("");
        match s.reason {
            SkipReason::UnknownType => tracing::warn!(
                device = plan.friendly_name,
                ieee = plan.ieee,
                r#type = s.kind,
                property,
                "skipping expose of unknown type"
            ),
            SkipReason::Malformed => tracing::warn!(
                device = plan.friendly_name,
                ieee = plan.ieee,
                r#type = s.kind,
                property,
                "skipping malformed expose"
            ),
            SkipReason::NotMapped => tracing::debug!(
                device = plan.friendly_name,
                r#type = s.kind,
                property,
                "expose not mapped"
            ),
        }
    }
}

#[cfg(test)]
mod tests;
