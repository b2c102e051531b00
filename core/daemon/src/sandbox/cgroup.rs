//! Per-provider cgroups with a memory and a process-count limit (DESIGN §7).
//!
//! [`detect`] finds where the `memory` and `pids` controllers are: the unified
//! hierarchy (cgroup v2) if it offers both and the core may write there, else
//! the two legacy (v1) hierarchies. [`ProviderCgroup::create`] makes
//! `<hierarchy>/<parent>/<provider>` (e.g. `/sys/fs/cgroup/memory/igloo/mqtt`)
//! and writes the limits; the forked child joins it with
//! [`ProviderCgroup::join_current_in_child`] before exec;
//! [`ProviderCgroup::remove`] kills whatever is left in it and removes it.
//!
//! Sources: the kernel's cgroup documentation,
//! `Documentation/admin-guide/cgroup-v2.rst` (memory.max, memory.swap.max,
//! memory.events, pids.max, cgroup.subtree_control, cgroup.kill, the "no internal
//! processes" rule) and `Documentation/admin-guide/cgroup-v1/{cgroups,memory,pids}.rst`
//! (memory.limit_in_bytes, memory.memsw.limit_in_bytes, memory.oom_control);
//! proc(5) for `/proc/self/mountinfo`.

use std::ffi::{CString, OsStr};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{AccessFlags, Pid, access};

/// How long [`ProviderCgroup::remove`] keeps killing and retrying `rmdir`.
const REMOVE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where provider cgroups can be made, found by [`detect`]. The paths are the
/// directories under which `<parent>/<provider>` is created (normally the
/// hierarchies' mount points); a caller may also build a value itself to
/// place the cgroups elsewhere, e.g. in a cgroup delegated to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupSupport {
    /// cgroup v2: one hierarchy whose `cgroup.controllers` lists `memory` and
    /// `pids`, writable by the core.
    V2 {
        /// The unified hierarchy, e.g. `/sys/fs/cgroup`.
        root: PathBuf,
    },
    /// cgroup v1: the `memory` and `pids` hierarchies (the same path when
    /// they are mounted together).
    V1 {
        /// e.g. `/sys/fs/cgroup/memory`.
        memory: PathBuf,
        /// e.g. `/sys/fs/cgroup/pids`.
        pids: PathBuf,
    },
    /// Neither is usable; says what is missing.
    Unavailable(String),
}

/// Finds the cgroup hierarchies from `/proc/self/mountinfo`. v2 wins when its
/// `cgroup.controllers` lists both `memory` and `pids` and it is writable
/// (`access(W_OK)`: not a read-only mount); otherwise v1 when both
/// controllers are mounted and writable. Hybrid systems (v1 memory and pids,
/// v2 with other controllers) therefore get v1.
pub fn detect() -> CgroupSupport {
    match std::fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => choose(
            &parse_mountinfo(&text),
            &|root| {
                std::fs::read_to_string(root.join("cgroup.controllers")).map_err(|e| {
                    format!(
                        "cannot read {}: {e}",
                        root.join("cgroup.controllers").display()
                    )
                })
            },
            &writable,
        ),
        Err(e) => CgroupSupport::Unavailable(format!("cannot read /proc/self/mountinfo: {e}")),
    }
}

/// Whether the hierarchy mounted at `point` has `favordynmods` among its
/// super options in `/proc/self/mountinfo` (Linux 6.0+, v1 and v2). Without
/// it, moving a process into a v2 cgroup through `cgroup.procs` (what a
/// provider's start does) waits for an RCU grace period on
/// `cgroup_threadgroup_rwsem`, about 10 ms per start when starts are apart;
/// with it the move is as cheap as being born in the cgroup
/// (`clone3(CLONE_INTO_CGROUP)`): measured by
/// `tests/python/cgroup_move_cost.py`. Source: the kernel's
/// `Documentation/admin-guide/cgroup-v2.rst` ("favordynmods"). `None` when
/// no mount is found at `point`.
pub fn favors_dynmods(point: &Path) -> Option<bool> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    favordynmods_in(&text, point)
}

fn favordynmods_in(mountinfo: &str, point: &Path) -> Option<bool> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mounted = unescape(left.split(' ').nth(4)?);
        let mut right = right.split(' ');
        let fstype = right.next()?;
        let options = right.nth(1)?;
        (mounted == point && fstype.starts_with("cgroup"))
            .then(|| options.split(',').any(|o| o == "favordynmods"))
    })
}

/// Limits written when a provider cgroup is created; `None` = unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Memory in bytes (v2 `memory.max`, v1 `memory.limit_in_bytes`); swap is
    /// not allowed on top of it where the kernel accounts swap.
    pub memory_bytes: Option<u64>,
    /// Processes and threads together (`pids.max`).
    pub pids: Option<u64>,
}

/// One provider's cgroup (in both v1 hierarchies, or in the v2 one).
#[derive(Debug)]
pub struct ProviderCgroup {
    v2: bool,
    /// The provider directory holding the memory files.
    memory: PathBuf,
    /// The provider directory holding the pids files (may equal `memory`).
    pids: PathBuf,
    /// The distinct `<parent>` directories.
    parents: Vec<PathBuf>,
    /// The file the child writes to join, for each distinct provider directory ([`ProviderCgroup::procs_files`]).
    procs: Vec<CString>,
}

impl ProviderCgroup {
    /// Creates (or reuses) `<root>/<parent>/<provider>` in each hierarchy of
    /// `support` and writes `limits` (unlimited ones as `max`/`-1`, so a
    /// reused cgroup gets exactly the new limits):
    ///
    /// - v2: enables `+memory +pids` in the root's (if missing) and the
    ///   parent's `cgroup.subtree_control`, then writes `memory.max`,
    ///   `memory.swap.max` (`0` with a memory limit, if the file exists) and
    ///   `pids.max`. The parent holds no processes, as v2 requires.
    /// - v1: writes `memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`
    ///   (the same value, if swap is accounted) and `pids.max`.
    ///
    /// `parent` and `provider` must be single path components of ASCII
    /// letters, digits, `-`, `_` and `.` (not starting with `.`).
    ///
    /// # Errors
    /// `InvalidInput` for a bad name; `Unsupported` for
    /// [`CgroupSupport::Unavailable`]; otherwise the failing `mkdir` or write,
    /// with the path in the message. Directories made before the failure are
    /// removed again if empty.
    pub fn create(
        support: &CgroupSupport,
        parent: &str,
        provider: &str,
        limits: &Limits,
    ) -> io::Result<ProviderCgroup> {
        check_name(parent)?;
        check_name(provider)?;
        let cg = match support {
            CgroupSupport::Unavailable(why) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!("no usable cgroups: {why}"),
                ));
            }
            CgroupSupport::V2 { root } => {
                let dir = root.join(parent).join(provider);
                ProviderCgroup {
                    v2: true,
                    memory: dir.clone(),
                    pids: dir.clone(),
                    parents: vec![root.join(parent)],
                    procs: vec![join_file(&dir, V2_JOIN)?],
                }
            }
            CgroupSupport::V1 { memory, pids } => {
                let mem_dir = memory.join(parent).join(provider);
                let pids_dir = pids.join(parent).join(provider);
                let mut parents = vec![memory.join(parent)];
                let mut procs = vec![join_file(&mem_dir, V1_JOIN)?];
                if pids_dir != mem_dir {
                    parents.push(pids.join(parent));
                    procs.push(join_file(&pids_dir, V1_JOIN)?);
                }
                ProviderCgroup {
                    v2: false,
                    memory: mem_dir,
                    pids: pids_dir,
                    parents,
                    procs,
                }
            }
        };
        match cg.set_up(support, limits) {
            Ok(()) => Ok(cg),
            Err(e) => {
                for dir in cg
                    .dirs()
                    .into_iter()
                    .chain(cg.parents.iter().map(PathBuf::as_path))
                {
                    let _ = std::fs::remove_dir(dir);
                }
                Err(e)
            }
        }
    }

    fn set_up(&self, support: &CgroupSupport, limits: &Limits) -> io::Result<()> {
        if let CgroupSupport::V2 { root } = support {
            let control = root.join("cgroup.subtree_control");
            let enabled = read(&control)?;
            for c in ["memory", "pids"] {
                if !enabled.split_whitespace().any(|e| e == c) {
                    write(&control, &format!("+{c}"))?;
                }
            }
        }
        for parent in &self.parents {
            mkdir(parent)?;
            if self.v2 {
                write(&parent.join("cgroup.subtree_control"), "+memory +pids")?;
            }
        }
        for dir in self.dirs() {
            mkdir(dir)?;
        }
        let memory = limits.memory_bytes.map(|b| b.to_string());
        let pids = limits
            .pids
            .map_or_else(|| "max".to_string(), |p| p.to_string());
        if self.v2 {
            write(
                &self.memory.join("memory.max"),
                memory.as_deref().unwrap_or("max"),
            )?;
            let swap = self.memory.join("memory.swap.max");
            if swap.exists() {
                write(&swap, if memory.is_some() { "0" } else { "max" })?;
            }
        } else {
            set_v1_memory(&self.memory, memory.as_deref().unwrap_or("-1"))?;
        }
        write(&self.pids.join("pids.max"), &pids)
    }

    /// The distinct provider directories.
    fn dirs(&self) -> Vec<&Path> {
        let mut dirs = vec![self.memory.as_path()];
        if self.pids != self.memory {
            dirs.push(&self.pids);
        }
        dirs
    }

    /// The files to write in the child to join the cgroup(s): v2's
    /// `cgroup.procs`, or v1's `tasks` in each hierarchy (two unless memory
    /// and pids share one), prepared before fork for
    /// [`ProviderCgroup::join_current_in_child`].
    pub fn procs_files(&self) -> &[CString] {
        &self.procs
    }

    /// Moves the calling process into the cgroup(s) by writing `0` to each
    /// of `procs` ([`ProviderCgroup::procs_files`]); `0` means "the writing
    /// process" in `cgroup.procs` and "the writing thread" in v1's `tasks`
    /// (kernel/cgroup/cgroup.c, `cgroup_procs_write_start`), which for a
    /// freshly forked, single-threaded child is the same. Its later
    /// children and threads stay there.
    ///
    /// Async-signal-safe: only `open`, `write` and `close` on the prepared
    /// strings, no allocation, so it may run in a `pre_exec` closure.
    ///
    /// # Errors
    /// The errno of the first failing call (e.g. `ENOENT` when the cgroup was
    /// removed, `EACCES` without permission, `EAGAIN` when `pids.max` is
    /// already reached).
    pub fn join_current_in_child(procs: &[CString]) -> io::Result<()> {
        for path in procs {
            // SAFETY: open/write/close with a valid NUL-terminated path and a
            // valid one-byte buffer; no memory is shared or allocated.
            unsafe {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let n = libc::write(fd, b"0".as_ptr().cast(), 1);
                let err = match n {
                    1 => None,
                    0 => Some(io::Error::from(io::ErrorKind::WriteZero)),
                    _ => Some(io::Error::last_os_error()),
                };
                libc::close(fd);
                if let Some(e) = err {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// How many processes the kernel's OOM killer has killed in this cgroup
    /// because of its memory limit (v2 `memory.events`, v1
    /// `memory.oom_control`, key `oom_kill`; Linux 4.13+). `None` when the
    /// file or the key cannot be read.
    pub fn oom_kills(&self) -> Option<u64> {
        let file = if self.v2 {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        let text = std::fs::read_to_string(self.memory.join(file)).ok()?;
        keyed_value(&text, "oom_kill")
    }

    /// One line for reports, e.g.
    /// `v1 memory+pids at /sys/fs/cgroup/{memory,pids}/igloo/mqtt` or
    /// `v2 memory+pids at /sys/fs/cgroup/igloo/mqtt`.
    pub fn describe(&self) -> String {
        if self.v2 {
            return format!("v2 memory+pids at {}", self.memory.display());
        }
        describe_v1(&self.memory, &self.pids)
    }

    /// Kills every process still in the cgroup (SIGKILL, repeated for
    /// processes forked meanwhile), removes the provider directories, then the
    /// parent directories if no other provider uses them. Uses v2's
    /// `cgroup.kill` where present. Blocks until done, at most about 2 s;
    /// what could not be removed is logged (`tracing::warn`). A cgroup that is
    /// already gone is fine.
    pub fn remove(&self) {
        if self.v2 {
            let kill_file = self.memory.join("cgroup.kill");
            if kill_file.exists() {
                let _ = write(&kill_file, "1");
            }
        }
        let deadline = Instant::now() + REMOVE_TIMEOUT;
        let mut left: Vec<&Path> = self.dirs();
        loop {
            for dir in &left {
                for pid in members(dir) {
                    // A pid read here may exit and be reused before the kill:
                    // a window of microseconds, accepted.
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            let mut errors = Vec::new();
            left.retain(|dir| match std::fs::remove_dir(dir) {
                Ok(()) => false,
                Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                Err(e) => {
                    errors.push(format!("{}: {e}", dir.display()));
                    true
                }
            });
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                tracing::warn!("cannot remove provider cgroup: {}", errors.join("; "));
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for parent in &self.parents {
            match std::fs::remove_dir(parent) {
                Ok(()) => {}
                // Still used by other providers, or already gone.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ENOTEMPTY | libc::EBUSY | libc::ENOENT)
                    ) => {}
                Err(e) => tracing::warn!("cannot remove cgroup {}: {e}", parent.display()),
            }
        }
    }
}

/// The mount points found in mountinfo.
#[derive(Debug, Default, PartialEq)]
struct Mounts {
    v2: Option<PathBuf>,
    memory: Option<PathBuf>,
    pids: Option<PathBuf>,
}

/// Reads `/proc/self/mountinfo` lines (proc(5)): field 5 is the mount point
/// (octal escapes such as `\040`), after the ` - ` separator come the file
/// system type and, for v1, the controllers among the super options.
fn parse_mountinfo(text: &str) -> Mounts {
    let mut m = Mounts::default();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let Some(point) = left.split(' ').nth(4) else {
            continue;
        };
        let mut right = right.split(' ');
        let (Some(fstype), Some(_source), Some(options)) =
            (right.next(), right.next(), right.next())
        else {
            continue;
        };
        let point = unescape(point);
        match fstype {
            "cgroup2" if m.v2.is_none() => m.v2 = Some(point),
            "cgroup" => {
                for opt in options.split(',') {
                    match opt {
                        "memory" if m.memory.is_none() => m.memory = Some(point.clone()),
                        "pids" if m.pids.is_none() => m.pids = Some(point.clone()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    m
}

/// Undoes mountinfo's `\ooo` escapes (space, tab, newline, backslash).
fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // `\ooo` above `\377` is not a byte: kept as written.
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .and_then(|d| {
                let v = u16::from(d[0] - b'0') << 6
                    | u16::from(d[1] - b'0') << 3
                    | u16::from(d[2] - b'0');
                u8::try_from(v).ok()
            });
        match octal {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    PathBuf::from(OsStr::from_bytes(&out))
}

/// Picks v2, v1 or neither; `controllers` reads a v2 root's
/// `cgroup.controllers`, `writable` checks a directory.
fn choose(
    m: &Mounts,
    controllers: &dyn Fn(&Path) -> Result<String, String>,
    writable: &dyn Fn(&Path) -> Result<(), String>,
) -> CgroupSupport {
    let mut why = Vec::new();
    match &m.v2 {
        Some(root) => match controllers(root) {
            Ok(list) => {
                let missing: Vec<&str> = ["memory", "pids"]
                    .into_iter()
                    .filter(|c| !list.split_whitespace().any(|l| l == *c))
                    .collect();
                if !missing.is_empty() {
                    why.push(format!(
                        "v2 at {} lacks {} (it has: {})",
                        root.display(),
                        missing.join(" and "),
                        list.trim()
                    ));
                } else {
                    match writable(root) {
                        Ok(()) => return CgroupSupport::V2 { root: root.clone() },
                        Err(e) => why.push(e),
                    }
                }
            }
            Err(e) => why.push(e),
        },
        None => why.push("no cgroup2 mount".into()),
    }
    match (&m.memory, &m.pids) {
        (Some(memory), Some(pids)) => match writable(memory).and_then(|()| writable(pids)) {
            Ok(()) => {
                return CgroupSupport::V1 {
                    memory: memory.clone(),
                    pids: pids.clone(),
                };
            }
            Err(e) => why.push(e),
        },
        (memory, pids) => {
            let missing: Vec<&str> = [("memory", memory.is_none()), ("pids", pids.is_none())]
                .into_iter()
                .filter_map(|(n, gone)| gone.then_some(n))
                .collect();
            why.push(format!("no v1 {} hierarchy mounted", missing.join(" or ")));
        }
    }
    CgroupSupport::Unavailable(why.join("; "))
}

fn writable(dir: &Path) -> Result<(), String> {
    access(dir, AccessFlags::W_OK)
        .map_err(|e| format!("{} is not writable: {}", dir.display(), e.desc()))
}

/// The file a new provider writes `0` to, to join its v2 cgroup: the whole
/// process (`cgroup.threads` only moves threads inside a threaded subtree).
const V2_JOIN: &str = "cgroup.procs";
/// The file a new provider writes `0` to, to join a v1 cgroup: `tasks`, which
/// moves only the writing thread. The forked child has one thread, so that
/// is the whole process, and moving a single thread (the writer itself) skips
/// the global write lock (`cgroup_threadgroup_rwsem`) that `cgroup.procs`
/// takes, with its RCU grace period: about 11 ms per start on this
/// development host's 6.18 kernel, nothing measurable with `tasks`
/// (`tests/python/cgroup_move_cost.py`; kernel/cgroup/cgroup.c,
/// `cgroup_procs_write_start`).
const V1_JOIN: &str = "tasks";

/// `<dir>/<file>` as a C string for the child.
fn join_file(dir: &Path, file: &str) -> io::Result<CString> {
    CString::new(dir.join(file).into_os_string().into_vec()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("NUL byte in {}", dir.display()),
        )
    })
}

fn check_name(name: &str) -> io::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "invalid cgroup name {name:?}: use 1 to 64 ASCII letters, digits, '-', '_' or '.', not starting with '.'"
            ),
        ))
    }
}

/// `mkdir`, accepting an existing directory.
fn mkdir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            Err(with_path(e, "cannot create", dir))
        }
        _ => Ok(()),
    }
}

fn read(path: &Path) -> io::Result<String> {
    std::fs::read_to_string(path).map_err(|e| with_path(e, "cannot read", path))
}

/// Writes `value` to an existing cgroup file in one `write`.
fn write(path: &Path, value: &str) -> io::Result<()> {
    write_raw(path, value).map_err(|e| with_path(e, &format!("cannot write {value:?} to"), path))
}

fn write_raw(path: &Path, value: &str) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// v1 memory limit `value` (bytes or `-1`), with swap limited to the same
/// value when `memory.memsw.limit_in_bytes` exists. The kernel requires
/// `limit_in_bytes <= memsw.limit_in_bytes` after each write, so raising
/// the limit must write memsw first (EINVAL otherwise).
fn set_v1_memory(dir: &Path, value: &str) -> io::Result<()> {
    let mem = dir.join("memory.limit_in_bytes");
    let memsw = dir.join("memory.memsw.limit_in_bytes");
    let has_memsw = memsw.exists();
    match write_raw(&mem, value) {
        Ok(()) => {}
        Err(e) if has_memsw && e.raw_os_error() == Some(libc::EINVAL) => {
            write(&memsw, value)?;
            write(&mem, value)?;
        }
        Err(e) => return Err(with_path(e, &format!("cannot write {value:?} to"), &mem)),
    }
    if has_memsw {
        write(&memsw, value)?;
    }
    Ok(())
}

/// The pids listed in `<dir>/cgroup.procs` (none if unreadable).
fn members(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse().ok())
                .filter(|p| *p > 0)
                .collect()
        })
        .unwrap_or_default()
}

/// The value of `key` in a flat-keyed cgroup file (`key value` per line).
fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        if k == key {
            v.trim().parse().ok()
        } else {
            None
        }
    })
}

/// `v1 memory+pids at /sys/fs/cgroup/{memory,pids}/igloo/mqtt` when the two
/// directories differ only in the hierarchy's directory name.
fn describe_v1(memory: &Path, pids: &Path) -> String {
    if memory == pids {
        return format!("v1 memory+pids at {}", memory.display());
    }
    let split = |p: &Path| -> Option<(PathBuf, String, PathBuf)> {
        // <base>/<hierarchy>/<parent>/<provider>
        let provider = p.file_name()?;
        let parent_dir = p.parent()?;
        let parent = parent_dir.file_name()?;
        let hier_dir = parent_dir.parent()?;
        let hier = hier_dir.file_name()?.to_string_lossy().into_owned();
        Some((
            hier_dir.parent()?.to_path_buf(),
            hier,
            Path::new(parent).join(provider),
        ))
    };
    match (split(memory), split(pids)) {
        (Some((b1, h1, r1)), Some((b2, h2, r2))) if b1 == b2 && r1 == r2 => {
            format!(
                "v1 memory+pids at {}/{{{h1},{h2}}}/{}",
                b1.display(),
                r1.display()
            )
        }
        _ => format!(
            "v1 memory at {}, pids at {}",
            memory.display(),
            pids.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::sandbox::netpolicy::tests::may_run;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const UNIFIED: &str = "\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";
    const COMOUNTED: &str = "\
41 31 0:38 / /cg/my\\040stuff rw,relatime shared:5 master:2 - cgroup none rw,memory,pids,cpu
";

    fn ok_writable(_: &Path) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn mountinfo_escapes_never_overflow() {
        assert_eq!(unescape("/a\\040b"), PathBuf::from("/a b"));
        // Not a byte, and a cut escape: both kept verbatim instead of panicking.
        assert_eq!(unescape("/x\\777"), PathBuf::from("/x\\777"));
        assert_eq!(unescape("/y\\04"), PathBuf::from("/y\\04"));
    }

    #[test]
    fn mountinfo_finds_v1_and_v2_hierarchies() {
        assert_eq!(
            parse_mountinfo(HYBRID),
            Mounts {
                v2: Some("/sys/fs/cgroup/unified".into()),
                memory: Some("/sys/fs/cgroup/memory".into()),
                pids: Some("/sys/fs/cgroup/pids".into()),
            }
        );
        assert_eq!(
            parse_mountinfo(UNIFIED),
            Mounts {
                v2: Some("/sys/fs/cgroup".into()),
                ..Mounts::default()
            }
        );
        let m = parse_mountinfo(COMOUNTED);
        assert_eq!(m.memory, Some(PathBuf::from("/cg/my stuff")));
        assert_eq!(m.pids, m.memory);
        assert_eq!(parse_mountinfo("garbage\n\n1 2 3\n - x"), Mounts::default());
    }

    #[test]
    fn favordynmods_is_read_from_the_mount_of_the_hierarchy() {
        let guest = "35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate,favordynmods\n";
        assert_eq!(
            favordynmods_in(guest, Path::new("/sys/fs/cgroup")),
            Some(true)
        );
        assert_eq!(
            favordynmods_in(UNIFIED, Path::new("/sys/fs/cgroup")),
            Some(false)
        );
        assert_eq!(
            favordynmods_in(HYBRID, Path::new("/sys/fs/cgroup/memory")),
            Some(false)
        );
        // The tmpfs at /sys/fs/cgroup in a hybrid layout is not a hierarchy.
        assert_eq!(favordynmods_in(HYBRID, Path::new("/sys/fs/cgroup")), None);
        assert_eq!(favordynmods_in(HYBRID, Path::new("/nowhere")), None);
    }

    #[test]
    fn hybrid_systems_use_v1_and_full_v2_wins() {
        let hugetlb = |_: &Path| Ok("hugetlb\n".to_string());
        assert_eq!(
            choose(&parse_mountinfo(HYBRID), &hugetlb, &ok_writable),
            CgroupSupport::V1 {
                memory: "/sys/fs/cgroup/memory".into(),
                pids: "/sys/fs/cgroup/pids".into(),
            }
        );
        let full = |_: &Path| Ok("cpuset cpu io memory hugetlb pids rdma misc\n".to_string());
        assert_eq!(
            choose(
                &parse_mountinfo(&format!("{HYBRID}{UNIFIED}")),
                &full,
                &ok_writable
            ),
            CgroupSupport::V2 {
                root: "/sys/fs/cgroup/unified".into()
            }
        );
        let CgroupSupport::Unavailable(why) =
            choose(&parse_mountinfo(UNIFIED), &hugetlb, &ok_writable)
        else {
            panic!("v2 without memory/pids and no v1 must be unavailable");
        };
        assert!(
            why.contains("lacks memory and pids (it has: hugetlb)"),
            "{why}"
        );
        assert!(why.contains("no v1 memory or pids hierarchy"), "{why}");
        let read_only = |p: &Path| {
            Err(format!(
                "{} is not writable: Read-only file system",
                p.display()
            ))
        };
        let CgroupSupport::Unavailable(why) = choose(&parse_mountinfo(UNIFIED), &full, &read_only)
        else {
            panic!("a read-only v2 must be unavailable");
        };
        assert!(why.contains("Read-only"), "{why}");
    }

    #[test]
    fn oom_kill_counters_and_descriptions_are_read() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        let v2 = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n";
        assert_eq!(keyed_value(v1, "oom_kill"), Some(3));
        assert_eq!(keyed_value(v2, "oom_kill"), Some(2));
        assert_eq!(keyed_value("oom_kill_disable 0\n", "oom_kill"), None);
        assert_eq!(
            describe_v1(
                Path::new("/sys/fs/cgroup/memory/igloo/mqtt"),
                Path::new("/sys/fs/cgroup/pids/igloo/mqtt")
            ),
            "v1 memory+pids at /sys/fs/cgroup/{memory,pids}/igloo/mqtt"
        );
        assert_eq!(
            describe_v1(
                Path::new("/a/memory/igloo/mqtt"),
                Path::new("/b/pids/igloo/mqtt")
            ),
            "v1 memory at /a/memory/igloo/mqtt, pids at /b/pids/igloo/mqtt"
        );
        assert_eq!(
            describe_v1(Path::new("/c/igloo/x"), Path::new("/c/igloo/x")),
            "v1 memory+pids at /c/igloo/x"
        );
    }

    #[test]
    fn names_must_be_single_safe_components() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "../x",
            ".hidden",
            "a b",
            "x\0y",
            &"n".repeat(65),
        ] {
            let e = ProviderCgroup::create(
                &CgroupSupport::Unavailable("x".into()),
                bad,
                "p",
                &Limits::default(),
            )
            .err()
            .map(|e| e.kind());
            assert_eq!(e, Some(io::ErrorKind::InvalidInput), "{bad:?}");
        }
        let e = ProviderCgroup::create(
            &CgroupSupport::Unavailable("none here".into()),
            "igloo",
            "mqtt",
            &Limits::default(),
        )
        .err()
        .map(|e| (e.kind(), e.to_string()));
        assert_eq!(
            e,
            Some((
                io::ErrorKind::Unsupported,
                "no usable cgroups: none here".to_string()
            ))
        );
    }

    /// The host's cgroups, or `None` after `may_run` decided to skip.
    fn usable(test: &str) -> Option<CgroupSupport> {
        if !nix::unistd::geteuid().is_root() {
            may_run(test, Some("not running as root".into()));
            return None;
        }
        match detect() {
            CgroupSupport::Unavailable(why) => {
                may_run(test, Some(format!("no usable cgroups: {why}")));
                None
            }
            s => Some(s),
        }
    }

    /// A parent name no other test or run uses.
    fn unique_parent() -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        format!(
            "igloo-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Spawns `program args…` inside `cg` (joined in pre_exec).
    fn spawn_in(cg: &ProviderCgroup, program: &str, args: &[&str]) -> Child {
        let procs = cg.procs_files().to_vec();
        let mut cmd = Command::new(program);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // SAFETY: join_current_in_child only makes async-signal-safe calls.
        unsafe { cmd.pre_exec(move || ProviderCgroup::join_current_in_child(&procs)) };
        cmd.spawn()
            .unwrap_or_else(|e| panic!("spawn {program}: {e}"))
    }

    fn read_trim(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .trim()
            .to_string()
    }

    fn memory_limit(cg: &ProviderCgroup) -> String {
        read_trim(&cg.memory.join(if cg.v2 {
            "memory.max"
        } else {
            "memory.limit_in_bytes"
        }))
    }

    /// Waits for `child` at most `secs` seconds, killing it after that.
    fn wait_at_most(child: &mut Child, secs: u64) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match child.try_wait() {
                Ok(Some(st)) => return st,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = child.kill();
                    panic!("child {} still running after {secs} s", child.id());
                }
                Err(e) => panic!("wait: {e}"),
            }
        }
    }

    fn assert_gone(cg: &ProviderCgroup) {
        for dir in cg
            .dirs()
            .into_iter()
            .chain(cg.parents.iter().map(PathBuf::as_path))
        {
            assert!(!dir.exists(), "{} still exists after remove", dir.display());
        }
    }

    #[test]
    fn pids_limit_stops_forks_and_remove_kills_what_is_left() {
        let test = "pids_limit_stops_forks_and_remove_kills_what_is_left";
        let Some(support) = usable(test) else { return };
        let parent = unique_parent();
        let limits = Limits {
            memory_bytes: Some(64 << 20),
            pids: Some(5),
        };
        let cg = ProviderCgroup::create(&support, &parent, "forker", &limits)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            cg.describe().contains(&format!("{parent}/forker")),
            "{}",
            cg.describe()
        );
        assert_eq!(memory_limit(&cg), (64u64 << 20).to_string());
        assert_eq!(read_trim(&cg.pids.join("pids.max")), "5");
        assert_eq!(cg.oom_kills(), Some(0));

        let mut sleeper = spawn_in(&cg, "sleep", &["30"]);
        for dir in cg.dirs() {
            assert!(
                members(dir).contains(&(sleeper.id() as i32)),
                "{} lacks pid {}",
                dir.display(),
                sleeper.id()
            );
        }
        // 1 (sleep) + 1 (sh) + 3 background sleeps reach the limit of 5.
        let mut shell = spawn_in(
            &cg,
            "/bin/sh",
            &["-c", "for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; wait"],
        );
        let events = cg.pids.join("pids.events");
        let deadline = Instant::now() + Duration::from_secs(10);
        while keyed_value(&read_trim(&events), "max").unwrap_or(0) == 0 {
            assert!(
                Instant::now() < deadline,
                "no fork was refused: {}",
                read_trim(&events)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let current: u64 = read_trim(&cg.pids.join("pids.current"))
            .parse()
            .unwrap_or(u64::MAX);
        assert!(current <= 5, "pids.current {current} above pids.max 5");
        assert!(members(&cg.pids).len() <= 5);

        cg.remove();
        assert_gone(&cg);
        let st = wait_at_most(&mut sleeper, 5);
        assert_eq!(st.signal(), Some(libc::SIGKILL), "sleep: {st}");
        let st = wait_at_most(&mut shell, 5);
        assert!(
            !st.success(),
            "the shell's loop cannot have succeeded: {st}"
        );
    }

    #[test]
    fn memory_limit_oom_kills_and_is_counted() {
        let test = "memory_limit_oom_kills_and_is_counted";
        let Some(support) = usable(test) else { return };
        let cg = ProviderCgroup::create(
            &support,
            &unique_parent(),
            "hog",
            &Limits {
                memory_bytes: Some(16 << 20),
                pids: Some(16),
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // The shell keeps the whole 64 MiB substitution in memory.
        let mut hog = spawn_in(
            &cg,
            "/bin/sh",
            &[
                "-c",
                "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo ${#x}",
            ],
        );
        let st = wait_at_most(&mut hog, 60);
        assert_eq!(
            st.signal(),
            Some(libc::SIGKILL),
            "the hog should be OOM-killed: {st}"
        );
        assert!(
            cg.oom_kills().unwrap_or(0) >= 1,
            "oom_kills: {:?}",
            cg.oom_kills()
        );
        cg.remove();
        assert_gone(&cg);
    }

    #[test]
    fn create_reuses_the_cgroup_and_rewrites_limits() {
        let test = "create_reuses_the_cgroup_and_rewrites_limits";
        let Some(support) = usable(test) else { return };
        let parent = unique_parent();
        let first = Limits {
            memory_bytes: Some(32 << 20),
            pids: Some(10),
        };
        let a = ProviderCgroup::create(&support, &parent, "p", &first)
            .unwrap_or_else(|e| panic!("{e}"));
        let b = ProviderCgroup::create(&support, &parent, "other", &first)
            .unwrap_or_else(|e| panic!("{e}"));
        let raised = Limits {
            memory_bytes: Some(128 << 20),
            pids: None,
        };
        let a2 = ProviderCgroup::create(&support, &parent, "p", &raised)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a2.procs_files(), a.procs_files());
        assert_eq!(memory_limit(&a2), (128u64 << 20).to_string());
        assert_eq!(read_trim(&a2.pids.join("pids.max")), "max");
        let unlimited = ProviderCgroup::create(&support, &parent, "p", &Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let mem = memory_limit(&unlimited);
        assert!(
            mem == "max" || mem.parse::<u64>().is_ok_and(|v| v > 1 << 60),
            "unlimited memory reads {mem}"
        );
        // Removing one provider keeps the shared parent for the other.
        a2.remove();
        assert!(!a2.memory.exists());
        assert!(b.parents.iter().all(|p| p.exists()));
        b.remove();
        assert_gone(&b);
    }
}
