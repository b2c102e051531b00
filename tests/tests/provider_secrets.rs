//! `[provider.secrets]` (issue 15): the core reads a provider's passwords
//! from files under `[core] secrets_dir` at each start and sends them in the
//! provider's config, so they never stand in `igloo.toml`. Shown with the
//! real MQTT provider logging in to a real Mosquitto listener that refuses
//! anyone without the password, and with the hostile provider trying to read
//! the secret file itself.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use igloo_tests::harness::bins::bin;
use igloo_tests::harness::privileged::require_root;
use igloo_tests::{
    Core, CoreSettings, Credentials, Mosquitto, ProviderSpec, TIMEOUT, providers_toml, wait_for,
};
use serde_json::json;

const BRIDGE_DEVICES: &str = include_str!("../fixtures/bridge_devices.json");
const LAMP: &str = "0x000d6ffffe8a4c21";

/// A password no other text of the test run contains, so finding it in a log
/// can only be a leak.
fn unique_password() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("pw-{}-{nanos:09}-secret", std::process::id())
}

/// The 1-based line of the first line of `path` containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read the config");
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in {}", path.display()))
}

/// Writes secret `name` into `dir` as the image does: dir 0700, file 0600.
fn write_secret(dir: &Path, name: &str, value: &str) {
    std::fs::create_dir_all(dir).expect("create the secrets dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let file = dir.join(name);
    std::fs::write(&file, format!("{value}\n")).expect("write the secret");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[test]
fn mqtt_provider_logs_in_with_a_secret_file_and_waits_in_config_error_without_it() {
    let password = unique_password();
    let broker = Mosquitto::start_with_accounts(&[Credentials::new("igloo-mqtt", &password)]);
    broker.publish_str("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#, true);
    broker.publish_str("zigbee2mqtt/bridge/devices", BRIDGE_DEVICES, true);
    // The provider's only way in is the listener that wants the password.
    let spec = ProviderSpec::new("mqtt", bin("igloo-mqtt"))
        .config("broker", broker.auth_address())
        .config("base_topic", "zigbee2mqtt")
        .config("username", "igloo-mqtt")
        .table("[provider.secrets]\npassword = \"mqtt-igloo-mqtt\"");
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api().clone();
    let secrets = core.data_dir().join("secrets");
    let file = secrets.join("mqtt-igloo-mqtt");

    // No secret file yet: held in config_error, naming the file and the line.
    let p = wait_for(TIMEOUT, "the provider in config_error", || {
        let p = api.try_provider("mqtt")?;
        match p.state.as_str() {
            "config_error" => Ok(p),
            _ => Err(format!("{p:?}")),
        }
    });
    let problem = p.config_error.clone().expect("config_error is set");
    let message = problem["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&file.display().to_string()),
        "names the file: {problem}"
    );
    assert_eq!(problem["key"], "password", "{problem}");
    assert_eq!(
        problem["file"],
        core.config_path().display().to_string(),
        "{problem}"
    );
    assert_eq!(
        problem["line"],
        line_of(core.config_path(), "password = \"mqtt-igloo-mqtt\""),
        "the [provider.secrets] line: {problem}"
    );
    let exit = p.exit.clone().expect("exit is set");
    assert_eq!(exit["cause"], "secret", "{exit}");
    assert_eq!(p.pid, None, "no process without its password");

    // Written and restarted: it starts, logs in and mirrors the bridge.
    write_secret(&secrets, "mqtt-igloo-mqtt", &password);
    let (status, reply) = api.restart_provider("mqtt");
    assert!(status < 300, "restart: {status} {reply}");
    wait_for(
        TIMEOUT,
        "the lamp mirrored through the password listener",
        || {
            let devices = api.try_devices()?;
            devices
                .iter()
                .any(|d| d.key.ends_with(LAMP))
                .then_some(())
                .ok_or_else(|| format!("{devices:?} {:?}", api.try_provider("mqtt")))
        },
    );
    assert_eq!(api.provider("mqtt").state, "running");
    assert!(
        broker
            .log()
            .lines()
            .iter()
            .any(|l| l.contains("u'igloo-mqtt'")),
        "the broker saw the provider log in as igloo-mqtt"
    );

    // The password appears nowhere the core writes: not its log (which has
    // the provider's own output too), not the API.
    let (status, providers) = api.get("/api/v1/providers").expect("GET /api/v1/providers");
    assert_eq!(status, 200);
    assert!(
        !providers.to_string().contains(&password),
        "the API shows the password: {providers}"
    );
    let log = core.log().text();
    assert!(
        log.contains("provider connected"),
        "the log was read (it has the provider's start)"
    );
    assert!(!log.contains(&password), "the core's log has the password");
}

#[test]
fn a_confined_provider_cannot_read_the_secrets_it_is_given() {
    if !require_root("a_confined_provider_cannot_read_the_secrets_it_is_given") {
        return;
    }
    let secrets = tempfile::tempdir().expect("tempdir");
    let secret = unique_password();
    write_secret(secrets.path(), "hostile-token", &secret);
    let hostile = |name: &str| {
        ProviderSpec::new(name, bin("igloo-hostile"))
            .table("[provider.secrets]\ntoken = \"hostile-token\"")
    };
    let settings = CoreSettings {
        extra_core: format!(
            "secrets_dir = {}\n",
            toml::Value::String(secrets.path().display().to_string())
        ),
        ..CoreSettings::default()
    };
    let mut core = Core::start_with(
        settings,
        &providers_toml(&[hostile("hostile"), hostile("baseline").unconfined()]),
    );
    for p in ["hostile", "baseline"] {
        core.wait_provider_running(p, TIMEOUT);
    }
    let file = secrets.path().join("hostile-token");
    let read = |name: &str| {
        let (status, reply) = core.api().command(
            name,
            "check",
            &json!({"checks": ["read_other_data"], "args": {"other_file": file}}),
        );
        assert_eq!(status, 200, "check command to {name}: {reply}");
        reply["body"]["results"]["read_other_data"].clone()
    };
    // Baseline: the same binary without the sandbox (the core's uid) reads it.
    let baseline = read("baseline");
    assert_eq!(baseline["ok"], true, "baseline reads the file: {baseline}");
    // Confined: its own uid, Landlock without the secrets dir: denied.
    let confined = read("hostile");
    assert_eq!(
        confined["ok"], false,
        "the confined provider read it: {confined}"
    );
    assert_eq!(confined["error"], "EACCES", "{confined}");
    assert!(
        !core.log().text().contains(&secret),
        "the core's log has the secret"
    );
}
