//! `fan`: on/off, speed levels as a percentage, oscillation, direction and
//! preset modes, and `FanCommandRequest`.

use igloo_provider::Attributes;
use igloo_provider::protocol::component::FanDirection as IglooFanDirection;
use igloo_provider::protocol::{Component, find_name};

use super::{CommandError, NOT_FINITE, NOT_WRITABLE, encode, round_to};
use crate::api::proto::{self, Outgoing};

/// What a fan supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FanCaps {
    /// Speed levels (1..=count); 0 when speed is not supported.
    pub(crate) speed_count: i32,
    pub(crate) oscillation: bool,
    pub(crate) direction: bool,
    /// The names of its preset modes (`supported_preset_modes`).
    pub(crate) preset_modes: Vec<String>,
}

/// The attributes (`speed_count`) and the capabilities of a
/// `ListEntitiesFanResponse`.
pub(super) fn fan_info(m: &proto::ListEntitiesFanResponse, attrs: &mut Attributes) -> FanCaps {
    let speed_count = if m.supports_speed {
        m.supported_speed_count.max(0)
    } else {
        0
    };
    if speed_count > 0 {
        attrs.push(("speed_count".into(), speed_count.to_string()));
    }
    let preset_modes: Vec<String> = m
        .supported_preset_modes
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect();
    if !preset_modes.is_empty() {
        attrs.push(("preset_modes".into(), preset_modes.join(",")));
    }
    FanCaps {
        speed_count,
        oscillation: m.supports_oscillation,
        direction: m.supports_direction,
        preset_modes,
    }
}

/// The components [`fan_command`] accepts.
pub(super) fn fan_writable(caps: &FanCaps, w: &mut Vec<&'static str>) {
    w.push("Switch");
    if caps.speed_count > 0 {
        w.push("FanSpeed");
    }
    if caps.oscillation {
        w.push("FanOscillating");
    }
    if caps.direction {
        w.push("FanDirection");
    }
    if !caps.preset_modes.is_empty() {
        w.push("FanPreset");
    }
}

/// The components of a `FanStateResponse`.
pub(super) fn fan_components(
    caps: &FanCaps,
    m: &proto::FanStateResponse,
    out: &mut Vec<Component>,
) {
    out.push(Component::Switch(m.state));
    if caps.speed_count > 0 {
        let p = f64::from(m.speed_level) / f64::from(caps.speed_count) * 100.0;
        out.push(Component::FanSpeed(round_to(p.clamp(0.0, 100.0), 2)));
    }
    if caps.oscillation {
        out.push(Component::FanOscillating(m.oscillating));
    }
    if caps.direction {
        match proto::FanDirection::try_from(m.direction) {
            Ok(proto::FanDirection::Forward) => {
                out.push(Component::FanDirection(IglooFanDirection::Forward))
            }
            Ok(proto::FanDirection::Reverse) => {
                out.push(Component::FanDirection(IglooFanDirection::Reverse))
            }
            Err(_) => {}
        }
    }
    // The active preset; empty text when none is (ESPHome's empty `preset_mode`).
    if !caps.preset_modes.is_empty() {
        out.push(Component::FanPreset(m.preset_mode.clone()));
    }
}

/// Builds the one `FanCommandRequest` for a fan change request.
pub(super) fn fan_command(
    caps: &FanCaps,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::FanCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    let mut implied_state = None;
    for &v in values {
        match v {
            Component::Switch(on) => {
                msg.has_state = true;
                msg.state = *on;
            }
            Component::FanSpeed(p) if caps.speed_count > 0 => {
                if !p.is_finite() {
                    return Err(refuse(v, NOT_FINITE));
                }
                if *p <= 0.0 {
                    implied_state = Some(false);
                } else {
                    let n = f64::from(caps.speed_count);
                    let level = (p.min(100.0) / 100.0 * n).round().clamp(1.0, n);
                    msg.has_speed_level = true;
                    msg.speed_level = level as i32;
                    implied_state = Some(true);
                }
            }
            Component::FanOscillating(on) if caps.oscillation => {
                msg.has_oscillating = true;
                msg.oscillating = *on;
            }
            Component::FanDirection(d) if caps.direction => {
                msg.has_direction = true;
                msg.direction = match d {
                    IglooFanDirection::Forward => proto::FanDirection::Forward,
                    IglooFanDirection::Reverse => proto::FanDirection::Reverse,
                } as i32;
            }
            Component::FanPreset(name) if !caps.preset_modes.is_empty() => {
                let preset = find_name(&caps.preset_modes, name)
                    .ok_or_else(|| refuse(v, "not one of the fan's preset modes"))?;
                msg.has_preset_mode = true;
                msg.preset_mode = preset.to_string();
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    if let (false, Some(on)) = (msg.has_state, implied_state) {
        msg.has_state = true;
        msg.state = on;
    }
    Ok(encode(&msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto::Incoming;
    use crate::entities::test_support::*;
    use crate::entities::{command, state};

    #[test]
    fn fan_info_and_state() {
        let e = fan(true, 3);
        assert_eq!(e.markers, vec![Component::Fan]);
        assert_eq!(
            attr(&e, "writable"),
            Some("Switch,FanSpeed,FanOscillating,FanDirection")
        );
        assert_eq!(attr(&e, "speed_count"), Some("3"));
        let st = Incoming::FanState(proto::FanStateResponse {
            key: 11,
            state: true,
            oscillating: true,
            direction: proto::FanDirection::Reverse as i32,
            speed_level: 2,
            ..Default::default()
        });
        assert_eq!(
            state(&e, &st),
            vec![
                Component::Switch(true),
                Component::FanSpeed(66.67),
                Component::FanOscillating(true),
                Component::FanDirection(IglooFanDirection::Reverse),
            ]
        );
        let no_speed = fan(false, 3);
        assert_eq!(
            attr(&no_speed, "writable"),
            Some("Switch,FanOscillating,FanDirection")
        );
        assert_eq!(attr(&no_speed, "speed_count"), None);
        assert_eq!(state(&no_speed, &st).len(), 3);
    }

    #[test]
    fn fan_commands() {
        let e = fan(true, 3);
        let level = |p: f64| -> (bool, bool, i32) {
            let m: proto::FanCommandRequest = sent(command(&e, &[Component::FanSpeed(p)]));
            (m.state, m.has_speed_level, m.speed_level)
        };
        assert_eq!(level(50.0), (true, true, 2));
        assert_eq!(level(100.0), (true, true, 3));
        assert_eq!(level(150.0), (true, true, 3));
        assert_eq!(level(1.0), (true, true, 1));
        assert_eq!(level(0.0), (false, false, 0));
        let m: proto::FanCommandRequest = sent(command(&e, &[Component::FanSpeed(0.0)]));
        assert!(m.has_state && !m.state);
        // An explicit Switch wins over the state implied by the speed.
        let m: proto::FanCommandRequest = sent(command(
            &e,
            &[Component::FanSpeed(50.0), Component::Switch(false)],
        ));
        assert!(m.has_state && !m.state && m.has_speed_level);
        let m: proto::FanCommandRequest = sent(command(
            &e,
            &[
                Component::Fan,
                Component::FanOscillating(true),
                Component::FanDirection(IglooFanDirection::Reverse),
            ],
        ));
        assert_eq!(
            m,
            proto::FanCommandRequest {
                key: 11,
                device_id: 4,
                has_oscillating: true,
                oscillating: true,
                has_direction: true,
                direction: proto::FanDirection::Reverse as i32,
                ..Default::default()
            }
        );
        refused(command(&fan(false, 0), &[Component::FanSpeed(50.0)]));
        refused(command(&e, &[Component::FanSpeed(f64::INFINITY)]));
        // No preset modes listed: none can be set.
        refused(command(&e, &[Component::FanPreset("Sleep".into())]));
    }

    #[test]
    fn fan_preset_modes_by_name() {
        let e = fan_with_presets(&["Auto", "Sleep"]);
        assert_eq!(attr(&e, "preset_modes"), Some("Auto,Sleep"));
        assert!(attr(&e, "writable").is_some_and(|w| w.ends_with(",FanPreset")));
        let st = |preset: &str| {
            Incoming::FanState(proto::FanStateResponse {
                key: 11,
                state: true,
                preset_mode: preset.into(),
                ..Default::default()
            })
        };
        assert!(state(&e, &st("Sleep")).contains(&Component::FanPreset("Sleep".into())));
        // No preset active: empty text, so the last one does not linger.
        assert!(state(&e, &st("")).contains(&Component::FanPreset(String::new())));
        let m: proto::FanCommandRequest =
            sent(command(&e, &[Component::FanPreset("sleep".into())]));
        assert!(m.has_preset_mode);
        assert_eq!(m.preset_mode, "Sleep");
        let err = refused(command(&e, &[Component::FanPreset("Turbo".into())]));
        assert_eq!(err.component, "FanPreset");
        // A fan without presets reports none.
        assert!(
            !state(&fan(true, 3), &st("Sleep"))
                .iter()
                .any(|c| c.name() == "FanPreset")
        );
    }
}
