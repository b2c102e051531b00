//! Boot time of the aarch64 appliance image under QEMU (TCG), and the RSS of
//! the core, the providers and Mosquitto inside the guest.
//!
//! `scripts/build-image qemu-aarch64 && cargo bench -p igloo-tests --bench image_boot`
//!
//! Boots a fresh disk (qcow2 overlay on the image) `IGLOO_BOOTS` times (default
//! 3) and prints, per boot and as medians: the time from starting QEMU to the
//! initramfs handing over to the rootfs (firmware, U-Boot, kernel: the
//! baseline), and to the core's "core ready" line, with their ratio. Then,
//! on the last boot, the confined spawn-to-hello in the guest (cgroup v2):
//! the image's ESPHome provider (full sandbox) and a copy of it with the
//! sandbox off, restarted alternately `IGLOO_RESTARTS` times each (default
//! 20), as measured by the core (`spawn_to_hello_us`); and what moving a
//! new process into a cgroup costs there, against `clone3(CLONE_INTO_CGROUP)`
//! and no cgroup (`tests/python/cgroup_move_cost.py`). Figures only; nothing
//! is asserted.

use std::time::Duration;

use igloo_tests::harness::api::Api;
use igloo_tests::harness::qemu::{Disk, Guest, image};
use igloo_tests::harness::wait_for;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let boots: usize = std::env::var("IGLOO_BOOTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let img = image("qemu-aarch64");
    let (mut kernel, mut ready) = (Vec::new(), Vec::new());
    let mut rss = Vec::new();
    for i in 0..boots {
        let disk = Disk::new(&img, Some(1 << 30));
        let mut guest = Guest::boot(&disk);
        let started = std::time::Instant::now();
        guest.wait_console(Duration::from_secs(180), &["initramfs: root"]);
        let k = started.elapsed().as_secs_f64();
        let r = guest.wait_core_ready().as_secs_f64();
        println!(
            "boot {}: rootfs reached {k:.2} s, core ready {r:.2} s",
            i + 1
        );
        kernel.push(k);
        ready.push(r);
        if i + 1 == boots {
            // Let the providers connect and settle before reading RSS.
            std::thread::sleep(Duration::from_secs(5));
            let (out, _) = guest.shell(
                "for p in igloo igloo-mqtt igloo-esphome mosquitto; do echo \"$p $(grep VmRSS /proc/$(pidof $p)/status)\"; done",
            );
            rss = out;
            spawn_to_hello(&mut guest);
            cgroup_move_cost(&mut guest);
        }
        guest.poweroff();
    }
    let (k, r) = (median(&mut kernel), median(&mut ready));
    println!(
        "median of {boots}: rootfs reached {k:.2} s (baseline), core ready {r:.2} s, ratio {:.2}",
        r / k
    );
    println!("RSS in the guest:");
    for line in rss {
        println!(
            "  {}",
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
}

/// The unconfined twin of the image's ESPHome provider, added to the
/// guest's config on /data.
const UNCONFINED: &str = r#"
[[provider]]
name = "esphome-unconfined"
exec = "igloo-esphome"
network = "lan"
[provider.sandbox]
enabled = false
[provider.config]
discovery = false
"#;

/// Prints the median and p90 spawn-to-hello of the confined `esphome` and
/// its unconfined twin in the guest, and their ratio.
fn spawn_to_hello(guest: &mut Guest) {
    let restarts: usize = std::env::var("IGLOO_RESTARTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1);
    let (out, rc) = guest.shell(&format!(
        "mkdir -p /data/etc/igloo && {{ cat /etc/igloo/igloo.toml; printf '{}'; }} > /data/etc/igloo/igloo.toml && killall igloo",
        UNCONFINED.replace('\n', "\\n")
    ));
    assert_eq!(rc, 0, "writing the config on /data: {out:?}");
    let api = guest.api().with_timeout(Duration::from_secs(60));
    // Only the restarted core runs the twin: its answer means the old core,
    // which might still have answered, is gone.
    running(&api, "esphome-unconfined", None);
    let names = ["esphome", "esphome-unconfined"];
    let mut figures: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..=restarts {
        for (i, name) in names.iter().enumerate() {
            let old = running(&api, name, None);
            let (status, body) = api.restart_provider(name);
            assert!(status < 300, "restart {name}: {status} {body}");
            let us = running(&api, name, Some(old.0)).1;
            figures[i].push(us);
        }
    }
    let mut medians = [0.0; 2];
    for (i, name) in names.iter().enumerate() {
        // The first restart of each warms the page cache: not recorded.
        let v = &mut figures[i][1..];
        v.sort_by(f64::total_cmp);
        medians[i] = median(v);
        println!(
            "guest spawn-to-hello {name}: median {:.2} ms, p90 {:.2} ms ({} restarts)",
            medians[i] / 1000.0,
            v[v.len() * 9 / 10] / 1000.0,
            v.len()
        );
    }
    println!(
        "guest confined/unconfined spawn-to-hello: {:.2}",
        medians[0] / medians[1]
    );
}

/// Waits until `name` runs with a pid other than `old`; its pid and
/// `spawn_to_hello_us`.
fn running(api: &Api, name: &str, old: Option<u64>) -> (u64, f64) {
    wait_for(Duration::from_secs(120), format!("{name} running"), || {
        let (status, body) = api.get("/api/v1/providers")?;
        let p = body
            .as_array()
            .and_then(|a| a.iter().find(|p| p["name"] == name))
            .ok_or(format!("{status}: no {name} in {body}"))?;
        let pid = p["pid"].as_u64();
        match (p["state"].as_str(), pid, p["spawn_to_hello_us"].as_f64()) {
            (Some("running"), Some(pid), Some(us)) if Some(pid) != old => Ok((pid, us)),
            _ => Err(format!("{p}")),
        }
    })
}

/// Runs `tests/python/cgroup_move_cost.py` in the guest on its cgroup v2
/// root and prints what it prints.
fn cgroup_move_cost(guest: &mut Guest) {
    let script = include_str!("../python/cgroup_move_cost.py");
    guest.copy_in(script.as_bytes(), "/tmp/cgroup_move_cost.py");
    let (out, rc) = guest.shell("python3 /tmp/cgroup_move_cost.py /sys/fs/cgroup 100");
    assert_eq!(rc, 0, "cgroup_move_cost.py: {out:?}");
    for line in out
        .iter()
        .filter(|l| l.contains("cgroup") || l.contains("median"))
    {
        println!("guest {}", line.trim_end());
    }
}
