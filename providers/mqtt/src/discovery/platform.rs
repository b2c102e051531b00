//! Discovery platforms → [`EntityPlan`]s.
//!
//! Supported (Home Assistant's MQTT platform docs for the keys and defaults):
//! `binary_sensor`, `sensor`, `switch`, `light` (default and `json` schema),
//! `cover`, `fan`, `climate`, `lock`, `number`, `select`, `button`, `text`,
//! `event` and `device_automation` triggers. Everything else is skipped with
//! a [`Skip`] reason (logged and listed in `mqtt.status`).

use igloo_provider::protocol::Component;
use igloo_provider::protocol::component::{
    ClimateAction, ClimateMode, CoverCommand, CoverState, FanDirection, Lock, LockCommand,
};
use igloo_provider::{Attributes, protocol::ComponentInfo};

use super::classes::{self, FAHRENHEIT, Linear};
use super::config::{Discovered, EntityConfig, Text};
use super::plan::{
    Availability, ColorSpace, EntityPlan, Mode, Read, ReadConv, Source, Write, WriteConv,
};
use crate::z2m::exposes::{humanize, number_text};

/// Why a discovered entity is not mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// A platform this provider does not map.
    #[error("platform {0:?} is not supported")]
    Platform(String),
    /// A platform variant this provider does not map (e.g. template-schema lights).
    #[error("{0}")]
    Variant(String),
    /// A required key is missing.
    #[error("missing {0}")]
    Missing(&'static str),
}

fn text(t: &Option<Text>, default: &str) -> Text {
    t.clone().unwrap_or_else(|| Text::new(default))
}

fn payload(t: &Option<Text>, default: &str) -> String {
    t.as_ref()
        .map_or_else(|| default.to_string(), |t| t.text.clone())
}

fn info(c: Component) -> &'static ComponentInfo {
    c.info()
}

/// Builds plans; holds what every platform shares.
struct Builder<'a> {
    c: &'a EntityConfig,
    reads: Vec<Read>,
    writes: Vec<Write>,
    attributes: Attributes,
}

impl<'a> Builder<'a> {
    fn read(&mut self, topic: &Option<String>, template: &Option<String>, conv: ReadConv) {
        if let Some(topic) = topic.as_ref().filter(|t| !t.is_empty()) {
            self.reads.push(Read {
                topic: topic.clone(),
                template: template.clone(),
                conv,
            });
        }
    }

    fn write(
        &mut self,
        component: &'static str,
        topic: &Option<String>,
        template: &Option<String>,
        conv: WriteConv,
    ) {
        if let Some(topic) = topic.as_ref().filter(|t| !t.is_empty()) {
            self.writes.push(Write {
                component,
                topic: topic.clone(),
                template: template.clone(),
                conv,
                qos: self.c.qos.unwrap_or(0).min(2),
                retain: self.c.retain.unwrap_or(false),
            });
        }
    }

    fn attr(&mut self, key: &str, value: impl Into<String>) {
        self.attributes.push((key.to_string(), value.into()));
    }

    fn range(&mut self, min: Option<f64>, max: Option<f64>, step: Option<f64>) {
        for (k, v) in [("min", min), ("max", max), ("step", step)] {
            if let Some(v) = v {
                self.attr(k, number_text(v));
            }
        }
    }
}

/// Plans one discovered entity.
///
/// # Errors
/// [`Skip`] when it is not mapped.
pub fn plan(d: &Discovered) -> Result<EntityPlan, Skip> {
    let c = &d.config;
    let mut b = Builder {
        c,
        reads: Vec::new(),
        writes: Vec::new(),
        attributes: vec![("platform".into(), d.platform.clone())],
    };
    if let Some(dc) = &c.device_class {
        b.attr("device_class", dc.clone());
    }
    let marker = match d.platform.as_str() {
        "binary_sensor" => binary_sensor(&mut b),
        "sensor" => sensor(&mut b),
        "switch" => switch(&mut b),
        "light" => light(&mut b)?,
        "cover" => cover(&mut b),
        "fan" => fan(&mut b),
        "climate" => climate(&mut b),
        "lock" => lock(&mut b),
        "number" => number(&mut b),
        "select" => select(&mut b),
        "button" => button(&mut b)?,
        "text" => text_entity(&mut b),
        "event" => event(&mut b),
        "device_automation" => trigger(&mut b)?,
        other => return Err(Skip::Platform(other.to_string())),
    };
    if let Some(cat) = &c.entity_category {
        b.attr("category", cat.clone());
    }
    let mut writable: Vec<&str> = Vec::new();
    for w in &b.writes {
        if !writable.contains(&w.component) {
            writable.push(w.component);
        }
    }
    if !writable.is_empty() {
        b.attr("writable", writable.join(","));
    }
    if b.reads.is_empty() && b.writes.is_empty() {
        return Err(Skip::Missing("state_topic and command_topic"));
    }
    Ok(EntityPlan {
        name: entity_name(d),
        marker,
        attributes: b.attributes,
        reads: b.reads,
        writes: b.writes,
        availability: availability(c),
    })
}

/// The entity's name: its `name` without a leading device name; `null` or
/// absent → the device class or platform (`Temperature`, `Light`).
pub fn entity_name(d: &Discovered) -> String {
    let c = &d.config;
    let fallback = || {
        if d.platform == "device_automation" {
            return "Action".to_string();
        }
        humanize(c.device_class.as_deref().unwrap_or(&d.platform))
    };
    let Some(name) = c.name.as_ref().and_then(|n| n.as_str()).map(str::trim) else {
        return fallback();
    };
    let device = c
        .device
        .as_ref()
        .and_then(|d| d.name.as_deref())
        .unwrap_or("");
    let stripped = match name.strip_prefix(device) {
        Some(rest) if !device.is_empty() && rest.starts_with(' ') => rest.trim(),
        _ => name,
    };
    if stripped.is_empty() {
        fallback()
    } else {
        stripped.to_string()
    }
}

fn availability(c: &EntityConfig) -> Availability {
    let mode = match c.availability_mode.as_deref() {
        Some("all") => Mode::All,
        Some("any") => Mode::Any,
        _ => Mode::Latest,
    };
    let mut sources: Vec<Source> = c
        .availability
        .iter()
        .flatten()
        .map(|a| Source {
            topic: a.topic.clone(),
            template: a.value_template.clone(),
            available: text(&a.payload_available, "online"),
            not_available: text(&a.payload_not_available, "offline"),
        })
        .collect();
    if let Some(topic) = &c.availability_topic {
        sources.push(Source {
            topic: topic.clone(),
            template: c.availability_template.clone(),
            available: text(&c.payload_available, "online"),
            not_available: text(&c.payload_not_available, "offline"),
        });
    }
    Availability { sources, mode }
}

fn binary_sensor(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let (component, invert) = classes::binary_component(c.device_class.as_deref());
    let conv = ReadConv::OnOff {
        component: info(component),
        on: text(&c.payload_on, "ON"),
        off: text(&c.payload_off, "OFF"),
        invert,
    };
    b.read(&c.state_topic, &c.value_template, conv);
    None
}

fn sensor(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let unit = c.unit_of_measurement.as_deref().filter(|u| !u.is_empty());
    let known = c.device_class.as_deref().and_then(|dc| {
        let comp = classes::sensor_component(dc)?;
        let linear = classes::convert(comp.info().unit, unit)?;
        Some((comp, linear))
    });
    let conv = match known {
        Some((comp, linear)) => ReadConv::Number {
            component: info(comp),
            linear,
        },
        // No unit, no class and no state class: Home Assistant shows it as text.
        None if unit.is_none()
            && c.state_class.is_none()
            && matches!(
                c.device_class.as_deref(),
                None | Some("enum" | "timestamp" | "date")
            ) =>
        {
            ReadConv::Text {
                component: info(Component::Text(String::new())),
            }
        }
        None => {
            if let Some(u) = unit {
                b.attr("unit", u);
            }
            ReadConv::Number {
                component: info(Component::Number(0.0)),
                linear: Linear::IDENTITY,
            }
        }
    };
    if let Some(sc) = &c.state_class {
        b.attr("state_class", sc.clone());
    }
    b.read(&c.state_topic, &c.value_template, conv);
    Some(Component::Sensor)
}

fn on_off_read(c: &EntityConfig) -> ReadConv {
    ReadConv::OnOff {
        component: info(Component::Switch(false)),
        on: c
            .state_on
            .clone()
            .unwrap_or_else(|| text(&c.payload_on, "ON")),
        off: c
            .state_off
            .clone()
            .unwrap_or_else(|| text(&c.payload_off, "OFF")),
        invert: false,
    }
}

fn on_off_write(c: &EntityConfig) -> WriteConv {
    WriteConv::OnOff {
        on: payload(&c.payload_on, "ON"),
        off: payload(&c.payload_off, "OFF"),
    }
}

fn switch(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(&c.state_topic, &c.value_template, on_off_read(c));
    b.write(
        "Switch",
        &c.command_topic,
        &c.command_template,
        on_off_write(c),
    );
    None
}

fn light(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    let scale = c.brightness_scale.filter(|s| *s > 0.0).unwrap_or(255.0);
    let kelvin = c.color_temp_kelvin.unwrap_or(false);
    match c.schema.as_deref().unwrap_or("default") {
        "json" => {
            let modes = c.supported_color_modes.clone().unwrap_or_default();
            let has = |m: &str| modes.iter().any(|x| x == m);
            let color = if has("rgb") || has("rgbw") || has("rgbww") {
                Some(ColorSpace::Rgb)
            } else if has("hs") {
                Some(ColorSpace::Hs)
            } else if has("xy") {
                Some(ColorSpace::Xy)
            } else {
                None
            };
            let brightness = c.brightness.unwrap_or(false) || modes.iter().any(|m| m != "onoff");
            b.read(&c.state_topic, &None, ReadConv::LightJson { scale, kelvin });
            let conv = |space| WriteConv::LightJson {
                scale,
                kelvin,
                color: space,
            };
            let space = color.unwrap_or(ColorSpace::Rgb);
            b.write("Switch", &c.command_topic, &None, conv(space));
            if brightness {
                b.write("Brightness", &c.command_topic, &None, conv(space));
            }
            if has("color_temp") {
                b.write("ColorTemperature", &c.command_topic, &None, conv(space));
                mired_range(b);
            }
            if color.is_some() {
                b.write("Color", &c.command_topic, &None, conv(space));
            }
            if !modes.is_empty() {
                b.attr("color_modes", modes.join(","));
            }
        }
        "default" | "basic" => {
            b.read(&c.state_topic, &c.value_template, on_off_read(c));
            b.write("Switch", &c.command_topic, &None, on_off_write(c));
            let pct = |scale| ReadConv::Percent {
                component: info(Component::Brightness(0.0)),
                min: 0.0,
                max: scale,
            };
            b.read(
                &c.brightness_state_topic,
                &c.brightness_value_template,
                pct(scale),
            );
            b.write(
                "Brightness",
                &c.brightness_command_topic,
                &c.brightness_command_template,
                WriteConv::Percent {
                    min: 0.0,
                    max: scale,
                },
            );
            b.read(
                &c.color_temp_state_topic,
                &c.color_temp_value_template,
                ReadConv::Mired { kelvin },
            );
            b.write(
                "ColorTemperature",
                &c.color_temp_command_topic,
                &c.color_temp_command_template,
                WriteConv::Mired { kelvin },
            );
            if c.color_temp_command_topic.is_some() || c.color_temp_state_topic.is_some() {
                mired_range(b);
            }
            b.read(&c.rgb_state_topic, &c.rgb_value_template, ReadConv::Rgb);
            b.write(
                "Color",
                &c.rgb_command_topic,
                &c.rgb_command_template,
                WriteConv::Rgb,
            );
            b.read(&c.hs_state_topic, &c.hs_value_template, ReadConv::Hs);
            b.read(&c.xy_state_topic, &c.xy_value_template, ReadConv::Xy);
            if c.rgb_command_topic.is_none() {
                b.write("Color", &c.hs_command_topic, &None, WriteConv::Hs);
                if c.hs_command_topic.is_none() {
                    b.write("Color", &c.xy_command_topic, &None, WriteConv::Xy);
                }
            }
        }
        other => {
            return Err(Skip::Variant(format!(
                "light schema {other:?} is not supported (only default and json)"
            )));
        }
    }
    if let Some(list) = &c.effect_list {
        let names: Vec<String> = list.iter().map(crate::z2m::exposes::json_text).collect();
        b.attr("effects", names.join(","));
    }
    Ok(Some(Component::Light))
}

fn mired_range(b: &mut Builder) {
    let c = b.c;
    // Home Assistant's defaults: 153–500 mired (6500–2000 K).
    let (min, max) = match (c.min_kelvin, c.max_kelvin) {
        (_, Some(kmax)) if c.color_temp_kelvin == Some(true) && kmax > 0.0 => {
            let kmin = c.min_kelvin.filter(|k| *k > 0.0).unwrap_or(2000.0);
            ((1e6 / kmax).round(), (1e6 / kmin).round())
        }
        _ => (c.min_mireds.unwrap_or(153.0), c.max_mireds.unwrap_or(500.0)),
    };
    b.attr("min_mireds", number_text(min));
    b.attr("max_mireds", number_text(max));
}

fn cover(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let table = vec![
        (text(&c.state_open, "open"), CoverState::Open.name()),
        (
            text(&c.state_opening, "opening"),
            CoverState::Opening.name(),
        ),
        (text(&c.state_closed, "closed"), CoverState::Closed.name()),
        (
            text(&c.state_closing, "closing"),
            CoverState::Closing.name(),
        ),
        (
            text(&c.state_stopped, "stopped"),
            CoverState::Stopped.name(),
        ),
    ];
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Enum {
            component: info(Component::CoverState(CoverState::Open)),
            table,
        },
    );
    let commands = vec![
        (CoverCommand::Open.name(), payload(&c.payload_open, "OPEN")),
        (
            CoverCommand::Close.name(),
            payload(&c.payload_close, "CLOSE"),
        ),
        (CoverCommand::Stop.name(), payload(&c.payload_stop, "STOP")),
    ];
    b.write(
        "CoverCommand",
        &c.command_topic,
        &None,
        WriteConv::Enum { table: commands },
    );
    let (closed, open) = (
        c.position_closed.unwrap_or(0.0),
        c.position_open.unwrap_or(100.0),
    );
    b.read(
        &c.position_topic,
        &c.position_template,
        ReadConv::Percent {
            component: info(Component::CoverPosition(0.0)),
            min: closed,
            max: open,
        },
    );
    b.write(
        "CoverPosition",
        &c.set_position_topic,
        &c.set_position_template,
        WriteConv::Percent {
            min: closed,
            max: open,
        },
    );
    let (tmin, tmax) = (c.tilt_min.unwrap_or(0.0), c.tilt_max.unwrap_or(100.0));
    b.read(
        &c.tilt_status_topic,
        &c.tilt_status_template,
        ReadConv::Percent {
            component: info(Component::CoverTilt(0.0)),
            min: tmin,
            max: tmax,
        },
    );
    b.write(
        "CoverTilt",
        &c.tilt_command_topic,
        &c.tilt_command_template,
        WriteConv::Percent {
            min: tmin,
            max: tmax,
        },
    );
    Some(Component::Cover)
}

fn fan(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(&c.state_topic, &c.value_template, on_off_read(c));
    b.write(
        "Switch",
        &c.command_topic,
        &c.command_template,
        on_off_write(c),
    );
    // Home Assistant: speed_range_min (default 1) is the lowest speed above 0 %.
    let min = c.speed_range_min.unwrap_or(1.0) - 1.0;
    let max = c.speed_range_max.unwrap_or(100.0);
    b.read(
        &c.percentage_state_topic,
        &c.percentage_value_template,
        ReadConv::Percent {
            component: info(Component::FanSpeed(0.0)),
            min,
            max,
        },
    );
    b.write(
        "FanSpeed",
        &c.percentage_command_topic,
        &c.percentage_command_template,
        WriteConv::Percent { min, max },
    );
    let osc_on = text(&c.payload_oscillation_on, "oscillate_on");
    let osc_off = text(&c.payload_oscillation_off, "oscillate_off");
    b.read(
        &c.oscillation_state_topic,
        &c.oscillation_value_template,
        ReadConv::OnOff {
            component: info(Component::FanOscillating(false)),
            on: osc_on.clone(),
            off: osc_off.clone(),
            invert: false,
        },
    );
    b.write(
        "FanOscillating",
        &c.oscillation_command_topic,
        &None,
        WriteConv::OnOff {
            on: osc_on.text,
            off: osc_off.text,
        },
    );
    let fwd = text(&c.payload_direction_forward, "forward");
    let rev = text(&c.payload_direction_reverse, "reverse");
    b.read(
        &c.direction_state_topic,
        &c.direction_value_template,
        ReadConv::Enum {
            component: info(Component::FanDirection(FanDirection::Forward)),
            table: vec![
                (fwd.clone(), FanDirection::Forward.name()),
                (rev.clone(), FanDirection::Reverse.name()),
            ],
        },
    );
    b.write(
        "FanDirection",
        &c.direction_command_topic,
        &None,
        WriteConv::Enum {
            table: vec![
                (FanDirection::Forward.name(), fwd.text),
                (FanDirection::Reverse.name(), rev.text),
            ],
        },
    );
    Some(Component::Fan)
}

/// Home Assistant climate modes → `ClimateMode` variants.
const CLIMATE_MODES: &[(&str, ClimateMode)] = &[
    ("off", ClimateMode::Off),
    ("heat", ClimateMode::Heat),
    ("cool", ClimateMode::Cool),
    ("auto", ClimateMode::Auto),
    ("heat_cool", ClimateMode::HeatCool),
    ("dry", ClimateMode::Dry),
    ("fan_only", ClimateMode::FanOnly),
];

/// Home Assistant `hvac_action` values → `ClimateAction` variants.
const CLIMATE_ACTIONS: &[(&str, ClimateAction)] = &[
    ("off", ClimateAction::Off),
    ("cooling", ClimateAction::Cooling),
    ("heating", ClimateAction::Heating),
    ("idle", ClimateAction::Idle),
    ("drying", ClimateAction::Drying),
    ("fan", ClimateAction::Fan),
];

fn climate(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let linear = match c.temperature_unit.as_deref() {
        Some("F" | "°F") => FAHRENHEIT,
        _ => Linear::IDENTITY,
    };
    let number = |comp: Component| ReadConv::Number {
        component: info(comp),
        linear,
    };
    let write_number = WriteConv::Number { linear, int: false };
    b.read(
        &c.current_temperature_topic,
        &c.current_temperature_template,
        number(Component::Temperature(0.0)),
    );
    b.read(
        &c.temperature_state_topic,
        &c.temperature_state_template,
        number(Component::TargetTemperature(0.0)),
    );
    b.write(
        "TargetTemperature",
        &c.temperature_command_topic,
        &c.temperature_command_template,
        write_number.clone(),
    );
    b.read(
        &c.temperature_low_state_topic,
        &c.temperature_low_state_template,
        number(Component::TargetTemperatureLow(0.0)),
    );
    b.write(
        "TargetTemperatureLow",
        &c.temperature_low_command_topic,
        &c.temperature_low_command_template,
        write_number.clone(),
    );
    b.read(
        &c.temperature_high_state_topic,
        &c.temperature_high_state_template,
        number(Component::TargetTemperatureHigh(0.0)),
    );
    b.write(
        "TargetTemperatureHigh",
        &c.temperature_high_command_topic,
        &c.temperature_high_command_template,
        write_number,
    );
    let modes: Vec<String> = c.modes.clone().unwrap_or_else(|| {
        ["auto", "off", "cool", "heat", "dry", "fan_only"]
            .map(String::from)
            .to_vec()
    });
    let listed: Vec<(&str, ClimateMode)> = CLIMATE_MODES
        .iter()
        .filter(|(m, _)| modes.iter().any(|x| x == m))
        .copied()
        .collect();
    b.read(
        &c.mode_state_topic,
        &c.mode_state_template,
        ReadConv::Enum {
            component: info(Component::ClimateMode(ClimateMode::Off)),
            table: listed
                .iter()
                .map(|(m, v)| (Text::new(m), v.name()))
                .collect(),
        },
    );
    b.write(
        "ClimateMode",
        &c.mode_command_topic,
        &c.mode_command_template,
        WriteConv::Enum {
            table: listed
                .iter()
                .map(|(m, v)| (v.name(), m.to_string()))
                .collect(),
        },
    );
    b.read(
        &c.action_topic,
        &c.action_template,
        ReadConv::Enum {
            component: info(Component::ClimateAction(ClimateAction::Off)),
            table: CLIMATE_ACTIONS
                .iter()
                .map(|(a, v)| (Text::new(a), v.name()))
                .collect(),
        },
    );
    b.attr("modes", modes.join(","));
    let (min, max) = match linear == FAHRENHEIT {
        true => (
            c.min_temp.map(|v| FAHRENHEIT.apply(v)),
            c.max_temp.map(|v| FAHRENHEIT.apply(v)),
        ),
        false => (c.min_temp, c.max_temp),
    };
    b.range(min, max, c.temp_step);
    Some(Component::Climate)
}

fn lock(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Enum {
            component: info(Component::Lock(Lock::Locked)),
            table: vec![
                (text(&c.state_locked, "LOCKED"), Lock::Locked.name()),
                (text(&c.state_unlocked, "UNLOCKED"), Lock::Unlocked.name()),
                (text(&c.state_locking, "LOCKING"), Lock::Locking.name()),
                (
                    text(&c.state_unlocking, "UNLOCKING"),
                    Lock::Unlocking.name(),
                ),
                (text(&c.state_jammed, "JAMMED"), Lock::Jammed.name()),
            ],
        },
    );
    let (lock, unlock) = (
        payload(&c.payload_lock, "LOCK"),
        payload(&c.payload_unlock, "UNLOCK"),
    );
    let mut commands = vec![
        (LockCommand::Lock.name(), lock.clone()),
        (LockCommand::Unlock.name(), unlock.clone()),
    ];
    if let Some(open) = &c.payload_open {
        commands.push((LockCommand::Open.name(), open.text.clone()));
    }
    b.write(
        "LockCommand",
        &c.command_topic,
        &c.command_template,
        WriteConv::Enum { table: commands },
    );
    // Writing the Lock state itself commands it too (the registry's convention).
    let states = vec![(Lock::Locked.name(), lock), (Lock::Unlocked.name(), unlock)];
    b.write(
        "Lock",
        &c.command_topic,
        &c.command_template,
        WriteConv::Enum { table: states },
    );
    None
}

fn number(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let conv = ReadConv::Number {
        component: info(Component::Number(0.0)),
        linear: Linear::IDENTITY,
    };
    b.read(&c.state_topic, &c.value_template, conv);
    let int = [c.min, c.max, c.step]
        .iter()
        .all(|v| v.is_none_or(|v| v.fract() == 0.0))
        && c.step.is_some_and(|s| s >= 1.0);
    b.write(
        "Number",
        &c.command_topic,
        &c.command_template,
        WriteConv::Number {
            linear: Linear::IDENTITY,
            int,
        },
    );
    if let Some(u) = c.unit_of_measurement.as_deref().filter(|u| !u.is_empty()) {
        b.attr("unit", u);
    }
    // Home Assistant's defaults: 1–100, step 1.
    b.range(
        Some(c.min.unwrap_or(1.0)),
        Some(c.max.unwrap_or(100.0)),
        Some(c.step.unwrap_or(1.0)),
    );
    None
}

fn select(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let component = info(Component::Select(String::new()));
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Text { component },
    );
    b.write(
        "Select",
        &c.command_topic,
        &c.command_template,
        WriteConv::Text,
    );
    b.attr("options", c.options.clone().unwrap_or_default().join(","));
    None
}

fn button(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    if c.command_topic.is_none() {
        return Err(Skip::Missing("command_topic"));
    }
    let conv = WriteConv::Press {
        payload: payload(&c.payload_press, "PRESS"),
    };
    b.write("ButtonPress", &c.command_topic, &c.command_template, conv);
    Ok(Some(Component::ButtonPress))
}

fn text_entity(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    let component = info(Component::Text(String::new()));
    b.read(
        &c.state_topic,
        &c.value_template,
        ReadConv::Text { component },
    );
    b.write(
        "Text",
        &c.command_topic,
        &c.command_template,
        WriteConv::Text,
    );
    b.range(c.min, c.max, None);
    if let Some(p) = &c.pattern {
        b.attr("pattern", p.clone());
    }
    None
}

fn event(b: &mut Builder) -> Option<Component> {
    let c = b.c;
    b.read(&c.state_topic, &c.value_template, ReadConv::Event);
    if let Some(types) = &c.event_types {
        b.attr("event_types", types.join(","));
    }
    None
}

fn trigger(b: &mut Builder) -> Result<Option<Component>, Skip> {
    let c = b.c;
    if c.automation_type.as_deref().is_some_and(|t| t != "trigger") {
        return Err(Skip::Variant("device_automation other than trigger".into()));
    }
    let topic = c.topic.clone().ok_or(Skip::Missing("topic"))?;
    let action = c
        .subtype
        .clone()
        .or_else(|| c.payload.as_ref().map(|p| p.text.clone()))
        .or_else(|| c.trigger_type.clone())
        .unwrap_or_default();
    b.read(
        &Some(topic),
        &c.value_template,
        ReadConv::Trigger {
            payload: c.payload.clone(),
            action,
        },
    );
    Ok(None)
}

#[cfg(test)]
mod tests;
