//! The core's log kept on the data partition (docs/configuration.md#logs):
//! the core's and the providers' lines are in `igloo logs`, one provider's
//! with `--provider`, across a restart of the core, rotated within
//! `[logs]`'s bounds, followed with `--follow`, admin only; and the clock
//! status of `GET /api/v1/health` and `igloo doctor` is the kernel's.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use igloo_tests::{Core, CoreSettings, ProviderSpec, TIMEOUT, bin, providers_toml, wait_for};
use serde_json::{Value, json};

/// The flood provider with `lines` INFO and as many WARN lines, not restarted.
fn noisy(lines: i64) -> ProviderSpec {
    ProviderSpec::test("noisy", "flood")
        .config("lines", lines)
        .config("frames", 0)
        .backoff(600_000, 600_000)
}

fn quiet() -> ProviderSpec {
    ProviderSpec::test("quiet", "good").config("rate", 1)
}

/// `igloo logs --json args…` as parsed lines.
fn logs(core: &Core, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["logs", "--json"];
    all.extend_from_slice(args);
    let out = core.cli(&all);
    out.assert_success();
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn message(v: &Value) -> &str {
    v["message"].as_str().unwrap_or_default()
}

/// Waits until `igloo logs` (with `args`) has a line whose message contains `needle`.
fn wait_logged(core: &Core, args: &[&str], needle: &str) -> Vec<Value> {
    wait_for(
        TIMEOUT,
        format!("{needle:?} in igloo logs {args:?}"),
        || {
            let lines = logs(core, args);
            if lines.iter().any(|l| message(l).contains(needle)) {
                Ok(lines)
            } else {
                Err(format!("{} lines", lines.len()))
            }
        },
    )
}

#[test]
fn core_and_provider_lines_are_kept_per_provider_and_survive_a_restart() {
    let mut core = Core::start(&providers_toml(&[noisy(5), quiet()]));
    let all = wait_logged(&core, &["--lines", "5000"], "flood warning 4");
    assert!(all.iter().any(|l| message(l).contains("core ready")));
    wait_logged(&core, &["--provider", "quiet"], "has id");
    // One provider's lines are that provider's only.
    let noisy_lines = logs(&core, &["--provider", "noisy", "--lines", "5000"]);
    assert!(
        noisy_lines
            .iter()
            .any(|l| message(l).contains("flood warning"))
    );
    for l in &noisy_lines {
        assert_eq!(l["provider"], "noisy", "{l}");
    }
    let warning = noisy_lines
        .iter()
        .find(|l| message(l).contains("flood warning 4"))
        .expect("the last warning");
    assert_eq!(warning["level"], "WARN", "{warning}");
    // The text form reads like the terminal's log.
    let text = core.cli(&["logs", "--provider", "noisy"]);
    text.assert_success();
    assert!(text.stdout.contains("WARN"), "{}", text.stdout);
    assert!(text.stdout.contains("provider=noisy"), "{}", text.stdout);
    assert!(!text.stdout.contains("provider=quiet"), "{}", text.stdout);
    // Owner-only files.
    let file = core.data_dir().join("logs/igloo.log");
    let mode = std::fs::metadata(&file)
        .expect("igloo.log")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());

    core.restart();
    let after = wait_logged(&core, &["--lines", "5000"], "core ready");
    let ready = after
        .iter()
        .filter(|l| message(l).contains("core ready"))
        .count();
    assert_eq!(ready, 2, "both starts are in the log");
    assert!(
        after.iter().any(|l| message(l).contains("flood warning 4")),
        "the first run's provider lines survived the restart"
    );
}

#[test]
fn rotation_keeps_at_most_files_each_within_max_file_bytes() {
    let max = 4096u64;
    let settings = CoreSettings {
        extra_toml: format!("[logs]\nmax_file_bytes = {max}\nfiles = 2\nflush_ms = 100\n"),
        ..CoreSettings::default()
    };
    let core = Core::start_with(settings, &providers_toml(&[noisy(2000)]));
    let dir = core.data_dir().join("logs");
    wait_for(TIMEOUT, "a second rotation", || {
        dir.join("igloo.log.2")
            .exists()
            .then_some(())
            .ok_or_else(|| "no igloo.log.2 yet".to_string())
    });
    // Flushes what is waiting, so the files are checked after a write.
    logs(&core, &["--lines", "1"]);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["igloo.log", "igloo.log.1", "igloo.log.2"]);
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let longest = text.lines().map(|l| l.len() as u64 + 1).max().unwrap_or(0);
        assert!(
            (text.len() as u64) <= max + longest,
            "{name}: {} bytes",
            text.len()
        );
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
        for line in text.lines() {
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
        }
    }
    for name in &names[1..] {
        let len = std::fs::metadata(dir.join(name)).unwrap().len();
        assert!(len > max / 2, "{name} was rotated full: {len} bytes");
    }
}

#[test]
fn follow_prints_new_lines_as_they_are_logged() {
    let core = Core::start(&providers_toml(&[quiet()]));
    wait_logged(&core, &["--provider", "quiet"], "has id");
    let mut child = Command::new(bin("igloo"))
        .args([
            "--api",
            core.url(),
            "--json",
            "logs",
            "--follow",
            "--provider",
            "quiet",
            "--lines",
            "1",
        ])
        .env("IGLOO_TOKEN", core.token().unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start igloo logs --follow");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The last line before following.
    let first = rx.recv_timeout(TIMEOUT).expect("the last line");
    assert!(first.contains("\"provider\":\"quiet\""), "{first}");
    // A restart makes the provider log "has id" again; repeated until the
    // stream (connected after the first line) has shown one.
    let seen = wait_for(TIMEOUT, "a new line from --follow", || {
        let (status, body) = core.api().restart_provider("quiet");
        if status >= 300 {
            return Err(format!("restart: {status} {body}"));
        }
        match rx.recv_timeout(Duration::from_secs(3)) {
            Ok(line) => Ok(line),
            Err(e) => Err(e.to_string()),
        }
    });
    let v: Value = serde_json::from_str(&seen).expect("JSON line");
    assert_eq!(v["provider"], "quiet", "{seen}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn logs_need_an_admin_token() {
    let core = Core::start(&providers_toml(&[]));
    let (status, body) = core
        .api()
        .post(
            "/api/v1/auth/tokens",
            &json!({"name": "reader", "scope": "read"}),
        )
        .expect("create a token");
    assert_eq!(status, 201, "{body}");
    let read = body["token"].as_str().expect("token").to_string();
    for path in ["/api/v1/logs", "/api/v1/logs/stream"] {
        let anon = core.anonymous_api();
        let nobody = anon.request("GET", path, &[], None).unwrap();
        assert_eq!(nobody.status, 401, "{path} without a token");
        let reader = anon
            .with_token(Some(&read))
            .request("GET", path, &[], None)
            .unwrap();
        assert_eq!(reader.status, 403, "{path} with a read token");
        let admin = core.api().request("GET", path, &[], None).unwrap();
        assert_eq!(admin.status, 200, "{path} with an admin token");
    }
    let (status, body) = core.api().get("/api/v1/logs?lines=5001").unwrap();
    assert_eq!(status, 400, "{body}");
    let out = core.cli(&["logs", "--provider", "Not A Name"]);
    assert!(!out.success());
    assert!(out.stderr.contains("not a provider name"), "{}", out.stderr);
}

/// `adjtimex(2)` read-only, as the kernel answers this test.
fn kernel_synchronized() -> bool {
    // SAFETY: a zeroed `timex` is valid; modes = 0 only reads.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    // SAFETY: `tx` is valid and writable for the call.
    let state = unsafe { libc::adjtimex(&mut tx) };
    assert_ne!(state, -1, "adjtimex: {}", std::io::Error::last_os_error());
    state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0
}

#[test]
fn health_and_doctor_report_the_kernels_clock_sync_state() {
    let core = Core::start(&providers_toml(&[]));
    let health = core.api().health().expect("health");
    let kernel = kernel_synchronized();
    assert_eq!(health["time"]["synchronized"], kernel, "{health}");
    assert!(health["time"]["maxerror_us"].is_i64(), "{health}");
    assert!(
        health["version"].is_string(),
        "existing fields are kept: {health}"
    );
    let out = core.cli(&["doctor"]);
    out.assert_success();
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("time "))
        .unwrap_or_else(|| panic!("no time line: {}", out.stdout));
    let word = line.split_whitespace().nth(1).unwrap_or_default();
    assert_eq!(word, if kernel { "yes" } else { "NO" }, "{line}");
}
