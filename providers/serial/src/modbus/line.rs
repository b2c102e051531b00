//! One Modbus RTU line: polls every device's register groups on schedule,
//! reports values, performs writes, and tracks each device's health.
//!
//! Each request gets `timeout`; a timeout or a transport error (a frame with
//! a bad CRC, a garbled answer) rebuilds the connection from a fresh copy of
//! the granted fd, so a late or partial answer can never be taken for the
//! next request's. A device that fails [`FAILURES_UNTIL_UNAVAILABLE`] polls in
//! a row is reported unavailable; polling continues, and the first good
//! answer makes it available again. Before each request the line is kept
//! silent for [`frame_gap`] after the previous exchange. An exception answer (e.g. illegal data
//! address) proves the device is there: it is counted, not held against its
//! availability; when it answers a merged read (several points) that way,
//! that read is split into one read per point. Writes are change requests: the register is written, then
//! its group is read back at once and the read value is what gets reported.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use igloo_provider::protocol::Component;
use igloo_provider::{DeviceId, EntityId, GrantedDevice, Provider};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_modbus::client::{Context, Reader, Writer};
use tokio_modbus::prelude::{Slave, SlaveContext};

use super::map::{self, DeviceMap, RegisterKind, Write};
use crate::config::ModbusLine;
use crate::port;

/// Consecutive failed polls after which a device is reported unavailable.
pub const FAILURES_UNTIL_UNAVAILABLE: u32 = 3;

/// The silence kept on the line before each request: 3.5 character times,
/// and 1.75 ms above 19 200 baud (Modbus over Serial Line V1.02 §2.5.1.1).
/// A device may take a request that follows its own answer too closely for
/// part of that answer.
pub fn frame_gap(line: &crate::port::LineSettings) -> std::time::Duration {
    if line.baud > 19_200 {
        std::time::Duration::from_micros(1750)
    } else {
        line.line_time(4).mul_f64(3.5 / 4.0)
    }
}

/// Counters of one device, as `serial.status` reports them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceHealth {
    /// Modbus unit id.
    pub unit: u8,
    /// Name.
    pub name: String,
    /// Igloo device id once created.
    pub device_id: Option<DeviceId>,
    /// Whether it answers.
    pub available: bool,
    /// Requests sent (reads and writes).
    pub requests: u64,
    /// Good answers.
    pub answers: u64,
    /// Requests without an answer within the timeout.
    pub timeouts: u64,
    /// Answers that came back garbled or with a CRC that does not match
    /// (bytes arrived, no valid frame).
    pub crc_errors: u64,
    /// Modbus exception answers.
    pub exceptions: u64,
    /// Other transport or protocol errors.
    pub errors: u64,
    /// Failed polls in a row.
    pub consecutive_failures: u32,
    /// The last problem, for people.
    pub last_error: Option<String>,
}

/// Commands to a running line.
#[derive(Debug)]
pub enum Command {
    /// A change request for one of its devices.
    Change {
        /// Device.
        device: DeviceId,
        /// Entity number.
        entity: EntityId,
        /// Requested values.
        values: Vec<Component>,
    },
}

/// What went wrong with one request.
enum Failure {
    Timeout,
    Crc(String),
    Exception(String),
    Other(String),
}

struct Dev {
    map: DeviceMap,
    id: DeviceId,
    entities: HashMap<EntityId, usize>,
    point_entity: Vec<EntityId>,
    /// Next due instant per group.
    due: Vec<Instant>,
}

/// Change-request routes by device id, shared with the manager.
pub type Routes = Arc<Mutex<HashMap<DeviceId, mpsc::Sender<Command>>>>;

/// What a line shares with the manager.
pub struct Links {
    /// Per-device counters, read by `serial.status`.
    pub health: Arc<Mutex<Vec<DeviceHealth>>>,
    /// Where the manager finds this line for a device's change requests.
    pub routes: Routes,
    /// This line's own sender, put into `routes` for each device.
    pub me: mpsc::Sender<Command>,
}

/// Runs a line until `cmds` closes (the manager and the routes dropped
/// their senders: the port was revoked).
pub async fn run(
    provider: Provider,
    line: ModbusLine,
    granted: GrantedDevice,
    port_id: String,
    mut cmds: mpsc::Receiver<Command>,
    links: Links,
) {
    let Links { health, routes, me } = links;
    let mut devs: Vec<Dev> = Vec::new();
    for m in &line.devices {
        let key = format!("modbus:{port_id}:{}", m.unit);
        let attributes = vec![
            ("modbus_unit".to_string(), m.unit.to_string()),
            ("port".to_string(), granted.name.clone()),
            ("line".to_string(), line.line.to_string()),
        ];
        let Ok(id) = provider.create_device(&key, &m.name, attributes).await else {
            return;
        };
        let mut entities = HashMap::new();
        let mut point_entity = Vec::new();
        for (i, p) in m.points.iter().enumerate() {
            let mut attrs = p.attributes.clone();
            if p.writable {
                attrs.push(("writable".to_string(), p.component.clone()));
            }
            let Ok(e) = provider.register_entity(id, &p.entity, attrs).await else {
                return;
            };
            entities.insert(e, i);
            point_entity.push(e);
        }
        if let Ok(mut r) = routes.lock() {
            r.insert(id, me.clone());
        }
        if let Ok(mut h) = health.lock()
            && let Some(d) = h.iter_mut().find(|d| d.unit == m.unit)
        {
            d.device_id = Some(id);
        }
        let now = Instant::now();
        devs.push(Dev {
            map: m.clone(),
            id,
            entities,
            point_entity,
            due: vec![now; m.groups.len()],
        });
    }
    // Only the manager and the routes keep senders: when the port is
    // revoked they are dropped and `cmds` closes, which ends this task.
    drop(me);
    let mut bus = Bus {
        ctx: None,
        last: None,
        gap: frame_gap(&line.line),
        received: Arc::new(AtomicU64::new(0)),
        mark: 0,
    };
    loop {
        // The next group due.
        let next = devs
            .iter()
            .enumerate()
            .flat_map(|(d, dev)| dev.due.iter().enumerate().map(move |(g, t)| (*t, d, g)))
            .min_by_key(|(t, _, _)| *t);
        let Some((due, d, g)) = next else {
            // Nothing to poll: only writes.
            match cmds.recv().await {
                None => return,
                Some(c) => {
                    handle(&provider, &line, &granted, &mut bus, &mut devs, &health, c).await;
                    continue;
                }
            }
        };
        tokio::select! {
            () = tokio::time::sleep_until(due) => {
                let interval = devs[d].map.groups[g].interval;
                let split = poll(&provider, &line, &granted, &mut bus, &devs[d], g, &health).await;
                let now = Instant::now();
                let next = due + interval;
                devs[d].due[g] = if next < now { now + interval } else { next };
                if split {
                    // Read the points one by one at once.
                    devs[d].due[g] = now;
                    split_group(&mut devs[d], g);
                }
            }
            cmd = cmds.recv() => match cmd {
                None => return,
                Some(c) => handle(&provider, &line, &granted, &mut bus, &mut devs, &health, c).await,
            },
        }
    }
}

/// The connection to the line, when its last exchange ended, and how many
/// bytes it has received (see [`Tap`]).
struct Bus {
    ctx: Option<Context>,
    last: Option<Instant>,
    gap: std::time::Duration,
    received: Arc<AtomicU64>,
    /// `received` when the current request was sent.
    mark: u64,
}

/// Counts the bytes read from the line. tokio-modbus drops a frame whose
/// CRC does not match and waits for a good one, so such an answer surfaces
/// as a timeout; bytes received during a request that timed out tell a
/// garbled or bad-CRC answer apart from no answer at all.
struct Tap<T> {
    inner: T,
    received: Arc<AtomicU64>,
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Tap<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.received.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Tap<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The connection, rebuilt from a fresh copy of the granted fd when needed;
/// waits out the inter-frame silence ([`frame_gap`]) since the last exchange
/// before handing it out.
async fn connect<'a>(
    line: &ModbusLine,
    granted: &GrantedDevice,
    bus: &'a mut Bus,
) -> Result<&'a mut Context, String> {
    if let Some(at) = bus.last {
        tokio::time::sleep_until(at + bus.gap).await;
    }
    if bus.ctx.is_none() {
        let fd = granted
            .try_clone_fd()
            .map_err(|e| format!("cannot copy the granted fd: {e}"))?;
        let stream = port::open(fd, &line.line)?;
        let tap = Tap {
            inner: stream,
            received: bus.received.clone(),
        };
        bus.ctx = Some(tokio_modbus::client::rtu::attach_slave(tap, Slave(1)));
    }
    bus.mark = bus.received.load(Ordering::Relaxed);
    bus.ctx.as_mut().ok_or_else(|| "no connection".to_string())
}

fn classify(e: tokio_modbus::Error) -> Failure {
    let text = e.to_string();
    if text.to_ascii_lowercase().contains("crc") {
        Failure::Crc(text)
    } else {
        Failure::Other(text)
    }
}

enum Data {
    Words(Vec<u16>),
    Bits(Vec<bool>),
}

async fn read(
    line: &ModbusLine,
    granted: &GrantedDevice,
    bus: &mut Bus,
    unit: u8,
    kind: RegisterKind,
    start: u16,
    count: u16,
) -> Result<Data, Failure> {
    let c = connect(line, granted, bus).await.map_err(Failure::Other)?;
    c.set_slave(Slave(unit));
    let answer = match kind {
        RegisterKind::Holding => timeout(line.timeout, c.read_holding_registers(start, count))
            .await
            .map(|r| r.map(|r| r.map(Data::Words))),
        RegisterKind::Input => timeout(line.timeout, c.read_input_registers(start, count))
            .await
            .map(|r| r.map(|r| r.map(Data::Words))),
        RegisterKind::Coil => timeout(line.timeout, c.read_coils(start, count))
            .await
            .map(|r| r.map(|r| r.map(Data::Bits))),
        RegisterKind::Discrete => timeout(line.timeout, c.read_discrete_inputs(start, count))
            .await
            .map(|r| r.map(|r| r.map(Data::Bits))),
    };
    settle(bus, answer)
}

/// Flattens an answer; notes when the exchange ended; drops the connection
/// after a timeout or transport error.
fn settle<T>(
    bus: &mut Bus,
    answer: Result<
        Result<Result<T, tokio_modbus::ExceptionCode>, tokio_modbus::Error>,
        tokio::time::error::Elapsed,
    >,
) -> Result<T, Failure> {
    bus.last = Some(Instant::now());
    match answer {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(exc))) => Err(Failure::Exception(format!("exception answer: {exc}"))),
        Ok(Err(e)) => {
            bus.ctx = None;
            Err(classify(e))
        }
        Err(_) => {
            bus.ctx = None;
            let got = bus
                .received
                .load(Ordering::Relaxed)
                .saturating_sub(bus.mark);
            if got > 0 {
                Err(Failure::Crc(format!(
                    "{got} bytes came back but no valid answer: bad CRC or garbled frame"
                )))
            } else {
                Err(Failure::Timeout)
            }
        }
    }
}

fn record(
    health: &Arc<Mutex<Vec<DeviceHealth>>>,
    unit: u8,
    outcome: &Result<(), &Failure>,
    timeout_ms: u128,
) -> Option<bool> {
    let Ok(mut h) = health.lock() else {
        return None;
    };
    let d = h.iter_mut().find(|d| d.unit == unit)?;
    d.requests += 1;
    let was = d.available;
    match outcome {
        Ok(()) => {
            d.answers += 1;
            d.consecutive_failures = 0;
            d.available = true;
        }
        Err(f) => {
            let (msg, counts_against) = match f {
                Failure::Timeout => {
                    d.timeouts += 1;
                    (format!("no answer within {timeout_ms} ms"), true)
                }
                Failure::Crc(m) => {
                    d.crc_errors += 1;
                    (m.clone(), true)
                }
                Failure::Exception(m) => {
                    d.exceptions += 1;
                    (m.clone(), false)
                }
                Failure::Other(m) => {
                    d.errors += 1;
                    (m.clone(), true)
                }
            };
            d.last_error = Some(msg);
            if counts_against {
                d.consecutive_failures += 1;
                if d.consecutive_failures >= FAILURES_UNTIL_UNAVAILABLE {
                    d.available = false;
                }
            }
        }
    }
    (was != d.available).then_some(d.available)
}

/// Polls one group; `true` when the device answered a merged read (several
/// points) with an exception, which calls for reading its points one by one.
async fn poll(
    provider: &Provider,
    line: &ModbusLine,
    granted: &GrantedDevice,
    bus: &mut Bus,
    dev: &Dev,
    g: usize,
    health: &Arc<Mutex<Vec<DeviceHealth>>>,
) -> bool {
    let group = &dev.map.groups[g];
    let result = read(
        line,
        granted,
        bus,
        dev.map.unit,
        group.kind,
        group.start,
        group.count,
    )
    .await;
    let outcome = result.as_ref().map(|_| ());
    if let Err(f) = &outcome {
        let text = match f {
            Failure::Timeout => "no answer".to_string(),
            Failure::Crc(m) | Failure::Exception(m) | Failure::Other(m) => m.clone(),
        };
        tracing::debug!(
            device = dev.map.name,
            unit = dev.map.unit,
            start = group.start,
            "poll failed: {text}"
        );
    }
    if let Some(now) = record(health, dev.map.unit, &outcome, line.timeout.as_millis()) {
        if now {
            tracing::info!(
                device = dev.map.name,
                unit = dev.map.unit,
                "answering again"
            );
        } else {
            tracing::warn!(
                device = dev.map.name,
                unit = dev.map.unit,
                "unavailable: {FAILURES_UNTIL_UNAVAILABLE} polls in a row failed"
            );
        }
        let _ = provider.set_available(dev.id, now).await;
    }
    let values = match result {
        Ok(Data::Words(w)) => map::decode_registers(&dev.map, group, &w),
        Ok(Data::Bits(b)) => map::decode_bits(&dev.map, group, &b),
        Err(Failure::Exception(_)) => return group.points.len() > 1,
        Err(_) => return false,
    };
    for (point, value) in values {
        if let Some(e) = dev.point_entity.get(point) {
            let _ = provider.write(dev.id, *e, vec![value]).await;
        }
    }
    false
}

/// Replaces merged group `g` by one read per point: some devices refuse a
/// read that spans addresses they do not define (exception 02), though each
/// point on its own is fine.
fn split_group(dev: &mut Dev, g: usize) {
    let group = dev.map.groups.remove(g);
    let due = dev.due.remove(g);
    tracing::info!(
        device = dev.map.name,
        start = group.start,
        count = group.count,
        "the device refused a merged read; reading its {} points one by one",
        group.points.len()
    );
    for &pi in &group.points {
        let Some(p) = dev.map.points.get(pi) else {
            continue;
        };
        dev.map.groups.push(map::ReadGroup {
            kind: group.kind,
            start: p.address,
            count: p.data_type.width(),
            interval: group.interval,
            points: vec![pi],
        });
        dev.due.push(due);
    }
}

async fn handle(
    provider: &Provider,
    line: &ModbusLine,
    granted: &GrantedDevice,
    bus: &mut Bus,
    devs: &mut [Dev],
    health: &Arc<Mutex<Vec<DeviceHealth>>>,
    cmd: Command,
) {
    let Command::Change {
        device,
        entity,
        values,
    } = cmd;
    let Some(dev) = devs.iter().find(|d| d.id == device) else {
        return;
    };
    let Some(&pi) = dev.entities.get(&entity) else {
        tracing::warn!(
            device = dev.map.name,
            entity,
            "change request for an unknown entity"
        );
        return;
    };
    let point = &dev.map.points[pi];
    for v in values {
        let write = match map::encode(point, &v) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(
                    device = dev.map.name,
                    entity = point.entity,
                    "change request refused: {e}"
                );
                continue;
            }
        };
        let c = match connect(line, granted, bus).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(device = dev.map.name, "write failed: {e}");
                return;
            }
        };
        c.set_slave(Slave(dev.map.unit));
        let answer = match &write {
            Write::Registers { address, words } if words.len() == 1 => {
                timeout(line.timeout, c.write_single_register(*address, words[0])).await
            }
            Write::Registers { address, words } => {
                timeout(line.timeout, c.write_multiple_registers(*address, words)).await
            }
            Write::Coil { address, value } => {
                timeout(line.timeout, c.write_single_coil(*address, *value)).await
            }
        };
        let result = settle(bus, answer);
        let outcome = result.as_ref().map(|_| ());
        let _ = record(health, dev.map.unit, &outcome, line.timeout.as_millis());
        match result {
            Ok(()) => tracing::info!(
                device = dev.map.name,
                entity = point.entity,
                "written: {write:?}"
            ),
            Err(f) => {
                let text = match f {
                    Failure::Timeout => "no answer".to_string(),
                    Failure::Crc(m) | Failure::Exception(m) | Failure::Other(m) => m,
                };
                tracing::warn!(
                    device = dev.map.name,
                    entity = point.entity,
                    "write failed: {text}"
                );
            }
        }
    }
    // Read back what the device now holds: that is the confirmed state.
    let groups: Vec<usize> = dev
        .map
        .groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.points.contains(&pi))
        .map(|(i, _)| i)
        .collect();
    for g in groups {
        let _ = poll(provider, line, granted, bus, dev, g, health).await;
    }
}
