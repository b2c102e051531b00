//! `igloo-test-provider`: a provider written on the raw protocol crate (not the
//! SDK) so that it can misbehave on purpose. It is started by the core with its
//! end of the socketpair as `IGLOO_FD`, says Hello, reads Welcome and then acts
//! according to its mode: `mode` in its `[provider.config]`, or `--mode MODE`
//! on the command line (needed for modes that misbehave before the Welcome).
//!
//! Modes:
//! - `good`: creates device `key` (default `good-1`) with entity `Counter` and
//!   writes an increasing `Number` `rate` times a second (default 20, every
//!   50 ms); answers Pings.
//! - `garbage`: after the handshake writes a frame that cannot be decoded,
//!   then random bytes.
//! - `oversize`: after the handshake writes a length prefix of 64 MiB and some bytes.
//! - `foreign`: writes to device `target` (or, without it, to ids 1–16 other
//!   than its own), which it does not own, and to an entity it never registered.
//! - `old_major`: says Hello with protocol major 99; holds SIGTERM until it has
//!   logged the core's refusal.
//! - `hang`: creates a device, then stops reading (answers no Pings).
//! - `compat`: negotiates like a well-behaved provider of this build must: every
//!   outgoing message passes through `Negotiated::prepare` for the core's max
//!   ids. Creates device `key` (default `compat-1`) with entity `Reading`
//!   (attribute `writable=true`) and writes `[Number(n), Gas(n)]` every 50 ms,
//!   so an older core that does not know `Gas` never receives it (it is
//!   dropped and counted; the total is logged as "withheld N components the
//!   core does not know"). Answers a change request by writing the requested
//!   values back as the confirmed state (through `prepare` too), logging them.
//! - `flood`: prints `lines` (default 5000) INFO and as many WARN lines to
//!   stderr in the SDK's log format (` INFO igloo_test_provider::flood: flood
//!   info N seq=N`, ` WARN …: flood warning N seq=N`), then one ERROR line
//!   (`flood error`), then sends `frames` (default 5000) writes to devices it
//!   does not own (each refused by the core), then a `CreateDevice`
//!   (`flood-sync`) and exits once it is answered: the core handles a
//!   provider's messages in order, so by then it has logged every refusal.
//!   Prints nothing else after its start-up lines.
//!
//! Everything it does is logged to stderr, which the core collects into its log.
//! It exits when the core closes the connection.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use igloo_protocol::handshake::Outgoing;
use igloo_protocol::message::{
    CreateDevice, Hello, RegisterEntity, SetAvailability, Welcome, WriteComponents,
};
use igloo_protocol::{
    Component, DEFAULT_MAX_FRAME, DeviceId, MAX_COMPONENT_ID, MAX_MESSAGE_ID, Message, Negotiated,
    PROTOCOL_MAJOR, PROTOCOL_MINOR, encode_frame, try_decode_frame,
};

/// The protocol major sent in `old_major` mode.
const OLD_MAJOR: u16 = 99;

fn main() -> ExitCode {
    let mode_arg = mode_from_args();
    match run(mode_arg) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log(&format!("exiting: {e}"));
            ExitCode::FAILURE
        }
    }
}

fn log(what: &str) {
    eprintln!("igloo-test-provider[{}]: {what}", std::process::id());
}

fn mode_from_args() -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--mode" {
            return args.next();
        }
        if let Some(m) = a.strip_prefix("--mode=") {
            return Some(m.to_string());
        }
    }
    None
}

/// The connection to the core: a reader with its buffer and a shared writer.
struct Conn {
    read: UnixStream,
    buf: BytesMut,
    write: Arc<Mutex<UnixStream>>,
    /// Set in `compat` mode: every message sent goes through it.
    filter: Option<Arc<Filter>>,
}

/// Negotiation with the core (`compat` mode): what it decodes, and how many
/// components were withheld because it does not.
struct Filter {
    negotiated: Negotiated,
    dropped: AtomicU64,
}

impl Conn {
    fn from_env() -> Result<Conn, String> {
        let raw = std::env::var("IGLOO_FD").map_err(|_| "IGLOO_FD is not set".to_string())?;
        let fd: i32 = raw
            .trim()
            .parse()
            .map_err(|_| format!("IGLOO_FD={raw:?} is not a file descriptor number"))?;
        if fd < 3 {
            return Err(format!("IGLOO_FD={fd} is a standard stream"));
        }
        // Refuse an fd that is not open, instead of adopting a random number.
        if std::fs::metadata(format!("/proc/self/fd/{fd}")).is_err() {
            return Err(format!("IGLOO_FD={fd} is not an open file descriptor"));
        }
        // SAFETY: the core hands this fd to us; nothing else in this process owns
        // it, and it is adopted exactly once.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let read = UnixStream::from(owned);
        let write = read
            .try_clone()
            .map_err(|e| format!("cannot clone the socket: {e}"))?;
        Ok(Conn {
            read,
            buf: BytesMut::with_capacity(4096),
            write: Arc::new(Mutex::new(write)),
            filter: None,
        })
    }

    /// The next message; `Ok(None)` when the core closed the connection.
    fn recv(&mut self) -> Result<Option<Message>, String> {
        loop {
            match try_decode_frame(&mut self.buf, DEFAULT_MAX_FRAME) {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(e) => return Err(format!("bad frame from the core: {e}")),
            }
            let mut chunk = [0u8; 4096];
            match self.read.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("reading from the core: {e}")),
            }
        }
    }

    fn writer(&self) -> Writer {
        Writer {
            sock: self.write.clone(),
            filter: self.filter.clone(),
        }
    }
}

/// A cloneable handle that writes whole frames (or raw bytes) to the core.
#[derive(Clone)]
struct Writer {
    sock: Arc<Mutex<UnixStream>>,
    /// With a filter, messages are first passed through `Negotiated::prepare`.
    filter: Option<Arc<Filter>>,
}

impl Writer {
    fn send(&self, msg: &Message) -> Result<(), String> {
        let prepared;
        let msg = match &self.filter {
            None => msg,
            Some(f) => match f.negotiated.prepare(msg.clone()) {
                Outgoing::Send { message, dropped } => {
                    f.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
                    prepared = message;
                    &prepared
                }
                Outgoing::Withheld { dropped } => {
                    f.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
                    return Ok(());
                }
            },
        };
        let mut buf = BytesMut::new();
        encode_frame(msg, &mut buf, DEFAULT_MAX_FRAME)
            .map_err(|e| format!("cannot encode {}: {e}", msg.name()))?;
        self.raw(&buf)
    }

    fn raw(&self, bytes: &[u8]) -> Result<(), String> {
        let mut sock = self
            .sock
            .lock()
            .map_err(|_| "writer lock poisoned".to_string())?;
        sock.write_all(bytes)
            .and_then(|()| sock.flush())
            .map_err(|e| format!("writing to the core: {e}"))
    }
}

fn run(mode_arg: Option<String>) -> Result<(), String> {
    let mut conn = Conn::from_env()?;
    let w = conn.writer();
    let old_major = mode_arg.as_deref() == Some("old_major");
    let major = if old_major { OLD_MAJOR } else { PROTOCOL_MAJOR };
    // A refused provider reports the refusal before it honours a SIGTERM: the
    // released v1 core signals the moment it has refused (today's core gives
    // the provider time to exit by itself), which made "the provider was told
    // why" a race against the signal.
    let sigterm = nix::sys::signal::SigSet::from(nix::sys::signal::Signal::SIGTERM);
    if old_major {
        let _ = sigterm.thread_block();
    }
    log(&format!("sending Hello with protocol major {major}"));
    w.send(&Message::Hello(Hello {
        protocol_major: major,
        protocol_minor: PROTOCOL_MINOR,
        name: "igloo-test-provider".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        max_component_id: MAX_COMPONENT_ID,
        max_message_id: MAX_MESSAGE_ID,
    }))?;
    let welcome = match conn.recv()? {
        Some(Message::Welcome(w)) => w,
        Some(Message::Error(e)) => {
            log(&format!(
                "core refused the Hello: error code {}: {}",
                e.code.0, e.message
            ));
            let _ = sigterm.thread_unblock();
            drain_until_closed(&mut conn, &w);
            return Ok(());
        }
        Some(other) => return Err(format!("expected Welcome, got {}", other.name())),
        None => return Err("the core closed the connection during the handshake".into()),
    };
    log(&format!(
        "welcomed by core {} (protocol {}.{})",
        welcome.core_version, welcome.protocol_major, welcome.protocol_minor
    ));
    let config: toml::Table =
        toml::from_str(&welcome.config).map_err(|e| format!("provider config is not TOML: {e}"))?;
    let mode = match mode_arg {
        Some(m) => m,
        None => config
            .get("mode")
            .and_then(toml::Value::as_str)
            .ok_or("no `mode` in [provider.config] and no --mode argument")?
            .to_string(),
    };
    log(&format!("mode {mode}"));
    match mode.as_str() {
        "good" => good(conn, &config),
        "garbage" => garbage(conn),
        "oversize" => oversize(conn),
        "foreign" => foreign(conn, &config),
        "hang" => hang(conn),
        "compat" => compat(conn, &welcome, &config),
        "flood" => flood(conn, &config),
        "old_major" => {
            log("the core accepted protocol major 99; idling");
            drain_until_closed(&mut conn, &w);
            Ok(())
        }
        other => Err(format!("unknown mode {other:?}")),
    }
}

/// Creates a device and waits for its id, answering Pings meanwhile.
fn create_device(conn: &mut Conn, key: &str) -> Result<DeviceId, String> {
    let w = conn.writer();
    w.send(&Message::CreateDevice(CreateDevice {
        request_id: 1,
        key: key.to_string(),
        name: key.to_string(),
        attributes: vec![("model".to_string(), "test".to_string())],
    }))?;
    loop {
        match conn.recv()? {
            Some(Message::DeviceCreated(d)) if d.request_id == 1 => {
                log(&format!("device {key} has id {}", d.device));
                return Ok(d.device);
            }
            Some(Message::Ping(n)) => w.send(&Message::Pong(n))?,
            Some(Message::Error(e)) => {
                return Err(format!(
                    "core refused CreateDevice {key}: code {}: {}",
                    e.code.0, e.message
                ));
            }
            Some(other) => log(&format!(
                "ignoring {} while creating a device",
                other.name()
            )),
            None => return Err("the core closed the connection".into()),
        }
    }
}

fn register(w: &Writer, device: DeviceId, entity: u32, name: &str) -> Result<(), String> {
    w.send(&Message::RegisterEntity(RegisterEntity {
        device,
        entity,
        name: name.to_string(),
        attributes: vec![("unit".to_string(), "count".to_string())],
    }))?;
    w.send(&Message::SetAvailability(SetAvailability {
        device,
        available: true,
    }))
}

/// Reads until the core closes the connection: answers Pings, logs errors
/// and change requests. Exits the process at the end.
fn serve(mut conn: Conn) -> ! {
    let w = conn.writer();
    drain_until_closed(&mut conn, &w);
    std::process::exit(0);
}

fn drain_until_closed(conn: &mut Conn, w: &Writer) {
    loop {
        match conn.recv() {
            Ok(Some(Message::Ping(n))) => {
                if let Err(e) = w.send(&Message::Pong(n)) {
                    log(&format!("cannot answer a Ping: {e}"));
                    return;
                }
            }
            Ok(Some(Message::Error(e))) => log(&format!(
                "core replied Error code {} (request {}): {}",
                e.code.0, e.request_id, e.message
            )),
            Ok(Some(Message::WriteComponents(c))) => log(&format!(
                "change request for device {} entity {}: {:?}",
                c.device, c.entity, c.values
            )),
            Ok(Some(other)) => log(&format!("ignoring {}", other.name())),
            Ok(None) => {
                log("the core closed the connection");
                return;
            }
            Err(e) => {
                log(&e);
                return;
            }
        }
    }
}

fn good(mut conn: Conn, config: &toml::Table) -> Result<(), String> {
    let key = config
        .get("key")
        .and_then(toml::Value::as_str)
        .unwrap_or("good-1")
        .to_string();
    let device = create_device(&mut conn, &key)?;
    // Writes per second (`rate`), default 20 (every 50 ms).
    let rate = config
        .get("rate")
        .and_then(toml::Value::as_integer)
        .filter(|r| *r > 0)
        .unwrap_or(20) as f64;
    let w = conn.writer();
    register(&w, device, 0, "Counter")?;
    log(&format!("writing Counter {rate} times a second"));
    std::thread::spawn(move || serve(conn));
    let start = std::time::Instant::now();
    let mut n: u64 = 0;
    loop {
        n += 1;
        w.send(&Message::WriteComponents(WriteComponents {
            device,
            entity: 0,
            values: vec![Component::Number(n as f64)],
        }))?;
        if n.is_multiple_of(100 * (rate as u64 / 20).max(1)) {
            log(&format!("wrote Counter = {n}"));
        }
        // Paced from the start, so that a late wake-up is caught up.
        let due = start + Duration::from_secs_f64(n as f64 / rate);
        std::thread::sleep(due.saturating_duration_since(std::time::Instant::now()));
    }
}

/// A tiny xorshift generator: "random" bytes without a dependency.
fn random_bytes(len: usize) -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn garbage(conn: Conn) -> Result<(), String> {
    let w = conn.writer();
    // A 64-byte frame whose first byte, a varint below 251, is message id 250:
    // no such message, so it can never decode, whatever follows.
    let mut frame = 64u32.to_le_bytes().to_vec();
    frame.push(250);
    frame.extend(random_bytes(63));
    frame.extend(random_bytes(256));
    log("writing garbage: an undecodable 64-byte frame (message id 250) and 256 random bytes");
    w.raw(&frame)?;
    serve(conn)
}

fn oversize(conn: Conn) -> Result<(), String> {
    let w = conn.writer();
    let len: u32 = 64 << 20;
    let mut frame = len.to_le_bytes().to_vec();
    frame.extend(std::iter::repeat_n(0x55u8, 4096));
    log(&format!(
        "writing an oversize frame: length prefix {len} bytes, then 4096 bytes"
    ));
    w.raw(&frame)?;
    serve(conn)
}

fn foreign(mut conn: Conn, config: &toml::Table) -> Result<(), String> {
    let own = create_device(&mut conn, "foreign-1")?;
    let w = conn.writer();
    register(&w, own, 0, "Value")?;
    let targets: Vec<u64> = match config.get("target").and_then(toml::Value::as_integer) {
        Some(t) => vec![u64::try_from(t).map_err(|_| format!("target {t} is negative"))?],
        None => (1..=16).filter(|id| *id != own.0).collect(),
    };
    std::thread::spawn(move || serve(conn));
    for round in 1..=10 {
        log(&format!(
            "round {round}: writing Number=-666 Switch=true to devices {targets:?} (not mine) and to my device {own} entity 42 (never registered)"
        ));
        for t in &targets {
            w.send(&Message::WriteComponents(WriteComponents {
                device: DeviceId(*t),
                entity: 0,
                values: vec![Component::Number(-666.0), Component::Switch(true)],
            }))?;
        }
        w.send(&Message::WriteComponents(WriteComponents {
            device: own,
            entity: 42,
            values: vec![Component::Number(-42.0)],
        }))?;
        std::thread::sleep(Duration::from_millis(500));
    }
    log("done misbehaving; idling");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn compat(mut conn: Conn, welcome: &Welcome, config: &toml::Table) -> Result<(), String> {
    let negotiated = Negotiated::from_welcome(welcome).map_err(|e| e.to_string())?;
    log(&format!(
        "core {} decodes components up to id {} and messages up to id {}; this build knows up to {} and {}",
        welcome.core_version,
        negotiated.peer_max_component_id,
        negotiated.peer_max_message_id,
        MAX_COMPONENT_ID,
        MAX_MESSAGE_ID
    ));
    let filter = Arc::new(Filter {
        negotiated,
        dropped: AtomicU64::new(0),
    });
    conn.filter = Some(filter.clone());
    let key = config
        .get("key")
        .and_then(toml::Value::as_str)
        .unwrap_or("compat-1")
        .to_string();
    let device = create_device(&mut conn, &key)?;
    let w = conn.writer();
    w.send(&Message::RegisterEntity(RegisterEntity {
        device,
        entity: 0,
        name: "Reading".to_string(),
        attributes: vec![("writable".to_string(), "true".to_string())],
    }))?;
    w.send(&Message::SetAvailability(SetAvailability {
        device,
        available: true,
    }))?;
    log("writing Reading = [Number(n), Gas(n)] every 50 ms");
    std::thread::spawn(move || compat_serve(conn));
    let mut n: u64 = 0;
    let mut logged = 0;
    loop {
        n += 1;
        w.send(&Message::WriteComponents(WriteComponents {
            device,
            entity: 0,
            values: vec![Component::Number(n as f64), Component::Gas(n as f64)],
        }))?;
        let dropped = filter.dropped.load(Ordering::Relaxed);
        if dropped != logged && (logged == 0 || n.is_multiple_of(20)) {
            log(&format!(
                "withheld {dropped} components the core does not know (Reading = {n})"
            ));
            logged = dropped;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `compat` mode's reader: answers Pings and confirms change requests by
/// writing the requested values back (all through the negotiation filter).
fn compat_serve(mut conn: Conn) -> ! {
    let w = conn.writer();
    loop {
        match conn.recv() {
            Ok(Some(Message::Ping(n))) => {
                if let Err(e) = w.send(&Message::Pong(n)) {
                    log(&format!("cannot answer a Ping: {e}"));
                    break;
                }
            }
            Ok(Some(Message::WriteComponents(c))) => {
                log(&format!(
                    "change request for device {} entity {}: {:?}; confirming it",
                    c.device, c.entity, c.values
                ));
                if let Err(e) = w.send(&Message::WriteComponents(c)) {
                    log(&format!("cannot confirm a change request: {e}"));
                    break;
                }
            }
            Ok(Some(Message::Error(e))) => log(&format!(
                "core replied Error code {} (request {}): {}",
                e.code.0, e.request_id, e.message
            )),
            Ok(Some(other)) => log(&format!("ignoring {}", other.name())),
            Ok(None) => {
                log("the core closed the connection");
                break;
            }
            Err(e) => {
                log(&e);
                break;
            }
        }
    }
    std::process::exit(0);
}

fn hang(mut conn: Conn) -> Result<(), String> {
    create_device(&mut conn, "hang-1")?;
    log("hanging: no longer reading, so no Pongs");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// `request_id` of `flood` mode's final `CreateDevice`.
const FLOOD_SYNC: u32 = 7;

fn flood(conn: Conn, config: &toml::Table) -> Result<(), String> {
    let count = |key: &str| -> Result<u64, String> {
        match config.get(key).and_then(toml::Value::as_integer) {
            None => Ok(5000),
            Some(n) => u64::try_from(n).map_err(|_| format!("{key} = {n} is negative")),
        }
    };
    let (lines, frames) = (count("lines")?, count("frames")?);
    let w = conn.writer();
    let (synced_tx, synced_rx) = mpsc::channel();
    std::thread::spawn(move || flood_reader(conn, synced_tx));
    let mut err = std::io::stderr().lock();
    let module = "igloo_test_provider::flood";
    for i in 0..lines {
        writeln!(err, " INFO {module}: flood info {i} seq={i}")
            .and_then(|()| writeln!(err, " WARN {module}: flood warning {i} seq={i}"))
            .map_err(|e| format!("writing to stderr: {e}"))?;
    }
    writeln!(err, "ERROR {module}: flood error: the line that matters")
        .map_err(|e| format!("writing to stderr: {e}"))?;
    drop(err);
    for i in 0..frames {
        w.send(&Message::WriteComponents(WriteComponents {
            device: DeviceId(u64::MAX - i),
            entity: 0,
            values: vec![Component::Number(i as f64)],
        }))?;
    }
    w.send(&Message::CreateDevice(CreateDevice {
        request_id: FLOOD_SYNC,
        key: "flood-sync".to_string(),
        name: "flood-sync".to_string(),
        attributes: Vec::new(),
    }))?;
    synced_rx
        .recv()
        .map_err(|_| "the core closed the connection before answering flood-sync".to_string())
}

/// `flood` mode's reader: answers Pings, quietly drops the refusals (a line
/// for each would add to the flood) and signals the answer to `flood-sync`.
fn flood_reader(mut conn: Conn, synced: mpsc::Sender<()>) {
    let w = conn.writer();
    while let Ok(Some(msg)) = conn.recv() {
        let answered = match msg {
            Message::Ping(n) => w.send(&Message::Pong(n)),
            Message::DeviceCreated(d) if d.request_id == FLOOD_SYNC => {
                let _ = synced.send(());
                Ok(())
            }
            _ => Ok(()),
        };
        if answered.is_err() {
            return;
        }
    }
}
