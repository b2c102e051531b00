//! What the host offers for confinement, found once at start and shown by
//! `igloo doctor` and `GET /api/v1/sandbox`.

use serde_json::{Value as Json, json};

use super::cgroup::{self, CgroupSupport};
use super::landlock;

/// Whether the kernel can install seccomp filters
/// (`/proc/sys/kernel/seccomp/actions_avail` lists `errno`, Linux 4.14+).
pub fn seccomp_available() -> Result<(), String> {
    match std::fs::read_to_string("/proc/sys/kernel/seccomp/actions_avail") {
        Ok(s) if s.split_whitespace().any(|a| a == "errno") => Ok(()),
        Ok(s) => Err(format!(
            "seccomp lacks the errno action (available: {})",
            s.trim()
        )),
        Err(e) => Err(format!(
            "no seccomp filter support (/proc/sys/kernel/seccomp/actions_avail: {e})"
        )),
    }
}

/// Whether the core runs as root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The host's confinement facts as JSON (see docs/api.md, `GET /api/v1/sandbox`).
pub fn host_json(cgroups: &CgroupSupport, landlock_max_abi: i32) -> Json {
    let abi = landlock::kernel_abi();
    let cg = match cgroups {
        CgroupSupport::V2 { root } => json!({"available": true, "detail": format!(
            "v2 at {}{}",
            root.display(),
            move_cost(&[root])
        )}),
        // v1 joins through `tasks`, which never waits (cgroup::V1_JOIN).
        CgroupSupport::V1 { memory, pids } => json!({"available": true, "detail": format!(
            "v1: memory at {}, pids at {}",
            memory.display(),
            pids.display()
        )}),
        CgroupSupport::Unavailable(why) => json!({"available": false, "detail": why}),
    };
    let seccomp = seccomp_available();
    let arch = super::seccomp::target_arch();
    let nft = super::netpolicy::nft_available();
    json!({
        "root": is_root(),
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default(),
        "landlock": {
            "available": abi > 0,
            "kernel_abi": abi,
            "used_abi": abi.min(landlock::HIGHEST_TESTED_ABI as i32).min(landlock_max_abi.max(0)),
            "highest_tested_abi": landlock::HIGHEST_TESTED_ABI as i32,
        },
        "seccomp": {
            "available": seccomp.is_ok() && arch.is_ok(),
            "detail": match (&seccomp, &arch) {
                (Ok(()), Ok(_)) => format!("filters for {}", std::env::consts::ARCH),
                (Err(e), _) | (_, Err(e)) => e.clone(),
            },
        },
        "cgroups": cg,
        "nftables": match nft {
            Ok(v) => json!({"available": true, "detail": v}),
            Err(e) => json!({"available": false, "detail": e}),
        },
    })
}

/// What moving a new provider into its v2 cgroup costs on these
/// hierarchies ([`cgroup::favors_dynmods`]), as a suffix of the `cgroups`
/// detail.
fn move_cost(hierarchies: &[&std::path::PathBuf]) -> &'static str {
    let favored = hierarchies
        .iter()
        .map(|h| cgroup::favors_dynmods(h))
        .collect::<Option<Vec<bool>>>();
    match favored.as_deref() {
        Some(all) if all.iter().all(|f| *f) => {
            " (favordynmods: a provider's start joins its cgroup at no extra cost)"
        }
        Some(_) => {
            " (no favordynmods: each confined start waits about 10 ms for the kernel to join its cgroup; mount with -o favordynmods)"
        }
        None => "",
    }
}

/// Detects cgroup support once.
pub fn cgroups() -> CgroupSupport {
    cgroup::detect()
}
