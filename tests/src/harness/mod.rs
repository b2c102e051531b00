//! The test harness: blocking helpers that start real processes and wait for
//! observable behaviour. No async; plain `#[test]`s and std threads.
//!
//! - [`browser`]: headless chromium driven through Playwright
//!   (`tests/browser/driver.py`), for tests in a real browser.
//! - [`bins`]: finds the workspace binaries next to the test executable.
//! - [`bundles`]: RAUC bundles for the update tests, good and broken.
//! - [`ports`]: free loopback ports, waiting for a port to accept.
//! - [`wait`]: polling with timeouts and messages that say what was expected
//!   and what was seen instead.
//! - [`mosquitto`]: a private Mosquitto broker, publishing and subscribing.
//! - [`core`]: the `igloo run` core with a generated config, its log and lifecycle.
//! - [`api`]: a client of the HTTP API (`docs/api.md`) with typed views.
//! - [`events`]: a reader of the server-sent event stream.
//! - [`cli`]: runs the `igloo` CLI as a subprocess.
//! - [`logfile`]: searching captured logs.
//! - [`http`]: a file server with Range support and failing routes.
//! - [`fake`]: Python fakes of real peers (JSON events out, JSON commands in).
//! - [`homeassistant`]: a real Home Assistant Core with its MQTT integration on a
//!   test broker, set up and read through its own HTTP API.
//! - [`esphome`]: the fake ESPHome device (Python, aioesphomeapi's own
//!   message definitions) and the ESPHome provider's spec.
//! - [`serial`]: fake UARTs (socat ptys granted through the core's sysfs
//!   path) and the pymodbus RTU server.
//! - [`qemu`]: the appliance image booted in QEMU through U-Boot, its disk as
//!   a qcow2 overlay (which byte ranges the guest wrote), its serial console.
//! - [`ota`]: over-the-air updates on the host: stand-ins for `rauc`,
//!   `fw_printenv` and `reboot` with their board state.
//! - [`compat`]: binaries built from a released protocol version's source
//!   (`core/protocol/releases.toml`), for the compatibility tests.
//! - [`zigbee`]: the Zigbee gateway: the emulated Z-Stack stick plugged in by
//!   a real uevent, granted by the core to the confined Zigbee provider.
//!
//! Everything binds to 127.0.0.1 only, and every process started here is
//! killed when its owner is dropped.

pub mod api;
pub mod auth;
pub mod bins;
pub mod browser;
pub mod bundles;
pub mod cli;
pub mod compat;
pub mod core;
pub mod esphome;
pub mod events;
pub mod fake;
pub mod homeassistant;
pub mod hotplug;
pub mod http;
pub mod logfile;
pub mod mosquitto;
pub mod netns;
pub mod ntp;
pub mod ota;
pub mod ports;
pub mod privileged;
pub mod python;
pub mod qemu;
pub mod sandbox_fixture;
pub mod serial;
pub mod wait;
pub mod wifi;
pub mod zigbee;

pub use api::{Api, Device, Entity, Provider};
pub use bins::bin;
pub use browser::Browser;
pub use cli::CliOutput;
pub use core::{
    AuthMode, Core, CoreSettings, ProviderSpec, RefusedRun, providers_toml, providers_toml_v1,
    run_config,
};
pub use events::EventStream;
pub use logfile::LogFile;
pub use mosquitto::{Credentials, Mosquitto, MqttMessage, Subscriber};
pub use ports::{free_port, wait_port};
pub use wait::{LONG, SHORT, TIMEOUT, wait_for, wait_until};
