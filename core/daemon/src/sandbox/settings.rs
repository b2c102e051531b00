//! The sandbox's settings in `igloo.toml`: `[provider.sandbox]`,
//! `[provider.limits]` and the sandbox keys of `[core]`
//! (docs/configuration.md, DESIGN §7). Each section is read here, with its
//! defaults written once (in its `Default`), and checked by its `from_raw`,
//! whose error is the message and the span of the offending key in the file
//! (`config` turns it into `file:line:column`).

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A mistake in one key: what is wrong and the key's byte span in the
/// config file (`0..0` when the value is a default, not in the file).
pub type KeyError = Spanned<String>;

fn key_error(span: Range<usize>, message: String) -> KeyError {
    Spanned::new(span, message)
}

/// Whether `name` is a valid cgroup or nftables table name: non-empty,
/// `[a-z0-9_-]+`, at most 64 bytes (the same rule as provider names).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
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
    /// `read_paths`: extra files or directories it may read (relative ones
    /// are relative to the config file's directory).
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

/// `[provider.sandbox]` as written in the file, with the spans of the keys
/// that [`SandboxSettings::from_raw`] checks; missing keys take
/// [`SandboxSettings::default`].
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSandbox {
    enabled: bool,
    uid: Option<Spanned<u32>>,
    gid: Option<Spanned<u32>>,
    allow_without_landlock: bool,
    tcp_connect: Option<Vec<u16>>,
    tcp_bind: Vec<u16>,
    socket_families: Vec<SocketFamily>,
    read_paths: Vec<PathBuf>,
    exec_paths: Vec<PathBuf>,
}

impl Default for RawSandbox {
    fn default() -> Self {
        let d = SandboxSettings::default();
        let unspanned = |v: Option<u32>| v.map(|v| Spanned::new(0..0, v));
        RawSandbox {
            enabled: d.enabled,
            uid: unspanned(d.uid),
            gid: unspanned(d.gid),
            allow_without_landlock: d.allow_without_landlock,
            tcp_connect: d.tcp_connect,
            tcp_bind: d.tcp_bind,
            socket_families: d.socket_families,
            read_paths: d.read_paths,
            exec_paths: d.exec_paths,
        }
    }
}

impl RawSandbox {
    /// The fixed `uid` and its span in the file, for checks across
    /// providers (two providers with the same fixed uid).
    pub fn uid(&self) -> Option<&Spanned<u32>> {
        self.uid.as_ref()
    }
}

impl SandboxSettings {
    /// Checks `raw` as read from the file and makes its paths absolute
    /// against `base`, the config file's directory. Uniqueness of fixed uids
    /// across providers is the caller's to check.
    ///
    /// # Errors
    /// A `uid` or `gid` of 0 (root), or a `uid` inside `core.uid_range`,
    /// with the key's span.
    pub fn from_raw(
        raw: RawSandbox,
        core: &CoreSandbox,
        base: &Path,
    ) -> Result<SandboxSettings, KeyError> {
        for id in [&raw.uid, &raw.gid].into_iter().flatten() {
            if *id.get_ref() == 0 {
                return Err(key_error(
                    id.span(),
                    "uid/gid 0 (root) is not allowed; use `enabled = false` to run unconfined"
                        .into(),
                ));
            }
        }
        let (first, last) = core.uid_range;
        if let Some(uid) = raw
            .uid
            .as_ref()
            .filter(|u| (first..=last).contains(u.get_ref()))
        {
            return Err(key_error(
                uid.span(),
                format!(
                    "uid {} is inside [core] uid_range [{first}, {last}], where the core assigns uids; choose one outside it",
                    uid.get_ref()
                ),
            ));
        }
        let abs = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        Ok(SandboxSettings {
            enabled: raw.enabled,
            uid: raw.uid.map(Spanned::into_inner),
            gid: raw.gid.map(Spanned::into_inner),
            allow_without_landlock: raw.allow_without_landlock,
            tcp_connect: raw.tcp_connect,
            tcp_bind: raw.tcp_bind,
            socket_families: raw.socket_families,
            read_paths: raw.read_paths.iter().map(abs).collect(),
            exec_paths: raw.exec_paths.iter().map(abs).collect(),
        })
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

/// `[provider.limits]` as written in the file; missing keys take
/// [`ProviderLimits::default`].
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLimits {
    memory_mib: u64,
    pids: Spanned<u64>,
    open_files: Spanned<u64>,
    address_space_mib: u64,
}

impl Default for RawLimits {
    fn default() -> Self {
        let d = ProviderLimits::default();
        RawLimits {
            memory_mib: d.memory_mib,
            pids: Spanned::new(0..0, d.pids),
            open_files: Spanned::new(0..0, d.open_files),
            address_space_mib: d.address_space_mib,
        }
    }
}

impl ProviderLimits {
    /// Checks `raw` as read from the file.
    ///
    /// # Errors
    /// `pids = 0` or `open_files` below 16 (a process cannot start), with
    /// the key's span.
    pub fn from_raw(raw: RawLimits) -> Result<ProviderLimits, KeyError> {
        if *raw.pids.get_ref() == 0 {
            return Err(key_error(raw.pids.span(), "pids must be >= 1".into()));
        }
        if *raw.open_files.get_ref() < 16 {
            return Err(key_error(
                raw.open_files.span(),
                "open_files must be >= 16".into(),
            ));
        }
        Ok(ProviderLimits {
            memory_mib: raw.memory_mib,
            pids: raw.pids.into_inner(),
            open_files: raw.open_files.into_inner(),
            address_space_mib: raw.address_space_mib,
        })
    }
}

/// The sandbox keys of `[core]`, shared by all providers (DESIGN §7,
/// docs/configuration.md).
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
    /// `landlock_max_abi = 7`: use Landlock at most at this ABI (0 = not at
    /// all). Lower it to reproduce an older kernel; higher than the highest
    /// tested ABI is capped.
    pub landlock_max_abi: i32,
}

/// The sandbox keys of `[core]` as written in the file, with their spans
/// (the `[core]` section's deserializer fills it; its `Default` is the
/// documented defaults).
#[derive(Debug, Clone)]
pub struct RawCoreSandbox {
    /// `uid_range`.
    pub uid_range: Spanned<[u32; 2]>,
    /// `cgroup`.
    pub cgroup: Spanned<String>,
    /// `nft_table`.
    pub nft_table: Spanned<String>,
    /// `lan_prefixes`; `None` = [`crate::sandbox::netpolicy::default_lan_prefixes`].
    pub lan_prefixes: Option<Spanned<Vec<String>>>,
    /// `landlock_max_abi`.
    pub landlock_max_abi: u8,
}

impl Default for RawCoreSandbox {
    fn default() -> Self {
        RawCoreSandbox {
            uid_range: Spanned::new(0..0, [64000, 64999]),
            cgroup: Spanned::new(0..0, "igloo".into()),
            nft_table: Spanned::new(0..0, "igloo".into()),
            lan_prefixes: None,
            landlock_max_abi: crate::sandbox::landlock::HIGHEST_TESTED_ABI as u8,
        }
    }
}

impl CoreSandbox {
    /// Checks the `[core]` sandbox keys.
    ///
    /// # Errors
    /// A `uid_range` that is empty, starts at 0 or reaches the reserved
    /// uids; a `cgroup` or `nft_table` name outside `[a-z0-9_-]{1,64}`; a
    /// `lan_prefixes` entry that is not a prefix.
    pub fn from_raw(raw: RawCoreSandbox) -> Result<CoreSandbox, KeyError> {
        let [first, last] = *raw.uid_range.get_ref();
        if first == 0 || last < first || last >= 0xFFFF_FFFE {
            return Err(key_error(
                raw.uid_range.span(),
                format!(
                    "uid_range [{first}, {last}] must be [first, last] with 0 < first <= last < 4294967294"
                ),
            ));
        }
        let table = raw.nft_table.get_ref();
        if !valid_name(table) {
            return Err(key_error(
                raw.nft_table.span(),
                format!("nft_table {table:?} must be 1-64 characters of a-z, 0-9, '-' and '_'"),
            ));
        }
        let cgroup = raw.cgroup.get_ref();
        if !cgroup.is_empty() && !valid_name(cgroup) {
            return Err(key_error(
                raw.cgroup.span(),
                format!(
                    "cgroup {cgroup:?} must be empty or 1-64 characters of a-z, 0-9, '-' and '_'"
                ),
            ));
        }
        let lan_prefixes = match &raw.lan_prefixes {
            None => crate::sandbox::netpolicy::default_lan_prefixes(),
            Some(list) => list
                .get_ref()
                .iter()
                .map(|p| {
                    p.parse::<ipnet::IpNet>().map_err(|e| {
                        key_error(
                            list.span(),
                            format!("lan_prefixes: {p:?} is not a prefix like 192.168.0.0/16 or fd00::/8: {e}"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(CoreSandbox {
            uid_range: (first, last),
            cgroup: (!cgroup.is_empty()).then(|| cgroup.clone()),
            nft_table: table.clone(),
            lan_prefixes,
            landlock_max_abi: i32::from(raw.landlock_max_abi),
        })
    }
}
