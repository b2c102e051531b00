//! One DSMR P1 port: reads telegrams as the meter pushes them (every second
//! on DSMR 5, every 10 s before), checks them ([`crate::dsmr`]) and reports
//! the readings of the meter, keyed by its equipment identifier.
//!
//! A rejected telegram (bad CRC, cut off, too long, unparseable) is counted
//! and logged and never applied; the next good one is. A meter without a
//! good telegram for `stale` is reported unavailable until the next one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use igloo_provider::{DeviceId, EntityId, GrantedDevice, Provider};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::P1Line;
use crate::dsmr::{MAX_TELEGRAM, Reader, Stats, Telegram};
use crate::port;

/// What `serial.status` shows for a P1 port.
#[derive(Debug, Clone, Default, Serialize)]
pub struct P1Health {
    /// Kernel name of the port.
    pub port: String,
    /// Line settings.
    pub line: String,
    /// Equipment identifier of the last meter seen.
    pub meter: Option<String>,
    /// Igloo device id.
    pub device_id: Option<DeviceId>,
    /// Whether a good telegram arrived within the staleness limit.
    pub available: bool,
    /// Telegram counters.
    pub telegrams: u64,
    /// Telegrams with a wrong CRC.
    pub crc_errors: u64,
    /// Telegrams cut off.
    pub truncated: u64,
    /// Telegrams over the size limit.
    pub too_long: u64,
    /// Unparseable telegrams.
    pub malformed: u64,
    /// Bytes outside any telegram (line noise).
    pub skipped_bytes: u64,
    /// The last rejection, for people.
    pub last_error: Option<String>,
}

struct Meter {
    id: DeviceId,
    entities: HashMap<&'static str, EntityId>,
}

/// Runs until `stop` closes.
pub async fn run(
    provider: Provider,
    line: P1Line,
    granted: GrantedDevice,
    port_id: String,
    mut stop: mpsc::Receiver<()>,
    health: Arc<Mutex<P1Health>>,
) {
    let mut reader = Reader::new(MAX_TELEGRAM);
    let mut meters: HashMap<String, Meter> = HashMap::new();
    let mut current: Option<DeviceId> = None;
    let mut last_good = Instant::now();
    let mut available = false;
    let mut buf = vec![0u8; 4096];
    let mut last_warning: Option<Instant> = None;
    'open: loop {
        let stream = granted
            .try_clone_fd()
            .map_err(|e| e.to_string())
            .and_then(|fd| port::open(fd, &line.line));
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(port = granted.name, "cannot use the granted port: {e}");
                tokio::select! {
                    _ = stop.recv() => return,
                    () = tokio::time::sleep(Duration::from_secs(5)) => continue 'open,
                }
            }
        };
        loop {
            let check = tokio::time::sleep_until(last_good + line.stale);
            tokio::select! {
                _ = stop.recv() => return,
                () = check, if available => {
                    available = false;
                    set(&health, |h| h.available = false);
                    if let Some(id) = current {
                        tracing::warn!(port = granted.name, "no valid telegram for {} s: meter unavailable", line.stale.as_secs());
                        let _ = provider.set_available(id, false).await;
                    }
                }
                r = stream.read(&mut buf) => {
                    let n = match r {
                        Ok(0) | Err(_) => {
                            // Hang-up or I/O error: wait, then reopen from the grant.
                            tokio::select! {
                                _ = stop.recv() => return,
                                () = tokio::time::sleep(Duration::from_millis(500)) => continue 'open,
                            }
                        }
                        Ok(n) => n,
                    };
                    for result in reader.push(&buf[..n]) {
                        match result {
                            Ok(t) => {
                                let Some(id) = apply(&provider, &port_id, &mut meters, t, &health).await else {
                                    return;
                                };
                                current = Some(id);
                                last_good = Instant::now();
                                if !available {
                                    available = true;
                                    let _ = provider.set_available(id, true).await;
                                }
                                set(&health, |h| { h.available = true; h.device_id = Some(id); });
                            }
                            Err(e) => {
                                // Line noise can reject many in a row: one warning per 10 s.
                                if last_warning.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(10)) {
                                    tracing::warn!(port = granted.name, "telegram rejected: {e} (counted in serial.status; further rejections within 10 s are logged at debug)");
                                    last_warning = Some(Instant::now());
                                } else {
                                    tracing::debug!(port = granted.name, "telegram rejected: {e}");
                                }
                                set(&health, |h| h.last_error = Some(e.to_string()));
                            }
                        }
                    }
                    let s: Stats = reader.stats().clone();
                    set(&health, |h| {
                        h.telegrams = s.telegrams;
                        h.crc_errors = s.crc_errors;
                        h.truncated = s.truncated;
                        h.too_long = s.too_long;
                        h.malformed = s.malformed;
                        h.skipped_bytes = s.skipped_bytes;
                    });
                }
            }
        }
    }
}

fn set(health: &Arc<Mutex<P1Health>>, f: impl FnOnce(&mut P1Health)) {
    if let Ok(mut h) = health.lock() {
        f(&mut h);
    }
}

/// Creates the meter on first sight, registers new entities, writes values.
/// `None` when the core connection is gone.
async fn apply(
    provider: &Provider,
    port_id: &str,
    meters: &mut HashMap<String, Meter>,
    t: Telegram,
    health: &Arc<Mutex<P1Health>>,
) -> Option<DeviceId> {
    let key = match &t.equipment_id {
        Some(id) => format!("dsmr:{id}"),
        None => format!("dsmr:{port_id}"),
    };
    if !meters.contains_key(&key) {
        let mut attributes = vec![("header".to_string(), t.header.clone())];
        if let Some(v) = &t.version {
            attributes.push(("dsmr_version".to_string(), v.clone()));
        }
        if let Some(e) = &t.equipment_id {
            attributes.push(("equipment_id".to_string(), e.clone()));
        }
        let name = match &t.equipment_id {
            Some(e) => format!("Smart meter {e}"),
            None => "Smart meter".to_string(),
        };
        let id = provider.create_device(&key, &name, attributes).await.ok()?;
        tracing::info!(meter = key, header = t.header, "smart meter found");
        meters.insert(
            key.clone(),
            Meter {
                id,
                entities: HashMap::new(),
            },
        );
    }
    let meter = meters.get_mut(&key)?;
    set(health, |h| h.meter = t.equipment_id.clone());
    for r in t.readings {
        let entity = match meter.entities.get(r.entity) {
            Some(e) => *e,
            None => {
                let e = provider
                    .register_entity(
                        meter.id,
                        r.entity,
                        vec![("obis".to_string(), r.obis.to_string())],
                    )
                    .await
                    .ok()?;
                meter.entities.insert(r.entity, e);
                e
            }
        };
        provider.write(meter.id, entity, vec![r.value]).await.ok()?;
    }
    Some(meter.id)
}
