//! The MQTT provider end to end: a real Mosquitto playing host to a simulated
//! Zigbee2MQTT bridge (the test publishes what the bridge would), the real
//! `igloo` core and the real `igloo-mqtt` provider.
//!
//! Mapping under test (Zigbee2MQTT exposes → Igloo): device key = IEEE
//! address, name = friendly name; a `light` expose → entity "Light" with
//! Light (marker), Switch, Brightness (% of 0-254) and ColorTemperature
//! (mired); every other expose → one entity named by its label, e.g.
//! "Temperature" (°C), "Humidity" (%), "Pressure" (hPa), "Contact" (bool).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use igloo_tests::events::{is_availability, is_state};
use igloo_tests::{
    Api, Core, Device, LONG, Mosquitto, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

const BRIDGE_DEVICES: &str = include_str!("../fixtures/bridge_devices.json");

const LAMP: &str = "0x000d6ffffe8a4c21";
const SENSOR: &str = "0x00158d0001a2b3c4";
const DOOR: &str = "0x00158d0002c4d5e6";
const KEYS: [&str; 3] = [LAMP, SENSOR, DOOR];

/// A broker with the bridge's retained messages, a core and its MQTT provider.
/// Fields drop in order: the core (and its provider) before the broker.
struct Z2m {
    core: Core,
    broker: Mosquitto,
}

impl Z2m {
    /// Publishes the bridge's retained device list and availability, starts the
    /// core with provider `mqtt` (back-off `initial_ms` doubling to `max_ms`)
    /// and waits for the three devices.
    fn start_with_backoff(initial_ms: u64, max_ms: u64) -> Z2m {
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
        let spec = ProviderSpec::mqtt("mqtt", &broker).backoff(initial_ms, max_ms);
        let core = Core::start(&providers_toml(&[spec]));
        let z = Z2m { core, broker };
        z.wait_devices();
        z
    }

    fn start() -> Z2m {
        Z2m::start_with_backoff(200, 2_000)
    }

    fn api(&self) -> &Api {
        self.core.api()
    }

    /// Waits until the three fixture devices are listed; returns key → id.
    fn wait_devices(&self) -> BTreeMap<String, u64> {
        self.api().wait_device_ids(&KEYS)
    }

    /// Publishes a device state as the bridge does (not retained).
    fn state(&self, friendly_name: &str, payload: Value) {
        self.broker
            .publish_json(&format!("zigbee2mqtt/{friendly_name}"), &payload, false);
    }

    /// Waits until device `key` satisfies `check` (which describes what it saw on failure).
    fn wait_device(
        &self,
        key: &str,
        what: &str,
        check: impl Fn(&Device) -> Result<(), String>,
    ) -> Device {
        let api = self.api().clone();
        wait_for(SHORT, format!("device {key}: {what}"), || {
            let d = api
                .try_devices()?
                .into_iter()
                .find(|d| d.key == key)
                .ok_or_else(|| format!("no device with key {key}"))?;
            check(&d).map_err(|e| format!("{e}; device: {}", show(&d)))?;
            Ok(d)
        })
    }
}

fn show(d: &Device) -> String {
    format!(
        "#{} {} (key {}, provider {}, available {}) entities {}",
        d.id,
        d.name,
        d.key,
        d.provider,
        d.available,
        serde_json::to_string(
            &d.entities
                .iter()
                .map(|(n, e)| (n, json!({"components": e.components, "units": e.units})))
                .collect::<BTreeMap<_, _>>()
        )
        .unwrap_or_default()
    )
}

fn all(checks: &[Result<(), String>]) -> Result<(), String> {
    let errors: Vec<&String> = checks.iter().filter_map(|c| c.as_ref().err()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{errors:?}"))
    }
}

fn assert_unit(d: &Device, entity: &str, component: &str, unit: &str) {
    let e = d.entity(entity);
    assert_eq!(
        e.unit(component),
        Some(unit),
        "unit of {entity}.{component} on {}: expected {unit:?}; units listed: {:?}",
        d.name,
        e.units
    );
}

fn lamp_state(on: bool, brightness: u32, color_temp: u32) -> Value {
    json!({
        "state": if on { "ON" } else { "OFF" },
        "brightness": brightness,
        "color_temp": color_temp,
        "color_mode": "color_temp",
        "linkquality": 87,
        "update": {"state": "idle"}
    })
}

#[test]
fn zigbee2mqtt_devices_appear_with_entities_and_units() {
    let z = Z2m::start();

    // Entities come from the exposes, before any state message.
    let lamp = z.wait_device(LAMP, "has entity Light", |d| {
        d.entities
            .contains_key("Light")
            .then_some(())
            .ok_or_else(|| "no entity Light".to_string())
    });
    assert_eq!(lamp.provider, "mqtt");
    assert_eq!(lamp.name, "living_lamp", "device name = friendly_name");
    assert_eq!(
        lamp.attributes.get("model"),
        Some(&json!("LED1545G12")),
        "model attribute of the lamp; attributes: {:?}",
        lamp.attributes
    );
    let sensor = z.wait_device(SENSOR, "has Temperature, Humidity, Pressure", |d| {
        let missing: Vec<&str> = ["Temperature", "Humidity", "Pressure", "Battery"]
            .into_iter()
            .filter(|e| !d.entities.contains_key(*e))
            .collect();
        missing
            .is_empty()
            .then_some(())
            .ok_or_else(|| format!("missing entities {missing:?}"))
    });
    assert_eq!(sensor.name, "bedroom_sensor");
    assert_eq!(sensor.attributes.get("model"), Some(&json!("WSDCGQ11LM")));
    let door = z.wait_device(DOOR, "has entity Contact", |d| {
        d.entities
            .contains_key("Contact")
            .then_some(())
            .ok_or_else(|| "no entity Contact".to_string())
    });
    assert_eq!(door.name, "front_door");
    assert_eq!(door.attributes.get("model"), Some(&json!("MCCGQ11LM")));

    // Retained availability said online.
    for key in KEYS {
        z.wait_device(key, "available", |d| {
            d.available
                .then_some(())
                .ok_or_else(|| "not available".to_string())
        });
    }

    // The bridge reports states; components and units appear.
    z.state("living_lamp", lamp_state(true, 254, 370));
    z.state(
        "bedroom_sensor",
        json!({"battery": 97, "humidity": 55.2, "linkquality": 120, "pressure": 1012.3, "temperature": 21.5, "voltage": 3005}),
    );
    z.state(
        "front_door",
        json!({"battery": 91, "contact": true, "device_temperature": 22, "linkquality": 102, "power_outage_count": 4, "voltage": 3015}),
    );

    let lamp = z.wait_device(LAMP, "light state applied", |d| {
        all(&[
            d.has("Light", "Light", &json!(true)),
            d.has("Light", "Switch", &json!(true)),
            d.has("Light", "Brightness", &json!(100.0)),
            d.has("Light", "ColorTemperature", &json!(370)),
        ])
    });
    assert_unit(&lamp, "Light", "Brightness", "%");
    assert_unit(&lamp, "Light", "ColorTemperature", "mired");
    assert!(
        lamp.value("Light", "ColorTemperature")
            .is_some_and(|v| v.is_i64() || v.is_u64()),
        "ColorTemperature is an int component, got {:?}",
        lamp.value("Light", "ColorTemperature")
    );

    let sensor = z.wait_device(SENSOR, "sensor state applied", |d| {
        all(&[
            d.has("Temperature", "Temperature", &json!(21.5)),
            d.has("Humidity", "Humidity", &json!(55.2)),
            d.has("Pressure", "Pressure", &json!(1012.3)),
            d.has("Battery", "Battery", &json!(97)),
        ])
    });
    assert_unit(&sensor, "Temperature", "Temperature", "°C");
    assert_unit(&sensor, "Humidity", "Humidity", "%");
    assert_unit(&sensor, "Pressure", "Pressure", "hPa");
    assert_unit(&sensor, "Battery", "Battery", "%");

    let door = z.wait_device(DOOR, "contact state applied", |d| {
        d.has("Contact", "Contact", &json!(true))
    });
    assert_eq!(
        door.entity("Contact").unit("Contact"),
        None,
        "Contact is a bool without a unit"
    );

    // The per-device endpoint agrees with the list.
    let one = z.api().device(lamp.id);
    assert_eq!(one.key, LAMP);
    assert_eq!(
        one.entity("Light").components,
        lamp.entity("Light").components
    );
}

#[test]
fn state_messages_update_values() {
    let z = Z2m::start();
    let ids = z.wait_devices();
    z.state(
        "bedroom_sensor",
        json!({"temperature": 21.5, "humidity": 55.2, "pressure": 1012.3, "battery": 97, "linkquality": 120}),
    );
    z.wait_device(SENSOR, "first state", |d| {
        d.has("Temperature", "Temperature", &json!(21.5))
    });

    let mut events = z.core.events();
    z.state(
        "bedroom_sensor",
        json!({"temperature": 19.25, "humidity": 61.0, "pressure": 1003.9, "battery": 96, "linkquality": 110}),
    );
    z.wait_device(SENSOR, "second state", |d| {
        all(&[
            d.has("Temperature", "Temperature", &json!(19.25)),
            d.has("Humidity", "Humidity", &json!(61.0)),
            d.has("Pressure", "Pressure", &json!(1003.9)),
        ])
    });
    let sensor = ids[SENSOR];
    let ev = events.wait_event(SHORT, "state Temperature=19.25 of the sensor", |ev| {
        is_state(ev, sensor, Some("Temperature"))
            && ev["components"]["Temperature"].as_f64() == Some(19.25)
    });
    assert_eq!(ev["entity"], "Temperature");

    // A contact sensor opening: contact false.
    z.state("front_door", json!({"contact": false, "battery": 91}));
    z.wait_device(DOOR, "door open", |d| {
        d.has("Contact", "Contact", &json!(false))
    });
    let door = ids[DOOR];
    events.wait_event(SHORT, "state Contact=false of the door", |ev| {
        is_state(ev, door, Some("Contact")) && ev["components"]["Contact"] == json!(false)
    });
}

#[test]
fn cli_set_publishes_z2m_json_and_confirmed_state_returns() {
    let z = Z2m::start();
    let lamp = z.wait_devices()[LAMP];
    z.state("living_lamp", lamp_state(false, 20, 370));
    z.wait_device(LAMP, "initially off", |d| {
        d.has("Light", "Switch", &json!(false))
    });

    let mut set_topic = z.broker.subscribe(&["zigbee2mqtt/living_lamp/set"]);
    let mut events = z.core.events();
    let out = z.core.cli(&[
        "set",
        &lamp.to_string(),
        "Light",
        "Switch=true",
        "Brightness=50",
    ]);
    out.assert_success();

    let msg = set_topic.wait_message(SHORT, "the set command", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set"
    });
    assert_eq!(
        msg.json(),
        json!({"state": "ON", "brightness": 127}),
        "JSON published on zigbee2mqtt/living_lamp/set (raw payload {:?})",
        msg.payload
    );

    // Confirmed, not optimistic: nothing changes until the bridge reports.
    let early = events.collect_for(Duration::from_millis(300));
    assert!(
        !early.iter().any(
            |ev| is_state(ev, lamp, Some("Light")) && ev["components"]["Switch"] == json!(true)
        ),
        "the core reported Switch=true before the bridge confirmed it: {early:?}"
    );
    let before = z.api().device(lamp);
    assert_eq!(
        before.value("Light", "Switch"),
        Some(&json!(false)),
        "the API changed before the bridge confirmed: {}",
        show(&before)
    );

    // The bridge confirms.
    z.state("living_lamp", lamp_state(true, 127, 370));
    z.wait_device(LAMP, "confirmed on at 50 %", |d| {
        all(&[
            d.has("Light", "Switch", &json!(true)),
            d.has("Light", "Brightness", &json!(50.0)),
        ])
    });
    events.wait_event(SHORT, "state Switch=true Brightness=50 of the lamp", |ev| {
        is_state(ev, lamp, Some("Light"))
            && ev["components"]["Switch"] == json!(true)
            && ev["components"]["Brightness"]
                .as_f64()
                .is_some_and(|b| (b - 50.0).abs() < 0.01)
    });

    // The CLI sees it too.
    let listed = z.core.cli(&["devices", "--json"]);
    listed.assert_success();
    let all = listed.json();
    let entry = all
        .as_array()
        .and_then(|a| a.iter().find(|d| d["key"] == LAMP))
        .unwrap_or_else(|| panic!("`igloo devices --json` does not list {LAMP}: {all}"));
    assert_eq!(
        entry["entities"]["Light"]["components"]["Switch"],
        json!(true),
        "{entry}"
    );
}

/// Kills the provider with SIGKILL and returns (new pid, time until it ran again).
fn kill_provider_and_wait_restart(z: &mut Z2m, restarts_before: u64) -> (u32, Duration) {
    let old = z.api().provider("mqtt");
    let pid = old
        .pid
        .unwrap_or_else(|| panic!("provider mqtt has no pid: {old:?}"));
    let raw = i32::try_from(pid).unwrap_or_else(|_| panic!("pid {pid} out of range"));
    kill(Pid::from_raw(raw), Signal::SIGKILL)
        .unwrap_or_else(|e| panic!("cannot SIGKILL provider pid {pid}: {e}"));
    let killed = Instant::now();
    let api = z.api().clone();
    let new_pid = wait_for(
        TIMEOUT,
        "provider mqtt running again with a new pid",
        || {
            let p = api.try_provider("mqtt")?;
            match p.pid {
                Some(new) if new != pid && p.state == "running" => Ok(new),
                _ => Err(format!("{p:?}")),
            }
        },
    );
    let delay = killed.elapsed();
    let p = z.api().provider("mqtt");
    assert_eq!(
        p.restarts,
        restarts_before + 1,
        "restarts after one SIGKILL: {p:?}"
    );
    let last_exit = p.last_exit.clone().unwrap_or_default();
    assert!(
        last_exit.contains("SIGKILL") || last_exit.contains("signal 9"),
        "last_exit should name the SIGKILL, got {last_exit:?}"
    );
    (new_pid, delay)
}

#[test]
fn provider_sigkill_restarts_with_backoff_and_keeps_ids() {
    const INITIAL_MS: u64 = 400;
    let mut z = Z2m::start_with_backoff(INITIAL_MS, 5_000);
    let ids = z.wait_devices();
    for key in KEYS {
        z.wait_device(key, "available", |d| {
            d.available.then_some(()).ok_or("not available".into())
        });
    }
    z.core.wait_provider_running("mqtt", TIMEOUT);
    let mut events = z.core.events();

    // The API keeps answering while the provider is down.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let polls = Arc::new(AtomicUsize::new(0));
    let poller = {
        let (api, stop, failures, polls) = (
            z.api().clone(),
            stop.clone(),
            failures.clone(),
            polls.clone(),
        );
        std::thread::spawn(move || {
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) {
                polls.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = api.health().and_then(|_| api.try_devices()) {
                    failures.fetch_add(1, Ordering::Relaxed);
                    first_error.get_or_insert(e);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            first_error
        })
    };

    let (_, delay1) = kill_provider_and_wait_restart(&mut z, 0);
    for (key, id) in &ids {
        events.wait_event(SHORT, &format!("{key} (#{id}) unavailable"), |ev| {
            is_availability(ev, *id, false)
        });
    }
    for (key, id) in &ids {
        events.wait_event(TIMEOUT, &format!("{key} (#{id}) available again"), |ev| {
            is_availability(ev, *id, true)
        });
    }
    assert_eq!(
        z.api().wait_device_ids(&KEYS),
        ids,
        "device ids after the provider restart"
    );

    // Back-off grows: a second crash waits about twice as long (jitter allowed).
    let (_, delay2) = kill_provider_and_wait_restart(&mut z, 1);
    stop.store(true, Ordering::Relaxed);
    let first_error = poller
        .join()
        .unwrap_or_else(|_| panic!("API poller panicked"));
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "the API failed {} of {} polls while the provider was down; first: {first_error:?}",
        failures.load(Ordering::Relaxed),
        polls.load(Ordering::Relaxed)
    );
    let min1 = Duration::from_millis(INITIAL_MS / 2);
    assert!(
        delay1 >= min1,
        "first restart after {delay1:?}: expected a back-off of about {INITIAL_MS} ms (at least {min1:?})"
    );
    let min2 = Duration::from_millis(INITIAL_MS);
    assert!(
        delay2 >= min2,
        "second restart after {delay2:?}: expected the back-off to double to about {} ms (at least {min2:?}); first took {delay1:?}",
        INITIAL_MS * 2
    );

    for key in KEYS {
        z.wait_device(key, "available after the second restart", |d| {
            d.available.then_some(()).ok_or("not available".into())
        });
    }
    assert_eq!(
        z.api().wait_device_ids(&KEYS),
        ids,
        "device ids after two restarts"
    );
    // And it works: a new state arrives through the new process.
    z.state("bedroom_sensor", json!({"temperature": 24.75}));
    z.wait_device(SENSOR, "state after restart", |d| {
        d.has("Temperature", "Temperature", &json!(24.75))
    });
}

#[test]
fn broker_restart_resubscribes() {
    let mut z = Z2m::start();
    let ids = z.wait_devices();
    let pid = z.core.wait_provider_running("mqtt", TIMEOUT);
    z.state("bedroom_sensor", json!({"temperature": 21.0}));
    z.wait_device(SENSOR, "state before the broker restart", |d| {
        d.has("Temperature", "Temperature", &json!(21.0))
    });

    z.broker.restart();

    // We cannot see when the provider has re-subscribed, so the bridge
    // repeats its report until it arrives (a lost subscription never lets it).
    let api = z.api().clone();
    let broker = &z.broker;
    let mut last_publish: Option<Instant> = None;
    wait_for(
        LONG,
        "a state published after the broker restart to arrive",
        || {
            if last_publish.is_none_or(|t| t.elapsed() > Duration::from_millis(500)) {
                broker.publish_json(
                    "zigbee2mqtt/bedroom_sensor",
                    &json!({"temperature": 23.4}),
                    false,
                );
                last_publish = Some(Instant::now());
            }
            let d = api
                .try_devices()?
                .into_iter()
                .find(|d| d.key == SENSOR)
                .ok_or("sensor not listed")?;
            d.has("Temperature", "Temperature", &json!(23.4))
        },
    );
    // Every subscription is back, not just one: another device's topic.
    z.state("front_door", json!({"contact": false}));
    z.wait_device(DOOR, "door state after the broker restart", |d| {
        d.has("Contact", "Contact", &json!(false))
    });
    let p = z.api().provider("mqtt");
    assert_eq!(
        p.pid,
        Some(pid),
        "the provider reconnects by itself; it was not restarted: {p:?}"
    );
    assert_eq!(z.api().wait_device_ids(&KEYS), ids);
}

#[test]
fn core_restart_keeps_device_ids() {
    let mut z = Z2m::start();
    let ids = z.wait_devices();
    z.core.restart();
    let after = z.api().wait_device_ids(&KEYS);
    assert_eq!(
        after, ids,
        "device ids after SIGTERM and restart of the core"
    );
    z.core.wait_provider_running("mqtt", TIMEOUT);
    republish_until_seen(&z, 18.5);
    assert_eq!(z.api().wait_device_ids(&KEYS), ids);
}

/// Publishes the sensor's temperature as the bridge does until the tree has
/// it. `running` is the handshake, not yet the provider's MQTT subscription:
/// a state published before it subscribed would be lost (it is not
/// retained), so the bridge's message is sent again until it arrives.
fn republish_until_seen(z: &Z2m, temperature: f64) {
    let api = z.api().clone();
    wait_for(TIMEOUT, "the state after the core restart", || {
        z.state("bedroom_sensor", json!({"temperature": temperature}));
        api.device_by_key(SENSOR)
            .ok_or_else(|| format!("device {SENSOR} not listed"))?
            .has("Temperature", "Temperature", &json!(temperature))
    });
}

#[test]
fn core_sigkill_restart_keeps_device_ids() {
    let mut z = Z2m::start();
    let ids = z.wait_devices();
    let provider_pid = z.core.wait_provider_running("mqtt", TIMEOUT);
    z.core.kill();
    // The provider dies with the core (PR_SET_PDEATHSIG).
    wait_for(SHORT, "the provider to die with the core", || {
        match std::fs::read_to_string(format!("/proc/{provider_pid}/stat")) {
            // A zombie waiting for its reaper is dead too.
            Ok(stat) if !stat.contains(") Z ") => {
                Err(format!("provider pid {provider_pid} still runs"))
            }
            _ => Ok(()),
        }
    });
    z.core.start_again();
    let after = z.api().wait_device_ids(&KEYS);
    assert_eq!(
        after, ids,
        "device ids after SIGKILL and restart of the core"
    );
    z.core.wait_provider_running("mqtt", TIMEOUT);
    republish_until_seen(&z, 17.0);
}

#[test]
fn malformed_mqtt_payloads_are_skipped() {
    let mut z = Z2m::start();
    let ids = z.wait_devices();
    let pid = z.core.wait_provider_running("mqtt", TIMEOUT);
    z.state("bedroom_sensor", json!({"temperature": 21.5}));
    z.wait_device(SENSOR, "first state", |d| {
        d.has("Temperature", "Temperature", &json!(21.5))
    });

    let b = &z.broker;
    b.publish_str(
        "zigbee2mqtt/bridge/devices",
        r#"[{"ieee_address": "0x1", "definition": "#,
        false,
    );
    b.publish_str("zigbee2mqtt/bridge/devices", r#"{"not": "a list"}"#, false);
    b.publish_str("zigbee2mqtt/bedroom_sensor", "not json at all", false);
    b.publish_str(
        "zigbee2mqtt/bedroom_sensor",
        r#"{"temperature": "warm"}"#,
        false,
    );
    b.publish_str("zigbee2mqtt/bedroom_sensor", "[1, 2, 3]", false);
    b.publish_str("zigbee2mqtt/bedroom_sensor", "", false);
    b.publish(
        "zigbee2mqtt/bedroom_sensor",
        &[0xff, 0xfe, 0x00, 0x7b],
        false,
    );
    b.publish_str(
        "zigbee2mqtt/living_lamp",
        r#"{"state": 42, "brightness": "max"}"#,
        false,
    );

    // A good message after the bad ones applies.
    z.state(
        "bedroom_sensor",
        json!({"temperature": 19.5, "humidity": 40.0}),
    );
    z.wait_device(SENSOR, "the good state after the bad ones", |d| {
        all(&[
            d.has("Temperature", "Temperature", &json!(19.5)),
            d.has("Humidity", "Humidity", &json!(40.0)),
        ])
    });

    let p = z.api().provider("mqtt");
    assert_eq!(
        (p.pid, p.restarts, p.state.as_str()),
        (Some(pid), 0, "running"),
        "the provider kept running through malformed payloads: {p:?}"
    );
    // The device list survived a malformed bridge/devices.
    assert_eq!(z.api().wait_device_ids(&KEYS), ids);
    for key in KEYS {
        let d = z.api().device(ids[key]);
        assert!(d.available, "{key} still available: {}", show(&d));
    }
    // The malformed payloads were logged, naming the provider and the topic.
    z.core
        .wait_log(SHORT, &["provider=mqtt", "zigbee2mqtt/bedroom_sensor"]);
    z.core
        .wait_log(SHORT, &["provider=mqtt", "zigbee2mqtt/bridge/devices"]);
}

#[test]
fn api_set_refuses_unknown_targets_and_wrong_values() {
    let z = Z2m::start();
    let lamp = z.wait_devices()[LAMP];
    let api = z.api();
    let cases = [
        (
            999_999,
            "Light",
            json!({"Switch": true}),
            404,
            "unknown device",
        ),
        (lamp, "Nope", json!({"Switch": true}), 404, "unknown entity"),
        (lamp, "Light", json!({"Warp": 9}), 400, "unknown component"),
        (
            lamp,
            "Light",
            json!({"Switch": "yes"}),
            400,
            "wrong value kind",
        ),
    ];
    for (id, entity, body, want, what) in cases {
        let (status, reply) = api.set(id, entity, &body);
        assert_eq!(
            status, want,
            "{what}: POST /api/v1/devices/{id}/entities/{entity} {body} answered {status} {reply}"
        );
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: an error body {{\"error\": …}} is expected, got {reply}"
        );
    }
    // A valid request is accepted as a request.
    let (status, reply) = api.set(lamp, "Light", &json!({"Switch": false}));
    assert_eq!((status, reply), (202, json!({"status": "sent"})));
}
