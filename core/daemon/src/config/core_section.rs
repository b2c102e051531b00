//! `[core]`: the core's own settings (docs/configuration.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Source};
use crate::grants::settings::HardwareSettings;
use crate::sandbox::settings::{CoreSandbox, RawCoreSandbox};

/// `[core]`.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// `data_dir = "/var/lib/igloo"`: absolute data directory (device-id
    /// database, providers' data dirs).
    pub data_dir: PathBuf,
    /// `api_listen = "127.0.0.1:8080"`: HTTP API listen address.
    pub api_listen: SocketAddr,
    /// `heartbeat_interval_ms = 5000`: how often each provider is pinged.
    pub heartbeat_interval: Duration,
    /// `heartbeat_timeout_ms = 15000`: a provider that has not answered a
    /// ping for this long is restarted.
    pub heartbeat_timeout: Duration,
    /// `max_frame`: largest accepted frame payload from a provider, bytes
    /// (default [`igloo_protocol::DEFAULT_MAX_FRAME`]).
    pub max_frame: usize,
    /// `log = "info"`: tracing filter directive (`RUST_LOG` overrides).
    pub log: String,
    /// `provider_socket`: Unix socket for providers started by hand
    /// (`IGLOO_SOCKET`), if any. A name starting with `@` is an abstract
    /// socket (Linux), e.g. `@igloo`.
    pub provider_socket: Option<PathBuf>,
    /// Sandbox settings shared by all providers.
    pub sandbox: CoreSandbox,
    /// Where serial ports are found and whether hot-plug is followed.
    pub hardware: HardwareSettings,
    /// `versions_dir`: where provider versions are installed side by side,
    /// `<versions_dir>/<provider>/<version>/<executable>` (default
    /// `<data_dir>/provider-versions`). Owned by the core and never writable
    /// by a provider, unlike the providers' data dirs.
    pub versions_dir: PathBuf,
    /// `secrets_dir`: where the files named in `[provider.secrets]` are read
    /// at each provider start (default `<data_dir>/secrets`). Only the core
    /// reads it: no provider's sandbox grants it.
    pub secrets_dir: PathBuf,
}

/// `[core]` as written; a missing key takes its default from
/// [`RawCore::default`] (which takes the sandbox and hardware defaults from
/// their owners).
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCore {
    data_dir: String,
    api_listen: Spanned<String>,
    heartbeat_interval_ms: Spanned<u64>,
    heartbeat_timeout_ms: Spanned<u64>,
    max_frame: Spanned<u64>,
    log: String,
    provider_socket: Option<String>,
    versions_dir: Option<String>,
    secrets_dir: Option<String>,
    // Sandbox keys: see `CoreSandbox`.
    uid_range: Spanned<[u32; 2]>,
    cgroup: Spanned<String>,
    nft_table: Spanned<String>,
    lan_prefixes: Option<Spanned<Vec<String>>>,
    landlock_max_abi: u8,
    // Hardware keys: see `HardwareSettings`.
    sysfs_root: PathBuf,
    dev_root: PathBuf,
    hotplug: bool,
}

impl Default for RawCore {
    fn default() -> Self {
        let sandbox = RawCoreSandbox::default();
        let hardware = HardwareSettings::default();
        RawCore {
            data_dir: "/var/lib/igloo".into(),
            api_listen: unspanned("127.0.0.1:8080".into()),
            heartbeat_interval_ms: unspanned(5000),
            heartbeat_timeout_ms: unspanned(15000),
            max_frame: unspanned(igloo_protocol::DEFAULT_MAX_FRAME as u64),
            log: "info".into(),
            provider_socket: None,
            versions_dir: None,
            secrets_dir: None,
            uid_range: sandbox.uid_range,
            cgroup: sandbox.cgroup,
            nft_table: sandbox.nft_table,
            lan_prefixes: sandbox.lan_prefixes,
            landlock_max_abi: sandbox.landlock_max_abi,
            sysfs_root: hardware.sysfs_root,
            dev_root: hardware.dev_root,
            hotplug: hardware.hotplug,
        }
    }
}

fn unspanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}

/// Largest `max_frame` accepted, bytes (64 MiB).
const MAX_FRAME_CEILING: u64 = 64 << 20;

impl CoreConfig {
    /// Checks `[core]` and resolves its paths against the config file's directory.
    ///
    /// # Errors
    /// A bad `api_listen`, heartbeat, `max_frame` or sandbox key, at the key.
    pub fn from_raw(c: RawCore, src: &Source<'_>) -> Result<CoreConfig, ConfigError> {
        let api_listen = c.api_listen.get_ref().parse::<SocketAddr>().map_err(|e| {
            src.error(
                Some(c.api_listen.span()),
                format!(
                    "api_listen {:?}: {e} (expected host:port, e.g. 127.0.0.1:8080)",
                    c.api_listen.get_ref()
                ),
            )
        })?;
        let hb = *c.heartbeat_interval_ms.get_ref();
        let hbt = *c.heartbeat_timeout_ms.get_ref();
        if hb == 0 {
            return Err(src.error(
                Some(c.heartbeat_interval_ms.span()),
                "heartbeat_interval_ms must be > 0".into(),
            ));
        }
        if hbt <= hb {
            return Err(src.error(
                Some(c.heartbeat_timeout_ms.span()),
                format!(
                    "heartbeat_timeout_ms ({hbt}) must be greater than heartbeat_interval_ms ({hb})"
                ),
            ));
        }
        let max_frame = *c.max_frame.get_ref();
        if !(1024..=MAX_FRAME_CEILING).contains(&max_frame) {
            return Err(src.error(
                Some(c.max_frame.span()),
                format!("max_frame {max_frame} is outside 1024..={MAX_FRAME_CEILING} bytes"),
            ));
        }
        let sandbox = CoreSandbox::from_raw(RawCoreSandbox {
            uid_range: c.uid_range,
            cgroup: c.cgroup,
            nft_table: c.nft_table,
            lan_prefixes: c.lan_prefixes,
            landlock_max_abi: c.landlock_max_abi,
        })
        .map_err(|e| src.key_error(e, 0..0, ""))?;
        let hardware = HardwareSettings {
            sysfs_root: c.sysfs_root,
            dev_root: c.dev_root,
            hotplug: c.hotplug,
        }
        .resolved(&src.base);
        let data_dir = src.abs(&c.data_dir);
        let versions_dir = c
            .versions_dir
            .as_deref()
            .map_or_else(|| data_dir.join("provider-versions"), |p| src.abs(p));
        let secrets_dir = c
            .secrets_dir
            .as_deref()
            .map_or_else(|| data_dir.join("secrets"), |p| src.abs(p));
        let provider_socket = c
            .provider_socket
            .as_deref()
            .map(|p| match p.starts_with('@') {
                true => PathBuf::from(p),
                false => src.abs(p),
            });
        Ok(CoreConfig {
            data_dir,
            api_listen,
            heartbeat_interval: Duration::from_millis(hb),
            heartbeat_timeout: Duration::from_millis(hbt),
            max_frame: max_frame as usize,
            log: c.log,
            provider_socket,
            sandbox,
            hardware,
            versions_dir,
            secrets_dir,
        })
    }
}
