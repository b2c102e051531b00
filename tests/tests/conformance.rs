//! One conformance suite, two languages (issue 17): every test runs against
//! a Rust provider (`igloo-conformance`, tests/src/bin/conformance_provider.rs,
//! on the Rust SDK) and its Python twin (tests/python/conformance_provider.py,
//! on the `igloo` wheel), which do the same things; both must give the same
//! results. Each test is `<name>::rust` and `<name>::python`.
//!
//! Covered: handshake and config; negotiation against a core that knows
//! fewer components and messages (the first release's core, built from its
//! commit); devices, entities, writes both ways, availability, removal;
//! custom commands and their replies; a granted pty used for I/O, then
//! revoked by a real unplug; a crash, the restart and the ids kept; malformed
//! input from the core's side (a fake core on the provider's socket).

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use igloo_protocol::message::Welcome;
use igloo_protocol::{DEFAULT_MAX_FRAME, Message, PROTOCOL_MAJOR, encode_frame};
use igloo_tests::harness::api::Api;
use igloo_tests::harness::compat::{PROTOCOL_V1, release_version};
use igloo_tests::harness::core::providers_toml_v1;
use igloo_tests::harness::hotplug::{FakeDongle, read_until};
use igloo_tests::harness::privileged::require_root;
use igloo_tests::harness::python::{Package, SYSTEM_PYTHON, test_script};
use igloo_tests::{Core, ProviderSpec, TIMEOUT, bin, providers_toml, wait_for};
use serde_json::{Value, json};

/// The provider's name in the core's config.
const NAME: &str = "conf";
/// The refusal of Brightness 13 (both providers).
const REFUSAL: &str = "13 is refused by the conformance provider";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Rust,
    Python,
}

/// The provider under test, in one language.
struct Subject {
    lang: Lang,
    /// The installed wheel, for Python.
    package: Option<Package>,
}

impl Subject {
    fn new(lang: Lang) -> Subject {
        Subject {
            lang,
            package: (lang == Lang::Python).then(Package::build),
        }
    }

    fn package(&self) -> &Package {
        self.package
            .as_ref()
            .unwrap_or_else(|| panic!("{:?} has no package", self.lang))
    }

    /// For today's core, confined like any provider (the default sandbox).
    fn spec(&self) -> ProviderSpec {
        match self.lang {
            Lang::Rust => ProviderSpec::new(NAME, bin("igloo-conformance")),
            Lang::Python => {
                self.package()
                    .provider(NAME, &test_script("conformance_provider.py"), "")
            }
        }
    }

    /// For the first release's core, whose config has no sandbox table.
    fn spec_v1(&self) -> ProviderSpec {
        match self.lang {
            Lang::Rust => ProviderSpec::new(NAME, bin("igloo-conformance")),
            Lang::Python => self
                .package()
                .unconfined_provider(NAME, &test_script("conformance_provider.py")),
        }
    }

    /// The provider as a plain process (no core), to connect to `socket`.
    fn spawn(&self, socket: &std::path::Path) -> Child {
        let mut cmd = match self.lang {
            Lang::Rust => Command::new(bin("igloo-conformance")),
            Lang::Python => {
                let mut c = Command::new(SYSTEM_PYTHON);
                c.arg(test_script("conformance_provider.py"))
                    .env("PYTHONPATH", self.package().path())
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                c
            }
        };
        cmd.env("IGLOO_SOCKET", socket)
            .env_remove("IGLOO_FD")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the {:?} provider: {e}", self.lang))
    }
}

/// One test per language: `name::rust` and `name::python` run `name(Lang)`.
macro_rules! both_languages {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn rust() {
                super::$name(super::Lang::Rust);
            }
            #[test]
            fn python() {
                super::$name(super::Lang::Python);
            }
        }
    )*};
}

both_languages!(
    handshake_config_and_devices,
    negotiation_with_the_first_release_core,
    writes_both_ways_availability_and_removal,
    custom_commands_and_replies,
    a_granted_pty_is_used_then_revoked,
    a_crash_restarts_the_provider_with_its_ids,
    malformed_input_from_the_core_ends_the_provider_with_a_clear_error,
);

/// The provider's `Report` (its `Text` on `conf-meter`), once `ok` holds.
fn wait_report(api: &Api, what: &str, ok: impl Fn(&Value) -> Result<(), String>) -> Value {
    wait_for(TIMEOUT, what, || {
        let d = api.device_by_key("conf-meter").ok_or("no conf-meter yet")?;
        let text = d
            .value("Report", "Text")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no Report.Text: {d:?}"))?;
        let report: Value =
            serde_json::from_str(text).map_err(|e| format!("Report {text:?}: {e}"))?;
        ok(&report)
            .map(|()| report.clone())
            .map_err(|e| format!("{e}: {report}"))
    })
}

fn set_and_wait(api: &Api, device: u64, entity: &str, values: &Value) -> (u16, Value) {
    let path = format!("/api/v1/devices/{device}/entities/{entity}?wait_ms=10000");
    api.post(&path, values)
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

fn handshake_config_and_devices(lang: Lang) {
    let s = Subject::new(lang);
    let mut core = Core::start(&providers_toml(&[s.spec().config("greeting", "hello")]));
    core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    let report = wait_report(&api, "the first report", |_| Ok(()));
    let health = api.health().unwrap_or_else(|e| panic!("health: {e}"));
    assert_eq!(report["core"], health["version"], "the core's Welcome");
    assert_eq!(report["config"], json!("hello"), "[provider.config]");
    assert_eq!(
        report["dropped"],
        json!(0),
        "today's core knows every component"
    );

    let p = api.provider(NAME);
    assert_eq!(p.version.as_deref(), Some("1.0.0"), "{p:?}");
    let protocol = p.protocol.clone().unwrap_or_default();
    assert!(
        protocol.starts_with(&format!("{PROTOCOL_MAJOR}.")),
        "{protocol}"
    );
    // Confined like any provider, and `igloo doctor` says so.
    let sandbox = p.sandbox.clone().unwrap_or_default();
    for layer in ["uid", "landlock", "seccomp", "rlimits"] {
        assert_eq!(
            sandbox[layer]["enforced"],
            json!(true),
            "{layer}: {sandbox}"
        );
    }
    let doctor = core.cli(&["doctor"]);
    doctor.assert_success();
    doctor.assert_doctor_enforces(NAME, &["uid", "landlock", "seccomp"]);

    let lamp = api.wait_device_by_key("conf-lamp");
    assert_eq!(lamp.name, "Conformance lamp");
    assert_eq!(lamp.attributes["model"], json!("conformance"), "{lamp:?}");
    let light = lamp.entity("Light");
    assert_eq!(light.attributes["writable"], json!("Switch,Brightness"));
    assert_eq!(light.components["Light"], json!(true));
    assert_eq!(light.components["Switch"], json!(false));
    assert_eq!(light.components["Brightness"], json!(0.0));
    assert_eq!(light.units.get("Brightness").map(String::as_str), Some("%"));
    let meter = api.wait_device_by_key("conf-meter");
    let reading = meter.entity("Reading");
    assert_eq!(reading.components["Sensor"], json!(true));
    assert_eq!(reading.components["Number"], json!(1.0));
    assert_eq!(reading.components["Gas"], json!(2.5));
}

fn negotiation_with_the_first_release_core(lang: Lang) {
    let s = Subject::new(lang);
    let old_version = release_version(PROTOCOL_V1);
    let mut core = Core::start_release(
        PROTOCOL_V1,
        &providers_toml_v1(&[s.spec_v1().config("greeting", "hello")]),
    );
    core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    // The provider learnt the old core's version and limits from its
    // Welcome, and withheld the Gas the old core cannot decode.
    let report = wait_report(&api, "a report with the Gas withheld", |r| {
        (r["dropped"].as_u64() >= Some(1))
            .then_some(())
            .ok_or("nothing withheld yet".into())
    });
    assert_eq!(report["core"], json!(old_version));
    assert_eq!(report["config"], json!("hello"));
    let meter = api.wait_device_by_key("conf-meter");
    assert_eq!(
        meter
            .entity("Reading")
            .components
            .keys()
            .collect::<Vec<_>>(),
        vec!["Number", "Sensor"],
        "only what the old core knows reaches it"
    );
    // A change request through the old core, confirmed by the provider.
    let lamp = api.wait_device_by_key("conf-lamp");
    let (status, body) = api.set(lamp.id, "Light", &json!({"Switch": true}));
    assert!(status < 300, "{status} {body}");
    wait_for(TIMEOUT, "the confirmed Switch", || {
        api.device(lamp.id).has("Light", "Switch", &json!(true))
    });
    wait_report(&api, "one change confirmed", |r| {
        (r["changes"] == json!(1))
            .then_some(())
            .ok_or("not counted".into())
    });
    let p = api.provider(NAME);
    assert_eq!(p.restarts, 0, "never restarted: {p:?}");
}

fn writes_both_ways_availability_and_removal(lang: Lang) {
    let s = Subject::new(lang);
    let mut core = Core::start(&providers_toml(&[s.spec()]));
    core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    let lamp = api.wait_device_by_key("conf-lamp");

    // A change request, confirmed by the provider's write-back.
    let (status, body) = set_and_wait(&api, lamp.id, "Light", &json!({"Brightness": 40}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["components"]["Brightness"], json!(40.0), "{body}");
    // Refused by the provider, with its reason; nothing changes.
    let (status, body) = set_and_wait(&api, lamp.id, "Light", &json!({"Brightness": 13}));
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains(REFUSAL),
        "{body}"
    );
    assert_eq!(
        api.device(lamp.id).value("Light", "Brightness"),
        Some(&json!(40.0))
    );
    wait_report(&api, "one change confirmed", |r| {
        (r["changes"] == json!(1))
            .then_some(())
            .ok_or("not counted".into())
    });

    // A device added at run time, written both ways.
    let (status, added) = api.command(
        NAME,
        "conformance.add",
        &json!({"key": "conf-extra", "name": "Extra"}),
    );
    assert_eq!(status, 200, "{added}");
    let id = added["body"]["device"].as_u64().expect("device id");
    let extra = api.wait_device_by_key("conf-extra");
    assert_eq!(extra.id, id);
    assert_eq!(extra.name, "Extra");
    assert_eq!(extra.entity("Switch").components["Switch"], json!(false));
    let (status, body) = set_and_wait(&api, id, "Switch", &json!({"Switch": true}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["components"]["Switch"], json!(true));

    // Availability, both ways.
    for available in [false, true] {
        let (status, body) = api.command(
            NAME,
            "conformance.available",
            &json!({"device": id, "available": available}),
        );
        assert_eq!(status, 200, "{body}");
        wait_for(TIMEOUT, format!("available = {available}"), || {
            let d = api.device(id);
            (d.available == available)
                .then_some(())
                .ok_or(format!("{d:?}"))
        });
    }

    // Removal.
    let (status, body) = api.command(NAME, "conformance.remove", &json!({"device": id}));
    assert_eq!(status, 200, "{body}");
    wait_for(TIMEOUT, "the device to be gone", || {
        match api.device_by_key("conf-extra") {
            None => Ok(()),
            Some(d) => Err(format!("{d:?}")),
        }
    });
    assert!(api.device_by_key("conf-lamp").is_some(), "the others stay");
}

fn custom_commands_and_replies(lang: Lang) {
    let s = Subject::new(lang);
    let mut core = Core::start(&providers_toml(&[s.spec()]));
    core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    let body = json!({"text": "grüße", "list": [1, 2.5, null], "nested": {"ok": true}});
    let (status, reply) = api.command(NAME, "conformance.echo", &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["body"], body, "the reply is the body, unchanged");

    let (status, reply) = api.command(NAME, "conformance.fail", &json!({"why": "test"}));
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or("")
            .contains("asked to fail: {\"why\":\"test\"}"),
        "{reply}"
    );
    let (status, reply) = api.command(NAME, "conformance.nothing", &json!({}));
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown command conformance.nothing"),
        "{reply}"
    );
    // Still serving.
    let (status, _) = api.command(NAME, "conformance.echo", &json!(1));
    assert_eq!(status, 200);
}

fn a_granted_pty_is_used_then_revoked(lang: Lang) {
    if !require_root(&format!("a_granted_pty_is_used_then_revoked::{lang:?}")) {
        return;
    }
    let s = Subject::new(lang);
    let dongle = FakeDongle::conbee();
    let spec = s.spec().table("[[provider.grant]]\nknown = \"zigbee\"");
    let mut core = Core::start_with(dongle.core_settings(), &providers_toml(&[spec]));
    let pid = core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    wait_report(&api, "the first report", |_| Ok(()));

    // Plugged in while the provider runs: the grant arrives as an event.
    dongle.plug();
    let report = wait_report(&api, "the grant", |r| {
        (r["granted"].as_array().map(Vec::len) == Some(1))
            .then_some(())
            .ok_or("no grant yet".into())
    });
    let grant = report["granted"][0][0].as_u64().expect("grant number");
    assert_eq!(report["granted"][0][1], json!(dongle.name()), "{report}");

    // I/O through the granted fd, inside the sandbox.
    let mut peer = dongle.open_peer();
    let talk = api.clone();
    let exchange = std::thread::spawn(move || {
        talk.command(
            NAME,
            "conformance.port",
            &json!({"grant": grant, "write": "ping\n", "expect": "pong"}),
        )
    });
    let seen = read_until(&mut peer, "ping", Duration::from_secs(5));
    assert!(seen.contains("ping"), "the provider wrote: {seen:?}");
    peer.write_all(b"pong\n").expect("answer");
    let (status, reply) = exchange.join().expect("exchange thread");
    assert_eq!(status, 200, "{reply}");
    assert!(
        reply["body"]["read"]
            .as_str()
            .unwrap_or("")
            .contains("pong"),
        "{reply}"
    );

    // Unplugged: revoked, the provider closes its fd and keeps running.
    dongle.unplug();
    let report = wait_report(&api, "the revocation", |r| {
        (r["revoked"].as_array().map(Vec::len) == Some(1))
            .then_some(())
            .ok_or("not revoked yet".into())
    });
    assert_eq!(report["revoked"][0][0], json!(grant), "{report}");
    assert!(
        !report["revoked"][0][1].as_str().unwrap_or("").is_empty(),
        "a reason: {report}"
    );
    let (status, reply) = api.command(
        NAME,
        "conformance.port",
        &json!({"grant": grant, "write": "x", "expect": "y"}),
    );
    assert_eq!(status, 422, "{reply}");
    assert!(
        reply["error"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("grant {grant} is not held")),
        "{reply}"
    );
    assert_eq!(api.provider(NAME).pid, Some(pid), "not restarted");
}

fn a_crash_restarts_the_provider_with_its_ids(lang: Lang) {
    let s = Subject::new(lang);
    let mut core = Core::start(&providers_toml(&[s.spec().backoff(100, 1000)]));
    let pid = core.wait_provider_running(NAME, TIMEOUT);
    let api = core.api().clone();
    let lamp = api.wait_device_by_key("conf-lamp");
    let meter = api.wait_device_by_key("conf-meter");
    let (status, added) = api.command(
        NAME,
        "conformance.add",
        &json!({"key": "conf-extra", "name": "Extra"}),
    );
    assert_eq!(status, 200, "{added}");
    let extra = added["body"]["device"].as_u64().expect("device id");

    // The provider exits with code 3 instead of answering.
    let (status, reply) = api.command(NAME, "conformance.crash", &json!({}));
    assert_ne!(status, 200, "no reply from a crashed provider: {reply}");
    let p = wait_for(TIMEOUT, "the provider to run again", || {
        let p = api.try_provider(NAME)?;
        (p.state == "running" && p.pid.is_some_and(|n| n != pid) && p.restarts == 1)
            .then_some(p.clone())
            .ok_or(format!("{p:?}"))
    });
    let exit = p.exit.clone().unwrap_or_default();
    assert_eq!(exit["code"], json!(3), "its own exit code: {exit}");
    assert_eq!(exit["signal"], Value::Null, "{exit}");

    // Same keys, same ids; values written again by the new process.
    assert_eq!(api.wait_device_by_key("conf-lamp").id, lamp.id);
    assert_eq!(api.wait_device_by_key("conf-meter").id, meter.id);
    let (status, again) = api.command(
        NAME,
        "conformance.add",
        &json!({"key": "conf-extra", "name": "Extra"}),
    );
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["body"]["device"].as_u64(), Some(extra));
    let (status, body) = set_and_wait(&api, lamp.id, "Light", &json!({"Switch": true}));
    assert_eq!(status, 200, "the new process answers: {body}");
}

/// A fake core on the provider's socket: it reads the provider's frames
/// and answers with what each case sends.
struct FakeCore {
    _dir: tempfile::TempDir,
    socket: std::path::PathBuf,
    listener: UnixListener,
}

impl FakeCore {
    fn new() -> FakeCore {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("core.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        FakeCore {
            _dir: dir,
            socket,
            listener,
        }
    }

    fn accept(&self) -> UnixStream {
        let stream = self.listener.accept().expect("accept").0;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .expect("read timeout");
        stream
    }
}

/// Reads one frame (length prefix and payload) and returns its payload.
fn read_frame(stream: &mut UnixStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).expect("frame length");
    let mut payload = vec![0u8; u32::from_le_bytes(len) as usize];
    stream.read_exact(&mut payload).expect("frame payload");
    payload
}

fn frame(msg: &Message) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_frame(msg, &mut buf, DEFAULT_MAX_FRAME).expect("encode");
    buf.to_vec()
}

fn welcome() -> Vec<u8> {
    frame(&Message::Welcome(Welcome {
        protocol_major: PROTOCOL_MAJOR,
        protocol_minor: 0,
        core_version: "0.0.0-fake".into(),
        max_component_id: 50,
        max_message_id: 12,
        config: String::new(),
        data_dir: "/nonexistent".into(),
    }))
}

/// Waits for the provider to exit; returns its code and the last line of stderr.
fn exit_of(case: &str, mut child: Child) -> (Option<i32>, String) {
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("{case}: the provider did not exit within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let last = err.lines().last().unwrap_or_default().to_string();
    (status.code(), last)
}

fn malformed_input_from_the_core_ends_the_provider_with_a_clear_error(lang: Lang) {
    let s = Subject::new(lang);
    // (case, what the fake core sends after the provider's Hello, what the
    // provider must say)
    let garbage = [0xffu8; 8];
    let mut garbage_frame = (garbage.len() as u32).to_le_bytes().to_vec();
    garbage_frame.extend_from_slice(&garbage);
    let oversized = u32::MAX.to_le_bytes().to_vec();
    let mut cut = welcome();
    cut.truncate(cut.len() - 3);
    let mut after_welcome = welcome();
    after_welcome.extend_from_slice(&garbage_frame);
    let undecodable =
        "undecodable frame (8 bytes): InvalidIntegerType { expected: U32, found: Reserved }";
    let cases: [(&str, Vec<u8>, String); 4] = [
        (
            "garbage instead of the Welcome",
            garbage_frame.clone(),
            format!("core connection: {undecodable}"),
        ),
        (
            "a length over the frame limit",
            oversized,
            "core connection: frame of 4294967295 bytes exceeds the maximum of 1048576 bytes"
                .into(),
        ),
        (
            "a Welcome cut short, then the end",
            cut,
            format!(
                "core connection: connection closed inside a frame ({} of {} bytes)",
                welcome().len() - 3,
                welcome().len()
            ),
        ),
        (
            "garbage after the Welcome",
            after_welcome,
            format!("core connection: bad frame from the core: {undecodable}"),
        ),
    ];
    for (case, bytes, says) in cases {
        let fake = FakeCore::new();
        let child = s.spawn(&fake.socket);
        let mut stream = fake.accept();
        let hello = read_frame(&mut stream);
        assert!(!hello.is_empty(), "{case}: a Hello first");
        stream.write_all(&bytes).expect("send");
        // The connection stays open (the provider must end by itself),
        // except where the case is the end.
        let open = (!case.contains("cut short")).then_some(stream);
        let (code, last) = exit_of(case, child);
        drop(open);
        assert_eq!(code, Some(1), "{case}: {last}");
        // The same words from both languages: the Rust SDK's.
        assert_eq!(last, format!("conformance provider: {says}"), "{case}");
    }
}
