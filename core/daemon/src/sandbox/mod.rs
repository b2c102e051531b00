//! Provider confinement (DESIGN §7). Everything that needs memory or files is
//! prepared in the core before fork ([`prepare`]); the forked child then only
//! makes system calls on prepared data ([`Prepared::apply_in_child`]), in the
//! order FIELD-NOTES gives: setsid → fds 3/4 → cgroup → network namespace →
//! rlimits → groups/gid/uid → parent-death signal → close-on-exec for every fd
//! above 4 → no_new_privs → Landlock → seccomp → exec.
//!
//! What was enforced is reported per provider as [`Layers`] (API, `igloo doctor`).

pub mod cgroup;
pub mod identity;
pub mod landlock;
pub mod netpolicy;
pub mod probe;
pub mod seccomp;
pub mod settings;

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::Path;

use serde::Serialize;

use netpolicy::NetworkPolicy;
use settings::{ProviderLimits, SandboxSettings};

/// fd of the provider's core connection in the child (`IGLOO_FD`).
pub const PROVIDER_FD: RawFd = 3;
/// fd of the provider's grant socket in the child (`IGLOO_GRANT_FD`).
pub const GRANT_FD: RawFd = 4;

/// One confinement layer as reported to users.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Layer {
    /// Whether the layer is in force for the running process.
    pub enforced: bool,
    /// What it enforces, or why it is missing.
    pub detail: String,
}

impl Layer {
    fn on(detail: impl Into<String>) -> Layer {
        Layer {
            enforced: true,
            detail: detail.into(),
        }
    }
    fn off(detail: impl Into<String>) -> Layer {
        Layer {
            enforced: false,
            detail: detail.into(),
        }
    }
}

/// Which layers confine one provider (`sandbox` in `GET /api/v1/providers`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Layers {
    /// `false` when `[provider.sandbox] enabled = false`.
    pub enabled: bool,
    /// Own uid/gid, no supplementary groups.
    pub uid: Layer,
    /// Landlock filesystem, TCP-port and scope rules.
    pub landlock: Layer,
    /// The Landlock ABI in force (0 = none).
    pub landlock_abi: i32,
    /// seccomp deny list.
    pub seccomp: Layer,
    /// Network policy (`none`, `lan`, `wan`, `any`).
    pub network: Layer,
    /// The policy configured.
    pub network_policy: &'static str,
    /// cgroup with memory and pids limits.
    pub cgroup: Layer,
    /// rlimits.
    pub rlimits: Layer,
}

/// Facts about the host the core found once at start (see [`probe`]).
#[derive(Debug, Clone)]
pub struct Host {
    /// The core runs with uid 0 (needed for uid changes, netns, cgroups, nftables).
    pub root: bool,
    /// Where provider cgroups can be made.
    pub cgroups: cgroup::CgroupSupport,
    /// Result of installing the nftables table: `Ok` or why not; `None` when
    /// no provider needs it.
    pub firewall: Option<Result<(), String>>,
    /// `[core] landlock_max_abi`.
    pub landlock_max_abi: i32,
}

/// `setrlimit`'s resource argument: glibc declares its own type, musl uses `int`.
#[cfg(target_env = "gnu")]
type RlimitResource = libc::__rlimit_resource_t;
#[cfg(not(target_env = "gnu"))]
type RlimitResource = libc::c_int;

/// Everything the child needs, prepared before fork.
pub struct Prepared {
    enabled: bool,
    core_pid: libc::pid_t,
    procs: Vec<CString>,
    new_netns: bool,
    rlimits: Vec<(RlimitResource, libc::rlim_t)>,
    ids: Option<(libc::uid_t, libc::gid_t)>,
    landlock: Option<::landlock::RulesetCreated>,
    require_landlock: bool,
    seccomp: Option<seccomp::Filters>,
    /// What will be in force once the child execs.
    pub layers: Layers,
    /// The provider's cgroup, to remove after it exits.
    pub cgroup: Option<cgroup::ProviderCgroup>,
}

/// Why a provider cannot be started safely.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The provider is untrusted and Landlock is unavailable.
    #[error(
        "provider is marked untrusted and Landlock is not available ({0}); set [provider.sandbox] allow_without_landlock = true to start it anyway"
    )]
    NeedsLandlock(String),
    /// A required part could not be built.
    #[error("{0}")]
    Build(String),
}

/// What the sandbox needs to know of one provider: its `[[provider]]` keys
/// that say how it is confined.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Provider name.
    pub name: &'a str,
    /// Its resolved executable (Landlock lets it be read and executed).
    pub exec: &'a Path,
    /// `network`.
    pub network: NetworkPolicy,
    /// `untrusted`.
    pub untrusted: bool,
    /// `[provider.sandbox]`.
    pub sandbox: &'a SandboxSettings,
    /// `[provider.limits]`.
    pub limits: &'a ProviderLimits,
}

/// Prepares the confinement of `cfg` running as `ids` (uid, gid) with data
/// directory `data_dir` (created by the caller and owned by `ids`).
///
/// # Errors
/// [`PrepareError::NeedsLandlock`] for an untrusted provider without
/// Landlock; [`PrepareError::Build`] when Landlock or seccomp rules cannot be
/// built.
pub fn prepare(
    cfg: &Subject<'_>,
    ids: Option<(u32, u32)>,
    data_dir: &Path,
    host: &Host,
    cgroup_parent: Option<&str>,
) -> Result<Prepared, PrepareError> {
    let policy = cfg.network;
    if !cfg.sandbox.enabled && cfg.untrusted && !cfg.sandbox.allow_without_landlock {
        return Err(PrepareError::NeedsLandlock(
            "the sandbox is disabled in its config".into(),
        ));
    }
    if !cfg.sandbox.enabled {
        let off =
            || Layer::off("sandbox disabled in the config ([provider.sandbox] enabled = false)");
        return Ok(Prepared {
            enabled: false,
            core_pid: std::process::id() as libc::pid_t,
            procs: Vec::new(),
            new_netns: false,
            rlimits: Vec::new(),
            ids: None,
            landlock: None,
            require_landlock: false,
            seccomp: None,
            layers: Layers {
                enabled: false,
                uid: off(),
                landlock: off(),
                landlock_abi: 0,
                seccomp: off(),
                network: off(),
                network_policy: policy.as_str(),
                cgroup: off(),
                rlimits: off(),
            },
            cgroup: None,
        });
    }

    // Identity.
    let (ids, uid_layer) = match (host.root, ids) {
        (true, Some((u, g))) => (
            Some((u, g)),
            Layer::on(format!("uid {u}, gid {g}, no supplementary groups")),
        ),
        (false, _) => (
            None,
            Layer::off(format!(
                "the core is not running as root (uid {}); the provider keeps the core's uid",
                nix::unistd::getuid()
            )),
        ),
        (true, None) => (None, Layer::off("no uid assigned")),
    };

    // Landlock.
    let (landlock, landlock_layer, abi) = match landlock::build(
        cfg.exec,
        data_dir,
        cfg.sandbox,
        host.landlock_max_abi,
    ) {
        Ok(Some(p)) => {
            let mut what = vec!["filesystem"];
            if p.abi >= 4 {
                what.push(if cfg.sandbox.tcp_connect.is_some() {
                    "tcp bind+connect ports"
                } else {
                    "tcp bind ports"
                });
            }
            if p.abi >= 6 {
                what.push("signal and abstract-socket scopes");
            }
            let kernel = landlock::kernel_abi();
            for m in &p.missing {
                tracing::debug!(provider = cfg.name, path = %m.display(), "not on this system; no Landlock rule");
            }
            let detail = format!("ABI {} (kernel ABI {kernel}): {}", p.abi, what.join(", "));
            let abi = p.abi;
            (Some(p.ruleset), Layer::on(detail), abi)
        }
        Ok(None) if host.landlock_max_abi <= 0 => (
            None,
            Layer::off("Landlock turned off ([core] landlock_max_abi = 0)"),
            0,
        ),
        Ok(None) => (
            None,
            Layer::off("the kernel has no Landlock (needs Linux 5.13+ with lsm=landlock)"),
            0,
        ),
        Err(e) => return Err(PrepareError::Build(format!("Landlock ruleset: {e}"))),
    };
    if landlock.is_none() && cfg.untrusted && !cfg.sandbox.allow_without_landlock {
        return Err(PrepareError::NeedsLandlock(landlock_layer.detail));
    }

    // seccomp.
    let (filters, seccomp_layer) = match seccomp::build(&cfg.sandbox.socket_families) {
        Ok(f) => {
            let fams: Vec<String> = cfg
                .sandbox
                .socket_families
                .iter()
                .map(|f| format!("{f:?}").to_lowercase())
                .collect();
            (
                Some(f),
                Layer::on(format!(
                    "deny list (namespaces, mount, bpf, io_uring, keyctl, ptrace, userfaultfd, MPTCP, TCP Fast Open); socket families: {}",
                    fams.join(", ")
                )),
            )
        }
        Err(e) => (None, Layer::off(e)),
    };

    // Network.
    let network_layer = match policy {
        NetworkPolicy::Any => Layer::on("any: unrestricted"),
        NetworkPolicy::None if host.root => Layer::on("none: empty network namespace"),
        NetworkPolicy::None => {
            Layer::off("none: needs the core to run as root to create a network namespace")
        }
        NetworkPolicy::Lan | NetworkPolicy::Wan => match (&host.firewall, ids) {
            (Some(Ok(())), Some((u, _))) => {
                Layer::on(format!("{}: nftables, matched on uid {u}", policy.as_str()))
            }
            (Some(Err(e)), _) => Layer::off(format!(
                "{}: nftables table not installed: {e}",
                policy.as_str()
            )),
            (_, None) => Layer::off(format!("{}: needs an own uid to match on", policy.as_str())),
            (None, _) => Layer::off(format!("{}: no nftables table", policy.as_str())),
        },
    };
    let new_netns = policy == NetworkPolicy::None && host.root;

    // cgroup.
    let (cg, cgroup_layer) = match cgroup_parent {
        None => (
            None,
            Layer::off("cgroups turned off ([core] cgroup = \"\")"),
        ),
        Some(parent) => {
            let limits = cgroup_limits(cfg.limits);
            match cgroup::ProviderCgroup::create(&host.cgroups, parent, cfg.name, &limits) {
                Ok(c) => {
                    let d = c.describe();
                    (
                        Some(c),
                        Layer::on(format!(
                            "{d}; memory {} MiB, pids {}",
                            cfg.limits.memory_mib, cfg.limits.pids
                        )),
                    )
                }
                Err(e) => (None, Layer::off(format!("{e}"))),
            }
        }
    };
    let procs = cg
        .as_ref()
        .map(|c| c.procs_files().to_vec())
        .unwrap_or_default();

    // rlimits.
    let l = cfg.limits;
    let mut rlimits: Vec<(RlimitResource, libc::rlim_t)> = vec![
        (libc::RLIMIT_NOFILE, l.open_files as libc::rlim_t),
        (libc::RLIMIT_CORE, 0),
    ];
    let mut rl_detail = format!("open files {}, core dumps off", l.open_files);
    if ids.is_some() {
        // RLIMIT_NPROC counts every task of the real uid: only meaningful with an own uid.
        rlimits.push((libc::RLIMIT_NPROC, l.pids as libc::rlim_t));
        rl_detail.push_str(&format!(", processes {}", l.pids));
    }
    if l.address_space_mib > 0 {
        rlimits.push((libc::RLIMIT_AS, (l.address_space_mib << 20) as libc::rlim_t));
        rl_detail.push_str(&format!(", address space {} MiB", l.address_space_mib));
    }

    Ok(Prepared {
        enabled: true,
        core_pid: std::process::id() as libc::pid_t,
        procs,
        new_netns,
        rlimits,
        ids,
        require_landlock: landlock.is_some(),
        landlock,
        seccomp: filters,
        layers: Layers {
            enabled: true,
            uid: uid_layer,
            landlock: landlock_layer,
            landlock_abi: abi,
            seccomp: seccomp_layer,
            network: network_layer,
            network_policy: policy.as_str(),
            cgroup: cgroup_layer,
            rlimits: Layer::on(rl_detail),
        },
        cgroup: cg,
    })
}

fn cgroup_limits(l: &ProviderLimits) -> cgroup::Limits {
    cgroup::Limits {
        memory_bytes: (l.memory_mib > 0).then_some(l.memory_mib << 20),
        pids: Some(l.pids),
    }
}

/// Writes `igloo sandbox: <step> failed (errno N)` to stderr (the core's log
/// pipe) without allocating, and returns the errno as an error.
fn fail(step: &'static [u8]) -> std::io::Error {
    let err = std::io::Error::last_os_error();
    let code = err.raw_os_error().unwrap_or(0);
    let mut num = [0u8; 12];
    let mut n = code.unsigned_abs();
    let mut i = num.len();
    loop {
        i -= 1;
        num[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    let parts: [&[u8]; 5] = [
        b"igloo sandbox: ",
        step,
        b" failed (errno ",
        &num[i..],
        b")\n",
    ];
    for p in parts {
        // SAFETY: write(2) on stderr with a valid buffer; async-signal-safe.
        unsafe { libc::write(2, p.as_ptr().cast(), p.len()) };
    }
    std::io::Error::from_raw_os_error(code)
}

fn check(ret: libc::c_int, step: &'static [u8]) -> std::io::Result<()> {
    if ret == -1 { Err(fail(step)) } else { Ok(()) }
}

impl Prepared {
    /// Confines the calling (forked, not yet exec'd) process. `main_fd` and
    /// `grant_fd` become fds 3 and 4. Only async-signal-safe system calls on
    /// data prepared before fork; safe to call from `pre_exec`.
    ///
    /// # Errors
    /// The errno of the first step that failed (also written to stderr with
    /// the step's name); the spawn then fails and the provider is not started.
    pub fn apply_in_child(&mut self, main_fd: RawFd, grant_fd: RawFd) -> std::io::Result<()> {
        // SAFETY (whole function): plain system calls on integers and on
        // memory prepared before fork; no allocation on the success path.
        unsafe {
            check(if libc::setsid() == -1 { -1 } else { 0 }, b"setsid")?;
            // Move both sockets above 4 first, so neither dup2 clobbers the other.
            let hi_main = libc::fcntl(main_fd, libc::F_DUPFD_CLOEXEC, 10);
            check(hi_main, b"dup main socket")?;
            let hi_grant = libc::fcntl(grant_fd, libc::F_DUPFD_CLOEXEC, 10);
            check(hi_grant, b"dup grant socket")?;
            check(libc::dup2(hi_main, PROVIDER_FD), b"dup2 fd 3")?;
            check(libc::dup2(hi_grant, GRANT_FD), b"dup2 fd 4")?;
            libc::close(hi_main);
            libc::close(hi_grant);

            if self.enabled {
                if !self.procs.is_empty() {
                    cgroup::ProviderCgroup::join_current_in_child(&self.procs)
                        .map_err(|_| fail(b"join cgroup"))?;
                }
                if self.new_netns {
                    check(libc::unshare(libc::CLONE_NEWNET), b"unshare(CLONE_NEWNET)")?;
                }
                for &(res, value) in &self.rlimits {
                    let lim = libc::rlimit {
                        rlim_cur: value,
                        rlim_max: value,
                    };
                    check(libc::setrlimit(res, &lim), b"setrlimit")?;
                }
                if let Some((uid, gid)) = self.ids {
                    check(libc::setgroups(0, std::ptr::null()), b"setgroups")?;
                    check(libc::setresgid(gid, gid, gid), b"setresgid")?;
                    check(libc::setresuid(uid, uid, uid), b"setresuid")?;
                }
            }
            // After the uid change: a uid change clears the parent-death signal.
            check(
                libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ),
                b"PR_SET_PDEATHSIG",
            )?;
            // The core may already be gone (we were reparented): give up.
            if libc::getppid() != self.core_pid {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            // Every fd above 4 closes at exec (std's exec-error pipe keeps working).
            check(
                libc::syscall(
                    libc::SYS_close_range,
                    5u32,
                    u32::MAX,
                    libc::CLOSE_RANGE_CLOEXEC,
                ) as libc::c_int,
                b"close_range",
            )?;
            if !self.enabled {
                return Ok(());
            }
            check(
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                b"PR_SET_NO_NEW_PRIVS",
            )?;
            if let Some(ruleset) = self.landlock.take() {
                match ruleset.restrict_self() {
                    Ok(status) if status.ruleset != ::landlock::RulesetStatus::NotEnforced => {}
                    _ if !self.require_landlock => {}
                    _ => return Err(fail(b"landlock_restrict_self")),
                }
            }
            if let Some(f) = &self.seccomp {
                seccompiler::apply_filter(&f.enosys).map_err(|_| fail(b"seccomp (clone3)"))?;
                seccompiler::apply_filter(&f.eperm).map_err(|_| fail(b"seccomp"))?;
            }
        }
        Ok(())
    }
}
