//! `switch`, `number`, `select`, `button` and `lock`: the entities that are
//! set or pressed, with their attributes, states and command messages.

use igloo_provider::Attributes;
use igloo_provider::protocol::component::{Lock, LockCommand as IglooLockCommand};
use igloo_provider::protocol::{Component, find_name};

use super::{CommandError, NOT_FINITE, NOT_WRITABLE, encode, number_text, widen};
use crate::api::proto::{self, Outgoing};

/// A number's accepted range, as the device sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NumberRange {
    pub(crate) min: f32,
    pub(crate) max: f32,
}

/// Builds the one `SwitchCommandRequest` for a switch change request.
pub(super) fn switch_command(
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::SwitchCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    for &v in values {
        match v {
            Component::Switch(on) => msg.state = *on,
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    Ok(encode(&msg))
}

/// The attributes (`unit`, `min`, `max`, `step`, `mode`) and the range of a
/// `ListEntitiesNumberResponse`.
pub(super) fn number_info(
    m: &proto::ListEntitiesNumberResponse,
    attrs: &mut Attributes,
) -> NumberRange {
    if !m.unit_of_measurement.is_empty() {
        attrs.push(("unit".into(), m.unit_of_measurement.clone()));
    }
    let (min, max, step) = (widen(m.min_value), widen(m.max_value), widen(m.step));
    for (k, v) in [("min", min), ("max", max), ("step", step)] {
        if v.is_finite() {
            attrs.push((k.into(), number_text(v)));
        }
    }
    let mode = match proto::NumberMode::try_from(m.mode) {
        Ok(proto::NumberMode::Box) => "box",
        Ok(proto::NumberMode::Slider) => "slider",
        Ok(proto::NumberMode::Auto) | Err(_) => "auto",
    };
    attrs.push(("mode".into(), mode.into()));
    NumberRange {
        min: m.min_value,
        max: m.max_value,
    }
}

/// The component of a `NumberStateResponse`; none for a NaN value.
pub(super) fn number_components(m: &proto::NumberStateResponse, out: &mut Vec<Component>) {
    let v = widen(m.state);
    if v.is_finite() {
        out.push(Component::Number(v));
    }
}

/// Builds the one `NumberCommandRequest` for a number change request.
pub(super) fn number_command(
    range: &NumberRange,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::NumberCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    for &v in values {
        match v {
            Component::Number(x) => {
                if !x.is_finite() {
                    return Err(refuse(v, NOT_FINITE));
                }
                // Compared in f32, as the device will.
                let x32 = *x as f32;
                let below = range.min.is_finite() && x32 < range.min;
                let above = range.max.is_finite() && x32 > range.max;
                if below || above {
                    return Err(refuse(
                        v,
                        &format!(
                            "{} is outside {}..={}",
                            number_text(*x),
                            number_text(widen(range.min)),
                            number_text(widen(range.max))
                        ),
                    ));
                }
                msg.state = x32;
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    Ok(encode(&msg))
}

/// The attributes (`options`) and the options of a `ListEntitiesSelectResponse`.
pub(super) fn select_info(
    m: &proto::ListEntitiesSelectResponse,
    attrs: &mut Attributes,
) -> Vec<String> {
    attrs.push(("options".into(), m.options.join(",")));
    m.options.clone()
}

/// Builds the one `SelectCommandRequest` for a select change request.
pub(super) fn select_command(
    options: &[String],
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::SelectCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    for &v in values {
        match v {
            Component::Select(s) => {
                let option = find_name(options, s)
                    .ok_or_else(|| refuse(v, &format!("{s:?} is not one of the options")))?;
                msg.state = option.to_string();
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    Ok(encode(&msg))
}

/// Builds the `ButtonCommandRequest` for a button change request (only
/// `ButtonPress`).
pub(super) fn button_command(
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    for &v in values {
        if *v != Component::ButtonPress {
            return Err(refuse(v, NOT_WRITABLE));
        }
    }
    Ok(encode(&proto::ButtonCommandRequest { key, device_id }))
}

/// The component of a `LockStateResponse`; none for `NONE`.
pub(super) fn lock_components(m: &proto::LockStateResponse, out: &mut Vec<Component>) {
    let lock = match proto::LockState::try_from(m.state) {
        Ok(proto::LockState::Locked) => Some(Lock::Locked),
        Ok(proto::LockState::Unlocked | proto::LockState::Open) => Some(Lock::Unlocked),
        Ok(proto::LockState::Jammed) => Some(Lock::Jammed),
        Ok(proto::LockState::Locking) => Some(Lock::Locking),
        Ok(proto::LockState::Unlocking | proto::LockState::Opening) => Some(Lock::Unlocking),
        Ok(proto::LockState::None) | Err(_) => None,
    };
    out.extend(lock.map(Component::Lock));
}

/// Builds the one `LockCommandRequest` for a lock change request.
pub(super) fn lock_command(
    supports_open: bool,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::LockCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    for &v in values {
        let cmd = match v {
            Component::Lock(Lock::Locked) | Component::LockCommand(IglooLockCommand::Lock) => {
                proto::LockCommand::Lock
            }
            Component::Lock(Lock::Unlocked) | Component::LockCommand(IglooLockCommand::Unlock) => {
                proto::LockCommand::Unlock
            }
            Component::Lock(_) => {
                return Err(refuse(v, "only Locked and Unlocked can be requested"));
            }
            Component::LockCommand(IglooLockCommand::Open) if supports_open => {
                proto::LockCommand::Open
            }
            Component::LockCommand(IglooLockCommand::Open) => {
                return Err(refuse(v, "the lock cannot open its latch"));
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        };
        msg.command = cmd as i32;
    }
    Ok(encode(&msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto::Incoming;
    use crate::entities::test_support::*;
    use crate::entities::{Domain, command, state, state_key};

    // ---- switch -------------------------------------------------------------

    #[test]
    fn switch_info_state_and_command() {
        let e = switch();
        assert!(e.markers.is_empty());
        assert_eq!(
            keys(&e),
            vec![
                "object_id",
                "esphome_domain",
                "device_class",
                "category",
                "writable"
            ]
        );
        assert_eq!(attr(&e, "category"), Some("config"));
        assert_eq!(attr(&e, "writable"), Some("Switch"));
        let st = |on, missing| {
            Incoming::SwitchState(proto::SwitchStateResponse {
                key: 0x8000_0001,
                state: on,
                device_id: 3,
                missing_state: missing,
            })
        };
        assert_eq!(state_key(&st(true, false)), Some(0x8000_0001));
        assert_eq!(state(&e, &st(true, false)), vec![Component::Switch(true)]);
        assert!(state(&e, &st(true, true)).is_empty());
        let m: proto::SwitchCommandRequest = sent(command(&e, &[Component::Switch(true)]));
        assert_eq!(
            m,
            proto::SwitchCommandRequest {
                key: 0x8000_0001,
                state: true,
                device_id: 3
            }
        );
        let m: proto::SwitchCommandRequest = sent(command(&e, &[Component::Switch(false)]));
        assert!(!m.state);
        let err = refused(command(&e, &[Component::Brightness(50.0)]));
        assert_eq!(err.entity, "Relay");
        assert_eq!(err.component, "Brightness");
        assert!(err.to_string().contains("\"Relay\""));
        assert!(err.to_string().contains("Brightness"));
    }

    // ---- number -------------------------------------------------------------

    #[test]
    fn number_info_state_command() {
        let e = number();
        assert!(e.markers.is_empty());
        assert_eq!(
            e.attributes,
            vec![
                ("object_id".to_string(), "delay".to_string()),
                ("esphome_domain".into(), "number".into()),
                ("unit".into(), "s".into()),
                ("min".into(), "0.5".into()),
                ("max".into(), "60".into()),
                ("step".into(), "0.5".into()),
                ("mode".into(), "slider".into()),
                ("category".into(), "config".into()),
                ("writable".into(), "Number".into()),
            ]
        );
        let st = |v: f32, missing| {
            Incoming::NumberState(proto::NumberStateResponse {
                key: 123,
                state: v,
                missing_state: missing,
                device_id: 1,
            })
        };
        assert_eq!(state(&e, &st(12.5, false)), vec![Component::Number(12.5)]);
        assert!(state(&e, &st(12.5, true)).is_empty());
        assert!(state(&e, &st(f32::NAN, false)).is_empty());
        let m: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(30.0)]));
        assert_eq!(
            m,
            proto::NumberCommandRequest {
                key: 123,
                state: 30.0,
                device_id: 1
            }
        );
        let _: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(0.5)]));
        let _: proto::NumberCommandRequest = sent(command(&e, &[Component::Number(60.0)]));
        let err = refused(command(&e, &[Component::Number(61.0)]));
        assert_eq!(err.component, "Number");
        assert!(err.reason.contains("61"), "{err}");
        refused(command(&e, &[Component::Number(0.0)]));
        refused(command(&e, &[Component::Number(f64::NAN)]));
        // Bounds that are not exact in binary still accept themselves.
        let tenths = info(Incoming::ListNumber(proto::ListEntitiesNumberResponse {
            min_value: 0.1,
            max_value: 0.3,
            ..Default::default()
        }));
        for x in [0.1, 0.2, 0.3] {
            let m: proto::NumberCommandRequest = sent(command(&tenths, &[Component::Number(x)]));
            assert_eq!(m.state, x as f32);
        }
        assert_eq!(attr(&tenths, "max"), Some("0.3"));
        refused(command(&tenths, &[Component::Number(0.31)]));
        refused(command(&e, &[Component::Select("1".into())]));
    }

    // ---- select -------------------------------------------------------------

    #[test]
    fn select_info_state_command() {
        let e = select();
        assert_eq!(attr(&e, "options"), Some("Eco,Comfort,Boost"));
        assert_eq!(attr(&e, "writable"), Some("Select"));
        let st = Incoming::SelectState(proto::SelectStateResponse {
            key: 55,
            state: "Comfort".into(),
            ..Default::default()
        });
        assert_eq!(state(&e, &st), vec![Component::Select("Comfort".into())]);
        let m: proto::SelectCommandRequest =
            sent(command(&e, &[Component::Select("Boost".into())]));
        assert_eq!(
            m,
            proto::SelectCommandRequest {
                key: 55,
                state: "Boost".into(),
                device_id: 0
            }
        );
        // Sent as the device spells it.
        let m: proto::SelectCommandRequest = sent(command(&e, &[Component::Select("eco".into())]));
        assert_eq!(m.state, "Eco");
        let err = refused(command(&e, &[Component::Select("Turbo".into())]));
        assert_eq!(err.component, "Select");
        assert!(err.reason.contains("Turbo"));
    }

    // ---- button -------------------------------------------------------------

    #[test]
    fn button_press() {
        let e = info(Incoming::ListButton(proto::ListEntitiesButtonResponse {
            object_id: "restart".into(),
            key: 8,
            name: "Restart".into(),
            device_class: "restart".into(),
            entity_category: proto::EntityCategory::Config as i32,
            device_id: 6,
            ..Default::default()
        }));
        assert_eq!(e.domain, Domain::Button);
        assert_eq!(e.markers, vec![Component::ButtonPress]);
        assert_eq!(attr(&e, "writable"), Some("ButtonPress"));
        assert_eq!(attr(&e, "device_class"), Some("restart"));
        let m: proto::ButtonCommandRequest = sent(command(&e, &[Component::ButtonPress]));
        assert_eq!(
            m,
            proto::ButtonCommandRequest {
                key: 8,
                device_id: 6
            }
        );
        refused(command(&e, &[Component::Switch(true)]));
        assert_eq!(command(&e, &[]).expect("nothing"), vec![]);
    }

    // ---- lock ---------------------------------------------------------------

    #[test]
    fn lock_states() {
        use proto::LockState as S;
        let e = lock(false);
        assert!(e.markers.is_empty());
        assert_eq!(attr(&e, "writable"), Some("Lock,LockCommand"));
        for (esp, igloo) in [
            (S::Locked, Some(Lock::Locked)),
            (S::Unlocked, Some(Lock::Unlocked)),
            (S::Jammed, Some(Lock::Jammed)),
            (S::Locking, Some(Lock::Locking)),
            (S::Unlocking, Some(Lock::Unlocking)),
            (S::Open, Some(Lock::Unlocked)),
            (S::Opening, Some(Lock::Unlocking)),
            (S::None, None),
        ] {
            let st = Incoming::LockState(proto::LockStateResponse {
                key: 31,
                state: esp as i32,
                device_id: 0,
            });
            assert_eq!(state_key(&st), Some(31));
            let expected: Vec<Component> = igloo.map(Component::Lock).into_iter().collect();
            assert_eq!(state(&e, &st), expected, "{esp:?}");
        }
    }

    #[test]
    fn lock_commands() {
        use proto::LockCommand as C;
        let e = lock(true);
        for (value, cmd) in [
            (Component::Lock(Lock::Locked), C::Lock),
            (Component::Lock(Lock::Unlocked), C::Unlock),
            (Component::LockCommand(IglooLockCommand::Lock), C::Lock),
            (Component::LockCommand(IglooLockCommand::Unlock), C::Unlock),
            (Component::LockCommand(IglooLockCommand::Open), C::Open),
        ] {
            let m: proto::LockCommandRequest = sent(command(&e, &[value]));
            assert_eq!(
                m,
                proto::LockCommandRequest {
                    key: 31,
                    command: cmd as i32,
                    ..Default::default()
                }
            );
        }
        let open = [Component::LockCommand(IglooLockCommand::Open)];
        let err = refused(command(&lock(false), &open));
        assert_eq!(err.component, "LockCommand");
        refused(command(&e, &[Component::Lock(Lock::Jammed)]));
        refused(command(&e, &[Component::Switch(true)]));
    }
}
