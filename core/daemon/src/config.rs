//! The core's configuration file (`igloo.toml`): parsing and validation with
//! file:line:column errors. The format is documented in `docs/configuration.md`.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

pub use crate::grants::rules::GrantRule;
pub use crate::sandbox::netpolicy::NetworkPolicy;

/// A configuration error pointing at the place in the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", location(*.line, *.column))]
pub struct ConfigError {
    /// The config file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and, where useful, what to do.
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c} (line {l})"),
        (Some(l), None) => format!(":{l} (line {l})"),
        _ => String::new(),
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Core settings.
    pub core: CoreConfig,
    /// One entry per `[[provider]]`, in file order.
    pub providers: Vec<ProviderConfig>,
    /// The file it came from.
    pub path: PathBuf,
}

/// `[core]`.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Absolute data directory (device-id database, providers' data dirs).
    pub data_dir: PathBuf,
    /// HTTP API listen address.
    pub api_listen: SocketAddr,
    /// How often each provider is pinged.
    pub heartbeat_interval: Duration,
    /// A provider that has not answered a ping for this long is restarted.
    pub heartbeat_timeout: Duration,
    /// Largest accepted frame payload from a provider, bytes.
    pub max_frame: usize,
    /// tracing filter directive (`RUST_LOG` overrides).
    pub log: String,
    /// Unix socket for providers started by hand (`IGLOO_SOCKET`), if any.
    /// A name starting with `@` is an abstract socket (Linux), e.g. `@igloo`.
    pub provider_socket: Option<PathBuf>,
    /// Sandbox and hardware-grant settings shared by all providers.
    pub sandbox: CoreSandbox,
    /// `versions_dir`: where provider versions are installed side by side,
    /// `<versions_dir>/<provider>/<version>/<executable>` (default
    /// `<data_dir>/provider-versions`). Owned by the core and never writable
    /// by a provider, unlike the providers' data dirs.
    pub versions_dir: PathBuf,
}

/// The sandbox-related keys of `[core]` (DESIGN §7, docs/configuration.md).
#[derive(Debug, Clone)]
pub struct CoreSandbox {
    /// `uid_range = [first, last]`: providers without an explicit `uid` get
    /// one from this range, assigned once per provider name and kept in the
    /// database. Default `[64000, 64999]` (Debian policy §9.2.2 leaves
    /// 60000–64999 to the local system; systemd's DynamicUser range starts at 61184
    /// but its allocations are transient and do not clash with fixed ones above 64000).
    pub uid_range: (u32, u32),
    /// `cgroup = "igloo"`: name of the cgroup made under each hierarchy for
    /// the providers' own cgroups; `""` turns cgroups off.
    pub cgroup: Option<String>,
    /// `nft_table = "igloo"`: the one nftables `inet` table the core owns for
    /// `lan`/`wan` policies.
    pub nft_table: String,
    /// `lan_prefixes`: what `lan` may reach and `wan` may not.
    pub lan_prefixes: Vec<ipnet::IpNet>,
    /// `sysfs_root = "/sys"`: where USB attributes of serial ports are read.
    pub sysfs_root: PathBuf,
    /// `dev_root = "/dev"`: where device nodes of granted ports are opened.
    pub dev_root: PathBuf,
    /// `hotplug = true`: listen to kernel uevents and grant/revoke on plug/unplug.
    pub hotplug: bool,
    /// `landlock_max_abi = 7`: use Landlock at most at this ABI (0 = not at
    /// all). Lower it to reproduce an older kernel; higher than the highest
    /// tested ABI is capped.
    pub landlock_max_abi: i32,
}

/// One `[[provider]]`.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Unique name (`[a-z0-9_-]+`).
    pub name: String,
    /// Resolved executable path.
    pub exec: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// `[provider.config]` as TOML text, passed in `Welcome`.
    pub config_toml: String,
    /// `network = "lan"`: what the provider may reach (default `lan`).
    pub network: NetworkPolicy,
    /// `untrusted = true`: never start it without Landlock, unless
    /// `sandbox.allow_without_landlock` says so.
    pub untrusted: bool,
    /// `[provider.sandbox]`.
    pub sandbox: SandboxSettings,
    /// `[provider.limits]`.
    pub limits: ProviderLimits,
    /// `[[provider.grant]]` rules: devices the core opens and passes to it.
    pub grants: Vec<GrantRule>,
    /// `wait_for_grant = true`: start only once a device matching `grants` is present.
    pub wait_for_grant: bool,
    /// `[provider.update]`: when a newly switched-to version counts as failed.
    pub update: UpdatePolicy,
    /// Problems that do not stop the provider, each naming its file and line.
    pub warnings: Vec<String>,
    /// Line in the config file of each key of `[provider.config]`, dotted,
    /// array elements by index (`modbus.0.baud`); `""` is the section itself.
    pub config_lines: BTreeMap<String, usize>,
}

impl ProviderConfig {
    /// The 1-based line in the config file of `key` (dotted, relative to
    /// `[provider.config]`, array elements by index: `"modbus.0.baud"`), else
    /// of its nearest ancestor that is in the file, else of the section.
    /// `None` when the provider has no config section.
    pub fn config_line(&self, key: &str) -> Option<usize> {
        lookup_line(&self.config_lines, key)
    }
}

/// [`ProviderConfig::config_line`] over a key → line map.
fn lookup_line(lines: &BTreeMap<String, usize>, key: &str) -> Option<usize> {
    let mut key = key;
    loop {
        if let Some(line) = lines.get(key) {
            return Some(*line);
        }
        match key.rfind('.') {
            Some(i) => key = &key[..i],
            None if !key.is_empty() => key = "",
            None => return None,
        }
    }
}

/// Warnings for every integer key named `grant` in a `[provider.config]`
/// section (at any depth) whose value is not the index of one of the
/// provider's `rules` `[[provider.grant]]` rules: by convention
/// (docs/configuration.md) such a key names the rule whose device that part
/// of the provider uses, and with no rule it never gets one. `place` gives
/// `file:line` for a dotted key.
fn grant_reference_warnings(
    config: &toml::Table,
    rules: usize,
    place: &dyn Fn(&str) -> String,
) -> Vec<String> {
    fn walk(
        v: &toml::Value,
        key: &str,
        rules: usize,
        place: &dyn Fn(&str) -> String,
        out: &mut Vec<String>,
    ) {
        let join = |k: &str| match key.is_empty() {
            true => k.to_string(),
            false => format!("{key}.{k}"),
        };
        match v {
            toml::Value::Table(t) => {
                for (k, child) in t {
                    let path = join(k);
                    match child {
                        toml::Value::Integer(n)
                            if k == "grant" && (*n < 0 || *n as u64 >= rules as u64) =>
                        {
                            out.push(format!(
                                "{}: [provider.config] {path} = {n}, but the provider has {} (rules are numbered from 0 in file order); that part gets no device",
                                place(&path),
                                match rules {
                                    0 => "no [[provider.grant]] rule".to_string(),
                                    1 => "1 [[provider.grant]] rule".to_string(),
                                    r => format!("{r} [[provider.grant]] rules"),
                                }
                            ));
                        }
                        _ => walk(child, &path, rules, place, out),
                    }
                }
            }
            toml::Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, &join(&i.to_string()), rules, place, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(
        &toml::Value::Table(config.clone()),
        "",
        rules,
        place,
        &mut out,
    );
    out
}

/// The line of every key under the `index`-th `[[provider]]`'s `config`
/// table in `text` (see [`ProviderConfig::config_lines`]).
fn config_lines(text: &str, index: usize) -> BTreeMap<String, usize> {
    use toml::de::{DeTable, DeValue};
    fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a toml::Spanned<DeValue<'i>>> {
        t.iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(_, v)| v)
    }
    fn walk(
        text: &str,
        path: &str,
        v: &toml::Spanned<DeValue<'_>>,
        out: &mut BTreeMap<String, usize>,
    ) {
        out.insert(path.to_string(), line_col(text, v.span().start).0);
        let join = |k: &str| match path.is_empty() {
            true => k.to_string(),
            false => format!("{path}.{k}"),
        };
        match v.get_ref() {
            DeValue::Table(t) => {
                for (k, child) in t.iter() {
                    walk(text, &join(k.get_ref()), child, out);
                }
            }
            DeValue::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(text, &join(&i.to_string()), child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    let Ok(root) = DeTable::parse(text) else {
        return out;
    };
    let section = get(root.get_ref(), "provider")
        .and_then(|p| match p.get_ref() {
            DeValue::Array(a) => a.get(index),
            _ => None,
        })
        .and_then(|p| match p.get_ref() {
            DeValue::Table(t) => get(t, "config"),
            _ => None,
        });
    if let Some(section) = section {
        walk(text, "", section, &mut out);
    }
    out
}

/// `[provider.update]`: the trial of a new provider version after
/// `igloo providers update` (docs/compatibility.md). A version that fails its
/// handshake, or ends `max_failures` times within `window` of the switch, is
/// replaced by the previous version; one that survives the window is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// `window_ms = 60000`: how long a new version is on trial.
    pub window: Duration,
    /// `max_failures = 3`: exits or lost connections within the window that
    /// send the provider back to the previous version (1..=100).
    pub max_failures: u32,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        UpdatePolicy {
            window: Duration::from_millis(60_000),
            max_failures: 3,
        }
    }
}

/// `[provider.sandbox]`: how one provider is confined (DESIGN §7).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxSettings {
    /// `enabled = true`. `false` runs the provider unconfined (for tests
    /// and debugging; the core logs a warning and the API shows it).
    pub enabled: bool,
    /// `uid`: fixed uid instead of one from `[core] uid_range`.
    pub uid: Option<u32>,
    /// `gid`: fixed gid (default: the uid's number).
    pub gid: Option<u32>,
    /// `allow_without_landlock = false`: start an untrusted provider even
    /// when the kernel has no Landlock.
    pub allow_without_landlock: bool,
    /// `tcp_connect = [1883]`: TCP ports it may connect to (Landlock ABI ≥ 4).
    /// Absent: any port.
    pub tcp_connect: Option<Vec<u16>>,
    /// `tcp_bind = []`: TCP ports it may bind (default none).
    pub tcp_bind: Vec<u16>,
    /// `socket_families = ["inet", "inet6"]`: address families it may create
    /// sockets in (seccomp). Also: `unix`, `netlink`.
    pub socket_families: Vec<SocketFamily>,
    /// `read_paths`: extra files or directories it may read.
    pub read_paths: Vec<PathBuf>,
    /// `exec_paths`: extra files or directories it may read and execute
    /// (e.g. an interpreter for a script provider).
    pub exec_paths: Vec<PathBuf>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            enabled: true,
            uid: None,
            gid: None,
            allow_without_landlock: false,
            tcp_connect: None,
            tcp_bind: Vec::new(),
            socket_families: vec![SocketFamily::Inet, SocketFamily::Inet6],
            read_paths: Vec::new(),
            exec_paths: Vec::new(),
        }
    }
}

/// An address family a provider may open sockets in (`socket_families`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketFamily {
    /// `AF_INET`.
    Inet,
    /// `AF_INET6`.
    Inet6,
    /// `AF_UNIX` (lets it connect to pathname sockets Landlock < ABI 9 cannot guard).
    Unix,
    /// `AF_NETLINK` (e.g. to list network interfaces).
    Netlink,
}

impl SocketFamily {
    /// The `AF_*` number (used by the seccomp filter, which is built only
    /// where seccompiler has a backend).
    #[cfg_attr(
        not(any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )),
        allow(dead_code)
    )]
    pub fn af(self) -> i32 {
        match self {
            SocketFamily::Inet => libc::AF_INET,
            SocketFamily::Inet6 => libc::AF_INET6,
            SocketFamily::Unix => libc::AF_UNIX,
            SocketFamily::Netlink => libc::AF_NETLINK,
        }
    }
}

/// `[provider.limits]`: resource limits (rlimits and cgroup).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProviderLimits {
    /// `memory_mib = 256`: cgroup memory limit, MiB (0 = none).
    pub memory_mib: u64,
    /// `pids = 128`: processes and threads (cgroup `pids.max` and `RLIMIT_NPROC`).
    pub pids: u64,
    /// `open_files = 1024`: `RLIMIT_NOFILE`.
    pub open_files: u64,
    /// `address_space_mib = 4096`: `RLIMIT_AS`, MiB (0 = unlimited).
    pub address_space_mib: u64,
}

impl Default for ProviderLimits {
    fn default() -> Self {
        ProviderLimits {
            memory_mib: 256,
            pids: 128,
            open_files: 1024,
            address_space_mib: 4096,
        }
    }
}

/// Exponential back-off with jitter between restarts of one provider.
#[derive(Debug, Clone, Copy)]
pub struct RestartPolicy {
    /// First delay.
    pub initial_backoff: Duration,
    /// Cap.
    pub max_backoff: Duration,
    /// Running this long resets the back-off to `initial_backoff`.
    pub stable_after: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    core: RawCore,
    #[serde(default)]
    provider: Vec<RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCore {
    #[serde(default = "default_data_dir")]
    data_dir: Spanned<String>,
    #[serde(default = "default_api")]
    api_listen: Spanned<String>,
    #[serde(default = "default_heartbeat")]
    heartbeat_interval_ms: Spanned<u64>,
    #[serde(default = "default_heartbeat_timeout")]
    heartbeat_timeout_ms: Spanned<u64>,
    #[serde(default = "default_max_frame")]
    max_frame: Spanned<u64>,
    #[serde(default = "default_log")]
    log: String,
    #[serde(default)]
    provider_socket: Option<String>,
    #[serde(default = "default_uid_range")]
    uid_range: Spanned<[u32; 2]>,
    #[serde(default = "default_cgroup")]
    cgroup: String,
    #[serde(default = "default_nft_table")]
    nft_table: Spanned<String>,
    #[serde(default)]
    lan_prefixes: Option<Spanned<Vec<String>>>,
    #[serde(default = "default_sysfs")]
    sysfs_root: String,
    #[serde(default = "default_dev")]
    dev_root: String,
    #[serde(default = "default_true")]
    hotplug: bool,
    #[serde(default = "default_landlock_abi")]
    landlock_max_abi: u8,
    #[serde(default)]
    versions_dir: Option<String>,
}

fn default_landlock_abi() -> u8 {
    crate::sandbox::landlock::HIGHEST_TESTED_ABI as u8
}

fn default_uid_range() -> Spanned<[u32; 2]> {
    unspanned([64000, 64999])
}
fn default_cgroup() -> String {
    "igloo".into()
}
fn default_nft_table() -> Spanned<String> {
    unspanned("igloo".into())
}
fn default_sysfs() -> String {
    "/sys".into()
}
fn default_dev() -> String {
    "/dev".into()
}
fn default_true() -> bool {
    true
}

impl Default for RawCore {
    fn default() -> Self {
        RawCore {
            data_dir: default_data_dir(),
            api_listen: default_api(),
            heartbeat_interval_ms: default_heartbeat(),
            heartbeat_timeout_ms: default_heartbeat_timeout(),
            max_frame: default_max_frame(),
            log: default_log(),
            provider_socket: None,
            uid_range: default_uid_range(),
            cgroup: default_cgroup(),
            nft_table: default_nft_table(),
            lan_prefixes: None,
            sysfs_root: default_sysfs(),
            dev_root: default_dev(),
            hotplug: true,
            landlock_max_abi: default_landlock_abi(),
            versions_dir: None,
        }
    }
}

fn unspanned<T>(v: T) -> Spanned<T> {
    Spanned::new(0..0, v)
}
fn default_data_dir() -> Spanned<String> {
    unspanned("/var/lib/igloo".into())
}
fn default_api() -> Spanned<String> {
    unspanned("127.0.0.1:8080".into())
}
fn default_heartbeat() -> Spanned<u64> {
    unspanned(5000)
}
fn default_heartbeat_timeout() -> Spanned<u64> {
    unspanned(15000)
}
fn default_max_frame() -> Spanned<u64> {
    unspanned(igloo_protocol::DEFAULT_MAX_FRAME as u64)
}
fn default_log() -> String {
    "info".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Spanned<String>,
    exec: Spanned<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    restart: RawRestart,
    #[serde(default)]
    config: toml::Table,
    #[serde(default = "default_network")]
    network: NetworkPolicy,
    #[serde(default)]
    untrusted: bool,
    #[serde(default)]
    sandbox: RawSandbox,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    grant: Vec<Spanned<GrantRule>>,
    #[serde(default)]
    wait_for_grant: bool,
    #[serde(default)]
    update: RawUpdate,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdate {
    #[serde(default = "d60000")]
    window_ms: u64,
    #[serde(default = "d3")]
    max_failures: u32,
}

impl Default for RawUpdate {
    fn default() -> Self {
        RawUpdate {
            window_ms: d60000(),
            max_failures: d3(),
        }
    }
}

fn d3() -> u32 {
    3
}

fn default_network() -> NetworkPolicy {
    NetworkPolicy::Lan
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSandbox {
    #[serde(default = "default_true")]
    enabled: bool,
    #[serde(default)]
    uid: Option<u32>,
    #[serde(default)]
    gid: Option<u32>,
    #[serde(default)]
    allow_without_landlock: bool,
    #[serde(default)]
    tcp_connect: Option<Vec<u16>>,
    #[serde(default)]
    tcp_bind: Vec<u16>,
    #[serde(default)]
    socket_families: Option<Vec<SocketFamily>>,
    #[serde(default)]
    read_paths: Vec<String>,
    #[serde(default)]
    exec_paths: Vec<String>,
}

impl Default for RawSandbox {
    fn default() -> Self {
        RawSandbox {
            enabled: true,
            uid: None,
            gid: None,
            allow_without_landlock: false,
            tcp_connect: None,
            tcp_bind: Vec::new(),
            socket_families: None,
            read_paths: Vec::new(),
            exec_paths: Vec::new(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default)]
    memory_mib: Option<u64>,
    #[serde(default)]
    pids: Option<u64>,
    #[serde(default)]
    open_files: Option<u64>,
    #[serde(default)]
    address_space_mib: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRestart {
    #[serde(default = "d500")]
    initial_backoff_ms: u64,
    #[serde(default = "d30000")]
    max_backoff_ms: u64,
    #[serde(default = "d60000")]
    stable_after_ms: u64,
}

impl Default for RawRestart {
    fn default() -> Self {
        RawRestart {
            initial_backoff_ms: d500(),
            max_backoff_ms: d30000(),
            stable_after_ms: d60000(),
        }
    }
}
fn d500() -> u64 {
    500
}
fn d30000() -> u64 {
    30_000
}
fn d60000() -> u64 {
    60_000
}

/// Turns a byte offset into 1-based (line, column).
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

impl Config {
    /// Reads and validates `path`. Relative paths inside are relative to the file's directory.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and, for syntax and validation errors, the line and column.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config `text` that was read from `path`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err_at = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = match span {
                Some(s) if !(s.start == 0 && s.end == 0) => {
                    let (l, c) = line_col(text, s.start);
                    (Some(l), Some(c))
                }
                _ => (None, None),
            };
            ConfigError {
                path: path.display().to_string(),
                line,
                column,
                message,
            }
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| err_at(e.span(), e.message().trim().to_string()))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let abs = |p: &str| -> PathBuf {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };

        let c = raw.core;
        let api_listen = c.api_listen.get_ref().parse::<SocketAddr>().map_err(|e| {
            err_at(
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
            return Err(err_at(
                Some(c.heartbeat_interval_ms.span()),
                "heartbeat_interval_ms must be > 0".into(),
            ));
        }
        if hbt <= hb {
            return Err(err_at(
                Some(c.heartbeat_timeout_ms.span()),
                format!(
                    "heartbeat_timeout_ms ({hbt}) must be greater than heartbeat_interval_ms ({hb})"
                ),
            ));
        }
        let max_frame = *c.max_frame.get_ref();
        if !(1024..=(64 << 20)).contains(&max_frame) {
            return Err(err_at(
                Some(c.max_frame.span()),
                format!("max_frame {max_frame} is outside 1024..=67108864 bytes"),
            ));
        }
        let [uid_first, uid_last] = *c.uid_range.get_ref();
        if uid_first == 0 || uid_last < uid_first || uid_last >= 0xFFFF_FFFE {
            return Err(err_at(
                Some(c.uid_range.span()),
                format!(
                    "uid_range [{uid_first}, {uid_last}] must be [first, last] with 0 < first <= last < 4294967294"
                ),
            ));
        }
        let table = c.nft_table.get_ref();
        if !valid_provider_name(table) {
            return Err(err_at(
                Some(c.nft_table.span()),
                format!("nft_table {table:?} must be 1-64 characters of a-z, 0-9, '-' and '_'"),
            ));
        }
        let lan_prefixes = match &c.lan_prefixes {
            None => crate::sandbox::netpolicy::default_lan_prefixes(),
            Some(list) => {
                let mut out = Vec::new();
                for p in list.get_ref() {
                    out.push(p.parse::<ipnet::IpNet>().map_err(|e| {
                        err_at(
                            Some(list.span()),
                            format!("lan_prefixes: {p:?} is not a prefix like 192.168.0.0/16 or fd00::/8: {e}"),
                        )
                    })?);
                }
                out
            }
        };
        if !c.cgroup.is_empty() && !valid_provider_name(&c.cgroup) {
            return Err(err_at(
                None,
                format!(
                    "cgroup {:?} must be empty or 1-64 characters of a-z, 0-9, '-' and '_'",
                    c.cgroup
                ),
            ));
        }
        let sandbox = CoreSandbox {
            uid_range: (uid_first, uid_last),
            cgroup: (!c.cgroup.is_empty()).then(|| c.cgroup.clone()),
            nft_table: table.clone(),
            lan_prefixes,
            sysfs_root: abs(&c.sysfs_root),
            dev_root: abs(&c.dev_root),
            hotplug: c.hotplug,
            landlock_max_abi: i32::from(c.landlock_max_abi),
        };
        let data_dir = abs(c.data_dir.get_ref());
        let versions_dir = c
            .versions_dir
            .as_deref()
            .map_or_else(|| data_dir.join("provider-versions"), &abs);
        let core = CoreConfig {
            versions_dir,
            data_dir,
            api_listen,
            heartbeat_interval: Duration::from_millis(hb),
            heartbeat_timeout: Duration::from_millis(hbt),
            max_frame: max_frame as usize,
            log: c.log,
            provider_socket: c.provider_socket.as_deref().map(|p| {
                if p.starts_with('@') {
                    PathBuf::from(p)
                } else {
                    abs(p)
                }
            }),
            sandbox,
        };

        let mut seen = HashSet::new();
        let mut fixed_uids: HashSet<u32> = HashSet::new();
        let mut providers = Vec::new();
        for (index, p) in raw.provider.into_iter().enumerate() {
            let name = p.name.get_ref();
            if !valid_provider_name(name) {
                return Err(err_at(
                    Some(p.name.span()),
                    format!(
                        "provider name {name:?} must be 1-64 characters of a-z, 0-9, '-' and '_'"
                    ),
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(err_at(
                    Some(p.name.span()),
                    format!("duplicate provider name {name:?}"),
                ));
            }
            let exec = resolve_exec(p.exec.get_ref(), &base).ok_or_else(|| {
                err_at(Some(p.exec.span()), format!("provider {name:?}: executable {:?} not found (looked relative to the config file, next to the igloo binary and on PATH)", p.exec.get_ref()))
            })?;
            let r = p.restart;
            if r.initial_backoff_ms == 0 || r.max_backoff_ms < r.initial_backoff_ms {
                return Err(err_at(
                    Some(p.name.span()),
                    format!(
                        "provider {name:?}: restart needs 0 < initial_backoff_ms <= max_backoff_ms"
                    ),
                ));
            }
            let config_toml = toml::to_string(&p.config).map_err(|e| {
                err_at(
                    Some(p.name.span()),
                    format!("provider {name:?}: config section cannot be re-encoded: {e}"),
                )
            })?;
            let mut grants = Vec::new();
            for rule in p.grant {
                let span = rule.span();
                let rule = rule.into_inner();
                rule.validate().map_err(|e| {
                    err_at(Some(span), format!("provider {name:?}: grant rule: {e}"))
                })?;
                grants.push(rule);
            }
            if p.wait_for_grant && grants.is_empty() {
                return Err(err_at(
                    Some(p.name.span()),
                    format!(
                        "provider {name:?}: wait_for_grant needs at least one [[provider.grant]] rule"
                    ),
                ));
            }
            let sb = p.sandbox;
            if sb.uid == Some(0) || sb.gid == Some(0) {
                return Err(err_at(
                    Some(p.name.span()),
                    format!(
                        "provider {name:?}: sandbox uid/gid 0 (root) is not allowed; use `enabled = false` to run unconfined"
                    ),
                ));
            }
            if let Some(uid) = sb.uid {
                if (uid_first..=uid_last).contains(&uid) {
                    return Err(err_at(
                        Some(p.name.span()),
                        format!(
                            "provider {name:?}: sandbox uid {uid} is inside [core] uid_range [{uid_first}, {uid_last}], where the core assigns uids; choose one outside it"
                        ),
                    ));
                }
                if !fixed_uids.insert(uid) {
                    return Err(err_at(
                        Some(p.name.span()),
                        format!(
                            "provider {name:?}: sandbox uid {uid} is already another provider's; each provider needs its own"
                        ),
                    ));
                }
            }
            let sandbox = SandboxSettings {
                enabled: sb.enabled,
                uid: sb.uid,
                gid: sb.gid,
                allow_without_landlock: sb.allow_without_landlock,
                tcp_connect: sb.tcp_connect,
                tcp_bind: sb.tcp_bind,
                socket_families: sb
                    .socket_families
                    .unwrap_or_else(|| SandboxSettings::default().socket_families),
                read_paths: sb.read_paths.iter().map(|x| abs(x)).collect(),
                exec_paths: sb.exec_paths.iter().map(|x| abs(x)).collect(),
            };
            let d = ProviderLimits::default();
            let l = p.limits;
            let limits = ProviderLimits {
                memory_mib: l.memory_mib.unwrap_or(d.memory_mib),
                pids: l.pids.unwrap_or(d.pids),
                open_files: l.open_files.unwrap_or(d.open_files),
                address_space_mib: l.address_space_mib.unwrap_or(d.address_space_mib),
            };
            let u = p.update;
            if u.window_ms == 0 || !(1..=100).contains(&u.max_failures) {
                return Err(err_at(
                    Some(p.name.span()),
                    format!(
                        "provider {name:?}: [provider.update] needs window_ms > 0 and max_failures in 1..=100"
                    ),
                ));
            }
            let update = UpdatePolicy {
                window: Duration::from_millis(u.window_ms),
                max_failures: u.max_failures,
            };
            if limits.pids == 0 || limits.open_files < 16 {
                return Err(err_at(
                    Some(p.name.span()),
                    format!("provider {name:?}: limits need pids >= 1 and open_files >= 16"),
                ));
            }
            let config_lines = config_lines(text, index);
            let warnings = grant_reference_warnings(&p.config, grants.len(), &|key: &str| {
                let line = lookup_line(&config_lines, key).unwrap_or(0);
                format!("{}:{line}", path.display())
            });
            providers.push(ProviderConfig {
                name: name.clone(),
                exec,
                args: p.args,
                env: p.env,
                restart: RestartPolicy {
                    initial_backoff: Duration::from_millis(r.initial_backoff_ms),
                    max_backoff: Duration::from_millis(r.max_backoff_ms),
                    stable_after: Duration::from_millis(r.stable_after_ms),
                },
                config_toml,
                network: p.network,
                untrusted: p.untrusted,
                sandbox,
                limits,
                grants,
                wait_for_grant: p.wait_for_grant,
                warnings,
                config_lines,
                update,
            });
        }
        Ok(Config {
            core,
            providers,
            path: path.to_path_buf(),
        })
    }
}

/// Whether `name` is a valid provider name: non-empty, `[a-z0-9_-]+`, at most 64 bytes.
pub fn valid_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
}

/// Finds a provider executable: absolute; containing `/` → relative to the
/// config dir; a bare name → next to the running `igloo` binary, then on `PATH`.
fn resolve_exec(exec: &str, base: &Path) -> Option<PathBuf> {
    let is_file = |p: &Path| p.is_file();
    let p = Path::new(exec);
    if p.is_absolute() {
        return is_file(p).then(|| p.to_path_buf());
    }
    if exec.contains('/') {
        let q = base.join(p);
        return is_file(&q).then(|| std::fs::canonicalize(&q).unwrap_or(q));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let q = dir.join(exec);
        if is_file(&q) {
            return Some(q);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(exec))
            .find(|q| is_file(q))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/igloo/igloo.toml"))
    }

    #[test]
    fn defaults_apply() {
        let c = parse("").unwrap();
        assert_eq!(c.core.api_listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.core.data_dir, PathBuf::from("/var/lib/igloo"));
        assert!(c.providers.is_empty());
    }

    #[test]
    fn syntax_error_names_line() {
        let e = parse("[core]\napi_listen = \"127.0.0.1:80\"\nlog = \n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().starts_with("/etc/igloo/igloo.toml:3:"), "{e}");
    }

    #[test]
    fn unknown_key_names_line() {
        let e = parse("[core]\n\nlisten = 1\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("listen"), "{e}");
    }

    #[test]
    fn duplicate_provider_names_line() {
        let text = "[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n\n[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.line, Some(6), "{e}");
        assert!(e.message.contains("duplicate provider name"), "{e}");
    }

    #[test]
    fn missing_exec_and_bad_address() {
        let e = parse("[[provider]]\nname = \"a\"\nexec = \"/nonexistent/x\"\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("not found"));
        let e = parse("[core]\napi_listen = \"localhost\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));
    }

    #[test]
    fn update_policy_and_versions_dir() {
        let c =
            parse("[core]\ndata_dir = \"/d\"\n[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n")
                .unwrap();
        assert_eq!(c.core.versions_dir, PathBuf::from("/d/provider-versions"));
        assert_eq!(c.providers[0].update, UpdatePolicy::default());
        let c = parse("[core]\nversions_dir = \"/v\"\n[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\nwindow_ms = 5000\nmax_failures = 1\n").unwrap();
        assert_eq!(c.core.versions_dir, PathBuf::from("/v"));
        assert_eq!(
            c.providers[0].update,
            UpdatePolicy {
                window: Duration::from_secs(5),
                max_failures: 1
            }
        );
        for bad in ["window_ms = 0", "max_failures = 0", "max_failures = 101"] {
            let e = parse(&format!(
                "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\n{bad}\n"
            ))
            .unwrap_err();
            assert!(e.message.contains("[provider.update] needs"), "{bad}: {e}");
            assert_eq!(e.line, Some(2), "{bad}: {e}");
        }
        let e = parse(
            "[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.update]\nwindow = 1\n",
        )
        .unwrap_err();
        assert!(e.message.contains("window"), "{e}");
    }

    #[test]
    fn sandbox_defaults_are_confining() {
        let c = parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n").unwrap();
        let p = &c.providers[0];
        assert_eq!(p.network, NetworkPolicy::Lan);
        assert!(p.sandbox.enabled && !p.untrusted && !p.wait_for_grant);
        assert_eq!(p.sandbox.tcp_connect, None);
        assert!(p.sandbox.tcp_bind.is_empty());
        assert_eq!(
            p.sandbox.socket_families,
            vec![SocketFamily::Inet, SocketFamily::Inet6]
        );
        assert_eq!(p.limits, ProviderLimits::default());
        assert_eq!(c.core.sandbox.uid_range, (64000, 64999));
        assert_eq!(c.core.sandbox.cgroup.as_deref(), Some("igloo"));
        assert!(!c.core.sandbox.lan_prefixes.is_empty());
    }

    #[test]
    fn sandbox_keys_parse() {
        let text = "[core]\nuid_range = [5000, 5009]\ncgroup = \"\"\nlan_prefixes = [\"10.1.0.0/16\"]\n\
                    [[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nnetwork = \"none\"\nuntrusted = true\nwait_for_grant = true\n\
                    [provider.sandbox]\ntcp_connect = [1883, 8883]\nsocket_families = [\"inet\", \"netlink\"]\n\
                    [provider.limits]\nmemory_mib = 64\npids = 16\n\
                    [[provider.grant]]\nknown = \"zigbee\"\n[[provider.grant]]\nusb = \"10c4:ea60\"\nproduct = \"Sonoff\"\n";
        let c = parse(text).unwrap();
        assert_eq!(c.core.sandbox.uid_range, (5000, 5009));
        assert_eq!(c.core.sandbox.cgroup, None);
        assert_eq!(c.core.sandbox.lan_prefixes.len(), 1);
        let p = &c.providers[0];
        assert_eq!(p.network, NetworkPolicy::None);
        assert!(p.untrusted && p.wait_for_grant);
        assert_eq!(p.sandbox.tcp_connect, Some(vec![1883, 8883]));
        assert_eq!(
            p.sandbox.socket_families,
            vec![SocketFamily::Inet, SocketFamily::Netlink]
        );
        assert_eq!(
            (p.limits.memory_mib, p.limits.pids, p.limits.open_files),
            (64, 16, 1024)
        );
        assert_eq!(p.grants.len(), 2);
    }

    #[test]
    fn sandbox_mistakes_name_the_line() {
        let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nnetwork = \"internet\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[[provider.grant]]\nusb = \"1cf1-0030\"\n").unwrap_err();
        // The rule's [[provider.grant]] header.
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("grant rule"), "{e}");
        let e = parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\nwait_for_grant = true\n")
            .unwrap_err();
        assert!(e.message.contains("wait_for_grant"), "{e}");
        let e =
            parse("[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 0\n")
                .unwrap_err();
        assert!(e.message.contains("root"), "{e}");
        let e = parse(
            "[[provider]]\nname = \"z\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 64001\n",
        )
        .unwrap_err();
        assert!(e.message.contains("inside [core] uid_range"), "{e}");
        let two = "[[provider]]\nname = \"a\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 5000\n\
                   [[provider]]\nname = \"b\"\nexec = \"/bin/sh\"\n[provider.sandbox]\nuid = 5000\n";
        let e = parse(two).unwrap_err();
        assert!(e.message.contains("already another provider's"), "{e}");
        let e = parse("[core]\nlan_prefixes = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        let e = parse("[core]\nuid_range = [0, 10]\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
    }

    #[test]
    fn config_keys_are_found_at_their_lines() {
        let text = r#"[[provider]]
name = "a"
exec = "/bin/true"

[[provider]]
name = "serial"
exec = "/bin/true"

[provider.config]
broker = "x"
tls.ca = "ca.pem"
limits = { baud = 9600 }

[[provider.config.modbus]]
grant = 0
baud = 9601

[[provider.config.modbus]]
grant = 1
"#;
        let c = parse(text).unwrap();
        assert_eq!(c.providers[0].config_line("broker"), None, "no section");
        let p = &c.providers[1];
        assert_eq!(p.config_line("broker"), Some(10));
        assert_eq!(p.config_line("tls.ca"), Some(11), "dotted key");
        assert_eq!(p.config_line("limits.baud"), Some(12), "inline table");
        assert_eq!(p.config_line("modbus.0.baud"), Some(16), "array of tables");
        assert_eq!(p.config_line("modbus.1.grant"), Some(19));
        assert_eq!(p.config_line("modbus.1.nope"), Some(18), "nearest ancestor");
        assert_eq!(p.config_line("nope"), p.config_line(""), "the section");
        assert!(p.config_line("").is_some());
    }

    #[test]
    fn grant_indices_without_a_rule_are_warned_about_with_their_line() {
        let text = r#"[[provider]]
name = "serial"
exec = "/bin/true"

[[provider.grant]]
usb = "1a86:55d4"

[provider.config]
[[provider.config.modbus]]
grant = 0
[[provider.config.p1]]
grant = 2
"#;
        let c = parse(text).unwrap();
        let w = &c.providers[0].warnings;
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("/etc/igloo/igloo.toml:12: [provider.config] p1.0.grant = 2")
                && w[0].contains("1 [[provider.grant]] rule"),
            "{w:?}"
        );
    }

    #[test]
    fn provider_config_is_passed_as_toml() {
        let c = parse("[[provider]]\nname = \"m\"\nexec = \"/bin/sh\"\n[provider.config]\nbroker = \"127.0.0.1:1883\"\n").unwrap();
        let t: toml::Table = toml::from_str(&c.providers[0].config_toml).unwrap();
        assert_eq!(t["broker"].as_str(), Some("127.0.0.1:1883"));
    }
}
