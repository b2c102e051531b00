//! The provider's main loop: starts a line when the core grants its port,
//! stops it when the grant is revoked (the adapter was unplugged), routes
//! change requests to Modbus lines, and answers `serial.status`.
//!
//! A grant carries the index of the `[[provider.grant]]` rule that matched
//! (attribute `rule`); the line configured with `grant = <index>` takes it.
//! The port's identity in device keys is its USB serial number (with
//! VID:PID) when it has one, so keys survive a different `ttyUSB*` number;
//! otherwise its kernel name.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use igloo_provider::protocol::message::ErrorCode;
use igloo_provider::{DeviceId, Event, Events, GrantedDevice, Provider, SdkError};
use serde_json::json;
use tokio::sync::mpsc;

use crate::config::Settings;
use crate::modbus::line::{self as modbus_line, DeviceHealth};
use crate::p1::{self, P1Health};

/// Custom command: every line's counters (the name is shared with the core
/// through [`igloo_provider::protocol::commands`]).
pub use igloo_provider::protocol::commands::serial::STATUS;

enum Running {
    Modbus {
        /// Dropping it (and the routes' copies) ends the line.
        _tx: mpsc::Sender<modbus_line::Command>,
        grant: usize,
        port: String,
        health: Arc<Mutex<Vec<DeviceHealth>>>,
    },
    P1 {
        _stop: mpsc::Sender<()>,
        grant: usize,
        health: Arc<Mutex<P1Health>>,
    },
}

/// The port's identity for device keys.
fn port_id(g: &GrantedDevice) -> String {
    match (
        g.attribute("vid"),
        g.attribute("pid"),
        g.attribute("serial"),
    ) {
        (Some(v), Some(p), Some(s)) => format!("{v}:{p}:{s}"),
        _ => g.name.clone(),
    }
}

/// Runs until the core closes the connection.
///
/// # Errors
/// The connection to the core failed while replying.
pub async fn run(
    provider: Provider,
    mut events: Events,
    settings: Settings,
) -> Result<(), SdkError> {
    let routes: modbus_line::Routes = Arc::new(Mutex::new(HashMap::new()));
    let mut running: HashMap<u32, Running> = HashMap::new();
    while let Some(event) = events.next().await {
        match event {
            Event::Granted(g) => {
                let rule = g.attribute("rule").and_then(|r| r.parse::<usize>().ok());
                let Some(rule) = rule else {
                    tracing::warn!(port = g.name, "granted without a rule index; ignored");
                    continue;
                };
                let id = port_id(&g);
                if let Some(line) = settings.modbus.iter().find(|l| l.grant == rule) {
                    tracing::info!(port = g.name, line = %line.line, devices = line.devices.len(), "Modbus line started");
                    let health = Arc::new(Mutex::new(
                        line.devices
                            .iter()
                            .map(|d| DeviceHealth {
                                unit: d.unit,
                                name: d.name.clone(),
                                ..Default::default()
                            })
                            .collect::<Vec<_>>(),
                    ));
                    let (tx, rx) = mpsc::channel(64);
                    running.insert(
                        g.grant,
                        Running::Modbus {
                            _tx: tx.clone(),
                            grant: rule,
                            port: g.name.clone(),
                            health: health.clone(),
                        },
                    );
                    tokio::spawn(modbus_line::run(
                        provider.clone(),
                        line.clone(),
                        g,
                        id,
                        rx,
                        modbus_line::Links {
                            health,
                            routes: routes.clone(),
                            me: tx,
                        },
                    ));
                } else if let Some(line) = settings.p1.iter().find(|l| l.grant == rule) {
                    tracing::info!(port = g.name, line = %line.line, "P1 port started");
                    let health = Arc::new(Mutex::new(P1Health {
                        port: g.name.clone(),
                        line: line.line.to_string(),
                        ..Default::default()
                    }));
                    let (stop, rx) = mpsc::channel(1);
                    running.insert(
                        g.grant,
                        Running::P1 {
                            _stop: stop,
                            grant: rule,
                            health: health.clone(),
                        },
                    );
                    tokio::spawn(p1::run(provider.clone(), line.clone(), g, id, rx, health));
                } else {
                    tracing::warn!(
                        port = g.name,
                        rule,
                        "granted a port no line is configured for (grant = {rule})"
                    );
                }
            }
            Event::Revoked { grant, reason } => {
                if let Some(r) = running.remove(&grant) {
                    tracing::warn!(grant, "port revoked ({reason}): line stopped");
                    if let Running::Modbus { health, .. } = &r {
                        let ids: Vec<DeviceId> = health
                            .lock()
                            .map(|h| h.iter().filter_map(|d| d.device_id).collect())
                            .unwrap_or_default();
                        for id in ids {
                            if let Ok(mut routes) = routes.lock() {
                                routes.remove(&id);
                            }
                            provider.set_available(id, false).await?;
                        }
                    }
                    if let Running::P1 { health, .. } = &r
                        && let Some(id) = health.lock().ok().and_then(|h| h.device_id)
                    {
                        provider.set_available(id, false).await?;
                    }
                }
            }
            Event::Change {
                device,
                entity,
                values,
            } => {
                let tx = routes.lock().ok().and_then(|r| r.get(&device).cloned());
                match tx {
                    Some(tx) => {
                        let _ = tx
                            .send(modbus_line::Command::Change {
                                device,
                                entity,
                                values,
                            })
                            .await;
                    }
                    None => {
                        tracing::warn!(device = %device, "change request for a device that cannot be written (read-only meter, or its port is not granted)")
                    }
                }
            }
            Event::Custom {
                request_id,
                command,
                ..
            } => {
                if command == STATUS {
                    provider
                        .reply_custom(request_id, status_json(&running))
                        .await?;
                } else {
                    provider
                        .reply_error(
                            request_id,
                            ErrorCode::UNSUPPORTED,
                            format!("igloo-serial has no command {command:?}; supported: {STATUS}"),
                        )
                        .await?;
                }
            }
            Event::Error { code, message } => {
                tracing::warn!(code = code.0, "core reported: {message}")
            }
            _ => {}
        }
    }
    Ok(())
}

fn status_json(running: &HashMap<u32, Running>) -> String {
    let mut modbus = Vec::new();
    let mut p1 = Vec::new();
    for r in running.values() {
        match r {
            Running::Modbus {
                grant,
                port,
                health,
                ..
            } => {
                let devices = health.lock().map(|h| h.clone()).unwrap_or_default();
                modbus.push(json!({"grant": grant, "port": port, "devices": devices}));
            }
            Running::P1 { grant, health, .. } => {
                let h = health.lock().map(|h| h.clone()).unwrap_or_default();
                p1.push(json!({"grant": grant, "status": h}));
            }
        }
    }
    json!({"modbus": modbus, "p1": p1}).to_string()
}
