use serde_json::json;

use super::*;
use crate::z2m::devices::{DevicePlan, parse_devices};
use crate::z2m::fixtures::*;

pub(crate) fn plan(device: J) -> DevicePlan {
    let list = parse_devices(&device_list(&[device])).expect("fixture parses");
    assert!(list.malformed.is_empty(), "{:?}", list.malformed);
    list.devices.into_iter().next().expect("one device")
}

pub(crate) fn entity<'a>(plan: &'a DevicePlan, name: &str) -> &'a EntityPlan {
    plan.exposes
        .entities
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entity {name:?} in {:?}", names(plan)))
}

fn names(plan: &DevicePlan) -> Vec<&str> {
    plan.exposes
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .collect()
}

fn attrs(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn ikea_led1545g12_light() {
    let p = plan(ikea_led1545g12());
    assert_eq!(
        names(&p),
        ["Light", "Effect", "Power-on behavior", "Linkquality"]
    );
    let light = entity(&p, "Light");
    assert_eq!(
        light.component_names(),
        ["Light", "Switch", "Brightness", "ColorTemperature"]
    );
    assert_eq!(
        light.attributes,
        attrs(&[
            ("min_mireds", "250"),
            ("max_mireds", "454"),
            ("writable", "Switch,Brightness,ColorTemperature"),
        ])
    );
    assert_eq!(
        light.bindings[0].conv,
        Conv::OnOff {
            on: json!("ON"),
            off: json!("OFF")
        }
    );
    assert_eq!(light.bindings[1].conv, Conv::Percent { max: 254.0 });
    let props: Vec<&str> = light.bindings.iter().map(|b| b.property.as_str()).collect();
    assert_eq!(props, ["state", "brightness", "color_temp"]);

    let effect = entity(&p, "Effect");
    assert_eq!(effect.component_names(), ["Select"]);
    assert_eq!(
        effect.attributes,
        attrs(&[
            ("property", "effect"),
            (
                "options",
                "blink,breathe,okay,channel_change,finish_effect,stop_effect"
            ),
            ("writable", "Select"),
        ])
    );
    let pob = entity(&p, "Power-on behavior");
    assert_eq!(
        pob.attributes,
        attrs(&[
            ("property", "power_on_behavior"),
            ("options", "off,on,toggle,previous"),
            ("category", "config"),
            ("writable", "Select"),
        ])
    );
    let lqi = entity(&p, "Linkquality");
    assert_eq!(lqi.component_names(), ["LinkQuality"]);
    assert_eq!(
        lqi.attributes,
        attrs(&[("property", "linkquality"), ("category", "diagnostic")])
    );
    // The colour-options composite is known but not mapped.
    assert_eq!(
        p.exposes.skipped,
        [Skipped {
            kind: "composite".into(),
            property: Some("color_options".into()),
            reason: SkipReason::NotMapped
        }]
    );
    assert_eq!(
        p.attributes,
        attrs(&[
            ("model", "LED1545G12"),
            ("manufacturer", "IKEA"),
            (
                "description",
                "TRADFRI bulb E26/E27, white spectrum, globe, opal, 1000 lm"
            ),
        ])
    );
    assert_eq!(p.ieee, "0x000b57fffec6a5b2");
    assert_eq!(p.friendly_name, "living_lamp");
}

#[test]
fn aqara_wsdcgq11lm_sensor() {
    let p = plan(aqara_wsdcgq11lm());
    assert_eq!(
        names(&p),
        [
            "Battery",
            "Temperature",
            "Humidity",
            "Pressure",
            "Voltage",
            "Linkquality"
        ]
    );
    let components: Vec<Vec<&str>> = p
        .exposes
        .entities
        .iter()
        .map(EntityPlan::component_names)
        .collect();
    assert_eq!(
        components,
        [
            ["Battery"],
            ["Temperature"],
            ["Humidity"],
            ["Pressure"],
            ["Voltage"],
            ["LinkQuality"]
        ]
    );
    // mV are converted to the component's V; no entity is writable.
    assert_eq!(
        entity(&p, "Voltage").bindings[0].conv,
        Conv::Number { exp10: -3 }
    );
    assert_eq!(
        entity(&p, "Temperature").attributes,
        attrs(&[("property", "temperature")])
    );
    assert!(
        p.exposes
            .entities
            .iter()
            .all(|e| e.bindings.iter().all(|b| !b.writable)
                && !e.attributes.iter().any(|(k, _)| k == "writable"))
    );
    assert!(p.exposes.skipped.is_empty());
    assert_eq!(p.friendly_name, "bedroom/climate");
    assert_eq!(
        p.attributes,
        attrs(&[
            ("model", "WSDCGQ11LM"),
            ("manufacturer", "Aqara"),
            ("description", "Temperature and humidity sensor"),
        ])
    );
}

#[test]
fn aqara_mccgq11lm_contact() {
    let p = plan(aqara_mccgq11lm());
    assert_eq!(
        names(&p),
        [
            "Battery",
            "Contact",
            "Device temperature",
            "Voltage",
            "Power outage count",
            "Linkquality"
        ]
    );
    let contact = entity(&p, "Contact");
    assert_eq!(contact.component_names(), ["Contact"]);
    // value_on is false for contact (Home Assistant's "on = open"); the raw boolean is kept.
    assert_eq!(contact.bindings[0].conv, Conv::Bool);
    let dt = entity(&p, "Device temperature");
    assert_eq!(dt.component_names(), ["Number"]);
    assert_eq!(
        dt.attributes,
        attrs(&[
            ("property", "device_temperature"),
            ("unit", "°C"),
            ("category", "diagnostic")
        ])
    );
    let poc = entity(&p, "Power outage count");
    assert_eq!(poc.component_names(), ["Number"]);
    assert!(!poc.attributes.iter().any(|(k, _)| k == "unit"));
}

#[test]
fn ikea_cover() {
    let p = plan(ikea_e1757_cover());
    assert_eq!(names(&p), ["Cover", "Battery", "Linkquality"]);
    let cover = entity(&p, "Cover");
    assert_eq!(
        cover.component_names(),
        ["Cover", "CoverState", "CoverPosition"]
    );
    assert_eq!(
        cover.attributes,
        attrs(&[("writable", "CoverCommand,CoverPosition")])
    );
    assert_eq!(cover.bindings[1].conv, Conv::Percent { max: 100.0 });
}

#[test]
fn tuya_trv_climate_and_child_lock() {
    let p = plan(tuya_tv02_trv());
    assert_eq!(
        names(&p),
        [
            "Battery low",
            "Child lock",
            "Open window",
            "Climate",
            "Trv mode",
            "Linkquality"
        ]
    );
    let climate = entity(&p, "Climate");
    assert_eq!(
        climate.component_names(),
        ["Climate", "Temperature", "TargetTemperature", "ClimateMode"]
    );
    let props: Vec<&str> = climate
        .bindings
        .iter()
        .map(|b| b.property.as_str())
        .collect();
    assert_eq!(
        props,
        [
            "local_temperature",
            "current_heating_setpoint",
            "system_mode"
        ]
    );
    assert_eq!(
        climate.attributes,
        attrs(&[
            ("min", "5"),
            ("max", "29.5"),
            ("step", "0.5"),
            ("modes", "off,heat,auto"),
            ("writable", "TargetTemperature,ClimateMode"),
        ])
    );
    let lock = entity(&p, "Child lock");
    assert_eq!(lock.component_names(), ["Lock"]);
    assert_eq!(lock.bindings[0].property, "child_lock");
    assert_eq!(lock.attributes, attrs(&[("writable", "Lock")]));
    assert_eq!(entity(&p, "Battery low").component_names(), ["BatteryLow"]);
    let window = entity(&p, "Open window");
    assert_eq!(window.component_names(), ["Binary"]);
    assert_eq!(
        window.attributes,
        attrs(&[("property", "open_window"), ("writable", "Binary")])
    );
    let trv_mode = entity(&p, "Trv mode");
    assert_eq!(
        trv_mode.attributes,
        attrs(&[
            ("property", "trv_mode"),
            ("options", "1,2"),
            ("writable", "Select")
        ])
    );
}

#[test]
fn occupied_heating_setpoint_is_the_target_when_present() {
    let e = plan_entities(&[json!({"type": "climate", "features": [
        {"type": "numeric", "name": "occupied_heating_setpoint",
         "property": "occupied_heating_setpoint", "access": 7, "unit": "°C"},
        {"type": "numeric", "name": "local_temperature", "property": "local_temperature",
         "access": 5, "unit": "°C"}
    ]})]);
    let climate = &e.entities[0];
    assert_eq!(
        climate.component_names(),
        ["Climate", "Temperature", "TargetTemperature"]
    );
    assert_eq!(climate.bindings[1].property, "occupied_heating_setpoint");
}

#[test]
fn climate_presets_fan_and_swing_modes_are_named_modes() {
    // Zigbee2MQTT's climate `withPreset`, `withFanMode`, `withSwingMode` (an
    // air conditioner's exposes).
    let e = plan_entities(&[json!({"type": "climate", "features": [
        {"type": "numeric", "name": "occupied_cooling_setpoint",
         "property": "occupied_cooling_setpoint", "access": 7, "unit": "°C"},
        {"type": "enum", "name": "system_mode", "property": "system_mode", "access": 7,
         "values": ["off", "cool", "heat", "fan_only"]},
        {"type": "enum", "name": "preset", "property": "preset", "access": 3,
         "values": ["comfort", "eco", "boost"]},
        {"type": "enum", "name": "fan_mode", "property": "fan_mode", "access": 7,
         "values": ["auto", "low", "medium", "high"]},
        {"type": "enum", "name": "swing_mode", "property": "swing_mode", "access": 1,
         "values": ["off", "on"]}
    ]})]);
    let ac = &e.entities[0];
    assert_eq!(
        ac.component_names(),
        [
            "Climate",
            "TargetTemperature",
            "ClimateMode",
            "ClimatePreset",
            "ClimateFanMode",
            "ClimateSwingMode"
        ]
    );
    let attr = |k: &str| {
        ac.attributes
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(attr("preset_modes"), Some("comfort,eco,boost"));
    assert_eq!(attr("fan_modes"), Some("auto,low,medium,high"));
    assert_eq!(attr("swing_modes"), Some("off,on"));
    // Swing is reported only (access 1): not writable.
    let writable = attr("writable").unwrap_or_default();
    assert!(writable.contains("ClimatePreset") && writable.contains("ClimateFanMode"));
    assert!(!writable.contains("ClimateSwingMode"), "{writable}");
    let fan = ac
        .bindings
        .iter()
        .find(|b| b.property == "fan_mode")
        .expect("a fan_mode binding");
    assert_eq!(fan.component.name, "ClimateFanMode");
}

#[test]
fn colour_light_gets_one_color_component() {
    let p = plan(hue_color_bulb());
    let light = entity(&p, "Light");
    assert_eq!(
        light.component_names(),
        ["Light", "Switch", "Brightness", "ColorTemperature", "Color"]
    );
    assert_eq!(light.bindings[3].property, "color");
    assert!(light.bindings[3].writable);
    assert_eq!(
        light.attributes,
        attrs(&[
            ("min_mireds", "153"),
            ("max_mireds", "500"),
            ("writable", "Switch,Brightness,ColorTemperature,Color"),
        ])
    );
    // Generic exposes without a label are named from the property.
    assert_eq!(names(&p), ["Light", "Linkquality"]);
}

#[test]
fn unknown_and_malformed_exposes_are_skipped() {
    let p = plan(odd_device());
    assert_eq!(names(&p), ["Temperature", "Temperature probe"]);
    assert_eq!(entity(&p, "Temperature").component_names(), ["Temperature"]);
    // °F is not the component's unit: a Number that says so.
    let probe = entity(&p, "Temperature probe");
    assert_eq!(probe.component_names(), ["Number"]);
    assert_eq!(
        probe.attributes,
        attrs(&[("property", "temperature_probe"), ("unit", "°F")])
    );
    let skipped: Vec<(&str, Option<&str>, SkipReason)> = p
        .exposes
        .skipped
        .iter()
        .map(|s| (s.kind.as_str(), s.property.as_deref(), s.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            ("gizmo", Some("flux"), SkipReason::UnknownType),
            ("numeric", Some("temperature"), SkipReason::Malformed),
            ("?", None, SkipReason::Malformed),
            ("list", Some("schedule"), SkipReason::NotMapped),
        ]
    );
}

#[test]
fn endpoints_and_duplicate_names() {
    let e = plan_entities(&[
        json!({"type": "switch", "endpoint": "l1", "features": [
            {"type": "binary", "name": "state", "property": "state_l1", "access": 7,
             "value_on": "ON", "value_off": "OFF"}]}),
        json!({"type": "switch", "endpoint": "l2", "features": [
            {"type": "binary", "name": "state", "property": "state_l2", "access": 7,
             "value_on": "ON", "value_off": "OFF"}]}),
        json!({"type": "switch", "features": [
            {"type": "binary", "name": "state", "property": "state", "access": 7,
             "value_on": "ON", "value_off": "OFF"}]}),
        json!({"type": "switch", "features": [
            {"type": "binary", "name": "state", "property": "state", "access": 1,
             "value_on": "ON", "value_off": "OFF"}]}),
        json!({"type": "numeric", "name": "power", "property": "power_l1", "endpoint": "l1",
               "access": 5, "unit": "W"}),
        json!({"type": "light", "endpoint": "rgb", "features": [
            {"type": "binary", "name": "state", "property": "state_rgb", "access": 7,
             "value_on": "ON", "value_off": "OFF"}]}),
    ]);
    let names: Vec<&str> = e.entities.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Switch l1",
            "Switch l2",
            "Switch",
            "Switch 2",
            "Power l1",
            "Light rgb"
        ]
    );
    assert_eq!(e.entities[0].component_names(), ["Switch"]);
    assert_eq!(e.entities[0].bindings[0].property, "state_l1");
    assert_eq!(
        e.entities[0].attributes,
        attrs(&[("endpoint", "l1"), ("writable", "Switch")])
    );
    assert_eq!(e.entities[3].attributes, attrs(&[]));
    assert_eq!(e.entities[4].component_names(), ["Power"]);
    assert_eq!(
        e.entities[4].attributes,
        attrs(&[("property", "power_l1"), ("endpoint", "l1")])
    );
}

#[test]
fn fan_speed_from_mode_levels() {
    let e = plan_entities(&[json!({"type": "fan", "features": [
        {"type": "binary", "name": "state", "property": "fan_state", "access": 7,
         "value_on": "ON", "value_off": "OFF"},
        {"type": "enum", "name": "mode", "property": "fan_mode", "access": 7,
         "values": ["off", "low", "medium", "high", "on", "auto", "smart"]}
    ]})]);
    let fan = &e.entities[0];
    assert_eq!(fan.name, "Fan");
    assert_eq!(fan.component_names(), ["Fan", "Switch", "FanSpeed"]);
    assert_eq!(
        fan.bindings[1].conv,
        Conv::Levels {
            levels: vec!["low".into(), "medium".into(), "high".into()],
            off: Some("off".into())
        }
    );
    // A mode without speed levels gives no FanSpeed.
    let e = plan_entities(&[json!({"type": "fan", "features": [
        {"type": "enum", "name": "mode", "property": "fan_mode", "access": 7,
         "values": ["auto", "smart"]}]})]);
    assert!(e.entities.is_empty());
    assert_eq!(e.skipped[0].reason, SkipReason::NotMapped);
    // ... but a numeric speed next to it does.
    let e = plan_entities(&[json!({"type": "fan", "features": [
        {"type": "enum", "name": "mode", "property": "fan_mode", "access": 7,
         "values": ["auto", "smart"]},
        {"type": "numeric", "name": "speed", "property": "fan_speed", "access": 7,
         "value_min": 0, "value_max": 6}]})]);
    assert_eq!(e.entities[0].component_names(), ["Fan", "FanSpeed"]);
    assert_eq!(e.entities[0].bindings[0].property, "fan_speed");
    assert_eq!(e.entities[0].bindings[0].conv, Conv::Percent { max: 6.0 });
}

#[test]
fn generic_binary_and_action_and_text() {
    let e = plan_entities(&[
        json!({"type": "binary", "name": "water_leak", "property": "water_leak", "access": 1,
               "value_on": true, "value_off": false}),
        json!({"type": "binary", "name": "led_indication", "property": "led_indication",
               "access": 7, "value_on": "ON", "value_off": "OFF"}),
        json!({"type": "enum", "name": "action", "property": "action", "access": 1,
               "values": ["single", "double", "hold"]}),
        json!({"type": "text", "name": "inserted", "property": "inserted", "access": 1}),
        json!({"type": "numeric", "name": "occupancy_timeout", "property": "occupancy_timeout",
               "access": 3, "unit": "s", "value_min": 0, "value_max": 65535, "value_step": 1}),
    ]);
    let summary: Vec<(&str, Vec<&str>)> = e
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.component_names()))
        .collect();
    assert_eq!(
        summary,
        [
            ("Water leak", vec!["WaterLeak"]),
            ("Led indication", vec!["Binary"]),
            ("Action", vec!["Action"]),
            ("Inserted", vec!["Text"]),
            ("Occupancy timeout", vec!["Number"]),
        ]
    );
    assert_eq!(
        e.entities[4].attributes,
        attrs(&[
            ("property", "occupancy_timeout"),
            ("unit", "s"),
            ("min", "0"),
            ("max", "65535"),
            ("step", "1"),
            ("writable", "Number"),
        ])
    );
}

#[test]
fn every_listed_numeric_and_binary_name_maps() {
    let numeric = [
        ("temperature", "Temperature"),
        ("local_temperature", "Temperature"),
        ("humidity", "Humidity"),
        ("pressure", "Pressure"),
        ("illuminance", "Illuminance"),
        ("illuminance_lux", "Illuminance"),
        ("power", "Power"),
        ("energy", "Energy"),
        ("voltage", "Voltage"),
        ("current", "Current"),
        ("battery", "Battery"),
        ("linkquality", "LinkQuality"),
        ("co2", "Co2"),
        ("pm25", "Pm25"),
        ("voc", "Voc"),
        ("soil_moisture", "SoilMoisture"),
    ];
    for (name, component) in numeric {
        assert_eq!(
            numeric_component(name).map(|c| c.name()),
            Some(component),
            "{name}"
        );
    }
    assert_eq!(numeric_component("device_temperature"), None);
    let binary = [
        ("contact", "Contact"),
        ("occupancy", "Occupancy"),
        ("water_leak", "WaterLeak"),
        ("smoke", "Smoke"),
        ("tamper", "Tamper"),
        ("battery_low", "BatteryLow"),
        ("vibration", "Vibration"),
        ("presence", "Presence"),
    ];
    for (name, component) in binary {
        assert_eq!(
            binary_component(name).map(|c| c.name()),
            Some(component),
            "{name}"
        );
    }
    assert_eq!(binary_component("led_indication"), None);
}

#[test]
fn units_and_names() {
    assert_eq!(unit_exp10(Some("V"), Some("mV")), Some(-3));
    assert_eq!(unit_exp10(Some("V"), Some("V")), Some(0));
    assert_eq!(unit_exp10(Some("V"), None), Some(0));
    assert_eq!(unit_exp10(Some("W"), Some("kW")), Some(3));
    assert_eq!(unit_exp10(Some("kWh"), Some("Wh")), Some(-3));
    assert_eq!(unit_exp10(Some("°C"), Some("°F")), None);
    assert_eq!(unit_exp10(Some("ppb"), Some("µg/m³")), None);
    assert_eq!(scale10(2995.0, -3), 2.995);
    assert_eq!(scale10(2.5, 3), 2500.0);
    assert_eq!(humanize("water_leak"), "Water leak");
    assert_eq!(humanize("linkquality"), "Linkquality");
    assert_eq!(humanize(""), "");
    assert_eq!(number_text(250.0), "250");
    assert_eq!(number_text(29.5), "29.5");
}

#[test]
fn interviewing_device_has_no_entities_but_keeps_basic_attributes_and_says_why() {
    let p = plan(interviewing());
    assert!(p.exposes.entities.is_empty());
    assert_eq!(
        p.attributes,
        attrs(&[
            ("model", "lumi.sensor_wleak.aq1"),
            ("manufacturer", "LUMI"),
            (
                "unsupported",
                "Zigbee2MQTT has no definition for it (not supported by Zigbee2MQTT, or still being interviewed)"
            )
        ])
    );
}
