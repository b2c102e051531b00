//! The ESPHome provider end to end: the real core and `igloo-esphome` against
//! fake ESPHome devices built on the peer's own definitions (aioesphomeapi's
//! generated `api_pb2`, and `noiseprotocol` for the Noise side; see
//! `tests/fakes/`), plaintext and encrypted.
//!
//! The fake's basic entities (keys in `igloo_tests::esphome::keys`): switch
//! "Relay", RGB + colour-temperature light "Lamp", temperature sensor
//! "Temperature" (°C), door binary sensor "Door", cover "Blind".

use std::time::{Duration, Instant};

use igloo_tests::esphome::{FakeDevice, FakeOptions, keys};
use igloo_tests::events::{is_availability, is_state};
use igloo_tests::{
    Api, Core, Device, LONG, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for,
};
use serde_json::{Value, json};

const KEY: &str = "px7tsbK3C7bpXHr2OevEV2ZMg/FojJ0+SmcIgLKY1Bk=";
const OTHER_KEY: &str = "QRTIErOb/fcE9Ibd6ZnI3JNKa3OC2Lp6hW+8Dz5NwVY=";

fn mac(n: u8) -> String {
    format!("AA:BB:CC:DD:EE:{n:02X}")
}

fn key_of(n: u8) -> String {
    format!("aa:bb:cc:dd:ee:{n:02x}")
}

/// The provider's `esphome.status` entry for the device at `port`.
fn try_status(api: &Api, port: u16) -> Result<Value, String> {
    let (code, body) = api.command("esphome", "esphome.status", &json!({}));
    if code != 200 {
        return Err(format!("esphome.status: {code} {body}"));
    }
    body["body"]["devices"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|x| x["address"] == format!("127.0.0.1:{port}"))
                .cloned()
        })
        .ok_or_else(|| format!("no status for 127.0.0.1:{port}: {body}"))
}

fn status(api: &Api, port: u16) -> Value {
    try_status(api, port).unwrap_or_else(|e| panic!("{e}"))
}

fn wait_status(api: &Api, port: u16, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    wait_for(
        TIMEOUT,
        format!("status of 127.0.0.1:{port}: {what}"),
        || {
            let s = try_status(api, port)?;
            if check(&s) { Ok(s) } else { Err(s.to_string()) }
        },
    )
}

/// The initial states of the basic entities, with components and units.
fn check_basic_entities(d: &Device) {
    assert_eq!(d.provider, "esphome");
    assert!(d.available, "device not available: {d:?}");
    assert_eq!(d.attributes["mac"], json!(d.key));
    let relay = d.entity("Relay");
    assert_eq!(relay.component("Switch"), &json!(false));
    let lamp = d.entity("Lamp");
    assert!(lamp.components.contains_key("Light"), "{lamp:?}");
    assert_eq!(lamp.component("Switch"), &json!(false));
    assert!(
        (lamp.component("Brightness").as_f64().unwrap_or(-1.0) - 50.0).abs() < 0.01,
        "{lamp:?}"
    );
    assert_eq!(lamp.unit("Brightness"), Some("%"));
    assert_eq!(lamp.component("Color"), &json!("#ff8000"));
    assert_eq!(lamp.component("ColorTemperature"), &json!(300));
    assert_eq!(lamp.unit("ColorTemperature"), Some("mired"));
    assert_eq!(lamp.component("Effect"), &json!("None"));
    let t = d.entity("Temperature");
    assert!(
        (t.component("Temperature").as_f64().unwrap_or(0.0) - 21.5).abs() < 0.01,
        "{t:?}"
    );
    assert_eq!(t.unit("Temperature"), Some("°C"));
    // ESPHome door: false = closed; Igloo Contact: true = closed.
    assert_eq!(d.entity("Door").component("Contact"), &json!(true));
    let blind = d.entity("Blind");
    assert!(blind.components.contains_key("Cover"), "{blind:?}");
    assert_eq!(blind.component("CoverPosition"), &json!(0.0));
    assert_eq!(blind.component("CoverState"), &json!("Closed"));
}

fn all_basic_present(d: &Device) -> Result<(), String> {
    for (e, c) in [
        ("Relay", "Switch"),
        ("Lamp", "Effect"),
        ("Temperature", "Temperature"),
        ("Door", "Contact"),
        ("Blind", "CoverState"),
    ] {
        d.value(e, c).ok_or_else(|| format!("{e}.{c} missing"))?;
    }
    if d.available {
        Ok(())
    } else {
        Err("unavailable".into())
    }
}

#[test]
fn plaintext_device_entities_states_and_live_updates() {
    let mut dev = FakeDevice::start(FakeOptions::new("living", &mac(1)));
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(dev.port, None)],
    )]));
    let d = core
        .api()
        .wait_device_where(&key_of(1), "basic entities", all_basic_present);
    check_basic_entities(&d);
    assert_eq!(d.name, "Fake living");
    assert_eq!(d.attributes["encrypted"], json!("false"));
    // The client logged in as ESPHome's reference client does.
    let hello = dev.messages("HelloRequest");
    assert_eq!(hello.len(), 1, "{hello:?}");
    assert!(
        hello[0]["client_info"]
            .as_str()
            .unwrap_or("")
            .starts_with("igloo-esphome ")
    );
    assert_eq!(hello[0]["api_version_major"], json!(1));
    for m in [
        "DeviceInfoRequest",
        "ListEntitiesRequest",
        "SubscribeStatesRequest",
    ] {
        assert_eq!(dev.messages(m).len(), 1, "{m}");
    }
    // The device's GetTimeRequest is answered with the current time.
    let t = dev.wait_message(0, "GetTimeResponse", SHORT);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let got = t["epoch_seconds"].as_u64().unwrap_or(0);
    assert!(got.abs_diff(now) < 60, "GetTimeResponse {t}, now {now}");

    // Live updates reach the API.
    let mut events = core.events();
    dev.send(
        "SensorStateResponse",
        json!({"key": keys::TEMPERATURE, "state": 22.25}),
    );
    dev.send(
        "BinarySensorStateResponse",
        json!({"key": keys::DOOR, "state": true}),
    );
    events.wait_event(SHORT, "temperature 22.25", |e| {
        is_state(e, d.id, Some("Temperature"))
            && e["components"]["Temperature"]
                .as_f64()
                .is_some_and(|v| (v - 22.25).abs() < 0.01)
    });
    core.api().wait_device_where(&key_of(1), "door open", |d| {
        d.has("Door", "Contact", &json!(false))?;
        d.has("Temperature", "Temperature", &json!(22.25))
    });
    let s = status(core.api(), dev.port);
    assert_eq!(s["state"], "connected");
    assert_eq!(s["entities"], 5);

    // A provider that stops says goodbye: DisconnectRequest, as ESPHome clients do.
    let from = dev.events().len();
    let (code, body) = core.api().restart_provider("esphome");
    assert!(code < 300, "restart: {code} {body}");
    dev.wait_message(from, "DisconnectRequest", SHORT);
}

#[test]
fn noise_encrypted_device_works_like_plaintext() {
    let dev = FakeDevice::start(FakeOptions::new("secure", &mac(2)).key(KEY));
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(dev.port, Some(KEY))],
    )]));
    let d = core
        .api()
        .wait_device_where(&key_of(2), "basic entities", all_basic_present);
    check_basic_entities(&d);
    assert_eq!(d.attributes["encrypted"], json!("true"));
    let mut dev = dev;
    dev.send(
        "SensorStateResponse",
        json!({"key": keys::TEMPERATURE, "state": -3.5}),
    );
    core.api()
        .wait_device_where(&key_of(2), "temperature over Noise", |d| {
            d.has("Temperature", "Temperature", &json!(-3.5))
        });
    // The key is never written to the log.
    assert!(!core.log_contains(KEY), "the key leaked into the log");
    assert!(
        !core.log_contains(&KEY[..20]),
        "the key leaked into the log"
    );
}

#[test]
fn set_produces_the_exact_commands_and_the_confirmed_state_comes_back() {
    let mut dev = FakeDevice::start(FakeOptions::new("cmd", &mac(3)).key(KEY));
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(dev.port, Some(KEY))],
    )]));
    let d = core
        .api()
        .wait_device_where(&key_of(3), "basic entities", all_basic_present);

    // Switch, through the CLI.
    let from = dev.events().len();
    core.cli(&["set", &d.id.to_string(), "Relay", "Switch=true"])
        .assert_success();
    let cmd = dev.wait_message(from, "SwitchCommandRequest", SHORT);
    assert_eq!(cmd["key"], json!(keys::RELAY));
    assert_eq!(cmd["state"], json!(true));
    core.api()
        .wait_device_where(&key_of(3), "relay on (confirmed by the device)", |d| {
            d.has("Relay", "Switch", &json!(true))
        });

    // Light: on, 80 %, a colour, in one command.
    let from = dev.events().len();
    core.cli(&[
        "set",
        &d.id.to_string(),
        "Lamp",
        "Switch=true",
        "Brightness=80",
        "Color=\"#00ff00\"",
    ])
    .assert_success();
    let cmd = dev.wait_message(from, "LightCommandRequest", SHORT);
    assert_eq!(cmd["key"], json!(keys::LAMP));
    assert_eq!(
        (cmd["has_state"].clone(), cmd["state"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(cmd["has_brightness"], json!(true));
    assert!(
        (cmd["brightness"].as_f64().unwrap_or(0.0) - 0.8).abs() < 1e-6,
        "{cmd}"
    );
    assert_eq!(cmd["has_rgb"], json!(true));
    assert_eq!(
        (
            cmd["red"].as_f64(),
            cmd["green"].as_f64(),
            cmd["blue"].as_f64()
        ),
        (Some(0.0), Some(1.0), Some(0.0)),
        "{cmd}"
    );
    assert_eq!(cmd["has_color_temperature"], json!(false), "{cmd}");
    assert_eq!(cmd["has_effect"], json!(false), "{cmd}");
    assert_eq!(
        dev.messages("LightCommandRequest").len(),
        1,
        "one command for one request"
    );
    core.api()
        .wait_device_where(&key_of(3), "lamp confirmed", |d| {
            d.has("Lamp", "Switch", &json!(true))?;
            d.has("Lamp", "Brightness", &json!(80.0))?;
            d.has("Lamp", "Color", &json!("#00ff00"))
        });

    // Colour temperature and an effect.
    let from = dev.events().len();
    let (code, body) = core.api().set(
        d.id,
        "Lamp",
        &json!({"ColorTemperature": 250, "Effect": "Rainbow"}),
    );
    assert_eq!(code, 202, "{body}");
    let cmd = dev.wait_message(from, "LightCommandRequest", SHORT);
    assert_eq!(cmd["has_color_temperature"], json!(true));
    assert_eq!(cmd["color_temperature"].as_f64(), Some(250.0));
    assert_eq!(
        (cmd["has_effect"].clone(), cmd["effect"].clone()),
        (json!(true), json!("Rainbow"))
    );
    assert_eq!(cmd["has_state"], json!(false), "{cmd}");
    core.api()
        .wait_device_where(&key_of(3), "lamp effect", |d| {
            d.has("Lamp", "Effect", &json!("Rainbow"))?;
            d.has("Lamp", "ColorTemperature", &json!(250))
        });

    // Cover to 40 %.
    let from = dev.events().len();
    let (code, body) = core.api().set(d.id, "Blind", &json!({"CoverPosition": 40}));
    assert_eq!(code, 202, "{body}");
    let cmd = dev.wait_message(from, "CoverCommandRequest", SHORT);
    assert_eq!(cmd["has_position"], json!(true));
    assert!(
        (cmd["position"].as_f64().unwrap_or(0.0) - 0.4).abs() < 1e-6,
        "{cmd}"
    );
    core.api()
        .wait_device_where(&key_of(3), "blind at 40 %", |d| {
            d.has("Blind", "CoverPosition", &json!(40.0))?;
            d.has("Blind", "CoverState", &json!("Open"))
        });
}

#[test]
fn drops_and_reboots_reconnect_with_the_same_id_and_availability_flips() {
    let mut dev = FakeDevice::start(FakeOptions::new("flaky", &mac(4)));
    // Keep-alive 1 s: a silent device is given up after 4.5 s.
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(dev.port, None)],
    )
    .config("keepalive_secs", 1)]));
    let d = core
        .api()
        .wait_device_where(&key_of(4), "basic entities", all_basic_present);
    let pid = core.api().provider("esphome").pid;

    for op in [
        json!({"op": "drop"}),
        json!({"op": "reboot", "down_ms": 1500}),
        json!({"op": "reboot", "down_ms": 500, "graceful": true}),
        // Wi-Fi gone without a FIN: only the keep-alive can tell.
        json!({"op": "drop", "mode": "silent"}),
    ] {
        let mut events = core.events();
        let logins = dev.messages("HelloRequest").len();
        dev.op(op.clone());
        events.wait_event(TIMEOUT, &format!("unavailable after {op}"), |e| {
            is_availability(e, d.id, false)
        });
        events.wait_event(TIMEOUT, &format!("available again after {op}"), |e| {
            is_availability(e, d.id, true)
        });
        wait_for(SHORT, "a new login", || {
            let n = dev.messages("HelloRequest").len();
            if n > logins {
                Ok(())
            } else {
                Err(format!("{n} logins"))
            }
        });
        let again = core
            .api()
            .wait_device_where(&key_of(4), "back", all_basic_present);
        assert_eq!(again.id, d.id, "the device id changed across a reconnect");
        assert_eq!(
            core.api()
                .devices()
                .iter()
                .filter(|x| x.provider == "esphome")
                .count(),
            1
        );
    }
    // States flow after the reboot.
    dev.send(
        "SwitchStateResponse",
        json!({"key": keys::RELAY, "state": true}),
    );
    core.api().wait_device_where(&key_of(4), "relay on", |d| {
        d.has("Relay", "Switch", &json!(true))
    });
    let p = core.api().provider("esphome");
    assert_eq!(
        (p.pid, p.restarts),
        (pid, 0),
        "the provider must not restart"
    );
}

#[test]
fn key_problems_are_reported_clearly_without_a_reconnect_storm() {
    // Wrong key; key missing for an encrypted device; key given to a plaintext device.
    let wrong = FakeDevice::start(FakeOptions::new("wrongkey", &mac(5)).key(KEY));
    let needs = FakeDevice::start(FakeOptions::new("needskey", &mac(6)).key(KEY));
    let plain = FakeDevice::start(FakeOptions::new("plain", &mac(7)));
    let good = FakeDevice::start(FakeOptions::new("good", &mac(8)));
    let spec = ProviderSpec::esphome(
        "esphome",
        &[
            (wrong.port, Some(OTHER_KEY)),
            (needs.port, None),
            (plain.port, Some(KEY)),
            (good.port, None),
        ],
    )
    .config("reconnect_max_secs", 30);
    let core = Core::start(&providers_toml(&[spec]));
    let api = core.api();
    api.wait_device_where(&key_of(8), "the good device", all_basic_present);

    let s = wait_status(api, wrong.port, "wrong_key", |s| {
        s["error_kind"] == "wrong_key"
    });
    assert!(
        s["error"].as_str().unwrap_or("").contains("key is wrong"),
        "{s}"
    );
    let s = wait_status(api, needs.port, "encryption_required", |s| {
        s["error_kind"] == "encryption_required"
    });
    assert!(
        s["error"]
            .as_str()
            .unwrap_or("")
            .contains("requires encryption"),
        "{s}"
    );
    let s = wait_status(api, plain.port, "plaintext_device", |s| {
        s["error_kind"] == "plaintext_device"
    });
    assert!(
        s["error"].as_str().unwrap_or("").contains("plaintext"),
        "{s}"
    );

    // No storm: within 4 s after the first failure, no further attempts
    // (key problems wait reconnect_max, here 30 s).
    let mut wrong = wrong;
    let mut needs = needs;
    let mut plain = plain;
    let before = [
        wrong.count("connected"),
        needs.count("connected"),
        plain.count("connected"),
    ];
    std::thread::sleep(Duration::from_secs(4));
    let after = [
        wrong.count("connected"),
        needs.count("connected"),
        plain.count("connected"),
    ];
    assert_eq!(
        before, after,
        "key problems were retried quickly (connections before/after)"
    );
    assert!(
        before.iter().all(|n| *n >= 1),
        "each device was tried: {before:?}"
    );
    assert_eq!(wrong.count("handshake_failed"), 1);
    for (port, n) in [(wrong.port, 1), (needs.port, 1), (plain.port, 1)] {
        assert_eq!(
            status(api, port)["attempts"],
            json!(n),
            "attempts at {port}"
        );
    }
    // Neither the wrong key nor the right one is logged.
    for k in [KEY, OTHER_KEY] {
        assert!(!core.log_contains(&k[..20]), "a key leaked into the log");
    }
    // The good device is unaffected, and the provider did not restart.
    assert_eq!(api.provider("esphome").restarts, 0);
    assert!(api.device_by_key(&key_of(8)).is_some_and(|d| d.available));

    // The right key through the CLI: the device connects at once.
    core.cli(&[
        "esphome",
        "add",
        &format!("127.0.0.1:{}", needs.port),
        "--key",
        KEY,
    ])
    .assert_success();
    api.wait_device_where(
        &key_of(6),
        "connected with the added key",
        all_basic_present,
    );
    assert!(
        !core.log_contains(&KEY[..20]),
        "the key leaked into the log"
    );
    let stored = core.data_dir().join("providers/esphome/devices.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&stored)
            .unwrap_or_else(|e| panic!("{}: {e}", stored.display()))
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "keys file must be owner-only");
}

#[test]
fn bad_bytes_give_clear_errors_and_never_disturb_other_devices() {
    let mut bad = FakeDevice::start(FakeOptions::new("bad", &mac(9)));
    let mut other = FakeDevice::start(FakeOptions::new("steady", &mac(10)).key(KEY));
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(bad.port, None), (other.port, Some(KEY))],
    )]));
    let api = core.api().clone();
    let d_bad = api.wait_device_where(&key_of(9), "bad device up", all_basic_present);
    let d_other = api.wait_device_where(&key_of(10), "steady device up", all_basic_present);
    let pid = api.provider("esphome").pid;
    let mut value = 0.0;
    for (op, expect) in [
        ("garbage", "invalid frame indicator byte"),
        ("oversize", "limit is 65535"),
        ("cut", "in the middle of a frame"),
    ] {
        let logins = bad.messages("HelloRequest").len();
        bad.op(json!({"op": op}));
        // The device may be back before a look: `last_error` keeps why it
        // dropped.
        let s = wait_status(&api, bad.port, &format!("error after {op}"), |s| {
            s["last_error"].as_str().is_some_and(|e| e.contains(expect))
        });
        assert!(
            matches!(
                s["last_error_kind"].as_str(),
                Some("protocol") | Some("closed")
            ),
            "{s}"
        );
        // The other device keeps streaming meanwhile.
        value += 1.0;
        other.send(
            "SensorStateResponse",
            json!({"key": keys::TEMPERATURE, "state": value}),
        );
        api.wait_device_where(&key_of(10), "steady device keeps updating", |d| {
            d.has("Temperature", "Temperature", &json!(value))
        });
        // The bad device comes back by itself.
        wait_for(TIMEOUT, format!("reconnect after {op}"), || {
            let n = bad.messages("HelloRequest").len();
            if n > logins {
                Ok(())
            } else {
                Err(format!("{n} logins"))
            }
        });
        api.wait_device_where(&key_of(9), "bad device back", all_basic_present);
        // The log names the problem too.
        core.wait_log(SHORT, &[expect]);
    }
    let p = api.provider("esphome");
    assert_eq!((p.pid, p.restarts), (pid, 0), "no panic, no restart");
    assert_eq!(api.device_by_key(&key_of(9)).map(|d| d.id), Some(d_bad.id));
    assert_eq!(
        api.device_by_key(&key_of(10)).map(|d| d.id),
        Some(d_other.id)
    );
    assert!(!core.log_contains("panicked"), "a panic was logged");
}

#[test]
fn every_entity_type_is_mapped_and_unknown_types_are_skipped() {
    let mut dev = FakeDevice::start(FakeOptions::new("kitchen", &mac(11)).all_entities());
    let core = Core::start(&providers_toml(&[ProviderSpec::esphome(
        "esphome",
        &[(dev.port, None)],
    )]));
    let d = core
        .api()
        .wait_device_where(&key_of(11), "all entities", |d| {
            for e in [
                "Status",
                "Fan",
                "Thermostat",
                "Setpoint",
                "Mode",
                "Restart",
                "Front Door",
            ] {
                d.entities.get(e).ok_or_else(|| format!("no entity {e}"))?;
            }
            all_basic_present(d)
        });
    assert!(
        !d.entities.contains_key("Alarm"),
        "the siren must be skipped"
    );
    assert_eq!(d.entity("Status").component("Text"), &json!("ok"));
    assert!(d.entity("Fan").components.contains_key("Fan"));
    assert!(d.entity("Thermostat").components.contains_key("Climate"));
    assert!(d.entity("Restart").components.contains_key("ButtonPress"));
    assert_eq!(
        d.entity("Mode")
            .attributes
            .get("options")
            .and_then(Value::as_str),
        Some("eco,comfort,boost")
    );
    let s = status(core.api(), dev.port);
    assert_eq!(s["skipped"], json!(["siren"]));
    assert!(core.log_contains("skipping a siren entity"));

    // A command per type reaches the device as its own message.
    for (entity, values, ty) in [
        (
            "Restart",
            json!({"ButtonPress": true}),
            "ButtonCommandRequest",
        ),
        ("Mode", json!({"Select": "boost"}), "SelectCommandRequest"),
        ("Setpoint", json!({"Number": 42}), "NumberCommandRequest"),
        (
            "Front Door",
            json!({"Lock": "Locked"}),
            "LockCommandRequest",
        ),
        (
            "Fan",
            json!({"Switch": true, "FanSpeed": 100}),
            "FanCommandRequest",
        ),
        ("Fan", json!({"FanPreset": "sleep"}), "FanCommandRequest"),
        (
            "Thermostat",
            json!({"ClimateMode": "Heat", "TargetTemperature": 21.5}),
            "ClimateCommandRequest",
        ),
        (
            "Thermostat",
            json!({"ClimateFanMode": "turbo", "ClimateSwingMode": "vertical", "ClimatePreset": "eco"}),
            "ClimateCommandRequest",
        ),
    ] {
        let from = dev.events().len();
        let (code, body) = core.api().set(d.id, entity, &values);
        assert_eq!(code, 202, "{entity}: {body}");
        let cmd = dev.wait_message(from, ty, SHORT);
        eprintln!("{entity}: {cmd}");
    }
    core.api()
        .wait_device_where(&key_of(11), "confirmed states", |d| {
            d.has("Mode", "Select", &json!("boost"))?;
            d.has("Setpoint", "Number", &json!(42.0))?;
            d.has("Front Door", "Lock", &json!("Locked"))?;
            d.has("Thermostat", "ClimateMode", &json!("Heat"))?;
            d.has("Fan", "FanPreset", &json!("Sleep"))?;
            // Fan, swing and preset by name; the custom fan mode as the
            // device spells it.
            d.has("Thermostat", "ClimateFanMode", &json!("Turbo"))?;
            d.has("Thermostat", "ClimateSwingMode", &json!("vertical"))?;
            d.has("Thermostat", "ClimatePreset", &json!("eco"))?;
            d.has("Thermostat", "TargetTemperature", &json!(21.5))
        });
    assert_eq!(
        d.entity("Thermostat")
            .attributes
            .get("fan_modes")
            .and_then(Value::as_str),
        Some("auto,low,high,Turbo")
    );
    // An option the select does not have is refused by the core (the entity
    // lists its options), before reaching the provider or the device.
    let from = dev.events().len();
    let (code, body) = core.api().set(d.id, "Mode", &json!({"Select": "turbo"}));
    assert_eq!(code, 422, "{body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("\"turbo\" is not an option") && error.contains("boost"),
        "{body}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let late = dev.events()[from..]
        .iter()
        .filter(|e| e["type"] == "SelectCommandRequest")
        .count();
    assert_eq!(late, 0, "an invalid option reached the device");
}

#[test]
fn mdns_announced_devices_are_discovered_and_connected() {
    use mdns_sd::{ServiceDaemon, ServiceInfo};
    let plain = FakeDevice::start(FakeOptions::new("mdnsplain", &mac(12)));
    let mut secure = FakeDevice::start(FakeOptions::new("mdnssecure", &mac(13)).key(KEY));
    let responder = ServiceDaemon::new().unwrap_or_else(|e| panic!("mDNS responder: {e}"));
    for (dev, n, encrypted) in [(&plain, 12u8, false), (&secure, 13u8, true)] {
        let mut txt = vec![
            ("mac".to_string(), format!("aabbccddee{n:02x}")),
            (
                "friendly_name".to_string(),
                dev.options.friendly_name.clone(),
            ),
            ("version".to_string(), "2026.11.0".to_string()),
            ("platform".to_string(), "ESP32".to_string()),
        ];
        if encrypted {
            txt.push((
                "api_encryption".to_string(),
                "Noise_NNpsk0_25519_ChaChaPoly_SHA256".to_string(),
            ));
        }
        let info = ServiceInfo::new(
            "_esphomelib._tcp.local.",
            &dev.options.name,
            &format!("{}.local.", dev.options.name),
            "127.0.0.1",
            dev.port,
            &txt.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>()[..],
        )
        .unwrap_or_else(|e| panic!("service info: {e}"));
        responder
            .register(info)
            .unwrap_or_else(|e| panic!("register: {e}"));
    }
    let spec = ProviderSpec::new("esphome", igloo_tests::bin("igloo-esphome"))
        .config("discovery", true)
        .config("reconnect_max_secs", 2)
        .table("[provider.sandbox]\nsocket_families = [\"inet\", \"inet6\", \"netlink\"]");
    let core = Core::start(&providers_toml(&[spec]));
    let started = Instant::now();
    let d = wait_for(LONG, "the plaintext device found by mDNS", || {
        core.api()
            .device_by_key(&key_of(12))
            .filter(|d| all_basic_present(d).is_ok())
            .ok_or_else(|| "not yet".to_string())
    });
    eprintln!("discovered and connected in {:?}", started.elapsed());
    assert_eq!(d.name, "Fake mdnsplain");
    let s = wait_status(core.api(), secure.port, "waiting for its key", |s| {
        s["state"] == "waiting_for_key"
    });
    assert_eq!(s["source"], "mdns");
    assert_eq!(
        secure.count("connected"),
        0,
        "a device waiting for its key is not contacted"
    );
    core.cli(&[
        "esphome",
        "add",
        &format!("127.0.0.1:{}", secure.port),
        "--key",
        KEY,
    ])
    .assert_success();
    core.api().wait_device_where(
        &key_of(13),
        "the encrypted device after its key",
        all_basic_present,
    );
    let listed = core.cli(&["esphome", "list"]);
    listed.assert_success();
    assert!(
        listed.stdout.contains("connected") && listed.stdout.contains("mdns"),
        "{}",
        listed.stdout
    );
    let _ = responder.shutdown();
}

/// The fake device is checked against aioesphomeapi's own `APIClient` (the
/// reference client): plaintext, Noise, wrong key, encryption required,
/// plaintext device, reboot and every fault op behave as a real device's.
#[test]
fn the_fake_device_passes_the_reference_client_check() {
    igloo_tests::fake::run_self_check("check_esphome_device.py");
}
