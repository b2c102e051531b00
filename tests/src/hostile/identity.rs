//! Who the provider runs as, from syscalls only (no `/proc`, which the sandbox
//! does not allow): ids, groups, capabilities, no_new_privs, seccomp mode,
//! open fds and the Landlock ABI.

use serde_json::{Value, json};

use nix::errno::Errno;

use super::errno_name;

/// The fds checked by [`open_fds`].
pub const FD_RANGE: std::ops::RangeInclusive<libc::c_int> = 0..=1023;

/// `_LINUX_CAPABILITY_VERSION_3` (two 32-bit capability words).
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;
/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI version.
const LANDLOCK_CREATE_RULESET_VERSION: libc::c_long = 1;

/// The open fds among 0..=1023 (`fcntl(F_GETFD)` succeeds).
pub fn open_fds() -> Vec<libc::c_int> {
    FD_RANGE
        .filter(|&fd| {
            // SAFETY: F_GETFD only reads the descriptor flags.
            unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
        })
        .collect()
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// (effective, permitted) capability sets as 64-bit masks.
fn capabilities() -> Result<(u64, u64), i32> {
    let mut header = CapHeader {
        version: CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and two data words as capget(2) expects for version 3.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut header as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(Errno::last_raw());
    }
    let join = |lo: u32, hi: u32| (u64::from(hi) << 32) | u64::from(lo);
    Ok((
        join(data[0].effective, data[1].effective),
        join(data[0].permitted, data[1].permitted),
    ))
}

/// `prctl(option)` as a JSON number, or null (the errno is logged in `errors`).
fn prctl_get(option: libc::c_int, name: &str, errors: &mut Vec<String>) -> Value {
    // SAFETY: a read-only prctl with no pointer arguments.
    let r = unsafe { libc::prctl(option, 0, 0, 0, 0) };
    if r < 0 {
        errors.push(format!("{name}: {}", errno_name(Errno::last_raw())));
        Value::Null
    } else {
        json!(r)
    }
}

/// The identity report:
/// `{"uid","gid","euid","egid","suid","sgid","groups":[..],"cap_eff":"hex","cap_prm":"hex",
///   "no_new_privs":0|1,"seccomp":0|1|2,"open_fds":[..],"inherited_fds":[..],
///   "landlock_abi":int,"pid","ppid","errors":[..]}`.
///
/// `cap_eff`/`cap_prm` are 16 hex digits as in `/proc/self/status`;
/// `landlock_abi` is 0 when Landlock is unavailable (the reason in `errors`);
/// a field whose syscall failed is null and the failure is listed in `errors`.
pub fn identity(inherited_fds: &[libc::c_int]) -> Value {
    let mut errors = Vec::new();
    let (mut uid, mut euid, mut suid) = (0, 0, 0);
    let (mut gid, mut egid, mut sgid) = (0, 0, 0);
    // SAFETY: valid out pointers; these calls cannot fail with them.
    unsafe {
        libc::getresuid(&mut uid, &mut euid, &mut suid);
        libc::getresgid(&mut gid, &mut egid, &mut sgid);
    }
    let groups = {
        // SAFETY: size 0 only returns the count.
        let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        let mut list = vec![0 as libc::gid_t; usize::try_from(n).unwrap_or(0)];
        // SAFETY: list has room for n groups.
        let got = unsafe { libc::getgroups(n.max(0), list.as_mut_ptr()) };
        if got < 0 {
            errors.push(format!("getgroups: {}", errno_name(Errno::last_raw())));
            Value::Null
        } else {
            list.truncate(got as usize);
            json!(list)
        }
    };
    let (cap_eff, cap_prm) = match capabilities() {
        Ok((e, p)) => (json!(format!("{e:016x}")), json!(format!("{p:016x}"))),
        Err(e) => {
            errors.push(format!("capget: {}", errno_name(e)));
            (Value::Null, Value::Null)
        }
    };
    let no_new_privs = prctl_get(
        libc::PR_GET_NO_NEW_PRIVS,
        "PR_GET_NO_NEW_PRIVS",
        &mut errors,
    );
    let seccomp = prctl_get(libc::PR_GET_SECCOMP, "PR_GET_SECCOMP", &mut errors);
    // SAFETY: a query with a null attribute pointer and size 0, as documented.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0 as libc::size_t,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    let landlock_abi = if abi < 0 {
        errors.push(format!(
            "landlock_create_ruleset(VERSION): {}",
            errno_name(Errno::last_raw())
        ));
        0
    } else {
        abi
    };
    // SAFETY: getpid and getppid cannot fail.
    let (pid, ppid) = unsafe { (libc::getpid(), libc::getppid()) };
    json!({
        "uid": uid,
        "gid": gid,
        "euid": euid,
        "egid": egid,
        "suid": suid,
        "sgid": sgid,
        "groups": groups,
        "cap_eff": cap_eff,
        "cap_prm": cap_prm,
        "no_new_privs": no_new_privs,
        "seccomp": seccomp,
        "open_fds": open_fds(),
        "inherited_fds": inherited_fds,
        "landlock_abi": landlock_abi,
        "pid": pid,
        "ppid": ppid,
        "errors": errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_identity() {
        let v = identity(&[0, 1, 2]);
        assert_eq!(v["errors"], json!([]), "{v}");
        // SAFETY: geteuid cannot fail.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(v["euid"], json!(euid));
        assert_eq!(v["cap_eff"].as_str().unwrap().len(), 16);
        if euid == 0 {
            assert_ne!(v["cap_eff"], json!("0000000000000000"));
        }
        assert!(v["landlock_abi"].as_i64().unwrap() >= 1, "{v}");
        assert_eq!(v["inherited_fds"], json!([0, 1, 2]));
        let open: Vec<i64> = v["open_fds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert!(open.contains(&2), "{v}");
    }
}
