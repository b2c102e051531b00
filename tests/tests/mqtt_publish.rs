//! Discovery out, end to end (docs/mqtt.md "Discovery out"): a real
//! Mosquitto, the real core, `igloo-mqtt` with `publish` on and
//! `tree = "control"`, and `igloo-tree-probe` owning a lamp (Light with
//! Switch and Brightness) and a read-only temperature sensor. The test plays
//! Home Assistant: it reads the retained discovery configs and states, and
//! publishes commands and `homeassistant/status`.
//!
//! The broker also holds a Tasmota plug's discovery config, so igloo-mqtt
//! owns a device of its own, which must not be published back.

use std::time::Duration;

use igloo_tests::mosquitto::{MqttMessage, Subscriber};
use igloo_tests::{Core, Mosquitto, ProviderSpec, SHORT, TIMEOUT, bin, providers_toml, wait_for};
use serde_json::{Value, json};

const PLUG_CONFIG: &str = r#"{"name":"Kitchen Plug","cmd_t":"cmnd/kitchen_plug/POWER","stat_t":"tele/kitchen_plug/STATE","val_tpl":"{{value_json.POWER}}","uniq_id":"5CCF7F_RL_1","dev":{"ids":["5CCF7F"],"name":"Kitchen Plug"}}"#;

const STALE_TOPIC: &str = "homeassistant/sensor/igloo_999/temperature/config";
const STALE_CONFIG: &str = r#"{"name":"Temperature","unique_id":"igloo_999_temperature","state_topic":"igloo/999/temperature","availability":[{"topic":"igloo/bridge/state"},{"topic":"igloo/999/availability"}],"availability_mode":"all"}"#;

/// Fields drop in order: the core (and its providers) before the broker.
struct Setup {
    core: Core,
    broker: Mosquitto,
    lamp: u64,
    plug: u64,
}

impl Setup {
    fn start() -> Setup {
        Setup::start_with("")
    }

    /// With extra lines in `[provider.config.publish]`.
    fn start_with(publish: &str) -> Setup {
        let broker = Mosquitto::start();
        broker.publish_str("homeassistant/switch/5CCF7F_RL_1/config", PLUG_CONFIG, true);
        // A config igloo-mqtt published for a device that was removed while
        // it was away: cleared once it has the tree.
        broker.publish_str(STALE_TOPIC, STALE_CONFIG, true);
        let mqtt = ProviderSpec::mqtt("mqtt", &broker)
            .config("base_topic", "zigbee2mqtt-native")
            .line("tree = \"control\"")
            .table(&format!(
                "[provider.config.publish]\nenabled = true\n{publish}"
            ));
        let probe = ProviderSpec::new("probe", bin("igloo-tree-probe"));
        let core = Core::start(&providers_toml(&[mqtt, probe]));
        let ids = core.api().wait_device_ids(&["probe-lamp", "ha:5CCF7F"]);
        let (lamp, plug) = (ids["probe-lamp"], ids["ha:5CCF7F"]);
        Setup {
            core,
            broker,
            lamp,
            plug,
        }
    }

    fn config_topic(&self, platform: &str, object: &str) -> String {
        format!(
            "homeassistant/{platform}/igloo_{}/{object}/config",
            self.lamp
        )
    }

    fn probe(&self, command: &str, body: Value) -> Value {
        let (code, reply) = self.core.api().command("probe", command, &body);
        assert_eq!(code, 200, "{command}: {reply}");
        let text = reply["body"]
            .as_str()
            .map_or_else(|| reply["body"].to_string(), str::to_string);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn changes(&self) -> Vec<String> {
        let t = self.probe("probe.tree", json!({}));
        serde_json::from_value(t["changes"].clone()).unwrap_or_default()
    }

    fn component(&self, entity: &str, component: &str) -> Option<Value> {
        let d = self.core.api().device(self.lamp);
        d.entities.get(entity)?.components.get(component).cloned()
    }

    /// The first message on `topic` (the retained one, then later ones)
    /// whose payload passes `pred`, from a fresh subscription.
    fn retained(
        &self,
        topic: &str,
        what: &str,
        pred: impl Fn(&MqttMessage) -> bool,
    ) -> MqttMessage {
        let mut sub = self.broker.subscribe(&[topic]);
        sub.wait_message(TIMEOUT, what, pred)
    }

    fn retained_json(&self, topic: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.retained(topic, what, |m| {
            serde_json::from_str::<Value>(&m.payload).is_ok_and(|v| pred(&v))
        })
        .json()
    }

    fn wait_json(
        &self,
        sub: &mut Subscriber,
        topic: &str,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let t = topic.to_string();
        sub.wait_message(TIMEOUT, what, move |m: &MqttMessage| {
            m.topic == t && serde_json::from_str::<Value>(&m.payload).is_ok_and(|v| pred(&v))
        })
        .json()
    }
}

fn device_block_is_the_lamps(s: &Setup, c: &Value) {
    assert_eq!(
        c["device"]["identifiers"],
        json!([format!("igloo_{}", s.lamp)]),
        "{c}"
    );
    assert_eq!(c["device"]["name"], "Probe Lamp");
    assert_eq!(c["device"]["manufacturer"], "Igloo Tests");
    assert_eq!(c["device"]["model"], "Probe 1");
    assert_eq!(c["device"]["via_device"], "igloo_bridge_igloo");
    assert_eq!(
        c["availability"],
        json!([{"topic": "igloo/bridge/state"}, {"topic": format!("igloo/{}/availability", s.lamp)}])
    );
    assert_eq!(c["availability_mode"], "all");
    assert_eq!(c["origin"]["name"], "Igloo");
}

#[test]
fn igloo_devices_appear_as_home_assistant_discovery_with_exact_shapes() {
    let s = Setup::start();
    let light = s.retained_json(
        &s.config_topic("light", "light"),
        "the lamp's light config",
        |_| true,
    );
    assert_eq!(light["schema"], "json");
    assert_eq!(light["name"], "Light");
    assert_eq!(light["unique_id"], format!("igloo_{}_light", s.lamp));
    assert_eq!(light["state_topic"], format!("igloo/{}/light", s.lamp));
    assert_eq!(
        light["command_topic"],
        format!("igloo/{}/light/set", s.lamp)
    );
    assert_eq!(light["brightness"], true);
    assert_eq!(light["brightness_scale"], 100);
    assert_eq!(light["supported_color_modes"], json!(["brightness"]));
    device_block_is_the_lamps(&s, &light);

    let temp = s.retained_json(
        &s.config_topic("sensor", "temperature"),
        "the sensor config",
        |_| true,
    );
    assert_eq!(temp["device_class"], "temperature");
    assert_eq!(temp["unit_of_measurement"], "°C");
    assert_eq!(temp["state_class"], "measurement");
    assert_eq!(temp["state_topic"], format!("igloo/{}/temperature", s.lamp));
    assert_eq!(temp["value_template"], "{{ value_json.temperature }}");
    assert_eq!(temp["unique_id"], format!("igloo_{}_temperature", s.lamp));
    assert!(temp.get("command_topic").is_none(), "{temp}");
    device_block_is_the_lamps(&s, &temp);

    // States and availability, retained.
    let state = s.retained_json(
        &format!("igloo/{}/light", s.lamp),
        "the light state",
        |_| true,
    );
    assert_eq!(state["state"], "OFF");
    assert_eq!(state["brightness"], 50.0);
    assert_eq!(state["color_mode"], "brightness");
    let lamp_online = s.retained(
        &format!("igloo/{}/availability", s.lamp),
        "the lamp's availability",
        |_| true,
    );
    assert_eq!(lamp_online.payload, "online");
    let bridge = s.retained("igloo/bridge/state", "the bridge's availability", |_| true);
    assert_eq!(bridge.payload, "online");
    let bridge = s.retained_json(
        "homeassistant/binary_sensor/igloo_bridge_igloo/connection/config",
        "the gateway's own config",
        |_| true,
    );
    assert_eq!(
        bridge["device"]["identifiers"],
        json!(["igloo_bridge_igloo"])
    );
    assert_eq!(bridge["state_topic"], "igloo/bridge/state");

    // A value change in Igloo shows on the state topic.
    s.probe("probe.temperature", json!({"value": 24.5}));
    s.retained_json(&format!("igloo/{}/temperature", s.lamp), "24.5 °C", |v| {
        v["temperature"] == 24.5
    });

    // The stale config is gone.
    wait_for(TIMEOUT, "the stale config cleared", || {
        let mut sub = s.broker.subscribe(&[STALE_TOPIC]);
        // Retained messages come with the subscription, before it is live.
        match sub.try_wait_message(Duration::from_millis(200), |_| true) {
            Some(m) if !m.payload.is_empty() => Err(format!("still retained: {m:?}")),
            _ => Ok(()),
        }
    });

    // Everything retained now: nothing names the plug.
    let mut sub = s.broker.subscribe(&["homeassistant/#", "igloo/#"]);
    sub.try_wait_message(Duration::from_millis(300), |_| false);
    // The device igloo-mqtt owns (from discovery in) is never published back.
    let plug_node = format!("/igloo_{}/", s.plug);
    assert!(
        !sub.seen()
            .iter()
            .any(|m| m.topic.contains(&plug_node)
                || m.topic.starts_with(&format!("igloo/{}/", s.plug))),
        "the plug was published: {:#?}",
        sub.seen()
    );
    let (code, reply) = s.core.api().command("mqtt", "mqtt.status", &json!({}));
    assert_eq!(code, 200, "{reply}");
    let text = reply["body"]
        .as_str()
        .map_or_else(|| reply["body"].to_string(), str::to_string);
    let status: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let publish = &status["publish"];
    assert_eq!(publish["synced"], true, "{status}");
    assert!(
        publish["not_published"]
            .as_array()
            .is_some_and(|l| l.iter().any(|e| e["device"] == s.plug)),
        "{status}"
    );
    // And it is not read back in as a device of its own.
    let devices = s.core.api().devices();
    assert_eq!(devices.len(), 2, "{devices:#?}");
}

#[test]
fn home_assistant_commands_reach_the_owner_and_come_back_confirmed() {
    let s = Setup::start();
    let mut sub = s.broker.subscribe(&["igloo/#"]);
    let state_topic = format!("igloo/{}/light", s.lamp);
    s.wait_json(&mut sub, &state_topic, "the light state", |v| {
        v["state"] == "OFF"
    });
    s.broker.publish_str(
        &format!("igloo/{}/light/set", s.lamp),
        r#"{"state":"ON","brightness":80}"#,
        false,
    );
    let state = s.wait_json(
        &mut sub,
        &state_topic,
        "ON at 80 % after the command",
        |v| v["state"] == "ON" && v["brightness"] == 80.0,
    );
    assert_eq!(state["switch"], true);
    assert_eq!(s.component("Light", "Switch"), Some(json!(true)));
    assert_eq!(s.component("Light", "Brightness"), Some(json!(80.0)));
    let changes = s.changes();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].contains("Switch(true)") && changes[0].contains("Brightness(80.0)"),
        "{changes:?}"
    );

    // A command for the read-only sensor changes nothing; a later valid
    // command proves the refused one was handled first.
    s.broker.publish_str(
        &format!("igloo/{}/temperature/set", s.lamp),
        r#"{"temperature":5}"#,
        false,
    );
    s.broker.publish_str(
        &format!("igloo/{}/light/set", s.lamp),
        r#"{"state":"OFF"}"#,
        false,
    );
    s.wait_json(
        &mut sub,
        &state_topic,
        "OFF after the second command",
        |v| v["state"] == "OFF",
    );
    assert_eq!(s.component("Temperature", "Temperature"), Some(json!(21.5)));
    let changes = s.changes();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(
        !changes.iter().any(|c| c.contains("Temperature")),
        "{changes:?}"
    );
    s.core.wait_log(
        SHORT,
        &["command from Home Assistant refused", "cannot be changed"],
    );
}

#[test]
fn home_assistant_online_republishes_and_removal_clears_the_configs() {
    let s = Setup::start();
    let light_topic = s.config_topic("light", "light");
    let mut sub = s.broker.subscribe(&["homeassistant/#"]);
    s.wait_json(&mut sub, &light_topic, "the light config", |_| true);
    // Home Assistant lost its retained configs (e.g. a broker without
    // persistence); its birth message brings them back.
    s.broker.publish_str(&light_topic, "", true);
    sub.wait_message(SHORT, "the cleared config", |m| {
        m.topic == light_topic && m.payload.is_empty()
    });
    s.broker
        .publish_str("homeassistant/status", "online", false);
    s.wait_json(&mut sub, &light_topic, "the light config again", |c| {
        c["schema"] == "json"
    });
    let mut fresh = s.broker.subscribe(&[light_topic.as_str()]);
    let m = fresh.wait_message(SHORT, "the retained config", |m| m.topic == light_topic);
    assert!(m.retained && !m.payload.is_empty(), "{m:?}");

    // Removing the device publishes empty retained configs.
    s.probe("probe.remove", json!({}));
    for topic in [light_topic.clone(), s.config_topic("sensor", "temperature")] {
        sub.wait_message(TIMEOUT, "an empty config", |m| {
            m.topic == topic && m.payload.is_empty()
        });
    }
    wait_for(SHORT, "the lamp gone from the API", || {
        s.core
            .api()
            .devices()
            .iter()
            .all(|d| d.id != s.lamp)
            .then_some(())
            .ok_or_else(|| "still listed".to_string())
    });
    let mut after = s.broker.subscribe(&["homeassistant/#"]);
    // The gateway's own config is still retained; nothing of the lamp is.
    after.wait_message(SHORT, "the gateway config", |m| {
        m.topic.contains("igloo_bridge_igloo")
    });
    // Retained messages arrive together at subscription: take what is queued.
    after.try_wait_message(Duration::from_millis(200), |_| false);
    assert!(
        !after
            .seen()
            .iter()
            .any(|m| m.topic.contains(&format!("igloo_{}/", s.lamp))),
        "{:#?}",
        after.seen()
    );
}

#[test]
fn device_based_discovery_carries_every_entity_in_one_config() {
    let s = Setup::start_with("mode = \"device\"");
    let topic = format!("homeassistant/device/igloo_{}/config", s.lamp);
    let c = s.retained_json(&topic, "the lamp's device config", |_| true);
    assert_eq!(
        c["device"]["identifiers"],
        json!([format!("igloo_{}", s.lamp)])
    );
    assert_eq!(c["origin"]["name"], "Igloo");
    let light = &c["components"]["light"];
    assert_eq!(light["platform"], "light");
    assert_eq!(light["schema"], "json");
    assert_eq!(light["unique_id"], format!("igloo_{}_light", s.lamp));
    assert_eq!(
        light["command_topic"],
        format!("igloo/{}/light/set", s.lamp)
    );
    let temp = &c["components"]["temperature"];
    assert_eq!(temp["platform"], "sensor");
    assert_eq!(temp["device_class"], "temperature");
    assert_eq!(temp["unit_of_measurement"], "°C");
    assert_eq!(
        temp["availability"],
        json!([{"topic": "igloo/bridge/state"}, {"topic": format!("igloo/{}/availability", s.lamp)}])
    );
    // No per-entity configs in this mode.
    let mut sub = s.broker.subscribe(&["homeassistant/+/+/+/config"]);
    sub.try_wait_message(Duration::from_millis(300), |_| false);
    assert!(
        !sub.seen()
            .iter()
            .any(|m| m.topic.contains(&format!("/igloo_{}/", s.lamp))),
        "{:#?}",
        sub.seen()
    );
    // Commands work the same.
    s.broker.publish_str(
        &format!("igloo/{}/light/set", s.lamp),
        r#"{"state":"ON"}"#,
        false,
    );
    s.retained_json(&format!("igloo/{}/light", s.lamp), "the light on", |v| {
        v["state"] == "ON"
    });
}
