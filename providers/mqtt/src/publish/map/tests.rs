use igloo_provider::protocol::Color;
use igloo_provider::protocol::component::{ClimateMode, CoverState};

use super::*;

fn entity(name: &str, attributes: &[(&str, &str)], values: Vec<Component>) -> TreeEntity {
    TreeEntity {
        name: name.into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        values,
    }
}

fn only(p: Planned) -> HaEntity {
    assert_eq!(p.entities.len(), 1, "{p:?}");
    p.entities
        .into_iter()
        .next()
        .unwrap_or_else(|| unreachable!())
}

#[test]
fn names_become_snake_case_keys_and_safe_object_ids() {
    assert_eq!(snake("ColorTemperature"), "color_temperature");
    assert_eq!(snake("Co2"), "co2");
    assert_eq!(slug("Relay 1"), "relay_1");
    assert_eq!(slug("  Température / Außen "), "temp_rature_au_en");
    assert_eq!(slug("+#/"), "entity");
}

#[test]
fn a_dimmable_colour_light_is_a_json_schema_light() {
    let e = entity(
        "Light",
        &[("min_mireds", "153"), ("max_mireds", "454")],
        vec![
            Component::Light,
            Component::Switch(true),
            Component::Brightness(40.0),
            Component::Color(Color { r: 255, g: 0, b: 0 }),
            Component::ColorTemperature(300),
        ],
    );
    let h = only(plan(&e));
    assert_eq!(h.platform, "light");
    assert!(h.commands);
    assert_eq!(
        Json::Object(h.config),
        json!({"schema": "json", "color_mode": true, "supported_color_modes": ["color_temp", "rgb"],
               "brightness": true, "brightness_scale": 100,
               "min_mireds": 153, "max_mireds": 454})
    );
    let state = state_payload(&e.values);
    assert_eq!(state["state"], "ON");
    assert_eq!(state["brightness"], 40.0);
    assert_eq!(state["color"], json!({"r": 255, "g": 0, "b": 0}));
    assert_eq!(state["color_temp"], 300);
    assert_eq!(state["color_mode"], "rgb");
    let onoff = entity(
        "Light",
        &[],
        vec![Component::Light, Component::Switch(false)],
    );
    assert_eq!(
        only(plan(&onoff)).config["supported_color_modes"],
        json!(["onoff"])
    );
    assert_eq!(state_payload(&onoff.values)["color_mode"], "onoff");
}

#[test]
fn a_light_with_effects_offers_them_by_name() {
    let strip = |writable: &str| {
        entity(
            "Strip",
            &[("effects", "Rainbow, Strobe,None"), ("writable", writable)],
            vec![
                Component::Light,
                Component::Switch(true),
                Component::Effect("Rainbow".into()),
            ],
        )
    };
    let e = strip("Switch,Effect");
    let h = only(plan(&e));
    assert_eq!(h.config["effect"], true);
    assert_eq!(
        h.config["effect_list"],
        json!(["Rainbow", "Strobe", "None"])
    );
    assert_eq!(state_payload(&e.values)["effect"], "Rainbow");
    // Home Assistant's effect command is the component.
    assert_eq!(
        command_values(br#"{"state":"ON","effect":"Strobe"}"#),
        Ok(vec![
            Component::Effect("Strobe".into()),
            Component::Switch(true)
        ])
    );
    // An effect the entity does not take is not offered.
    let fixed = only(plan(&strip("Switch")));
    assert!(
        !fixed.config.contains_key("effect_list"),
        "{:?}",
        fixed.config
    );
}

#[test]
fn sensors_carry_class_unit_and_state_class() {
    for (c, class, unit, state_class) in [
        (
            Component::Temperature(21.5),
            Some("temperature"),
            Some("°C"),
            "measurement",
        ),
        (
            Component::Energy(3.0),
            Some("energy"),
            Some("kWh"),
            "total_increasing",
        ),
        (
            Component::Co2(500.0),
            Some("carbon_dioxide"),
            Some("ppm"),
            "measurement",
        ),
        (Component::LinkQuality(90), None, Some("lqi"), "measurement"),
    ] {
        let name = c.name();
        let h = only(plan(&entity(
            name,
            &[("writable", "")],
            vec![Component::Sensor, c],
        )));
        assert_eq!(h.platform, "sensor", "{name}");
        assert!(!h.commands);
        assert_eq!(
            h.config.get("device_class").and_then(Json::as_str),
            class,
            "{name}"
        );
        assert_eq!(
            h.config.get("unit_of_measurement").and_then(Json::as_str),
            unit,
            "{name}"
        );
        assert_eq!(h.config["state_class"], state_class, "{name}");
        assert_eq!(
            h.config["value_template"],
            format!("{{{{ value_json.{} }}}}", snake(name))
        );
    }
    let number = entity(
        "Signal",
        &[("unit", "dBm"), ("writable", "")],
        vec![Component::Number(-60.0)],
    );
    let h = only(plan(&number));
    assert_eq!(h.platform, "sensor");
    assert_eq!(h.config["unit_of_measurement"], "dBm");
    let total = entity(
        "Meter",
        &[("state_class", "total")],
        vec![Component::Energy(1.0)],
    );
    assert_eq!(only(plan(&total)).config["state_class"], "total");
}

#[test]
fn binary_values_are_binary_sensors_and_a_contact_is_inverted() {
    let door = only(plan(&entity(
        "Door",
        &[("writable", "")],
        vec![Component::Contact(true)],
    )));
    assert_eq!(door.platform, "binary_sensor");
    assert_eq!(door.config["device_class"], "door");
    assert_eq!(
        door.config["value_template"],
        "{{ 'ON' if not value_json.contact else 'OFF' }}"
    );
    let window = only(plan(&entity(
        "Window",
        &[("device_class", "window")],
        vec![Component::Contact(false)],
    )));
    assert_eq!(window.config["device_class"], "window");
    let motion = only(plan(&entity("Motion", &[], vec![Component::Motion(false)])));
    assert_eq!(motion.config["device_class"], "motion");
    // A Switch nobody may change is a binary sensor, not a switch.
    let ro = only(plan(&entity(
        "Relay",
        &[("writable", "")],
        vec![Component::Switch(true)],
    )));
    assert_eq!(ro.platform, "binary_sensor");
    assert!(ro.config.get("device_class").is_none());
}

#[test]
fn writable_values_are_switches_numbers_selects_and_buttons() {
    let sw = only(plan(&entity(
        "Relay 1",
        &[("writable", "Switch")],
        vec![Component::Switch(false)],
    )));
    assert_eq!(sw.platform, "switch");
    assert_eq!(sw.config["payload_on"], r#"{"switch":true}"#);
    assert_eq!(sw.config["state_on"], "ON");
    assert_eq!(sw.config["state_off"], "OFF");
    let n = only(plan(&entity(
        "Offset",
        &[
            ("writable", "Number"),
            ("min", "-5"),
            ("max", "5"),
            ("step", "0.5"),
            ("unit", "°C"),
        ],
        vec![Component::Number(0.0)],
    )));
    assert_eq!(n.platform, "number");
    assert_eq!(
        (
            n.config["min"].clone(),
            n.config["max"].clone(),
            n.config["step"].clone()
        ),
        (json!(-5.0), json!(5.0), json!(0.5))
    );
    assert_eq!(n.config["unit_of_measurement"], "°C");
    assert_eq!(n.config["command_template"], r#"{"number": {{ value }}}"#);
    let s = only(plan(&entity(
        "Mode",
        &[("writable", "Select"), ("options", "eco, comfort")],
        vec![Component::Select("eco".into())],
    )));
    assert_eq!(s.platform, "select");
    assert_eq!(s.config["options"], json!(["eco", "comfort"]));
    let b = only(plan(&entity("Restart", &[], vec![Component::ButtonPress])));
    assert_eq!(b.platform, "button");
    assert_eq!(b.config["payload_press"], r#"{"button_press":true}"#);
    assert_eq!(
        command_values(br#"{"button_press":true}"#),
        Ok(vec![Component::ButtonPress])
    );
}

#[test]
fn covers_and_climates_read_their_keys() {
    let cover = only(plan(&entity(
        "Cover",
        &[("device_class", "shutter")],
        vec![
            Component::Cover,
            Component::CoverState(CoverState::Open),
            Component::CoverPosition(100.0),
        ],
    )));
    assert_eq!(cover.platform, "cover");
    assert_eq!(cover.config["device_class"], "shutter");
    assert_eq!(
        cover.config["position_template"],
        "{{ value_json.cover_position }}"
    );
    assert_eq!(
        state_payload(&[Component::CoverState(CoverState::Open)])["cover_state"],
        "open"
    );
    assert_eq!(
        command_values(br#"{"cover_command":"stop"}"#),
        Ok(vec![Component::CoverCommand(
            igloo_provider::protocol::component::CoverCommand::Stop
        )])
    );
    let climate = only(plan(&entity(
        "Thermostat",
        &[("modes", "Off,Heat,HeatCool"), ("min", "5"), ("max", "30")],
        vec![
            Component::Climate,
            Component::Temperature(20.5),
            Component::TargetTemperature(21.0),
            Component::ClimateMode(ClimateMode::HeatCool),
        ],
    )));
    assert_eq!(climate.platform, "climate");
    assert_eq!(climate.config["modes"], json!(["off", "heat", "heat_cool"]));
    assert_eq!(climate.config["min_temp"], 5.0);
    assert_eq!(
        climate.config["current_temperature_template"],
        "{{ value_json.temperature }}"
    );
    assert_eq!(
        state_payload(&[Component::ClimateMode(ClimateMode::HeatCool)])["climate_mode"],
        "heat_cool"
    );
    assert_eq!(
        command_values(br#"{"climate_mode":"fan_only","target_temperature":22.5}"#),
        Ok(vec![
            Component::ClimateMode(ClimateMode::FanOnly),
            Component::TargetTemperature(22.5)
        ])
    );
}

#[test]
fn several_values_give_several_entities_and_nothing_is_said_why() {
    let p = plan(&entity(
        "Climate sensor",
        &[],
        vec![Component::Temperature(20.0), Component::Humidity(40.0)],
    ));
    let parts: Vec<(&str, Option<&str>)> = p
        .entities
        .iter()
        .map(|h| (h.platform, h.component))
        .collect();
    assert_eq!(parts, [("sensor", None), ("sensor", Some("Humidity"))]);
    let empty = plan(&entity("Nothing", &[], vec![]));
    assert_eq!(empty.skipped.as_deref(), Some("no values yet"));
    let odd = plan(&entity("Odd", &[], vec![Component::Cover]));
    assert_eq!(odd.entities.len(), 1);
    let lock = plan(&entity(
        "Lock",
        &[],
        vec![Component::LockCommand(
            igloo_provider::protocol::component::LockCommand::Open,
        )],
    ));
    assert!(lock.skipped.is_some_and(|s| s.contains("LockCommand")));
}

#[test]
fn json_light_commands_become_components() {
    assert_eq!(
        command_values(br#"{"state":"ON","brightness":80,"color":{"r":1,"g":2,"b":3},"color_temp":250,"transition":2}"#),
        Ok(vec![
            Component::Brightness(80.0),
            Component::Color(Color { r: 1, g: 2, b: 3 }),
            Component::ColorTemperature(250),
            Component::Switch(true),
        ])
    );
    assert_eq!(
        command_values(br#"{"switch":false}"#),
        Ok(vec![Component::Switch(false)])
    );
    assert!(matches!(
        command_values(b"ON"),
        Err(CommandError::NotAnObject(_))
    ));
    assert!(
        matches!(command_values(br#"{"warp":9}"#), Err(CommandError::Value(m)) if m.starts_with("warp"))
    );
    assert!(matches!(command_values(b"{}"), Err(CommandError::Value(_))));
}

#[test]
fn named_modes_are_lists_with_state_and_command_templates() {
    let ac = entity(
        "AC",
        &[
            ("modes", "Off,Cool"),
            ("fan_modes", "auto,low,high"),
            ("swing_modes", "off,vertical"),
            ("preset_modes", "none,eco,boost"),
            (
                "writable",
                "ClimateMode,TargetTemperature,ClimateFanMode,ClimatePreset",
            ),
        ],
        vec![
            Component::Climate,
            Component::TargetTemperature(24.0),
            Component::ClimateMode(ClimateMode::Cool),
            Component::ClimateFanMode("low".into()),
            Component::ClimateSwingMode("off".into()),
            Component::ClimatePreset("none".into()),
        ],
    );
    let h = only(plan(&ac));
    assert_eq!(h.config["fan_modes"], json!(["auto", "low", "high"]));
    assert_eq!(
        h.config["fan_mode_state_template"],
        "{{ value_json.climate_fan_mode }}"
    );
    assert_eq!(
        h.config["fan_mode_command_template"],
        r#"{"climate_fan_mode": {{ value | tojson }}}"#
    );
    // Swing is reported, not writable: shown, not offered.
    assert_eq!(h.config["swing_modes"], json!(["off", "vertical"]));
    assert!(!h.config.contains_key("swing_mode_command_template"));
    // Home Assistant reserves "none" for no preset.
    assert_eq!(h.config["preset_modes"], json!(["eco", "boost"]));
    let needed = |key: &str| topic_needed("climate", key, &h.config);
    assert!(needed("fan_mode_state_topic") && needed("fan_mode_command_topic"));
    assert!(needed("swing_mode_state_topic") && !needed("swing_mode_command_topic"));
    assert!(needed("preset_mode_state_topic") && needed("preset_mode_command_topic"));
    assert_eq!(state_payload(&ac.values)["climate_fan_mode"], json!("low"));
    assert_eq!(
        command_values(br#"{"climate_fan_mode":"high","climate_preset":"eco"}"#),
        Ok(vec![
            Component::ClimateFanMode("high".into()),
            Component::ClimatePreset("eco".into())
        ])
    );
    // A climate device without them has none of the keys.
    let plain = only(plan(&entity(
        "Thermostat",
        &[],
        vec![Component::Climate, Component::TargetTemperature(20.0)],
    )));
    assert!(!plain.config.contains_key("fan_modes"));
    assert!(!topic_needed(
        "climate",
        "preset_mode_state_topic",
        &plain.config
    ));

    let purifier = only(plan(&entity(
        "Purifier",
        &[
            ("preset_modes", "Auto,Sleep"),
            ("writable", "Switch,FanPreset"),
        ],
        vec![
            Component::Fan,
            Component::Switch(true),
            Component::FanPreset("Sleep".into()),
        ],
    )));
    assert_eq!(purifier.config["preset_modes"], json!(["Auto", "Sleep"]));
    assert_eq!(
        purifier.config["preset_mode_command_template"],
        r#"{"fan_preset": {{ value | tojson }}}"#
    );
    let needed = |key: &str| topic_needed("fan", key, &purifier.config);
    assert!(needed("preset_mode_state_topic") && needed("preset_mode_command_topic"));
}

#[test]
fn fans_offer_only_the_features_they_have_and_may_change() {
    use igloo_provider::protocol::component::FanDirection;
    let fan = only(plan(&entity(
        "Fan",
        &[("writable", "Switch,FanSpeed,FanOscillating")],
        vec![
            Component::Fan,
            Component::Switch(true),
            Component::FanSpeed(40.0),
            Component::FanOscillating(false),
            Component::FanDirection(FanDirection::Reverse),
        ],
    )));
    assert_eq!(fan.platform, "fan");
    assert_eq!(
        fan.config["command_template"],
        r#"{"switch": {{ 'true' if value == 'ON' else 'false' }}}"#
    );
    assert_eq!(
        fan.config["percentage_command_template"],
        r#"{"fan_speed": {{ value }}}"#
    );
    // The state renders to Home Assistant's own oscillation payloads, which
    // it compares with its payload_oscillation_on/off: those stay default.
    assert!(!fan.config.contains_key("payload_oscillation_on"));
    assert_eq!(
        fan.config["oscillation_command_template"],
        r#"{"fan_oscillating": {{ 'true' if value == 'oscillate_on' else 'false' }}}"#
    );
    // Direction is reported but not writable: shown, not offered.
    assert!(fan.config.contains_key("direction_value_template"));
    assert!(!fan.config.contains_key("direction_command_template"));
    let needed = |key: &str| topic_needed("fan", key, &fan.config);
    assert!(needed("percentage_command_topic") && needed("oscillation_command_topic"));
    assert!(needed("direction_state_topic") && !needed("direction_command_topic"));
    assert!(needed("command_topic") && needed("state_topic"));
    let plain = only(plan(&entity(
        "Fan",
        &[],
        vec![Component::Fan, Component::Switch(false)],
    )));
    for key in ["percentage_command_topic", "oscillation_state_topic"] {
        assert!(!topic_needed("fan", key, &plain.config), "{key}");
    }
    let state = state_payload(&[
        Component::Switch(true),
        Component::FanSpeed(40.0),
        Component::FanDirection(FanDirection::Reverse),
    ]);
    assert_eq!(state["fan_speed"], 40.0);
    assert_eq!(state["fan_direction"], "reverse");
    assert_eq!(
        command_values(br#"{"fan_speed":75,"fan_direction":"forward","fan_oscillating":true}"#),
        Ok(vec![
            Component::FanDirection(FanDirection::Forward),
            Component::FanOscillating(true),
            Component::FanSpeed(75.0),
        ])
    );
}

#[test]
fn writable_locks_are_locks_and_read_only_ones_sensors() {
    use igloo_provider::protocol::component::Lock;
    let lock = only(plan(&entity(
        "Lock",
        &[("writable", "Lock,LockCommand")],
        vec![Component::Lock(Lock::Jammed)],
    )));
    assert_eq!(lock.platform, "lock");
    assert!(lock.commands);
    assert_eq!(lock.config["state_jammed"], "jammed");
    assert_eq!(
        state_payload(&[Component::Lock(Lock::Jammed)])["lock"],
        "jammed"
    );
    assert_eq!(
        command_values(
            lock.config["payload_unlock"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
        ),
        Ok(vec![Component::Lock(Lock::Unlocked)])
    );
    let watched = only(plan(&entity(
        "Lock",
        &[("writable", "")],
        vec![Component::Lock(Lock::Locked)],
    )));
    assert_eq!(watched.platform, "sensor");
    assert!(!watched.commands);
}

#[test]
fn a_huge_refused_command_is_quoted_by_its_start_only() {
    let payload = "x".repeat(100_000);
    let Err(CommandError::NotAnObject(why)) = command_values(payload.as_bytes()) else {
        panic!("a non-JSON payload must be refused");
    };
    assert!(why.len() < 400, "{} bytes quoted", why.len());
    assert!(why.contains("(100000 bytes)"), "{why}");
}
