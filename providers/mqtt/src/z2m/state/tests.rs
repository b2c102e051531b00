use igloo_provider::protocol::component::{ClimateMode, CoverState, Lock};
use serde_json::json;

use super::*;
use crate::z2m::exposes::plan_entities;
use crate::z2m::exposes::tests::{entity, plan};
use crate::z2m::fixtures::*;

fn obj(v: J) -> Map<String, J> {
    match v {
        J::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

/// Every entity's writes for a state message, as (entity name, values), skipping empty ones.
fn writes(device: J, state: J) -> Vec<(String, Vec<Component>)> {
    let p = plan(device);
    let state = obj(state);
    p.exposes
        .entities
        .iter()
        .map(|e| (e.name.clone(), decode(e, &state)))
        .filter(|(_, d)| {
            assert!(d.junk.is_empty(), "{:?}", d.junk);
            !d.values.is_empty()
        })
        .map(|(n, d)| (n, d.values))
        .collect()
}

#[test]
fn ikea_light_state() {
    let w = writes(
        ikea_led1545g12(),
        json!({"brightness": 127, "color_mode": "color_temp", "color_temp": 370,
               "linkquality": 87, "power_on_behavior": "previous", "state": "ON",
               "update": {"installed_version": 587814449, "state": "idle"}}),
    );
    assert_eq!(
        w,
        [
            (
                "Light".to_string(),
                vec![
                    Component::Switch(true),
                    Component::Brightness(50.0),
                    Component::ColorTemperature(370)
                ]
            ),
            (
                "Power-on behavior".to_string(),
                vec![Component::Select("previous".into())]
            ),
            ("Linkquality".to_string(), vec![Component::LinkQuality(87)]),
        ]
    );
    let w = writes(
        ikea_led1545g12(),
        json!({"state": "OFF", "brightness": 254}),
    );
    assert_eq!(
        w,
        [(
            "Light".to_string(),
            vec![Component::Switch(false), Component::Brightness(100.0)]
        )]
    );
}

#[test]
fn aqara_sensor_state() {
    let w = writes(
        aqara_wsdcgq11lm(),
        json!({"battery": 91, "humidity": 45.12, "linkquality": 120, "power_outage_count": 0,
               "pressure": 1013.4, "temperature": 21.53, "voltage": 2995}),
    );
    assert_eq!(
        w,
        [
            ("Battery".to_string(), vec![Component::Battery(91.0)]),
            (
                "Temperature".to_string(),
                vec![Component::Temperature(21.53)]
            ),
            ("Humidity".to_string(), vec![Component::Humidity(45.12)]),
            ("Pressure".to_string(), vec![Component::Pressure(1013.4)]),
            ("Voltage".to_string(), vec![Component::Voltage(2.995)]),
            ("Linkquality".to_string(), vec![Component::LinkQuality(120)]),
        ]
    );
}

#[test]
fn aqara_contact_state_keeps_zigbee2mqtt_meaning() {
    let w = writes(
        aqara_mccgq11lm(),
        json!({"battery": 100, "contact": false, "device_temperature": 23,
               "linkquality": 90, "power_outage_count": 2, "voltage": 3025}),
    );
    assert_eq!(
        w,
        [
            ("Battery".to_string(), vec![Component::Battery(100.0)]),
            ("Contact".to_string(), vec![Component::Contact(false)]),
            (
                "Device temperature".to_string(),
                vec![Component::Number(23.0)]
            ),
            ("Voltage".to_string(), vec![Component::Voltage(3.025)]),
            (
                "Power outage count".to_string(),
                vec![Component::Number(2.0)]
            ),
            ("Linkquality".to_string(), vec![Component::LinkQuality(90)]),
        ]
    );
    let w = writes(aqara_mccgq11lm(), json!({"contact": true}));
    assert_eq!(w, [("Contact".to_string(), vec![Component::Contact(true)])]);
}

#[test]
fn cover_state() {
    let w = writes(
        ikea_e1757_cover(),
        json!({"position": 57, "state": "OPEN", "battery": 74}),
    );
    assert_eq!(
        w,
        [
            (
                "Cover".to_string(),
                vec![
                    Component::CoverState(CoverState::Open),
                    Component::CoverPosition(57.0)
                ]
            ),
            ("Battery".to_string(), vec![Component::Battery(74.0)]),
        ]
    );
    let w = writes(ikea_e1757_cover(), json!({"state": "CLOSE", "position": 0}));
    assert_eq!(
        w[0].1,
        [
            Component::CoverState(CoverState::Closed),
            Component::CoverPosition(0.0)
        ]
    );
}

#[test]
fn trv_state() {
    let w = writes(
        tuya_tv02_trv(),
        json!({"battery_low": false, "child_lock": "UNLOCK", "current_heating_setpoint": 21.5,
               "local_temperature": 19.8, "local_temperature_calibration": 0, "open_window": "OFF",
               "system_mode": "heat", "trv_mode": 2, "linkquality": 66}),
    );
    assert_eq!(
        w,
        [
            (
                "Battery low".to_string(),
                vec![Component::BatteryLow(false)]
            ),
            (
                "Child lock".to_string(),
                vec![Component::Lock(Lock::Unlocked)]
            ),
            ("Open window".to_string(), vec![Component::Binary(false)]),
            (
                "Climate".to_string(),
                vec![
                    Component::Temperature(19.8),
                    Component::TargetTemperature(21.5),
                    Component::ClimateMode(ClimateMode::Heat)
                ]
            ),
            ("Trv mode".to_string(), vec![Component::Select("2".into())]),
            ("Linkquality".to_string(), vec![Component::LinkQuality(66)]),
        ]
    );
}

#[test]
fn colour_state_uses_color_mode() {
    let p = plan(hue_color_bulb());
    let light = entity(&p, "Light");
    let red = Component::Color(Color { r: 255, g: 0, b: 0 });
    let d = decode(
        light,
        &obj(json!({"color": {"x": 0.64, "y": 0.33}, "color_mode": "xy", "state": "ON"})),
    );
    assert_eq!(d.values, [Component::Switch(true), red.clone()]);
    // In hs mode the hue/saturation pair wins over the (approximate) xy.
    let d = decode(
        light,
        &obj(
            json!({"color": {"hue": 120, "saturation": 100, "x": 0.64, "y": 0.33},
                    "color_mode": "hs"}),
        ),
    );
    assert_eq!(d.values, [Component::Color(Color { r: 0, g: 255, b: 0 })]);
    // Zigbee2MQTT 1.x also sends h/s.
    let d = decode(light, &obj(json!({"color": {"h": 240, "s": 100}})));
    assert_eq!(d.values, [Component::Color(Color { r: 0, g: 0, b: 255 })]);
    let d = decode(light, &obj(json!({"color": {"x": 0.3}})));
    assert_eq!(d.values, []);
    assert_eq!(d.junk.len(), 1);
}

#[test]
fn junk_and_null_are_skipped_per_property() {
    let p = plan(aqara_wsdcgq11lm());
    let state = obj(
        json!({"temperature": "warm", "humidity": null, "pressure": 1000,
                           "battery": [1], "linkquality": "87"}),
    );
    let all: Vec<Decoded> = p
        .exposes
        .entities
        .iter()
        .map(|e| decode(e, &state))
        .collect();
    let values: Vec<Component> = all.iter().flat_map(|d| d.values.clone()).collect();
    // Numeric strings are accepted; null means "unknown" and is no junk.
    assert_eq!(
        values,
        [Component::Pressure(1000.0), Component::LinkQuality(87)]
    );
    let junk: Vec<(&str, &str, J)> = all
        .iter()
        .flat_map(|d| d.junk.iter())
        .map(|j| (j.property.as_str(), j.component, j.value.clone()))
        .collect();
    assert_eq!(
        junk,
        [
            ("battery", "Battery", json!([1])),
            ("temperature", "Temperature", json!("warm")),
        ]
    );
}

#[test]
fn unknown_enum_values_are_junk_but_fan_auto_is_not() {
    let cover = plan(ikea_e1757_cover());
    let d = decode(entity(&cover, "Cover"), &obj(json!({"state": "HALFWAY"})));
    assert_eq!(d.values, []);
    assert_eq!(d.junk.len(), 1);
    let fan = plan_entities(&[json!({"type": "fan", "features": [
        {"type": "binary", "name": "state", "property": "fan_state", "access": 7,
         "value_on": "ON", "value_off": "OFF"},
        {"type": "enum", "name": "mode", "property": "fan_mode", "access": 7,
         "values": ["off", "low", "medium", "high", "on", "auto", "smart"]}]})]);
    let fan = &fan.entities[0];
    let d = decode(fan, &obj(json!({"fan_state": "ON", "fan_mode": "auto"})));
    assert_eq!(d.values, [Component::Switch(true)]);
    assert!(d.junk.is_empty());
    let d = decode(fan, &obj(json!({"fan_mode": "medium"})));
    assert_eq!(d.values, [Component::FanSpeed(200.0 / 3.0)]);
    let d = decode(fan, &obj(json!({"fan_mode": "off"})));
    assert_eq!(d.values, [Component::FanSpeed(0.0)]);
}

#[test]
fn action_skips_the_empty_reset() {
    let e = plan_entities(&[
        json!({"type": "enum", "name": "action", "property": "action",
                                  "access": 1, "values": ["single", "double"]}),
    ]);
    let a = &e.entities[0];
    assert_eq!(
        decode(a, &obj(json!({"action": "double"}))).values,
        [Component::Action("double".into())]
    );
    assert_eq!(decode(a, &obj(json!({"action": ""}))).values, []);
}

#[test]
fn state_payloads() {
    assert!(parse_state(br#"{"state":"ON"}"#).is_ok());
    let e = parse_state(b"{\"state\":").map(|_| ()).unwrap_err();
    assert!(e.to_string().starts_with("invalid JSON: "), "{e}");
    let e = parse_state(b"[1,2]").map(|_| ()).unwrap_err();
    assert_eq!(e.to_string(), "expected a JSON object, got array");
    assert!(parse_state(b"ON").is_err());
}

#[test]
fn availability_payloads() {
    assert_eq!(
        parse_availability(br#"{"state":"online"}"#).ok(),
        Some(true)
    );
    assert_eq!(
        parse_availability(br#"{"state":"offline"}"#).ok(),
        Some(false)
    );
    assert_eq!(parse_availability(b"online").ok(), Some(true));
    assert_eq!(parse_availability(b"offline\n").ok(), Some(false));
    for bad in [
        &b"maybe"[..],
        br#"{"state":"sleepy"}"#,
        b"{",
        b"\xff",
        br#"{"online":true}"#,
    ] {
        assert!(parse_availability(bad).is_err(), "{bad:?}");
    }
}
