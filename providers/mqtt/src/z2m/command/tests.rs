use igloo_provider::protocol::Color;
use igloo_provider::protocol::component::{ClimateMode, CoverCommand, CoverState, Lock};

use super::*;
use crate::z2m::exposes::plan_entities;
use crate::z2m::exposes::tests::{entity, plan};
use crate::z2m::fixtures::*;

/// The /set JSON text for `values` on entity `name` of `device`, and the rejected component names.
fn set(device: J, name: &str, values: &[Component]) -> (String, Vec<&'static str>) {
    let p = plan(device);
    let e = encode(entity(&p, name), values);
    (
        e.to_json(),
        e.rejected.iter().map(|r| r.component).collect(),
    )
}

fn ok(json: &str) -> (String, Vec<&'static str>) {
    (json.to_string(), Vec::new())
}

#[test]
fn light_switch_and_brightness_in_one_object() {
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Light",
            &[Component::Switch(true), Component::Brightness(50.0)]
        ),
        ok(r#"{"brightness":127,"state":"ON"}"#)
    );
    assert_eq!(
        set(ikea_led1545g12(), "Light", &[Component::Switch(false)]),
        ok(r#"{"state":"OFF"}"#)
    );
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Light",
            &[Component::Light, Component::Brightness(100.0)]
        ),
        ok(r#"{"brightness":254}"#)
    );
    // Out-of-range percentages are clamped; 1 % rounds to the nearest device step.
    assert_eq!(
        set(ikea_led1545g12(), "Light", &[Component::Brightness(140.0)]),
        ok(r#"{"brightness":254}"#)
    );
    assert_eq!(
        set(ikea_led1545g12(), "Light", &[Component::Brightness(1.0)]),
        ok(r#"{"brightness":3}"#)
    );
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Light",
            &[Component::ColorTemperature(370)]
        ),
        ok(r#"{"color_temp":370}"#)
    );
}

#[test]
fn light_without_colour_rejects_color() {
    let red = Component::Color(Color { r: 255, g: 0, b: 0 });
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Light",
            &[red.clone(), Component::Switch(true)]
        ),
        (r#"{"state":"ON"}"#.to_string(), vec!["Color"])
    );
    assert_eq!(
        set(hue_color_bulb(), "Light", &[red]),
        ok(r#"{"color":{"b":0,"g":0,"r":255}}"#)
    );
}

#[test]
fn cover_commands_and_position() {
    for (cmd, state) in [
        (CoverCommand::Open, "OPEN"),
        (CoverCommand::Close, "CLOSE"),
        (CoverCommand::Stop, "STOP"),
    ] {
        assert_eq!(
            set(ikea_e1757_cover(), "Cover", &[Component::CoverCommand(cmd)]),
            ok(&format!(r#"{{"state":"{state}"}}"#))
        );
    }
    assert_eq!(
        set(
            ikea_e1757_cover(),
            "Cover",
            &[Component::CoverPosition(33.4)]
        ),
        ok(r#"{"position":33}"#)
    );
    assert_eq!(
        set(
            ikea_e1757_cover(),
            "Cover",
            &[Component::CoverState(CoverState::Closed)]
        ),
        ok(r#"{"state":"CLOSE"}"#)
    );
    // The blind has no tilt.
    assert_eq!(
        set(ikea_e1757_cover(), "Cover", &[Component::CoverTilt(10.0)]),
        ("{}".to_string(), vec!["CoverTilt"])
    );
}

#[test]
fn trv_setpoint_mode_and_child_lock() {
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Climate",
            &[Component::TargetTemperature(21.5)]
        ),
        ok(r#"{"current_heating_setpoint":21.5}"#)
    );
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Climate",
            &[
                Component::TargetTemperature(22.0),
                Component::ClimateMode(ClimateMode::Heat)
            ]
        ),
        ok(r#"{"current_heating_setpoint":22,"system_mode":"heat"}"#)
    );
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Climate",
            &[Component::ClimateMode(ClimateMode::Off)]
        ),
        ok(r#"{"system_mode":"off"}"#)
    );
    // The valve does not list "cool"; the measured temperature is read-only.
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Climate",
            &[
                Component::ClimateMode(ClimateMode::Cool),
                Component::Temperature(20.0)
            ]
        ),
        ("{}".to_string(), vec!["ClimateMode", "Temperature"])
    );
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Child lock",
            &[Component::Lock(Lock::Locked)]
        ),
        ok(r#"{"child_lock":"LOCK"}"#)
    );
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Child lock",
            &[Component::Lock(Lock::Unlocked)]
        ),
        ok(r#"{"child_lock":"UNLOCK"}"#)
    );
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Child lock",
            &[Component::Lock(Lock::Jammed)]
        ),
        ("{}".to_string(), vec!["Lock"])
    );
    assert_eq!(
        set(tuya_tv02_trv(), "Open window", &[Component::Binary(true)]),
        ok(r#"{"open_window":"ON"}"#)
    );
    // Numeric enum values go back as numbers.
    assert_eq!(
        set(
            tuya_tv02_trv(),
            "Trv mode",
            &[Component::Select("2".into())]
        ),
        ok(r#"{"trv_mode":2}"#)
    );
}

#[test]
fn generic_select_number_text() {
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Power-on behavior",
            &[Component::Select("previous".into())]
        ),
        ok(r#"{"power_on_behavior":"previous"}"#)
    );
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Effect",
            &[Component::Select("blink".into())]
        ),
        ok(r#"{"effect":"blink"}"#)
    );
    let e = plan_entities(&[
        serde_json::json!({"type": "numeric", "name": "occupancy_timeout",
            "property": "occupancy_timeout", "access": 3, "unit": "s"}),
        serde_json::json!({"type": "text", "name": "display_text", "property": "display_text",
            "access": 2}),
    ]);
    let enc = encode(&e.entities[0], &[Component::Number(90.0)]);
    assert_eq!(enc.to_json(), r#"{"occupancy_timeout":90}"#);
    let enc = encode(&e.entities[1], &[Component::Text("Hello".into())]);
    assert_eq!(enc.to_json(), r#"{"display_text":"Hello"}"#);
}

#[test]
fn read_only_and_foreign_components_are_rejected() {
    assert_eq!(
        set(
            aqara_wsdcgq11lm(),
            "Temperature",
            &[Component::Temperature(25.0)]
        ),
        ("{}".to_string(), vec!["Temperature"])
    );
    assert_eq!(
        set(aqara_mccgq11lm(), "Contact", &[Component::Contact(true)]),
        ("{}".to_string(), vec!["Contact"])
    );
    assert_eq!(
        set(
            ikea_led1545g12(),
            "Light",
            &[Component::Cover, Component::Humidity(1.0)]
        ),
        ("{}".to_string(), vec!["Cover", "Humidity"])
    );
    let p = plan(ikea_led1545g12());
    let e = encode(entity(&p, "Linkquality"), &[Component::LinkQuality(3)]);
    assert_eq!(
        e.rejected,
        [Rejected {
            component: "LinkQuality",
            reason: "the device does not accept /set for it"
        }]
    );
}

#[test]
fn fan_speed_levels() {
    let e = plan_entities(&[serde_json::json!({"type": "fan", "features": [
        {"type": "binary", "name": "state", "property": "fan_state", "access": 7,
         "value_on": "ON", "value_off": "OFF"},
        {"type": "enum", "name": "mode", "property": "fan_mode", "access": 7,
         "values": ["off", "low", "medium", "high", "on", "auto", "smart"]}]})]);
    let fan = &e.entities[0];
    let mode = |p: f64| encode(fan, &[Component::FanSpeed(p)]).to_json();
    assert_eq!(mode(0.0), r#"{"fan_mode":"off"}"#);
    assert_eq!(mode(10.0), r#"{"fan_mode":"low"}"#);
    assert_eq!(mode(33.4), r#"{"fan_mode":"medium"}"#);
    assert_eq!(mode(66.7), r#"{"fan_mode":"high"}"#);
    assert_eq!(mode(100.0), r#"{"fan_mode":"high"}"#);
    assert_eq!(
        encode(fan, &[Component::Switch(true)]).to_json(),
        r#"{"fan_state":"ON"}"#
    );
}
