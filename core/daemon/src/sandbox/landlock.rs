//! The Landlock ruleset of one provider (DESIGN §7; kernel
//! Documentation/userspace-api/landlock.rst). Built in the core before fork,
//! enforced in the child by [`crate::sandbox::Prepared::apply_in_child`].
//!
//! Filesystem: read+execute on the provider's executable (the file, not its
//! directory), the loader and library directories and `exec_paths`; read-only on the few `/etc`
//! files name resolution and TLS need and on `read_paths`; read-write (no
//! execute, no device nodes) on its own data directory only. Network (ABI ≥ 4):
//! TCP bind only to `tcp_bind`, TCP connect only to `tcp_connect` when given.
//! Scopes (ABI ≥ 6): no signals to, and no abstract Unix sockets of, processes
//! outside the provider's domain.

use std::path::{Path, PathBuf};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath,
    PathFd, Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, Scope,
};

use super::settings::SandboxSettings;

/// The highest Landlock ABI this code was tested against (kernel 6.18; see
/// FIELD-NOTES). Newer kernels are used at this level.
pub const HIGHEST_TESTED_ABI: ABI = ABI::V7;

/// Directories with the dynamic loader and shared libraries.
const LIBRARY_DIRS: &[&str] = &["/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"];

/// Files and directories under `/etc` (and what they link to) a provider may
/// read: the loader cache, name resolution, time zone, TLS roots.
const ETC_READ: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/ld.so.preload",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/usr/share/zoneinfo",
    "/usr/share/ca-certificates",
];

/// The kernel's Landlock ABI version: 0 when Landlock is not supported or
/// not enabled at boot (`landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`).
pub fn kernel_abi() -> i32 {
    // SAFETY: the documented version query; no pointers are dereferenced.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    if v < 0 { 0 } else { v as i32 }
}

/// The ABI the ruleset is built for: the kernel's, capped at
/// [`HIGHEST_TESTED_ABI`] and at `max` (`[core] landlock_max_abi`).
pub fn target_abi(max: i32) -> ABI {
    let k = kernel_abi();
    let tested = HIGHEST_TESTED_ABI as i32;
    ABI::from(k.min(tested).min(max.max(0)))
}

/// A ruleset ready to enforce, and what it will enforce.
pub struct Planned {
    /// The ruleset (its fd is close-on-exec).
    pub ruleset: RulesetCreated,
    /// The ABI level it was built for.
    pub abi: i32,
    /// Paths that were skipped because they do not exist.
    pub missing: Vec<PathBuf>,
}

/// Builds the ruleset for a provider whose executable is `exec` and data
/// directory `data_dir`. Returns `Ok(None)` when the kernel has no Landlock.
///
/// # Errors
/// Landlock errors creating the ruleset or adding a rule (e.g. the data dir
/// cannot be opened).
pub fn build(
    exec: &Path,
    data_dir: &Path,
    settings: &SandboxSettings,
    max_abi: i32,
) -> Result<Option<Planned>, String> {
    let abi = target_abi(max_abi);
    let abi_num = abi as i32;
    if abi_num == 0 {
        return Ok(None);
    }
    let fs_all = AccessFs::from_all(abi);
    let read_exec = AccessFs::from_read(abi);
    let read_only: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let read_write = fs_all
        & !(AccessFs::Execute | AccessFs::MakeChar | AccessFs::MakeBlock | AccessFs::IoctlDev);

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(fs_all)
        .map_err(|e| e.to_string())?;
    if abi_num >= 4 {
        let mut net: BitFlags<AccessNet> = AccessNet::BindTcp.into();
        if settings.tcp_connect.is_some() {
            net |= AccessNet::ConnectTcp;
        }
        ruleset = ruleset.handle_access(net).map_err(|e| e.to_string())?;
    }
    if abi_num >= 6 {
        ruleset = ruleset
            .scope(Scope::from_all(abi))
            .map_err(|e| e.to_string())?;
    }
    let mut created = ruleset.create().map_err(|e| e.to_string())?;
    let mut missing = Vec::new();

    // The executable itself, not its directory: a provider run by an
    // interpreter from /usr/bin must not execute its neighbours (a shell),
    // nor one in /usr/libexec/igloo the core or another provider.
    let mut exec_paths: Vec<PathBuf> = LIBRARY_DIRS.iter().map(PathBuf::from).collect();
    exec_paths.extend(settings.exec_paths.iter().cloned());
    let mut read_paths: Vec<PathBuf> = ETC_READ.iter().map(PathBuf::from).collect();
    read_paths.extend(settings.read_paths.iter().cloned());

    let mut add = |created: RulesetCreated,
                   path: &Path,
                   access: BitFlags<AccessFs>|
     -> Result<RulesetCreated, String> {
        match PathFd::new(path) {
            Ok(fd) => created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(_) => {
                missing.push(path.to_path_buf());
                Ok(created)
            }
        }
    };
    created = add(created, exec, read_exec & AccessFs::from_file(abi))?;
    for p in &exec_paths {
        created = add(created, p, read_exec)?;
    }
    for p in &read_paths {
        created = add(created, p, read_only)?;
    }
    // The data dir must exist: the core created it before calling this.
    let fd = PathFd::new(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    created = created
        .add_rule(PathBeneath::new(fd, read_write))
        .map_err(|e| format!("{}: {e}", data_dir.display()))?;
    if abi_num >= 4 {
        for port in &settings.tcp_bind {
            created = created
                .add_rule(NetPort::new(*port, AccessNet::BindTcp))
                .map_err(|e| e.to_string())?;
        }
        for port in settings.tcp_connect.iter().flatten() {
            created = created
                .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(Some(Planned {
        ruleset: created,
        abi: abi_num,
        missing,
    }))
}
