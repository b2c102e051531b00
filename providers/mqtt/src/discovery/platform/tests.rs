use super::*;
use crate::discovery::config::parse_entity;
use crate::discovery::fixtures::*;

fn planned(platform: &str, payload: &str) -> EntityPlan {
    let d =
        parse_entity(platform, "node/obj", payload.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    plan(&d).unwrap_or_else(|e| panic!("{platform}: {e}"))
}

fn attr<'a>(p: &'a EntityPlan, key: &str) -> Option<&'a str> {
    p.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[test]
fn tasmota_relay_and_power() {
    let relay = planned("switch", TASMOTA_RELAY);
    assert_eq!(relay.name, "Kitchen Plug");
    assert_eq!(relay.component_names(), ["Switch"]);
    assert_eq!(relay.reads[0].topic, "tele/kitchen_plug/STATE");
    assert_eq!(
        relay.reads[0].template.as_deref(),
        Some("{{value_json.POWER}}")
    );
    assert_eq!(relay.writes[0].topic, "cmnd/kitchen_plug/POWER");
    assert_eq!(attr(&relay, "writable"), Some("Switch"));
    assert_eq!(relay.availability.sources[0].available.text, "Online");
    let power = planned("sensor", TASMOTA_POWER);
    assert_eq!(power.component_names(), ["Sensor", "Power"]);
    // Without the device's name in this config the prefix stays.
    assert_eq!(power.name, "Kitchen Plug ENERGY Power");
    // A unit that is not a known class's: a Number with the unit.
    let status = planned("sensor", TASMOTA_STATUS);
    assert_eq!(status.name, "status", "device name stripped");
    assert_eq!(status.component_names(), ["Sensor", "Number"]);
    assert_eq!(attr(&status, "unit"), Some("%"));
}

#[test]
fn esphome_sensor_and_json_light() {
    let t = planned("sensor", ESPHOME_TEMPERATURE);
    assert_eq!(t.name, "Temperature");
    assert_eq!(t.component_names(), ["Sensor", "Temperature"]);
    assert_eq!(attr(&t, "state_class"), Some("measurement"));
    let l = planned("light", ESPHOME_LIGHT);
    assert_eq!(l.marker, Some(Component::Light));
    assert_eq!(attr(&l, "writable"), Some("Switch,Brightness,Color,Effect"));
    assert_eq!(attr(&l, "effects"), Some("Rainbow,Strobe,None"));
    assert!(
        matches!(l.reads[0].conv, ReadConv::LightJson { scale, kelvin: false } if scale == 255.0)
    );
}

#[test]
fn tasmota_light_schemes_are_its_effects() {
    let l = planned("light", TASMOTA_LIGHT);
    assert_eq!(l.marker, Some(Component::Light));
    assert_eq!(attr(&l, "effects"), Some("0,1,2,3,4"));
    let effect = l
        .reads
        .iter()
        .find(|r| r.conv.component_names() == ["Effect"])
        .expect("an effect read");
    assert_eq!(effect.topic, "desk_light/tele/STATE");
    assert_eq!(effect.template.as_deref(), Some("{{value_json.Scheme}}"));
    let w = l.writes.iter().find(|w| w.component == "Effect");
    let w = w.expect("an effect write");
    assert_eq!(w.topic, "desk_light/cmnd/Scheme");
    assert_eq!(
        w.conv,
        WriteConv::Choice {
            options: ["0", "1", "2", "3", "4"].map(String::from).to_vec()
        }
    );
    assert!(attr(&l, "writable").is_some_and(|w| w.split(',').any(|c| c == "Effect")));
}

#[test]
fn climate_fan_swing_and_preset_modes_are_named_modes() {
    let ac = planned("climate", ESPHOME_CLIMATE);
    assert_eq!(
        ac.component_names(),
        [
            "Climate",
            "Temperature",
            "TargetTemperature",
            "ClimateMode",
            "ClimateAction",
            "ClimateFanMode",
            "ClimateSwingMode",
            "ClimatePreset"
        ]
    );
    assert_eq!(attr(&ac, "fan_modes"), Some("auto,low,medium,high,quiet"));
    assert_eq!(attr(&ac, "swing_modes"), Some("off,vertical"));
    assert_eq!(attr(&ac, "preset_modes"), Some("none,eco,boost,sleep"));
    let write = |name: &str| {
        ac.writes
            .iter()
            .find(|w| w.component == name)
            .unwrap_or_else(|| panic!("no {name} write"))
    };
    assert_eq!(
        write("ClimateFanMode").topic,
        "bedroom/climate/ac/fan_mode/command"
    );
    assert_eq!(
        write("ClimatePreset").topic,
        "bedroom/climate/ac/preset/command"
    );
    assert!(
        matches!(&write("ClimateSwingMode").conv, WriteConv::Choice { options } if options == &["off", "vertical"])
    );
    // Without lists, Home Assistant's defaults; without topics, nothing.
    let plain = planned(
        "climate",
        r#"{"mode_stat_t":"c/m","fan_mode_stat_t":"c/f","fan_mode_cmd_t":"c/fc"}"#,
    );
    assert_eq!(attr(&plain, "fan_modes"), Some("auto,low,medium,high"));
    assert_eq!(attr(&plain, "swing_modes"), None);
    assert!(!plain.component_names().contains(&"ClimatePreset"));

    let fan = planned("fan", PURIFIER_FAN);
    assert_eq!(
        fan.component_names(),
        ["Fan", "Switch", "FanSpeed", "FanPreset"]
    );
    assert_eq!(attr(&fan, "preset_modes"), Some("Auto,Sleep,Favorite"));
    let preset = fan
        .reads
        .iter()
        .find(|r| r.conv.component_names() == ["FanPreset"])
        .expect("a preset read");
    assert_eq!(preset.topic, "purifier/fan/preset/state");
    assert_eq!(preset.template.as_deref(), Some("{{ value_json.mode }}"));
    assert!(
        matches!(&preset.conv, ReadConv::Mode { names, none, .. } if names == &["Auto", "Sleep", "Favorite"] && none == &[Text::new("None")]),
        "{:?}",
        preset.conv
    );
    // The fan's own reset payload; a preset without a list is no preset.
    let reset = planned(
        "fan",
        r#"{"cmd_t":"f/s","pr_mode_stat_t":"f/p","pr_modes":["eco"],"pl_rst_pr_mode":"off"}"#,
    );
    assert!(
        reset
            .reads
            .iter()
            .any(|r| matches!(&r.conv, ReadConv::Mode { none, .. } if none == &[Text::new("off")]))
    );
    let unlisted = planned("fan", r#"{"cmd_t":"f/s","pr_mode_stat_t":"f/p"}"#);
    assert!(!unlisted.component_names().contains(&"FanPreset"));
}

#[test]
fn shelly_roller_with_base_topic() {
    let c = planned("cover", SHELLY_ROLLER);
    assert_eq!(c.marker, Some(Component::Cover));
    let topics: Vec<&str> = c.reads.iter().map(|r| r.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "shellies/shellyswitch25-8CAAB5/roller/0",
            "shellies/shellyswitch25-8CAAB5/roller/0/pos"
        ]
    );
    assert_eq!(attr(&c, "writable"), Some("CoverCommand,CoverPosition"));
    let w = &c.writes[0];
    assert_eq!(w.topic, "shellies/shellyswitch25-8CAAB5/roller/0/command");
    assert_eq!(
        w.conv,
        WriteConv::Enum {
            table: vec![
                ("Open", "open".into()),
                ("Close", "close".into()),
                ("Stop", "stop".into())
            ]
        }
    );
}

#[test]
fn zigbee2mqtt_door_is_an_inverted_contact_named_after_its_class() {
    let p = planned("binary_sensor", Z2M_DOOR);
    assert_eq!(p.name, "Door");
    assert_eq!(p.component_names(), ["Contact"]);
    let ReadConv::OnOff { invert, on, .. } = &p.reads[0].conv else {
        panic!("{:?}", p.reads[0].conv)
    };
    assert!(*invert && on.boolean && on.text == "false");
    assert_eq!(p.availability.mode, Mode::All);
    assert_eq!(p.availability.sources.len(), 2);
}

#[test]
fn every_listed_platform_maps() {
    let cases = [
        (
            "fan",
            r#"{"stat_t":"f/s","cmd_t":"f/c","pct_stat_t":"f/p","pct_cmd_t":"f/pc","osc_cmd_t":"f/o","osc_stat_t":"f/os"}"#,
            vec!["Fan", "Switch", "FanSpeed", "FanOscillating"],
        ),
        (
            "climate",
            r#"{"curr_temp_t":"c/t","temp_stat_t":"c/sp","temp_cmd_t":"c/spc","mode_stat_t":"c/m","mode_cmd_t":"c/mc","modes":["off","heat"],"act_t":"c/a"}"#,
            vec![
                "Climate",
                "Temperature",
                "TargetTemperature",
                "ClimateMode",
                "ClimateAction",
            ],
        ),
        ("lock", r#"{"stat_t":"l/s","cmd_t":"l/c"}"#, vec!["Lock"]),
        (
            "number",
            r#"{"stat_t":"n/s","cmd_t":"n/c","min":0,"max":10,"step":0.5,"unit_of_meas":"min"}"#,
            vec!["Number"],
        ),
        (
            "select",
            r#"{"stat_t":"s/s","cmd_t":"s/c","ops":["a","b"]}"#,
            vec!["Select"],
        ),
        ("button", r#"{"cmd_t":"b/c"}"#, vec!["ButtonPress"]),
        ("text", r#"{"stat_t":"t/s","cmd_t":"t/c"}"#, vec!["Text"]),
        (
            "event",
            r#"{"stat_t":"e/s","evt_typ":["press","hold"]}"#,
            vec!["Action"],
        ),
        (
            "device_automation",
            r#"{"atype":"trigger","t":"z/remote/action","type":"action","stype":"single","pl":"single"}"#,
            vec!["Action"],
        ),
        (
            "light",
            r#"{"stat_t":"l/s","cmd_t":"l/c","bri_stat_t":"l/b","bri_cmd_t":"l/bc","rgb_stat_t":"l/r","rgb_cmd_t":"l/rc","clr_temp_stat_t":"l/t","clr_temp_cmd_t":"l/tc"}"#,
            vec!["Light", "Switch", "Brightness", "ColorTemperature", "Color"],
        ),
    ];
    for (platform, payload, components) in cases {
        assert_eq!(
            planned(platform, payload).component_names(),
            components,
            "{platform}"
        );
    }
    let n = planned(
        "number",
        r#"{"stat_t":"n/s","cmd_t":"n/c","min":0,"max":10,"step":0.5,"unit_of_meas":"min"}"#,
    );
    assert_eq!(attr(&n, "unit"), Some("min"));
    assert_eq!(attr(&n, "step"), Some("0.5"));
    let s = planned(
        "select",
        r#"{"stat_t":"s/s","cmd_t":"s/c","ops":["a","b"]}"#,
    );
    assert_eq!(attr(&s, "options"), Some("a,b"));
}

#[test]
fn unsupported_platforms_and_variants_say_why() {
    let skip = |platform: &str, payload: &str| {
        let d = parse_entity(platform, "x", payload.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        plan(&d).err()
    };
    assert_eq!(
        skip("vacuum", r#"{"cmd_t":"v"}"#),
        Some(Skip::Platform("vacuum".into()))
    );
    assert!(matches!(
        skip("light", r#"{"schema":"lamp","cmd_t":"l"}"#),
        Some(Skip::Variant(_))
    ));
    // A template light needs both command templates (Home Assistant's schema).
    assert_eq!(
        skip(
            "light",
            r#"{"schema":"template","cmd_t":"l","cmd_on_tpl":"on"}"#
        ),
        Some(Skip::Missing("command_off_template"))
    );
    assert_eq!(skip("button", "{}"), Some(Skip::Missing("command_topic")));
    assert!(skip("sensor", "{}").is_some());
}

#[test]
fn sensor_units_convert_or_fall_back_to_number() {
    let f = planned(
        "sensor",
        r#"{"stat_t":"s","dev_cla":"temperature","unit_of_meas":"°F"}"#,
    );
    assert!(
        matches!(&f.reads[0].conv, ReadConv::Number { component, linear } if component.name == "Temperature" && *linear == classes::FAHRENHEIT)
    );
    let mv = planned(
        "sensor",
        r#"{"stat_t":"s","dev_cla":"voltage","unit_of_meas":"mV"}"#,
    );
    assert_eq!(mv.component_names(), ["Sensor", "Voltage"]);
    let odd = planned(
        "sensor",
        r#"{"stat_t":"s","dev_cla":"temperature","unit_of_meas":"furlongs"}"#,
    );
    assert_eq!(odd.component_names(), ["Sensor", "Number"]);
    assert_eq!(attr(&odd, "unit"), Some("furlongs"));
    let txt = planned("sensor", r#"{"stat_t":"s","name":"Firmware"}"#);
    assert_eq!(txt.component_names(), ["Sensor", "Text"]);
}

#[test]
fn a_template_light_reads_every_value_from_its_state_topic() {
    let l = planned("light", TEMPLATE_STRIP);
    assert_eq!(l.marker, Some(Component::Light));
    assert_eq!(
        l.component_names(),
        ["Light", "Switch", "Brightness", "Color", "Effect"]
    );
    assert!(l.reads.iter().all(|r| r.topic == "strip/state"));
    assert_eq!(attr(&l, "writable"), Some("Switch,Brightness,Color,Effect"));
    assert_eq!(attr(&l, "effects"), Some("Rainbow,Fire"));
    let rgb = l.reads.iter().find(|r| r.conv == ReadConv::Rgb);
    assert_eq!(
        rgb.and_then(|r| r.template.as_deref()),
        Some(
            "{{ value.split('|')[2].split(',')[0] }},{{ value.split('|')[2].split(',')[1] }},{{ value.split('|')[2].split(',')[2] }}"
        )
    );
    // Every write renders the same template: on and off under one `if`.
    let w = &l.writes[0];
    assert_eq!(w.topic, "strip/set");
    assert!(
        w.template.as_deref().is_some_and(
            |t| t.starts_with("{% if state %}on|") && t.ends_with("{% else %}off{% endif %}")
        ),
        "{:?}",
        w.template
    );
    assert!(l.writes.iter().all(|x| x.template == w.template));
    // Without colour templates a colour temperature, with the mired range.
    let ct = planned(
        "light",
        r#"{"schema":"template","cmd_t":"c","stat_t":"s","cmd_on_tpl":"on","cmd_off_tpl":"off","clr_temp_tpl":"{{ value }}","max_mirs":400}"#,
    );
    assert_eq!(
        ct.component_names(),
        ["Light", "ColorTemperature"],
        "no state template: no Switch read"
    );
    assert_eq!(attr(&ct, "writable"), Some("Switch,ColorTemperature"));
    assert_eq!(attr(&ct, "max_mireds"), Some("400"));
}
