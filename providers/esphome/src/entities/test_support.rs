//! Test helpers and the sample entities (and states) the domains' tests
//! share.

use super::*;
use proto::ColorMode as CM;

pub(super) fn attr<'a>(info: &'a EntityInfo, key: &str) -> Option<&'a str> {
    info.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

pub(super) fn keys(info: &EntityInfo) -> Vec<&str> {
    info.attributes.iter().map(|(k, _)| k.as_str()).collect()
}

/// The one message of a command, decoded as `M`.
pub(super) fn sent<M: ApiMessage>(out: Result<Vec<Outgoing>, CommandError>) -> M {
    let out = out.expect("command accepted");
    assert_eq!(out.len(), 1, "one message");
    assert_eq!(out[0].msg_type, M::TYPE, "message id");
    M::decode(out[0].payload.as_slice()).expect("decodes")
}

pub(super) fn refused(out: Result<Vec<Outgoing>, CommandError>) -> CommandError {
    out.expect_err("command refused")
}

pub(super) fn info(msg: Incoming) -> EntityInfo {
    entity_info(&msg).expect("a ListEntities message")
}

// ---- binary_sensor ----------------------------------------------------------

pub(super) fn binary(device_class: &str) -> EntityInfo {
    info(Incoming::ListBinarySensor(
        proto::ListEntitiesBinarySensorResponse {
            object_id: "front_door".into(),
            key: 0xDEAD_BEEF,
            name: "Front door".into(),
            device_class: device_class.into(),
            entity_category: proto::EntityCategory::Diagnostic as i32,
            device_id: 7,
            ..Default::default()
        },
    ))
}

pub(super) fn binary_state(on: bool, missing: bool) -> Incoming {
    Incoming::BinarySensorState(proto::BinarySensorStateResponse {
        key: 0xDEAD_BEEF,
        state: on,
        missing_state: missing,
        device_id: 7,
    })
}

// ---- sensor -----------------------------------------------------------------

pub(super) fn sensor(device_class: &str, unit: &str) -> EntityInfo {
    info(Incoming::ListSensor(proto::ListEntitiesSensorResponse {
        object_id: "s".into(),
        key: 5,
        name: "S".into(),
        unit_of_measurement: unit.into(),
        accuracy_decimals: 1,
        device_class: device_class.into(),
        state_class: proto::SensorStateClass::Measurement as i32,
        ..Default::default()
    }))
}

pub(super) fn reading(v: f32) -> Incoming {
    Incoming::SensorState(proto::SensorStateResponse {
        key: 5,
        state: v,
        ..Default::default()
    })
}

// ---- switch -----------------------------------------------------------------

pub(super) fn switch() -> EntityInfo {
    info(Incoming::ListSwitch(proto::ListEntitiesSwitchResponse {
        object_id: "relay".into(),
        key: 0x8000_0001,
        name: "Relay".into(),
        device_class: "outlet".into(),
        entity_category: proto::EntityCategory::Config as i32,
        device_id: 3,
        ..Default::default()
    }))
}

// ---- light ------------------------------------------------------------------

pub(super) fn light(modes: &[CM], effects: &[&str]) -> EntityInfo {
    info(Incoming::ListLight(proto::ListEntitiesLightResponse {
        object_id: "lamp".into(),
        key: 42,
        name: "Lamp".into(),
        supported_color_modes: modes.iter().map(|m| *m as i32).collect(),
        min_mireds: 153.0,
        max_mireds: 500.0,
        effects: effects.iter().map(|s| s.to_string()).collect(),
        device_id: 2,
        ..Default::default()
    }))
}

pub(super) fn rgbct() -> EntityInfo {
    light(&[CM::Rgb, CM::ColorTemperature], &["None", "Rainbow"])
}

pub(super) fn light_state() -> proto::LightStateResponse {
    proto::LightStateResponse {
        key: 42,
        state: true,
        brightness: 0.5,
        color_mode: CM::Rgb as i32,
        red: 1.0,
        green: 0.5,
        blue: 0.0,
        color_temperature: 370.4,
        effect: "Rainbow".into(),
        ..Default::default()
    }
}

// ---- cover ------------------------------------------------------------------

pub(super) fn cover(position: bool, tilt: bool, stop: bool) -> EntityInfo {
    info(Incoming::ListCover(proto::ListEntitiesCoverResponse {
        object_id: "blind".into(),
        key: 77,
        name: "Blind".into(),
        supports_position: position,
        supports_tilt: tilt,
        supports_stop: stop,
        device_class: "shutter".into(),
        ..Default::default()
    }))
}

pub(super) fn cover_state(position: f32, tilt: f32, op: proto::CoverOperation) -> Incoming {
    Incoming::CoverState(proto::CoverStateResponse {
        key: 77,
        position,
        tilt,
        current_operation: op as i32,
        device_id: 0,
    })
}

// ---- fan --------------------------------------------------------------------

pub(super) fn fan(speed: bool, count: i32) -> EntityInfo {
    info(Incoming::ListFan(proto::ListEntitiesFanResponse {
        object_id: "fan".into(),
        key: 11,
        name: "Fan".into(),
        supports_oscillation: true,
        supports_speed: speed,
        supports_direction: true,
        supported_speed_count: count,
        device_id: 4,
        ..Default::default()
    }))
}

/// A fan with speed levels and the preset modes `presets`.
pub(super) fn fan_with_presets(presets: &[&str]) -> EntityInfo {
    info(Incoming::ListFan(proto::ListEntitiesFanResponse {
        object_id: "fan".into(),
        key: 11,
        name: "Fan".into(),
        supports_speed: true,
        supported_speed_count: 3,
        supported_preset_modes: presets.iter().map(|p| p.to_string()).collect(),
        device_id: 4,
        ..Default::default()
    }))
}

// ---- climate ----------------------------------------------------------------

pub(super) fn climate(m: proto::ListEntitiesClimateResponse) -> EntityInfo {
    info(Incoming::ListClimate(proto::ListEntitiesClimateResponse {
        object_id: "thermostat".into(),
        key: 99,
        name: "Thermostat".into(),
        ..m
    }))
}

pub(super) fn thermostat() -> EntityInfo {
    use proto::ClimateMode as M;
    climate(proto::ListEntitiesClimateResponse {
        supports_current_temperature: true,
        supports_action: true,
        supports_current_humidity: true,
        supported_modes: vec![M::Off as i32, M::Heat as i32, M::Cool as i32],
        visual_min_temperature: 7.0,
        visual_max_temperature: 35.0,
        visual_target_temperature_step: 0.5,
        ..Default::default()
    })
}

/// An air conditioner: cool/heat, fan modes auto/low/high and "Turbo",
/// swing off/vertical, presets none/eco and "Night".
pub(super) fn air_conditioner() -> EntityInfo {
    use proto::{ClimateFanMode as F, ClimateMode as M, ClimatePreset as P, ClimateSwingMode as S};
    climate(proto::ListEntitiesClimateResponse {
        supports_current_temperature: true,
        supported_modes: vec![M::Off as i32, M::Cool as i32, M::Heat as i32],
        supported_fan_modes: vec![F::Auto as i32, F::Low as i32, F::High as i32],
        supported_custom_fan_modes: vec!["Turbo".into()],
        supported_swing_modes: vec![S::Off as i32, S::Vertical as i32],
        supported_presets: vec![P::None as i32, P::Eco as i32],
        supported_custom_presets: vec!["Night".into()],
        visual_min_temperature: 16.0,
        visual_max_temperature: 30.0,
        visual_target_temperature_step: 1.0,
        ..Default::default()
    })
}

pub(super) fn climate_state() -> proto::ClimateStateResponse {
    proto::ClimateStateResponse {
        key: 99,
        mode: proto::ClimateMode::Heat as i32,
        current_temperature: 19.6,
        target_temperature: 21.5,
        target_temperature_low: 18.0,
        target_temperature_high: 24.0,
        action: proto::ClimateAction::Heating as i32,
        current_humidity: 45.0,
        ..Default::default()
    }
}

// ---- number -----------------------------------------------------------------

pub(super) fn number() -> EntityInfo {
    info(Incoming::ListNumber(proto::ListEntitiesNumberResponse {
        object_id: "delay".into(),
        key: 123,
        name: "Delay".into(),
        min_value: 0.5,
        max_value: 60.0,
        step: 0.5,
        unit_of_measurement: "s".into(),
        mode: proto::NumberMode::Slider as i32,
        entity_category: proto::EntityCategory::Config as i32,
        device_id: 1,
        ..Default::default()
    }))
}

// ---- select -----------------------------------------------------------------

pub(super) fn select() -> EntityInfo {
    info(Incoming::ListSelect(proto::ListEntitiesSelectResponse {
        object_id: "mode".into(),
        key: 55,
        name: "Mode".into(),
        options: vec!["Eco".into(), "Comfort".into(), "Boost".into()],
        ..Default::default()
    }))
}

// ---- lock -------------------------------------------------------------------

pub(super) fn lock(supports_open: bool) -> EntityInfo {
    info(Incoming::ListLock(proto::ListEntitiesLockResponse {
        object_id: "door_lock".into(),
        key: 31,
        name: "Door lock".into(),
        supports_open,
        ..Default::default()
    }))
}
