//! Serial ports for the serial provider's tests: socat pty pairs that the
//! core grants through its normal path, and the pymodbus RTU server.
//!
//! The core finds serial ports in sysfs (`<sysfs_root>/class/tty/<name>`
//! with a `device` link) and opens `<dev_root>/<name>`. [`FakePorts`] builds
//! such a sysfs and `/dev` in a temp dir, with each node a symlink to the
//! "device" end of a [`PtyPair`]; grant rules `port = "<name>"` then hand
//! the pty to the provider exactly as a real UART would be.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::bins::bin;
use super::core::ProviderSpec;
use super::fake::FakeProcess;
use super::privileged::PtyPair;
use super::wait::TIMEOUT;

/// A sysfs and `/dev` listing fake UARTs.
pub struct FakePorts {
    _dir: tempfile::TempDir,
    /// `sysfs_root` for the core.
    pub sys: PathBuf,
    /// `dev_root` for the core.
    pub dev: PathBuf,
}

impl FakePorts {
    /// Ports `(name, node)`: `name` like `ttyIGLOO0`, `node` the pty it stands for.
    ///
    /// # Panics
    /// If the temp files cannot be made.
    pub fn new(ports: &[(&str, &Path)]) -> FakePorts {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let sys = dir.path().join("sys");
        let dev = dir.path().join("dev");
        let class = sys.join("class/tty");
        let must = |r: std::io::Result<()>, what: &str| r.unwrap_or_else(|e| panic!("{what}: {e}"));
        must(std::fs::create_dir_all(&class), "mkdir class");
        must(std::fs::create_dir_all(&dev), "mkdir dev");
        for (name, node) in ports {
            let parent = sys.join("devices/platform/serial8250");
            let tty = parent.join("tty").join(name);
            must(std::fs::create_dir_all(&tty), "mkdir tty");
            must(
                std::fs::write(
                    tty.join("uevent"),
                    format!("MAJOR=4\nMINOR=64\nDEVNAME={name}\n"),
                ),
                "uevent",
            );
            must(
                std::os::unix::fs::symlink("../../../serial8250", tty.join("device")),
                "device link",
            );
            must(
                std::os::unix::fs::symlink(
                    format!("../../devices/platform/serial8250/tty/{name}"),
                    class.join(name),
                ),
                "class link",
            );
            must(std::os::unix::fs::symlink(node, dev.join(name)), "dev node");
        }
        FakePorts {
            _dir: dir,
            sys,
            dev,
        }
    }

    /// The `[core]` lines that point the core at these ports.
    pub fn core_lines(&self) -> String {
        format!(
            "sysfs_root = \"{}\"\ndev_root = \"{}\"\n",
            self.sys.display(),
            self.dev.display()
        )
    }
}

/// A pymodbus RTU server (`tests/fakes/modbus_server.py`) on one end of a
/// pty pair. Derefs to its [`FakeProcess`].
pub struct ModbusServer {
    process: FakeProcess,
}

impl std::ops::Deref for ModbusServer {
    type Target = FakeProcess;
    fn deref(&self) -> &FakeProcess {
        &self.process
    }
}

impl std::ops::DerefMut for ModbusServer {
    fn deref_mut(&mut self) -> &mut FakeProcess {
        &mut self.process
    }
}

impl ModbusServer {
    /// Serves `units` on `port` at `baud` 8N1 and waits until it listens.
    pub fn start(port: &Path, baud: u32, units: &[u8]) -> ModbusServer {
        let mut args = vec![
            "--port".to_string(),
            port.display().to_string(),
            "--baud".to_string(),
            baud.to_string(),
        ];
        for u in units {
            args.extend(["--unit".to_string(), u.to_string()]);
        }
        let mut process = FakeProcess::spawn("pymodbus RTU server", "modbus_server.py", &args);
        process.wait_event("listening", TIMEOUT, |e| e["event"] == "listening");
        ModbusServer { process }
    }

    /// Sets an f32 (big-endian word order) in `kind` (`input`/`holding`) at `address`.
    pub fn set_f32(&mut self, unit: u8, kind: &str, address: u16, value: f64) {
        self.op(json!({"op": "set_f32", "unit": unit, "kind": kind, "address": address, "value": value, "word_order": "big"}));
    }

    /// Sets raw words (registers) or bools (coils, discrete inputs).
    pub fn set(&mut self, unit: u8, kind: &str, address: u16, values: serde_json::Value) {
        self.op(
            json!({"op": "set", "unit": unit, "kind": kind, "address": address, "values": values}),
        );
    }
}

/// A pty pair (re-exported for the serial tests).
pub type Pty = PtyPair;

impl ProviderSpec {
    /// The serial provider with one `[[provider.grant]] port = "<name>"` rule
    /// per entry of `ports` (rule index = position), network `none`.
    pub fn serial(name: &str, ports: &[&str]) -> ProviderSpec {
        let mut spec = ProviderSpec::new(name, bin("igloo-serial")).network("none");
        for p in ports {
            spec = spec.table(&format!("[[provider.grant]]\nport = \"{p}\""));
        }
        spec
    }
}
