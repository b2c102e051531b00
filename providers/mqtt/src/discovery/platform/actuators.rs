//! The actuator platforms with several topics each: cover, fan, climate, lock.

use igloo_provider::protocol::Component;
use igloo_provider::protocol::component::{
    ClimateAction, ClimateMode, CoverCommand, CoverState, FanDirection, Lock, LockCommand,
};

use super::{Builder, info, on_off_read, on_off_write, payload, text};
use crate::discovery::classes::{FAHRENHEIT, Linear};
use crate::discovery::config::{EntityConfig, Text};
use crate::discovery::plan::{ReadConv, WriteConv};

pub(super) fn cover(b: &mut Builder) -> Option<Component> {
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

pub(super) fn fan(b: &mut Builder) -> Option<Component> {
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
    // Home Assistant's MQTT fan: the state `payload_reset_preset_mode`
    // (default `None`) clears the preset.
    let reset = c
        .payload_reset_preset_mode
        .clone()
        .unwrap_or_else(|| Text::new("None"));
    named_modes(
        b,
        Component::FanPreset(String::new()),
        presets(c, vec![reset]),
    );
    Some(Component::Fan)
}

/// Where a named mode (a fan's preset, a climate device's fan, swing or
/// preset mode) is read and sent, and which names it has.
struct Modes<'a> {
    state_topic: &'a Option<String>,
    state_template: &'a Option<String>,
    command_topic: &'a Option<String>,
    command_template: &'a Option<String>,
    /// The config's list (`preset_modes`, `fan_modes`, `swing_modes`).
    list: &'a Option<Vec<serde_json::Value>>,
    /// Home Assistant's default list when the config has none.
    default: &'a [&'a str],
    /// The entity attribute listing the names (Home Assistant's key).
    attribute: &'static str,
    /// State payloads meaning "no mode".
    none: Vec<Text>,
}

/// The `preset_mode_*` keys, the same for fans and climate devices (no
/// default list); `none` are the states meaning "no preset".
fn presets(c: &EntityConfig, none: Vec<Text>) -> Modes<'_> {
    Modes {
        state_topic: &c.preset_mode_state_topic,
        state_template: &c.preset_mode_value_template,
        command_topic: &c.preset_mode_command_topic,
        command_template: &c.preset_mode_command_template,
        list: &c.preset_modes,
        default: &[],
        attribute: "preset_modes",
        none,
    }
}

/// A named mode as `component` (a string component): read and sent as one
/// of the listed names (matched ignoring case; [`ReadConv::Mode`]), the
/// names in the `attribute` attribute. Nothing when the config has neither
/// topic, or no names (Home Assistant then offers no such mode either).
fn named_modes(b: &mut Builder, component: Component, m: Modes) {
    if m.state_topic.is_none() && m.command_topic.is_none() {
        return;
    }
    let names: Vec<String> = match m.list {
        Some(list) => list.iter().map(crate::z2m::exposes::json_text).collect(),
        None => m.default.iter().map(|s| s.to_string()).collect(),
    };
    if names.is_empty() {
        return;
    }
    let name = component.name();
    b.read(
        m.state_topic,
        m.state_template,
        ReadConv::Mode {
            component: info(component),
            names: names.clone(),
            none: m.none,
        },
    );
    b.write(
        name,
        m.command_topic,
        m.command_template,
        WriteConv::Choice {
            options: names.clone(),
        },
    );
    b.attr(m.attribute, names.join(","));
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

pub(super) fn climate(b: &mut Builder) -> Option<Component> {
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
    // Home Assistant's defaults: fan modes auto/low/medium/high, swing on/off.
    named_modes(
        b,
        Component::ClimateFanMode(String::new()),
        Modes {
            state_topic: &c.fan_mode_state_topic,
            state_template: &c.fan_mode_state_template,
            command_topic: &c.fan_mode_command_topic,
            command_template: &c.fan_mode_command_template,
            list: &c.fan_modes,
            default: &["auto", "low", "medium", "high"],
            attribute: "fan_modes",
            none: vec![],
        },
    );
    named_modes(
        b,
        Component::ClimateSwingMode(String::new()),
        Modes {
            state_topic: &c.swing_mode_state_topic,
            state_template: &c.swing_mode_state_template,
            command_topic: &c.swing_mode_command_topic,
            command_template: &c.swing_mode_command_template,
            list: &c.swing_modes,
            default: &["on", "off"],
            attribute: "swing_modes",
            none: vec![],
        },
    );
    // Home Assistant's MQTT climate: `none` (its PRESET_NONE) and `None`
    // clear the preset.
    named_modes(
        b,
        Component::ClimatePreset(String::new()),
        presets(c, vec![Text::new("none"), Text::new("None")]),
    );
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

pub(super) fn lock(b: &mut Builder) -> Option<Component> {
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
