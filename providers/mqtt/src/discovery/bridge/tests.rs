//! The discovery bridge against a fake core speaking the real protocol.

use super::*;
use crate::discovery::fixtures::*;
use crate::fake_core::*;
use igloo_provider::Component;

const PREFIX: &str = "homeassistant";

async fn discovery() -> (Discovery, Provider, FakeCore) {
    let (provider, _events, core) = start().await;
    let mut d = Discovery::new(provider.clone(), PREFIX, "zigbee2mqtt-native");
    d.set_connected(true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (d, provider, core)
}

async fn msg(d: &mut Discovery, topic: &str, payload: &str) {
    d.message(topic, payload.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{topic}: {e}"));
}

#[tokio::test]
async fn tasmota_plug_becomes_one_device_with_state_commands_and_removal() {
    let (mut d, provider, mut core) = discovery().await;
    msg(
        &mut d,
        "homeassistant/switch/5CCF7F_RL_1/config",
        TASMOTA_RELAY,
    )
    .await;
    msg(
        &mut d,
        "homeassistant/sensor/5CCF7F_ENERGY_Power/config",
        TASMOTA_POWER,
    )
    .await;
    msg(
        &mut d,
        "homeassistant/sensor/5CCF7F_status/config",
        TASMOTA_STATUS,
    )
    .await;
    let lines = core.drain(&provider).await;
    assert_eq!(
        lines,
        [
            "create ha:5CCF7F Kitchen Plug",
            "entity 1/0 Kitchen Plug",
            "available 1 true",
            "create ha:5CCF7F Kitchen Plug",
            "entity 1/1 Kitchen Plug ENERGY Power",
            "write 1/1 [Sensor]",
            "create ha:5CCF7F Kitchen Plug",
            "entity 1/2 status",
            "write 1/2 [Sensor]",
        ]
    );
    let mut topics = d.take_new_topics();
    topics.sort();
    assert_eq!(
        topics,
        [
            "tele/kitchen_plug/HASS_STATE",
            "tele/kitchen_plug/LWT",
            "tele/kitchen_plug/SENSOR",
            "tele/kitchen_plug/STATE"
        ]
    );

    // State through templates; one payload feeds each entity reading it.
    msg(
        &mut d,
        "tele/kitchen_plug/STATE",
        r#"{"Time":"2026-12-05T10:00:00","POWER":"ON"}"#,
    )
    .await;
    msg(
        &mut d,
        "tele/kitchen_plug/SENSOR",
        r#"{"ENERGY":{"Power":42,"Voltage":231}}"#,
    )
    .await;
    // Availability: the LWT.
    msg(&mut d, "tele/kitchen_plug/LWT", "Offline").await;
    msg(&mut d, "tele/kitchen_plug/LWT", "Online").await;
    assert_eq!(
        core.drain(&provider).await,
        [
            "write 1/0 [Switch(true)]",
            "write 1/1 [Power(42.0)]",
            "available 1 false",
            "available 1 true",
        ]
    );

    // A change request publishes on the command topic, and changes nothing by itself.
    let p = d.change(DeviceId(1), 0, &[Component::Switch(false)]);
    assert_eq!(
        p,
        Some(Ok(vec![Publish {
            topic: "cmnd/kitchen_plug/POWER".into(),
            payload: "OFF".into(),
            qos: 0,
            retain: false
        }]))
    );
    assert!(core.drain(&provider).await.is_empty());
    assert!(matches!(
        d.change(DeviceId(1), 1, &[Component::Power(1.0)]),
        Some(Err(_))
    ));
    assert_eq!(d.change(DeviceId(77), 0, &[Component::Switch(true)]), None);

    // Empty configs remove the entities; the last one removes the device.
    msg(
        &mut d,
        "homeassistant/sensor/5CCF7F_ENERGY_Power/config",
        "",
    )
    .await;
    msg(
        &mut d,
        "tele/kitchen_plug/SENSOR",
        r#"{"ENERGY":{"Power":43}}"#,
    )
    .await;
    assert_eq!(core.drain(&provider).await, ["remove entity 1/1"]);
    msg(&mut d, "homeassistant/switch/5CCF7F_RL_1/config", "").await;
    msg(&mut d, "homeassistant/sensor/5CCF7F_status/config", "").await;
    assert_eq!(
        core.drain(&provider).await,
        ["remove entity 1/0", "remove 1"]
    );
    assert_eq!(d.status()["devices"], 0);
    assert_eq!(d.status()["templates"], 0);
}

#[tokio::test]
async fn an_older_core_keeps_a_removed_entity_and_only_loses_the_device() {
    // A 1.1 core before RemoveEntity knows messages up to RequestChange.
    let (provider, _events, mut core) =
        start_knowing(igloo_provider::protocol::ids::REQUEST_CHANGE).await;
    let mut d = Discovery::new(provider.clone(), PREFIX, "zigbee2mqtt-native");
    d.set_connected(true)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    msg(
        &mut d,
        "homeassistant/switch/5CCF7F_RL_1/config",
        TASMOTA_RELAY,
    )
    .await;
    msg(
        &mut d,
        "homeassistant/sensor/5CCF7F_ENERGY_Power/config",
        TASMOTA_POWER,
    )
    .await;
    core.drain(&provider).await;
    msg(
        &mut d,
        "homeassistant/sensor/5CCF7F_ENERGY_Power/config",
        "",
    )
    .await;
    assert!(core.drain(&provider).await.is_empty());
    assert!(matches!(
        provider.remove_entity(DeviceId(1), 1).await,
        Err(SdkError::Refused { .. })
    ));
    msg(&mut d, "homeassistant/switch/5CCF7F_RL_1/config", "").await;
    assert_eq!(core.drain(&provider).await, ["remove 1"]);
}

#[tokio::test]
async fn changed_config_re_plans_and_same_config_is_a_no_op() {
    let (mut d, provider, mut core) = discovery().await;
    let topic = "homeassistant/sensor/livingroom/temperature/config";
    msg(&mut d, topic, ESPHOME_TEMPERATURE).await;
    msg(&mut d, topic, ESPHOME_TEMPERATURE).await;
    let first = core.drain(&provider).await;
    assert_eq!(
        first.iter().filter(|l| l.starts_with("entity")).count(),
        1,
        "{first:?}"
    );
    let fahrenheit = ESPHOME_TEMPERATURE
        .replace("°C", "°F")
        .replace("\"Temperature\"", "\"Outside\"");
    msg(&mut d, topic, &fahrenheit).await;
    msg(&mut d, "livingroom/sensor/temperature/state", "212").await;
    let lines = core.drain(&provider).await;
    assert!(
        lines.contains(&"entity 1/1 Outside".to_string()),
        "{lines:?}"
    );
    // The entity under its old name is gone from the device.
    assert!(
        lines.contains(&"remove entity 1/0".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"write 1/1 [Temperature(100.0)]".to_string()),
        "{lines:?}"
    );
}

#[tokio::test]
async fn broken_templates_skip_values_not_devices() {
    let (mut d, provider, mut core) = discovery().await;
    let syntax = r#"{"name":"Broken","stat_t":"dev/x","val_tpl":"{{ value_json.t | }}","unit_of_meas":"°C","dev_cla":"temperature","dev":{"ids":"dev1","name":"Dev"}}"#;
    let strict = r#"{"name":"Strict","stat_t":"dev/x","val_tpl":"{{ value_json.t | is_defined }}","unit_of_meas":"°C","dev_cla":"temperature","dev":{"ids":"dev1","name":"Dev"}}"#;
    msg(&mut d, "homeassistant/sensor/dev1/broken/config", syntax).await;
    msg(&mut d, "homeassistant/sensor/dev1/strict/config", strict).await;
    msg(&mut d, "dev/x", r#"{"u": 1}"#).await;
    msg(&mut d, "dev/x", r#"{"t": 20.5}"#).await;
    let lines = core.drain(&provider).await;
    assert!(
        lines.contains(&"entity 1/0 Broken".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"entity 1/1 Strict".to_string()),
        "{lines:?}"
    );
    let writes: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("write 1/") && !l.ends_with("[Sensor]"))
        .collect();
    assert_eq!(writes, ["write 1/1 [Temperature(20.5)]"]);
}

#[tokio::test]
async fn availability_all_mode_and_connection_loss() {
    let (mut d, provider, mut core) = discovery().await;
    msg(
        &mut d,
        "homeassistant/binary_sensor/0x00158d0002c4d5e6/contact/config",
        Z2M_DOOR,
    )
    .await;
    msg(
        &mut d,
        "zigbee2mqtt/front_door",
        r#"{"contact":false,"battery":91}"#,
    )
    .await;
    msg(&mut d, "zigbee2mqtt/bridge/state", r#"{"state":"online"}"#).await;
    msg(
        &mut d,
        "zigbee2mqtt/front_door/availability",
        r#"{"state":"offline"}"#,
    )
    .await;
    msg(
        &mut d,
        "zigbee2mqtt/front_door/availability",
        r#"{"state":"online"}"#,
    )
    .await;
    d.set_connected(false)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let lines = core.drain(&provider).await;
    assert_eq!(
        lines,
        [
            "create ha:zigbee2mqtt_0x00158d0002c4d5e6 front_door",
            "entity 1/0 Door",
            "available 1 true",
            "write 1/0 [Contact(false)]",
            "available 1 false",
            "available 1 true",
            "available 1 false",
        ]
    );
}

#[tokio::test]
async fn device_based_discovery_and_the_zigbee2mqtt_base_topic() {
    let (mut d, provider, mut core) = discovery().await;
    let cfg = r#"{"dev":{"ids":"plug1","name":"Plug"},"o":{"name":"example"},"avty_t":"plug1/status","cmps":{"relay":{"p":"switch","stat_t":"plug1/relay","cmd_t":"plug1/relay/set"},"power":{"p":"sensor","dev_cla":"power","unit_of_meas":"kW","stat_t":"plug1/power"},"vac":{"p":"vacuum","cmd_t":"plug1/vac"}}}"#;
    msg(&mut d, "homeassistant/device/plug1/config", cfg).await;
    msg(&mut d, "plug1/power", "1.5").await;
    let lines = core.drain(&provider).await;
    assert!(
        lines.contains(&"write 1/0 [Power(1500.0)]".to_string()),
        "{lines:?}"
    );
    let status = d.status();
    assert_eq!(status["entities"], 2);
    assert_eq!(status["skipped"][0]["id"], "device/plug1/vac");
    // Dropping a component from the device config removes it.
    let fewer = cfg.replace(
        r#""relay":{"p":"switch","stat_t":"plug1/relay","cmd_t":"plug1/relay/set"},"#,
        "",
    );
    msg(&mut d, "homeassistant/device/plug1/config", &fewer).await;
    assert_eq!(d.status()["entities"], 1);
    // Entities on the Zigbee2MQTT bridge's own base topic are left to it.
    let native = r#"{"stat_t":"zigbee2mqtt-native/lamp","name":"x"}"#;
    msg(&mut d, "homeassistant/sensor/lamp/x/config", native).await;
    assert!(
        d.status()["skipped"].to_string().contains("Zigbee2MQTT"),
        "{}",
        d.status()
    );
}

#[tokio::test]
async fn a_template_light_reads_each_value_by_its_template_and_sends_one_command() {
    let (mut d, provider, mut core) = discovery().await;
    msg(&mut d, "homeassistant/light/strip1/config", TEMPLATE_STRIP).await;
    let lines = core.drain(&provider).await;
    assert!(lines.contains(&"entity 1/0 Strip".to_string()), "{lines:?}");
    assert_eq!(d.take_new_topics(), ["strip/state"]);
    msg(&mut d, "strip/state", "on|51|255,0,0|rainbow").await;
    let lines = core.drain(&provider).await;
    for want in [
        "Switch(true)",
        "Brightness(20.0)",
        "Color(Color { r: 255, g: 0, b: 0 })",
        "Effect(\"Rainbow\")",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(want)),
            "{want} in {lines:?}"
        );
    }
    let sent = |values: &[Component]| match d.change(DeviceId(1), 0, values) {
        Some(Ok(p)) => p
            .into_iter()
            .map(|p| format!("{} {}", p.topic, p.payload))
            .collect::<Vec<_>>(),
        other => panic!("{values:?}: {other:?}"),
    };
    // One publish per request, from the on template with what was asked.
    assert_eq!(
        sent(&[
            Component::Brightness(20.0),
            Component::Color(igloo_provider::protocol::Color { r: 0, g: 0, b: 255 })
        ]),
        ["strip/set on|51|0,0,255|"]
    );
    assert_eq!(
        sent(&[Component::Effect("fire".into())]),
        ["strip/set on|||Fire"]
    );
    assert_eq!(sent(&[Component::Switch(true)]), ["strip/set on|||"]);
    // Off is the off template, whatever else the request holds.
    assert_eq!(
        sent(&[Component::Switch(false), Component::Brightness(50.0)]),
        ["strip/set off"]
    );
    // An effect the light does not list sends nothing.
    assert!(matches!(
        d.change(DeviceId(1), 0, &[Component::Effect("Disco".into())]),
        Some(Err(why)) if why.contains("Effect")
    ));
    // The off state and an unlisted effect: the state is read, the effect skipped.
    msg(&mut d, "strip/state", "off|51|255,0,0|Disco").await;
    let lines = core.drain(&provider).await;
    assert!(
        lines.iter().any(|l| l.contains("Switch(false)")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("Disco")), "{lines:?}");
}
