//! The bridge against a fake core speaking the real protocol over a socketpair.

use igloo_provider::protocol::Message;

use super::*;
use crate::fake_core::*;
use crate::z2m::fixtures::*;

fn s(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

#[tokio::test]
async fn devices_state_availability_and_changes() {
    let (provider, _events, mut core) = start().await;
    let mut bridge = Bridge::new(provider.clone(), "zigbee2mqtt");
    bridge.connected().await.unwrap();

    // State and availability that arrive before the device list are kept.
    bridge
        .message(
            "zigbee2mqtt/bedroom/climate",
            br#"{"temperature":21.5,"humidity":40,"battery":null}"#,
        )
        .await
        .unwrap();
    bridge
        .message("zigbee2mqtt/front_door/availability", b"offline")
        .await
        .unwrap();
    assert_eq!(core.drain(&provider).await, Vec::<String>::new());

    let list = device_list(&[
        coordinator(),
        ikea_led1545g12(),
        aqara_wsdcgq11lm(),
        aqara_mccgq11lm(),
    ]);
    bridge
        .message("zigbee2mqtt/bridge/devices", &list)
        .await
        .unwrap();
    let raw = core.drain_raw(&provider).await;
    let Some(Message::CreateDevice(first)) = raw.first() else {
        panic!("first message is not CreateDevice: {raw:?}")
    };
    assert_eq!(
        first.attributes,
        vec![
            ("model".to_string(), "LED1545G12".to_string()),
            ("manufacturer".to_string(), "IKEA".to_string()),
            (
                "description".to_string(),
                "TRADFRI bulb E26/E27, white spectrum, globe, opal, 1000 lm".to_string()
            ),
        ]
    );
    let light_attrs = raw.iter().find_map(|m| match m {
        Message::RegisterEntity(r) if r.name == "Light" => Some(r.attributes.clone()),
        _ => None,
    });
    assert_eq!(
        light_attrs,
        Some(vec![
            ("min_mireds".to_string(), "250".to_string()),
            ("max_mireds".to_string(), "454".to_string()),
            (
                "writable".to_string(),
                "Switch,Brightness,ColorTemperature".to_string()
            ),
        ])
    );
    let lines: Vec<String> = raw.iter().map(show).collect();
    assert_eq!(
        lines,
        s(&[
            "create 0x000b57fffec6a5b2 living_lamp",
            "entity 1/0 Light",
            "write 1/0 [Light]",
            "entity 1/1 Effect",
            "entity 1/2 Power-on behavior",
            "entity 1/3 Linkquality",
            "available 1 true",
            "create 0x00158d0001a2b3c4 bedroom/climate",
            "entity 2/0 Battery",
            "entity 2/1 Temperature",
            "entity 2/2 Humidity",
            "entity 2/3 Pressure",
            "entity 2/4 Voltage",
            "entity 2/5 Linkquality",
            "available 2 true",
            "write 2/1 [Temperature(21.5)]",
            "write 2/2 [Humidity(40.0)]",
            "create 0x00158d000445d8e1 front_door",
            "entity 3/0 Battery",
            "entity 3/1 Contact",
            "entity 3/2 Device temperature",
            "entity 3/3 Voltage",
            "entity 3/4 Power outage count",
            "entity 3/5 Linkquality",
            "available 3 false",
        ])
    );

    // State of a known device.
    bridge
        .message(
            "zigbee2mqtt/living_lamp",
            br#"{"state":"ON","brightness":127,"linkquality":80,"update":{"state":"idle"}}"#,
        )
        .await
        .unwrap();
    bridge
        .message("zigbee2mqtt/front_door", br#"{"contact":true}"#)
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&[
            "write 1/0 [Switch(true), Brightness(50.0)]",
            "write 1/3 [LinkQuality(80)]",
            "write 3/1 [Contact(true)]",
        ])
    );

    // Malformed payloads, command topics and other bridge topics change nothing.
    for (topic, payload) in [
        ("zigbee2mqtt/living_lamp", &b"{oops"[..]),
        ("zigbee2mqtt/living_lamp", b"[1]"),
        ("zigbee2mqtt/bridge/devices", b"not json"),
        ("zigbee2mqtt/bridge/devices", br#"{"a":1}"#),
        ("zigbee2mqtt/living_lamp/availability", b"maybe"),
        ("zigbee2mqtt/living_lamp/set", br#"{"state":"OFF"}"#),
        ("zigbee2mqtt/living_lamp/get", br#"{"state":""}"#),
        ("zigbee2mqtt/bridge/state", br#"{"state":"online"}"#),
        ("zigbee2mqtt/bridge/logging", b"{}"),
        ("elsewhere/living_lamp", br#"{"state":"OFF"}"#),
    ] {
        bridge.message(topic, payload).await.unwrap();
    }
    assert_eq!(core.drain(&provider).await, Vec::<String>::new());

    // Change requests become one /set object.
    assert_eq!(
        bridge.change(
            DeviceId(1),
            0,
            &[Component::Switch(true), Component::Brightness(50.0)]
        ),
        Some((
            "zigbee2mqtt/living_lamp/set".to_string(),
            r#"{"brightness":127,"state":"ON"}"#.to_string()
        ))
    );
    assert_eq!(
        bridge.change(DeviceId(2), 1, &[Component::Temperature(3.0)]),
        None
    );
    assert_eq!(
        bridge.change(DeviceId(1), 9, &[Component::Switch(true)]),
        None
    );
    assert_eq!(
        bridge.change(DeviceId(77), 0, &[Component::Switch(true)]),
        None
    );
    assert_eq!(bridge.status_json(), r#"{"connected":true,"devices":3}"#);

    // Broker lost: everything unavailable. Back: all but the offline door.
    bridge.disconnected().await.unwrap();
    bridge.disconnected().await.unwrap();
    assert_eq!(bridge.status_json(), r#"{"connected":false,"devices":3}"#);
    bridge.connected().await.unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&[
            "available 1 false",
            "available 2 false",
            "available 3 false",
            "available 1 true",
            "available 2 true",
        ])
    );
    bridge
        .message(
            "zigbee2mqtt/front_door/availability",
            br#"{"state":"online"}"#,
        )
        .await
        .unwrap();
    bridge
        .message(
            "zigbee2mqtt/bedroom/climate/availability",
            br#"{"state":"offline"}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&["available 3 true", "available 2 false"])
    );

    // Re-published list: lamp renamed (same key, same id, no new entities),
    // door gone, an unchanged sensor untouched.
    let mut renamed = ikea_led1545g12();
    renamed["friendly_name"] = "kitchen/lamp".into();
    let list = device_list(&[coordinator(), renamed, aqara_wsdcgq11lm()]);
    bridge
        .message("zigbee2mqtt/bridge/devices", &list)
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&["remove 3", "create 0x000b57fffec6a5b2 kitchen/lamp"])
    );
    bridge
        .message("zigbee2mqtt/kitchen/lamp", br#"{"state":"OFF"}"#)
        .await
        .unwrap();
    bridge
        .message("zigbee2mqtt/living_lamp", br#"{"state":"ON"}"#)
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&["write 1/0 [Switch(false)]"])
    );
    assert_eq!(
        bridge
            .change(DeviceId(1), 0, &[Component::Switch(false)])
            .map(|(t, _)| t),
        Some("zigbee2mqtt/kitchen/lamp/set".to_string())
    );
    assert_eq!(bridge.status_json(), r#"{"connected":true,"devices":2}"#);
}

#[tokio::test]
async fn refused_devices_and_unknown_exposes_do_not_stop_the_others() {
    let (provider, _events, mut core) = start().await;
    let mut bridge = Bridge::new(provider.clone(), "z2m");
    let mut refused = aqara_mccgq11lm();
    refused["ieee_address"] = REFUSED_KEY.into();
    let list = device_list(&[refused, odd_device(), interviewing()]);
    bridge.message("z2m/bridge/devices", &list).await.unwrap();
    // Not connected yet: new devices start unavailable.
    assert_eq!(
        core.drain(&provider).await,
        s(&[
            "create 0xbadbadbadbadbad0 front_door",
            "create 0x1234567890abcdef odd",
            "entity 1/0 Temperature",
            "entity 1/1 Temperature probe",
            "available 1 false",
            "create 0x00158d0009999999 0x00158d0009999999",
            "available 2 false",
        ])
    );
    bridge.connected().await.unwrap();
    bridge
        .message(
            "z2m/odd",
            br#"{"temperature":"hot","temperature_probe":70.2}"#,
        )
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        // In IEEE address order.
        s(&[
            "available 2 true",
            "available 1 true",
            "write 1/1 [Number(70.2)]",
        ])
    );
}

#[tokio::test]
async fn changed_exposes_register_entities_again() {
    let (provider, _events, mut core) = start().await;
    let mut bridge = Bridge::new(provider.clone(), "zigbee2mqtt");
    bridge.connected().await.unwrap();
    bridge
        .message(
            "zigbee2mqtt/bridge/devices",
            &device_list(&[interviewing()]),
        )
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&[
            "create 0x00158d0009999999 0x00158d0009999999",
            "available 1 true",
        ])
    );
    // The interview completes: a definition arrives for the same key.
    let mut done = interviewing();
    done["definition"] = serde_json::json!({
        "model": "SJCGQ11LM", "vendor": "Aqara", "description": "Water leak sensor",
        "exposes": [{"type": "binary", "name": "water_leak", "label": "Water leak",
                     "property": "water_leak", "access": 1, "value_on": true, "value_off": false}]
    });
    bridge
        .message("zigbee2mqtt/bridge/devices", &device_list(&[done]))
        .await
        .unwrap();
    bridge
        .message("zigbee2mqtt/0x00158d0009999999", br#"{"water_leak":true}"#)
        .await
        .unwrap();
    assert_eq!(
        core.drain(&provider).await,
        s(&[
            "create 0x00158d0009999999 0x00158d0009999999",
            "entity 1/0 Water leak",
            "write 1/0 [WaterLeak(true)]",
        ])
    );
}
