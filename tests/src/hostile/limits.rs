//! Resource checks: process count, open files, memory. Each runs until a
//! limit stops it (or a cap is reached), reports what stopped it and how far
//! it got, and then releases everything.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;

use super::sys::{owned, reap};
use super::{Outcome, log};

const MIB: u64 = 1 << 20;

/// Forks children that only wait (`pause`) until `fork` fails or `cap`
/// children exist, then kills and reaps them all.
///
/// `ok` is false with the errno that stopped it (`EAGAIN` from `RLIMIT_NPROC`
/// or the pids cgroup), true when `cap` was reached; `detail` gives the count.
/// Children die with the provider (`PR_SET_PDEATHSIG`) should it be killed first.
pub fn fork_bomb(cap: u64) -> Outcome {
    // SAFETY: getpid cannot fail.
    let parent = unsafe { libc::getpid() };
    let mut children: Vec<libc::pid_t> = Vec::new();
    let mut stopped = None;
    while (children.len() as u64) < cap {
        // SAFETY: the child only makes raw, async-signal-safe syscalls.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            stopped = Some(Errno::last_raw());
            break;
        }
        if pid == 0 {
            // SAFETY: raw syscalls in the child; it never returns.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(0);
                }
                // Should pause itself be refused, exit instead of spinning: the
                // zombie still counts against RLIMIT_NPROC and the pids cgroup
                // until it is reaped below.
                loop {
                    if libc::pause() < 0 && Errno::last_raw() != libc::EINTR {
                        libc::_exit(0);
                    }
                }
            }
        }
        children.push(pid);
    }
    for &pid in &children {
        // SAFETY: signals only our own children.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    for &pid in &children {
        reap(pid);
    }
    let n = children.len();
    match stopped {
        Some(e) => Outcome::failed(&format!("fork after {n} children"), e)
            .and(&format!("{n} children made, all killed and reaped")),
        None => Outcome::success(format!(
            "reached the cap of {n} children without a limit; all killed and reaped"
        )),
    }
}

/// `dup`s an open fd (0 if open, else 1, 2, else a fresh pipe's read end)
/// until it fails or `cap` copies exist, then closes them all.
///
/// `ok` is false with the errno that stopped it (`EMFILE`), true when `cap`
/// was reached; `detail` gives the count.
pub fn fd_exhaust(cap: u64) -> Outcome {
    let is_open = |fd: libc::c_int| {
        // SAFETY: F_GETFD only reads the descriptor flags.
        unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
    };
    let mut pipe_fds: Vec<OwnedFd> = Vec::new();
    let source = match (0..=2).find(|&fd| is_open(fd)) {
        Some(fd) => fd,
        None => {
            let mut fds = [0; 2];
            // SAFETY: fds is a valid array of two ints.
            if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
                return Outcome::last("pipe2 (nothing open on 0-2 to dup)");
            }
            for fd in fds {
                match owned(fd.into(), "pipe2") {
                    Ok(o) => pipe_fds.push(o),
                    Err(o) => return o,
                }
            }
            pipe_fds[0].as_raw_fd()
        }
    };
    // SAFETY: `source` is open for the whole loop (0-2 are never closed here,
    // the pipe lives in pipe_fds).
    let source_fd = unsafe { BorrowedFd::borrow_raw(source) };
    let mut copies: Vec<OwnedFd> = Vec::new();
    let mut stopped = None;
    while (copies.len() as u64) < cap {
        match source_fd.try_clone_to_owned() {
            Ok(fd) => copies.push(fd),
            Err(e) => {
                stopped = Some(e.raw_os_error().unwrap_or(0));
                break;
            }
        }
    }
    let n = copies.len();
    drop(copies);
    match stopped {
        Some(e) => Outcome::failed(&format!("dup of fd {source} after {n} copies"), e)
            .and(&format!("{n} fds made, all closed")),
        None => Outcome::success(format!(
            "reached the cap of {n} copies of fd {source} without a limit; all closed"
        )),
    }
}

/// Maps `alloc_mib` MiB of anonymous memory (`MAP_NORESERVE`), touches the
/// first `touch_mib` MiB page by page, then unmaps it.
///
/// `ok` is false with the `mmap` errno (`ENOMEM` from `RLIMIT_AS`). If the
/// memory cgroup kills the process while touching, no reply comes: the test
/// sees the provider restart instead; progress is logged every 64 MiB.
pub fn huge_alloc(alloc_mib: u64, touch_mib: u64) -> Outcome {
    let Some(len) = alloc_mib
        .checked_mul(MIB)
        .and_then(|b| usize::try_from(b).ok())
    else {
        return Outcome::bad_args(format!("alloc_mib {alloc_mib} is too large"));
    };
    // SAFETY: an anonymous private mapping, not aliased by anything else.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Outcome::last(&format!("mmap {alloc_mib} MiB"));
    }
    // SAFETY: sysconf cannot fail for _SC_PAGESIZE.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let touch = touch_mib.min(alloc_mib);
    let base = ptr.cast::<u8>();
    for mib in 0..touch {
        let start = (mib * MIB) as usize;
        for off in (start..start + MIB as usize).step_by(page) {
            // SAFETY: off < len, inside our own writable mapping.
            unsafe { std::ptr::write_volatile(base.add(off), 1) };
        }
        if (mib + 1) % 64 == 0 {
            log(&format!("huge_alloc: touched {} MiB", mib + 1));
        }
    }
    // SAFETY: unmapping exactly the mapping made above.
    unsafe { libc::munmap(ptr, len) };
    Outcome::success(format!(
        "mapped {alloc_mib} MiB, touched {touch} MiB, unmapped"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_fork_bomb_cleans_up() {
        let o = fork_bomb(5);
        assert!(o.ok, "{o:?}");
        assert!(o.detail.contains("5 children"), "{o:?}");
    }

    #[test]
    fn fd_exhaust_with_a_cap() {
        let o = fd_exhaust(100);
        assert!(o.ok, "{o:?}");
        assert!(o.detail.contains("100 copies"), "{o:?}");
    }

    #[test]
    fn baseline_huge_alloc() {
        let o = huge_alloc(65_536, 0);
        assert!(o.ok, "{o:?}");
        let o = huge_alloc(64, 8);
        assert!(o.ok, "{o:?}");
        assert!(o.detail.contains("touched 8 MiB"), "{o:?}");
        let o = huge_alloc(u64::MAX, 0);
        assert_eq!(o.error.as_deref(), Some("bad args"));
    }
}
