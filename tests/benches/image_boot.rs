//! Boot time of the aarch64 appliance image under QEMU (TCG), and the RSS of
//! the core, the providers and Mosquitto inside the guest.
//!
//! `scripts/build-image qemu-aarch64 && cargo bench -p igloo-tests --bench image_boot`
//!
//! Boots a fresh disk (qcow2 overlay on the image) `IGLOO_BOOTS` times (default
//! 3) and prints, per boot and as medians: the time from starting QEMU to the
//! initramfs handing over to the rootfs (firmware, U-Boot, kernel: the
//! baseline), and to the core's "core ready" line, with their ratio. Figures
//! only; nothing is asserted.

use std::time::Duration;

use igloo_tests::harness::qemu::{Disk, Guest, image};

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
