//! Process checks: executing programs, signalling and tracing other processes,
//! creating namespaces. Tracing and namespaces happen in a forked child so the
//! provider itself never changes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::errno::Errno;

use super::sys::in_child;
use super::{Outcome, Step};

/// How often `exec_dropped` retries an exec that failed with `ETXTBSY`.
const ETXTBSY_RETRIES: u32 = 40;

/// The provider's parent: the core that spawned it.
pub fn parent_pid() -> libc::pid_t {
    // SAFETY: getppid cannot fail.
    unsafe { libc::getppid() }
}

/// Runs `cmd` and waits; ok when it exited 0. A spawn error carries the errno
/// of the failed fork or exec.
fn run(mut cmd: Command, what: &str) -> Outcome {
    match cmd.status() {
        Ok(s) if s.success() => Outcome::success(format!("{what}: ran and exited 0")),
        Ok(s) => Outcome::other("failed", format!("{what}: ran but ended with {s}")),
        Err(e) => Outcome::io(&format!("spawn (fork/exec) {what}"), &e),
    }
}

/// `/bin/sh -c "exit 0"`.
pub fn exec_sh() -> Outcome {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "exit 0"]);
    run(cmd, "/bin/sh -c 'exit 0'")
}

/// The path of this executable: `current_exe()` (a readlink of
/// `/proc/self/exe`, which needs no read access), else an absolute `argv[0]`.
fn own_exe() -> Step<PathBuf> {
    match std::env::current_exe() {
        Ok(p) => Ok(p),
        Err(e) => match std::env::args_os().next().map(PathBuf::from) {
            Some(p) if p.is_absolute() => Ok(p),
            _ => Err(Outcome::io("current_exe", &e)),
        },
    }
}

/// Copies this executable into `data_dir` as `dropped-exe`, makes it
/// executable, runs it with `--exit0` and removes it.
pub fn exec_dropped(data_dir: &Path) -> Outcome {
    let dropped = data_dir.join("dropped-exe");
    let result = (|| -> Step<Outcome> {
        let exe = own_exe()?;
        std::fs::copy(&exe, &dropped).map_err(|e| {
            Outcome::io(
                &format!("copy {} -> {}", exe.display(), dropped.display()),
                &e,
            )
        })?;
        std::fs::set_permissions(&dropped, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Outcome::io(&format!("chmod 0755 {}", dropped.display()), &e))?;
        // A child forked elsewhere in this process while the copy was open for
        // writing holds that fd until it exits or execs (ETXTBSY): retry briefly.
        let what = format!("{} --exit0", dropped.display());
        let mut retries = 0;
        loop {
            let mut cmd = Command::new(&dropped);
            cmd.arg("--exit0");
            let o = run(cmd, &what);
            if o.errno != Some(libc::ETXTBSY) || retries == ETXTBSY_RETRIES {
                let note = format!("{retries} retries on ETXTBSY");
                return Ok(if retries > 0 { o.and(&note) } else { o });
            }
            retries += 1;
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    })();
    let _ = std::fs::remove_file(&dropped);
    result.unwrap_or_else(|o| o)
}

/// `kill(pid, 0)`: may this process signal `pid`? Never sends a real signal.
pub fn signal(pid: libc::pid_t) -> Outcome {
    // SAFETY: signal 0 only checks permission and existence.
    if unsafe { libc::kill(pid, 0) } < 0 {
        Outcome::last(&format!("kill({pid}, 0)"))
    } else {
        Outcome::success(format!("kill({pid}, 0) allowed"))
    }
}

/// `ptrace(PTRACE_SEIZE, pid)` from a forked child that then exits, which
/// detaches it again. SEIZE never stops the target; nothing else is done to it.
pub fn ptrace_seize(pid: libc::pid_t) -> Outcome {
    let what = format!("ptrace(PTRACE_SEIZE, {pid})");
    let reported = in_child(&what, || {
        let null = std::ptr::null_mut::<libc::c_void>();
        // SAFETY: a raw syscall with integer and null arguments.
        let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, null, null) };
        if r < 0 { Errno::last_raw() } else { 0 }
    });
    child_outcome(&what, reported)
}

/// `unshare(flags)` (`CLONE_NEWUSER`, `CLONE_NEWNET`) in a forked child.
pub fn unshare(flags: libc::c_int) -> Outcome {
    let what = match flags {
        libc::CLONE_NEWUSER => "unshare(CLONE_NEWUSER)".to_string(),
        libc::CLONE_NEWNET => "unshare(CLONE_NEWNET)".to_string(),
        _ => format!("unshare({flags:#x})"),
    };
    let reported = in_child(&what, || {
        // SAFETY: changes only the forked child, which exits right after.
        if unsafe { libc::unshare(flags) } < 0 {
            Errno::last_raw()
        } else {
            0
        }
    });
    child_outcome(&what, reported)
}

/// Turns the errno a child reported (0 = success) into an outcome.
fn child_outcome(what: &str, reported: Step<i32>) -> Outcome {
    match reported {
        Ok(0) => Outcome::success(format!("{what} worked (in a child that then exited)")),
        Ok(errno) => Outcome::failed(what, errno),
        Err(o) => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn baseline_exec() {
        let o = exec_sh();
        assert!(o.ok, "{o:?}");
    }

    #[test]
    fn exec_of_a_missing_program_reports_enoent() {
        let o = run(Command::new("/nonexistent/igloo-hostile"), "missing");
        assert_eq!(o.error.as_deref(), Some("ENOENT"), "{o:?}");
    }

    #[test]
    fn baseline_exec_dropped_cleans_up() {
        let data = tempfile::tempdir().unwrap();
        let o = exec_dropped(data.path());
        // The unit-test binary treats `--exit0` as an unknown option and fails,
        // so only the copy-and-exec part is checked here: it ran (no errno).
        assert_eq!(o.errno, None, "{o:?}");
        assert_eq!(std::fs::read_dir(data.path()).unwrap().count(), 0);
    }

    #[test]
    fn baseline_signals() {
        assert!(signal(parent_pid()).ok);
        // SAFETY: getpid cannot fail.
        assert!(signal(unsafe { libc::getpid() }).ok);
        let o = signal(libc::pid_t::MAX - 1);
        assert_eq!(o.error.as_deref(), Some("ESRCH"), "{o:?}");
    }

    #[test]
    fn baseline_ptrace_and_namespaces() {
        if !is_root() {
            return;
        }
        let mut target = Command::new("/bin/sleep").arg("30").spawn().unwrap();
        let o = ptrace_seize(target.id() as libc::pid_t);
        assert!(o.ok, "{o:?}");
        // The target was neither stopped nor killed, and is traceable again.
        assert!(target.try_wait().unwrap().is_none());
        let o = ptrace_seize(target.id() as libc::pid_t);
        assert!(o.ok, "{o:?}");
        target.kill().unwrap();
        target.wait().unwrap();
        let o = unshare(libc::CLONE_NEWUSER);
        assert!(o.ok, "{o:?}");
        let o = unshare(libc::CLONE_NEWNET);
        assert!(o.ok, "{o:?}");
    }
}
