//! Asking the running `wpa_supplicant` to re-read its config: SIGHUP to
//! the pid in its pid file (wpa_supplicant reloads on SIGHUP, and exits
//! when the reloaded file cannot be read). The core runs as root, so the
//! pid is checked first: a number above 1 (never 0 or -1, which would
//! signal a process group or every process) whose process is named
//! `wpa_supplicant` (`/proc/<pid>/comm`), so a stale pid file whose pid now
//! belongs to another program is never signalled.

use std::path::Path;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The supplicant's process name (`/proc/<pid>/comm`).
pub const SUPPLICANT: &str = "wpa_supplicant";

/// What became of the reload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reload {
    /// SIGHUP was sent to this pid.
    Sent(i32),
    /// No supplicant runs (no pid file, or no such process), and why.
    NotRunning(String),
    /// Nothing was signalled for another reason (a stale pid file, an
    /// unreadable one, a refused signal).
    NotSent(String),
}

impl Reload {
    /// Whether SIGHUP was sent.
    pub fn sent(&self) -> bool {
        matches!(self, Reload::Sent(_))
    }
}

/// Sends SIGHUP to the supplicant named by `pid_file`, if it runs.
/// Blocking (small file reads): call it off the runtime.
pub fn reload(pid_file: &Path) -> Reload {
    reload_in(pid_file, Path::new("/proc"))
}

fn reload_in(pid_file: &Path, proc: &Path) -> Reload {
    let not_running = Reload::NotRunning;
    let text = match std::fs::read_to_string(pid_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return not_running(format!(
                "wpa_supplicant is not running (no {})",
                pid_file.display()
            ));
        }
        Err(e) => return Reload::NotSent(format!("cannot read {}: {e}", pid_file.display())),
    };
    let Some(pid) = text.trim().parse::<i32>().ok().filter(|p| *p > 1) else {
        return Reload::NotSent(format!("{} holds no pid", pid_file.display()));
    };
    let comm = match std::fs::read_to_string(proc.join(pid.to_string()).join("comm")) {
        Ok(c) => c.trim_end_matches('\n').to_string(),
        Err(_) => {
            return not_running(format!(
                "wpa_supplicant is not running (no process {pid}, from {})",
                pid_file.display()
            ));
        }
    };
    if comm != SUPPLICANT {
        return Reload::NotSent(format!(
            "process {pid} of {} is {comm:?}, not {SUPPLICANT} (a stale pid file): not signalled",
            pid_file.display()
        ));
    }
    match kill(Pid::from_raw(pid), Signal::SIGHUP) {
        Ok(()) => Reload::Sent(pid),
        Err(nix::errno::Errno::ESRCH) => {
            not_running(format!("wpa_supplicant (pid {pid}) has just exited"))
        }
        Err(e) => Reload::NotSent(format!("SIGHUP to wpa_supplicant (pid {pid}): {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_process_named_wpa_supplicant_is_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("wpa_supplicant.pid");
        let missing = reload(&pid_file);
        assert!(
            matches!(&missing, Reload::NotRunning(why) if why.contains("not running")),
            "{missing:?}"
        );
        for bad in ["", "0", "1", "-1", "x"] {
            std::fs::write(&pid_file, bad).unwrap();
            assert!(
                matches!(reload(&pid_file), Reload::NotSent(why) if why.contains("holds no pid")),
                "{bad:?}"
            );
        }
        // A live process of another name (this test) is never signalled.
        std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
        assert!(matches!(reload(&pid_file), Reload::NotSent(why) if why.contains("stale")));
        // A pid with no process.
        let proc = dir.path().join("proc");
        std::fs::create_dir(&proc).unwrap();
        std::fs::write(&pid_file, "4194304").unwrap();
        assert!(
            matches!(reload_in(&pid_file, &proc), Reload::NotRunning(why) if why.contains("no process"))
        );
    }
}
