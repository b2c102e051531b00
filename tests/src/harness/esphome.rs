//! The fake ESPHome device (`tests/fakes/esphome_device.py`), run with the
//! test Python that has aioesphomeapi (its `api_pb2` and `noiseprotocol` are
//! the peer's own definitions), and the ESPHome provider's spec.
//!
//! The fake prints one JSON event per line (`listening`, `connected`,
//! `message` with every message the client sent, `disconnected`, …) and takes
//! JSON commands on stdin (`send`, `drop`, `reboot`, `garbage`, `oversize`,
//! `cut`); see `tests/fakes/README.md`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::bins::{bin, target_dir};
use super::core::ProviderSpec;
use super::wait::TIMEOUT;

/// The Python with aioesphomeapi: `IGLOO_TEST_PYTHON`, else
/// `<target>/test-venv/bin/python` (made by `scripts/test`).
///
/// # Panics
/// If neither exists, saying how to make it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("IGLOO_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = target_dir().join("test-venv/bin/python");
    if !p.is_file() {
        panic!(
            "{} not found: run scripts/test (it creates the venv), or \
             `python3 -m venv {venv} && {venv}/bin/pip install -r tests/fakes/requirements.txt`",
            p.display(),
            venv = target_dir().join("test-venv").display()
        );
    }
    p
}

fn fakes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fakes")
}

/// How to start a fake device.
#[derive(Debug, Clone)]
pub struct FakeOptions {
    /// Node name (`esphome: name:`).
    pub name: String,
    /// MAC, `AA:BB:CC:DD:EE:FF`.
    pub mac: String,
    /// Friendly name.
    pub friendly_name: String,
    /// API encryption key (base64); `None` = plaintext device.
    pub key: Option<String>,
    /// `basic` (switch, light, sensor, binary sensor, cover) or `all`.
    pub entities: String,
    /// Port to listen on (0 = any free one).
    pub port: u16,
}

impl FakeOptions {
    /// A plaintext device with the basic entities.
    pub fn new(name: &str, mac: &str) -> FakeOptions {
        FakeOptions {
            name: name.to_string(),
            mac: mac.to_string(),
            friendly_name: format!("Fake {name}"),
            key: None,
            entities: "basic".to_string(),
            port: 0,
        }
    }

    /// Encrypted with `key`.
    pub fn key(mut self, key: &str) -> FakeOptions {
        self.key = Some(key.to_string());
        self
    }

    /// Every entity type (`all`).
    pub fn all_entities(mut self) -> FakeOptions {
        self.entities = "all".to_string();
        self
    }
}

/// A running fake device; killed on drop.
pub struct FakeDevice {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Value>,
    seen: Vec<Value>,
    /// Where it listens.
    pub port: u16,
    /// Its options.
    pub options: FakeOptions,
}

impl FakeDevice {
    /// Starts the fake and waits until it listens.
    ///
    /// # Panics
    /// If it does not start within [`TIMEOUT`].
    pub fn start(options: FakeOptions) -> FakeDevice {
        let mut cmd = Command::new(python());
        cmd.arg(fakes_dir().join("esphome_device.py"))
            .args(["--host", "127.0.0.1", "--port", &options.port.to_string()])
            .args(["--name", &options.name, "--mac", &options.mac])
            .args(["--friendly-name", &options.friendly_name])
            .args(["--entities", &options.entities]);
        if let Some(k) = &options.key {
            cmd.args(["--key", k]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the fake ESPHome device: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("fake esphome: {line}"),
                }
            }
        });
        let mut dev = FakeDevice {
            child,
            stdin,
            rx,
            seen: Vec::new(),
            port: 0,
            options,
        };
        let ev = dev.wait_event("listening", TIMEOUT, |e| e["event"] == "listening");
        dev.port = ev["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("listening event without a port: {ev}"));
        dev
    }

    /// Reads every event that arrived so far.
    pub fn drain(&mut self) {
        while let Ok(v) = self.rx.try_recv() {
            self.seen.push(v);
        }
    }

    /// Every event so far.
    pub fn events(&mut self) -> &[Value] {
        self.drain();
        &self.seen
    }

    /// Messages of api.proto type `ty` the client sent so far (their `fields`).
    pub fn messages(&mut self, ty: &str) -> Vec<Value> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "message" && e["type"] == ty)
            .map(|e| e["fields"].clone())
            .collect()
    }

    /// Events named `name` so far.
    pub fn count(&mut self, name: &str) -> usize {
        self.events().iter().filter(|e| e["event"] == name).count()
    }

    /// Waits for an event (seen before or arriving) matching `pred`, at or
    /// after position `from` of [`FakeDevice::events`]. Returns it.
    ///
    /// # Panics
    /// On timeout, listing the recent events.
    pub fn wait_event_from(
        &mut self,
        from: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        let mut checked = from;
        loop {
            self.drain();
            if let Some(v) = self.seen.iter().skip(checked).find(|v| pred(v)) {
                return v.clone();
            }
            checked = self.seen.len().max(from);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let start = self.seen.len().saturating_sub(15);
                panic!(
                    "fake ESPHome device {}: no {what} within {timeout:?}; recent events:\n{}",
                    self.options.name,
                    self.seen[start..]
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            if let Ok(v) = self.rx.recv_timeout(left.min(Duration::from_millis(100))) {
                self.seen.push(v);
            }
        }
    }

    /// [`FakeDevice::wait_event_from`] over every event so far.
    pub fn wait_event(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        self.wait_event_from(0, what, timeout, pred)
    }

    /// Waits for the client's next message of type `ty` after position `from`.
    pub fn wait_message(&mut self, from: usize, ty: &str, timeout: Duration) -> Value {
        let v = self.wait_event_from(from, &format!("{ty} from the client"), timeout, |e| {
            e["event"] == "message" && e["type"] == ty
        });
        v["fields"].clone()
    }

    /// Sends a control command and waits for its `done` (panics on `error`).
    pub fn op(&mut self, op: Value) -> Value {
        let from = self.events().len();
        let line = format!("{op}\n");
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("fake ESPHome device: cannot send {op}: {e}"));
        let name = op["op"].clone();
        let v = self.wait_event_from(from, &format!("reply to {op}"), TIMEOUT, |e| {
            (e["event"] == "done" || e["event"] == "error") && e["op"] == name
        });
        assert_eq!(v["event"], "done", "fake refused {op}: {v}");
        v
    }

    /// Sends a state message: `send_state("SensorStateResponse", json!({"key": 1003, "state": 22.5}))`.
    pub fn send(&mut self, ty: &str, fields: Value) {
        self.op(json!({"op": "send", "type": ty, "fields": fields}));
    }
}

impl Drop for FakeDevice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Entity keys of the fake device (see `tests/fakes/README.md`).
pub mod keys {
    /// switch "Relay".
    pub const RELAY: u32 = 1001;
    /// light "Lamp".
    pub const LAMP: u32 = 1002;
    /// sensor "Temperature".
    pub const TEMPERATURE: u32 = 1003;
    /// binary_sensor "Door".
    pub const DOOR: u32 = 1004;
    /// cover "Blind".
    pub const BLIND: u32 = 1005;
}

impl ProviderSpec {
    /// The ESPHome provider with discovery off and fast keep-alive and
    /// reconnects, connecting to `devices` (`(port, key)` on 127.0.0.1).
    pub fn esphome(name: &str, devices: &[(u16, Option<&str>)]) -> ProviderSpec {
        let list: Vec<toml::Value> = devices
            .iter()
            .map(|(port, key)| {
                let mut t = toml::map::Map::new();
                t.insert("host".into(), "127.0.0.1".into());
                t.insert("port".into(), i64::from(*port).into());
                if let Some(k) = key {
                    t.insert("key".into(), (*k).into());
                }
                toml::Value::Table(t)
            })
            .collect();
        ProviderSpec::new(name, bin("igloo-esphome"))
            .config("discovery", false)
            .config("reconnect_max_secs", 2)
            .config("device", toml::Value::Array(list))
    }
}
