//! The checks of the hostile provider (`igloo-hostile`, src/bin/hostile_provider.rs).
//!
//! Each check tries one action a sandboxed provider must not be able to do (or,
//! for a few, one it must still be able to do) and reports exactly what
//! happened as an [`Outcome`]: whether it worked and, if not, the errno of the
//! first step that failed. Integration tests run the same checks in a provider
//! inside the sandbox (expecting denials) and without it, as root (the
//! baseline, expecting success), so a denial is known to come from the sandbox
//! and not from the test setup.
//!
//! Checks clean up after themselves (files, mounts, children, sockets), so a
//! baseline run leaves nothing behind. Actions that could change the provider
//! itself (namespaces, ptrace) run in a forked child that reports through a pipe.
//!
//! This module does not depend on the provider SDK: the binary hands granted
//! device fds in through [`Context`], and the checks can be unit-tested directly.

pub mod fs;
pub mod identity;
pub mod kernel;
pub mod limits;
pub mod net;
pub mod process;
pub mod sys;
pub mod tty;

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use nix::errno::Errno;
use serde::Serialize;
use serde_json::{Map, Value};

/// The arguments of a `check` command (`"args"`): keys named per check.
pub type Args = Map<String, Value>;

/// What a step of a check returns: a value, or the failed [`Outcome`] to report.
pub type Step<T> = Result<T, Outcome>;

/// Every check name [`run_check`] knows, in a sensible order for running all of them.
pub const CHECKS: &[&str] = &[
    "read_shadow",
    "read_other_data",
    "list_root",
    "write_outside",
    "rename_outside",
    "link_outside",
    "symlink_escape",
    "mount",
    "exec_sh",
    "exec_dropped",
    "open_tty",
    "granted_tty",
    "signal_core",
    "signal_pid",
    "ptrace_core",
    "ptrace_pid",
    "connect_abstract",
    "connect_unix_path",
    "tcp_connect",
    "tcp_allowed",
    "tcp_denied",
    "wan_tcp4",
    "wan_tcp6",
    "wan_udp4",
    "wan_udp6",
    "wan_tfo",
    "tfo_connect_opt",
    "wan_mptcp",
    "lan_tcp4",
    "lan_tcp6",
    "userns",
    "netns",
    "io_uring",
    "bpf",
    "keyctl",
    "userfaultfd",
    "netlink",
    "packet",
    "vsock",
    "fork_bomb",
    "fd_exhaust",
    "huge_alloc",
];

/// The result of one check, serialised as
/// `{"ok": bool, "errno": int|null, "error": "EACCES"|null, "detail": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The action succeeded.
    pub ok: bool,
    /// The errno of the first failing step (for a few checks, e.g. `wan_tfo`,
    /// also set on success when the kernel answered with an errno that means
    /// "under way", such as `EINPROGRESS`).
    pub errno: Option<i32>,
    /// Symbolic name of `errno` (`"EACCES"`), or a short reason without an
    /// errno (`"unknown check"`, `"bad args"`, `"child died"`, `"no grant"`).
    pub error: Option<String>,
    /// Human-readable detail: the failing step, counts, what was read.
    pub detail: String,
}

impl Outcome {
    /// The action worked.
    pub fn success(detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: true,
            errno: None,
            error: None,
            detail: detail.into(),
        }
    }

    /// Step `step` failed with `errno`.
    pub fn failed(step: &str, errno: i32) -> Outcome {
        Outcome {
            ok: false,
            errno: Some(errno),
            error: Some(errno_name(errno)),
            detail: format!("{step}: {}", describe_errno(errno)),
        }
    }

    /// Step `step` failed with the calling thread's current errno.
    pub fn last(step: &str) -> Outcome {
        Outcome::failed(step, Errno::last_raw())
    }

    /// Step `step` failed with an I/O error (its OS errno if it has one).
    pub fn io(step: &str, e: &std::io::Error) -> Outcome {
        match e.raw_os_error() {
            Some(n) => Outcome::failed(step, n),
            None => Outcome::other(&format!("{:?}", e.kind()), format!("{step}: {e}")),
        }
    }

    /// Failed without an errno: `error` is a short reason.
    pub fn other(error: &str, detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            errno: None,
            error: Some(error.to_string()),
            detail: detail.into(),
        }
    }

    /// A required argument is missing or malformed.
    pub fn bad_args(detail: impl Into<String>) -> Outcome {
        Outcome::other("bad args", detail)
    }

    /// Appends `more` to the detail.
    pub fn and(mut self, more: &str) -> Outcome {
        if !more.is_empty() {
            if !self.detail.is_empty() {
                self.detail.push_str("; ");
            }
            self.detail.push_str(more);
        }
        self
    }
}

impl From<Step<String>> for Outcome {
    fn from(r: Step<String>) -> Outcome {
        match r {
            Ok(detail) => Outcome::success(detail),
            Err(o) => o,
        }
    }
}

/// The symbolic name of an errno (`13` → `"EACCES"`); `"errno N"` for numbers
/// this platform does not name. `ENOTSUP` is reported as `EOPNOTSUPP` (the same
/// number on Linux), `EWOULDBLOCK` as `EAGAIN`.
pub fn errno_name(errno: i32) -> String {
    let e = Errno::from_raw(errno);
    if e == Errno::UnknownErrno {
        format!("errno {errno}")
    } else {
        format!("{e:?}")
    }
}

/// `"EACCES (Permission denied)"`.
pub fn describe_errno(errno: i32) -> String {
    format!("{} ({})", errno_name(errno), Errno::from_raw(errno).desc())
}

/// What the binary gives the checks besides their arguments.
#[derive(Debug, Default)]
pub struct Context {
    /// The provider's own writable data directory.
    pub data_dir: PathBuf,
    /// Copies of the fds of the granted devices, by grant number (only filled
    /// when a check needs them).
    pub grants: BTreeMap<u32, OwnedFd>,
}

/// Runs the checks `names` in order and returns
/// `{"results": {"name": <Outcome>, ...}}`, logging one line per check to stderr.
pub fn run_checks(names: &[String], args: &Args, ctx: &Context) -> Value {
    let mut results = Map::new();
    for name in names {
        let outcome = run_check(name, args, ctx);
        let json = serde_json::to_value(&outcome).unwrap_or(Value::Null);
        log(&format!("check {name}: {json}"));
        results.insert(name.clone(), json);
    }
    serde_json::json!({ "results": results })
}

/// Runs one check by name; an unknown name gives
/// `{"ok": false, "errno": null, "error": "unknown check"}`.
pub fn run_check(name: &str, args: &Args, ctx: &Context) -> Outcome {
    let dir = ctx.data_dir.as_path();
    match name {
        "read_shadow" => fs::read_file("/etc/shadow".as_ref()),
        "read_other_data" => with_str(args, "other_file", |p| fs::read_file(p.as_ref())),
        "list_root" => fs::list_dir("/".as_ref()),
        "write_outside" => with_str(args, "outside_dir", |d| fs::write_outside(d.as_ref())),
        "rename_outside" => with_str(args, "outside_dir", |d| fs::rename_outside(dir, d.as_ref())),
        "link_outside" => with_str(args, "outside_dir", |d| fs::link_outside(dir, d.as_ref())),
        "symlink_escape" => with_str(args, "escape_target", |t| {
            fs::symlink_escape(dir, t.as_ref())
        }),
        "mount" => fs::mount_tmpfs(dir),
        "exec_sh" => process::exec_sh(),
        "exec_dropped" => process::exec_dropped(dir),
        "open_tty" => with_str(args, "tty_path", |p| tty::open_tty(p.as_ref())),
        "granted_tty" => granted_tty(args, ctx),
        "signal_core" => process::signal(process::parent_pid()),
        "signal_pid" => with_pid(args, process::signal),
        "ptrace_core" => process::ptrace_seize(process::parent_pid()),
        "ptrace_pid" => with_pid(args, process::ptrace_seize),
        "connect_abstract" => with_str(args, "abstract", net::connect_abstract),
        "connect_unix_path" => with_str(args, "unix_path", net::connect_unix_path),
        "tcp_connect" => with_str(args, "tcp_addr", net::tcp_connect),
        "tcp_allowed" => with_str(args, "tcp_allowed", net::tcp_connect),
        "tcp_denied" => with_str(args, "tcp_denied", net::tcp_connect),
        "wan_tcp4" => with_str(args, "wan_tcp4", net::tcp_connect),
        "wan_tcp6" => with_str(args, "wan_tcp6", net::tcp_connect),
        "lan_tcp4" => with_str(args, "lan_tcp4", net::tcp_connect),
        "lan_tcp6" => with_str(args, "lan_tcp6", net::tcp_connect),
        "wan_udp4" => with_str(args, "wan_udp4", net::udp_send),
        "wan_udp6" => with_str(args, "wan_udp6", net::udp_send),
        "wan_tfo" => with_str_or(args, "wan_tfo", "wan_tcp4", net::tfo_sendto),
        "tfo_connect_opt" => net::tfo_connect_opt(),
        "wan_mptcp" => with_str_or(args, "wan_mptcp", "wan_tcp4", net::mptcp_connect),
        "netlink" => net::raw_socket(net::Family::Netlink),
        "packet" => net::raw_socket(net::Family::Packet),
        "vsock" => net::raw_socket(net::Family::Vsock),
        "userns" => process::unshare(libc::CLONE_NEWUSER),
        "netns" => process::unshare(libc::CLONE_NEWNET),
        "io_uring" => kernel::io_uring(),
        "bpf" => kernel::bpf_map(),
        "keyctl" => kernel::keyctl(),
        "userfaultfd" => kernel::userfaultfd(),
        "fork_bomb" => match arg_u64(args, "fork_cap", 10_000) {
            Ok(cap) => limits::fork_bomb(cap),
            Err(o) => o,
        },
        "fd_exhaust" => match arg_u64(args, "fd_cap", 1_000_000) {
            Ok(cap) => limits::fd_exhaust(cap),
            Err(o) => o,
        },
        "huge_alloc" => match (
            arg_u64(args, "alloc_mib", 65_536),
            arg_u64(args, "touch_mib", 0),
        ) {
            (Ok(alloc), Ok(touch)) => limits::huge_alloc(alloc, touch),
            (Err(o), _) | (_, Err(o)) => o,
        },
        _ => Outcome::other("unknown check", format!("no check named {name:?}")),
    }
}

/// `granted_tty` on `args.grant`, or on the lowest-numbered grant without it.
fn granted_tty(args: &Args, ctx: &Context) -> Outcome {
    let chosen = match args.get("grant") {
        None | Some(Value::Null) => ctx.grants.iter().next(),
        Some(v) => match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => ctx.grants.get_key_value(&n),
            None => return Outcome::bad_args(format!("grant must be a number, got {v}")),
        },
    };
    let Some((grant, fd)) = chosen else {
        let have: Vec<u32> = ctx.grants.keys().copied().collect();
        return Outcome::other(
            "no grant",
            format!(
                "no granted device to use (asked {:?}, have {have:?})",
                args.get("grant")
            ),
        );
    };
    let write = match args.get("write") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Outcome::bad_args(format!("write must be a string, got {v}")),
    };
    let read = match args.get("read") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Outcome::bad_args(format!("read must be a bool, got {v}")),
    };
    log(&format!("granted_tty on grant {grant}"));
    tty::granted_tty(std::os::fd::AsFd::as_fd(fd), write, read)
}

/// Runs `f` with the string argument `key`, or reports it missing.
fn with_str(args: &Args, key: &str, f: impl FnOnce(&str) -> Outcome) -> Outcome {
    match arg_str(args, key) {
        Ok(s) => f(s),
        Err(o) => o,
    }
}

/// Runs `f` with the string argument `key`, else `fallback`.
fn with_str_or(args: &Args, key: &str, fallback: &str, f: impl FnOnce(&str) -> Outcome) -> Outcome {
    match arg_str(args, key).or_else(|_| arg_str(args, fallback)) {
        Ok(s) => f(s),
        Err(_) => Outcome::bad_args(format!("missing string argument {key:?} (or {fallback:?})")),
    }
}

/// Runs `f` with the pid argument `pid`.
fn with_pid(args: &Args, f: impl FnOnce(libc::pid_t) -> Outcome) -> Outcome {
    match args.get("pid").and_then(Value::as_i64) {
        Some(p) if p > 0 && p <= i64::from(libc::pid_t::MAX) => f(p as libc::pid_t),
        other => Outcome::bad_args(format!("pid must be a positive number, got {other:?}")),
    }
}

/// The string argument `key`.
///
/// # Errors
/// A "bad args" outcome when it is missing or not a string.
pub fn arg_str<'a>(args: &'a Args, key: &str) -> Step<&'a str> {
    match args.get(key) {
        Some(Value::String(s)) => Ok(s),
        other => Err(Outcome::bad_args(format!(
            "missing string argument {key:?} (got {other:?})"
        ))),
    }
}

/// The unsigned argument `key`, `default` when absent.
///
/// # Errors
/// A "bad args" outcome when it is present but not an unsigned number.
pub fn arg_u64(args: &Args, key: &str, default: u64) -> Step<u64> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| Outcome::bad_args(format!("{key} must be an unsigned number, got {v}"))),
    }
}

/// Writes one line to stderr, which the core collects into its log.
pub fn log(what: &str) {
    eprintln!("igloo-hostile[{}]: {what}", std::process::id());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(libc::EACCES), "EACCES");
        assert_eq!(errno_name(libc::EPERM), "EPERM");
        assert_eq!(errno_name(libc::EXDEV), "EXDEV");
        assert_eq!(errno_name(libc::ENOSYS), "ENOSYS");
        assert_eq!(errno_name(libc::EAFNOSUPPORT), "EAFNOSUPPORT");
        assert_eq!(errno_name(libc::EINPROGRESS), "EINPROGRESS");
        assert_eq!(errno_name(libc::ENOTSUP), "EOPNOTSUPP");
        assert_eq!(errno_name(libc::EAGAIN), "EAGAIN");
        assert_eq!(errno_name(100_000), "errno 100000");
    }

    #[test]
    fn outcome_json_shape() {
        let v = serde_json::to_value(Outcome::failed("open /etc/shadow", libc::EACCES)).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["errno"], 13);
        assert_eq!(v["error"], "EACCES");
        assert_eq!(v["detail"], "open /etc/shadow: EACCES (Permission denied)");
        let v = serde_json::to_value(Outcome::success("fine")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"ok": true, "errno": null, "error": null, "detail": "fine"})
        );
    }

    #[test]
    fn unknown_check_and_missing_args() {
        let ctx = Context::default();
        let args = Args::new();
        let r = run_checks(&["nope".to_string()], &args, &ctx);
        assert_eq!(r["results"]["nope"]["ok"], false);
        assert_eq!(r["results"]["nope"]["errno"], Value::Null);
        assert_eq!(r["results"]["nope"]["error"], "unknown check");
        let o = run_check("read_other_data", &args, &ctx);
        assert_eq!(o.error.as_deref(), Some("bad args"));
        let o = run_check("granted_tty", &args, &ctx);
        assert_eq!(o.error.as_deref(), Some("no grant"));
    }

    #[test]
    fn every_check_is_dispatched() {
        // Missing arguments are fine here; only "unknown check" would be wrong.
        // (Only checks that stop at a missing argument or are harmless are run.)
        let ctx = Context::default();
        let args = Args::new();
        for name in [
            "read_other_data",
            "write_outside",
            "rename_outside",
            "link_outside",
            "symlink_escape",
            "open_tty",
            "signal_pid",
            "ptrace_pid",
            "connect_abstract",
            "connect_unix_path",
            "tcp_connect",
            "tcp_allowed",
            "tcp_denied",
            "wan_tcp4",
            "wan_tcp6",
            "wan_udp4",
            "wan_udp6",
            "wan_tfo",
            "wan_mptcp",
            "lan_tcp4",
            "lan_tcp6",
        ] {
            assert!(CHECKS.contains(&name), "{name} missing from CHECKS");
            assert_eq!(
                run_check(name, &args, &ctx).error.as_deref(),
                Some("bad args"),
                "{name}"
            );
        }
    }
}
