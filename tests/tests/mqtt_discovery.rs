//! Home Assistant MQTT discovery in, end to end: a real Mosquitto holding the
//! retained discovery configs real projects publish (Tasmota, ESPHome, a
//! Shelly Gen1 roller, Zigbee2MQTT's `homeassistant` output; fixtures in
//! `tests/fixtures/discovery/`, written from their documentation), the real
//! `igloo` core and the real `igloo-mqtt` provider. The test plays the
//! devices: it publishes their states and reads their command topics.
//!
//! The provider's own Zigbee2MQTT bridge runs on another base topic
//! (`zigbee2mqtt-native`), so the `zigbee2mqtt/…` topics here are read only
//! through discovery.

use std::collections::BTreeMap;
use std::time::Duration;

use igloo_tests::events::is_state;
use igloo_tests::{
    Api, Core, Device, Mosquitto, ProviderSpec, SHORT, TIMEOUT, providers_toml, wait_for,
};
use serde_json::{Value, json};

const FIXTURES: [&str; 4] = [
    include_str!("../fixtures/discovery/tasmota.json"),
    include_str!("../fixtures/discovery/esphome.json"),
    include_str!("../fixtures/discovery/shelly.json"),
    include_str!("../fixtures/discovery/zigbee2mqtt.json"),
];

const PLUG: &str = "ha:5CCF7F";
const NODE: &str = "ha:a0b7651c2f10";
const SHELLY: &str = "ha:8CAAB5";
const DOOR: &str = "ha:zigbee2mqtt_0x00158d0002c4d5e6";
const LAMP: &str = "ha:zigbee2mqtt_0x000d6ffffe8a4c21";
const REMOTE: &str = "ha:zigbee2mqtt_0x0017880104e45517";
const DESK: &str = "ha:5C2D1F";
const KEYS: [&str; 7] = [PLUG, NODE, SHELLY, DOOR, LAMP, REMOTE, DESK];

/// Fields drop in order: the core (and its provider) before the broker.
struct Setup {
    core: Core,
    broker: Mosquitto,
}

/// Every fixture config, as `(topic, payload)`.
fn configs() -> Vec<(String, String)> {
    FIXTURES
        .iter()
        .flat_map(|text| {
            let map: BTreeMap<String, Value> = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("fixture is not a JSON object of configs: {e}"));
            map.into_iter().map(|(t, v)| (t, v.to_string()))
        })
        .collect()
}

impl Setup {
    /// Retained configs and availability on the broker, then the core; waits for the devices.
    fn start() -> Setup {
        let broker = Mosquitto::start();
        for (topic, payload) in configs() {
            broker.publish_str(&topic, &payload, true);
        }
        for (topic, payload) in [
            ("tele/kitchen_plug/LWT", "Online"),
            ("desk_light/tele/LWT", "Online"),
            ("livingroom/status", "online"),
            ("shellies/shellyswitch25-8CAAB5/online", "true"),
            ("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#),
            (
                "zigbee2mqtt/front_door/availability",
                r#"{"state":"online"}"#,
            ),
            (
                "zigbee2mqtt/living_lamp/availability",
                r#"{"state":"online"}"#,
            ),
        ] {
            broker.publish_str(topic, payload, true);
        }
        let spec = ProviderSpec::mqtt("mqtt", &broker).config("base_topic", "zigbee2mqtt-native");
        let core = Core::start(&providers_toml(&[spec]));
        let s = Setup { core, broker };
        s.wait_keys(&KEYS);
        s
    }

    fn api(&self) -> &Api {
        self.core.api()
    }

    fn wait_keys(&self, keys: &[&str]) -> BTreeMap<String, u64> {
        self.api().wait_device_ids(keys)
    }

    /// Waits until device `key` passes `check`.
    fn wait_device(
        &self,
        key: &str,
        what: &str,
        check: impl Fn(&Device) -> Result<(), String>,
    ) -> Device {
        let api = self.api().clone();
        wait_for(SHORT, format!("{key}: {what}"), || {
            let d = api
                .device_by_key(key)
                .ok_or_else(|| format!("{key} not listed"))?;
            check(&d).map_err(|e| format!("{e}; entities: {:?}", d.entities))?;
            Ok(d)
        })
    }

    /// A device publishing (not retained), until the tree shows `check`
    /// (the provider subscribes to state topics just after the configs arrive).
    fn report_until(
        &self,
        topic: &str,
        payload: &str,
        key: &str,
        check: impl Fn(&Device) -> Result<(), String>,
    ) -> Device {
        let api = self.api().clone();
        wait_for(TIMEOUT, format!("{key} after {topic} = {payload}"), || {
            self.broker.publish_str(topic, payload, false);
            std::thread::sleep(Duration::from_millis(100));
            let d = api
                .device_by_key(key)
                .ok_or_else(|| format!("{key} not listed"))?;
            check(&d).map_err(|e| format!("{e}; entities: {:?}", d.entities))?;
            Ok(d)
        })
    }

    fn discovery_status(&self) -> Value {
        let (code, body) = self.api().command("mqtt", "mqtt.status", &json!({}));
        assert_eq!(code, 200, "mqtt.status: {body}");
        let text = body["body"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| body["body"].to_string());
        let status: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("status {text}: {e}"));
        status["discovery"].clone()
    }
}

fn all(checks: &[Result<(), String>]) -> Result<(), String> {
    let errors: Vec<&String> = checks.iter().filter_map(|c| c.as_ref().err()).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{errors:?}"))
    }
}

fn has_entity(d: &Device, name: &str) -> Result<(), String> {
    d.entities
        .contains_key(name)
        .then_some(())
        .ok_or_else(|| format!("no entity {name:?}"))
}

#[test]
fn discovered_devices_appear_with_components_units_and_state() {
    let s = Setup::start();

    let plug = s.wait_device(PLUG, "entities", |d| {
        all(&[
            has_entity(d, "Kitchen Plug"),
            has_entity(d, "Kitchen Plug ENERGY Power"),
            has_entity(d, "status"),
        ])
    });
    assert_eq!(plug.provider, "mqtt");
    assert_eq!(
        plug.name, "Kitchen Plug",
        "device name from the config that has one"
    );
    assert_eq!(plug.attributes.get("manufacturer"), Some(&json!("Tasmota")));
    assert_eq!(
        plug.entity("Kitchen Plug").attributes.get("writable"),
        Some(&json!("Switch"))
    );
    let node = s.wait_device(NODE, "entities", |d| {
        all(&[
            has_entity(d, "Temperature"),
            has_entity(d, "Ceiling"),
            has_entity(d, "Relay"),
        ])
    });
    assert_eq!(node.name, "livingroom");
    assert_eq!(node.entity("Ceiling").component("Light"), &json!(true));
    let lamp = s.wait_device(LAMP, "entity Light", |d| has_entity(d, "Light"));
    assert_eq!(lamp.name, "living_lamp");
    assert_eq!(
        lamp.entity("Light").attributes.get("min_mireds"),
        Some(&json!("250"))
    );
    let door = s.wait_device(DOOR, "door entities", |d| {
        all(&[has_entity(d, "Door"), has_entity(d, "Battery")])
    });
    assert_eq!(
        door.entity("Battery").attributes.get("category"),
        Some(&json!("diagnostic"))
    );
    s.wait_device(SHELLY, "cover", |d| has_entity(d, "Shutter"));
    s.wait_device(REMOTE, "one Action entity for both triggers", |d| {
        if d.entities.len() == 1 {
            has_entity(d, "Action")
        } else {
            Err(format!("{} entities", d.entities.len()))
        }
    });
    for key in KEYS.iter().filter(|k| **k != REMOTE) {
        s.wait_device(key, "available", |d| {
            d.available.then_some(()).ok_or("unavailable".into())
        });
    }

    // States through each project's payload shape and template.
    let plug = s.report_until(
        "tele/kitchen_plug/SENSOR",
        r#"{"Time":"2026-12-05T23:40:00","ENERGY":{"Total":12.5,"Power":42,"Voltage":231}}"#,
        PLUG,
        |d| {
            all(&[
                d.has("Kitchen Plug ENERGY Power", "Power", &json!(42.0)),
                d.has("Kitchen Plug ENERGY Voltage", "Voltage", &json!(231.0)),
            ])
        },
    );
    assert_eq!(
        plug.entity("Kitchen Plug ENERGY Power").unit("Power"),
        Some("W")
    );
    assert_eq!(
        plug.entity("Kitchen Plug ENERGY Voltage").unit("Voltage"),
        Some("V")
    );
    s.report_until(
        "tele/kitchen_plug/STATE",
        r#"{"POWER":"ON","Wifi":{"RSSI":70}}"#,
        PLUG,
        |d| d.has("Kitchen Plug", "Switch", &json!(true)),
    );
    let status = s.report_until(
        "tele/kitchen_plug/HASS_STATE",
        r#"{"Version":"13.2.0","RSSI":"68"}"#,
        PLUG,
        |d| d.has("status", "Number", &json!(68.0)),
    );
    assert_eq!(
        status.entity("status").attributes.get("unit"),
        Some(&json!("%")),
        "an unknown quantity keeps its unit"
    );
    let node = s.report_until("livingroom/sensor/temperature/state", "21.4", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(21.4))
    });
    assert_eq!(node.entity("Temperature").unit("Temperature"), Some("°C"));
    s.report_until(
        "livingroom/light/ceiling/state",
        r#"{"state":"ON","color_mode":"rgb","brightness":255,"color":{"r":255,"g":128,"b":0},"effect":"Rainbow"}"#,
        NODE,
        |d| {
            all(&[
                d.has("Ceiling", "Switch", &json!(true)),
                d.has("Ceiling", "Brightness", &json!(100.0)),
                d.has("Ceiling", "Color", &json!("#ff8000"))
                    .or_else(|_| d.has("Ceiling", "Color", &json!({"r":255,"g":128,"b":0}))),
                d.has("Ceiling", "Effect", &json!("Rainbow")),
            ])
        },
    );
    // Tasmota's light: one STATE carries power, dimmer, colour (its
    // template splits "R,G,B,CW,WW") and the Scheme, its effects.
    s.report_until(
        "desk_light/tele/STATE",
        r#"{"POWER":"ON","Dimmer":40,"Color":"255,128,0,0,0","Scheme":2}"#,
        DESK,
        |d| {
            all(&[
                d.has("Desk Light", "Switch", &json!(true)),
                d.has("Desk Light", "Brightness", &json!(40.0)),
                d.has("Desk Light", "Color", &json!("#ff8000")),
                d.has("Desk Light", "Effect", &json!("2")),
            ])
        },
    );
    s.report_until(
        "shellies/shellyswitch25-8CAAB5/roller/0/pos",
        "40",
        SHELLY,
        |d| d.has("Shutter", "CoverPosition", &json!(40.0)),
    );
    s.report_until(
        "shellies/shellyswitch25-8CAAB5/roller/0",
        "close",
        SHELLY,
        |d| d.has("Shutter", "CoverState", &json!("Closed")),
    );
    s.report_until(
        "zigbee2mqtt/front_door",
        r#"{"battery":91,"contact":false,"linkquality":102}"#,
        DOOR,
        |d| {
            all(&[
                d.has("Door", "Contact", &json!(false)),
                d.has("Battery", "Battery", &json!(91.0)),
            ])
        },
    );
    s.report_until(
        "zigbee2mqtt/front_door",
        r#"{"battery":90,"contact":true}"#,
        DOOR,
        |d| d.has("Door", "Contact", &json!(true)),
    );
    s.report_until(
        "zigbee2mqtt/living_lamp",
        r#"{"brightness":127,"color_mode":"color_temp","color_temp":370,"linkquality":87,"state":"ON"}"#,
        LAMP,
        |d| all(&[
            d.has("Light", "Switch", &json!(true)),
            d.has("Light", "Brightness", &json!(50.0)),
            d.has("Light", "ColorTemperature", &json!(370)),
        ]),
    );
    s.report_until("zigbee2mqtt/hall_remote/action", "hold", REMOTE, |d| {
        d.has("Action", "Action", &json!("hold"))
    });
}

#[test]
fn changes_publish_on_command_topics_and_wait_for_the_device() {
    let s = Setup::start();
    let ids = s.wait_keys(&KEYS);
    let plug = ids[PLUG];
    s.report_until("tele/kitchen_plug/STATE", r#"{"POWER":"ON"}"#, PLUG, |d| {
        d.has("Kitchen Plug", "Switch", &json!(true))
    });
    let mut sub = s.broker.subscribe(&[
        "cmnd/kitchen_plug/POWER",
        "livingroom/light/ceiling/command",
        "livingroom/switch/relay/command",
        "shellies/shellyswitch25-8CAAB5/roller/0/command/#",
        "zigbee2mqtt/living_lamp/set",
        "desk_light/cmnd/Scheme",
    ]);
    let mut events = s.core.events();

    // The CLI: switch the Tasmota relay off.
    let out = s
        .core
        .cli(&["set", &plug.to_string(), "Kitchen Plug", "Switch=false"]);
    out.assert_success();
    let m = sub.wait_message(SHORT, "POWER OFF", |m| m.topic == "cmnd/kitchen_plug/POWER");
    assert_eq!(m.payload, "OFF");
    assert!(!m.retained);
    // Confirmed, not optimistic.
    let early = events.collect_for(Duration::from_millis(300));
    assert!(
        !early
            .iter()
            .any(|ev| is_state(ev, plug, Some("Kitchen Plug"))
                && ev["components"]["Switch"] == json!(false)),
        "the tree changed before the device reported: {early:?}"
    );
    assert_eq!(
        s.api().device(plug).value("Kitchen Plug", "Switch"),
        Some(&json!(true))
    );
    // The device reports (Tasmota's RESULT is on stat/, its STATE on tele/: the config reads tele/).
    s.broker
        .publish_str("tele/kitchen_plug/STATE", r#"{"POWER":"OFF"}"#, false);
    s.wait_device(PLUG, "confirmed off", |d| {
        d.has("Kitchen Plug", "Switch", &json!(false))
    });

    // The API: an ESPHome JSON light gets one JSON command.
    let node = ids[NODE];
    let (code, body) = s.api().set(
        node,
        "Ceiling",
        &json!({"Switch": true, "Brightness": 50, "Color": "#00ff00"}),
    );
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "light JSON", |m| {
        m.topic == "livingroom/light/ceiling/command"
    });
    assert_eq!(
        m.json(),
        json!({"state": "ON", "brightness": 128, "color": {"r": 0, "g": 255, "b": 0}})
    );
    // Its effects: sent as ESPHome spells them.
    let (code, body) = s.api().set(node, "Ceiling", &json!({"Effect": "strobe"}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "light effect", |m| {
        m.topic == "livingroom/light/ceiling/command"
    });
    assert_eq!(m.json(), json!({"effect": "Strobe"}));
    let (code, body) = s.api().set(node, "Relay", &json!({"Switch": true}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "relay ON", |m| {
        m.topic == "livingroom/switch/relay/command"
    });
    assert_eq!(m.payload, "ON");

    // Tasmota: a scheme is its effect, on its own command topic; one the
    // light does not list is refused before anything is sent.
    let desk = ids[DESK];
    let (code, body) = s.api().set(desk, "Desk Light", &json!({"Effect": "4"}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "Scheme 4", |m| m.topic == "desk_light/cmnd/Scheme");
    assert_eq!(m.payload, "4");
    let path = format!("/api/v1/devices/{desk}/entities/Desk%20Light?wait_ms=5000");
    let (code, body) = s.api().post(&path, &json!({"Effect": "9"})).expect("set");
    assert_eq!(code, 422, "{body}");
    assert!(body.to_string().contains("not an option"), "{body}");

    // Shelly: cover commands and position.
    let shelly = ids[SHELLY];
    let (code, body) = s
        .api()
        .set(shelly, "Shutter", &json!({"CoverCommand": "Close"}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "roller close", |m| {
        m.topic.ends_with("/roller/0/command")
    });
    assert_eq!(m.payload, "close");
    let (code, body) = s
        .api()
        .set(shelly, "Shutter", &json!({"CoverPosition": 30}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "roller position", |m| {
        m.topic.ends_with("/roller/0/command/pos")
    });
    assert_eq!(m.payload, "30");

    // Zigbee2MQTT's JSON light: brightness in its 0-254 scale, mired.
    let lamp = ids[LAMP];
    let (code, body) = s.api().set(
        lamp,
        "Light",
        &json!({"Brightness": 100, "ColorTemperature": 300}),
    );
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "lamp set", |m| {
        m.topic == "zigbee2mqtt/living_lamp/set"
    });
    assert_eq!(m.json(), json!({"brightness": 254, "color_temp": 300}));
    s.broker.publish_str(
        "zigbee2mqtt/living_lamp",
        r#"{"state":"ON","brightness":254,"color_temp":300,"color_mode":"color_temp"}"#,
        false,
    );
    s.wait_device(LAMP, "lamp confirmed", |d| {
        all(&[
            d.has("Light", "Brightness", &json!(100.0)),
            d.has("Light", "ColorTemperature", &json!(300)),
        ])
    });

    // What the entity cannot take is refused, with nothing published.
    let (code, body) = s
        .api()
        .set(plug, "Kitchen Plug ENERGY Power", &json!({"Power": 5}));
    assert!(code >= 400, "a sensor cannot be set: {code} {body}");
}

#[test]
fn config_changes_removal_availability_and_broken_templates() {
    let s = Setup::start();
    let ids = s.wait_keys(&KEYS);

    // Availability: the ESPHome node's status topic; Zigbee2MQTT's mode "all".
    s.broker.publish_str("livingroom/status", "offline", true);
    s.wait_device(NODE, "offline", |d| {
        (!d.available).then_some(()).ok_or("still available".into())
    });
    s.broker.publish_str("livingroom/status", "online", true);
    s.wait_device(NODE, "online again", |d| {
        d.available.then_some(()).ok_or("unavailable".into())
    });
    s.broker
        .publish_str("zigbee2mqtt/bridge/state", r#"{"state":"offline"}"#, true);
    s.wait_device(DOOR, "offline with the bridge", |d| {
        (!d.available).then_some(()).ok_or("still available".into())
    });
    s.broker
        .publish_str("zigbee2mqtt/bridge/state", r#"{"state":"online"}"#, true);
    s.wait_device(DOOR, "online with the bridge", |d| {
        d.available.then_some(()).ok_or("unavailable".into())
    });

    // A changed config updates the entity: Fahrenheit now, converted to °C.
    let topic = "homeassistant/sensor/livingroom/temperature/config";
    let (_, old) = configs()
        .into_iter()
        .find(|(t, _)| t == topic)
        .unwrap_or_else(|| panic!("no {topic}"));
    let changed = old.replace("°C", "°F");
    assert_ne!(changed, old);
    s.broker.publish_str(topic, &changed, true);
    s.report_until("livingroom/sensor/temperature/state", "212", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(100.0))
    });

    // A broken template skips its value, never the device; the others keep working.
    let broken = r#"{"name":"Humidity","dev_cla":"humidity","unit_of_meas":"%","stat_t":"livingroom/sensor/humidity/state","val_tpl":"{{ value_json.h | is_defined }}","avty_t":"livingroom/status","uniq_id":"ESPsensorhumidity","dev":{"ids":"a0b7651c2f10","name":"livingroom"}}"#;
    s.broker.publish_str(
        "homeassistant/sensor/livingroom/humidity/config",
        broken,
        true,
    );
    let syntax = r#"{"name":"Pressure","dev_cla":"pressure","unit_of_meas":"hPa","stat_t":"livingroom/sensor/pressure/state","val_tpl":"{{ value_json.p | }}","uniq_id":"ESPsensorpressure","dev":{"ids":"a0b7651c2f10","name":"livingroom"}}"#;
    s.broker.publish_str(
        "homeassistant/sensor/livingroom/pressure/config",
        syntax,
        true,
    );
    s.wait_device(NODE, "humidity and pressure entities", |d| {
        all(&[has_entity(d, "Humidity"), has_entity(d, "Pressure")])
    });
    s.report_until(
        "livingroom/sensor/humidity/state",
        r#"{"h": 48.5}"#,
        NODE,
        |d| d.has("Humidity", "Humidity", &json!(48.5)),
    );
    s.broker
        .publish_str("livingroom/sensor/humidity/state", r#"{"other": 1}"#, false);
    s.broker
        .publish_str("livingroom/sensor/pressure/state", r#"{"p": 1012}"#, false);
    s.report_until("livingroom/sensor/temperature/state", "50", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(10.0))
    });
    let node = s.api().device(ids[NODE]);
    assert!(node.available, "the device stays available");
    assert_eq!(
        node.value("Humidity", "Humidity"),
        Some(&json!(48.5)),
        "the failed render left the last value"
    );
    assert_eq!(
        node.value("Pressure", "Pressure"),
        None,
        "a template that does not compile gives no value"
    );
    s.core.wait_log(
        SHORT,
        &[
            "provider=mqtt",
            "livingroom/sensor/humidity/state",
            "template",
        ],
    );

    // Unsupported platforms are listed with the reason.
    s.broker.publish_str(
        "homeassistant/vacuum/robo/config",
        r#"{"name":"Robo","cmd_t":"robo/cmd","dev":{"ids":"robo1"}}"#,
        true,
    );
    let status = wait_for(SHORT, "the vacuum in the skipped list", || {
        let st = s.discovery_status();
        st["skipped"]
            .to_string()
            .contains("vacuum")
            .then_some(st.clone())
            .ok_or(st.to_string())
    });
    assert!(
        status["skipped"].to_string().contains("not supported"),
        "{status}"
    );
    assert!(
        status["entities"].as_u64().is_some_and(|n| n >= 15),
        "{status}"
    );

    // An empty retained config removes: the Shelly has one entity, so the device goes.
    s.broker.publish_str(
        "homeassistant/cover/shellyswitch25-8CAAB5/roller_0/config",
        "",
        true,
    );
    let api = s.api().clone();
    wait_for(SHORT, "the Shelly removed", || {
        match api.device_by_key(SHELLY) {
            None => Ok(()),
            Some(d) => Err(format!("still listed: {}", d.name)),
        }
    });
    // Its commands are not accepted any more.
    let (code, _) = s
        .api()
        .set(ids[SHELLY], "Shutter", &json!({"CoverCommand": "Open"}));
    assert!(code >= 400, "a removed device takes no changes: {code}");
    // The others are untouched.
    s.wait_keys(&[PLUG, NODE, DOOR, LAMP, REMOTE]);

    // An empty config for one entity of a device with others (RemoveEntity):
    // that entity leaves the tree, the device and its other entities stay.
    s.broker
        .publish_str("homeassistant/sensor/livingroom/pressure/config", "", true);
    let node = s.wait_device(NODE, "without its Pressure entity", |d| {
        match d.entities.contains_key("Pressure") {
            true => Err("Pressure still listed".into()),
            false => Ok(()),
        }
    });
    assert_eq!(node.id, ids[NODE], "the same device");
    assert!(node.available, "the device stays available");
    assert_eq!(
        node.value("Temperature", "Temperature"),
        Some(&json!(10.0)),
        "the other entities keep their values"
    );
    assert_eq!(node.value("Humidity", "Humidity"), Some(&json!(48.5)));
    s.report_until("livingroom/sensor/temperature/state", "68", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(20.0))
    });
    // Publishing the config again brings the entity back.
    s.broker.publish_str(
        "homeassistant/sensor/livingroom/pressure/config",
        syntax,
        true,
    );
    s.wait_device(NODE, "Pressure back", |d| has_entity(d, "Pressure"));
}

#[test]
fn broker_restart_resubscribes_discovered_state_topics() {
    let mut s = Setup::start();
    s.report_until("livingroom/sensor/temperature/state", "20.5", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(20.5))
    });
    let pid = s.core.wait_provider_running("mqtt", TIMEOUT);
    // The broker forgets everything (no persistence), retained configs included.
    s.broker.restart();
    // The provider keeps what it discovered and subscribes to its topics again.
    s.report_until("livingroom/sensor/temperature/state", "22.5", NODE, |d| {
        d.has("Temperature", "Temperature", &json!(22.5))
    });
    s.report_until(
        "tele/kitchen_plug/SENSOR",
        r#"{"ENERGY":{"Power":7}}"#,
        PLUG,
        |d| d.has("Kitchen Plug ENERGY Power", "Power", &json!(7.0)),
    );
    assert_eq!(
        s.api().provider("mqtt").pid,
        Some(pid),
        "reconnected, not restarted"
    );
}

/// A template-schema light (`schema: template`), as Home Assistant's MQTT
/// light docs describe it: one state topic read by a template per value, one
/// command topic written by the on or the off template. This one speaks
/// `state|brightness|r,g,b|effect` text; its brightness is read with a
/// regular expression (Home Assistant's `regex_findall_index`).
const TEMPLATE_LIGHT: &str = r#"{"name":"Strip","schema":"template","cmd_t":"strip/set","stat_t":"strip/state",
 "cmd_on_tpl":"on|{{ brightness | default('') }}|{% if red is defined %}{{ red }},{{ green }},{{ blue }}{% endif %}|{{ effect | default('') }}",
 "cmd_off_tpl":"off","stat_tpl":"{{ value.split('|')[0] }}","bri_tpl":"{{ value | regex_findall_index('^[a-z]+[|]([0-9]*)') }}",
 "r_tpl":"{{ value.split('|')[2].split(',')[0] }}","g_tpl":"{{ value.split('|')[2].split(',')[1] }}",
 "b_tpl":"{{ value.split('|')[2].split(',')[2] }}","fx_tpl":"{{ value.split('|')[3] }}",
 "fx_list":["Rainbow","Fire"],"uniq_id":"strip1","dev":{"ids":"strip-1","name":"Strip"}}"#;

#[test]
fn a_template_light_is_read_by_its_templates_and_driven_by_its_command_templates() {
    const STRIP: &str = "ha:strip-1";
    let broker = Mosquitto::start();
    broker.publish_str("homeassistant/light/strip1/config", TEMPLATE_LIGHT, true);
    let core = Core::start(&providers_toml(&[ProviderSpec::mqtt("mqtt", &broker)]));
    let api = core.api().clone();
    let id = api.wait_device_ids(&[STRIP])[STRIP];
    // The light reports; every template reads its part of the one message.
    wait_for(TIMEOUT, "the strip's state", || {
        broker.publish_str("strip/state", "on|51|255,0,0|rainbow", false);
        std::thread::sleep(Duration::from_millis(100));
        let d = api.device(id);
        all(&[
            d.has("Strip", "Switch", &json!(true)),
            d.has("Strip", "Brightness", &json!(20.0)),
            d.has("Strip", "Color", &json!("#ff0000")),
            d.has("Strip", "Effect", &json!("Rainbow")),
        ])
    });
    let mut sub = broker.subscribe(&["strip/set"]);
    // One command per request, from the on template with what was asked.
    let (code, body) = api.set(id, "Strip", &json!({"Brightness": 100, "Color": "#0000ff"}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "the on command", |m| m.topic == "strip/set");
    assert_eq!(m.payload, "on|255|0,0,255|");
    let (code, body) = api.set(id, "Strip", &json!({"Effect": "fire"}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "the effect", |m| m.topic == "strip/set");
    assert_eq!(m.payload, "on|||Fire");
    let (code, body) = api.set(id, "Strip", &json!({"Switch": false}));
    assert!(code < 300, "{code} {body}");
    let m = sub.wait_message(SHORT, "the off command", |m| m.topic == "strip/set");
    assert_eq!(m.payload, "off");
    // The light confirms; an effect it does not list is refused unsent.
    broker.publish_str("strip/state", "off|255|0,0,255|Fire", false);
    wait_for(SHORT, "the strip off", || {
        let d = api.device(id);
        all(&[
            d.has("Strip", "Switch", &json!(false)),
            d.has("Strip", "Color", &json!("#0000ff")),
            d.has("Strip", "Effect", &json!("Fire")),
        ])
    });
    let path = format!("/api/v1/devices/{id}/entities/Strip?wait_ms=2000");
    let (code, body) = api.post(&path, &json!({"Effect": "Disco"})).expect("set");
    assert_eq!(code, 422, "{body}");
    let sent = sub.try_wait_message(Duration::from_millis(500), |m| m.topic == "strip/set");
    assert!(sent.is_none(), "sent for a refused effect: {sent:?}");
}
