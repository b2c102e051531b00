use igloo_provider::protocol::message::{TreeDevice, TreeEntity};

use super::*;

fn options(mode: Mode) -> Options {
    Options {
        prefix: "homeassistant".into(),
        base_topic: "igloo".into(),
        mode,
        providers: vec!["*".into()],
        own: Some("mqtt".into()),
        sw_version: "0.2.0".into(),
    }
}

fn lamp(provider: &str) -> TreeDevice {
    TreeDevice {
        device: DeviceId(7),
        provider: provider.into(),
        name: "Desk".into(),
        room: "Office".into(),
        available: true,
        attributes: vec![("manufacturer".into(), "Acme".into())],
        entities: vec![
            TreeEntity {
                name: "Light".into(),
                attributes: vec![],
                values: vec![Component::Light, Component::Switch(false)],
            },
            TreeEntity {
                name: "Power".into(),
                attributes: vec![("writable".into(), String::new())],
                values: vec![],
            },
        ],
    }
}

fn topics(outs: &[Out]) -> Vec<&str> {
    outs.iter().map(|o| o.topic.as_str()).collect()
}

#[test]
fn a_device_publishes_configs_state_and_availability_retained() {
    let mut p = Publisher::new(options(Mode::Entity));
    let outs = p.device(lamp("esphome"));
    assert_eq!(
        topics(&outs),
        [
            "homeassistant/light/igloo_7/light/config",
            "igloo/7/availability",
            "igloo/7/light",
            "igloo/7/power",
        ]
    );
    assert!(outs.iter().all(|o| o.retain));
    let config: Json = serde_json::from_str(&outs[0].payload).unwrap_or_default();
    assert_eq!(config["device"]["suggested_area"], "Office");
    assert_eq!(config["device"]["manufacturer"], "Acme");
    assert_eq!(config["unique_id"], "igloo_7_light");
    // The same device again publishes nothing new but states.
    let again = p.device(lamp("esphome"));
    assert!(
        !topics(&again).iter().any(|t| t.ends_with("/config")),
        "{again:?}"
    );
    // A first value makes the power entity a sensor: its config follows.
    let outs = p.state(DeviceId(7), "Power", &[Component::Power(5.0)]);
    assert_eq!(
        topics(&outs),
        ["homeassistant/sensor/igloo_7/power/config", "igloo/7/power"]
    );
    assert_eq!(outs[1].payload, r#"{"power":5.0}"#);
    let status = p.status();
    assert_eq!(status["configs"], 2);
}

#[test]
fn own_and_unselected_devices_are_not_published() {
    let mut p = Publisher::new(Options {
        providers: vec!["zigbee".into()],
        ..options(Mode::Entity)
    });
    assert!(p.device(lamp("mqtt")).is_empty());
    assert!(p.device(lamp("esphome")).is_empty());
    let status = p.status();
    assert_eq!(status["not_published_total"], 1);
    assert!(
        status["not_published"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("publish.providers"))
    );
    assert!(!p.device(lamp("zigbee")).is_empty());
}

#[test]
fn removal_clears_configs_states_and_availability() {
    let mut p = Publisher::new(options(Mode::Entity));
    p.device(lamp("esphome"));
    let outs = p.removed(DeviceId(7));
    assert!(
        outs.iter().all(|o| o.retain && o.payload.is_empty()),
        "{outs:?}"
    );
    assert!(topics(&outs).contains(&"homeassistant/light/igloo_7/light/config"));
    assert!(topics(&outs).contains(&"igloo/7/availability"));
    assert!(p.removed(DeviceId(7)).is_empty());
}

#[test]
fn device_mode_publishes_one_config_with_components() {
    let mut p = Publisher::new(options(Mode::Device));
    let outs = p.device(lamp("esphome"));
    assert_eq!(outs[0].topic, "homeassistant/device/igloo_7/config");
    let config: Json = serde_json::from_str(&outs[0].payload).unwrap_or_default();
    assert_eq!(config["device"]["identifiers"], json!(["igloo_7"]));
    assert_eq!(config["components"]["light"]["platform"], "light");
    assert_eq!(config["components"]["light"]["unique_id"], "igloo_7_light");
}

#[test]
fn the_gateways_own_config_follows_the_mode_and_clears_the_other_one() {
    const ENTITY: &str = "homeassistant/binary_sensor/igloo_bridge_igloo/connection/config";
    const DEVICE: &str = "homeassistant/device/igloo_bridge_igloo/config";
    let bridge = |mode| {
        let outs = Publisher::new(options(mode)).everything();
        let at = |topic| outs.iter().position(|o| o.topic == topic);
        let (Some(entity), Some(device)) = (at(ENTITY), at(DEVICE)) else {
            panic!("both bridge topics in {:?}", topics(&outs));
        };
        assert!(outs[entity].retain && outs[device].retain);
        (entity, device, outs)
    };
    // Per-entity: its config, after the device-based one is cleared.
    let (entity, device, outs) = bridge(Mode::Entity);
    assert!(outs[device].payload.is_empty() && device < entity);
    let c: Json = serde_json::from_str(&outs[entity].payload).unwrap_or_default();
    assert_eq!(c["device_class"], "connectivity");
    assert_eq!(c["device"]["identifiers"], json!(["igloo_bridge_igloo"]));
    // Device-based: one component, after the per-entity config is cleared.
    let (entity, device, outs) = bridge(Mode::Device);
    assert!(outs[entity].payload.is_empty() && entity < device);
    let c: Json = serde_json::from_str(&outs[device].payload).unwrap_or_default();
    assert_eq!(c["device"]["identifiers"], json!(["igloo_bridge_igloo"]));
    let sensor = &c["components"]["connection"];
    assert_eq!(sensor["platform"], "binary_sensor");
    assert_eq!(sensor["unique_id"], "igloo_bridge_igloo_connection");
    assert_eq!(sensor["state_topic"], "igloo/bridge/state");
}

#[test]
fn commands_find_their_entity() {
    let mut p = Publisher::new(options(Mode::Entity));
    p.device(lamp("esphome"));
    let c = p.command("igloo/7/light/set", br#"{"state":"ON"}"#);
    assert_eq!(
        c,
        Some(Ok(Command {
            device: DeviceId(7),
            entity: "Light".into(),
            values: vec![Component::Switch(true)],
        }))
    );
    assert!(p.command("igloo/7/light", b"{}").is_none());
    assert!(p.command("other/7/light/set", b"{}").is_none());
    assert!(matches!(
        p.command("igloo/8/light/set", b"{}"),
        Some(Err(_))
    ));
    assert!(p.ha_status("homeassistant/status", b"online").is_some());
    assert!(p.ha_status("homeassistant/status", b"offline").is_none());
}

#[test]
fn a_config_category_on_a_read_only_entity_becomes_diagnostic() {
    let mut p = Publisher::new(options(Mode::Entity));
    let mut d = lamp("esphome");
    d.entities[1].values = vec![Component::Power(1.0)];
    d.entities[1]
        .attributes
        .push(("category".into(), "config".into()));
    d.entities[0]
        .attributes
        .push(("category".into(), "config".into()));
    let outs = p.device(d);
    let config = |topic: &str| -> Json {
        let o = outs.iter().find(|o| o.topic == topic);
        serde_json::from_str(&o.map(|o| o.payload.clone()).unwrap_or_default()).unwrap_or_default()
    };
    assert_eq!(
        config("homeassistant/sensor/igloo_7/power/config")["entity_category"],
        "diagnostic"
    );
    assert_eq!(
        config("homeassistant/light/igloo_7/light/config")["entity_category"],
        "config"
    );
}

#[test]
fn configs_of_ours_that_are_no_longer_published_are_cleared() {
    let mut p = Publisher::new(options(Mode::Entity));
    let ours = r#"{"availability":[{"topic":"igloo/bridge/state"}]}"#.as_bytes();
    // Seen before the snapshot: judged when it is complete.
    let gone = "homeassistant/sensor/igloo_9/power/config";
    assert_eq!(p.stale_config(gone, ours), None);
    p.device(lamp("esphome"));
    let cleared = p.synced(1);
    assert_eq!(topics(&cleared), [gone]);
    assert!(cleared[0].payload.is_empty() && cleared[0].retain);
    // After it: at once; what is published stays.
    let old_mode = "homeassistant/device/igloo_7/config";
    assert!(p.stale_config(old_mode, ours).is_some());
    assert_eq!(
        p.stale_config("homeassistant/light/igloo_7/light/config", ours),
        None
    );
    // Not ours: another gateway's base topic, other projects, empty payloads.
    let other = r#"{"availability":[{"topic":"igloo2/bridge/state"}]}"#.as_bytes();
    assert_eq!(p.stale_config(gone, other), None);
    assert_eq!(
        p.stale_config("homeassistant/switch/5CCF7F_RL_1/config", ours),
        None
    );
    assert_eq!(p.stale_config(gone, b""), None);
}
