//! Rolling updates (issue 4): `igloo providers update` switches one provider
//! to another version while the core and every other provider keep running;
//! device ids and last states stay; a broken new version goes back to the
//! previous one by itself and says so in the providers API.
//!
//! The "old" version in the update-under-load test is the real test provider
//! built from the `protocol-v1` release (core 0.1.0), the new one is today's.
//! Broken versions are real executables too: `/bin/false` (exits at once) and
//! small shell scripts that run today's test provider in a misbehaving mode.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use igloo_tests::compat::release_bin;
use igloo_tests::events::is_state;
use igloo_tests::{
    Core, EventStream, LONG, Provider, ProviderSpec, SHORT, TIMEOUT, bin, providers_toml, wait_for,
};
use serde_json::{Value, json};

const RELEASE: &str = "protocol-v1";

/// `[provider.update]` with a short window, for tests.
fn update_policy(window_ms: u64, max_failures: u32) -> String {
    format!("[provider.update]\nwindow_ms = {window_ms}\nmax_failures = {max_failures}")
}

/// Waits until `name`'s provider status satisfies `pred`; returns it.
fn wait_provider(
    core: &Core,
    name: &str,
    what: &str,
    pred: impl Fn(&Provider) -> bool,
) -> Provider {
    let api = core.api().clone();
    wait_for(LONG, format!("provider {name}: {what}"), || {
        let p = api.try_provider(name)?;
        if pred(&p) {
            Ok(p)
        } else {
            Err(format!("{p:?}"))
        }
    })
}

fn update_state(p: &Provider) -> Option<&str> {
    p.update.as_ref().and_then(|u| u["state"].as_str())
}

/// The id of device `key` once it has a Counter value.
fn counter_device(core: &Core, key: &str) -> u64 {
    let api = core.api().clone();
    wait_for(TIMEOUT, format!("device {key} with a Counter"), || {
        api.try_devices()?
            .iter()
            .find(|d| d.key == key && d.value("Counter", "Number").is_some())
            .map(|d| d.id)
            .ok_or_else(|| "not yet".to_string())
    })
}

/// A shell script that runs today's test provider with `args`, as an executable file in `dir`.
fn script(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    let text = format!(
        "#!/bin/sh\nexec {} {args}\n",
        bin("igloo-test-provider").display()
    );
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// A world-readable scratch dir for the executables a test installs.
fn scratch() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("igloo-rolling-")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    d
}

/// The Number values of `device`'s Counter in state events, in arrival order.
fn counter_values(events: &[Value], device: u64) -> Vec<u64> {
    events
        .iter()
        .filter(|e| is_state(e, device, Some("Counter")))
        .filter_map(|e| e["components"]["Number"].as_f64())
        .map(|n| n as u64)
        .collect()
}

#[test]
fn rolling_update_under_load_keeps_ids_and_states_and_loses_no_writes() {
    let old = release_bin(RELEASE, "igloo-test-provider");
    let steady = ProviderSpec::test("steady", "good").config("key", "steady-1");
    let upd = ProviderSpec::new("upd", old.clone())
        .config("mode", "good")
        .config("key", "upd-1")
        .table(&update_policy(3_000, 2));
    let mut core = Core::start(&providers_toml(&[steady, upd]));
    let core_pid = core.pid();
    let steady_pid = core.wait_provider_running("steady", TIMEOUT);
    let upd_pid = core.wait_provider_running("upd", TIMEOUT);
    let steady_dev = counter_device(&core, "steady-1");
    let upd_dev = counter_device(&core, "upd-1");
    let before = core.api().provider("upd");
    assert_eq!(before.version.as_deref(), Some("0.1.0"), "{before:?}");
    assert_eq!(before.installed_version.as_deref(), Some("configured"));
    let mut events: EventStream = core.events();

    // The switch, through the CLI, to today's build installed as 0.2.0.
    let out = core.cli(&[
        "providers",
        "update",
        "upd",
        &bin("igloo-test-provider").to_string_lossy(),
        "--as",
        "0.2.0",
    ]);
    out.assert_success();
    assert!(out.stdout.contains("configured -> 0.2.0"), "{}", out.stdout);

    // While the switch happens, the updated device keeps its id and its last state.
    let api = core.api().clone();
    let after = wait_for(LONG, "upd to run 0.2.0 and be kept", || {
        let d = api.device(upd_dev);
        if d.key != "upd-1" || d.value("Counter", "Number").is_none() {
            panic!("device {upd_dev} lost its key or last state during the update: {d:?}");
        }
        let p = api.provider("upd");
        if p.state == "running"
            && p.version.as_deref() == Some("0.2.0")
            && update_state(&p) == Some("kept")
        {
            Ok(p)
        } else {
            Err(format!("{p:?}"))
        }
    });
    assert_eq!(after.installed_version.as_deref(), Some("0.2.0"));
    assert!(after.versions.contains(&"0.2.0".to_string()), "{after:?}");
    assert_ne!(
        after.pid,
        Some(upd_pid),
        "the updated provider must be a new process"
    );
    assert!(
        after
            .exec
            .ends_with("provider-versions/upd/0.2.0/igloo-test-provider"),
        "{}",
        after.exec
    );
    // The new version writes to the same device id (no new device for the same key).
    let later = events.wait_event(TIMEOUT, "a Counter from the new version", |e| {
        is_state(e, upd_dev, Some("Counter"))
    });
    assert!(later["components"]["Number"].is_number(), "{later}");
    assert_eq!(
        core.api()
            .devices()
            .iter()
            .filter(|d| d.key == "upd-1")
            .count(),
        1
    );

    // Nothing else restarted, and the steady provider lost no write.
    events.collect_for(Duration::from_millis(500));
    assert_eq!(core.pid(), core_pid);
    let steady_now = core.api().provider("steady");
    assert_eq!(steady_now.pid, Some(steady_pid), "{steady_now:?}");
    assert_eq!(steady_now.restarts, 0, "{steady_now:?}");
    let seq = counter_values(events.seen(), steady_dev);
    assert!(
        seq.len() >= 40,
        "the steady provider should write every 50 ms through the update, got {seq:?}"
    );
    for w in seq.windows(2) {
        assert_eq!(
            w[1],
            w[0] + 1,
            "a write of the steady provider was lost: {seq:?}"
        );
    }

    // The choice survives a core restart.
    core.restart();
    let p = wait_provider(&core, "upd", "running 0.2.0 after a core restart", |p| {
        p.state == "running" && p.version.as_deref() == Some("0.2.0")
    });
    assert_eq!(p.installed_version.as_deref(), Some("0.2.0"));
    assert_eq!(counter_device(&core, "upd-1"), upd_dev);

    // And going back by hand is the same command with a version name.
    core.cli(&["providers", "update", "upd", "configured"])
        .assert_success();
    let p = wait_provider(&core, "upd", "back on the configured 0.1.0", |p| {
        p.state == "running"
            && p.version.as_deref() == Some("0.1.0")
            && p.installed_version.as_deref() == Some("configured")
    });
    assert_eq!(update_state(&p), Some("trial"));
    assert_eq!(counter_device(&core, "upd-1"), upd_dev);
}

/// Starts `upd` (today's test provider, good mode) beside `steady`, updates it
/// to `broken` and waits for the automatic return; returns the provider status.
fn broken_update(broken: &Path, label: &str, sandbox: Option<String>) -> (Core, Provider) {
    let mut upd = ProviderSpec::test("upd", "good")
        .config("key", "upd-1")
        .table(&update_policy(20_000, 2));
    if let Some(t) = sandbox {
        upd = upd.table(&t);
    }
    let steady = ProviderSpec::test("steady", "good").config("key", "steady-1");
    let mut core = Core::start(&providers_toml(&[steady, upd]));
    let steady_pid = core.wait_provider_running("steady", TIMEOUT);
    core.wait_provider_running("upd", TIMEOUT);
    let upd_dev = counter_device(&core, "upd-1");
    let (status, body) = core.api().update_provider(
        "upd",
        &json!({"path": broken.to_string_lossy(), "version": label}),
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["from"], "configured", "{body}");
    assert_eq!(body["to"], label, "{body}");
    let p = wait_provider(&core, "upd", "rolled back and running again", |p| {
        update_state(p) == Some("rolled_back") && p.state == "running"
    });
    assert_eq!(p.installed_version.as_deref(), Some("configured"), "{p:?}");
    assert_eq!(
        p.exec,
        bin("igloo-test-provider").to_string_lossy(),
        "{p:?}"
    );
    let u = p.update.clone().unwrap_or_default();
    assert_eq!(
        (u["from"].as_str(), u["to"].as_str()),
        (Some("configured"), Some(label)),
        "{u}"
    );
    // The broken version stays installed (to inspect), and the device is the same one.
    assert!(p.versions.contains(&label.to_string()), "{p:?}");
    assert_eq!(counter_device(&core, "upd-1"), upd_dev);
    core.wait_log(SHORT, &["returning to the previous version"]);
    let s = core.api().provider("steady");
    assert_eq!((s.pid, s.restarts), (Some(steady_pid), 0), "{s:?}");
    (core, p)
}

#[test]
fn a_new_version_that_exits_at_once_is_rolled_back() {
    let (_core, p) = broken_update(Path::new("/bin/false"), "exits", None);
    let reason = p
        .update
        .as_ref()
        .and_then(|u| u["reason"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(
        reason.contains("\"exits\" failed its handshake"),
        "{reason}"
    );
}

/// Scripts run /bin/sh and today's test provider from the target dir: allow both.
fn script_sandbox() -> String {
    let bins = igloo_tests::bins::bin_dir();
    format!(
        "[provider.sandbox]\nexec_paths = [\"/bin\", \"/usr/bin\", {}]",
        toml::Value::String(bins.to_string_lossy().into_owned())
    )
}

#[test]
fn a_new_version_with_an_unknown_protocol_major_is_rolled_back() {
    let dir = scratch();
    let broken = script(dir.path(), "old-major", "--mode old_major");
    let (_core, p) = broken_update(&broken, "major-99", Some(script_sandbox()));
    let reason = p
        .update
        .as_ref()
        .and_then(|u| u["reason"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(
        reason.contains("failed its handshake") && reason.contains("protocol major 99"),
        "{reason}"
    );
}

#[test]
fn a_new_version_that_hangs_after_its_handshake_is_rolled_back_after_max_failures() {
    let dir = scratch();
    let broken = script(dir.path(), "hang", "--mode hang");
    let (_core, p) = broken_update(&broken, "hangs", Some(script_sandbox()));
    let u = p.update.clone().unwrap_or_default();
    assert_eq!(u["failures"], 2, "{u}");
    let reason = u["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("\"hangs\" failed 2 times within 20000 ms") && reason.contains("heartbeat"),
        "{reason}"
    );
}

#[test]
fn update_requests_that_cannot_work_are_refused_clearly() {
    let upd = ProviderSpec::test("upd", "good").config("key", "upd-1");
    let mut core = Core::start(&providers_toml(&[upd]));
    core.wait_provider_running("upd", TIMEOUT);
    let api = core.api().clone();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "nobody",
            json!({"version": "1"}),
            404,
            "no provider named \"nobody\"",
        ),
        (
            "upd",
            json!({"version": "9.9"}),
            404,
            "no installed version \"9.9\" (installed: none)",
        ),
        (
            "upd",
            json!({"version": "configured"}),
            409,
            "already running",
        ),
        (
            "upd",
            json!({"path": "/bin/false", "version": "../x"}),
            400,
            "not valid",
        ),
        (
            "upd",
            json!({"path": "/nonexistent/igloo"}),
            400,
            "cannot install /nonexistent/igloo",
        ),
        ("upd", json!({"path": "/tmp"}), 400, "not a regular file"),
        (
            "upd",
            json!({"path": "relative/exe"}),
            400,
            "must be absolute",
        ),
        ("upd", json!({}), 400, "give \"path\""),
    ];
    for (name, body, want, needle) in cases {
        let (status, reply) = api.update_provider(name, &body);
        assert_eq!(status, want, "{name} {body}: {reply}");
        let msg = reply["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains(needle),
            "{name} {body}: {msg:?} lacks {needle:?}"
        );
    }
    // Other bytes under a taken label are refused; the label keeps its file.
    let (status, reply) = api.update_provider("upd", &json!({"path": "/bin/true", "version": "t"}));
    assert_eq!(status, 202, "{reply}");
    wait_provider(&core, "upd", "rolled back from /bin/true", |p| {
        update_state(p) == Some("rolled_back") && p.state == "running"
    });
    let (status, reply) =
        api.update_provider("upd", &json!({"path": "/bin/false", "version": "t"}));
    assert_eq!(status, 409, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or_default()
            .contains("different contents"),
        "{reply}"
    );
    // A CLI call with a file that does not exist and --as says so.
    let out = core.cli(&["providers", "update", "upd", "/nonexistent", "--as", "1"]);
    assert!(
        !out.success() && out.stderr.contains("no such file"),
        "{out:?}"
    );
    // The configured version runs throughout.
    let p = core.api().provider("upd");
    assert_eq!(p.installed_version.as_deref(), Some("configured"), "{p:?}");
    assert_eq!(p.state, "running", "{p:?}");
}
