//! The seccomp filter of one provider (DESIGN §7), installed last in the child
//! before exec. A deny list, answered with `EPERM`: namespace creation, mount,
//! bpf, io_uring, keyctl, ptrace, userfaultfd and other kernel-administration
//! calls; sockets outside an address-family allow-list; MPTCP sockets and
//! TCP Fast Open (`MSG_FASTOPEN`, `TCP_FASTOPEN[_CONNECT]`), which bypass
//! Landlock's TCP port rules (FIELD-NOTES, kernel 6.18). `clone3` answers
//! `ENOSYS` because its flags sit behind a pointer a filter cannot read; libc
//! then falls back to `clone`, whose flags are checked.

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
use std::collections::BTreeMap;

use seccompiler::{BpfProgram, TargetArch};
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
use seccompiler::{
    SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition as Cond,
    SeccompFilter, SeccompRule,
};

use super::settings::SocketFamily;

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// `IPPROTO_MPTCP` (include/uapi/linux/in.h).
const IPPROTO_MPTCP: u64 = 262;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// `TCP_FASTOPEN` and `TCP_FASTOPEN_CONNECT` (include/uapi/linux/tcp.h).
const TCP_FASTOPEN: u64 = 23;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
const TCP_FASTOPEN_CONNECT: u64 = 30;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// `MSG_FASTOPEN` (include/linux/socket.h).
const MSG_FASTOPEN: u64 = 0x2000_0000;
/// `__X32_SYSCALL_BIT`: x32-ABI calls on x86_64 carry this bit and pass the
/// architecture check, so every denied number is mirrored with it.
#[cfg(target_arch = "x86_64")]
const X32: i64 = 0x4000_0000;
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// `CLONE_NEW*` flags (include/uapi/linux/sched.h).
const CLONE_NEW: &[u64] = &[
    0x0000_0080, // CLONE_NEWTIME
    0x0002_0000, // CLONE_NEWNS
    0x0200_0000, // CLONE_NEWCGROUP
    0x0400_0000, // CLONE_NEWUTS
    0x0800_0000, // CLONE_NEWIPC
    0x1000_0000, // CLONE_NEWUSER
    0x2000_0000, // CLONE_NEWPID
    0x4000_0000, // CLONE_NEWNET
];
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// `TIOCSTI` and `TIOCLINUX`: typing into or controlling a terminal.
const TTY_IOCTLS: &[u64] = &[0x5412, 0x541C];

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// Syscalls denied outright.
fn denied() -> Vec<i64> {
    let mut v = vec![
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_open_tree,
        libc::SYS_move_mount,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
        libc::SYS_bpf,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_pidfd_getfd,
        libc::SYS_userfaultfd,
        libc::SYS_perf_event_open,
        libc::SYS_kexec_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_acct,
        libc::SYS_quotactl,
        libc::SYS_syslog,
        libc::SYS_open_by_handle_at,
        libc::SYS_vhangup,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([libc::SYS_iopl, libc::SYS_ioperm, libc::SYS_lookup_dcookie]);
    // The libc crate has no `SYS_kexec_file_load` for aarch64 musl; the number
    // is the generic one (include/uapi/asm-generic/unistd.h: 294).
    #[cfg(all(target_arch = "aarch64", target_env = "musl"))]
    v.push(294);
    #[cfg(not(all(target_arch = "aarch64", target_env = "musl")))]
    v.push(libc::SYS_kexec_file_load);
    v
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
fn cond(arg: u8, op: Op, value: u64) -> Result<Cond, String> {
    Cond::new(arg, Len::Dword, op, value).map_err(|e| e.to_string())
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
fn rule(conds: Vec<Cond>) -> Result<SeccompRule, String> {
    SeccompRule::new(conds).map_err(|e| e.to_string())
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// The rules answered with `EPERM`, keyed by syscall number.
fn eperm_rules(families: &[SocketFamily]) -> Result<BTreeMap<i64, Vec<SeccompRule>>, String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in denied() {
        rules.insert(nr, Vec::new());
    }
    // clone with any CLONE_NEW* flag.
    let mut clone_rules = Vec::new();
    for &flag in CLONE_NEW {
        clone_rules.push(rule(vec![
            Cond::new(0, Len::Qword, Op::MaskedEq(flag), flag).map_err(|e| e.to_string())?,
        ])?);
    }
    rules.insert(libc::SYS_clone, clone_rules);
    // socket(): families outside the allow-list, and MPTCP.
    let mut outside = Vec::new();
    for f in families {
        outside.push(cond(0, Op::Ne, f.af() as u64)?);
    }
    let mut socket_rules = vec![rule(vec![cond(2, Op::Eq, IPPROTO_MPTCP)?])?];
    if outside.is_empty() {
        // No family allowed at all.
        socket_rules.push(rule(vec![cond(0, Op::Ge, 0)?])?);
    } else {
        socket_rules.push(rule(outside)?);
    }
    rules.insert(libc::SYS_socket, socket_rules);
    // socketpair() only for AF_UNIX pairs (they reach nothing outside).
    rules.insert(
        libc::SYS_socketpair,
        vec![rule(vec![cond(0, Op::Ne, libc::AF_UNIX as u64)?])?],
    );
    // TCP Fast Open.
    let fastopen = |arg: u8| -> Result<Vec<SeccompRule>, String> {
        Ok(vec![rule(vec![cond(
            arg,
            Op::MaskedEq(MSG_FASTOPEN),
            MSG_FASTOPEN,
        )?])?])
    };
    rules.insert(libc::SYS_sendto, fastopen(3)?);
    rules.insert(libc::SYS_sendmsg, fastopen(2)?);
    rules.insert(libc::SYS_sendmmsg, fastopen(3)?);
    rules.insert(
        libc::SYS_setsockopt,
        vec![
            rule(vec![
                cond(1, Op::Eq, libc::IPPROTO_TCP as u64)?,
                cond(2, Op::Eq, TCP_FASTOPEN)?,
            ])?,
            rule(vec![
                cond(1, Op::Eq, libc::IPPROTO_TCP as u64)?,
                cond(2, Op::Eq, TCP_FASTOPEN_CONNECT)?,
            ])?,
        ],
    );
    // Terminal injection.
    let mut tty = Vec::new();
    for &req in TTY_IOCTLS {
        tty.push(rule(vec![cond(1, Op::Eq, req)?])?);
    }
    rules.insert(libc::SYS_ioctl, tty);

    #[cfg(target_arch = "x86_64")]
    {
        let mirrored: Vec<(i64, Vec<SeccompRule>)> =
            rules.iter().map(|(nr, r)| (nr | X32, r.clone())).collect();
        rules.extend(mirrored);
        // x32-only entry points (arch/x86/entry/syscalls/syscall_64.tbl, 512+)
        // of calls denied or filtered by argument above: deny outright.
        // 514 ioctl, 518 sendmsg, 521 ptrace, 528 kexec_load, 538 sendmmsg,
        // 539/540 process_vm_readv/writev, 541 setsockopt.
        for nr in [514, 518, 521, 528, 538, 539, 540, 541] {
            rules.insert(X32 | nr, Vec::new());
        }
    }
    Ok(rules)
}

/// The compiled filters, in installation order.
pub struct Filters {
    /// Everything answered with `EPERM`.
    pub eperm: BpfProgram,
    /// `clone3` answered with `ENOSYS`.
    pub enosys: BpfProgram,
}

/// The architecture of this build as seccompiler names it, if supported.
pub fn target_arch() -> Result<TargetArch, String> {
    std::env::consts::ARCH.try_into().map_err(|_| {
        format!(
            "seccomp filters are not built for {}",
            std::env::consts::ARCH
        )
    })
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
/// Compiles the provider's filters.
///
/// # Errors
/// An unsupported architecture (seccompiler knows x86_64, aarch64, riscv64)
/// or an internal compilation error.
pub fn build(families: &[SocketFamily]) -> Result<Filters, String> {
    let arch = target_arch()?;
    let eperm = SeccompFilter::new(
        eperm_rules(families)?,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    let mut enosys_rules = BTreeMap::new();
    enosys_rules.insert(libc::SYS_clone3, Vec::new());
    #[cfg(target_arch = "x86_64")]
    enosys_rules.insert(libc::SYS_clone3 | X32, Vec::new());
    let enosys = SeccompFilter::new(
        enosys_rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(|e| e.to_string())?;
    Ok(Filters {
        eperm: eperm
            .try_into()
            .map_err(|e: seccompiler::BackendError| e.to_string())?,
        enosys: enosys
            .try_into()
            .map_err(|e: seccompiler::BackendError| e.to_string())?,
    })
}

/// Without a seccompiler backend (32-bit ARM, …) there are no filters: the
/// provider runs without the seccomp layer, and the core reports it as not
/// enforced with this message.
///
/// # Errors
/// Always.
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
pub fn build(_families: &[SocketFamily]) -> Result<Filters, String> {
    Err(format!(
        "seccomp filters are not built for {} (seccompiler supports x86_64, aarch64, riscv64)",
        std::env::consts::ARCH
    ))
}

#[cfg(test)]
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
mod tests {
    use super::*;

    #[test]
    fn filters_compile_for_this_architecture() {
        let f = build(&[SocketFamily::Inet, SocketFamily::Inet6]).expect("filters compile");
        assert!(f.eperm.len() > 50, "{} instructions", f.eperm.len());
        assert!(!f.enosys.is_empty());
        // BPF programs are limited to 4096 instructions (BPF_MAXINSNS).
        assert!(f.eperm.len() < 4096, "{} instructions", f.eperm.len());
    }
}
