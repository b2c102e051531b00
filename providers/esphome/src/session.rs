//! One ESPHome device: connect, log in, mirror its entities, keep the
//! connection alive and reconnect when it drops.
//!
//! The connection sequence is the one ESPHome's reference client uses:
//! TCP connect → (Noise handshake when a key is set) → HelloRequest /
//! HelloResponse → DeviceInfoRequest / DeviceInfoResponse →
//! ListEntitiesRequest / one ListEntities*Response per entity /
//! ListEntitiesDoneResponse → SubscribeStatesRequest. Then states stream in.
//! The device's PingRequest and GetTimeRequest are answered; an idle
//! connection is pinged every `keepalive`, and a device silent for 4.5 times
//! that is treated as gone (aioesphomeapi's ratio).
//!
//! The device is created in the core with key = its MAC (see [`crate::mac`]),
//! so it keeps its id across reconnects, address changes and restarts. It is
//! reported available once states are subscribed and unavailable whenever
//! the connection ends.
//!
//! Reconnects back off exponentially with jitter (from 250 ms up to
//! `reconnect_max`), reset after a connection that got as far as serving
//! states. A key problem (wrong key, key missing, key given to a plaintext
//! device) is not retried quickly: it is reported in the status and retried
//! only every `reconnect_max`, or at once when a new key arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::{SinkExt, StreamExt};
use igloo_provider::protocol::Component;
use igloo_provider::{DeviceId, EntityId, Provider};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::codec::Framed;

use crate::api::frame::{ApiCodec, Frame, FrameError, Framing};
use crate::api::noise::{self, HandshakeError, Psk};
use crate::api::proto::{self, ApiMessage, Incoming, Outgoing};
use crate::config::{Endpoint, Settings};
use crate::entities::{self, EntityInfo};

/// The API version this client speaks (ESPHome 2026.x devices report 1.14;
/// any minor of major 1 is accepted).
pub const API_VERSION: (u32, u32) = (1, 14);

/// Silence longer than `keepalive` × this ends the connection (aioesphomeapi).
const KEEPALIVE_TIMEOUT_RATIO: f64 = 4.5;

/// Shortest wait before a reconnect.
const RECONNECT_MIN: Duration = Duration::from_millis(250);

/// How a device entry came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `[[provider.config.device]]`.
    Config,
    /// `igloo esphome add`.
    Added,
    /// Found by mDNS.
    Mdns,
}

/// Connection state shown in `igloo esphome list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Connecting or logging in.
    Connecting,
    /// Serving states.
    Connected,
    /// Between attempts after a failure; see `error`.
    Disconnected,
    /// Announced by mDNS as encrypted; no key is known for it yet.
    WaitingForKey,
    /// Stopped (removed).
    Stopped,
}

/// The class of the last failure, stable for tests and UIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Our key was rejected.
    WrongKey,
    /// The device needs a key and none is set.
    EncryptionRequired,
    /// A key is set but the device speaks plaintext.
    PlaintextDevice,
    /// TCP connect failed.
    Unreachable,
    /// A step took too long.
    Timeout,
    /// The device sent something invalid (garbage, over-long or cut frames,
    /// undecodable messages, an unsupported API major).
    Protocol,
    /// The connection closed or dropped.
    Closed,
}

impl ErrorKind {
    /// Key problems are retried slowly (and at once on a new key).
    pub fn is_key_problem(self) -> bool {
        matches!(
            self,
            ErrorKind::WrongKey | ErrorKind::EncryptionRequired | ErrorKind::PlaintextDevice
        )
    }
}

/// What went wrong with a connection.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Its class.
    pub kind: ErrorKind,
    /// A sentence for people (never holds the key).
    pub message: String,
}

impl Failure {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl From<FrameError> for Failure {
    fn from(e: FrameError) -> Failure {
        let kind = match e {
            FrameError::RequiresEncryption => ErrorKind::EncryptionRequired,
            FrameError::DeviceIsPlaintext => ErrorKind::PlaintextDevice,
            FrameError::Io(_) => ErrorKind::Closed,
            _ => ErrorKind::Protocol,
        };
        Failure::new(kind, e.to_string())
    }
}

impl From<HandshakeError> for Failure {
    fn from(e: HandshakeError) -> Failure {
        let kind = match e {
            HandshakeError::WrongKey => ErrorKind::WrongKey,
            HandshakeError::DeviceIsPlaintext | HandshakeError::ClosedDuringHello => {
                ErrorKind::PlaintextDevice
            }
            HandshakeError::Io(_) => ErrorKind::Closed,
            _ => ErrorKind::Protocol,
        };
        Failure::new(kind, e.to_string())
    }
}

/// One device's status, as `esphome.status` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `host:port`.
    pub address: String,
    /// Where the entry came from.
    pub source: Source,
    /// Connection state.
    pub state: State,
    /// Whether a key is set (the key itself is never shown).
    pub encrypted: bool,
    /// MAC once known.
    pub mac: Option<String>,
    /// The device's node name once known.
    pub name: Option<String>,
    /// ESPHome version it runs.
    pub esphome_version: Option<String>,
    /// Igloo device id once created.
    pub device_id: Option<DeviceId>,
    /// Entities mirrored.
    pub entities: usize,
    /// Entity types present on the device but not mapped (e.g. `camera`).
    pub skipped: Vec<String>,
    /// Class of the last failure.
    pub error_kind: Option<ErrorKind>,
    /// The last failure, for people.
    pub error: Option<String>,
    /// Successful logins so far.
    pub connects: u64,
    /// Connection attempts so far.
    pub attempts: u64,
}

/// Messages to a running session.
#[derive(Debug)]
pub enum Command {
    /// A change request for one of its entities.
    Change {
        /// The entity number.
        entity: EntityId,
        /// Requested values.
        values: Vec<Component>,
    },
    /// Use this key (or none) from now on and reconnect at once.
    SetKey(Option<Psk>),
    /// The device was seen (mDNS) at this address: use it and retry now if
    /// disconnected.
    Seen(Endpoint),
    /// Disconnect cleanly and end.
    Stop,
}

/// Routes change requests by device id to the owning session.
pub type Routes = Arc<Mutex<HashMap<DeviceId, mpsc::Sender<Command>>>>;

/// A handle on a running session.
#[derive(Clone)]
pub struct Handle {
    /// Commands to the session.
    pub tx: mpsc::Sender<Command>,
    /// Its status.
    pub status: Arc<Mutex<Status>>,
}

/// Everything a session needs.
pub struct Spec {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Its key.
    pub key: Option<Psk>,
    /// Origin.
    pub source: Source,
    /// Start in [`State::WaitingForKey`] instead of connecting.
    pub wait_for_key: bool,
    /// MAC if known beforehand (mDNS, stored).
    pub mac: Option<String>,
}

/// Called with the MAC when a session learns it (to store it).
pub type OnMac = Arc<dyn Fn(&Endpoint, &str) + Send + Sync>;

/// Starts a session task.
pub fn spawn(
    provider: Provider,
    settings: Arc<Settings>,
    routes: Routes,
    on_mac: OnMac,
    spec: Spec,
) -> Handle {
    let (tx, rx) = mpsc::channel(64);
    let status = Arc::new(Mutex::new(Status {
        address: spec.endpoint.to_string(),
        source: spec.source,
        state: if spec.wait_for_key {
            State::WaitingForKey
        } else {
            State::Connecting
        },
        encrypted: spec.key.is_some(),
        mac: spec.mac.clone(),
        name: None,
        esphome_version: None,
        device_id: None,
        entities: 0,
        skipped: Vec::new(),
        error_kind: spec.wait_for_key.then_some(ErrorKind::EncryptionRequired),
        error: spec.wait_for_key.then(|| {
            "the device announces API encryption: add its key with `igloo esphome add HOST --key KEY`"
                .to_string()
        }),
        connects: 0,
        attempts: 0,
    }));
    let session = Session {
        provider,
        settings,
        routes,
        on_mac,
        endpoint: spec.endpoint,
        key: spec.key,
        status: status.clone(),
        device: None,
        tx: tx.clone(),
    };
    tokio::spawn(session.run(rx, spec.wait_for_key));
    Handle { tx, status }
}

struct Session {
    provider: Provider,
    settings: Arc<Settings>,
    routes: Routes,
    on_mac: OnMac,
    endpoint: Endpoint,
    key: Option<Psk>,
    status: Arc<Mutex<Status>>,
    device: Option<DeviceId>,
    tx: mpsc::Sender<Command>,
}

/// How a connection ended.
enum End {
    /// Stop was asked: the session ends.
    Stopped,
    /// The connection ended; `served` when it got as far as states.
    Lost { failure: Failure, served: bool },
    /// A new key or address arrived: reconnect at once.
    Restart,
}

type Conn = Framed<TcpStream, ApiCodec>;

fn backoff(max: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(RECONNECT_MIN)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

impl Session {
    fn set_status(&self, f: impl FnOnce(&mut Status)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    fn name(&self) -> String {
        self.status
            .lock()
            .ok()
            .and_then(|s| s.name.clone())
            .unwrap_or_else(|| self.endpoint.to_string())
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>, mut waiting: bool) {
        let mut delays = backoff(self.settings.reconnect_max);
        let mut last_kind: Option<ErrorKind> = None;
        let mut last_message: Option<String> = None;
        loop {
            if !waiting {
                self.set_status(|s| {
                    s.state = State::Connecting;
                    s.attempts += 1;
                });
                let end = self.connect_and_serve(&mut rx).await;
                if let Some(id) = self.device
                    && self.provider.set_available(id, false).await.is_err()
                {
                    // The core is gone: the provider is exiting.
                    self.finish();
                    return;
                }
                let failure = match end {
                    End::Stopped => break,
                    End::Restart => {
                        delays = backoff(self.settings.reconnect_max);
                        continue;
                    }
                    End::Lost { failure, served } => {
                        if served {
                            delays = backoff(self.settings.reconnect_max);
                            last_message = None;
                        }
                        failure
                    }
                };
                // Log a failure when it differs from the last one, not every attempt.
                if last_message.as_deref() != Some(failure.message.as_str()) {
                    tracing::warn!(device = %self.name(), address = %self.endpoint, "{}", failure.message);
                } else {
                    tracing::debug!(device = %self.name(), address = %self.endpoint, "{}", failure.message);
                }
                last_kind = Some(failure.kind);
                last_message = Some(failure.message.clone());
                self.set_status(|s| {
                    s.state = State::Disconnected;
                    s.error_kind = Some(failure.kind);
                    s.error = Some(failure.message.clone());
                });
            }
            let kind = last_kind;
            let delay = if waiting || kind.is_some_and(ErrorKind::is_key_problem) {
                self.settings.reconnect_max
            } else {
                delays.next().unwrap_or(self.settings.reconnect_max)
            };
            let deadline = Instant::now() + delay;
            loop {
                let cmd = tokio::select! {
                    _ = tokio::time::sleep_until(deadline), if !waiting => break,
                    cmd = rx.recv() => cmd,
                };
                match cmd {
                    None | Some(Command::Stop) => {
                        self.finish();
                        return;
                    }
                    Some(Command::SetKey(key)) => {
                        self.key = key;
                        waiting = false;
                        self.set_status(|s| s.encrypted = self.key.is_some());
                        delays = backoff(self.settings.reconnect_max);
                        break;
                    }
                    Some(Command::Seen(ep)) => {
                        self.endpoint = ep;
                        self.set_status(|s| s.address = self.endpoint.to_string());
                        if !waiting && !kind.is_some_and(ErrorKind::is_key_problem) {
                            break;
                        }
                    }
                    Some(Command::Change { entity, .. }) => {
                        tracing::warn!(
                            device = %self.name(),
                            entity,
                            "change request dropped: the device is not connected"
                        );
                    }
                }
            }
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.set_status(|s| s.state = State::Stopped);
        if let (Some(id), Ok(mut routes)) = (self.device, self.routes.lock()) {
            routes.remove(&id);
        }
    }

    /// One connection from TCP connect to its end.
    async fn connect_and_serve(&mut self, rx: &mut mpsc::Receiver<Command>) -> End {
        let limit = self.settings.connect_timeout;
        let login = timeout(limit, self.login());
        // Commands that arrive during login wait in the channel, except Stop.
        let (mut conn, device_info) = match login.await {
            Err(_) => {
                return End::Lost {
                    failure: Failure::new(
                        ErrorKind::Timeout,
                        format!(
                            "connecting and logging in took more than {} s",
                            limit.as_secs()
                        ),
                    ),
                    served: false,
                };
            }
            Ok(Err(failure)) => {
                return End::Lost {
                    failure,
                    served: false,
                };
            }
            Ok(Ok(v)) => v,
        };
        match self.mirror(&mut conn, device_info).await {
            Ok(entities) => self.serve(conn, entities, rx).await,
            Err(failure) => End::Lost {
                failure,
                served: false,
            },
        }
    }

    /// TCP, handshake, Hello and DeviceInfo.
    async fn login(&mut self) -> Result<(Conn, proto::DeviceInfoResponse), Failure> {
        let address = self.endpoint.to_string();
        let mut tcp = TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Unreachable,
                    format!("cannot connect to {address}: {e}"),
                )
            })?;
        let _ = tcp.set_nodelay(true);
        let framing = match &self.key {
            Some(psk) => {
                let (transport, _hello) = noise::handshake(&mut tcp, psk).await?;
                Framing::Noise(Box::new(transport))
            }
            None => Framing::Plaintext,
        };
        let mut conn = Framed::new(tcp, ApiCodec::new(framing));
        send(
            &mut conn,
            &proto::HelloRequest {
                client_info: format!("igloo-esphome {}", env!("CARGO_PKG_VERSION")),
                api_version_major: API_VERSION.0,
                api_version_minor: API_VERSION.1,
                ..Default::default()
            },
        )
        .await?;
        let hello = match expect(&mut conn, |m| match m {
            Incoming::HelloResponse(h) => Some(std::mem::take(h)),
            _ => None,
        })
        .await
        {
            Err(f) if f.kind == ErrorKind::Closed && self.key.is_none() => {
                // Older encrypted firmware closes on a plaintext hello without a reject frame.
                return Err(Failure::new(
                    f.kind,
                    format!(
                        "{} (if the device has an API encryption key, add it)",
                        f.message
                    ),
                ));
            }
            other => other?,
        };
        if hello.api_version_major != API_VERSION.0 {
            return Err(Failure::new(
                ErrorKind::Protocol,
                format!(
                    "the device speaks native API {}.{}; this client speaks {}.x",
                    hello.api_version_major, hello.api_version_minor, API_VERSION.0
                ),
            ));
        }
        send(&mut conn, &proto::DeviceInfoRequest::default()).await?;
        let info = expect(&mut conn, |m| match m {
            Incoming::DeviceInfoResponse(d) => Some(std::mem::take(d)),
            _ => None,
        })
        .await?;
        Ok((conn, info))
    }

    /// Creates the device, lists and registers its entities, subscribes to states.
    async fn mirror(
        &mut self,
        conn: &mut Conn,
        info: proto::DeviceInfoResponse,
    ) -> Result<Entities, Failure> {
        let mac = crate::mac::normalize(&info.mac_address);
        let key = match &mac {
            Some(m) => m.clone(),
            None => {
                tracing::warn!(
                    address = %self.endpoint,
                    mac = info.mac_address,
                    "the device reports no valid MAC; keying it by address"
                );
                format!("esphome:{}", self.endpoint)
            }
        };
        if let Some(m) = &mac {
            (self.on_mac)(&self.endpoint, m);
        }
        let label = if info.friendly_name.is_empty() {
            info.name.clone()
        } else {
            info.friendly_name.clone()
        };
        let mut attributes = vec![
            ("host".to_string(), self.endpoint.to_string()),
            ("encrypted".to_string(), self.key.is_some().to_string()),
        ];
        for (k, v) in [
            ("mac", mac.clone().unwrap_or_default()),
            ("node_name", info.name.clone()),
            ("model", info.model.clone()),
            ("manufacturer", info.manufacturer.clone()),
            ("esphome_version", info.esphome_version.clone()),
            ("project_name", info.project_name.clone()),
            ("project_version", info.project_version.clone()),
            ("suggested_area", info.suggested_area.clone()),
        ] {
            if !v.is_empty() {
                attributes.push((k.to_string(), v));
            }
        }
        let device = self
            .provider
            .create_device(&key, &label, attributes)
            .await
            .map_err(|e| {
                Failure::new(
                    ErrorKind::Closed,
                    format!("the core refused the device: {e}"),
                )
            })?;
        if self.device != Some(device) {
            if let Ok(mut routes) = self.routes.lock() {
                routes.insert(device, self.tx.clone());
            }
            self.device = Some(device);
        }
        self.set_status(|s| {
            s.mac = mac.clone();
            s.name = Some(info.name.clone());
            s.esphome_version = Some(info.esphome_version.clone());
            s.device_id = Some(device);
        });

        send(conn, &proto::ListEntitiesRequest::default()).await?;
        let mut listed: Vec<EntityInfo> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        loop {
            let frame = next_frame(conn).await?;
            let msg = decode(&frame)?;
            match msg {
                Incoming::ListEntitiesDone => break,
                Incoming::PingRequest => send(conn, &proto::PingResponse::default()).await?,
                Incoming::GetTimeRequest => send(conn, &time_now()).await?,
                Incoming::Other(id) => {
                    if let Some(domain) = proto::unsupported_entity_type(id) {
                        tracing::warn!(
                            device = %label,
                            "skipping a {domain} entity: this provider does not map {domain} entities yet"
                        );
                        skipped.push(domain.to_string());
                    } else {
                        tracing::debug!(device = %label, msg_type = id, "ignoring message during entity listing");
                    }
                }
                other => match entities::entity_info(&other) {
                    Some(e) => listed.push(e),
                    None => {
                        tracing::debug!(device = %label, "ignoring {:?} during entity listing", kind_name(&other))
                    }
                },
            }
        }

        let mut by_key: HashMap<u32, (EntityId, EntityInfo)> = HashMap::new();
        let mut by_id: HashMap<EntityId, u32> = HashMap::new();
        let mut names: HashMap<String, usize> = HashMap::new();
        for e in listed {
            let mut name = e.name.clone();
            if names.contains_key(&name) {
                name = format!("{} ({})", e.name, e.object_id);
            }
            *names.entry(name.clone()).or_default() += 1;
            let id = self
                .provider
                .register_entity(device, &name, e.attributes.clone())
                .await
                .map_err(|e| Failure::new(ErrorKind::Closed, format!("core connection: {e}")))?;
            if !e.markers.is_empty() {
                self.provider
                    .write(device, id, e.markers.clone())
                    .await
                    .map_err(|e| {
                        Failure::new(ErrorKind::Closed, format!("core connection: {e}"))
                    })?;
            }
            by_id.insert(id, e.key);
            by_key.insert(e.key, (id, e));
        }
        let count = by_key.len();
        send(conn, &proto::SubscribeStatesRequest::default()).await?;
        self.provider
            .set_available(device, true)
            .await
            .map_err(|e| Failure::new(ErrorKind::Closed, format!("core connection: {e}")))?;
        self.set_status(|s| {
            s.state = State::Connected;
            s.entities = count;
            s.skipped = skipped;
            s.connects += 1;
            s.error = None;
            s.error_kind = None;
        });
        tracing::info!(
            device = %label,
            address = %self.endpoint,
            entities = count,
            encrypted = self.key.is_some(),
            "connected"
        );
        Ok(Entities {
            device,
            by_key,
            by_id,
        })
    }

    /// Streams states until the connection ends.
    async fn serve(
        &mut self,
        mut conn: Conn,
        entities: Entities,
        rx: &mut mpsc::Receiver<Command>,
    ) -> End {
        let keepalive = self.settings.keepalive;
        let silence_limit = keepalive.mul_f64(KEEPALIVE_TIMEOUT_RATIO);
        let mut last_rx = Instant::now();
        let mut last_tx = Instant::now();
        let mut tick = tokio::time::interval(
            keepalive
                .min(Duration::from_secs(1))
                .max(Duration::from_millis(100)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let lost = |failure: Failure| End::Lost {
            failure,
            served: true,
        };
        loop {
            tokio::select! {
                frame = conn.next() => {
                    let frame = match frame {
                        None => return lost(Failure::new(ErrorKind::Closed, "the device closed the connection")),
                        Some(Err(e)) => return lost(e.into()),
                        Some(Ok(f)) => f,
                    };
                    last_rx = Instant::now();
                    let msg = match decode(&frame) {
                        Ok(m) => m,
                        Err(f) => return lost(f),
                    };
                    let reply = match &msg {
                        Incoming::PingRequest => Some(Outgoing::encode(&proto::PingResponse::default())),
                        Incoming::GetTimeRequest => Some(Outgoing::encode(&time_now())),
                        Incoming::DisconnectRequest(_) => {
                            let _ = conn.send(Outgoing::encode(&proto::DisconnectResponse::default())).await;
                            return lost(Failure::new(ErrorKind::Closed, "the device disconnected (rebooting or shutting down)"));
                        }
                        _ => None,
                    };
                    if let Some(out) = reply {
                        if let Err(e) = conn.send(out).await {
                            return lost(e.into());
                        }
                        last_tx = Instant::now();
                        continue;
                    }
                    if let Some(key) = entities::state_key(&msg) {
                        let Some((id, info)) = entities.by_key.get(&key) else {
                            tracing::debug!(device = %self.name(), key, "state for an unknown entity key");
                            continue;
                        };
                        let values = entities::state(info, &msg);
                        if !values.is_empty() && self.provider.write(entities.device, *id, values).await.is_err() {
                            return End::Stopped;
                        }
                    }
                }
                cmd = rx.recv() => match cmd {
                    None | Some(Command::Stop) => {
                        disconnect(&mut conn).await;
                        return End::Stopped;
                    }
                    Some(Command::SetKey(key)) => {
                        let changed = key != self.key;
                        self.key = key;
                        self.set_status(|s| s.encrypted = self.key.is_some());
                        if changed {
                            disconnect(&mut conn).await;
                            return End::Restart;
                        }
                    }
                    Some(Command::Seen(ep)) => {
                        if ep != self.endpoint {
                            tracing::info!(device = %self.name(), from = %self.endpoint, to = %ep, "the device moved");
                            self.endpoint = ep;
                            self.set_status(|s| s.address = self.endpoint.to_string());
                        }
                    }
                    Some(Command::Change { entity, values }) => {
                        let Some(info) = entities.by_id.get(&entity).and_then(|k| entities.by_key.get(k)).map(|(_, i)| i) else {
                            tracing::warn!(device = %self.name(), entity, "change request for an unknown entity");
                            continue;
                        };
                        match entities::command(info, &values) {
                            Ok(messages) => {
                                for m in messages {
                                    if let Err(e) = conn.feed(m).await {
                                        return lost(e.into());
                                    }
                                }
                                if let Err(e) = conn.flush().await {
                                    return lost(e.into());
                                }
                                last_tx = Instant::now();
                            }
                            Err(e) => tracing::warn!(device = %self.name(), entity = info.name, "change request refused: {e}"),
                        }
                    }
                },
                _ = tick.tick() => {
                    if last_rx.elapsed() > silence_limit {
                        return lost(Failure::new(ErrorKind::Timeout, format!(
                            "no data from the device for {:.0} s (keep-alive)", silence_limit.as_secs_f64()
                        )));
                    }
                    if last_rx.elapsed() >= keepalive && last_tx.elapsed() >= keepalive {
                        if let Err(e) = conn.send(Outgoing::encode(&proto::PingRequest::default())).await {
                            return lost(e.into());
                        }
                        last_tx = Instant::now();
                    }
                }
            }
        }
    }
}

/// The mirrored entities of one connection.
struct Entities {
    device: DeviceId,
    by_key: HashMap<u32, (EntityId, EntityInfo)>,
    by_id: HashMap<EntityId, u32>,
}

fn time_now() -> proto::GetTimeResponse {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    proto::GetTimeResponse {
        epoch_seconds: u32::try_from(secs).unwrap_or(u32::MAX),
    }
}

fn kind_name(m: &Incoming) -> String {
    let text = format!("{m:?}");
    text.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

async fn send<M: ApiMessage>(conn: &mut Conn, m: &M) -> Result<(), Failure> {
    conn.send(Outgoing::encode(m)).await.map_err(Failure::from)
}

async fn next_frame(conn: &mut Conn) -> Result<Frame, Failure> {
    match conn.next().await {
        Some(Ok(f)) => Ok(f),
        Some(Err(e)) => Err(e.into()),
        None => Err(Failure::new(
            ErrorKind::Closed,
            "the device closed the connection during login",
        )),
    }
}

fn decode(frame: &Frame) -> Result<Incoming, Failure> {
    proto::decode(frame.msg_type, &frame.payload).map_err(|e| {
        Failure::new(
            ErrorKind::Protocol,
            format!(
                "undecodable {} (message type {}): {e}",
                proto::message_name(frame.msg_type).unwrap_or("message"),
                frame.msg_type
            ),
        )
    })
}

/// Reads until `pick` takes a message (returns `Some`), answering pings
/// and time requests meanwhile.
async fn expect<T>(
    conn: &mut Conn,
    pick: impl Fn(&mut Incoming) -> Option<T>,
) -> Result<T, Failure> {
    loop {
        let frame = next_frame(conn).await?;
        let mut msg = decode(&frame)?;
        if let Some(v) = pick(&mut msg) {
            return Ok(v);
        }
        match msg {
            Incoming::PingRequest => send(conn, &proto::PingResponse::default()).await?,
            Incoming::GetTimeRequest => send(conn, &time_now()).await?,
            Incoming::DisconnectRequest(_) => {
                return Err(Failure::new(
                    ErrorKind::Closed,
                    "the device disconnected during login",
                ));
            }
            _ => {}
        }
    }
}

/// DisconnectRequest, then wait up to 1 s for the answer.
async fn disconnect(conn: &mut Conn) {
    if send(conn, &proto::DisconnectRequest::default())
        .await
        .is_err()
    {
        return;
    }
    let _ = timeout(Duration::from_secs(1), async {
        while let Some(Ok(f)) = conn.next().await {
            if matches!(decode(&f), Ok(Incoming::DisconnectResponse)) {
                break;
            }
        }
    })
    .await;
}
