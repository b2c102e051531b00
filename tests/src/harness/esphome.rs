//! The fake ESPHome device (`tests/fakes/esphome_device.py`), run with the
//! test Python that has aioesphomeapi (its `api_pb2` and `noiseprotocol` are
//! the peer's own definitions, see [`super::fake`]), and the ESPHome
//! provider's spec.
//!
//! The fake prints one JSON event per line (`listening`, `connected`,
//! `message` with every message the client sent, `disconnected`, …) and takes
//! JSON commands on stdin (`send`, `drop`, `reboot`, `garbage`, `oversize`,
//! `cut`); see `tests/fakes/README.md`.

use std::time::Duration;

use serde_json::{Value, json};

use super::bins::bin;
use super::core::ProviderSpec;
pub use super::fake::{FakeProcess, python};
use super::wait::TIMEOUT;

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

/// A running fake device; killed on drop. Derefs to its [`FakeProcess`]
/// (events, control commands).
pub struct FakeDevice {
    process: FakeProcess,
    /// Where it listens.
    pub port: u16,
    /// Its options.
    pub options: FakeOptions,
}

impl std::ops::Deref for FakeDevice {
    type Target = FakeProcess;
    fn deref(&self) -> &FakeProcess {
        &self.process
    }
}

impl std::ops::DerefMut for FakeDevice {
    fn deref_mut(&mut self) -> &mut FakeProcess {
        &mut self.process
    }
}

impl FakeDevice {
    /// Starts the fake and waits until it listens.
    ///
    /// # Panics
    /// If it does not start within [`TIMEOUT`].
    pub fn start(options: FakeOptions) -> FakeDevice {
        let mut args: Vec<String> = [
            "--host",
            "127.0.0.1",
            "--port",
            &options.port.to_string(),
            "--name",
            &options.name,
            "--mac",
            &options.mac,
            "--friendly-name",
            &options.friendly_name,
            "--entities",
            &options.entities,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if let Some(k) = &options.key {
            args.extend(["--key".to_string(), k.clone()]);
        }
        let mut process = FakeProcess::spawn(
            &format!("fake ESPHome device {}", options.name),
            "esphome_device.py",
            &args,
        );
        let ev = process.wait_event("listening", TIMEOUT, |e| e["event"] == "listening");
        let port = ev["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("listening event without a port: {ev}"));
        FakeDevice {
            process,
            port,
            options,
        }
    }

    /// Messages of api.proto type `ty` the client sent so far (their `fields`).
    pub fn messages(&mut self, ty: &str) -> Vec<Value> {
        self.events()
            .iter()
            .filter(|e| e["event"] == "message" && e["type"] == ty)
            .map(|e| e["fields"].clone())
            .collect()
    }

    /// Waits for the client's next message of type `ty` after position `from`.
    pub fn wait_message(&mut self, from: usize, ty: &str, timeout: Duration) -> Value {
        let v = self.wait_event_from(from, &format!("{ty} from the client"), timeout, |e| {
            e["event"] == "message" && e["type"] == ty
        });
        v["fields"].clone()
    }

    /// Sends a state message: `send("SensorStateResponse", json!({"key": 1003, "state": 22.5}))`.
    pub fn send(&mut self, ty: &str, fields: Value) {
        self.op(json!({"op": "send", "type": ty, "fields": fields}));
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
