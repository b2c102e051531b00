//! The owner changes the gateway's Wi-Fi network through the API and the
//! CLI (`/api/v1/wifi`, `igloo wifi`, `[wifi]` in docs/configuration.md),
//! against the real core: admin only; the file is written in the shape the
//! image's wpa_supplicant reads (0600, the IEEE 802.11i key); the password
//! and key are in no answer and no log line; bad input changes nothing; a
//! running supplicant gets SIGHUP, a stale pid file's process does not; a
//! file igloo did not write is left alone; a core without `[wifi]` says
//! Wi-Fi is not managed.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use igloo_tests::harness::wifi::WifiGateway;
use igloo_tests::{Core, TIMEOUT, wait_for};
use serde_json::{Value, json};

/// The key of passphrase "password" on SSID "IEEE" (IEEE 802.11i-2004 H.4.2).
const IEEE_PSK: &str = "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e";
/// A password to look for in logs and answers (a test value).
const SECRET: &str = "igloo-wifi-test-secret-4711";
const HEADER: &str = "# Written by igloo: the Wi-Fi network (docs/image.md, \"Wi-Fi\"). Change it with `igloo wifi set`.";

/// The requests the tests make of the gateway's Wi-Fi routes.
trait WifiCalls {
    fn put(&self, body: &Value) -> (u16, Value);
    fn delete(&self) -> (u16, Value);
    fn get(&self) -> Value;
    fn logs(&self) -> String;
}

impl WifiCalls for WifiGateway {
    fn put(&self, body: &Value) -> (u16, Value) {
        self.core
            .api()
            .send_json("PUT", "/api/v1/wifi", body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn delete(&self) -> (u16, Value) {
        self.core
            .api()
            .send_json("DELETE", "/api/v1/wifi", &Value::Null)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn get(&self) -> Value {
        let (status, body) = self
            .core
            .api()
            .get("/api/v1/wifi")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Everything the core logged: its stderr and its JSON log file.
    fn logs(&self) -> String {
        // `igloo logs` writes out what waits in memory first.
        self.core.cli(&["logs", "--lines", "1"]).assert_success();
        let file = std::fs::read_to_string(self.core.data_dir().join("logs/igloo.log"))
            .unwrap_or_else(|e| panic!("the core's log file: {e}"));
        format!("{}\n{file}", self.core.log().text())
    }
}

fn token(core: &Core, scope: &str) -> String {
    let (status, body) = core
        .api()
        .post(
            "/api/v1/auth/tokens",
            &json!({"name": format!("wifi {scope}"), "scope": scope}),
        )
        .expect("create a token");
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

#[test]
fn wifi_routes_need_an_admin_credential() {
    let gw = WifiGateway::start();
    let body =
        serde_json::to_vec(&json!({"ssid": "IEEE", "password": "password", "country": "NL"}))
            .unwrap_or_default();
    let anon = gw.core.anonymous_api();
    let send = |api: &igloo_tests::Api, method: &str| {
        let body = (method == "PUT").then_some(body.as_slice());
        api.request(
            method,
            "/api/v1/wifi",
            &[("Content-Type", "application/json")],
            body,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    for method in ["GET", "PUT", "DELETE"] {
        assert_eq!(
            send(&anon, method).status,
            401,
            "{method} without credentials"
        );
        for scope in ["read", "control"] {
            let weak = anon.with_token(Some(&token(&gw.core, scope)));
            assert_eq!(
                send(&weak, method).status,
                403,
                "{method} with a {scope} token"
            );
        }
        assert!(!gw.config().exists(), "a refused {method} wrote the file");
    }
    // The baseline: the admin's requests succeed.
    assert_eq!(send(gw.core.api(), "PUT").status, 200);
    assert!(gw.config().exists());
    assert_eq!(send(gw.core.api(), "GET").status, 200);
    assert_eq!(send(gw.core.api(), "DELETE").status, 200);
    assert!(!gw.config().exists());
}

#[test]
fn put_writes_the_agreed_file_and_no_answer_or_log_shows_the_secret() {
    let gw = WifiGateway::start();
    assert_eq!(gw.get()["configured"], false);

    let (status, reply) = gw.put(&json!({"ssid": "IEEE", "password": "password", "country": "nl"}));
    assert_eq!(status, 200, "{reply}");
    let text = std::fs::read_to_string(gw.config()).expect("the config file");
    assert_eq!(
        text,
        format!(
            "{HEADER}\nctrl_interface=/run/wpa_supplicant\ncountry=NL\nnetwork={{\n\tssid=49454545\n\tpsk={IEEE_PSK}\n}}\n"
        )
    );
    let mode = std::fs::metadata(gw.config())
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    assert_eq!(reply["reloaded"], false, "no pid file: {reply}");
    assert!(
        reply["reload_detail"]
            .as_str()
            .is_some_and(|d| d.contains("not running")),
        "{reply}"
    );

    // A passphrase of our own, to look for.
    let (status, reply) = gw.put(&json!({"ssid": "My net", "password": SECRET, "country": "DE"}));
    assert_eq!(status, 200, "{reply}");
    let text = std::fs::read_to_string(gw.config()).expect("the config file");
    assert!(text.contains("\tssid=4d79206e6574\n"), "{text}");
    let psk = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("psk="))
        .expect("a psk line")
        .to_string();
    assert_eq!(psk.len(), 64);
    assert!(!text.contains(SECRET), "the password is stored");
    let got = gw.get();
    for v in [&reply, &got] {
        assert_eq!(v["managed"], true, "{v}");
        assert_eq!(v["configured"], true, "{v}");
        assert_eq!(v["file"], "igloo", "{v}");
        assert_eq!(v["ssid"], "My net", "{v}");
        assert_eq!(v["country"], "DE", "{v}");
        assert_eq!(v["security"], "wpa-psk", "{v}");
        assert_eq!(v["interface"], "lo", "{v}");
        assert_eq!(v["link"]["present"], true, "{v}");
        assert!(
            v["link"]["addresses"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("127.0.0.1"))),
            "{v}"
        );
        let all = v.to_string();
        assert!(
            !all.contains(SECRET) && !all.contains(&psk),
            "a secret in the answer: {all}"
        );
    }
    let logs = gw.logs();
    assert!(logs.contains("Wi-Fi network set"), "the change is logged");
    assert!(!logs.contains(SECRET), "the password is in the core's log");
    assert!(!logs.contains(&psk), "the key is in the core's log");

    // An open network.
    let (status, reply) = gw.put(&json!({"ssid": "Café", "country": "00"}));
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["security"], "open");
    let text = std::fs::read_to_string(gw.config()).expect("the config file");
    assert!(
        text.contains("\n\tkey_mgmt=NONE\n}\n") && !text.contains("psk="),
        "{text}"
    );

    // Forgetting removes the file.
    let (status, reply) = gw.delete();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["removed"], true);
    assert_eq!(reply["configured"], false);
    assert!(!gw.config().exists());
}

#[test]
fn bad_input_is_refused_with_the_field_and_the_old_file_is_kept() {
    let gw = WifiGateway::start();
    let (status, _) = gw.put(&json!({"ssid": "Home", "password": "password", "country": "NL"}));
    assert_eq!(status, 200);
    let before = std::fs::read(gw.config()).expect("the config file");
    let cases = [
        (
            json!({"ssid": "s".repeat(33), "password": "password", "country": "NL"}),
            "ssid",
        ),
        (
            json!({"ssid": "", "password": "password", "country": "NL"}),
            "ssid",
        ),
        (
            json!({"ssid": "Home", "password": "1234567", "country": "NL"}),
            "password",
        ),
        (
            json!({"ssid": "Home", "password": "x".repeat(64), "country": "NL"}),
            "password",
        ),
        (
            json!({"ssid": "Home", "password": "password", "country": "XYZ"}),
            "country",
        ),
        (json!({"ssid": "Home", "password": "password"}), "country"),
        (
            json!({"ssid": "Home", "password": 12345678, "country": "NL"}),
            "password",
        ),
        (json!({"ssid": "Home", "country": "NL", "psk": "x"}), "psk"),
    ];
    for (body, field) in cases {
        let (status, reply) = gw.put(&body);
        assert_eq!(status, 422, "{body}: {reply}");
        let message = reply["error"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}:")),
            "{body}: {message}"
        );
        assert_eq!(
            std::fs::read(gw.config()).expect("the file"),
            before,
            "{body} changed the file"
        );
    }
    // Over the 1 KiB body limit.
    let (status, _) =
        gw.put(&json!({"ssid": "Home", "password": "p".repeat(2048), "country": "NL"}));
    assert_eq!(status, 413);
    assert_eq!(std::fs::read(gw.config()).expect("the file"), before);
}

/// A stand-in for wpa_supplicant: `sleep` run under the name
/// `wpa_supplicant` (so `/proc/<pid>/comm` says so). SIGHUP's default
/// action ends it, so its exit status records the signal.
fn fake_supplicant(dir: &Path) -> Child {
    let sleep = std::fs::canonicalize("/bin/sleep").unwrap_or_else(|e| panic!("/bin/sleep: {e}"));
    let exe = dir.join("wpa_supplicant");
    std::os::unix::fs::symlink(&sleep, &exe).unwrap_or_else(|e| panic!("symlink: {e}"));
    let child = Command::new(&exe)
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
    // The kernel names the process a moment after the parent resumes.
    let comm = format!("/proc/{}/comm", child.id());
    wait_for(TIMEOUT, "the fake to be named wpa_supplicant", || {
        let name = std::fs::read_to_string(&comm).unwrap_or_default();
        (name.trim() == "wpa_supplicant").then_some(()).ok_or(name)
    });
    child
}

#[test]
fn a_running_supplicant_gets_sighup_and_a_stale_pid_is_left_alone() {
    let gw = WifiGateway::start();
    let body = json!({"ssid": "Home", "password": "password", "country": "NL"});

    // A stale pid file: its pid is another program's.
    let mut other = Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("sleep: {e}"));
    std::fs::write(gw.pid_file(), format!("{}\n", other.id())).unwrap_or_else(|e| panic!("{e}"));
    let (status, reply) = gw.put(&body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["reloaded"], false, "{reply}");
    assert!(
        reply["reload_detail"]
            .as_str()
            .is_some_and(|d| d.contains("stale")),
        "{reply}"
    );
    assert!(
        matches!(other.try_wait(), Ok(None)),
        "the other program was signalled"
    );
    let _ = other.kill();
    let _ = other.wait();

    // The supplicant itself.
    let mut supplicant = fake_supplicant(gw.dir());
    std::fs::write(gw.pid_file(), format!("{}\n", supplicant.id()))
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, reply) = gw.put(&body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["reloaded"], true, "{reply}");
    assert_eq!(reply["reload_detail"], Value::Null, "{reply}");
    let exit = wait_for(
        TIMEOUT,
        "the fake wpa_supplicant to get SIGHUP",
        || match supplicant.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err("still running".to_string()),
            Err(e) => Err(e.to_string()),
        },
    );
    assert_eq!(exit.signal(), Some(libc::SIGHUP), "{exit:?}");

    // No pid file at all.
    std::fs::remove_file(gw.pid_file()).unwrap_or_else(|e| panic!("{e}"));
    let (status, reply) = gw.put(&body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["reloaded"], false, "{reply}");
}

#[test]
fn a_file_igloo_did_not_write_is_left_alone_unless_forced() {
    let gw = WifiGateway::start();
    let dir = gw
        .config()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let theirs = "ctrl_interface=/run/wpa_supplicant\nnetwork={\n\tssid=\"Their net\"\n\tpsk=\"hunter2hunter2\"\n}\n";
    std::fs::write(gw.config(), theirs).unwrap_or_else(|e| panic!("{e}"));
    let got = gw.get();
    assert_eq!(got["file"], "other", "{got}");
    assert_eq!(got["ssid"], "Their net", "{got}");
    assert!(!got.to_string().contains("hunter2"), "{got}");
    let body = json!({"ssid": "Home", "password": "password", "country": "NL"});
    let (status, reply) = gw.put(&body);
    assert_eq!(status, 409, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains("not written by igloo")),
        "{reply}"
    );
    let (status, _) = gw.delete();
    assert_eq!(status, 409);
    assert_eq!(
        std::fs::read_to_string(gw.config()).unwrap_or_default(),
        theirs
    );
    // Asked to: replaced.
    let mut forced = body.clone();
    forced["force"] = json!(true);
    let (status, reply) = gw.put(&forced);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["file"], "igloo", "{reply}");
}

#[test]
fn the_cli_sets_shows_and_forgets_the_network_with_the_password_on_stdin() {
    let gw = WifiGateway::start();
    let out = gw.core.cli_with_input(
        &["wifi", "set", "--ssid", "My net", "--country", "nl"],
        &format!("{SECRET}\n"),
    );
    out.assert_success();
    assert!(out.stdout.contains("Wi-Fi network set"), "{}", out.stdout);
    assert!(out.stdout.contains("not reloaded"), "{}", out.stdout);
    let text = std::fs::read_to_string(gw.config()).expect("the config file");
    assert!(
        text.contains("country=NL\n") && text.contains("\tssid=4d79206e6574\n"),
        "{text}"
    );
    assert!(!text.contains(SECRET));

    let status = gw.core.cli(&["wifi", "status"]);
    status.assert_success();
    for want in ["\"My net\"", "wpa-psk", "NL", "lo ("] {
        assert!(status.stdout.contains(want), "{want} in: {}", status.stdout);
    }
    assert_eq!(
        gw.core.cli(&["wifi"]).stdout,
        status.stdout,
        "`igloo wifi` is `igloo wifi status`"
    );
    let json = gw.core.cli(&["--json", "wifi"]).json();
    assert_eq!(json["ssid"], "My net");

    // A short password is refused with the reason; nothing changes.
    let short = gw.core.cli_with_input(
        &["wifi", "set", "--ssid", "Other", "--country", "NL"],
        "short\n",
    );
    assert!(!short.success());
    assert!(
        short.stderr.contains("password: must be 8 to 63"),
        "{}",
        short.stderr
    );
    assert_eq!(
        std::fs::read_to_string(gw.config()).unwrap_or_default(),
        text
    );

    let open = gw.core.cli(&[
        "wifi",
        "set",
        "--ssid",
        "Guest",
        "--country",
        "NL",
        "--open",
    ]);
    open.assert_success();
    assert!(open.stdout.contains("open"), "{}", open.stdout);

    let forget = gw.core.cli(&["wifi", "forget"]);
    forget.assert_success();
    assert!(forget.stdout.contains("forgotten"), "{}", forget.stdout);
    assert!(!gw.config().exists());
    assert!(
        !gw.logs().contains(SECRET),
        "the password is in the core's log"
    );
}

#[test]
fn a_gateway_without_wifi_settings_says_wifi_is_not_managed() {
    let core = Core::start("");
    for method in ["GET", "PUT", "DELETE"] {
        let (status, reply) = core
            .api()
            .send_json(
                method,
                "/api/v1/wifi",
                &json!({"ssid": "Home", "country": "NL"}),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status, 404, "{method}: {reply}");
        let message = reply["error"].as_str().unwrap_or_default();
        assert!(
            message.contains("Wi-Fi is not managed by this gateway"),
            "{method}: {message}"
        );
    }
    let out = core.cli(&["wifi"]);
    assert!(!out.success());
    assert!(out.stderr.contains("not managed"), "{}", out.stderr);
}

/// The real `wpa_supplicant` (Debian's `wpasupplicant`), when installed.
fn real_supplicant() -> Option<PathBuf> {
    ["/usr/sbin/wpa_supplicant", "/sbin/wpa_supplicant"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A daemonised `wpa_supplicant`, stopped on drop if still running.
struct Supplicant {
    pid_file: PathBuf,
}

impl Drop for Supplicant {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(&self.pid_file).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<i32>()
            && pid > 1
            && std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "wpa_supplicant")
        {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

/// Waits until the supplicant's debug log has a line containing `needle`.
fn wait_logged(log: &Path, needle: &str) {
    wait_for(
        TIMEOUT,
        format!("{needle:?} in wpa_supplicant's log"),
        || {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if text.contains(needle) {
                Ok(())
            } else {
                Err(format!("{} lines", text.lines().count()))
            }
        },
    );
}

/// The file the core writes is the one the real wpa_supplicant reads: it
/// parses it, reloads it on the core's SIGHUP, and stops when the network
/// is forgotten. It runs on `lo` with the `wired` driver, in a mount
/// namespace of its own with a private `/run` (its control socket stays
/// out of the host's).
#[test]
fn the_real_wpa_supplicant_reads_the_file_and_reloads_on_the_cores_sighup() {
    let test = "the_real_wpa_supplicant_reads_the_file_and_reloads_on_the_cores_sighup";
    if !igloo_tests::harness::privileged::require_root(test) {
        return;
    }
    let Some(exe) = real_supplicant() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test} needs wpa_supplicant (Debian: wpasupplicant; scripts/test installs it)"
        );
        eprintln!("skipped: {test} needs wpa_supplicant (Debian: wpasupplicant)");
        return;
    };
    let gw = WifiGateway::start();
    let (status, reply) = gw.put(&json!({"ssid": "IEEE", "password": "password", "country": "NL"}));
    assert_eq!(status, 200, "{reply}");
    let log = gw.dir().join("wpa_supplicant.log");
    let _running = Supplicant {
        pid_file: gw.pid_file(),
    };
    let script = format!(
        "mount -t tmpfs none /run && exec {} -B -D wired -i lo -c {} -P {} -f {} -dd",
        exe.display(),
        gw.config().display(),
        gw.pid_file().display(),
        log.display()
    );
    let started = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("unshare: {e}"));
    assert!(started.success(), "wpa_supplicant did not start: {started}");
    wait_logged(&log, "ssid='IEEE'");

    let (status, reply) = gw.put(&json!({"ssid": "My net", "password": SECRET, "country": "DE"}));
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["reloaded"], true, "{reply}");
    wait_logged(&log, "ssid='My net'");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        text.contains("Reconfiguration completed"),
        "no reload in the log"
    );
    assert!(
        !text.contains("Failed to parse"),
        "wpa_supplicant refused the file"
    );

    let (status, reply) = gw.delete();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["reloaded"], true, "{reply}");
    wait_logged(&log, "CTRL-EVENT-TERMINATING");
}
