//! Kernel interfaces the sandbox's seccomp filter denies: io_uring, bpf,
//! keyrings, userfaultfd. Each is called as a raw syscall and its result
//! closed or undone at once.

use nix::errno::Errno;

use super::sys::owned;
use super::{Outcome, describe_errno};

/// `struct io_uring_params` is 120 bytes (kernel uapi `io_uring.h`).
const IO_URING_PARAMS_WORDS: usize = 15;
/// `BPF_MAP_CREATE` command.
const BPF_MAP_CREATE: libc::c_long = 0;
/// `BPF_MAP_TYPE_ARRAY`.
const BPF_MAP_TYPE_ARRAY: u32 = 2;
/// `KEYCTL_GET_KEYRING_ID`.
const KEYCTL_GET_KEYRING_ID: libc::c_long = 0;
/// `KEY_SPEC_SESSION_KEYRING`.
const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
/// `UFFD_USER_MODE_ONLY` (kernel 5.11+): only user-space faults, allowed unprivileged.
const UFFD_USER_MODE_ONLY: libc::c_long = 1;

/// `io_uring_setup(8, &params)`; the ring is closed again.
pub fn io_uring() -> Outcome {
    let mut params = [0u64; IO_URING_PARAMS_WORDS];
    // SAFETY: params is a zeroed, 8-aligned 120-byte io_uring_params.
    let r = unsafe {
        libc::syscall(
            libc::SYS_io_uring_setup,
            8 as libc::c_long,
            params.as_mut_ptr(),
        )
    };
    match owned(r, "io_uring_setup(8)") {
        Ok(_ring) => Outcome::success("io_uring_setup(8) gave a ring (closed)"),
        Err(o) => o,
    }
}

/// `bpf(BPF_MAP_CREATE)` of a one-entry array map (4-byte keys and values);
/// the map is closed again.
pub fn bpf_map() -> Outcome {
    // union bpf_attr, map-create part: map_type, key_size, value_size,
    // max_entries, then zeroes (flags, inner map, NUMA node, name…).
    let mut attr = [0u32; 32];
    attr[0] = BPF_MAP_TYPE_ARRAY;
    attr[1] = 4;
    attr[2] = 4;
    attr[3] = 1;
    let size = std::mem::size_of_val(&attr) as libc::c_long;
    // SAFETY: attr is a zeroed bpf_attr prefix of `size` bytes.
    let r = unsafe { libc::syscall(libc::SYS_bpf, BPF_MAP_CREATE, attr.as_mut_ptr(), size) };
    match owned(r, "bpf(BPF_MAP_CREATE, array 1×4/4)") {
        Ok(_map) => Outcome::success("bpf(BPF_MAP_CREATE) made an array map (closed)"),
        Err(o) => o,
    }
}

/// `keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)`: read-only,
/// creates nothing.
pub fn keyctl() -> Outcome {
    // SAFETY: a raw syscall with integer arguments.
    let r = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            KEYCTL_GET_KEYRING_ID,
            KEY_SPEC_SESSION_KEYRING,
            0 as libc::c_long,
        )
    };
    if r < 0 {
        Outcome::last("keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)")
    } else {
        Outcome::success(format!("session keyring id {r}"))
    }
}

/// `userfaultfd(O_CLOEXEC | UFFD_USER_MODE_ONLY)`, then `userfaultfd(O_CLOEXEC)`
/// if that fails; the fd is closed again. When both fail, `errno` is the first
/// attempt's and `detail` names both.
pub fn userfaultfd() -> Outcome {
    let attempt = |flags: libc::c_long| {
        // SAFETY: a raw syscall with an integer argument.
        let r = unsafe { libc::syscall(libc::SYS_userfaultfd, flags) };
        if r < 0 {
            Err(Errno::last_raw())
        } else {
            // Closed right away through OwnedFd.
            owned(r, "userfaultfd").map(drop).map_err(|_| libc::EBADF)
        }
    };
    let first = libc::O_CLOEXEC as libc::c_long | UFFD_USER_MODE_ONLY;
    match attempt(first) {
        Ok(()) => Outcome::success("userfaultfd(O_CLOEXEC|UFFD_USER_MODE_ONLY) worked (closed)"),
        Err(e1) => match attempt(libc::O_CLOEXEC as libc::c_long) {
            Ok(()) => Outcome::success(format!(
                "userfaultfd(O_CLOEXEC|UFFD_USER_MODE_ONLY): {}; userfaultfd(O_CLOEXEC) worked (closed)",
                describe_errno(e1)
            )),
            Err(e2) => Outcome::failed("userfaultfd(O_CLOEXEC|UFFD_USER_MODE_ONLY)", e1)
                .and(&format!("userfaultfd(O_CLOEXEC): {}", describe_errno(e2))),
        },
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
    fn baseline_kernel_interfaces() {
        if !is_root() {
            return;
        }
        for (name, o) in [
            ("io_uring", io_uring()),
            ("bpf", bpf_map()),
            ("keyctl", keyctl()),
            ("userfaultfd", userfaultfd()),
        ] {
            assert!(o.ok, "{name}: {o:?}");
        }
    }
}
