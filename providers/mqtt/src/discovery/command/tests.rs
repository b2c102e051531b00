use super::*;
use crate::discovery::classes::{FAHRENHEIT, Linear};
use igloo_provider::protocol::Color;
use igloo_provider::protocol::component::{CoverCommand, LockCommand};

fn payload(conv: &WriteConv, v: &Component) -> Result<String, &'static str> {
    encode(conv, v).map(|c| c.payload)
}

#[test]
fn payload_forms() {
    let on_off = WriteConv::OnOff {
        on: "ON".into(),
        off: "OFF".into(),
    };
    assert_eq!(
        payload(&on_off, &Component::Switch(true)).as_deref(),
        Ok("ON")
    );
    assert!(payload(&on_off, &Component::Brightness(1.0)).is_err());
    let pct = WriteConv::Percent {
        min: 0.0,
        max: 254.0,
    };
    assert_eq!(
        payload(&pct, &Component::Brightness(50.0)).as_deref(),
        Ok("127")
    );
    let fan = WriteConv::Percent { min: 0.0, max: 3.0 };
    assert_eq!(
        payload(&fan, &Component::FanSpeed(66.0)).as_deref(),
        Ok("2")
    );
    let f = WriteConv::Number {
        linear: FAHRENHEIT,
        int: false,
    };
    assert_eq!(
        payload(&f, &Component::TargetTemperature(20.0)).as_deref(),
        Ok("68")
    );
    let n = WriteConv::Number {
        linear: Linear::IDENTITY,
        int: false,
    };
    assert_eq!(payload(&n, &Component::Number(2.5)).as_deref(), Ok("2.5"));
    let k = WriteConv::Mired { kelvin: true };
    assert_eq!(
        payload(&k, &Component::ColorTemperature(370)).as_deref(),
        Ok("2703")
    );
    let cover = WriteConv::Enum {
        table: vec![("Open", "open".into()), ("Stop", "stop".into())],
    };
    assert_eq!(
        payload(&cover, &Component::CoverCommand(CoverCommand::Stop)).as_deref(),
        Ok("stop")
    );
    assert!(payload(&cover, &Component::CoverCommand(CoverCommand::Close)).is_err());
    let lock = WriteConv::Enum {
        table: vec![("Lock", "LOCK".into())],
    };
    assert_eq!(
        payload(&lock, &Component::LockCommand(LockCommand::Lock)).as_deref(),
        Ok("LOCK")
    );
    let press = WriteConv::Press {
        payload: "PRESS".into(),
    };
    assert_eq!(
        payload(&press, &Component::ButtonPress).as_deref(),
        Ok("PRESS")
    );
    let c = Component::Color(Color { r: 255, g: 0, b: 0 });
    assert_eq!(payload(&WriteConv::Rgb, &c).as_deref(), Ok("255,0,0"));
    assert_eq!(payload(&WriteConv::Hs, &c).as_deref(), Ok("0,100"));
    assert_eq!(payload(&WriteConv::Xy, &c).as_deref(), Ok("0.6401,0.33"));
}

#[test]
fn template_context_carries_extras() {
    let cmd = encode(
        &WriteConv::Percent {
            min: 0.0,
            max: 100.0,
        },
        &Component::CoverPosition(40.0),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cmd.payload, "40");
    assert_eq!(cmd.extra[0].0, "position");
    let rgb = encode(
        &WriteConv::Rgb,
        &Component::Color(Color { r: 1, g: 2, b: 3 }),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = rgb.extra.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["red", "green", "blue"]);
}

#[test]
fn json_light_object() {
    let conv = WriteConv::LightJson {
        scale: 255.0,
        kelvin: false,
        color: ColorSpace::Xy,
        effects: Vec::new(),
    };
    let mut m = Map::new();
    for v in [
        Component::Switch(true),
        Component::Brightness(50.0),
        Component::ColorTemperature(300),
        Component::Color(Color { r: 255, g: 0, b: 0 }),
    ] {
        light_json(&conv, &v, &mut m).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        light_json_text(m),
        r#"{"brightness":128,"color":{"x":0.6401,"y":0.33},"color_temp":300,"state":"ON"}"#
    );
    assert!(light_json(&conv, &Component::Number(1.0), &mut Map::new()).is_err());
    // No effect_list: no effect can be named.
    assert!(light_json(&conv, &Component::Effect("Rainbow".into()), &mut Map::new()).is_err());
}

#[test]
fn effects_are_sent_as_the_device_spells_them() {
    let effects: Vec<String> = ["Rainbow", "Strobe", "None"].map(String::from).to_vec();
    let json = WriteConv::LightJson {
        scale: 255.0,
        kelvin: false,
        color: ColorSpace::Rgb,
        effects: effects.clone(),
    };
    let mut m = Map::new();
    light_json(&json, &Component::Effect("rainbow".into()), &mut m)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(light_json_text(m), r#"{"effect":"Rainbow"}"#);
    assert!(light_json(&json, &Component::Effect("Disco".into()), &mut Map::new()).is_err());

    let choice = WriteConv::Choice { options: effects };
    let effect = |name: &str| payload(&choice, &Component::Effect(name.into()));
    assert_eq!(effect("Strobe").as_deref(), Ok("Strobe"));
    assert_eq!(effect("STROBE").as_deref(), Ok("Strobe"));
    assert!(effect("Disco").is_err());
    assert!(payload(&choice, &Component::Switch(true)).is_err());
}

#[test]
fn template_light_values_are_home_assistants_names_and_units() {
    let conv = WriteConv::LightTemplate {
        effects: vec!["Fire".into()],
    };
    let mut m = BTreeMap::new();
    for v in [
        Component::Switch(true),
        Component::Brightness(100.0),
        Component::ColorTemperature(370),
        Component::Color(Color { r: 0, g: 255, b: 0 }),
        Component::Effect("FIRE".into()),
    ] {
        light_template(&conv, &v, &mut m).unwrap_or_else(|e| panic!("{v:?}: {e}"));
    }
    let got: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
    assert_eq!(
        got,
        [
            "blue=0",
            "brightness=255",
            "color_temp=370",
            "effect=Fire",
            "green=255",
            "hue=120.0",
            "red=0",
            "sat=100.0",
            "state=True"
        ]
    );
    assert!(light_template(&conv, &Component::ColorTemperature(0), &mut m).is_err());
    assert!(light_template(&conv, &Component::Number(1.0), &mut m).is_err());
    assert!(encode(&conv, &Component::Switch(true)).is_err());
}
