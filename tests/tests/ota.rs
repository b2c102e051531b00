//! Over-the-air updates on the real appliance image in QEMU (through U-Boot,
//! as tests/tests/image.rs boots it), with RAUC 1.8, real signed verity
//! bundles from `scripts/make-bundle`, the boot state of ADR 0005 and the
//! core's health-checked mark-good (docs/ota.md):
//!
//! - an install from a URL and one uploaded by the CLI switch slots A → B →
//!   A; each new slot is marked good once healthy, reports its version, and
//!   every device keeps its id;
//! - a bundle whose system never becomes healthy is rolled back to the old
//!   slot by the boot counter, which is then marked good, and `igloo ota
//!   status` names the failed version and why;
//! - a bundle whose core never starts is ended by the boot guard (init's
//!   last resort) in every boot of the new slot, and rolled back the same way;
//! - power cuts during an install (early, mid-write, once written) and right
//!   after the switch leave a gateway that boots and works, and the next
//!   install succeeds;
//! - unsigned, foreign-signed, tampered, other-board and truncated bundles,
//!   a 404 and a download cut half-way are refused with their own error and
//!   nothing is made bootable; a good bundle after them installs.
//!
//! Boots take ~20-40 s each under TCG; every wait below is bounded by the
//! event it waits for.

use std::time::{Duration, Instant};

use igloo_tests::harness::bundles::Bundles;
use igloo_tests::harness::cli::igloo_with_token;
use igloo_tests::harness::http::FileServer;
use igloo_tests::harness::qemu::{Disk, Guest, image, wait_marked_good};
use igloo_tests::harness::{api::Api, wait_for};
use serde_json::{Value, json};

const BOARD: &str = "qemu-aarch64";
const DISK_SIZE: u64 = 1 << 30;
/// An install of a ~35 MB bundle under TCG takes ~10-40 s; bound for a
/// loaded machine.
const INSTALL_LIMIT: Duration = Duration::from_secs(300);
/// The health check's timeout in the tests' gateway config (`[ota]
/// health_timeout_s`): long enough for a loaded machine to start every
/// provider, short enough for three failing boots.
const HEALTH_TIMEOUT_S: u64 = 45;
const BRIDGE_DEVICES: &str = include_str!("../fixtures/bridge_devices.json");

/// One gateway: its disk and, while it runs, its guest.
struct Gateway {
    disk: Disk,
    guest: Option<Guest>,
}

impl Gateway {
    fn new() -> Gateway {
        Gateway {
            disk: Disk::new(&image(BOARD), Some(DISK_SIZE)),
            guest: None,
        }
    }

    /// Boots and waits for the API; returns the time from QEMU's start.
    fn boot(&mut self) -> Duration {
        let mut guest = Guest::boot(&self.disk);
        let ready = guest.wait_core_ready();
        let api = guest.api();
        wait_for(Duration::from_secs(60), "the API", || api.health());
        self.guest = Some(guest);
        ready
    }

    fn guest(&mut self) -> &mut Guest {
        self.guest
            .as_mut()
            .unwrap_or_else(|| panic!("the gateway is not running"))
    }

    fn api(&mut self) -> Api {
        self.guest().api()
    }

    fn shell(&mut self, command: &str) -> Vec<String> {
        let (out, rc) = self.guest().shell(command);
        assert_eq!(rc, 0, "`{command}` failed: {out:?}");
        out
    }

    fn ota(&mut self) -> Value {
        let (status, body) = self
            .api()
            .get("/api/v1/ota")
            .unwrap_or_else(|e| panic!("GET /api/v1/ota: {e}"));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Waits until the booted slot is marked good; returns how long from now.
    fn wait_marked_good(&mut self, limit: Duration) -> Duration {
        let api = self.api();
        let started = Instant::now();
        wait_marked_good(&api, limit);
        started.elapsed()
    }

    /// `POST /api/v1/ota/install`, then waits for the install to end;
    /// returns the last history entry and how long the install took.
    fn install(&mut self, request: &Value) -> (Value, Duration) {
        let api = self.api();
        let started = Instant::now();
        let (status, body) = api
            .post("/api/v1/ota/install", request)
            .unwrap_or_else(|e| panic!("POST /api/v1/ota/install: {e}"));
        assert_eq!(status, 202, "{request} → {body}");
        let entry = self.wait_install_end(&api);
        (entry, started.elapsed())
    }

    fn wait_install_end(&mut self, api: &Api) -> Value {
        wait_for(INSTALL_LIMIT, "the install to end", || {
            let (_, ota) = api.get("/api/v1/ota")?;
            match &ota["install"] {
                Value::Null => ota["history"]
                    .as_array()
                    .and_then(|h| h.last().cloned())
                    .ok_or_else(|| format!("no history yet: {ota}")),
                running => Err(format!("running: {running}")),
            }
        })
    }

    /// `fw_printenv` on the gateway (what RAUC reads).
    fn boot_state(&mut self) -> String {
        self.shell("fw_printenv BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT")
            .join(" ")
    }

    /// The slot U-Boot boots next: the first of `BOOT_ORDER` with tries left.
    fn next_boot(&mut self) -> String {
        let state = self.boot_state();
        let var = |name: &str| -> String {
            state
                .split(&format!("{name}="))
                .nth(1)
                .map(|rest| {
                    rest.split(" BOOT_")
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                })
                .unwrap_or_default()
        };
        let order = var("BOOT_ORDER");
        order
            .split_whitespace()
            .find(|slot| {
                var(&format!("BOOT_{slot}_LEFT"))
                    .parse::<u32>()
                    .unwrap_or(0)
                    > 0
            })
            .unwrap_or_else(|| panic!("no slot with tries left: {state}"))
            .to_string()
    }

    /// A clean reboot; QEMU ends (`-no-reboot`) and is started again.
    fn reboot(&mut self) -> Duration {
        let mut guest = self
            .guest
            .take()
            .unwrap_or_else(|| panic!("the gateway is not running"));
        let _ = guest.shell("reboot");
        guest.wait_exit(Duration::from_secs(120));
        drop(guest);
        self.boot()
    }

    fn power_cut(&mut self) {
        if let Some(guest) = self.guest.take() {
            guest.power_cut();
        }
    }

    /// Reboots into the slot an install made primary and lets every boot
    /// of it end by itself (each boot's slot is U-Boot's own console line;
    /// `each_b_says` must appear on the console in every boot of B before
    /// it ends) until U-Boot boots slot A again; then waits for its API.
    /// Returns the boots of B (it has 3 tries).
    fn boot_until_back_on_a(&mut self, each_b_says: &[&str]) -> u32 {
        let mut guest = self.guest.take().unwrap_or_else(|| panic!("not running"));
        let _ = guest.shell("reboot");
        guest.wait_exit(Duration::from_secs(120));
        drop(guest);
        let mut boots_of_b = 0;
        let mut guest = Guest::boot(&self.disk);
        loop {
            let line = guest.wait_console(Duration::from_secs(120), &["igloo: slot "]);
            if line.contains("igloo: slot A") {
                break;
            }
            boots_of_b += 1;
            assert!(boots_of_b <= 3, "slot B booted more than its 3 tries");
            if !each_b_says.is_empty() {
                guest.wait_console(Duration::from_secs(HEALTH_TIMEOUT_S + 300), each_b_says);
            }
            guest.wait_exit(Duration::from_secs(HEALTH_TIMEOUT_S + 300));
            drop(guest);
            guest = Guest::boot(&self.disk);
        }
        guest.wait_core_ready();
        let api = guest.api();
        wait_for(Duration::from_secs(60), "the API", || api.health());
        self.guest = Some(guest);
        boots_of_b
    }

    /// The newest `rolled_back` record of the update history.
    fn last_rollback(&mut self) -> Value {
        let ota = self.ota();
        ota["history"]
            .as_array()
            .and_then(|h| {
                h.iter()
                    .rev()
                    .find(|e| e["result"] == "rolled_back")
                    .cloned()
            })
            .unwrap_or_else(|| panic!("no rollback in the history: {ota}"))
    }

    /// Zigbee2MQTT devices published to the gateway's broker; returns
    /// (key, id) of each once they are in the API.
    fn seed_devices(&mut self) -> Vec<(String, u64)> {
        self.guest().publish_bridge(BRIDGE_DEVICES.as_bytes());
        self.devices()
    }

    fn devices(&mut self) -> Vec<(String, u64)> {
        let api = self.api();
        wait_for(Duration::from_secs(60), "the devices", || {
            let d = api.try_devices()?;
            (d.len() >= 3)
                .then(|| d.into_iter().map(|d| (d.key, d.id)).collect())
                .ok_or_else(|| "fewer than 3 devices".to_string())
        })
    }

    /// Writes `/data/etc/igloo/igloo.toml` (the image's default plus
    /// `extra`) and restarts the core with it.
    fn configure(&mut self, extra: &str) {
        self.shell(&format!(
            "mkdir -p /data/etc/igloo && {{ cat /etc/igloo/igloo.toml; printf '{}'; }} > /data/etc/igloo/igloo.toml && killall igloo",
            extra.replace('\n', "\\n")
        ));
        let api = self.api();
        std::thread::sleep(Duration::from_secs(1));
        wait_for(Duration::from_secs(120), "the core back", || api.health());
    }

    /// The booted slot's entry in `GET /api/v1/ota`.
    fn booted_slot(&mut self) -> Value {
        let ota = self.ota();
        let booted = ota["booted"].clone();
        ota["slots"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["bootname"] == booted).cloned())
            .unwrap_or_else(|| panic!("no booted slot in {ota}"))
    }
}

#[test]
fn updates_switch_slots_are_marked_good_and_keep_every_device() {
    let bundles = Bundles::new(BOARD);
    let v2 = bundles.good("test-v2");
    bundles.good("test-v3");
    let server = FileServer::start(bundles.dir());
    let mut gw = Gateway::new();

    let boot = gw.boot();
    eprintln!("first boot: core ready {:.1} s", boot.as_secs_f64());
    // A first boot counts as a try of slot A; the healthy core gives it back.
    let first_mark = gw.wait_marked_good(Duration::from_secs(120));
    let ota = gw.ota();
    assert_eq!(ota["booted"], "A", "{ota}");
    eprintln!(
        "first boot: marked good {:.1} s after core ready; health check took {} ms",
        first_mark.as_secs_f64(),
        ota["health_check_ms"]
    );
    assert!(gw.boot_state().contains("BOOT_A_LEFT=3"));
    let devices = gw.seed_devices();

    // A → B, the bundle uploaded by the CLI from the host.
    let api = gw.api();
    let url = api.base().to_string();
    let started = Instant::now();
    let out = igloo_with_token(
        &url,
        api.token(),
        &["ota", "install", &v2.display().to_string()],
    );
    out.assert_success();
    let install_time = started.elapsed();
    assert!(
        out.stdout.contains('%'),
        "the CLI shows progress: {}",
        out.stdout
    );
    eprintln!("install A→B by upload: {:.1} s", install_time.as_secs_f64());
    assert!(gw.boot_state().contains("BOOT_ORDER=B A"));
    let to_good = Instant::now();
    gw.reboot();
    gw.wait_marked_good(Duration::from_secs(300));
    eprintln!(
        "reboot into B to marked good: {:.1} s",
        to_good.elapsed().as_secs_f64()
    );
    let ota = gw.ota();
    assert_eq!(ota["booted"], "B", "{ota}");
    assert_eq!(gw.booted_slot()["version"], "test-v2", "{ota}");
    assert_eq!(gw.devices(), devices, "device ids after A → B");
    let api = gw.api();
    let url = api.base().to_string();
    let status = igloo_with_token(&url, api.token(), &["ota", "status"]);
    status.assert_success();
    assert!(status.stdout.contains("test-v2"), "{}", status.stdout);

    // B → A, from a URL the gateway downloads.
    let (entry, took) = gw.install(&json!({"url": server.url("10.0.2.2", "/files/test-v3.raucb")}));
    assert_eq!(entry["result"], "installed", "{entry}");
    eprintln!("install B→A from a URL: {:.1} s", took.as_secs_f64());
    gw.reboot();
    gw.wait_marked_good(Duration::from_secs(300));
    assert_eq!(gw.ota()["booted"], "A");
    assert_eq!(gw.booted_slot()["version"], "test-v3");
    assert_eq!(gw.devices(), devices, "device ids after B → A");
    assert!(
        !gw.shell("ls -a /data/igloo/ota")
            .iter()
            .any(|l| l.ends_with(".raucb")),
        "downloaded bundles are removed after the install"
    );
}

#[test]
fn an_update_that_never_becomes_healthy_is_rolled_back_with_its_reason() {
    let bundles = Bundles::new(BOARD);
    bundles.unhealthy("test-broken");
    let server = FileServer::start(bundles.dir());
    let mut gw = Gateway::new();
    gw.boot();
    gw.wait_marked_good(Duration::from_secs(120));
    gw.configure(&format!("\n[ota]\nhealth_timeout_s = {HEALTH_TIMEOUT_S}\n"));
    let devices = gw.seed_devices();

    let (entry, _) =
        gw.install(&json!({"url": server.url("10.0.2.2", "/files/test-broken.raucb")}));
    assert_eq!(entry["result"], "installed", "{entry}");
    let cut_over = Instant::now();
    // Slot B's core never becomes healthy: it reboots after the timeout.
    let boots_of_b = gw.boot_until_back_on_a(&[]);
    gw.wait_marked_good(Duration::from_secs(300));
    eprintln!(
        "broken update to back on the good slot, marked good: {:.1} s ({boots_of_b} boots of B)",
        cut_over.elapsed().as_secs_f64()
    );
    assert_eq!(boots_of_b, 3, "slot B had 3 tries");
    assert_eq!(gw.devices(), devices, "device ids after the rollback");
    let failed = gw.last_rollback();
    assert_eq!(failed["version"], "test-broken", "{failed}");
    let reason = failed["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("mqtt"),
        "the reason names the provider: {failed}"
    );
    let api = gw.api();
    let url = api.base().to_string();
    let status = igloo_with_token(&url, api.token(), &["ota", "status"]);
    status.assert_success();
    assert!(
        status.stdout.contains("test-broken") && status.stdout.contains("mqtt"),
        "{}",
        status.stdout
    );
}

#[test]
fn an_update_whose_core_never_starts_is_ended_by_the_boot_guard_and_rolled_back() {
    let bundles = Bundles::new(BOARD);
    bundles.core_never_starts("test-no-core");
    let server = FileServer::start(bundles.dir());
    let mut gw = Gateway::new();
    gw.boot();
    gw.wait_marked_good(Duration::from_secs(120));
    // The guard reboots at health_timeout_s + 60 s after the boot.
    gw.configure("\n[ota]\nhealth_timeout_s = 20\n");
    let devices = gw.seed_devices();
    let (entry, _) =
        gw.install(&json!({"url": server.url("10.0.2.2", "/files/test-no-core.raucb")}));
    assert_eq!(entry["result"], "installed", "{entry}");
    let cut_over = Instant::now();
    let boots_of_b = gw.boot_until_back_on_a(&[
        "boot-guard: slot B was not marked good",
        "its core never checked its health",
    ]);
    gw.wait_marked_good(Duration::from_secs(300));
    eprintln!(
        "update whose core never starts to back on the good slot, marked good: {:.1} s ({boots_of_b} boots of B)",
        cut_over.elapsed().as_secs_f64()
    );
    assert_eq!(boots_of_b, 3, "slot B had 3 tries");
    assert_eq!(gw.devices(), devices, "device ids after the rollback");
    let failed = gw.last_rollback();
    assert_eq!(failed["version"], "test-no-core", "{failed}");
    assert!(
        failed["reason"]
            .as_str()
            .is_some_and(|r| r.contains("never reported")),
        "{failed}"
    );
}

#[test]
fn bundles_a_gateway_must_not_install_are_refused_and_nothing_is_made_bootable() {
    let bundles = Bundles::new(BOARD);
    let good = bundles.good("test-good");
    let refused = [
        (bundles.unsigned(), "unsigned"),
        (bundles.other_ca(), "signed by another CA"),
        (bundles.tampered(&good), "one byte flipped"),
        (bundles.other_board("rpi4"), "for another board"),
        (bundles.truncated(&good), "cut short"),
    ];
    let server = FileServer::start(bundles.dir());
    let mut gw = Gateway::new();
    gw.boot();
    gw.wait_marked_good(Duration::from_secs(120));
    assert_eq!(gw.next_boot(), "A");

    let mut reasons = Vec::new();
    for (bundle, what) in &refused {
        let name = bundle
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let (entry, _) =
            gw.install(&json!({"url": server.url("10.0.2.2", &format!("/files/{name}"))}));
        assert_eq!(entry["result"], "failed", "{what}: {entry}");
        let reason = entry["reason"].as_str().unwrap_or_default().to_string();
        assert!(!reason.is_empty(), "{what}: no reason in {entry}");
        if *what == "one byte flipped" {
            assert!(reason.contains("verity hash"), "{what}: {reason}");
        }
        // RAUC may have marked slot B unbootable before it refused; what
        // counts is that U-Boot still boots A.
        assert_eq!(gw.next_boot(), "A", "{what} made slot B the next boot");
        reasons.push((what, reason));
    }
    for (url, what) in [
        (server.url("10.0.2.2", "/files/missing.raucb"), "404"),
        (server.url("10.0.2.2", "/drop/test-good.raucb"), "dropped"),
    ] {
        let (entry, _) = gw.install(&json!({ "url": url }));
        assert_eq!(entry["result"], "failed", "{what}: {entry}");
        let reason = entry["reason"].as_str().unwrap_or_default().to_string();
        reasons.push((&"download", reason.clone()));
        match what {
            "404" => assert!(reason.contains("404"), "{reason}"),
            _ => assert!(reason.contains("stopped at"), "{reason}"),
        }
        assert_eq!(gw.next_boot(), "A", "{what} made slot B the next boot");
    }
    // Each refusal says its own thing.
    for (i, (a, ra)) in reasons.iter().enumerate() {
        for (b, rb) in &reasons[i + 1..] {
            assert_ne!(ra, rb, "{a} and {b} were refused with the same words");
        }
    }
    eprintln!(
        "refusals:\n  {}",
        reasons
            .iter()
            .map(|(w, r)| format!("{w}: {r}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    // The baseline: the same gateway installs a good bundle.
    let (entry, _) = gw.install(&json!({"url": server.url("10.0.2.2", "/files/test-good.raucb")}));
    assert_eq!(entry["result"], "installed", "{entry}");
    assert!(
        gw.boot_state().contains("BOOT_ORDER=B A"),
        "{}",
        gw.boot_state()
    );
}

#[test]
fn power_cuts_during_an_install_leave_a_gateway_that_boots_and_updates() {
    let bundles = Bundles::new(BOARD);
    bundles.good("test-cut");
    let server = FileServer::start(bundles.dir());
    let url = server.url("10.0.2.2", "/files/test-cut.raucb");
    let mut gw = Gateway::new();
    gw.boot();
    gw.wait_marked_good(Duration::from_secs(120));
    let devices = gw.seed_devices();

    // Cut at a point of the install: (phase, lowest percent) as the API shows.
    // The download from the host is too quick to catch; RAUC's install takes
    // tens of seconds: cut as it starts (signature), mid-write, and late.
    for (phase, at) in [("installing", 0), ("installing", 40), ("installing", 80)] {
        let api = gw.api();
        let (status, body) = api
            .post("/api/v1/ota/install", &json!({ "url": url }))
            .unwrap_or_else(|e| panic!("POST: {e}"));
        assert_eq!(status, 202, "{body}");
        wait_for(
            INSTALL_LIMIT,
            format!("the install at {phase} ≥ {at}%"),
            || {
                let (_, ota) = api.get("/api/v1/ota")?;
                let i = &ota["install"];
                match (i["phase"].as_str(), i["percent"].as_u64()) {
                    (Some(p), Some(n)) if p == phase && n >= at => Ok(()),
                    _ => Err(ota.to_string()),
                }
            },
        );
        gw.power_cut();
        gw.boot();
        gw.wait_marked_good(Duration::from_secs(300));
        assert_eq!(
            gw.ota()["booted"],
            "A",
            "after a cut while {phase} at {at}%"
        );
        assert_eq!(gw.devices(), devices, "after a cut while {phase} at {at}%");
    }

    // Cut once the switch is written, before slot B ever booted: B boots,
    // is healthy and is kept.
    let (entry, _) = gw.install(&json!({ "url": url }));
    assert_eq!(entry["result"], "installed", "{entry}");
    gw.power_cut();
    gw.boot();
    gw.wait_marked_good(Duration::from_secs(300));
    assert_eq!(gw.ota()["booted"], "B");
    assert_eq!(gw.booted_slot()["version"], "test-cut");
    assert_eq!(gw.devices(), devices, "after the cut following the switch");
}
