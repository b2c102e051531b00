//! The provider's main loop: one session per device, change requests routed
//! to them, mDNS announcements matched to devices, and the custom commands.
//!
//! Custom commands (`igloo command esphome NAME JSON`, or `igloo esphome …`):
//! - [`ADD`] `{"host": "10.0.0.5", "port": 6053, "key": "base64…"}` (port and
//!   key optional): adds a device by address, or gives a key to a known one
//!   (e.g. one mDNS found that waits for its key). Stored in the data dir
//!   (see [`crate::store`]). Replies with the device's status.
//! - [`REMOVE`] `{"host": "10.0.0.5", "port": 6053}`: disconnects and
//!   forgets a device added by address.
//! - [`STATUS`]: `{"devices": [status…]}` (see [`crate::session::Status`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use igloo_provider::protocol::message::ErrorCode;
use igloo_provider::{Event, Events, Provider, SdkError};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::api::noise::Psk;
use crate::config::{DEFAULT_PORT, Endpoint, Settings};
use crate::discovery::Discovered;
use crate::session::{self, Command, Handle, Routes, Source, Spec};
use crate::store::{Store, StoredDevice};

/// The custom command names, shared with the core's `igloo esphome` CLI
/// through [`igloo_provider::protocol::commands`].
pub use igloo_provider::protocol::commands::esphome::{ADD, REMOVE, STATUS};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    host: String,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveArgs {
    host: String,
    #[serde(default)]
    port: Option<u16>,
}

/// The running provider.
pub struct Manager {
    provider: Provider,
    settings: Arc<Settings>,
    store: Arc<Mutex<Store>>,
    routes: Routes,
    sessions: BTreeMap<Endpoint, Handle>,
}

impl Manager {
    /// Loads the stored devices and starts a session for each configured and
    /// stored device.
    pub fn start(provider: Provider, settings: Settings, data_dir: &Path) -> Manager {
        let (store, note) = Store::load(data_dir);
        if let Some(note) = note {
            tracing::error!("{note}");
        }
        let mut m = Manager {
            provider,
            settings: Arc::new(settings),
            store: Arc::new(Mutex::new(store)),
            routes: Arc::new(Mutex::new(Default::default())),
            sessions: BTreeMap::new(),
        };
        for d in m.settings.devices.clone() {
            m.spawn(Spec {
                endpoint: d.endpoint,
                key: d.key,
                source: Source::Config,
                wait_for_key: false,
                mac: None,
            });
        }
        let stored: Vec<StoredDevice> = m
            .store
            .lock()
            .map(|s| s.devices().to_vec())
            .unwrap_or_default();
        for d in stored {
            if m.sessions.contains_key(&d.endpoint()) {
                continue;
            }
            let key = match d.psk() {
                Ok(k) => k,
                Err(e) => {
                    tracing::error!(address = %d.endpoint(), "stored key unusable: {e}");
                    None
                }
            };
            m.spawn(Spec {
                endpoint: d.endpoint(),
                key,
                source: Source::Added,
                wait_for_key: false,
                mac: d.mac.clone(),
            });
        }
        m
    }

    fn spawn(&mut self, spec: Spec) -> Handle {
        let store = self.store.clone();
        let on_mac: session::OnMac = Arc::new(move |ep: &Endpoint, mac: &str| {
            if let Ok(mut s) = store.lock()
                && let Err(e) = s.set_mac(ep, mac)
            {
                tracing::warn!(address = %ep, "cannot store the device's MAC: {e}");
            }
        });
        let endpoint = spec.endpoint.clone();
        let handle = session::spawn(
            self.provider.clone(),
            self.settings.clone(),
            self.routes.clone(),
            on_mac,
            spec,
        );
        self.sessions.insert(endpoint, handle.clone());
        handle
    }

    /// Runs until the core closes the connection or `shutdown` completes
    /// (SIGTERM), then disconnects every device cleanly.
    ///
    /// # Errors
    /// The connection to the core failed while replying.
    pub async fn run(
        mut self,
        mut events: Events,
        mut discovered: mpsc::Receiver<Discovered>,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), SdkError> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => {
                    tracing::info!("stopping: disconnecting from the devices");
                    break;
                }
                event = events.next() => match event {
                    None => break,
                    Some(e) => self.on_event(e).await?,
                },
                Some(d) = discovered.recv() => self.on_discovered(d).await,
            }
        }
        // Disconnect cleanly (DisconnectRequest to each device), for at most 2 s.
        for h in self.sessions.values() {
            let _ = h.tx.send(Command::Stop).await;
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        while tokio::time::Instant::now() < deadline
            && self.sessions.values().any(|h| {
                h.status
                    .lock()
                    .map(|s| s.state != session::State::Stopped)
                    .unwrap_or(false)
            })
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(())
    }

    async fn on_event(&mut self, event: Event) -> Result<(), SdkError> {
        match event {
            Event::Change {
                device,
                entity,
                values,
            } => {
                let tx = self
                    .routes
                    .lock()
                    .ok()
                    .and_then(|r| r.get(&device).cloned());
                match tx {
                    Some(tx) => {
                        let _ = tx.send(Command::Change { entity, values }).await;
                    }
                    None => {
                        tracing::warn!(device = %device, "change request for a device this provider does not serve")
                    }
                }
                Ok(())
            }
            Event::Custom {
                request_id,
                command,
                body,
            } => {
                let reply = match command.as_str() {
                    ADD => self.add(&body).await,
                    REMOVE => self.remove(&body).await,
                    STATUS => Ok(self.status_json()),
                    other => Err((
                        ErrorCode::UNSUPPORTED,
                        format!(
                            "igloo-esphome has no command {other:?}; supported: {ADD}, {REMOVE}, {STATUS}"
                        ),
                    )),
                };
                match reply {
                    Ok(body) => self.provider.reply_custom(request_id, body).await,
                    Err((code, message)) => {
                        self.provider.reply_error(request_id, code, message).await
                    }
                }
            }
            Event::Error { code, message } => {
                tracing::warn!(code = code.0, "core reported: {message}");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn status_json(&self) -> String {
        let devices: Vec<serde_json::Value> = self
            .sessions
            .values()
            .filter_map(|h| h.status.lock().ok().map(|s| json!(*s)))
            .collect();
        json!({ "devices": devices }).to_string()
    }

    fn find_by_mac(&self, mac: &str) -> Option<(&Endpoint, &Handle)> {
        self.sessions.iter().find(|(_, h)| {
            h.status
                .lock()
                .map(|s| s.mac.as_deref() == Some(mac))
                .unwrap_or(false)
        })
    }

    async fn add(&mut self, body: &str) -> Result<String, (ErrorCode, String)> {
        let args: AddArgs = serde_json::from_str(body).map_err(|e| {
            (
                ErrorCode::INVALID,
                format!("{ADD} takes {{\"host\": …, \"port\": …, \"key\": …}}: {e}"),
            )
        })?;
        let endpoint = Endpoint::new(&args.host, args.port.unwrap_or(DEFAULT_PORT))
            .map_err(|e| (ErrorCode::INVALID, e))?;
        let key: Option<Psk> = args
            .key
            .as_deref()
            .map(Psk::from_base64)
            .transpose()
            .map_err(|e| (ErrorCode::INVALID, e))?;
        if let Some(c) = self
            .settings
            .devices
            .iter()
            .find(|d| d.endpoint == endpoint)
            && c.key.is_some()
        {
            return Err((
                ErrorCode::INVALID,
                format!("{endpoint} has its key in the config file; change it there"),
            ));
        }
        let mac = self
            .sessions
            .get(&endpoint)
            .and_then(|h| h.status.lock().ok().and_then(|s| s.mac.clone()));
        self.store
            .lock()
            .map_err(|_| (ErrorCode::INTERNAL, "store lock poisoned".to_string()))?
            .upsert(StoredDevice {
                host: endpoint.host.clone(),
                port: endpoint.port,
                key: key.as_ref().map(Psk::to_base64),
                mac,
            })
            .map_err(|e| {
                (
                    ErrorCode::INTERNAL,
                    format!("cannot store the device in the data dir: {e}"),
                )
            })?;
        let handle = match self.sessions.get(&endpoint) {
            Some(h) => {
                let _ = h.tx.send(Command::SetKey(key.clone())).await;
                h.clone()
            }
            None => self.spawn(Spec {
                endpoint: endpoint.clone(),
                key: key.clone(),
                source: Source::Added,
                wait_for_key: false,
                mac: None,
            }),
        };
        tracing::info!(address = %endpoint, encrypted = key.is_some(), "device added");
        let status = handle.status.lock().map(|s| json!(*s)).unwrap_or_default();
        Ok(status.to_string())
    }

    async fn remove(&mut self, body: &str) -> Result<String, (ErrorCode, String)> {
        let args: RemoveArgs = serde_json::from_str(body).map_err(|e| {
            (
                ErrorCode::INVALID,
                format!("{REMOVE} takes {{\"host\": …, \"port\": …}}: {e}"),
            )
        })?;
        let endpoint = Endpoint::new(&args.host, args.port.unwrap_or(DEFAULT_PORT))
            .map_err(|e| (ErrorCode::INVALID, e))?;
        if self.settings.devices.iter().any(|d| d.endpoint == endpoint) {
            return Err((
                ErrorCode::INVALID,
                format!("{endpoint} is listed in the config file; remove it there"),
            ));
        }
        let stored = self
            .store
            .lock()
            .map_err(|_| (ErrorCode::INTERNAL, "store lock poisoned".to_string()))?
            .remove(&endpoint)
            .map_err(|e| {
                (
                    ErrorCode::INTERNAL,
                    format!("cannot update the data dir: {e}"),
                )
            })?;
        let running = self.sessions.remove(&endpoint);
        if let Some(h) = &running {
            let _ = h.tx.send(Command::Stop).await;
        }
        if !stored && running.is_none() {
            return Err((
                ErrorCode::UNKNOWN_DEVICE,
                format!("no device at {endpoint}"),
            ));
        }
        Ok(json!({ "removed": endpoint.to_string() }).to_string())
    }

    async fn on_discovered(&mut self, d: Discovered) {
        let endpoint = Endpoint {
            host: d.address.to_string(),
            port: d.port,
        };
        let known = d
            .mac
            .as_deref()
            .and_then(|m| self.find_by_mac(m))
            .map(|(ep, h)| (ep.clone(), h.clone()))
            .or_else(|| {
                self.sessions
                    .get(&endpoint)
                    .map(|h| (endpoint.clone(), h.clone()))
            });
        if let Some((_, h)) = known {
            let _ = h.tx.send(Command::Seen(endpoint)).await;
            return;
        }
        // A key stored for this MAC (the device moved since it was added).
        let stored_key = d.mac.as_deref().and_then(|mac| {
            self.store.lock().ok().and_then(|s| {
                s.devices()
                    .iter()
                    .find(|x| x.mac.as_deref() == Some(mac))
                    .and_then(|x| x.psk().ok().flatten())
            })
        });
        let wait_for_key = d.encrypted && stored_key.is_none();
        tracing::info!(
            instance = d.instance,
            address = %endpoint,
            encrypted = d.encrypted,
            "discovered{}",
            if wait_for_key {
                "; it needs its API encryption key: igloo esphome add HOST --key KEY"
            } else {
                ""
            }
        );
        self.spawn(Spec {
            endpoint,
            key: stored_key,
            source: Source::Mdns,
            wait_for_key,
            mac: d.mac,
        });
    }
}
