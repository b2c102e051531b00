use std::collections::HashMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use igloo_protocol::codec::MessageCodec;
use igloo_protocol::handshake::Outgoing;
use igloo_protocol::message::{
    Attributes, CreateDevice, CreateDeviceWithAvailability, Custom, CustomReply, ErrorReply, Hello,
    ObserveTree, RegisterEntity, RemoveDevice, RemoveEntity, RequestChange, SetAvailability,
    TreeDevice, Welcome, WriteComponents,
};
use igloo_protocol::{
    Component, DEFAULT_MAX_FRAME, DeviceId, EntityId, ErrorCode, HandshakeError, MAX_COMPONENT_ID,
    MAX_MESSAGE_ID, Message, Negotiated, PROTOCOL_MAJOR, PROTOCOL_MINOR, encode_frame,
};
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::FramedRead;

use crate::SdkError;
use crate::grant::{GrantSocket, GrantedDevice, granted};

/// Queue depth between provider code and the socket writer.
const OUTBOX: usize = 4096;
/// Most messages encoded into one write before flushing.
const BATCH: usize = 256;

/// Something the core asks of the provider.
///
/// Non-exhaustive: later SDK versions add events (grants were added this way),
/// so match with a `_ => {}` arm and a provider keeps building.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A change request from a user: make the device take these values, then
    /// report what it confirms with [`Provider::write`] (writes are not optimistic).
    Change {
        /// The device.
        device: DeviceId,
        /// The entity number returned by [`Provider::register_entity`].
        entity: EntityId,
        /// Requested values.
        values: Vec<Component>,
    },
    /// A provider-specific command; answer with [`Provider::reply_custom`] or
    /// [`Provider::reply_error`].
    Custom {
        /// Echo this in the reply.
        request_id: u32,
        /// Command name.
        command: String,
        /// Argument (JSON text by convention).
        body: String,
    },
    /// The core granted a device (a serial port or dongle it opened for this
    /// provider). Use [`GrantedDevice::try_clone_fd`] to drive it.
    Granted(GrantedDevice),
    /// A granted device was unplugged or withdrawn: stop using it and drop
    /// every copy of its fd.
    Revoked {
        /// [`GrantedDevice::grant`] of the device.
        grant: u32,
        /// Why, e.g. `unplugged`.
        reason: String,
    },
    /// Tree observation ([`Provider::observe_tree`]): a whole device of any
    /// provider, in the snapshot or when it was created, renamed, came back
    /// or gained an entity. Replaces what the provider knew of it. (Boxed:
    /// it is much larger than the other events.)
    TreeDevice(Box<TreeDevice>),
    /// Tree observation: confirmed new values of an entity of any provider.
    TreeState {
        /// The device.
        device: DeviceId,
        /// The entity name.
        entity: String,
        /// The values (components this SDK does not know are left out by the core).
        values: Vec<Component>,
    },
    /// Tree observation: a device became reachable or not.
    TreeAvailability {
        /// The device.
        device: DeviceId,
        /// `true` = online.
        available: bool,
    },
    /// Tree observation: a device was removed by its provider.
    TreeRemoved {
        /// The device.
        device: DeviceId,
    },
    /// Tree observation: the snapshot is complete (after the first one, the
    /// core sent the whole tree again because the provider fell behind;
    /// devices it no longer has came as [`Event::TreeRemoved`] before this).
    TreeSynced {
        /// How many devices the snapshot held.
        devices: u32,
    },
    /// The core reported an error not tied to a pending request (e.g. a write to
    /// an unknown entity, or an [`Provider::observe_tree`] refused with
    /// [`ErrorCode::FORBIDDEN`]).
    Error {
        /// Error code.
        code: ErrorCode,
        /// Explanation.
        message: String,
    },
}

/// The stream of [`Event`]s from the core. `None` once the core has closed the connection.
pub struct Events {
    rx: mpsc::Receiver<Event>,
}

impl Events {
    /// The next event; `None` when the connection is closed (the provider should exit).
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

/// A `[provider.config]` section that does not fit the provider's config type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The dotted key relative to the section, array elements by index
    /// (`modbus.0.baud`); `None` when the section as a whole is wrong.
    pub key: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
}

/// Parses config text as `T`, naming the key where it fails.
///
/// # Errors
/// [`ConfigError`].
pub fn parse_config<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ConfigError {
        key: None,
        message: e.message().to_string(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let key = (path != ".").then(|| dotted(&path));
        ConfigError {
            key,
            message: e.inner().message().replace('\n', " "),
        }
    })
}

/// `modbus[0].baud` → `modbus.0.baud`.
fn dotted(path: &str) -> String {
    path.replace('[', ".").replace(']', "")
}

/// The answer to a request the provider made.
enum Answer {
    /// `DeviceCreated`.
    Device(DeviceId),
    /// `CustomReply` (its body).
    Custom(String),
}

type Pending = Arc<Mutex<Waiters>>;

/// The requests waiting for their answers, and whether the connection ended.
#[derive(Default)]
struct Waiters {
    by_id: HashMap<u32, oneshot::Sender<Result<Answer, SdkError>>>,
    /// Set once the reader has stopped: `Some(why)` when a malformed frame
    /// ended it, `None` when the core closed the connection. A request made
    /// after that fails at once instead of waiting for an answer that cannot come.
    ended: Option<Option<String>>,
}

impl Waiters {
    fn remove(&mut self, request_id: &u32) -> Option<oneshot::Sender<Result<Answer, SdkError>>> {
        self.by_id.remove(request_id)
    }
}

/// The error for a request on a connection that ended (see [`Waiters::ended`]).
fn ended_error(why: &Option<String>) -> SdkError {
    match why {
        Some(why) => SdkError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            why.clone(),
        )),
        None => SdkError::Closed,
    }
}

struct Shared {
    welcome: Welcome,
    negotiated: Negotiated,
    outbox: mpsc::Sender<Message>,
    pending: Pending,
    next_request: AtomicU32,
    dropped: AtomicU64,
    entities: Mutex<HashMap<(DeviceId, String), EntityId>>,
    next_entity: Mutex<HashMap<DeviceId, EntityId>>,
}

/// A handle on the connection to the core. Cheap to clone; all clones share it.
#[derive(Clone)]
pub struct Provider {
    shared: Arc<Shared>,
}

impl Provider {
    /// Connects to the core (`IGLOO_FD`, else `IGLOO_SOCKET`) and performs the handshake.
    /// Devices granted by the core arrive on `IGLOO_GRANT_FD` as [`Event::Granted`].
    ///
    /// `name` and `version` identify the provider in the core's logs and API.
    ///
    /// # Errors
    /// [`SdkError::NoConnection`] without either variable; I/O, frame or
    /// handshake errors (e.g. the core refuses this protocol major).
    pub async fn connect(name: &str, version: &str) -> Result<(Provider, Events), SdkError> {
        let stream = if let Ok(fd) = std::env::var("IGLOO_FD") {
            let fd: i32 = fd.trim().parse().map_err(|_| {
                SdkError::NoConnection(format!("IGLOO_FD={fd:?} is not a file descriptor number"))
            })?;
            if fd < 3 {
                return Err(SdkError::NoConnection(format!(
                    "IGLOO_FD={fd} is a standard stream"
                )));
            }
            // SAFETY: the core hands this fd to us and nothing else in the process owns it;
            // we take ownership exactly once (the variable is removed below).
            let owned = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: as above; removing the variable keeps a second connect() from adopting the fd twice.
            unsafe { std::env::remove_var("IGLOO_FD") };
            let std = std::os::unix::net::UnixStream::from(owned);
            std.set_nonblocking(true)?;
            UnixStream::from_std(std)?
        } else if let Ok(path) = std::env::var("IGLOO_SOCKET") {
            if let Some(name) = path.strip_prefix('@') {
                // A Linux abstract socket name.
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
                let std = std::os::unix::net::UnixStream::connect_addr(&addr)?;
                std.set_nonblocking(true)?;
                UnixStream::from_std(std)?
            } else {
                UnixStream::connect(Path::new(&path)).await?
            }
        } else {
            return Err(SdkError::NoConnection(
                "neither IGLOO_FD nor IGLOO_SOCKET is set".into(),
            ));
        };
        let grants = GrantSocket::from_env();
        Self::handshake(stream, grants, name, version).await
    }

    /// Performs the handshake over an already connected stream (tests, embedding).
    ///
    /// # Errors
    /// As [`Provider::connect`].
    pub async fn over(
        stream: UnixStream,
        name: &str,
        version: &str,
    ) -> Result<(Provider, Events), SdkError> {
        Self::handshake(stream, None, name, version).await
    }

    async fn handshake(
        stream: UnixStream,
        grants: Option<GrantSocket>,
        name: &str,
        version: &str,
    ) -> Result<(Provider, Events), SdkError> {
        let hello = Hello {
            protocol_major: PROTOCOL_MAJOR,
            protocol_minor: PROTOCOL_MINOR,
            name: name.to_string(),
            version: version.to_string(),
            max_component_id: MAX_COMPONENT_ID,
            max_message_id: MAX_MESSAGE_ID,
        };
        let (read, mut write) = stream.into_split();
        let mut buf = BytesMut::new();
        encode_frame(&Message::Hello(hello), &mut buf, DEFAULT_MAX_FRAME)?;
        write.write_all(&buf).await?;
        let mut frames = FramedRead::new(read, MessageCodec::default());
        let welcome = match frames.next().await {
            Some(Ok(Message::Welcome(w))) => w,
            Some(Ok(Message::Error(e))) => {
                return Err(SdkError::Refused {
                    code: e.code,
                    message: e.message,
                });
            }
            Some(Ok(other)) => {
                return Err(HandshakeError::Unexpected {
                    expected: "Welcome",
                    got: other.name(),
                }
                .into());
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(SdkError::Closed),
        };
        let negotiated = Negotiated::from_welcome(&welcome)?;
        let (outbox, out_rx) = mpsc::channel(OUTBOX);
        let (ev_tx, ev_rx) = mpsc::channel(OUTBOX);
        let shared = Arc::new(Shared {
            welcome,
            negotiated,
            outbox: outbox.clone(),
            pending: Arc::default(),
            next_request: AtomicU32::new(1),
            dropped: AtomicU64::new(0),
            entities: Mutex::default(),
            next_entity: Mutex::default(),
        });
        tokio::spawn(writer(write, out_rx));
        tokio::spawn(reader(
            frames,
            ev_tx,
            outbox,
            shared.pending.clone(),
            grants,
        ));
        Ok((Provider { shared }, Events { rx: ev_rx }))
    }

    /// The core's [`Welcome`] (its version, ids, this provider's config and data dir).
    pub fn welcome(&self) -> &Welcome {
        &self.shared.welcome
    }

    /// Parses this provider's config section (`[provider.config]` in the core's config).
    ///
    /// # Errors
    /// [`SdkError::Config`] with one line: the dotted key and what is wrong
    /// with it (`modbus.0.baud: invalid type: string "fast", expected u32`).
    pub fn config<T: serde::de::DeserializeOwned>(&self) -> Result<T, SdkError> {
        parse_config(&self.shared.welcome.config).map_err(|e| SdkError::Config(e.to_string()))
    }

    /// This provider's own read-write data directory.
    pub fn data_dir(&self) -> &Path {
        Path::new(&self.shared.welcome.data_dir)
    }

    /// Components dropped so far because the core does not know them.
    pub fn dropped_components(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Creates the device with stable `key` (MAC, IEEE address…) or finds it
    /// again; returns its persistent id.
    ///
    /// # Errors
    /// [`SdkError::Refused`] or [`SdkError::Closed`].
    pub async fn create_device(
        &self,
        key: &str,
        name: &str,
        attributes: Attributes,
    ) -> Result<DeviceId, SdkError> {
        self.request_device(|request_id| {
            Message::CreateDevice(CreateDevice {
                request_id,
                key: key.to_string(),
                name: name.to_string(),
                attributes,
            })
        })
        .await
    }

    /// Whether the core knows `CreateDeviceWithAvailability` (protocol 1.1,
    /// message 23), so [`Provider::create_device_with_availability`] announces
    /// an unavailable device without it ever being shown available.
    pub fn core_can_create_unavailable(&self) -> bool {
        self.shared
            .negotiated
            .knows_message(igloo_protocol::ids::CREATE_DEVICE_WITH_AVAILABILITY)
    }

    /// [`Provider::create_device`] with the availability the provider knows:
    /// `available` = `false` announces a device known to be unreachable (e.g.
    /// one that left its network) without a moment of being available. With
    /// `true` it is exactly `create_device`.
    ///
    /// A core older than the message
    /// ([`Provider::core_can_create_unavailable`] is `false`) gets a
    /// `CreateDevice` and then a `SetAvailability(false)`: the same end state,
    /// with the device available in between.
    ///
    /// # Errors
    /// As [`Provider::create_device`].
    pub async fn create_device_with_availability(
        &self,
        key: &str,
        name: &str,
        attributes: Attributes,
        available: bool,
    ) -> Result<DeviceId, SdkError> {
        if available || !self.core_can_create_unavailable() {
            let id = self.create_device(key, name, attributes).await?;
            if !available {
                self.set_available(id, false).await?;
            }
            return Ok(id);
        }
        self.request_device(|request_id| {
            Message::CreateDeviceWithAvailability(CreateDeviceWithAvailability {
                create: CreateDevice {
                    request_id,
                    key: key.to_string(),
                    name: name.to_string(),
                    attributes,
                },
                available,
            })
        })
        .await
    }

    /// Sends a device creation and waits for its `DeviceCreated`.
    async fn request_device(&self, msg: impl FnOnce(u32) -> Message) -> Result<DeviceId, SdkError> {
        match self.request(msg).await? {
            Answer::Device(id) => Ok(id),
            Answer::Custom(_) => Err(SdkError::Closed),
        }
    }

    /// Sends a request with a fresh request id and waits for its answer.
    async fn request(&self, msg: impl FnOnce(u32) -> Message) -> Result<Answer, SdkError> {
        let request_id = self.shared.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut waiters = self.shared.pending.lock().map_err(|_| SdkError::Closed)?;
            if let Some(why) = &waiters.ended {
                return Err(ended_error(why));
            }
            waiters.by_id.insert(request_id, tx);
        }
        self.send(msg(request_id)).await?;
        rx.await.map_err(|_| SdkError::Closed)?
    }

    /// Sends custom `command` with `body` (JSON text by convention) to the
    /// core and waits for its reply body.
    ///
    /// # Errors
    /// [`SdkError::Refused`] when the core answers with an error (e.g. it has
    /// no such command), [`SdkError::Closed`].
    pub async fn request_custom(&self, command: &str, body: String) -> Result<String, SdkError> {
        let answer = self
            .request(|request_id| {
                Message::Custom(Custom {
                    request_id,
                    command: command.to_string(),
                    body,
                })
            })
            .await?;
        match answer {
            Answer::Custom(body) => Ok(body),
            Answer::Device(_) => Err(SdkError::Closed),
        }
    }

    /// Tells the core that the change request for `entity` of `device`
    /// ([`Event::Change`]) cannot be carried out, and why
    /// ([`igloo_protocol::commands::CHANGE_REFUSED`]): a user waiting for the
    /// change sees `reason` at once instead of a timeout.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn refuse_change(
        &self,
        device: DeviceId,
        entity: EntityId,
        reason: &str,
    ) -> Result<(), SdkError> {
        let body = serde_json::json!({"device": device.0, "entity": entity, "reason": reason});
        self.send_custom(igloo_protocol::commands::CHANGE_REFUSED, body.to_string())
            .await
    }

    /// Tells the core that this provider's `[provider.config]` is wrong
    /// ([`igloo_protocol::commands::CONFIG_ERROR`]): `message` says what, `key`
    /// names the dotted key relative to the section (`"modbus.0.baud"`) when
    /// known. Waits at most 2 s for the core to take it; a core that does not
    /// know the command is ignored. Exit with [`igloo_protocol::EXIT_CONFIG`]
    /// afterwards, as [`crate::start::connect_with_config`] does.
    pub async fn report_config_error(&self, message: &str, key: Option<&str>) {
        let body = serde_json::json!({"message": message, "key": key}).to_string();
        let sent = self.request_custom(igloo_protocol::commands::CONFIG_ERROR, body);
        if let Ok(Err(e)) = tokio::time::timeout(Duration::from_secs(2), sent).await {
            tracing::debug!("the core did not take the config report: {e}");
        }
    }

    /// Declares entity `name` on `device` and returns its number for [`Provider::write`].
    /// Registering the same name again returns the same number and updates attributes.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn register_entity(
        &self,
        device: DeviceId,
        name: &str,
        attributes: Attributes,
    ) -> Result<EntityId, SdkError> {
        let entity = {
            let mut known = self.shared.entities.lock().map_err(|_| SdkError::Closed)?;
            match known.get(&(device, name.to_string())) {
                Some(e) => *e,
                None => {
                    let mut next = self
                        .shared
                        .next_entity
                        .lock()
                        .map_err(|_| SdkError::Closed)?;
                    let n = next.entry(device).or_insert(0);
                    let e = *n;
                    *n += 1;
                    known.insert((device, name.to_string()), e);
                    e
                }
            }
        };
        self.send(Message::RegisterEntity(RegisterEntity {
            device,
            entity,
            name: name.to_string(),
            attributes,
        }))
        .await?;
        Ok(entity)
    }

    /// Reports the entity's confirmed values.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn write(
        &self,
        device: DeviceId,
        entity: EntityId,
        values: Vec<Component>,
    ) -> Result<(), SdkError> {
        self.send(Message::WriteComponents(WriteComponents {
            device,
            entity,
            values,
        }))
        .await
    }

    /// Reports the device reachable (`true`) or not.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn set_available(&self, device: DeviceId, available: bool) -> Result<(), SdkError> {
        self.send(Message::SetAvailability(SetAvailability {
            device,
            available,
        }))
        .await
    }

    /// Reports the device removed for good.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn remove_device(&self, device: DeviceId) -> Result<(), SdkError> {
        self.send(Message::RemoveDevice(RemoveDevice { device }))
            .await
    }

    /// Whether the core knows `RemoveEntity` (protocol 1.1, message 22), so
    /// [`Provider::remove_entity`] can be used.
    pub fn core_can_remove_entity(&self) -> bool {
        self.shared
            .negotiated
            .knows_message(igloo_protocol::ids::REMOVE_ENTITY)
    }

    /// Reports one entity of the device gone for good; the device and its
    /// other entities stay. The core drops it (API clients and tree
    /// observers see the device without it); registering the same name again
    /// creates it anew. The core refuses an entity number not registered on
    /// this connection with [`Event::Error`] (`UNKNOWN_ENTITY`), like a write.
    ///
    /// # Errors
    /// [`SdkError::Refused`] with [`ErrorCode::UNSUPPORTED`] when the core is
    /// older than it ([`Provider::core_can_remove_entity`] is `false`; nothing
    /// is sent, the entity stays: keep it, e.g. stale, or remove the whole
    /// device); [`SdkError::Closed`].
    pub async fn remove_entity(&self, device: DeviceId, entity: EntityId) -> Result<(), SdkError> {
        if !self.core_can_remove_entity() {
            return Err(self.core_too_old("RemoveEntity"));
        }
        self.send(Message::RemoveEntity(RemoveEntity { device, entity }))
            .await
    }

    /// Answers a [`Event::Custom`].
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn reply_custom(&self, request_id: u32, body: String) -> Result<(), SdkError> {
        self.send(Message::CustomReply(CustomReply { request_id, body }))
            .await
    }

    /// Answers a [`Event::Custom`] with an error.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn reply_error(
        &self,
        request_id: u32,
        code: ErrorCode,
        message: String,
    ) -> Result<(), SdkError> {
        self.send(Message::Error(ErrorReply {
            request_id,
            code,
            message,
        }))
        .await
    }

    /// Whether the core knows the tree messages (protocol 1.1: `ObserveTree`
    /// … `RequestChange`). An older core never sends tree events.
    pub fn core_has_tree(&self) -> bool {
        self.shared
            .negotiated
            .knows_message(igloo_protocol::ids::REQUEST_CHANGE)
    }

    /// Asks the core for the whole device tree and its changes: every device
    /// of every provider arrives as [`Event::TreeDevice`], then
    /// [`Event::TreeSynced`], then [`Event::TreeState`],
    /// [`Event::TreeAvailability`], [`Event::TreeRemoved`] and further
    /// `TreeDevice`s as the tree changes. Needs `tree = "read"` (or
    /// `"control"`) for this provider in the core config; otherwise the core
    /// answers with [`Event::Error`] and [`ErrorCode::FORBIDDEN`]. Calling it
    /// again restarts the stream with a new snapshot.
    ///
    /// # Errors
    /// [`SdkError::Refused`] with [`ErrorCode::UNSUPPORTED`] when the core is
    /// older than protocol 1.1 (nothing is sent); [`SdkError::Closed`].
    pub async fn observe_tree(&self) -> Result<(), SdkError> {
        if !self.core_has_tree() {
            return Err(self.core_too_old("ObserveTree"));
        }
        let request_id = self.shared.next_request.fetch_add(1, Ordering::Relaxed);
        self.send(Message::ObserveTree(ObserveTree {
            request_id,
            attributes: vec![],
        }))
        .await
    }

    /// Requests a change to an entity of any provider's device, by entity
    /// name. The core checks it like a user's request (device online, the
    /// entity's `writable` and `options`) and forwards it to the owning
    /// provider; `Ok` means forwarded, not done: the new values arrive as
    /// [`Event::TreeState`] once the owner confirms them. Needs
    /// `tree = "control"` in the core config.
    ///
    /// This waits for the core's answer, which the same reader delivers as
    /// the events: call it from a task of its own (not the loop that reads
    /// [`Events`]) when many events may be queued.
    ///
    /// # Errors
    /// [`SdkError::Refused`] with the core's reason: [`ErrorCode::FORBIDDEN`],
    /// `UNKNOWN_DEVICE`, `UNKNOWN_ENTITY`, `INVALID` (read-only, not an
    /// option), `UNAVAILABLE` (offline, its provider down or busy),
    /// `UNSUPPORTED` (the core or the owner does not know the components, or
    /// the core is older than protocol 1.1); [`SdkError::Closed`].
    pub async fn request_change(
        &self,
        device: DeviceId,
        entity: &str,
        values: Vec<Component>,
    ) -> Result<(), SdkError> {
        if !self.core_has_tree() {
            return Err(self.core_too_old("RequestChange"));
        }
        let negotiated = self.shared.negotiated;
        if !values.is_empty() && !values.iter().any(|c| negotiated.knows_component(c.id())) {
            return Err(SdkError::Refused {
                code: ErrorCode::UNSUPPORTED,
                message: format!(
                    "the core knows none of these components (it knows up to id {})",
                    negotiated.peer_max_component_id
                ),
            });
        }
        let answer = self
            .request(|request_id| {
                Message::RequestChange(RequestChange {
                    request_id,
                    device,
                    entity: entity.to_string(),
                    values,
                })
            })
            .await?;
        match answer {
            Answer::Custom(_) => Ok(()),
            Answer::Device(_) => Err(SdkError::Closed),
        }
    }

    fn core_too_old(&self, what: &str) -> SdkError {
        SdkError::Refused {
            code: ErrorCode::UNSUPPORTED,
            message: format!(
                "core {} (protocol {}.{}) does not know {what}; it needs protocol 1.1",
                self.shared.welcome.core_version,
                self.shared.welcome.protocol_major,
                self.shared.welcome.protocol_minor
            ),
        }
    }

    /// Sends a raw [`Custom`] message to the core.
    ///
    /// # Errors
    /// [`SdkError::Closed`].
    pub async fn send_custom(&self, command: &str, body: String) -> Result<(), SdkError> {
        let request_id = self.shared.next_request.fetch_add(1, Ordering::Relaxed);
        self.send(Message::Custom(Custom {
            request_id,
            command: command.to_string(),
            body,
        }))
        .await
    }

    async fn send(&self, msg: Message) -> Result<(), SdkError> {
        match self.shared.negotiated.prepare(msg) {
            Outgoing::Send { message, dropped } => {
                if dropped > 0 {
                    self.shared
                        .dropped
                        .fetch_add(dropped as u64, Ordering::Relaxed);
                }
                self.shared
                    .outbox
                    .send(message)
                    .await
                    .map_err(|_| SdkError::Closed)
            }
            Outgoing::Withheld { dropped } => {
                self.shared
                    .dropped
                    .fetch_add(dropped as u64, Ordering::Relaxed);
                Ok(())
            }
        }
    }
}

/// Writes queued messages, encoding everything already queued (up to [`BATCH`])
/// before one `write_all`: a burst costs one syscall.
async fn writer(mut sock: OwnedWriteHalf, mut rx: mpsc::Receiver<Message>) {
    let mut buf = BytesMut::with_capacity(8192);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(msg) = next {
            if let Err(e) = encode_frame(&msg, &mut buf, DEFAULT_MAX_FRAME) {
                tracing::error!(
                    msg_type = msg.name(),
                    "cannot encode message for the core: {e}"
                );
            }
            n += 1;
            next = if n < BATCH { rx.try_recv().ok() } else { None };
        }
        if sock.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
    }
}

async fn reader(
    mut frames: FramedRead<OwnedReadHalf, MessageCodec>,
    events: mpsc::Sender<Event>,
    outbox: mpsc::Sender<Message>,
    pending: Pending,
    mut grants: Option<GrantSocket>,
) {
    // Why the connection ended, when it was not the core closing it.
    let mut broken = None;
    while let Some(frame) = frames.next().await {
        let msg = match frame {
            Ok(m) => m,
            Err(e) => {
                tracing::error!("bad frame from the core, closing: {e}");
                broken = Some(format!("bad frame from the core: {e}"));
                break;
            }
        };
        let event = match msg {
            Message::Ping(n) => {
                let _ = outbox.send(Message::Pong(n)).await;
                continue;
            }
            Message::DeviceCreated(d) => {
                if let Some(tx) = pending
                    .lock()
                    .ok()
                    .and_then(|mut p| p.remove(&d.request_id))
                {
                    let _ = tx.send(Ok(Answer::Device(d.device)));
                }
                continue;
            }
            Message::CustomReply(r) => {
                if let Some(tx) = pending
                    .lock()
                    .ok()
                    .and_then(|mut p| p.remove(&r.request_id))
                {
                    let _ = tx.send(Ok(Answer::Custom(r.body)));
                }
                continue;
            }
            Message::Error(e) => {
                let waiter = if e.request_id != 0 {
                    pending
                        .lock()
                        .ok()
                        .and_then(|mut p| p.remove(&e.request_id))
                } else {
                    None
                };
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(Err(SdkError::Refused {
                            code: e.code,
                            message: e.message,
                        }));
                        continue;
                    }
                    None => Event::Error {
                        code: e.code,
                        message: e.message,
                    },
                }
            }
            Message::WriteComponents(w) => Event::Change {
                device: w.device,
                entity: w.entity,
                values: w.values,
            },
            Message::Custom(c) => Event::Custom {
                request_id: c.request_id,
                command: c.command,
                body: c.body,
            },
            Message::Grant(g) => {
                let Some(sock) = grants.as_mut() else {
                    tracing::error!(
                        grant = g.grant,
                        device = g.name,
                        "the core granted a device but this provider has no grant socket (IGLOO_GRANT_FD)"
                    );
                    continue;
                };
                match sock.receive(g.grant).await {
                    Ok(fd) => Event::Granted(granted(g.grant, g.name, g.attributes, fd)),
                    Err(e) => {
                        tracing::error!(
                            grant = g.grant,
                            device = g.name,
                            "cannot receive the granted fd: {e}"
                        );
                        continue;
                    }
                }
            }
            Message::Revoke(r) => Event::Revoked {
                grant: r.grant,
                reason: r.reason,
            },
            Message::TreeDevice(d) => Event::TreeDevice(Box::new(d)),
            Message::TreeState(t) => Event::TreeState {
                device: t.device,
                entity: t.entity,
                values: t.values,
            },
            Message::TreeAvailability(a) => Event::TreeAvailability {
                device: a.device,
                available: a.available,
            },
            Message::TreeRemoved(r) => Event::TreeRemoved { device: r.device },
            Message::TreeSynced(s) => Event::TreeSynced { devices: s.devices },
            other => {
                tracing::debug!(
                    msg_type = other.name(),
                    "ignoring unexpected message from the core"
                );
                continue;
            }
        };
        if events.send(event).await.is_err() {
            break;
        }
    }
    // Fail outstanding and later requests so callers do not wait forever,
    // saying why.
    if let Ok(mut p) = pending.lock() {
        for (_, tx) in p.by_id.drain() {
            let _ = tx.send(Err(ended_error(&broken)));
        }
        p.ended = Some(broken);
    }
}
