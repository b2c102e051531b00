//! What a user does wrong gets an answer they can act on, through the API and
//! the CLI: a typo in a provider's `[provider.config]` is shown with its line
//! in `igloo.toml` and is not retried forever.

use igloo_tests::{Core, ProviderSpec, TIMEOUT, bin, providers_toml, wait_for};

/// The 1-based line of the first line of `file` that starts with `prefix`.
fn line_of(file: &std::path::Path, prefix: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("read the core's config");
    text.lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

#[test]
fn a_typo_in_a_provider_config_is_a_config_error_at_its_line_and_is_not_retried() {
    // `base_topic` must be a string: the MQTT provider refuses the section.
    let spec = ProviderSpec::new("mqtt", bin("igloo-mqtt"))
        .config("broker", "127.0.0.1:1")
        .config("base_topic", 5);
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let p = wait_for(TIMEOUT, "the provider in config_error", || {
        let p = api.try_provider("mqtt")?;
        match p.state.as_str() {
            "config_error" => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    let config = core.config_path();
    let problem = p.config_error.clone().expect("config_error is set");
    assert_eq!(problem["key"], "base_topic", "{problem}");
    assert_eq!(problem["file"], config.display().to_string(), "{problem}");
    assert_eq!(
        problem["line"],
        line_of(config, "base_topic = 5"),
        "the line of the bad key in igloo.toml: {problem}"
    );
    let message = problem["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("string"),
        "says what is expected: {message}"
    );
    assert!(!message.contains('\n'), "one line: {message:?}");
    // What happened is what is reported: the provider's own exit status.
    let exit = p.exit.clone().expect("exit is set");
    assert_eq!(exit["code"], 78, "{exit}");
    assert_eq!(exit["signal"], serde_json::Value::Null, "{exit}");
    assert_eq!(p.pid, None);

    // The CLI says where and what to do.
    let out = core.cli(&["providers"]);
    out.assert_success();
    let place = format!("{}:{}", config.display(), problem["line"]);
    assert!(
        out.stdout.contains("config error") && out.stdout.contains(&place),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("igloo providers restart mqtt"),
        "{}",
        out.stdout
    );

    // Not retried: after several back-off periods (200 ms doubling), it still
    // waits, with one start in the log.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let p = api.provider("mqtt");
    assert_eq!((p.state.as_str(), p.restarts), ("config_error", 0), "{p:?}");
    let starts = |core: &Core| {
        core.log()
            .lines()
            .iter()
            .filter(|l| l.contains("provider=mqtt") && l.contains("lifecycle: started"))
            .count()
    };
    assert_eq!(starts(&core), 1, "{}", core.log().text());

    // A restart request starts it again (and it fails the same way).
    core.cli(&["providers", "restart", "mqtt"]).assert_success();
    wait_for(TIMEOUT, "a second start", || match starts(&core) {
        2 => Ok(()),
        n => Err(format!("{n} starts")),
    });
    wait_for(TIMEOUT, "config_error again", || {
        let p = api.try_provider("mqtt")?;
        match (p.state.as_str(), p.pid) {
            ("config_error", None) => Ok(()),
            _ => Err(format!("{p:?}")),
        }
    });
}

/// The example provider (`providers/sdk/examples/echo_light.rs`): a `Light`
/// with `writable = "Switch,Brightness"` that refuses a brightness outside
/// 0–100 %, and a read-only `Temperature`.
fn echo_core() -> (Core, u64) {
    let exec = igloo_tests::bins::bin_dir().join("examples/echo_light");
    let core = Core::start(&providers_toml(&[ProviderSpec::new("echo", exec)]));
    let api = core.api().clone();
    let id = wait_for(TIMEOUT, "the echo lamp online with its temperature", || {
        let devices = api.try_devices()?;
        devices
            .iter()
            .find(|d| {
                d.key == "echo-1" && d.available && d.number("Temperature", "Temperature").is_some()
            })
            .map(|d| d.id)
            .ok_or_else(|| format!("{devices:?}"))
    });
    (core, id)
}

#[test]
fn set_refuses_what_cannot_happen_and_waits_for_the_providers_answer() {
    let (core, id) = echo_core();
    let id = id.to_string();

    // Read-only: refused by the core at once, naming what the entity accepts.
    let out = core.cli(&["set", &id, "Temperature", "Temperature=5", "--wait"]);
    assert!(!out.success(), "{out:?}");
    assert!(
        out.stderr.contains("409") && out.stderr.contains("cannot be changed"),
        "{}",
        out.stderr
    );
    let (status, body) = core.api().set(
        id.parse().expect("id"),
        "Light",
        &serde_json::json!({"Temperature": 5}),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("writable: Switch, Brightness"),
        "{body}"
    );

    // The provider refuses: the waiting client gets its reason, not a timeout.
    let out = core.cli(&["set", &id, "Light", "Brightness=150", "--wait"]);
    assert!(!out.success(), "{out:?}");
    assert!(
        out.stderr.contains("422") && out.stderr.contains("brightness must be 0 to 100 %"),
        "{}",
        out.stderr
    );

    // Accepted and confirmed: `--wait` says so with the confirmed values.
    let out = core.cli(&[
        "set",
        &id,
        "Light",
        "Switch=true",
        "Brightness=40",
        "--wait",
    ]);
    out.assert_success();
    assert!(
        out.stdout.contains("confirmed") && out.stdout.contains("Brightness=40"),
        "{}",
        out.stdout
    );

    // Without waiting (the default when stdout is not a terminal): sent.
    let out = core.cli(&["set", &id, "Light", "Switch=false"]);
    out.assert_success();
    assert!(out.stdout.contains("sent"), "{}", out.stdout);
}

#[test]
fn a_device_with_nothing_igloo_can_use_is_shown_as_unsupported_with_the_reason() {
    let broker = igloo_tests::Mosquitto::start();
    // One supported device, and one Zigbee2MQTT still interviews (no definition).
    let devices = serde_json::json!([
        {"ieee_address": "0x0000000000000001", "type": "Coordinator", "friendly_name": "Coordinator"},
        {"ieee_address": "0x00158d0001a2b3c4", "type": "EndDevice", "friendly_name": "sensor",
         "definition": {"model": "WSDCGQ11LM", "vendor": "Aqara", "description": "sensor",
           "exposes": [{"type": "numeric", "name": "temperature", "property": "temperature",
                        "access": 1, "unit": "°C"}]}},
        {"ieee_address": "0x00158d0009999999", "type": "EndDevice", "friendly_name": "mystery",
         "definition": null, "interview_completed": false}
    ]);
    broker.publish_str("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#, true);
    broker.publish_str("zigbee2mqtt/bridge/devices", &devices.to_string(), true);
    let core = Core::start(&providers_toml(&[ProviderSpec::mqtt("mqtt", &broker)]));
    let api = core.api().clone();
    let (status, body) = wait_for(TIMEOUT, "the mystery device", || {
        let (code, list) = api.get("/api/v1/devices")?;
        let found = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["key"] == "0x00158d0009999999" && d["available"] == true)
            .cloned();
        found.map(|d| (code, d)).ok_or_else(|| format!("{list}"))
    });
    assert_eq!(status, 200);
    assert_eq!(body["status"], "unsupported", "{body}");
    let why = body["unsupported"].as_str().unwrap_or_default();
    assert!(why.contains("no definition"), "{body}");
    let sensor = wait_for(TIMEOUT, "the sensor", || {
        api.device_by_key("0x00158d0001a2b3c4")
            .ok_or_else(|| "not yet".to_string())
    });
    let (_, sensor) = api
        .get(&format!("/api/v1/devices/{}", sensor.id))
        .expect("sensor json");
    assert_eq!(sensor["status"], "online", "{sensor}");
    assert_eq!(sensor["unsupported"], serde_json::Value::Null, "{sensor}");

    let out = core.cli(&["devices"]);
    out.assert_success();
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("mystery"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("unsupported"), "{line}");
    let out = core.cli(&["device", &body["id"].to_string()]);
    out.assert_success();
    assert!(
        out.stdout
            .contains("unsupported: Zigbee2MQTT has no definition"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_grant_index_with_no_rule_is_a_warning_in_the_providers_status() {
    // `grant = 3` names a [[provider.grant]] rule the provider does not have.
    let spec = ProviderSpec::test("good", "good").config("grant", 3);
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let p = wait_for(TIMEOUT, "the provider running", || {
        let p = api.try_provider("good")?;
        match p.state.as_str() {
            "running" => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    let place = format!(
        "{}:{}",
        core.config_path().display(),
        line_of(core.config_path(), "grant = 3")
    );
    assert_eq!(p.warnings.len(), 1, "{p:?}");
    assert!(
        p.warnings[0].starts_with(&place) && p.warnings[0].contains("no [[provider.grant]] rule"),
        "{:?}",
        p.warnings
    );
    let out = core.cli(&["providers"]);
    out.assert_success();
    assert!(
        out.stdout.contains("warning:") && out.stdout.contains(&place),
        "{}",
        out.stdout
    );
    let doctor = core.cli(&["doctor"]);
    doctor.assert_success();
    assert!(
        doctor
            .stdout
            .lines()
            .any(|l| l.starts_with("  warning: ") && l.contains(&place)),
        "igloo doctor shows the warning:\n{}",
        doctor.stdout
    );
    assert!(core.log_contains("config: "), "logged at start");
}
