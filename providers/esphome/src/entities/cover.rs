//! `cover`: position, tilt and state, and `CoverCommandRequest`.

use igloo_provider::protocol::Component;
use igloo_provider::protocol::component::{CoverCommand, CoverState};

use super::{CommandError, NOT_FINITE, NOT_WRITABLE, encode, fraction, percent};
use crate::api::proto::{self, Outgoing};

/// What a cover supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CoverCaps {
    pub(crate) position: bool,
    pub(crate) tilt: bool,
    pub(crate) stop: bool,
}

/// The capabilities of a `ListEntitiesCoverResponse` (a cover has no
/// attributes of its own).
pub(super) fn cover_info(m: &proto::ListEntitiesCoverResponse) -> CoverCaps {
    CoverCaps {
        position: m.supports_position,
        tilt: m.supports_tilt,
        stop: m.supports_stop,
    }
}

/// The components [`cover_command`] accepts.
pub(super) fn cover_writable(caps: &CoverCaps, w: &mut Vec<&'static str>) {
    w.push("CoverCommand");
    if caps.position {
        w.push("CoverPosition");
    }
    if caps.tilt {
        w.push("CoverTilt");
    }
}

/// The components of a `CoverStateResponse`.
pub(super) fn cover_components(
    caps: &CoverCaps,
    m: &proto::CoverStateResponse,
    out: &mut Vec<Component>,
) {
    if caps.position
        && let Some(p) = percent(m.position)
    {
        out.push(Component::CoverPosition(p));
    }
    if caps.tilt
        && let Some(t) = percent(m.tilt)
    {
        out.push(Component::CoverTilt(t));
    }
    let state = match proto::CoverOperation::try_from(m.current_operation) {
        Ok(proto::CoverOperation::IsOpening) => Some(CoverState::Opening),
        Ok(proto::CoverOperation::IsClosing) => Some(CoverState::Closing),
        Ok(proto::CoverOperation::Idle) if m.position > 0.0 => Some(CoverState::Open),
        Ok(proto::CoverOperation::Idle) if m.position.is_finite() => Some(CoverState::Closed),
        _ => None,
    };
    out.extend(state.map(Component::CoverState));
}

/// Builds the one `CoverCommandRequest` for a cover change request.
pub(super) fn cover_command(
    caps: &CoverCaps,
    key: u32,
    device_id: u32,
    values: &[&Component],
    refuse: &dyn Fn(&Component, &str) -> CommandError,
) -> Result<Outgoing, CommandError> {
    let mut msg = proto::CoverCommandRequest {
        key,
        device_id,
        ..Default::default()
    };
    for &v in values {
        match v {
            Component::CoverCommand(CoverCommand::Open) => {
                msg.has_position = true;
                msg.position = 1.0;
            }
            Component::CoverCommand(CoverCommand::Close) => {
                msg.has_position = true;
                msg.position = 0.0;
            }
            Component::CoverCommand(CoverCommand::Stop) if caps.stop => msg.stop = true,
            Component::CoverCommand(CoverCommand::Stop) => {
                return Err(refuse(v, "the cover cannot be stopped"));
            }
            Component::CoverPosition(p) if caps.position => {
                msg.has_position = true;
                msg.position = fraction(*p).ok_or_else(|| refuse(v, NOT_FINITE))?;
            }
            Component::CoverTilt(t) if caps.tilt => {
                msg.has_tilt = true;
                msg.tilt = fraction(*t).ok_or_else(|| refuse(v, NOT_FINITE))?;
            }
            other => return Err(refuse(other, NOT_WRITABLE)),
        }
    }
    Ok(encode(&msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::test_support::*;
    use crate::entities::{command, state};

    #[test]
    fn cover_info_and_state() {
        use proto::CoverOperation as Op;
        let e = cover(true, true, true);
        assert_eq!(e.markers, vec![Component::Cover]);
        assert_eq!(
            attr(&e, "writable"),
            Some("CoverCommand,CoverPosition,CoverTilt")
        );
        assert_eq!(attr(&e, "device_class"), Some("shutter"));
        assert_eq!(
            state(&e, &cover_state(0.5, 0.25, Op::Idle)),
            vec![
                Component::CoverPosition(50.0),
                Component::CoverTilt(25.0),
                Component::CoverState(CoverState::Open),
            ]
        );
        assert_eq!(
            state(&e, &cover_state(0.0, 0.0, Op::Idle))[2],
            Component::CoverState(CoverState::Closed)
        );
        assert_eq!(
            state(&e, &cover_state(0.3, 0.0, Op::IsOpening))[2],
            Component::CoverState(CoverState::Opening)
        );
        assert_eq!(
            state(&e, &cover_state(0.3, 0.0, Op::IsClosing))[2],
            Component::CoverState(CoverState::Closing)
        );
        // Without position support: only the state, from ESPHome's 1.0/0.0.
        let simple = cover(false, false, false);
        assert_eq!(attr(&simple, "writable"), Some("CoverCommand"));
        assert_eq!(
            state(&simple, &cover_state(1.0, 0.0, Op::Idle)),
            vec![Component::CoverState(CoverState::Open)]
        );
        assert_eq!(
            state(&simple, &cover_state(0.0, 0.0, Op::Idle)),
            vec![Component::CoverState(CoverState::Closed)]
        );
    }

    #[test]
    fn cover_commands() {
        let e = cover(true, true, true);
        let cmd = |c| [Component::CoverCommand(c)];
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Open)));
        assert_eq!(
            m,
            proto::CoverCommandRequest {
                key: 77,
                has_position: true,
                position: 1.0,
                ..Default::default()
            }
        );
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Close)));
        assert!(m.has_position);
        assert_eq!(m.position, 0.0);
        let m: proto::CoverCommandRequest = sent(command(&e, &cmd(CoverCommand::Stop)));
        assert!(m.stop && !m.has_position);
        let m: proto::CoverCommandRequest = sent(command(
            &e,
            &[
                Component::Cover,
                Component::CoverPosition(25.0),
                Component::CoverTilt(75.0),
            ],
        ));
        assert!(m.has_position && m.has_tilt);
        assert_eq!((m.position, m.tilt), (0.25, 0.75));

        let simple = cover(false, false, false);
        let m: proto::CoverCommandRequest = sent(command(&simple, &cmd(CoverCommand::Open)));
        assert_eq!((m.has_position, m.position), (true, 1.0));
        let err = refused(command(&simple, &cmd(CoverCommand::Stop)));
        assert_eq!(err.component, "CoverCommand");
        assert!(err.reason.contains("stopped"));
        refused(command(&simple, &[Component::CoverPosition(50.0)]));
        refused(command(&simple, &[Component::CoverTilt(50.0)]));
        refused(command(&e, &[Component::CoverState(CoverState::Open)]));
    }
}
