use super::*;
use crate::discovery::classes::{FAHRENHEIT, Linear};
use crate::discovery::config::Text;

fn info(c: Component) -> &'static ComponentInfo {
    c.info()
}

#[test]
fn numbers_convert_and_no_value_payloads_are_skipped() {
    let t = ReadConv::Number {
        component: info(Component::Temperature(0.0)),
        linear: FAHRENHEIT,
    };
    assert_eq!(decode(&t, "212"), Ok(vec![Component::Temperature(100.0)]));
    for none in ["", "unknown", "unavailable", "None"] {
        assert_eq!(decode(&t, none), Ok(vec![]), "{none:?}");
    }
    assert!(decode(&t, "warm").is_err());
    let lqi = ReadConv::Number {
        component: info(Component::LinkQuality(0)),
        linear: Linear::IDENTITY,
    };
    assert_eq!(decode(&lqi, "87.6"), Ok(vec![Component::LinkQuality(88)]));
}

#[test]
fn percent_on_off_and_enums() {
    let b = ReadConv::Percent {
        component: info(Component::Brightness(0.0)),
        min: 0.0,
        max: 254.0,
    };
    assert_eq!(decode(&b, "127"), Ok(vec![Component::Brightness(50.0)]));
    let contact = ReadConv::OnOff {
        component: info(Component::Contact(false)),
        on: Text {
            text: "false".into(),
            boolean: true,
        },
        off: Text {
            text: "true".into(),
            boolean: true,
        },
        invert: true,
    };
    // Zigbee2MQTT: contact=false is open (HA on) → Contact false.
    assert_eq!(
        decode(&contact, "false"),
        Ok(vec![Component::Contact(false)])
    );
    assert_eq!(decode(&contact, "True"), Ok(vec![Component::Contact(true)]));
    assert!(decode(&contact, "maybe").is_err());
    let cover = ReadConv::Enum {
        component: info(Component::CoverState(
            igloo_provider::protocol::component::CoverState::Open,
        )),
        table: vec![(Text::new("close"), "Closed")],
    };
    assert_eq!(
        decode(&cover, "close"),
        Ok(vec![Component::CoverState(
            igloo_provider::protocol::component::CoverState::Closed
        )])
    );
    assert!(decode(&cover, "sideways").is_err());
}

#[test]
fn colours() {
    let red = Color { r: 255, g: 0, b: 0 };
    assert_eq!(
        decode(&ReadConv::Rgb, "255,0,0"),
        Ok(vec![Component::Color(red)])
    );
    assert_eq!(
        decode(&ReadConv::Hs, "0,100"),
        Ok(vec![Component::Color(red)])
    );
    assert_eq!(
        decode(&ReadConv::Xy, "0.64,0.33"),
        Ok(vec![Component::Color(red)])
    );
    assert!(decode(&ReadConv::Rgb, "255,0").is_err());
    assert_eq!(
        decode(&ReadConv::Mired { kelvin: true }, "2700"),
        Ok(vec![Component::ColorTemperature(370)])
    );
}

#[test]
fn json_light_state() {
    let conv = ReadConv::LightJson {
        scale: 255.0,
        kelvin: false,
    };
    let v = decode(
        &conv,
        r#"{"state":"ON","color_mode":"rgb","brightness":255,"color":{"r":255,"g":128,"b":0}}"#,
    );
    assert_eq!(
        v,
        Ok(vec![
            Component::Switch(true),
            Component::Brightness(100.0),
            Component::Color(Color {
                r: 255,
                g: 128,
                b: 0
            })
        ])
    );
    let ct = decode(
        &conv,
        r#"{"state":"OFF","color_mode":"color_temp","color_temp":370,"color":{"x":0.5,"y":0.4}}"#,
    );
    assert_eq!(
        ct,
        Ok(vec![
            Component::Switch(false),
            Component::ColorTemperature(370)
        ])
    );
    assert!(decode(&conv, "ON").is_err());
    // ESPHome's state names the running effect ("None" when there is none).
    let fx = decode(&conv, r#"{"state":"ON","effect":"Rainbow"}"#);
    assert_eq!(
        fx,
        Ok(vec![
            Component::Switch(true),
            Component::Effect("Rainbow".into())
        ])
    );
}

#[test]
fn a_lights_zero_brightness_is_ignored_as_home_assistant_does() {
    // The default and template schemas: a value of `0..=max`.
    let conv = ReadConv::Brightness { max: 255.0 };
    assert_eq!(decode(&conv, "51"), Ok(vec![Component::Brightness(20.0)]));
    assert_eq!(
        decode(&conv, "1"),
        Ok(vec![Component::Brightness(100.0 / 255.0)])
    );
    assert_eq!(decode(&conv, "0"), Ok(vec![]));
    assert_eq!(decode(&conv, "0.0"), Ok(vec![]));
    assert_eq!(decode(&conv, ""), Ok(vec![]));
    assert!(decode(&conv, "dim").is_err());
    let percent = ReadConv::Brightness { max: 100.0 };
    assert_eq!(
        decode(&percent, "100"),
        Ok(vec![Component::Brightness(100.0)])
    );
    // The JSON schema: the state is read, the zero brightness is not.
    let json = ReadConv::LightJson {
        scale: 255.0,
        kelvin: false,
    };
    assert_eq!(
        decode(&json, r#"{"state":"OFF","brightness":0}"#),
        Ok(vec![Component::Switch(false)])
    );
    assert_eq!(
        decode(&json, r#"{"state":"ON","brightness":128}"#),
        Ok(vec![
            Component::Switch(true),
            Component::Brightness(128.0 * 100.0 / 255.0)
        ])
    );
    // A cover's position of 0 is a value (closed): only lights skip zeros.
    let position = ReadConv::Percent {
        component: info(Component::CoverPosition(0.0)),
        min: 0.0,
        max: 100.0,
    };
    assert_eq!(
        decode(&position, "0"),
        Ok(vec![Component::CoverPosition(0.0)])
    );
}

#[test]
fn triggers_and_events() {
    let t = ReadConv::Trigger {
        payload: Some(Text::new("single")),
        action: "single".into(),
    };
    assert_eq!(
        decode(&t, "single"),
        Ok(vec![Component::Action("single".into())])
    );
    assert_eq!(decode(&t, "double"), Ok(vec![]));
    assert_eq!(
        decode(&ReadConv::Event, r#"{"event_type":"press"}"#),
        Ok(vec![Component::Action("press".into())])
    );
    assert!(decode(&ReadConv::Event, "{}").is_err());
}

#[test]
fn named_modes_take_the_lists_spelling_and_a_reset_payload_clears_them() {
    let preset = ReadConv::Mode {
        component: info(Component::FanPreset(String::new())),
        names: ["Auto", "Sleep"].map(String::from).to_vec(),
        none: vec![Text::new("None")],
    };
    let p = |s: &str| Ok(vec![Component::FanPreset(s.into())]);
    assert_eq!(decode(&preset, "Sleep"), p("Sleep"));
    assert_eq!(decode(&preset, "sleep"), p("Sleep"), "the list's spelling");
    assert_eq!(decode(&preset, "None"), p(""), "the reset payload");
    assert_eq!(decode(&preset, ""), Ok(vec![]), "an empty payload");
    let err = decode(&preset, "Turbo").expect_err("not in the list");
    assert!(err.0.contains("Auto, Sleep"), "{err}");
    // A listed name wins over a reset payload of the same text.
    let climate = ReadConv::Mode {
        component: info(Component::ClimatePreset(String::new())),
        names: ["none", "eco"].map(String::from).to_vec(),
        none: vec![Text::new("none"), Text::new("None")],
    };
    assert_eq!(
        decode(&climate, "none"),
        Ok(vec![Component::ClimatePreset("none".into())])
    );
}
