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
//!
//! Layout: this module runs the device's life across connections (attempts,
//! back-off, the wait between attempts); `login` connects, logs in and
//! mirrors; `connected` serves a logged-in connection, one event at a time;
//! `wire` holds the message helpers both use (the ping and time answers
//! among them); `status` what the session reports.

mod connected;
mod login;
mod status;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use igloo_provider::protocol::Component;
use igloo_provider::{DeviceId, EntityId, Provider};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use crate::api::noise::Psk;
use crate::config::{Endpoint, Settings};
use connected::Connected;

pub use status::{ErrorKind, Failure, Source, State, Status};

/// The API version this client speaks (ESPHome 2026.x devices report 1.14;
/// any minor of major 1 is accepted).
pub const API_VERSION: (u32, u32) = (1, 14);

/// Silence longer than `keepalive` × this ends the connection (aioesphomeapi).
const KEEPALIVE_TIMEOUT_RATIO: f64 = 4.5;

/// Shortest wait before a reconnect.
const RECONNECT_MIN: Duration = Duration::from_millis(250);

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
        last_error_kind: None,
        last_error: None,
        failures: 0,
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

/// One device's task: its connection settings and what it learnt so far.
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

/// The reconnect schedule between attempts.
struct Retry {
    /// The longest wait (`reconnect_max`), also the wait after a key problem.
    max: Duration,
    /// Exponential delays with jitter from [`RECONNECT_MIN`] up to `max`.
    delays: ExponentialBackoff,
    /// Waiting for a key (announced as encrypted by mDNS): no attempt until
    /// one arrives.
    waiting: bool,
    /// Class of the last failure.
    last_kind: Option<ErrorKind>,
    /// The last failure logged at warn, so a repeat is logged at debug.
    last_message: Option<String>,
}

impl Retry {
    fn new(max: Duration, waiting: bool) -> Retry {
        Retry {
            max,
            delays: backoff(max),
            waiting,
            last_kind: None,
            last_message: None,
        }
    }

    /// Starts the delays over from [`RECONNECT_MIN`].
    fn reset(&mut self) {
        self.delays = backoff(self.max);
    }

    fn key_problem(&self) -> bool {
        self.last_kind.is_some_and(ErrorKind::is_key_problem)
    }

    /// How long to wait before the next attempt: `max` while waiting for a
    /// key or after a key problem, else the next back-off delay.
    fn next_delay(&mut self) -> Duration {
        if self.waiting || self.key_problem() {
            self.max
        } else {
            self.delays.next().unwrap_or(self.max)
        }
    }
}

fn backoff(max: Duration) -> ExponentialBackoff {
    ExponentialBuilder::default()
        .with_min_delay(RECONNECT_MIN)
        .with_max_delay(max)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

/// What a command did while no connection is up.
enum Between {
    /// Keep waiting.
    Wait,
    /// Attempt a connection now.
    Connect,
    /// End the session.
    Stop,
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

    /// Uses `key` from now on; `true` when it differs from the one in use.
    fn set_key(&mut self, key: Option<Psk>) -> bool {
        let changed = key != self.key;
        self.key = key;
        self.set_status(|s| s.encrypted = self.key.is_some());
        changed
    }

    /// Uses `endpoint` from the next connection on.
    fn set_endpoint(&mut self, endpoint: Endpoint) {
        self.endpoint = endpoint;
        self.set_status(|s| s.address = self.endpoint.to_string());
    }

    /// The session's life: attempt, wait, attempt again, until stopped.
    async fn run(mut self, mut rx: mpsc::Receiver<Command>, waiting: bool) {
        let mut retry = Retry::new(self.settings.reconnect_max, waiting);
        loop {
            if !retry.waiting {
                self.set_status(|s| {
                    s.state = State::Connecting;
                    s.attempts += 1;
                });
                let end = self.connect_and_serve(&mut rx).await;
                if let Some(id) = self.device
                    && self.provider.set_available(id, false).await.is_err()
                {
                    // The core is gone: the provider is exiting.
                    break;
                }
                match end {
                    End::Stopped => break,
                    End::Restart => {
                        retry.reset();
                        continue;
                    }
                    End::Lost { failure, served } => self.record(&mut retry, &failure, served),
                }
            }
            if !self.wait(&mut rx, &mut retry).await {
                break;
            }
        }
        self.finish();
    }

    /// Logs a failure (at warn when it differs from the last one, not every
    /// attempt) and shows it in the status. A connection that `served`
    /// states starts the back-off over.
    fn record(&mut self, retry: &mut Retry, failure: &Failure, served: bool) {
        if served {
            retry.reset();
            retry.last_message = None;
        }
        if retry.last_message.as_deref() != Some(failure.message.as_str()) {
            tracing::warn!(device = %self.name(), address = %self.endpoint, "{}", failure.message);
        } else {
            tracing::debug!(device = %self.name(), address = %self.endpoint, "{}", failure.message);
        }
        retry.last_kind = Some(failure.kind);
        retry.last_message = Some(failure.message.clone());
        self.set_status(|s| {
            s.state = State::Disconnected;
            s.error_kind = Some(failure.kind);
            s.error = Some(failure.message.clone());
            s.last_error_kind = Some(failure.kind);
            s.last_error = Some(failure.message.clone());
            s.failures += 1;
        });
    }

    /// Waits for the next attempt (forever while waiting for a key), handling
    /// commands meanwhile. `false` when the session is to end.
    async fn wait(&mut self, rx: &mut mpsc::Receiver<Command>, retry: &mut Retry) -> bool {
        let deadline = Instant::now() + retry.next_delay();
        loop {
            let cmd = tokio::select! {
                _ = tokio::time::sleep_until(deadline), if !retry.waiting => return true,
                cmd = rx.recv() => cmd,
            };
            match self.on_command(cmd, retry) {
                Between::Wait => {}
                Between::Connect => return true,
                Between::Stop => return false,
            }
        }
    }

    /// A command while no connection is up (`None`: the manager is gone). A
    /// new key connects at once; so does a new address, unless a key is
    /// missing or wrong.
    fn on_command(&mut self, cmd: Option<Command>, retry: &mut Retry) -> Between {
        match cmd {
            None | Some(Command::Stop) => Between::Stop,
            Some(Command::SetKey(key)) => {
                self.set_key(key);
                retry.waiting = false;
                retry.reset();
                Between::Connect
            }
            Some(Command::Seen(ep)) => {
                self.set_endpoint(ep);
                if !retry.waiting && !retry.key_problem() {
                    Between::Connect
                } else {
                    Between::Wait
                }
            }
            Some(Command::Change { entity, .. }) => {
                tracing::warn!(
                    device = %self.name(),
                    entity,
                    "change request dropped: the device is not connected"
                );
                Between::Wait
            }
        }
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
            Ok(entities) => Connected::new(self, conn, entities).serve(rx).await,
            Err(failure) => End::Lost {
                failure,
                served: false,
            },
        }
    }
}
