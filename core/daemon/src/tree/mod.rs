//! The device tree task: the only code that mutates devices (DESIGN §6).
//!
//! Providers' connections, the API and the supervisor talk to it through a
//! [`TreeHandle`] (an mpsc channel of [`TreeCmd`]). It validates every
//! provider message (ownership, known entity, sizes), applies confirmed values,
//! broadcasts [`Event`]s, persists ids at once and values in one transaction
//! per second, and forwards users' change requests to the owning provider.

pub mod model;
pub mod rooms;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use igloo_protocol::handshake::Outgoing;
use igloo_protocol::message::{
    CreateDevice, DeviceCreated, ErrorReply, RegisterEntity, RemoveEntity, WriteComponents,
};
use igloo_protocol::{Component, DeviceId, ErrorCode, Message, Negotiated};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use model::{Device, DeviceView, EntityView, Refused};
pub use rooms::{Arrange, ArrangeError, Arranged, DeviceEdit, RoomView};

use crate::events::Event;
use crate::provider_log::{ProviderLog, limited};
use crate::store::{DeviceRecord, Store};

/// Longest accepted key, name or attribute text from a provider, bytes.
pub const MAX_TEXT: usize = 1024;
/// Most attributes on one device or entity.
pub const MAX_ATTRIBUTES: usize = 64;
/// Most entities on one device.
pub const MAX_ENTITIES: usize = 512;
/// Most live devices one provider may own.
pub const MAX_DEVICES_PER_PROVIDER: usize = 50_000;

/// How often dirty devices are written to the database.
const PERSIST_EVERY: Duration = Duration::from_secs(1);

/// The sending side of one provider connection, as the tree sees it.
#[derive(Clone)]
pub struct Link {
    provider: Arc<str>,
    /// Unique per connection, so a late `ProviderDown` of an old connection
    /// never unregisters a newer one.
    connection: u64,
    tx: mpsc::Sender<Message>,
    negotiated: Negotiated,
    dropped: Arc<AtomicU64>,
}

/// Why a message for a provider was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The provider's outbox is full (it is not reading).
    Full,
    /// The connection is gone.
    Closed,
    /// The provider does not know this message or any of the components.
    Unknown {
        /// Components dropped.
        dropped: usize,
    },
}

impl Link {
    /// A link over `provider`'s outbox; `dropped` counts components withheld from it.
    pub fn new(
        provider: Arc<str>,
        tx: mpsc::Sender<Message>,
        negotiated: Negotiated,
        dropped: Arc<AtomicU64>,
    ) -> Link {
        static CONNECTIONS: AtomicU64 = AtomicU64::new(1);
        Link {
            provider,
            connection: CONNECTIONS.fetch_add(1, Ordering::Relaxed),
            tx,
            negotiated,
            dropped,
        }
    }

    /// The provider's name.
    pub fn provider(&self) -> Arc<str> {
        self.provider.clone()
    }

    /// This connection's number (unique in the core's lifetime).
    pub fn connection(&self) -> u64 {
        self.connection
    }

    /// Whether the provider knows message id `id` (its `max_message_id`).
    pub fn knows_message(&self, id: igloo_protocol::MessageId) -> bool {
        self.negotiated.knows_message(id)
    }

    /// Counts and logs components the provider does not know (change
    /// requests are user actions, so this is rare enough to log each time).
    fn withheld(&self, dropped: usize) {
        let total = self.dropped.fetch_add(dropped as u64, Ordering::Relaxed) + dropped as u64;
        tracing::info!(
            provider = &*self.provider,
            dropped,
            total,
            max_component_id = self.negotiated.peer_max_component_id,
            "components withheld from a provider that does not know them"
        );
    }

    /// Queues `msg` without waiting, after negotiation filtering.
    ///
    /// # Errors
    /// [`LinkError`]; the tree never blocks on a slow provider.
    pub fn send(&self, msg: Message) -> Result<(), LinkError> {
        match self.negotiated.prepare(msg) {
            Outgoing::Send { message, dropped } => {
                if dropped > 0 {
                    self.withheld(dropped);
                }
                self.tx.try_send(message).map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => LinkError::Full,
                    mpsc::error::TrySendError::Closed(_) => LinkError::Closed,
                })
            }
            Outgoing::Withheld { dropped } => {
                if dropped > 0 {
                    self.withheld(dropped);
                }
                Err(LinkError::Unknown { dropped })
            }
        }
    }
}

/// Why a user's change request was not forwarded.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No such device.
    #[error("device {0} not found")]
    UnknownDevice(DeviceId),
    /// No such entity on the device.
    #[error("device {0} has no entity {1:?}")]
    UnknownEntity(DeviceId, String),
    /// The owning provider is not connected.
    #[error("provider {0} is not running")]
    ProviderDown(String),
    /// The provider is not reading its messages.
    #[error("provider {0} is not keeping up; try again")]
    Busy(String),
    /// The provider is older and knows none of the requested components.
    #[error("provider {0} does not support these components (it knows up to id {1})")]
    Unsupported(String, u16),
    /// The core is shutting down.
    #[error("the core is shutting down")]
    ShuttingDown,
    /// The device is not reachable now (its provider runs).
    #[error("device {0} is offline; its provider cannot reach it now")]
    Unavailable(DeviceId),
    /// The entity says these components cannot be changed.
    #[error("{} on entity {entity:?} cannot be changed{}", components.join(", "), writable_text(writable))]
    ReadOnly {
        /// The entity.
        entity: String,
        /// The read-only components requested.
        components: Vec<String>,
        /// What it accepts.
        writable: Vec<String>,
    },
    /// A `Select` value outside the entity's options.
    #[error("{value:?} is not an option of entity {entity:?}; options: {}", options.join(", "))]
    NotAnOption {
        /// The entity.
        entity: String,
        /// The requested value.
        value: String,
        /// The accepted values.
        options: Vec<String>,
    },
}

fn writable_text(writable: &[String]) -> String {
    match writable.is_empty() {
        true => " (the entity is read-only)".into(),
        false => format!(" (writable: {})", writable.join(", ")),
    }
}

/// Commands to the tree task.
pub enum TreeCmd {
    /// A provider connection completed its handshake.
    ProviderUp {
        /// Provider name.
        provider: Arc<str>,
        /// Its sending side.
        link: Link,
    },
    /// A provider connection ended: its devices become unavailable. Ignored
    /// when the provider has a newer connection already.
    ProviderDown {
        /// Provider name.
        provider: Arc<str>,
        /// [`Link::connection`] of the connection that ended.
        connection: u64,
    },
    /// A device message from a provider.
    FromProvider {
        /// Sender.
        provider: Arc<str>,
        /// The message (CreateDevice, CreateDeviceWithAvailability,
        /// RegisterEntity, WriteComponents, RemoveEntity, SetAvailability,
        /// RemoveDevice).
        msg: Message,
    },
    /// A provider says it cannot carry out a change request
    /// (`igloo.change_refused`).
    ChangeRefused {
        /// Sender.
        provider: Arc<str>,
        /// Device.
        device: DeviceId,
        /// Its entity number on this connection.
        entity: igloo_protocol::EntityId,
        /// Why.
        reason: String,
    },
    /// A user's change request.
    Request {
        /// Device.
        device: DeviceId,
        /// Entity name.
        entity: String,
        /// Requested values.
        values: Vec<Component>,
        /// Outcome.
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    /// All live devices, ordered by id.
    Devices(oneshot::Sender<Vec<DeviceView>>),
    /// A snapshot for an observer: all live devices and rooms, and a
    /// receiver of every event after that snapshot (subscribed in the same
    /// step, so nothing falls between them).
    Observe(oneshot::Sender<Snapshot>),
    /// One device.
    Device(DeviceId, oneshot::Sender<Option<DeviceView>>),
    /// Live device count per provider.
    Counts(oneshot::Sender<BTreeMap<String, usize>>),
    /// All rooms, ordered by name.
    Rooms(oneshot::Sender<Vec<RoomView>>),
    /// A change to rooms or to a device's name or room.
    Arrange(Arrange, oneshot::Sender<Result<Arranged, ArrangeError>>),
    /// Persist now (shutdown).
    Flush(oneshot::Sender<()>),
}

/// What [`TreeHandle::observe`] returns: live devices (ordered by id), all
/// rooms, and the events that follow them.
pub struct Snapshot {
    /// Live devices.
    pub devices: Vec<DeviceView>,
    /// All rooms.
    pub rooms: Vec<RoomView>,
    /// Every event emitted after the snapshot was taken.
    pub events: broadcast::Receiver<Event>,
}

/// A cheap, cloneable handle on the tree task.
#[derive(Clone)]
pub struct TreeHandle {
    tx: mpsc::Sender<TreeCmd>,
}

impl TreeHandle {
    /// Sends a command; `false` if the tree task is gone (shutdown).
    pub async fn send(&self, cmd: TreeCmd) -> bool {
        self.tx.send(cmd).await.is_ok()
    }

    /// Sends a command from code that cannot wait (a `Drop`): queued at once
    /// when there is room, else by a task. `ProviderDown` carries its
    /// connection, so a late one is harmless.
    pub fn send_detached(&self, cmd: TreeCmd) {
        if let Err(mpsc::error::TrySendError::Full(cmd)) = self.tx.try_send(cmd) {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(cmd).await;
            });
        }
    }

    async fn ask<T>(&self, f: impl FnOnce(oneshot::Sender<T>) -> TreeCmd) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(f(tx)).await.ok()?;
        rx.await.ok()
    }

    /// All live devices, ordered by id.
    pub async fn devices(&self) -> Vec<DeviceView> {
        self.ask(TreeCmd::Devices).await.unwrap_or_default()
    }

    /// A snapshot of the tree and the events after it; `None` at shutdown.
    pub async fn observe(&self) -> Option<Snapshot> {
        self.ask(TreeCmd::Observe).await
    }

    /// One device.
    pub async fn device(&self, id: DeviceId) -> Option<DeviceView> {
        self.ask(|r| TreeCmd::Device(id, r)).await.flatten()
    }

    /// Live devices per provider.
    pub async fn counts(&self) -> BTreeMap<String, usize> {
        self.ask(TreeCmd::Counts).await.unwrap_or_default()
    }

    /// Forwards a change request to the owning provider.
    ///
    /// # Errors
    /// [`RequestError`].
    pub async fn request(
        &self,
        device: DeviceId,
        entity: String,
        values: Vec<Component>,
    ) -> Result<(), RequestError> {
        self.ask(|reply| TreeCmd::Request {
            device,
            entity,
            values,
            reply,
        })
        .await
        .unwrap_or(Err(RequestError::ShuttingDown))
    }

    /// All rooms, ordered by name.
    pub async fn rooms(&self) -> Vec<RoomView> {
        self.ask(TreeCmd::Rooms).await.unwrap_or_default()
    }

    /// Changes rooms or a device's name or room; persisted before it answers.
    ///
    /// # Errors
    /// [`ArrangeError`]; nothing changed then.
    pub async fn arrange(&self, change: Arrange) -> Result<Arranged, ArrangeError> {
        self.ask(|r| TreeCmd::Arrange(change, r))
            .await
            .unwrap_or_else(|| Err(ArrangeError::Store("the core is shutting down".into())))
    }

    /// Persists all pending changes.
    pub async fn flush(&self) {
        self.ask(TreeCmd::Flush).await;
    }
}

/// Starts the tree task with the devices persisted in `store`.
///
/// # Errors
/// A store error while loading.
pub fn spawn(
    store: Store,
    events: broadcast::Sender<Event>,
) -> Result<TreeHandle, crate::store::StoreError> {
    let rooms = store
        .rooms()?
        .into_iter()
        .map(|(id, r)| (id, r.name))
        .collect();
    let mut tree = Tree {
        devices: BTreeMap::new(),
        by_key: HashMap::new(),
        links: HashMap::new(),
        refusals: HashMap::new(),
        rooms,
        store,
        events,
    };
    let (devices, by_key) = (&mut tree.devices, &mut tree.by_key);
    tree.store.load(|id, rec| {
        by_key.insert((rec.provider.clone(), rec.key.clone()), id);
        devices.insert(id, Device::from_record(id, rec));
    })?;
    for (id, settings) in tree.store.device_settings()? {
        if let Some(d) = tree.devices.get_mut(&DeviceId(id)) {
            d.settings = settings;
        }
    }
    tracing::info!(
        devices = tree.devices.len(),
        rooms = tree.rooms.len(),
        "device tree loaded"
    );
    let (tx, rx) = mpsc::channel(8192);
    tokio::spawn(tree.run(rx));
    Ok(TreeHandle { tx })
}

struct Tree {
    devices: BTreeMap<DeviceId, Device>,
    by_key: HashMap<(String, String), DeviceId>,
    links: HashMap<Arc<str>, Link>,
    /// Log budget of each provider's refusals (reports when it goes down).
    refusals: HashMap<Arc<str>, ProviderLog>,
    /// Room id → name (`rooms`).
    rooms: BTreeMap<u64, String>,
    store: Store,
    events: broadcast::Sender<Event>,
}

/// A refusal to send back to a provider: (request id, code, message).
type Refusal = (u32, ErrorCode, String);

fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    (0, code, message.into())
}

impl Tree {
    async fn run(mut self, mut rx: mpsc::Receiver<TreeCmd>) {
        let mut tick = tokio::time::interval(PERSIST_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut batch = Vec::with_capacity(256);
        loop {
            tokio::select! {
                n = rx.recv_many(&mut batch, 256) => {
                    if n == 0 { break; }
                    for cmd in batch.drain(..) { self.handle(cmd); }
                }
                _ = tick.tick() => self.persist(),
            }
        }
        self.persist();
    }

    fn emit(&self, e: Event) {
        // No receivers is normal (no API client watching).
        let _ = self.events.send(e);
    }

    fn handle(&mut self, cmd: TreeCmd) {
        match cmd {
            TreeCmd::ProviderUp { provider, link } => {
                self.links.insert(provider, link);
            }
            TreeCmd::ProviderDown {
                provider,
                connection,
            } => self.provider_down(&provider, connection),
            TreeCmd::FromProvider { provider, msg } => {
                let name = msg.name();
                if let Err((request_id, code, message)) = self.provider_message(&provider, msg) {
                    let log = self
                        .refusals
                        .entry(provider.clone())
                        .or_insert_with(|| ProviderLog::new(provider.clone()));
                    limited!(
                        log,
                        "refused",
                        tracing::Level::WARN,
                        msg_type = name,
                        code = code.0,
                        "refused: {message}"
                    );
                    if let Some(link) = self.links.get(&provider) {
                        let _ = link.send(Message::Error(ErrorReply {
                            request_id,
                            code,
                            message,
                        }));
                    }
                }
            }
            TreeCmd::ChangeRefused {
                provider,
                device,
                entity,
                reason,
            } => self.change_refused(&provider, device, entity, reason),
            TreeCmd::Request {
                device,
                entity,
                values,
                reply,
            } => {
                let _ = reply.send(self.request(device, &entity, values));
            }
            TreeCmd::Devices(reply) => {
                let _ = reply.send(
                    self.devices
                        .values()
                        .filter(|d| !d.removed)
                        .map(Device::view)
                        .collect(),
                );
            }
            TreeCmd::Observe(reply) => {
                let _ = reply.send(Snapshot {
                    devices: self
                        .devices
                        .values()
                        .filter(|d| !d.removed)
                        .map(Device::view)
                        .collect(),
                    rooms: self.room_views(),
                    events: self.events.subscribe(),
                });
            }
            TreeCmd::Device(id, reply) => {
                let _ = reply.send(
                    self.devices
                        .get(&id)
                        .filter(|d| !d.removed)
                        .map(Device::view),
                );
            }
            TreeCmd::Counts(reply) => {
                let mut m = BTreeMap::new();
                for d in self.devices.values().filter(|d| !d.removed) {
                    *m.entry(d.provider.to_string()).or_insert(0) += 1;
                }
                let _ = reply.send(m);
            }
            TreeCmd::Rooms(reply) => {
                let _ = reply.send(self.room_views());
            }
            TreeCmd::Arrange(change, reply) => {
                let _ = reply.send(self.arrange(change));
            }
            TreeCmd::Flush(reply) => {
                self.persist();
                let _ = reply.send(());
            }
        }
    }

    /// A provider connection ended: unless a newer one is up, its devices
    /// become unavailable.
    fn provider_down(&mut self, provider: &Arc<str>, connection: u64) {
        if self
            .links
            .get(provider)
            .is_some_and(|l| l.connection != connection)
        {
            // A newer connection of the provider is up already.
            return;
        }
        self.links.remove(provider);
        self.refusals.remove(provider);
        let mut changed = Vec::new();
        for d in self
            .devices
            .values_mut()
            .filter(|d| d.provider == *provider)
        {
            d.wire.clear();
            d.entities.values_mut().for_each(|e| e.wire = None);
            if d.available {
                d.available = false;
                changed.push(d.id);
            }
        }
        for device in changed {
            self.emit(Event::Availability {
                device,
                available: false,
            });
        }
    }

    /// A provider refused a change request: a `refused` event for waiting
    /// clients, when the device and entity number are its own.
    fn change_refused(
        &mut self,
        provider: &str,
        device: DeviceId,
        entity: igloo_protocol::EntityId,
        reason: String,
    ) {
        let Ok(d) = self.owned(provider, device) else {
            return;
        };
        if let Some(name) = d.wire.get(&entity).cloned() {
            let reason: String = reason.chars().take(MAX_TEXT).collect();
            self.emit(Event::Refused {
                device,
                entity: name,
                reason: Arc::from(reason),
            });
        }
    }

    fn owned(&mut self, provider: &str, id: DeviceId) -> Result<&mut Device, Refusal> {
        match self.devices.get_mut(&id) {
            None => Err(refuse(
                ErrorCode::UNKNOWN_DEVICE,
                format!("device {id} does not exist"),
            )),
            Some(d) if &*d.provider != provider => Err(refuse(
                ErrorCode::NOT_OWNER,
                format!("device {id} belongs to provider {}", d.provider),
            )),
            Some(d) if d.removed => Err(refuse(
                ErrorCode::UNKNOWN_DEVICE,
                format!("device {id} was removed"),
            )),
            Some(d) => Ok(d),
        }
    }

    fn provider_message(&mut self, provider: &Arc<str>, msg: Message) -> Result<(), Refusal> {
        match msg {
            Message::CreateDevice(c) => self.create_device(provider, c, true),
            Message::CreateDeviceWithAvailability(c) => {
                self.create_device(provider, c.create, c.available)
            }
            Message::RegisterEntity(r) => self.register_entity(provider, r),
            Message::WriteComponents(w) => self.write(provider, w),
            Message::RemoveEntity(r) => self.remove_entity(provider, r),
            Message::SetAvailability(a) => {
                let d = self.owned(provider, a.device)?;
                if d.available != a.available {
                    d.available = a.available;
                    self.emit(Event::Availability {
                        device: a.device,
                        available: a.available,
                    });
                }
                Ok(())
            }
            Message::RemoveDevice(r) => {
                let d = self.owned(provider, r.device)?;
                d.removed = true;
                d.available = false;
                d.dirty = true;
                self.emit(Event::Removed(r.device));
                Ok(())
            }
            other => Err(refuse(
                ErrorCode::PROTOCOL,
                format!("{} is not a device message", other.name()),
            )),
        }
    }

    /// `CreateDevice` (`available` = `true`) and `CreateDeviceWithAvailability`:
    /// finds or allocates the device by its key and sets its availability,
    /// emitting an availability event only when it changes.
    fn create_device(
        &mut self,
        provider: &Arc<str>,
        c: CreateDevice,
        available: bool,
    ) -> Result<(), Refusal> {
        let rid = c.request_id;
        let with_id = |(_, code, m): Refusal| (rid, code, m);
        check_text("key", &c.key).map_err(with_id)?;
        check_text("name", &c.name).map_err(with_id)?;
        check_attributes(&c.attributes).map_err(with_id)?;
        if c.key.is_empty() {
            return Err((rid, ErrorCode::INVALID, "device key is empty".into()));
        }
        let map_key = (provider.to_string(), c.key.clone());
        let (id, changed) = match self.by_key.get(&map_key).copied() {
            Some(id) => {
                let d = self.devices.get_mut(&id).ok_or((
                    rid,
                    ErrorCode::INTERNAL,
                    "device map out of step".to_string(),
                ))?;
                let changed = d.name != c.name || d.attributes != c.attributes || d.removed;
                if changed {
                    d.name = c.name;
                    d.attributes = c.attributes;
                    d.removed = false;
                    d.dirty = true;
                }
                (id, changed)
            }
            None => {
                // The total is an upper bound: scan only near the limit, so
                // creating devices stays O(1) in practice.
                let live = if self.devices.len() < MAX_DEVICES_PER_PROVIDER {
                    0
                } else {
                    self.devices
                        .values()
                        .filter(|d| d.provider == *provider && !d.removed)
                        .count()
                };
                if live >= MAX_DEVICES_PER_PROVIDER {
                    return Err((
                        rid,
                        ErrorCode::INVALID,
                        format!(
                            "provider already owns {live} devices (limit {MAX_DEVICES_PER_PROVIDER})"
                        ),
                    ));
                }
                let rec = DeviceRecord {
                    provider: provider.to_string(),
                    key: c.key.clone(),
                    name: c.name,
                    attributes: c.attributes,
                    ..Default::default()
                };
                let (id, _) = self.store.allocate(&rec).map_err(|e| {
                    tracing::error!(provider = &**provider, "cannot persist device: {e}");
                    (
                        rid,
                        ErrorCode::INTERNAL,
                        "cannot persist device".to_string(),
                    )
                })?;
                self.by_key.insert(map_key, id);
                self.devices.insert(id, Device::from_record(id, rec));
                tracing::info!(
                    provider = &**provider,
                    device = id.0,
                    key = c.key,
                    "device created"
                );
                (id, true)
            }
        };
        let d = self.devices.get_mut(&id).ok_or((
            rid,
            ErrorCode::INTERNAL,
            "device vanished".to_string(),
        ))?;
        let flipped = d.available != available;
        d.available = available;
        let view = changed.then(|| d.view());
        if let Some(view) = view {
            self.emit(Event::Device(Arc::new(view)));
        }
        if flipped {
            self.emit(Event::Availability {
                device: id,
                available,
            });
        }
        if let Some(link) = self.links.get(provider) {
            let _ = link.send(Message::DeviceCreated(DeviceCreated {
                request_id: rid,
                device: id,
            }));
        }
        Ok(())
    }

    fn register_entity(&mut self, provider: &Arc<str>, r: RegisterEntity) -> Result<(), Refusal> {
        check_text("entity name", &r.name)?;
        check_attributes(&r.attributes)?;
        if r.name.is_empty() {
            return Err(refuse(ErrorCode::INVALID, "entity name is empty"));
        }
        let d = self.owned(provider, r.device)?;
        let name: Arc<str> = match d.entities.get_key_value(r.name.as_str()) {
            Some((k, _)) => k.clone(),
            None if d.entities.len() >= MAX_ENTITIES => {
                return Err(refuse(
                    ErrorCode::INVALID,
                    format!("device {} already has {MAX_ENTITIES} entities", r.device),
                ));
            }
            None => Arc::from(r.name.as_str()),
        };
        // One wire number ↔ one name per connection.
        if let Some(old) = d.wire.insert(r.entity, name.clone())
            && old != name
            && let Some(e) = d.entities.get_mut(&old)
        {
            e.wire = None;
        }
        let is_new = !d.entities.contains_key(&name);
        let entity = d.entities.entry(name).or_default();
        if let Some(prev) = entity.wire.replace(r.entity)
            && prev != r.entity
        {
            d.wire.remove(&prev);
        }
        let changed = is_new || entity.attributes != r.attributes;
        if changed {
            entity.attributes = r.attributes;
            let view = Arc::new(entity.view());
            d.dirty = true;
            let (device, entity) = (
                r.device,
                d.wire
                    .get(&r.entity)
                    .cloned()
                    .unwrap_or_else(|| Arc::from(r.name.as_str())),
            );
            self.emit(Event::Entity {
                device,
                entity,
                view,
            });
        }
        Ok(())
    }

    fn write(&mut self, provider: &Arc<str>, w: WriteComponents) -> Result<(), Refusal> {
        let d = self.owned(provider, w.device)?;
        let name = d.wire.get(&w.entity).cloned().ok_or_else(|| {
            refuse(
                ErrorCode::UNKNOWN_ENTITY,
                format!(
                    "entity number {} is not registered on device {}",
                    w.entity, w.device
                ),
            )
        })?;
        if let Some(bad) = w.values.iter().find_map(|c| check_component(c).err()) {
            return Err(refuse(ErrorCode::INVALID, bad));
        }
        if let Some(e) = d.entities.get_mut(&name) {
            e.apply(&w.values);
            d.dirty = true;
        }
        self.emit(Event::State {
            device: w.device,
            entity: name,
            values: w.values.into(),
        });
        Ok(())
    }

    /// Drops one entity of the provider's device, with its values (here and
    /// in the store at the next persist), and sends the device again
    /// (`Event::Device`) so clients and tree observers see it without it.
    fn remove_entity(&mut self, provider: &Arc<str>, r: RemoveEntity) -> Result<(), Refusal> {
        let d = self.owned(provider, r.device)?;
        let name = d.wire.remove(&r.entity).ok_or_else(|| {
            refuse(
                ErrorCode::UNKNOWN_ENTITY,
                format!(
                    "entity number {} is not registered on device {}",
                    r.entity, r.device
                ),
            )
        })?;
        d.entities.remove(&name);
        d.dirty = true;
        tracing::info!(
            provider = &**provider,
            device = r.device.0,
            entity = &*name,
            "entity removed"
        );
        let view = Arc::new(d.view());
        self.emit(Event::Device(view));
        Ok(())
    }

    fn request(
        &mut self,
        id: DeviceId,
        entity: &str,
        values: Vec<Component>,
    ) -> Result<(), RequestError> {
        let d = self
            .devices
            .get(&id)
            .filter(|d| !d.removed)
            .ok_or(RequestError::UnknownDevice(id))?;
        let e = d
            .entities
            .get(entity)
            .ok_or_else(|| RequestError::UnknownEntity(id, entity.to_string()))?;
        let link = self
            .links
            .get(&d.provider)
            .ok_or_else(|| RequestError::ProviderDown(d.provider.to_string()))?;
        let known_max = link.negotiated.peer_max_component_id;
        e.check_request(&values, known_max).map_err(|r| match r {
            Refused::ReadOnly {
                components,
                writable,
            } => RequestError::ReadOnly {
                entity: entity.to_string(),
                components,
                writable,
            },
            Refused::NotAnOption { value, options } => RequestError::NotAnOption {
                entity: entity.to_string(),
                value,
                options,
            },
        })?;
        let wire = e
            .wire
            .ok_or_else(|| RequestError::ProviderDown(d.provider.to_string()))?;
        if !d.available {
            return Err(RequestError::Unavailable(id));
        }
        let msg = Message::WriteComponents(WriteComponents {
            device: id,
            entity: wire,
            values,
        });
        match link.send(msg) {
            Ok(()) => Ok(()),
            Err(LinkError::Closed) => Err(RequestError::ProviderDown(d.provider.to_string())),
            Err(LinkError::Full) => Err(RequestError::Busy(d.provider.to_string())),
            Err(LinkError::Unknown { .. }) => Err(RequestError::Unsupported(
                d.provider.to_string(),
                link.negotiated.peer_max_component_id,
            )),
        }
    }

    fn persist(&mut self) {
        if !self.devices.values().any(|d| d.dirty) {
            return;
        }
        // Records are built one at a time inside the transaction, not all up front.
        let dirty = self
            .devices
            .values()
            .filter(|d| d.dirty)
            .map(|d| (d.id, d.to_record()));
        match self.store.save(dirty) {
            Ok(_) => self.devices.values_mut().for_each(|d| d.dirty = false),
            Err(e) => tracing::error!("persisting devices failed, will retry: {e}"),
        }
    }
}

fn check_text(what: &str, s: &str) -> Result<(), Refusal> {
    if s.len() > MAX_TEXT {
        return Err(refuse(
            ErrorCode::INVALID,
            format!("{what} is {} bytes (limit {MAX_TEXT})", s.len()),
        ));
    }
    Ok(())
}

fn check_attributes(a: &[(String, String)]) -> Result<(), Refusal> {
    if a.len() > MAX_ATTRIBUTES {
        return Err(refuse(
            ErrorCode::INVALID,
            format!("{} attributes (limit {MAX_ATTRIBUTES})", a.len()),
        ));
    }
    for (k, v) in a {
        check_text("attribute key", k)?;
        check_text("attribute value", v)?;
    }
    Ok(())
}

fn check_component(c: &Component) -> Result<(), String> {
    match c.value() {
        igloo_protocol::Value::String(s) if s.len() > MAX_TEXT * 64 => Err(format!(
            "{} text of {} bytes is too long",
            c.name(),
            s.len()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
