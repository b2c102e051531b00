//! Over-the-air updates through the real core, its API and its CLI, on the
//! host: installs from a path, an upload and a URL served by a real HTTP
//! server (404, dropped and resumed, always dropping), one install at a
//! time, and the health check that marks a boot good or reboots — and the
//! rollback report that follows. RAUC cannot install on the host, so
//! `rauc`, `fw_printenv` and `reboot` are stand-ins that record their calls
//! (tests/fixtures/ota, harness::ota::FakeBoard); the real ones run in the
//! QEMU tests (tests/tests/ota.rs).
//!
//! Run with `cargo build --workspace --bins && cargo test -p igloo-tests --test ota_api`.

use std::path::Path;

use igloo_tests::harness::http::FileServer;
use igloo_tests::harness::ota::{FakeBoard, bundle_bytes};
use igloo_tests::{Core, CoreSettings, LONG, ProviderSpec, TIMEOUT, providers_toml, wait_for};
use serde_json::{Value, json};

fn core_on(board: &FakeBoard, health_timeout_s: u64, providers: &[ProviderSpec]) -> Core {
    let settings = CoreSettings {
        extra_toml: board.ota_toml(health_timeout_s),
        ..CoreSettings::default()
    };
    Core::start_with(settings, &providers_toml(providers))
}

/// `GET /api/v1/ota`.
fn ota(core: &Core) -> Value {
    let (status, v) = core
        .api()
        .get("/api/v1/ota")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 200, "{v}");
    v
}

/// The history record of install `id` once it ended.
fn finished(core: &Core, id: u64) -> Value {
    wait_for(LONG, format!("install {id} to end"), || {
        let v = ota(core);
        v["history"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["kind"] == "install" && r["id"] == id)
            .cloned()
            .ok_or_else(|| format!("install: {}", v["install"]))
    })
}

fn post_install(core: &Core, body: Value) -> (u16, Value) {
    core.api()
        .post("/api/v1/ota/install", &body)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn started_id(answer: (u16, Value)) -> u64 {
    assert_eq!(answer.0, 202, "{}", answer.1);
    answer.1["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("no id in {}", answer.1))
}

/// Bundles left in the core's download dir (`<data_dir>/ota`).
fn bundles_left(core: &Core) -> Vec<String> {
    std::fs::read_dir(core.data_dir().join("ota"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".raucb"))
                .collect()
        })
        .unwrap_or_default()
}

fn records_of<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == kind)
        .collect()
}

#[test]
fn without_a_rauc_system_config_ota_is_unavailable_and_installs_get_503() {
    let board = FakeBoard::new();
    let toml = board
        .ota_toml(300)
        .replace("system.conf", "no-such-system.conf");
    let settings = CoreSettings {
        extra_toml: toml,
        ..CoreSettings::default()
    };
    let core = Core::start_with(settings, "");
    let v = ota(&core);
    assert_eq!(v["available"], false, "{v}");
    let why = v["unavailable_reason"].as_str().unwrap_or_default();
    assert!(why.contains("no-such-system.conf"), "{v}");
    assert_eq!(v["health"]["state"], "unavailable", "{v}");
    let (status, answer) = post_install(&core, json!({"path": "/bin/sh"}));
    assert_eq!(status, 503, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-system.conf"),
        "{answer}"
    );
    let out = core.cli(&["ota", "status"]);
    out.assert_success();
    assert!(
        out.stdout
            .starts_with("over-the-air updates unavailable: no "),
        "{}",
        out.stdout
    );
    assert!(board.calls_of("rauc").is_empty(), "{:?}", board.calls());
}

#[test]
fn status_shows_the_slots_their_versions_and_tries_and_that_nothing_waits() {
    let board = FakeBoard::new();
    board.set_slot("B", "0.1.9", "2025-01-02T03:04:05Z");
    let core = core_on(&board, 300, &[]);
    let v = wait_for(TIMEOUT, "the health check to find nothing to do", || {
        let v = ota(&core);
        (v["health"]["state"] == "not_needed")
            .then_some(v.clone())
            .ok_or_else(|| v.to_string())
    });
    assert_eq!(v["available"], true, "{v}");
    assert_eq!(v["booted"], "A");
    assert_eq!(v["compatible"], "igloo-test");
    assert_eq!(v["boot_order"], json!(["A", "B"]));
    assert_eq!(v["pending_mark_good"], false);
    assert_eq!(v["health_check_ms"], Value::Null);
    assert_eq!(v["install"], Value::Null);
    let slots = v["slots"].as_array().cloned().unwrap_or_default();
    assert_eq!(slots.len(), 2, "{v}");
    assert_eq!(slots[0]["name"], "rootfs.0");
    assert_eq!(slots[0]["bootname"], "A");
    assert_eq!(slots[0]["booted"], true);
    assert_eq!(slots[0]["primary"], true);
    assert_eq!(slots[0]["version"], "0.2.0-test");
    assert_eq!(slots[0]["tries_left"], 3);
    assert_eq!(slots[1]["bootname"], "B");
    assert_eq!(slots[1]["state"], "inactive");
    assert_eq!(slots[1]["version"], "0.1.9");
    assert_eq!(slots[1]["installed"], "2025-01-02T03:04:05Z");
    assert_eq!(slots[1]["tries_left"], 3);
    let out = core.cli(&["ota", "status"]);
    out.assert_success();
    assert!(
        out.stdout.starts_with("booted slot A; marked good\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("boot order: A B\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("rootfs.1  inactive  good  0.1.9"),
        "{}",
        out.stdout
    );
    let json_out = core.cli(&["--json", "ota", "status"]);
    json_out.assert_success();
    assert_eq!(json_out.json()["slots"], v["slots"]);
    assert!(board.calls_of("rauc status mark-good").is_empty());
}

#[test]
fn a_bundle_on_the_gateway_is_installed_into_the_other_slot_and_left_in_place() {
    let board = FakeBoard::new();
    let bundle = board.bundle("local.raucb", "OK", "0.3.0", 4096);
    let core = core_on(&board, 300, &[]);
    let id = started_id(post_install(&core, json!({"path": bundle})));
    let r = finished(&core, id);
    assert_eq!(r["result"], "installed", "{r}");
    assert_eq!(r["source"], bundle.display().to_string());
    assert_eq!(r["version"], "0.3.0", "{r}");
    assert_eq!(r["slot"], "B", "{r}");
    assert_eq!(
        board.calls_of("rauc install"),
        [format!("rauc install {}", bundle.display())]
    );
    assert!(
        bundle.is_file(),
        "a bundle the user put on the gateway stays"
    );
    let v = ota(&core);
    assert_eq!(v["boot_order"], json!(["B", "A"]), "{v}");
    assert_eq!(v["slots"][1]["version"], "0.3.0");
    assert_eq!(v["slots"][1]["primary"], true);
    assert_eq!(v["install"], Value::Null);
}

#[test]
fn the_cli_uploads_a_file_shows_raucs_progress_and_the_result() {
    let board = FakeBoard::new();
    let bytes = bundle_bytes("OK", "0.3.1", 300_000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("update.raucb");
    std::fs::write(&file, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let core = core_on(&board, 300, &[]);
    let out = core.cli(&["ota", "install", &file.display().to_string()]);
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    for want in [
        "uploading   100%",
        "install 1 started",
        "installing   20% Determining slot states",
        "installing   40% Checking bundle",
        "installing   80% Copying image to slot B",
        "installing  100% Installing done.",
        "install 1 succeeded: version 0.3.1 is in slot B; it runs after the next reboot",
    ] {
        assert!(
            lines.contains(&want),
            "no line {want:?} in:\n{}",
            out.stdout
        );
    }
    assert_eq!(board.installed().as_deref(), Some(&bytes[..]));
    let installs = board.calls_of("rauc install");
    assert_eq!(installs.len(), 1, "{installs:?}");
    assert!(installs[0].ends_with("/ota/bundle-1.raucb"), "{installs:?}");
    assert!(bundles_left(&core).is_empty(), "{:?}", bundles_left(&core));
    let r = finished(&core, 1);
    assert_eq!(r["source"], "upload");
}

#[test]
fn a_failing_install_ends_the_cli_with_raucs_own_message() {
    let board = FakeBoard::new();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("other-board.raucb");
    let message = "Compatible mismatch: Expected 'igloo-test' but bundle manifest has 'igloo-rpi4'";
    std::fs::write(
        &file,
        bundle_bytes(&format!("FAIL {message}"), "0.3.0", 2000),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let core = core_on(&board, 300, &[]);
    let out = core.cli(&["ota", "install", &file.display().to_string()]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!("install 1 failed: {message}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("installing   40% Checking bundle failed."),
        "{}",
        out.stdout
    );
    let r = finished(&core, 1);
    assert_eq!(r["result"], "failed");
    assert_eq!(r["reason"], message);
    assert!(bundles_left(&core).is_empty(), "{:?}", bundles_left(&core));
    assert_eq!(board.boot_order().as_deref(), Some("A B"));
}

#[test]
fn a_second_install_while_one_runs_gets_409_naming_the_running_one() {
    let board = FakeBoard::new();
    let slow = board.bundle("slow.raucb", "WAIT", "0.4.0", 1000);
    let core = core_on(&board, 300, &[]);
    let id = started_id(post_install(&core, json!({"path": slow})));
    wait_for(TIMEOUT, "the install to reach RAUC", || {
        let v = ota(&core);
        (v["install"]["step"] == "Determining slot states")
            .then_some(())
            .ok_or_else(|| v["install"].to_string())
    });
    let (status, answer) = post_install(&core, json!({"url": "http://127.0.0.1:9/b.raucb"}));
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["error"],
        format!(
            "an install is already running: install {id} of {} (installing 20%: Determining slot states)",
            slow.display()
        )
    );
    assert_eq!(answer["running"]["id"], id);
    assert_eq!(answer["running"]["phase"], "installing");
    let (status, answer) = core
        .api()
        .post_bytes("/api/v1/ota/install", "application/octet-stream", b"OK\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 409, "{answer}");
    board.release();
    assert_eq!(finished(&core, id)["result"], "installed");
    assert_eq!(board.calls_of("rauc install").len(), 1);
    // The slot is free again.
    let again = board.bundle("again.raucb", "OK", "0.4.1", 1000);
    let next = started_id(post_install(&core, json!({"path": again})));
    assert_eq!(next, id + 1);
    assert_eq!(finished(&core, next)["result"], "installed");
}

/// A directory served by a [`FileServer`] holding `name` = `bytes`.
fn serve(name: &str, bytes: &[u8]) -> (tempfile::TempDir, FileServer) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
    let server = FileServer::start(dir.path());
    (dir, server)
}

#[test]
fn a_url_is_downloaded_to_the_data_partition_installed_and_deleted() {
    let board = FakeBoard::new();
    let body = bundle_bytes("OK", "0.5.0", 500_000);
    let (_dir, server) = serve("bundle.raucb", &body);
    let core = core_on(&board, 300, &[]);
    let url = server.url("127.0.0.1", "/files/bundle.raucb");
    let id = started_id(post_install(&core, json!({ "url": url })));
    let r = finished(&core, id);
    assert_eq!(r["result"], "installed", "{r}");
    assert_eq!(r["source"], url);
    assert_eq!(r["version"], "0.5.0");
    assert_eq!(board.installed().as_deref(), Some(&body[..]));
    let installs = board.calls_of("rauc install");
    assert_eq!(
        installs,
        [format!(
            "rauc install {}",
            core.data_dir().join("ota/bundle-1.raucb").display()
        )]
    );
    assert!(bundles_left(&core).is_empty(), "{:?}", bundles_left(&core));
    assert_eq!(server.requests(), ["GET /files/bundle.raucb"]);
}

#[test]
fn a_download_whose_connection_drops_resumes_with_a_range_request() {
    let board = FakeBoard::new();
    let body = bundle_bytes("OK", "0.5.1", 400_000);
    let (_dir, server) = serve("hiccup.raucb", &body);
    let core = core_on(&board, 300, &[]);
    let url = server.url("127.0.0.1", "/drop-once/hiccup.raucb");
    let id = started_id(post_install(&core, json!({ "url": url })));
    let r = finished(&core, id);
    assert_eq!(r["result"], "installed", "{r}");
    assert_eq!(board.installed().as_deref(), Some(&body[..]));
    assert_eq!(
        server.requests(),
        [
            "GET /drop-once/hiccup.raucb".to_string(),
            format!("GET /drop-once/hiccup.raucb bytes={}-", body.len() / 2),
        ]
    );
    assert!(bundles_left(&core).is_empty(), "{:?}", bundles_left(&core));
}

#[test]
fn a_404_and_a_connection_that_keeps_dropping_fail_clearly_and_leave_nothing() {
    let board = FakeBoard::new();
    let body = bundle_bytes("OK", "0.5.2", 10_000);
    let (_dir, server) = serve("flaky.raucb", &body);
    let core = core_on(&board, 300, &[]);
    let missing = server.url("127.0.0.1", "/files/missing.raucb");
    let out = core.cli(&["ota", "install", &missing]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "install 1 failed: the server answered 404 Not Found for {missing}"
        )),
        "{}",
        out.stderr
    );
    // Every answer announces the whole file and ends half-way.
    let drops = server.url("127.0.0.1", "/drop/flaky.raucb");
    let id = started_id(post_install(&core, json!({ "url": drops })));
    let r = finished(&core, id);
    assert_eq!(r["result"], "failed");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!(
            "download of {drops} stopped at 5000 of 10000 bytes"
        )),
        "{reason}"
    );
    let tries = server
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /drop/"))
        .count();
    assert_eq!(tries, 4, "{:?}", server.requests());
    assert!(board.calls_of("rauc install").is_empty());
    assert!(bundles_left(&core).is_empty(), "{:?}", bundles_left(&core));
}

#[test]
fn wrong_install_requests_get_422_with_what_to_give() {
    let board = FakeBoard::new();
    let core = core_on(&board, 300, &[]);
    for (body, says) in [
        (json!({"path": "relative.raucb"}), "must be absolute"),
        (
            json!({"path": "/no/such/bundle.raucb"}),
            "is not a file on the gateway",
        ),
        (json!({"url": "ftp://h/b.raucb"}), "only http:// URLs"),
        (json!({"url": "http://h/b", "path": "/b"}), "not both"),
        (json!({}), "give \"url\""),
        (json!({"url": 3}), "must be a non-empty string"),
    ] {
        let (status, answer) = post_install(&core, body.clone());
        assert_eq!(status, 422, "{body} → {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{body} → {error}");
    }
    let (status, answer) = core
        .api()
        .post_bytes("/api/v1/ota/install", "text/plain", b"install please")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 422, "{answer}");
    assert!(board.calls_of("rauc install").is_empty());
    assert_eq!(ota(&core)["history"], json!([]));
}

#[test]
fn a_healthy_boot_that_waits_is_marked_good_once() {
    let board = FakeBoard::new();
    // After an update: booted B, which U-Boot took a try from.
    board.set_slot("B", "0.3.0", "2025-01-02T03:04:05Z");
    board.set_boot("B", "B A", 3, 2);
    let core = core_on(&board, 60, &[ProviderSpec::test("good", "good")]);
    let v = wait_for(LONG, "the boot to be marked good", || {
        let v = ota(&core);
        (v["health"]["state"] == "marked_good")
            .then_some(v.clone())
            .ok_or_else(|| v["health"].to_string())
    });
    assert!(v["health_check_ms"].as_u64().is_some(), "{v}");
    assert_eq!(v["health_check_ms"], v["health"]["health_check_ms"]);
    assert_eq!(v["pending_mark_good"], false, "{v}");
    assert_eq!(board.calls_of("rauc status mark-good").len(), 1);
    assert_eq!(board.tries_left("B"), Some(3));
    assert!(board.calls_of("reboot").is_empty(), "{:?}", board.calls());
    assert_eq!(core.api().provider("good").state, "running");
}

#[test]
fn an_unhealthy_boot_is_not_marked_good_reboots_and_the_rollback_is_reported_once() {
    let board = FakeBoard::new();
    board.set_slot("B", "0.3.0", "2025-01-02T03:04:05Z");
    board.set_boot("B", "B A", 3, 2);
    let broken = ProviderSpec::test("broken", "old_major").arg("--mode=old_major");
    let mut core = core_on(&board, 2, &[broken]);
    wait_for(LONG, "the core to reboot the board", || {
        (!board.calls_of("reboot").is_empty())
            .then_some(())
            .ok_or_else(|| format!("{:?}", board.calls()))
    });
    assert_eq!(board.calls_of("reboot"), ["reboot -f"]);
    assert!(board.calls_of("rauc status mark-good").is_empty());
    let v = wait_for(TIMEOUT, "the health check to report the failure", || {
        let v = ota(&core);
        (v["health"]["state"] == "unhealthy")
            .then_some(v.clone())
            .ok_or_else(|| v["health"].to_string())
    });
    assert_eq!(v["pending_mark_good"], true, "{v}");
    let failures = records_of(&v, "health_check_failed");
    assert_eq!(failures.len(), 1, "{v}");
    let reason = failures[0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        reason.starts_with("not healthy within 2 s: provider \"broken\" is "),
        "{reason}"
    );
    assert_eq!(failures[0]["slot"], "B");
    assert_eq!(failures[0]["version"], "0.3.0");
    assert!(core.log_contains("not healthy within 2 s"));

    // U-Boot used up B's tries and went back to A; A's core is healthy.
    board.set_boot("A", "B A", 2, 0);
    core.stop();
    let config = std::fs::read_to_string(core.config_path()).unwrap_or_else(|e| panic!("{e}"));
    let healthy = config
        .replace("args = [\"--mode=old_major\"]", "args = []")
        .replace("mode = \"old_major\"", "mode = \"good\"");
    assert_ne!(config, healthy);
    std::fs::write(core.config_path(), healthy).unwrap_or_else(|e| panic!("{e}"));
    core.start_again();
    let v = wait_for(LONG, "slot A to be marked good", || {
        let v = ota(&core);
        (v["health"]["state"] == "marked_good")
            .then_some(v.clone())
            .ok_or_else(|| v["health"].to_string())
    });
    let rollbacks = records_of(&v, "rollback");
    assert_eq!(rollbacks.len(), 1, "{v}");
    assert_eq!(rollbacks[0]["version"], "0.3.0");
    assert_eq!(rollbacks[0]["result"], "rolled_back");
    assert_eq!(rollbacks[0]["slot"], "B");
    assert_eq!(rollbacks[0]["reason"], reason.as_str());
    assert_eq!(rollbacks[0]["at_ms"], failures[0]["at_ms"]);
    let summary = format!(
        "update to 0.3.0 failed at {}: {reason}",
        failures[0]["at"].as_str().unwrap_or("?")
    );
    assert_eq!(rollbacks[0]["summary"], summary.as_str());
    let out = core.cli(&["ota", "status"]);
    out.assert_success();
    assert!(out.stdout.contains(&summary), "{}", out.stdout);

    // Every later boot of A sees the same boot state: reported once.
    core.restart();
    wait_for(TIMEOUT, "the health check to find nothing to do", || {
        let v = ota(&core);
        (v["health"]["state"] == "not_needed")
            .then_some(())
            .ok_or_else(|| v["health"].to_string())
    });
    assert_eq!(records_of(&ota(&core), "rollback").len(), 1);
    assert_eq!(board.calls_of("reboot").len(), 1);
}

#[test]
fn a_rollback_without_any_report_says_its_core_never_started() {
    let board = FakeBoard::new();
    board.set_slot("B", "0.3.0", "2025-01-02T03:04:05Z");
    board.set_boot("A", "B A", 3, 0);
    let core = core_on(&board, 300, &[]);
    let v = wait_for(TIMEOUT, "the rollback to be recorded", || {
        let v = ota(&core);
        (!records_of(&v, "rollback").is_empty())
            .then_some(v.clone())
            .ok_or_else(|| v.to_string())
    });
    let r = records_of(&v, "rollback")[0].clone();
    assert_eq!(r["reason"], "its core never reported (it did not start)");
    assert_eq!(r["result"], "rolled_back");
    let history = std::fs::read_to_string(core.data_dir().join("ota/history.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(history.contains("\"rollback\""), "{history}");
    assert!(Path::new(&core.data_dir().join("ota")).is_dir());
}

/// Seconds since the host booted (`/proc/uptime`, CLOCK_BOOTTIME).
fn uptime_ms() -> u64 {
    let text = std::fs::read_to_string("/proc/uptime").unwrap_or_else(|e| panic!("{e}"));
    let secs: f64 = text
        .split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("/proc/uptime: {text:?}"));
    (secs * 1000.0) as u64
}

#[test]
fn a_core_restarted_during_the_check_counts_from_its_first_start_in_this_boot() {
    // A core that crash-loops on a new slot must not keep the board there:
    // the check began (by the record a first core left) longer ago than the
    // timeout, so this start reboots at once instead of waiting 120 s more.
    const TIMEOUT_S: u64 = 120;
    while uptime_ms() < (TIMEOUT_S + 5) * 1000 {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let board = FakeBoard::new();
    board.set_slot("B", "0.3.0", "2025-01-02T03:04:05Z");
    board.set_boot("B", "B A", 3, 2);
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap_or_else(|e| panic!("{e}"));
    let first = json!({
        "boot_id": boot_id.trim(),
        "slot": "B",
        "since_boot_ms": uptime_ms() - (TIMEOUT_S + 1) * 1000,
    });
    let settings = CoreSettings {
        extra_toml: board.ota_toml(TIMEOUT_S),
        ..CoreSettings::default()
    };
    let broken = ProviderSpec::test("broken", "old_major").arg("--mode=old_major");
    // A first core starts the check and is killed (as by a crash); its
    // record is then moved back in time, to before the timeout.
    let mut core = Core::start_with(settings, &providers_toml(&[broken]));
    core.kill();
    assert!(board.calls_of("reboot").is_empty());
    let dir = core.data_dir().join("ota");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("health-check.json"), first.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    core.start_again();
    wait_for(LONG, "the restarted core to reboot the board", || {
        (!board.calls_of("reboot").is_empty())
            .then_some(())
            .ok_or_else(|| format!("{:?}", ota(&core)["health"]))
    });
    assert!(core.log_contains("its time counts from the first start"));
    assert!(board.calls_of("rauc status mark-good").is_empty());
    let v = ota(&core);
    let failures = records_of(&v, "health_check_failed");
    assert_eq!(failures.len(), 1, "{v}");
    assert!(
        failures[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .starts_with("not healthy within 120 s: provider \"broken\" is "),
        "{v}"
    );
}
