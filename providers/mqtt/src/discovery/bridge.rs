//! The discovery state: discovered entities and their devices, the topics
//! they read, their availability, and the compiled templates. It turns
//! broker messages into SDK calls and change requests into publishes; the
//! session does the I/O (and subscribes to the topics in [`Discovery::take_new_topics`]).
//!
//! Invariants:
//! - an entity is keyed by its discovery id (`<platform>/<node>/<object>` or
//!   `device/<object>/<component>`); re-sending the same config changes nothing,
//!   a changed config re-plans it, an empty one removes it;
//! - state is what the device reports: a change request only publishes;
//! - a template that fails skips that value (logged), never the entity;
//! - a device is available iff the broker is connected and at least one of
//!   its entities is available (an entity without availability topics always is).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use igloo_provider::{DeviceId, EntityId, Provider, SdkError};
use minijinja::Value;

use super::config::{self, ConfigError, Discovered};
use super::decode::decode;
use super::device::{self, Aliases};
use super::plan::{EntityPlan, Mode};
use super::platform::{self, Skip};
use super::template::{TemplateError, TemplateId, Templates, payload_context};
use super::topic;

/// Most skipped configs listed in the status (all are logged).
const MAX_SKIPPED: usize = 200;

/// A publish for the session.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: String,
    /// QoS 0–2.
    pub qos: u8,
    /// Retain flag.
    pub retain: bool,
}

type Compiled = Result<Option<TemplateId>, TemplateError>;

struct Installed {
    raw: Vec<u8>,
    device_key: String,
    entity: EntityId,
    plan: EntityPlan,
    reads: Vec<Compiled>,
    writes: Vec<Compiled>,
    avail: Vec<Compiled>,
    avail_state: Vec<Option<bool>>,
    latest: Option<bool>,
}

impl Installed {
    fn available(&self) -> bool {
        let states = &self.avail_state;
        if states.is_empty() {
            return true;
        }
        match self.plan.availability.mode {
            // Unknown counts as available until a source says otherwise, as
            // retained availability may come later than the first state.
            Mode::All => states.iter().all(|s| s.unwrap_or(true)),
            Mode::Any => states.iter().any(|s| s.unwrap_or(true)),
            Mode::Latest => self.latest.unwrap_or(true),
        }
    }

    fn templates(&self) -> impl Iterator<Item = &TemplateId> {
        self.reads
            .iter()
            .chain(&self.writes)
            .chain(&self.avail)
            .filter_map(|c| c.as_ref().ok().and_then(Option::as_ref))
    }
}

struct Device {
    id: DeviceId,
    /// The name and attributes last sent.
    name: String,
    attributes: igloo_provider::Attributes,
    /// Discovery ids of its entities.
    entities: BTreeSet<String>,
    /// What was last reported to the core.
    reported: Option<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Read(usize),
    Avail(usize),
}

/// Home Assistant MQTT discovery. See the module docs.
pub struct Discovery {
    provider: Provider,
    prefix: String,
    /// Zigbee2MQTT's base topic: entities on it are left to the Zigbee2MQTT bridge.
    z2m_base: String,
    /// Igloo's own discovery-out base topic (`publish.base_topic`): configs
    /// reading it are Igloo's own and never come back in (no loops).
    own_base: Option<String>,
    templates: Templates,
    entities: HashMap<String, Installed>,
    devices: BTreeMap<String, Device>,
    aliases: Aliases,
    routes: HashMap<String, Vec<(String, Role)>>,
    skipped: BTreeMap<String, String>,
    subscribed: BTreeSet<String>,
    new_topics: Vec<String>,
    connected: bool,
}

fn compile(templates: &mut Templates, src: &Option<String>) -> Compiled {
    src.as_deref().map(|s| templates.add(s)).transpose()
}

impl Discovery {
    /// Discovery under `prefix`, leaving `z2m_base` to the Zigbee2MQTT bridge.
    pub fn new(provider: Provider, prefix: &str, z2m_base: &str) -> Discovery {
        Discovery {
            provider,
            prefix: prefix.to_string(),
            z2m_base: z2m_base.to_string(),
            own_base: None,
            templates: Templates::new(),
            entities: HashMap::new(),
            devices: BTreeMap::new(),
            aliases: Aliases::default(),
            routes: HashMap::new(),
            skipped: BTreeMap::new(),
            subscribed: BTreeSet::new(),
            new_topics: Vec::new(),
            connected: false,
        }
    }

    /// Ignores configs whose topics lie under `base`: Igloo's own discovery
    /// out, which must not come back in as devices.
    pub fn ignore_own(&mut self, base: &str) {
        self.own_base = Some(format!("{base}/"));
    }

    /// The discovery subscriptions plus every state and availability topic in use.
    pub fn all_topics(&self) -> Vec<String> {
        let mut all: Vec<String> = topic::filters(&self.prefix).to_vec();
        all.extend(self.subscribed.iter().cloned());
        all
    }

    /// Topics added since the last call, to subscribe now.
    pub fn take_new_topics(&mut self) -> Vec<String> {
        std::mem::take(&mut self.new_topics)
    }

    /// `{"prefix", "devices", "entities", "templates", "skipped": [{"id", "reason"}]}`.
    pub fn status(&self) -> serde_json::Value {
        let skipped: Vec<serde_json::Value> = self
            .skipped
            .iter()
            .take(MAX_SKIPPED)
            .map(|(id, reason)| serde_json::json!({"id": id, "reason": reason}))
            .collect();
        serde_json::json!({
            "prefix": self.prefix,
            "devices": self.devices.len(),
            "entities": self.entities.len(),
            "templates": self.templates.live(),
            "skipped": skipped,
            "skipped_total": self.skipped.len(),
        })
    }

    /// The broker connection is up or down: re-reports device availability.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn set_connected(&mut self, up: bool) -> Result<(), SdkError> {
        self.connected = up;
        let keys: Vec<String> = self.devices.keys().cloned().collect();
        for k in keys {
            self.report_availability(&k).await?;
        }
        Ok(())
    }

    /// Handles one broker message (a config, or a topic an entity reads).
    ///
    /// # Errors
    /// [`SdkError::Closed`] when the core is gone; payload problems are logged.
    pub async fn message(&mut self, topic: &str, payload: &[u8]) -> Result<(), SdkError> {
        if let Some(t) = topic::parse(&self.prefix, topic) {
            let (component, object) = (t.component.to_string(), t.object_id.to_string());
            let id = t.discovery_id();
            return if t.is_device() {
                self.device_config(topic, &object, payload).await
            } else {
                self.entity_config(topic, &component, &id, payload).await
            };
        }
        let Some(routes) = self.routes.get(topic).cloned() else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(payload);
        let ctx = payload_context(&text);
        for (id, role) in routes {
            match role {
                Role::Read(i) => self.read(topic, &id, i, &text, &ctx).await?,
                Role::Avail(i) => self.avail(topic, &id, i, &text, &ctx).await?,
            }
        }
        Ok(())
    }

    async fn entity_config(
        &mut self,
        topic: &str,
        platform: &str,
        id: &str,
        payload: &[u8],
    ) -> Result<(), SdkError> {
        let full_id = format!("{platform}/{id}");
        if payload.is_empty() {
            return self.remove(&full_id, "its config was cleared").await;
        }
        match config::parse_entity(platform, id, payload) {
            Ok(d) => self.upsert(d, payload).await,
            Err(e) => self.reject(topic, &full_id, e).await,
        }
    }

    async fn device_config(
        &mut self,
        topic: &str,
        object: &str,
        payload: &[u8],
    ) -> Result<(), SdkError> {
        let prefix = format!("device/{object}/");
        let mine: Vec<String> = self
            .entities
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        if payload.is_empty() {
            for id in mine {
                self.remove(&id, "its device config was cleared").await?;
            }
            return Ok(());
        }
        let list = match config::parse_device(object, payload) {
            Ok(list) => list,
            Err(e) => return self.reject(topic, &format!("device/{object}"), e).await,
        };
        let present: BTreeSet<String> = list
            .iter()
            .map(|r| match r {
                Ok(d) => d.id.clone(),
                Err((id, _)) => id.clone(),
            })
            .collect();
        for id in mine.into_iter().filter(|id| !present.contains(id)) {
            self.remove(&id, "it left its device's components").await?;
        }
        for r in list {
            match r {
                Ok(d) => {
                    // The component's own config as its "raw" form, to see changes.
                    let raw = format!("{payload:?}{}", d.id).into_bytes();
                    self.upsert(d, &raw).await?;
                }
                Err((id, e)) => self.reject(topic, &id, e).await?,
            }
        }
        Ok(())
    }

    async fn reject(&mut self, topic: &str, id: &str, e: ConfigError) -> Result<(), SdkError> {
        tracing::warn!(topic, id, "skipping discovery config: {e}");
        self.note_skip(id, e.to_string());
        self.remove(id, "its new config is invalid").await
    }

    fn note_skip(&mut self, id: &str, reason: String) {
        self.skipped.insert(id.to_string(), reason);
    }

    /// Installs or updates one entity.
    async fn upsert(&mut self, d: Discovered, raw: &[u8]) -> Result<(), SdkError> {
        if self.entities.get(&d.id).is_some_and(|e| e.raw == raw) {
            return Ok(());
        }
        let plan = match platform::plan(&d) {
            Ok(p) => p,
            Err(skip) => return self.skip(&d.id, skip).await,
        };
        let mut topics = plan
            .reads
            .iter()
            .map(|r| &r.topic)
            .chain(plan.writes.iter().map(|w| &w.topic));
        if let Some(own) = &self.own_base
            && topics.any(|t| t.starts_with(own.as_str()))
        {
            tracing::trace!(id = d.id, "Igloo's own discovery config; not read back");
            return Ok(());
        }
        let base = format!("{}/", self.z2m_base);
        let on_z2m = plan
            .reads
            .iter()
            .map(|r| &r.topic)
            .chain(plan.writes.iter().map(|w| &w.topic))
            .any(|t| t.starts_with(&base));
        if on_z2m {
            let why = format!(
                "left to the Zigbee2MQTT bridge (its topics are under base_topic {:?})",
                self.z2m_base
            );
            return self.skip(&d.id, Skip::Variant(why)).await;
        }
        let mut dev = device::plan(&d, &self.aliases);
        if let Some(known) = self.devices.get(&dev.key)
            && !dev.named
        {
            // A config without a device name or metadata keeps what others gave.
            dev.name = known.name.clone();
            if dev.attributes.len() < known.attributes.len() {
                dev.attributes = known.attributes.clone();
            }
        }
        // A changed config: forget the old installation (it may be on
        // another device, or under another entity name on this one).
        let mut renamed_from = None;
        if let Some(old) = self.uninstall(&d.id) {
            if old.device_key != dev.key {
                self.detach(&d.id, &old.device_key, old.entity).await?;
            } else {
                renamed_from = Some(old.entity);
            }
        }
        self.skipped.remove(&d.id);
        let device_id = match self
            .provider
            .create_device(&dev.key, &dev.name, dev.attributes.clone())
            .await
        {
            Ok(id) => id,
            Err(SdkError::Refused { code, message }) => {
                tracing::warn!(
                    code = code.0,
                    id = d.id,
                    "the core refused a device: {message}"
                );
                self.note_skip(&d.id, format!("the core refused its device: {message}"));
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.aliases.add(&dev);
        let mut plan = plan;
        plan.name = self.unique_name(&dev.key, &d.id, &d.platform, plan.name);
        let entity = self
            .provider
            .register_entity(device_id, &plan.name, plan.attributes.clone())
            .await?;
        if let Some(old) = renamed_from
            && old != entity
        {
            self.remove_entity_unless_shared(&dev.key, &d.id, device_id, old, "renamed")
                .await?;
        }
        if let Some(m) = &plan.marker {
            self.provider
                .write(device_id, entity, vec![m.clone()])
                .await?;
        }
        tracing::info!(
            device = %device_id, key = dev.key, id = d.id, entity = plan.name,
            components = ?plan.component_names(), "discovered entity"
        );
        self.install(d.id.clone(), raw.to_vec(), dev.key.clone(), entity, plan);
        let dev_state = self.devices.entry(dev.key.clone()).or_insert(Device {
            id: device_id,
            name: dev.name.clone(),
            attributes: dev.attributes.clone(),
            entities: BTreeSet::new(),
            reported: None,
        });
        dev_state.id = device_id;
        dev_state.name = dev.name.clone();
        dev_state.attributes = dev.attributes.clone();
        dev_state.entities.insert(d.id);
        self.report_availability(&dev.key).await
    }

    async fn skip(&mut self, id: &str, skip: Skip) -> Result<(), SdkError> {
        match &skip {
            Skip::Platform(_) => tracing::info!(id, "skipping discovered entity: {skip}"),
            _ => tracing::warn!(id, "skipping discovered entity: {skip}"),
        }
        self.note_skip(id, skip.to_string());
        self.remove(id, "its new config is not supported").await
    }

    /// An entity name not used by another discovered entity of the device.
    /// Device triggers share one `Action` entity.
    fn unique_name(&self, key: &str, id: &str, platform: &str, name: String) -> String {
        if platform == "device_automation" {
            return name;
        }
        let Some(dev) = self.devices.get(key) else {
            return name;
        };
        let taken = |n: &str| {
            dev.entities
                .iter()
                .filter(|other| *other != id)
                .filter_map(|other| self.entities.get(other))
                .any(|e| e.plan.name == n)
        };
        if !taken(&name) {
            return name;
        }
        (2..)
            .map(|i| format!("{name} {i}"))
            .find(|n| !taken(n))
            .unwrap_or(name)
    }

    fn install(
        &mut self,
        id: String,
        raw: Vec<u8>,
        device_key: String,
        entity: EntityId,
        plan: EntityPlan,
    ) {
        let t = &mut self.templates;
        let reads: Vec<Compiled> = plan.reads.iter().map(|r| compile(t, &r.template)).collect();
        let writes: Vec<Compiled> = plan
            .writes
            .iter()
            .map(|w| compile(t, &w.template))
            .collect();
        let avail: Vec<Compiled> = plan
            .availability
            .sources
            .iter()
            .map(|s| compile(t, &s.template))
            .collect();
        for (what, c) in reads
            .iter()
            .chain(&writes)
            .chain(&avail)
            .map(|c| ("template", c))
        {
            if let Err(e) = c {
                tracing::warn!(
                    id,
                    entity = plan.name,
                    "{what} does not compile; its value is skipped: {e}"
                );
            }
        }
        let mut topics: Vec<(String, Role)> = Vec::new();
        for (i, r) in plan.reads.iter().enumerate() {
            topics.push((r.topic.clone(), Role::Read(i)));
        }
        for (i, s) in plan.availability.sources.iter().enumerate() {
            topics.push((s.topic.clone(), Role::Avail(i)));
        }
        for (topic, role) in topics {
            self.routes
                .entry(topic.clone())
                .or_default()
                .push((id.clone(), role));
            if self.subscribed.insert(topic.clone()) {
                self.new_topics.push(topic);
            }
        }
        let n = plan.availability.sources.len();
        self.entities.insert(
            id,
            Installed {
                raw,
                device_key,
                entity,
                plan,
                reads,
                writes,
                avail,
                avail_state: vec![None; n],
                latest: None,
            },
        );
    }

    /// Drops an entity's routes and templates; returns it.
    fn uninstall(&mut self, id: &str) -> Option<Installed> {
        let old = self.entities.remove(id)?;
        for t in old.templates() {
            self.templates.remove(t);
        }
        self.routes.retain(|_, list| {
            list.retain(|(other, _)| other != id);
            !list.is_empty()
        });
        // Topics stay subscribed (cheap; messages without a route are dropped).
        Some(old)
    }

    /// Takes entity `id` (number `entity`) off device `key`: removes the
    /// device when it was the last, else removes the entity from the core's
    /// tree unless another discovered entity shares it (device triggers share
    /// `Action`). A core without `RemoveEntity` (before protocol 1.1) keeps it
    /// with its last values, stale.
    async fn detach(&mut self, id: &str, key: &str, entity: EntityId) -> Result<(), SdkError> {
        let Some(dev) = self.devices.get_mut(key) else {
            return Ok(());
        };
        dev.entities.remove(id);
        if dev.entities.is_empty() {
            let device = dev.id;
            self.devices.remove(key);
            self.aliases.remove_device(key);
            tracing::info!(device = %device, key, "discovered device removed");
            return self.provider.remove_device(device).await;
        }
        let device = dev.id;
        self.remove_entity_unless_shared(key, id, device, entity, "removed")
            .await?;
        self.report_availability(key).await
    }

    /// Entity `entity` of device `key` (number `device` in the core) lost
    /// discovered entity `id` (`what`: removed, renamed): it goes from the
    /// tree unless another discovered entity of the device shares it (device
    /// triggers share `Action`). A core without `RemoveEntity` (before
    /// protocol 1.1) keeps it with its last values.
    async fn remove_entity_unless_shared(
        &mut self,
        key: &str,
        id: &str,
        device: DeviceId,
        entity: EntityId,
        what: &str,
    ) -> Result<(), SdkError> {
        let shared = self.devices.get(key).is_some_and(|dev| {
            dev.entities
                .iter()
                .filter(|other| *other != id)
                .filter_map(|other| self.entities.get(other))
                .any(|e| e.entity == entity)
        });
        if shared {
            tracing::info!(
                key,
                id,
                "discovered entity {what}; another one shares its entity"
            );
            Ok(())
        } else if self.provider.core_can_remove_entity() {
            tracing::info!(
                key,
                id,
                "discovered entity {what}; its old entity is removed"
            );
            self.provider.remove_entity(device, entity).await
        } else {
            tracing::info!(
                key,
                id,
                "discovered entity {what}; the core is too old to remove one entity \
                 (RemoveEntity, protocol 1.1), so it stays with its last values"
            );
            Ok(())
        }
    }

    async fn remove(&mut self, id: &str, why: &str) -> Result<(), SdkError> {
        let Some(old) = self.uninstall(id) else {
            return Ok(());
        };
        tracing::info!(
            id,
            entity = old.plan.name,
            "removing discovered entity: {why}"
        );
        self.detach(id, &old.device_key, old.entity).await
    }

    async fn read(
        &mut self,
        topic: &str,
        id: &str,
        i: usize,
        text: &str,
        ctx: &Value,
    ) -> Result<(), SdkError> {
        let Some(e) = self.entities.get(id) else {
            return Ok(());
        };
        let (Some(read), Some(compiled)) = (e.plan.reads.get(i), e.reads.get(i)) else {
            return Ok(());
        };
        let rendered = match compiled {
            Ok(None) => text.to_string(),
            Ok(Some(t)) => match self.templates.render(t, ctx) {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(
                        topic,
                        id,
                        entity = e.plan.name,
                        "value template failed; value skipped: {err}"
                    );
                    return Ok(());
                }
            },
            Err(err) => {
                tracing::debug!(
                    topic,
                    id,
                    "value skipped: its template does not compile: {err}"
                );
                return Ok(());
            }
        };
        let values = match decode(&read.conv, &rendered) {
            Ok(v) => v,
            Err(err) => {
                tracing::warn!(topic, id, entity = e.plan.name, "value skipped: {err}");
                return Ok(());
            }
        };
        let Some(dev) = self.devices.get(&e.device_key) else {
            return Ok(());
        };
        if values.is_empty() {
            return Ok(());
        }
        self.provider.write(dev.id, e.entity, values).await
    }

    async fn avail(
        &mut self,
        topic: &str,
        id: &str,
        i: usize,
        text: &str,
        ctx: &Value,
    ) -> Result<(), SdkError> {
        let Some(e) = self.entities.get(id) else {
            return Ok(());
        };
        let (Some(src), Some(compiled)) = (e.plan.availability.sources.get(i), e.avail.get(i))
        else {
            return Ok(());
        };
        let rendered = match compiled {
            Ok(None) => text.to_string(),
            Ok(Some(t)) => match self.templates.render(t, ctx) {
                Ok(s) => s,
                Err(err) => {
                    tracing::warn!(topic, id, "availability template failed; ignored: {err}");
                    return Ok(());
                }
            },
            Err(_) => return Ok(()),
        };
        let state = if src.available.matches(&rendered) {
            true
        } else if src.not_available.matches(&rendered) {
            false
        } else {
            tracing::debug!(
                topic,
                id,
                rendered,
                "availability payload is neither available nor not available"
            );
            return Ok(());
        };
        let key = e.device_key.clone();
        if let Some(e) = self.entities.get_mut(id) {
            e.avail_state[i] = Some(state);
            e.latest = Some(state);
        }
        self.report_availability(&key).await
    }

    async fn report_availability(&mut self, key: &str) -> Result<(), SdkError> {
        let Some(dev) = self.devices.get(key) else {
            return Ok(());
        };
        let any = dev
            .entities
            .iter()
            .filter_map(|id| self.entities.get(id))
            .any(Installed::available);
        let now = self.connected && any;
        if dev.reported == Some(now) {
            return Ok(());
        }
        let id = dev.id;
        if let Some(d) = self.devices.get_mut(key) {
            d.reported = Some(now);
        }
        self.provider.set_available(id, now).await
    }
}

mod change;

#[cfg(test)]
mod tests;
