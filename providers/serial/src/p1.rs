//! One DSMR P1 port: reads telegrams as the meter pushes them (every second
//! on DSMR 5, every 10 s before), checks them ([`crate::dsmr`]) and reports
//! the readings of the meter, keyed by its equipment identifier.
//!
//! A rejected telegram (bad CRC, cut off, too long, unparseable) is counted
//! and logged and never applied; the next good one is. A meter without a
//! good telegram for `stale` is reported unavailable until the next one.
//!
//! The port's task is a `Session` that handles one event at a time: bytes
//! from the line (`on_frame`), the manager's stop (`on_command`) and the
//! staleness deadline (`on_tick`); [`run`] only opens the port and
//! dispatches. A hang-up or read error reopens the port from the grant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use igloo_provider::{DeviceId, EntityId, GrantedDevice, Provider};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_serial::SerialStream;

use crate::config::P1Line;
use crate::dsmr::{MAX_TELEGRAM, Reader, Stats, Telegram, TelegramError};
use crate::port;

/// Wait before reopening a port that could not be used.
const REOPEN_AFTER_ERROR: Duration = Duration::from_secs(5);
/// Wait before reopening a port after a hang-up or read error.
const REOPEN_AFTER_HANGUP: Duration = Duration::from_millis(500);
/// At most one warning for rejected telegrams per this long.
const REJECTION_WARNING_EVERY: Duration = Duration::from_secs(10);

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

/// What an event asks of the port's task.
enum Flow {
    /// Keep reading.
    Continue,
    /// The line hung up or failed: reopen it from the grant.
    Reopen,
    /// End the task (stop asked, or the core is gone).
    Stop,
}

/// Runs until `stop` closes (its sender is dropped) or the core connection
/// is gone.
pub async fn run(
    provider: Provider,
    line: P1Line,
    granted: GrantedDevice,
    port_id: String,
    mut stop: mpsc::Receiver<()>,
    health: Arc<Mutex<P1Health>>,
) {
    let mut session = Session {
        provider,
        line,
        port: granted.name.clone(),
        port_id,
        health,
        reader: Reader::new(MAX_TELEGRAM),
        meters: HashMap::new(),
        current: None,
        last_good: Instant::now(),
        available: false,
        last_warning: None,
    };
    let mut buf = vec![0u8; 4096];
    loop {
        let pause = match session.open(&granted) {
            Ok(mut stream) => match session.serve(&mut stream, &mut buf, &mut stop).await {
                Flow::Stop => return,
                Flow::Continue | Flow::Reopen => REOPEN_AFTER_HANGUP,
            },
            Err(e) => {
                tracing::error!(port = session.port, "cannot use the granted port: {e}");
                REOPEN_AFTER_ERROR
            }
        };
        tokio::select! {
            _ = stop.recv() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// One P1 port's reader and the meters it reports.
struct Session {
    provider: Provider,
    line: P1Line,
    /// Kernel name of the port, for logs.
    port: String,
    /// The port's identity in device keys (see the manager).
    port_id: String,
    health: Arc<Mutex<P1Health>>,
    reader: Reader,
    /// Meters seen, by device key.
    meters: HashMap<String, Meter>,
    /// The meter of the last good telegram.
    current: Option<DeviceId>,
    /// When the last good telegram arrived.
    last_good: Instant,
    /// Whether the current meter is reported available.
    available: bool,
    /// When a rejection was last logged at warn.
    last_warning: Option<Instant>,
}

impl Session {
    /// A serial port on a fresh copy of the granted fd, with the line settings.
    fn open(&self, granted: &GrantedDevice) -> Result<SerialStream, String> {
        granted
            .try_clone_fd()
            .map_err(|e| e.to_string())
            .and_then(|fd| port::open(fd, &self.line.line))
    }

    /// Reads from `stream` and dispatches each event until one asks to stop
    /// or to reopen the port.
    async fn serve(
        &mut self,
        stream: &mut SerialStream,
        buf: &mut [u8],
        stop: &mut mpsc::Receiver<()>,
    ) -> Flow {
        loop {
            let stale = tokio::time::sleep_until(self.last_good + self.line.stale);
            let flow = tokio::select! {
                cmd = stop.recv() => self.on_command(cmd),
                () = stale, if self.available => self.on_tick().await,
                r = stream.read(buf) => match r {
                    Ok(0) | Err(_) => Flow::Reopen,
                    Ok(n) => self.on_frame(&buf[..n]).await,
                },
            };
            if !matches!(flow, Flow::Continue) {
                return flow;
            }
        }
    }

    /// A message on the stop channel, or its close: either ends the task.
    fn on_command(&mut self, _cmd: Option<()>) -> Flow {
        Flow::Stop
    }

    /// The staleness deadline passed with the meter available: report it
    /// unavailable until the next good telegram.
    async fn on_tick(&mut self) -> Flow {
        self.available = false;
        set(&self.health, |h| h.available = false);
        if let Some(id) = self.current {
            tracing::warn!(
                port = self.port,
                "no valid telegram for {} s: meter unavailable",
                self.line.stale.as_secs()
            );
            let _ = self.provider.set_available(id, false).await;
        }
        Flow::Continue
    }

    /// Bytes from the line: each telegram they complete is applied or
    /// counted as rejected; the counters are published.
    async fn on_frame(&mut self, bytes: &[u8]) -> Flow {
        for result in self.reader.push(bytes) {
            match result {
                Ok(t) => {
                    if let Flow::Stop = self.on_telegram(t).await {
                        return Flow::Stop;
                    }
                }
                Err(e) => self.on_rejected(&e),
            }
        }
        let s: Stats = self.reader.stats().clone();
        set(&self.health, |h| {
            h.telegrams = s.telegrams;
            h.crc_errors = s.crc_errors;
            h.truncated = s.truncated;
            h.too_long = s.too_long;
            h.malformed = s.malformed;
            h.skipped_bytes = s.skipped_bytes;
        });
        Flow::Continue
    }

    /// A good telegram: its readings are written and its meter is available.
    async fn on_telegram(&mut self, t: Telegram) -> Flow {
        let Some(id) = self.apply(t).await else {
            return Flow::Stop;
        };
        self.current = Some(id);
        self.last_good = Instant::now();
        if !self.available {
            self.available = true;
            let _ = self.provider.set_available(id, true).await;
        }
        set(&self.health, |h| {
            h.available = true;
            h.device_id = Some(id);
        });
        Flow::Continue
    }

    /// A rejected telegram. Line noise can reject many in a row: one warning
    /// per [`REJECTION_WARNING_EVERY`], the others at debug.
    fn on_rejected(&mut self, e: &TelegramError) {
        if self
            .last_warning
            .is_none_or(|t: Instant| t.elapsed() >= REJECTION_WARNING_EVERY)
        {
            tracing::warn!(
                port = self.port,
                "telegram rejected: {e} (counted in serial.status; further rejections within 10 s are logged at debug)"
            );
            self.last_warning = Some(Instant::now());
        } else {
            tracing::debug!(port = self.port, "telegram rejected: {e}");
        }
        set(&self.health, |h| h.last_error = Some(e.to_string()));
    }

    /// Creates the meter on first sight, registers new entities, writes values.
    /// `None` when the core connection is gone.
    async fn apply(&mut self, t: Telegram) -> Option<DeviceId> {
        let key = match &t.equipment_id {
            Some(id) => format!("dsmr:{id}"),
            None => format!("dsmr:{}", self.port_id),
        };
        if !self.meters.contains_key(&key) {
            let id = self.create_meter(&key, &t).await?;
            self.meters.insert(
                key.clone(),
                Meter {
                    id,
                    entities: HashMap::new(),
                },
            );
        }
        let meter = self.meters.get_mut(&key)?;
        set(&self.health, |h| h.meter = t.equipment_id.clone());
        for r in t.readings {
            let entity = match meter.entities.get(r.entity) {
                Some(e) => *e,
                None => {
                    let e = self
                        .provider
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
            self.provider
                .write(meter.id, entity, vec![r.value])
                .await
                .ok()?;
        }
        Some(meter.id)
    }

    /// Creates the meter's device, named by its equipment identifier.
    /// `None` when the core connection is gone.
    async fn create_meter(&self, key: &str, t: &Telegram) -> Option<DeviceId> {
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
        let id = self
            .provider
            .create_device(key, &name, attributes)
            .await
            .ok()?;
        tracing::info!(meter = key, header = t.header, "smart meter found");
        Some(id)
    }
}

fn set(health: &Arc<Mutex<P1Health>>, f: impl FnOnce(&mut P1Health)) {
    if let Ok(mut h) = health.lock() {
        f(&mut h);
    }
}
