//! Proven backwards compatibility (DESIGN §5, negotiation): real binaries
//! built from the source of the first protocol release (`protocol-v1` in
//! `core/protocol/releases.toml`: core 0.1.0, protocol 1.0, components 0–50,
//! messages 0–12) run against today's binaries, in both directions, with a
//! real Mosquitto playing host to a simulated Zigbee2MQTT bridge.
//!
//! - v1 providers (`igloo-mqtt`, `igloo-test-provider` in mode `good`) under
//!   today's core: devices, states and change requests work; components the
//!   v1 side does not know are dropped from change requests (and counted in
//!   `dropped_components`), a request left empty is refused naming the
//!   provider, and the old providers are never restarted.
//! - today's providers (`igloo-mqtt`, `igloo-test-provider` in mode `compat`)
//!   under the v1 core: the same, and today's `Gas` component (id 51) never
//!   reaches the old core, which could not decode it; igloo-mqtt with discovery
//!   out on says the old core cannot share its tree, and works on.
//!
//! - a rollback: the v1 core on the data dir today's core wrote
//!   (docs/compatibility.md, "Data on the gateway across system updates and
//!   rollbacks") keeps every device's id, name and last values, and so does
//!   today's core after it.
//!
//! The release binaries are built on first use (minutes, once; see
//! `igloo_tests::compat`); `release_binaries_build` only builds them.

use std::collections::BTreeMap;

use igloo_tests::compat::{
    PROTOCOL_V1, RELEASE_BINARIES, build_release, release, release_mqtt, release_test_provider,
    release_version, releases,
};
use igloo_tests::events::is_state;
use igloo_tests::{
    Api, Core, Device, Mosquitto, ProviderSpec, SHORT, TIMEOUT, providers_toml, providers_toml_v1,
    wait_for,
};
use serde_json::{Value, json};

const BRIDGE_DEVICES: &str = include_str!("../fixtures/bridge_devices.json");

const LAMP: &str = "0x000d6ffffe8a4c21";
const SENSOR: &str = "0x00158d0001a2b3c4";
const DOOR: &str = "0x00158d0002c4d5e6";
const Z2M_KEYS: [&str; 3] = [LAMP, SENSOR, DOOR];

/// What a core must never log while old and new binaries talk: the core
/// treats an undecodable frame as a protocol violation and restarts the provider.
const VIOLATIONS: [&str; 3] = [
    "protocol violation",
    "undecodable",
    "bad frame from the core",
];

/// Every release binary builds from the tagged source. `scripts/test` runs
/// this test alone first, so the (cold: minutes) build shows as its own step;
/// the other tests build lazily too.
#[test]
fn release_binaries_build() {
    for r in releases() {
        let dir = build_release(&r.tag);
        for name in RELEASE_BINARIES {
            assert!(
                dir.join(name).is_file(),
                "{} has no {name} after building {}",
                dir.display(),
                r.tag
            );
        }
        eprintln!("{} binaries in {}", r.tag, dir.display());
    }
}

/// A broker holding the bridge's retained state: online, the fixture's
/// device list and every device available.
fn z2m_broker() -> Mosquitto {
    let broker = Mosquitto::start();
    broker.publish_str("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#, true);
    broker.publish_str("zigbee2mqtt/bridge/devices", BRIDGE_DEVICES, true);
    for name in ["living_lamp", "bedroom_sensor", "front_door"] {
        broker.publish_str(
            &format!("zigbee2mqtt/{name}/availability"),
            r#"{"state":"online"}"#,
            true,
        );
    }
    broker
}

/// Waits for the device with `key` (of `provider`) to satisfy `check`.
fn wait_device(
    api: &Api,
    key: &str,
    what: &str,
    check: impl Fn(&Device) -> Result<(), String>,
) -> Device {
    let api = api.clone();
    wait_for(TIMEOUT, format!("device {key}: {what}"), || {
        let devices = api.try_devices()?;
        let d = devices.iter().find(|d| d.key == key).ok_or_else(|| {
            format!(
                "no device with key {key}; listed: {:?}",
                devices.iter().map(|d| &d.key).collect::<Vec<_>>()
            )
        })?;
        check(d).map_err(|e| format!("{e}; device: {d:?}"))?;
        Ok(d.clone())
    })
}

/// Waits until the three Zigbee2MQTT fixture devices are listed; key → id.
fn wait_z2m_devices(api: &Api) -> BTreeMap<&'static str, u64> {
    Z2M_KEYS
        .iter()
        .map(|key| (*key, wait_device(api, key, "listed", |_| Ok(())).id))
        .collect()
}

fn lamp_state(on: bool, brightness: u32) -> Value {
    json!({
        "state": if on { "ON" } else { "OFF" },
        "brightness": brightness,
        "color_temp": 370,
        "color_mode": "color_temp",
        "linkquality": 87
    })
}

/// Waits until `entity.Number` of device `id` has grown by at least `by`
/// (proof that the provider keeps writing); returns the last value.
fn wait_number_grows(api: &Api, id: u64, entity: &str, by: f64) -> f64 {
    let read = |api: &Api| -> Result<f64, String> {
        api.try_get_ok::<Device>(&format!("/api/v1/devices/{id}"))?
            .number(entity, "Number")
            .ok_or_else(|| format!("{entity}.Number missing"))
    };
    let start = wait_for(TIMEOUT, format!("{entity}.Number of device {id}"), || {
        read(api)
    });
    wait_for(
        TIMEOUT,
        format!("{entity}.Number of device {id} to grow by {by} from {start}"),
        || {
            let now = read(api)?;
            if now >= start + by {
                Ok(now)
            } else {
                Err(format!("{entity}.Number = {now}"))
            }
        },
    )
}

/// The provider `name` is still the process `pid`, running, never restarted.
fn assert_same_process(core: &Core, name: &str, pid: u32) {
    let p = core.api().provider(name);
    assert_eq!(
        (p.state.as_str(), p.pid, p.restarts, p.last_exit.as_deref()),
        ("running", Some(pid), 0, None),
        "provider {name} must have kept running as pid {pid}, never restarted: {p:?}"
    );
}

/// The core's log has no protocol violation or decode error.
fn assert_no_violation(core: &Core) {
    for needle in VIOLATIONS {
        let lines = core.log().find_lines(&[needle]);
        assert!(
            lines.is_empty(),
            "the core's log ({}) shows {needle:?}: {lines:#?}",
            core.binary().display()
        );
    }
}

/// How the `compat` test provider reports components it kept from the core.
const WITHHELD: &str = "components the core does not know";

/// The count in the `compat` provider's last "withheld N components" line.
fn last_withheld(core: &Core) -> u64 {
    let lines = core.log().find_lines(&["provider=compat", WITHHELD]);
    let line = lines
        .last()
        .unwrap_or_else(|| panic!("no line with {WITHHELD:?} from provider compat"));
    line.split("withheld ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line}"))
}

/// The `dropped_components` count of provider `name`.
fn dropped(core: &Core, name: &str) -> u64 {
    core.api().provider(name).dropped_components
}

#[test]
fn v1_providers_work_under_todays_core() {
    let broker = z2m_broker();
    let v1_mqtt = release_mqtt(PROTOCOL_V1, "mqtt", &broker);
    let v1_test = release_test_provider(PROTOCOL_V1, "v1test", "good");
    let mut core = Core::start(&providers_toml(&[v1_mqtt, v1_test]));
    let mqtt_pid = core.wait_provider_running("mqtt", TIMEOUT);
    let test_pid = core.wait_provider_running("v1test", TIMEOUT);
    let api = core.api().clone();

    // Devices created and states reported: the counter moves on ...
    let counter = wait_device(&api, "good-1", "has Counter", |d| {
        d.value("Counter", "Number")
            .map(|_| ())
            .ok_or_else(|| "no Counter.Number".to_string())
    });
    assert_eq!(counter.provider, "v1test");
    wait_number_grows(&api, counter.id, "Counter", 10.0);
    // ... and the Zigbee2MQTT devices and their states arrive over MQTT.
    let ids = wait_z2m_devices(&api);
    let lamp = ids[LAMP];
    broker.publish_json("zigbee2mqtt/living_lamp", &lamp_state(true, 254), false);
    broker.publish_json(
        "zigbee2mqtt/bedroom_sensor",
        &json!({"temperature": 21.5, "humidity": 55.2, "pressure": 1012.3, "battery": 97}),
        false,
    );
    wait_device(&api, LAMP, "on at 100 %", |d| {
        d.has("Light", "Switch", &json!(true))?;
        d.has("Light", "Brightness", &json!(100.0))
    });
    wait_device(&api, SENSOR, "21.5 °C", |d| {
        d.has("Temperature", "Temperature", &json!(21.5))
    });

    // A change request reaches the old MQTT provider, which publishes it.
    let mut set_topic = broker.subscribe(&["zigbee2mqtt/living_lamp/set"]);
    core.cli(&[
        "set",
        &lamp.to_string(),
        "Light",
        "Switch=false",
        "Brightness=50",
    ])
    .assert_success();
    let msg = set_topic.wait_message(SHORT, "switching the lamp off at 50 %", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set"
    });
    assert_eq!(msg.json(), json!({"state": "OFF", "brightness": 127}));
    broker.publish_json("zigbee2mqtt/living_lamp", &lamp_state(false, 127), false);
    wait_device(&api, LAMP, "confirmed off at 50 %", |d| {
        d.has("Light", "Switch", &json!(false))?;
        d.has("Light", "Brightness", &json!(50.0))
    });

    // Mixed with a component the v1 provider does not know (Gas, id 51): only
    // the known one reaches it, and the drop is counted.
    let before = dropped(&core, "mqtt");
    let (status, body) = api.set(lamp, "Light", &json!({"Switch": true, "Gas": 2.5}));
    assert_eq!(status, 202, "a mixed change request is accepted: {body}");
    let msg = set_topic.wait_message(SHORT, "switching the lamp on", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set" && m.payload.contains("ON")
    });
    assert_eq!(
        msg.json(),
        json!({"state": "ON"}),
        "only the Switch reaches the v1 MQTT provider"
    );
    assert_eq!(
        dropped(&core, "mqtt"),
        before + 1,
        "dropped_components of mqtt counts the Gas withheld from it"
    );

    // The same through the v1 test provider: its log (in the core's) shows
    // the request it received, without Gas.
    let before = dropped(&core, "v1test");
    core.cli(&[
        "set",
        &counter.id.to_string(),
        "Counter",
        "Number=7",
        "Gas=3.5",
    ])
    .assert_success();
    let line = core.wait_log(
        SHORT,
        &[
            "provider=v1test",
            "change request for device",
            "Number(7.0)",
        ],
    );
    assert!(
        line.contains("[Number(7.0)]"),
        "the v1 test provider received exactly [Number(7.0)]: {line}"
    );
    assert_eq!(dropped(&core, "v1test"), before + 1, "the Gas is counted");

    // Only unknown components: refused, naming the provider.
    for (id, entity, provider) in [(lamp, "Light", "mqtt"), (counter.id, "Counter", "v1test")] {
        let (status, body) = api.set(id, entity, &json!({"Gas": 1.0}));
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            status == 400 && error.contains(provider) && error.contains("does not support"),
            "a change request with only components {provider} does not know is refused \
             with an error naming it; got {status}: {body}"
        );
    }
    let out = core.cli(&["set", &lamp.to_string(), "Light", "ClimateAction=heating"]);
    assert!(
        !out.success() && {
            let text = format!("{}{}", out.stdout, out.stderr);
            text.contains("provider mqtt") && text.contains("does not support")
        },
        "`igloo set` with only an unknown component fails naming the provider: {out:?}"
    );

    // Seconds later: never restarted, no protocol violation, still writing.
    wait_number_grows(&api, counter.id, "Counter", 40.0);
    assert_same_process(&core, "mqtt", mqtt_pid);
    assert_same_process(&core, "v1test", test_pid);
    assert_no_violation(&core);
}

#[test]
fn v1_provider_hello_shows_in_todays_providers_api() {
    let r = release(PROTOCOL_V1);
    let version = release_version(PROTOCOL_V1);
    let v1_test = release_test_provider(PROTOCOL_V1, "v1test", "good");
    let mut core = Core::start(&providers_toml(&[v1_test]));
    core.wait_provider_running("v1test", TIMEOUT);
    let p = core.api().provider("v1test");
    assert_eq!(
        (p.protocol.as_deref(), p.version.as_deref()),
        (Some(r.protocol.as_str()), Some(version.as_str())),
        "the providers API shows the v1 provider's Hello (protocol {}, version {version}): {p:?}",
        r.protocol
    );
    assert_eq!(p.dropped_components, 0);
}

#[test]
fn todays_providers_work_under_v1_core() {
    let r = release(PROTOCOL_V1);
    let old_version = release_version(PROTOCOL_V1);
    let broker = z2m_broker();
    // Discovery out asked for, under a core that cannot share its tree (and
    // whose config has no `tree` key): igloo-mqtt says so and works on.
    let mqtt =
        ProviderSpec::mqtt("mqtt", &broker).table("[provider.config.publish]\nenabled = true");
    let compat = ProviderSpec::test("compat", "compat");
    let mut core = Core::start_release(PROTOCOL_V1, &providers_toml_v1(&[mqtt, compat]));
    let health = core
        .api()
        .health()
        .unwrap_or_else(|e| panic!("old core health: {e}"));
    assert_eq!(
        health["version"],
        json!(old_version),
        "this is the {PROTOCOL_V1} core: {health}"
    );
    let mqtt_pid = core.wait_provider_running("mqtt", TIMEOUT);
    let compat_pid = core.wait_provider_running("compat", TIMEOUT);
    let api = core.api().clone();

    // Today's test provider learnt the old core's limits from its Welcome.
    core.wait_log(
        TIMEOUT,
        &[
            "provider=compat",
            &format!(
                "core {old_version} decodes components up to id {} ",
                r.max_component_id
            ),
            &format!("messages up to id {};", r.max_message_id),
        ],
    );

    core.wait_log(
        TIMEOUT,
        &[
            "provider=mqtt",
            "discovery out disabled",
            &format!("core {old_version} (protocol 1.0)"),
            "needs protocol 1.1",
        ],
    );

    // Its device and states: Number keeps arriving, Gas never does.
    let reading = wait_device(&api, "compat-1", "has Reading", |d| {
        d.value("Reading", "Number")
            .map(|_| ())
            .ok_or_else(|| "no Reading.Number".to_string())
    });
    assert_eq!(
        reading.entity("Reading").attributes.get("writable"),
        Some(&json!("true")),
        "entity attributes: {:?}",
        reading.entity("Reading").attributes
    );
    wait_number_grows(&api, reading.id, "Reading", 40.0);
    let d = api.device(reading.id);
    assert_eq!(
        d.entity("Reading").components.keys().collect::<Vec<_>>(),
        vec!["Number"],
        "only components the old core knows reach it"
    );
    core.wait_log(TIMEOUT, &["provider=compat", WITHHELD]);
    let withheld = last_withheld(&core);
    assert!(withheld > 0, "the provider withheld its Gas");

    // A change request through today's CLI against the old core's API:
    // delivered, and confirmed by the provider's write-back.
    let mut events = core.events();
    core.cli(&["set", &reading.id.to_string(), "Reading", "Number=-5"])
        .assert_success();
    core.wait_log(
        SHORT,
        &[
            "provider=compat",
            "change request for device",
            "[Number(-5.0)]; confirming it",
        ],
    );
    let id = reading.id;
    events.wait_event(SHORT, "the confirmed Reading Number=-5", |ev| {
        is_state(ev, id, Some("Reading")) && ev["components"]["Number"].as_f64() == Some(-5.0)
    });

    // The MQTT provider: devices, states, commands.
    let ids = wait_z2m_devices(&api);
    let lamp = ids[LAMP];
    broker.publish_json("zigbee2mqtt/living_lamp", &lamp_state(false, 20), false);
    wait_device(&api, LAMP, "off", |d| {
        d.has("Light", "Switch", &json!(false))
    });
    let mut set_topic = broker.subscribe(&["zigbee2mqtt/living_lamp/set"]);
    core.cli(&[
        "set",
        &lamp.to_string(),
        "Light",
        "Switch=true",
        "Brightness=50",
    ])
    .assert_success();
    let msg = set_topic.wait_message(SHORT, "switching the lamp on at 50 %", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set"
    });
    assert_eq!(msg.json(), json!({"state": "ON", "brightness": 127}));
    broker.publish_json("zigbee2mqtt/living_lamp", &lamp_state(true, 127), false);
    wait_device(&api, LAMP, "confirmed on at 50 %", |d| {
        d.has("Light", "Switch", &json!(true))?;
        d.has("Light", "Brightness", &json!(50.0))
    });

    // Seconds of Gas-bearing writes later: never restarted, nothing undecodable.
    wait_number_grows(&api, reading.id, "Reading", 40.0);
    let later = last_withheld(&core);
    assert!(
        later > withheld,
        "the provider kept withholding Gas: {withheld} components, then {later}"
    );
    assert_same_process(&core, "mqtt", mqtt_pid);
    assert_same_process(&core, "compat", compat_pid);
    assert_no_violation(&core);
}

#[test]
fn todays_provider_with_another_major_is_refused_by_v1_core() {
    let old_version = release_version(PROTOCOL_V1);
    let spec = ProviderSpec::test("old_major", "old_major").arg("--mode=old_major");
    let core = Core::start_release(PROTOCOL_V1, &providers_toml_v1(&[spec]));
    // The old core's own error line (the provider's report of it comes separately).
    let line = core.wait_log(
        TIMEOUT,
        &[
            "ERROR",
            "provider=old_major",
            "protocol major 99",
            "major 1",
        ],
    );
    assert!(
        line.contains(&format!("core {old_version}")),
        "the old core's refusal names its version {old_version}: {line}"
    );
    // The provider was told why.
    core.wait_log(
        TIMEOUT,
        &[
            "provider=old_major",
            "core refused the Hello: error code 1",
            "protocol major 99",
            "major 1",
        ],
    );
    let api = core.api().clone();
    let p = wait_for(
        TIMEOUT,
        "old_major to be restarted after the refusal",
        || {
            let p = api.try_provider("old_major")?;
            if p.restarts >= 1 && p.last_exit.as_deref().is_some_and(|e| e.contains("99")) {
                Ok(p)
            } else {
                Err(format!("{p:?}"))
            }
        },
    );
    assert_ne!(
        p.state, "running",
        "a refused provider is not running: {p:?}"
    );
    assert_eq!(p.devices, 0);
}

/// (key, id, name, the lamp's `Light` components) of every fixture device.
fn z2m_snapshot(api: &Api) -> Vec<(String, u64, String, Value)> {
    let lamp = wait_device(api, LAMP, "its state from the bridge", |d| {
        d.value("Light", "Switch")
            .map(|_| ())
            .ok_or_else(|| "no Light.Switch yet".to_string())
    });
    let mut all: Vec<_> = wait_z2m_devices(api)
        .into_iter()
        .map(|(key, id)| {
            let d = api.device(id);
            let light = if key == LAMP {
                json!(lamp.entity("Light").components)
            } else {
                Value::Null
            };
            (key.to_string(), id, d.name, light)
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[test]
fn a_rollback_to_the_released_core_keeps_every_device_its_id_and_its_values() {
    let broker = z2m_broker();
    broker.publish_str(
        &format!("zigbee2mqtt/{}", "living_lamp"),
        &lamp_state(true, 180).to_string(),
        true,
    );
    let mqtt = ProviderSpec::mqtt("mqtt", &broker);
    // Today's core on a config the v1 core also reads (the appliance's data
    // partition is shared by both slots; so is its config).
    let settings = igloo_tests::CoreSettings {
        legacy_v1: true,
        ..igloo_tests::CoreSettings::default()
    };
    let mut core = Core::start_with(settings, &providers_toml_v1(&[mqtt]));
    core.wait_provider_running("mqtt", TIMEOUT);
    let written = z2m_snapshot(core.api());
    assert_eq!(written.len(), 3, "{written:?}");
    // The owner's room and name for the lamp (tables the v1 core does not know).
    let lamp_id = written
        .iter()
        .find(|(key, ..)| key == LAMP)
        .map(|(_, id, ..)| *id)
        .expect("the lamp");
    let (status, room) = core
        .api()
        .post("/api/v1/rooms", &json!({"name": "Living room"}))
        .expect("room");
    assert_eq!(status, 201, "{room}");
    let (status, body) = core
        .api()
        .send_json(
            "PATCH",
            &format!("/api/v1/devices/{lamp_id}"),
            &json!({"name": "Reading lamp", "room": room["id"]}),
        )
        .expect("rename");
    assert_eq!(status, 200, "{body}");
    // The broker forgets the lamp's state: what the older core shows next
    // comes from the store today's core wrote, not from a retained message.
    broker.publish_str("zigbee2mqtt/living_lamp", "", true);

    core.restart_as(Some(igloo_tests::compat::release_bin(PROTOCOL_V1, "igloo")));
    let health = wait_for(TIMEOUT, "the v1 core's API", || core.api().health());
    assert_eq!(
        health["version"],
        json!(release_version(PROTOCOL_V1)),
        "{health}"
    );
    let after_rollback = z2m_snapshot(core.api());
    assert_eq!(
        after_rollback, written,
        "the v1 core reads what today's core stored (with the provider's names)"
    );

    core.restart_as(None);
    let health = wait_for(TIMEOUT, "today's core's API", || core.api().health());
    assert_eq!(
        health["version"],
        json!(env!("CARGO_PKG_VERSION")),
        "{health}"
    );
    let mut back = z2m_snapshot(core.api());
    let lamp = core.api().device(lamp_id);
    assert_eq!(
        (lamp.name.as_str(), lamp.room),
        ("Reading lamp", room["id"].as_u64()),
        "the owner's name and room survive the rollback and the update after it"
    );
    // Otherwise what the v1 core rewrote, with the provider's name under the owner's.
    for d in &mut back {
        if d.1 == lamp_id {
            d.2 = lamp.provider_name.clone().unwrap_or_default();
        }
    }
    assert_eq!(back, written, "today's core reads what the v1 core rewrote");
}
