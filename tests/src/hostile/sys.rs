//! Small system-call helpers shared by the checks: owning raw fds, running an
//! action in a forked child that reports an errno through a pipe, waiting on fds.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::{Outcome, Step};

/// Takes ownership of the fd returned by a syscall, or reports `step` failed.
///
/// # Errors
/// The failed outcome with the current errno when `ret < 0`.
pub fn owned(ret: libc::c_long, step: &str) -> Step<OwnedFd> {
    if ret < 0 {
        return Err(Outcome::last(step));
    }
    let fd =
        RawFd::try_from(ret).map_err(|_| Outcome::other("bad fd", format!("{step}: {ret}")))?;
    // SAFETY: the kernel just returned this fd to us; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Checks a syscall's return value, reporting `step` failed when it is negative.
///
/// # Errors
/// The failed outcome with the current errno.
pub fn check(ret: libc::c_long, step: &str) -> Step<libc::c_long> {
    if ret < 0 {
        Err(Outcome::last(step))
    } else {
        Ok(ret)
    }
}

/// Runs `action` in a forked child and returns what it reported: an errno, or
/// 0 for success. The provider itself is left unchanged (namespaces, tracing).
///
/// `action` runs in the child of a multi-threaded process, so it must only make
/// async-signal-safe calls (raw syscalls, no allocation, no locks); it should
/// return `Errno::last_raw()` when its syscall fails.
///
/// # Errors
/// `fork` or `pipe2` failing, or a child that died without reporting (e.g.
/// killed by a seccomp `SIGSYS`): `error` is `"child died"` and `detail` says how.
pub fn in_child(what: &str, action: impl FnOnce() -> i32) -> Step<i32> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two ints.
    check(
        unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }.into(),
        "pipe2",
    )?;
    // SAFETY: pipe2 just created both fds; we own them.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only runs `action` (async-signal-safe by contract),
    // write(2) and _exit(2).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Outcome::last("fork"));
    }
    if pid == 0 {
        let code = action().to_ne_bytes();
        // SAFETY: writing 4 bytes from a live buffer to our pipe, then leaving
        // without running destructors or atexit handlers.
        unsafe {
            libc::write(write.as_raw_fd(), code.as_ptr().cast(), code.len());
            libc::_exit(0);
        }
    }
    drop(write);
    let mut buf = [0u8; 4];
    let got = read_full(read.as_fd(), &mut buf);
    let status = reap(pid);
    if got == buf.len() {
        Ok(i32::from_ne_bytes(buf))
    } else {
        Err(Outcome::other(
            "child died",
            format!("{what}: the child {}", describe_status(status)),
        ))
    }
}

/// Reads until `buf` is full, end of file or an error; returns the byte count.
fn read_full(fd: BorrowedFd<'_>, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        // SAFETY: reading into the unfilled tail of a live buffer.
        let n = unsafe {
            libc::read(
                fd.as_raw_fd(),
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
            )
        };
        match n {
            n if n > 0 => got += n as usize,
            n if n < 0 && Errno::last() == Errno::EINTR => continue,
            _ => break,
        }
    }
    got
}

/// Waits for child `pid` and returns its wait status (or -1 if it cannot be reaped).
pub fn reap(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    loop {
        // SAFETY: status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return status;
        }
        if r < 0 && Errno::last() != Errno::EINTR {
            return -1;
        }
    }
}

/// `"exited with 3"`, `"was killed by SIGSYS"`.
pub fn describe_status(status: libc::c_int) -> String {
    if status == -1 {
        "could not be reaped".to_string()
    } else if libc::WIFEXITED(status) {
        format!(
            "exited with {} without reporting",
            libc::WEXITSTATUS(status)
        )
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        match nix::sys::signal::Signal::try_from(sig) {
            Ok(s) => format!("was killed by {s}"),
            Err(_) => format!("was killed by signal {sig}"),
        }
    } else {
        format!("ended with wait status {status:#x}")
    }
}

/// Polls `fd` for `events` until `deadline`; `Ok(revents)`, or `Ok(0)` on timeout.
///
/// # Errors
/// `poll` failing.
pub fn poll_until(fd: BorrowedFd<'_>, events: libc::c_short, deadline: Instant) -> Step<i16> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 {
            if Errno::last() == Errno::EINTR {
                continue;
            }
            return Err(Outcome::last("poll"));
        }
        if r == 0 {
            return Ok(0);
        }
        return Ok(p.revents);
    }
}

/// A deadline `timeout` from now.
pub fn deadline(timeout: Duration) -> Instant {
    Instant::now() + timeout
}

/// The pending error of a socket (`SO_ERROR`).
///
/// # Errors
/// `getsockopt` failing.
pub fn socket_error(fd: BorrowedFd<'_>) -> Step<i32> {
    let mut err: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: err and len are valid out pointers of the right size.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            (&mut err as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    check(r.into(), "getsockopt(SO_ERROR)")?;
    Ok(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_reports_its_value() {
        assert_eq!(in_child("test", || 42).unwrap(), 42);
    }

    #[test]
    fn child_that_dies_is_reported() {
        let o = in_child("test", || {
            // SAFETY: kills only the forked child.
            unsafe { libc::raise(libc::SIGKILL) };
            0
        })
        .unwrap_err();
        assert_eq!(o.error.as_deref(), Some("child died"));
        assert!(o.detail.contains("SIGKILL"), "{}", o.detail);
    }
}
