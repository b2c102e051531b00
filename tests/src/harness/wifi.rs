//! A core that manages Wi-Fi (`[wifi]`) with its files in a temporary
//! directory, for tests/tests/wifi.rs and tests/tests/dashboard_wifi.rs.
//! The loopback interface stands in for `wlan0`: it exists on every host.

use std::path::PathBuf;

use tempfile::TempDir;

use super::core::{Core, CoreSettings};

/// The running core and the directory its Wi-Fi files live in.
pub struct WifiGateway {
    /// The core, started with `[wifi]` pointing into [`WifiGateway::dir`].
    pub core: Core,
    dir: TempDir,
}

impl WifiGateway {
    /// Starts a core with `[wifi] config`, `pid_file` in a new temporary
    /// directory and `interface = "lo"`.
    ///
    /// # Panics
    /// If the directory cannot be made or the core does not start.
    pub fn start() -> WifiGateway {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let s = |p: PathBuf| toml::Value::String(p.display().to_string());
        let settings = CoreSettings {
            extra_toml: format!(
                "[wifi]\nconfig = {}\npid_file = {}\ninterface = \"lo\"\n",
                s(dir.path().join("etc/wifi/wpa_supplicant.conf")),
                s(dir.path().join("wpa_supplicant.pid")),
            ),
            ..CoreSettings::default()
        };
        WifiGateway {
            core: Core::start_with(settings, ""),
            dir,
        }
    }

    /// The temporary directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The supplicant config the core writes (`etc/wifi/wpa_supplicant.conf`).
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("etc/wifi/wpa_supplicant.conf")
    }

    /// The pid file the core reads to send SIGHUP.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.path().join("wpa_supplicant.pid")
    }

    /// The config file's text.
    ///
    /// # Panics
    /// If it cannot be read.
    pub fn read_config(&self) -> String {
        std::fs::read_to_string(self.config())
            .unwrap_or_else(|e| panic!("{}: {e}", self.config().display()))
    }
}
