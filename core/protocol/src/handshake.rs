//! Handshake and negotiation (DESIGN §5).
//!
//! The provider opens with [`Hello`]; the core answers [`Welcome`] or, for a
//! protocol major it does not speak, an `Error` with
//! [`ErrorCode::PROTOCOL_VERSION`](crate::ErrorCode::PROTOCOL_VERSION) and closes.
//! Each side then keeps a [`Negotiated`] for the peer and passes every outgoing
//! message through [`Negotiated::prepare`], which never lets a component or a
//! message above the peer's maximum ids through.

use crate::component::{Component, ComponentId, MAX_COMPONENT_ID};
use crate::message::{Hello, MAX_MESSAGE_ID, Message, MessageId, Welcome};

/// The protocol major this build speaks. A different major is refused.
pub const PROTOCOL_MAJOR: u16 = 1;
/// The protocol minor of this build (informational: any minor of
/// [`PROTOCOL_MAJOR`] is accepted; the max ids decide what is sent).
///
/// 1.0 (tag `protocol-v1`): messages 0–12, components 0–50.
/// 1.1: adds messages `Grant` (13), `Revoke` (14), the tree observation
/// `ObserveTree` … `TreeSynced` (15–20), `RequestChange` (21), `RemoveEntity` (22),
/// `CreateDeviceWithAvailability` (23) and components
/// 51–57 (`Gas` … `LockCommand`). Releases are listed in `core/protocol/releases.toml`.
pub const PROTOCOL_MINOR: u16 = 1;

/// A failed handshake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The peer speaks another protocol major.
    #[error("protocol major {peer} of {peer_name} is not supported; this side speaks major {ours}")]
    Major {
        /// The peer's major.
        peer: u16,
        /// Ours.
        ours: u16,
        /// Who the peer is (provider name or "core").
        peer_name: String,
    },
    /// The first message was not the expected one.
    #[error("expected {expected} as the first message, got {got}")]
    Unexpected {
        /// What the handshake needed.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
}

/// What this side knows about the peer after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The highest component id the peer decodes.
    pub peer_max_component_id: ComponentId,
    /// The highest message id the peer decodes.
    pub peer_max_message_id: MessageId,
}

/// The result of [`Negotiated::prepare`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// Send this (possibly with components removed: `dropped` of them).
    Send {
        /// The message to send.
        message: Message,
        /// Components removed because the peer does not know them.
        dropped: usize,
    },
    /// Do not send: the peer does not know this message, or nothing was left of a write.
    Withheld {
        /// Components removed (for a write that became empty).
        dropped: usize,
    },
}

impl Negotiated {
    /// Everything this build knows, for talking to a peer of the same build.
    pub const CURRENT: Negotiated = Negotiated {
        peer_max_component_id: MAX_COMPONENT_ID,
        peer_max_message_id: MAX_MESSAGE_ID,
    };

    /// Core side: accept a provider's [`Hello`].
    ///
    /// # Errors
    /// [`HandshakeError::Major`] if its protocol major is not [`PROTOCOL_MAJOR`].
    pub fn from_hello(hello: &Hello) -> Result<Negotiated, HandshakeError> {
        check_major(hello.protocol_major, &hello.name)?;
        Ok(Negotiated {
            peer_max_component_id: hello.max_component_id,
            peer_max_message_id: hello.max_message_id,
        })
    }

    /// Provider side: accept the core's [`Welcome`].
    ///
    /// # Errors
    /// [`HandshakeError::Major`] if the core's protocol major is not [`PROTOCOL_MAJOR`].
    pub fn from_welcome(welcome: &Welcome) -> Result<Negotiated, HandshakeError> {
        check_major(welcome.protocol_major, "core")?;
        Ok(Negotiated {
            peer_max_component_id: welcome.max_component_id,
            peer_max_message_id: welcome.max_message_id,
        })
    }

    /// Whether the peer can decode messages with this id.
    pub fn knows_message(&self, id: MessageId) -> bool {
        id <= self.peer_max_message_id
    }

    /// Whether the peer can decode this component id.
    pub fn knows_component(&self, id: ComponentId) -> bool {
        id <= self.peer_max_component_id
    }

    /// Makes `msg` safe for the peer: drops components it does not know from a
    /// `WriteComponents`, `TreeState`, `RequestChange` and the entities of a
    /// `TreeDevice`, and withholds messages it does not know (and writes,
    /// states and change requests left empty).
    pub fn prepare(&self, mut msg: Message) -> Outgoing {
        if !self.knows_message(msg.id()) {
            return Outgoing::Withheld { dropped: 0 };
        }
        let max = self.peer_max_component_id;
        let keep = |values: &mut Vec<Component>| {
            let before = values.len();
            values.retain(|c| c.id() <= max);
            before - values.len()
        };
        let (dropped, may_empty) = match &mut msg {
            Message::WriteComponents(w) => (keep(&mut w.values), Some(w.values.is_empty())),
            Message::TreeState(t) => (keep(&mut t.values), Some(t.values.is_empty())),
            Message::RequestChange(r) => (keep(&mut r.values), Some(r.values.is_empty())),
            Message::TreeDevice(d) => (
                d.entities.iter_mut().map(|e| keep(&mut e.values)).sum(),
                None,
            ),
            _ => (0, None),
        };
        if dropped > 0 && may_empty == Some(true) {
            return Outgoing::Withheld { dropped };
        }
        Outgoing::Send {
            message: msg,
            dropped,
        }
    }
}

fn check_major(peer: u16, peer_name: &str) -> Result<(), HandshakeError> {
    if peer == PROTOCOL_MAJOR {
        Ok(())
    } else {
        Err(HandshakeError::Major {
            peer,
            ours: PROTOCOL_MAJOR,
            peer_name: peer_name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{DeviceId, TreeDevice, TreeEntity, TreeState, WriteComponents};

    fn hello(major: u16, max_c: u16, max_m: u16) -> Hello {
        Hello {
            protocol_major: major,
            protocol_minor: 0,
            name: "old".into(),
            version: "0.0.1".into(),
            max_component_id: max_c,
            max_message_id: max_m,
        }
    }

    #[test]
    fn components_above_peer_max_are_dropped_and_counted() {
        let n = Negotiated::from_hello(&hello(PROTOCOL_MAJOR, 2, MAX_MESSAGE_ID)).unwrap();
        let w = Message::WriteComponents(WriteComponents {
            device: DeviceId(1),
            entity: 0,
            values: vec![
                Component::Switch(true),
                Component::Temperature(20.0),
                Component::Brightness(3.0),
            ],
        });
        match n.prepare(w) {
            Outgoing::Send {
                message: Message::WriteComponents(w),
                dropped,
            } => {
                assert_eq!(dropped, 1);
                assert_eq!(
                    w.values,
                    vec![Component::Switch(true), Component::Brightness(3.0)]
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let only_new = Message::WriteComponents(WriteComponents {
            device: DeviceId(1),
            entity: 0,
            values: vec![Component::Humidity(1.0)],
        });
        assert_eq!(n.prepare(only_new), Outgoing::Withheld { dropped: 1 });
    }

    #[test]
    fn messages_above_peer_max_are_withheld() {
        let n = Negotiated::from_hello(&hello(PROTOCOL_MAJOR, MAX_COMPONENT_ID, 9)).unwrap();
        assert_eq!(
            n.prepare(Message::Ping(1)),
            Outgoing::Withheld { dropped: 0 }
        );
        assert!(matches!(
            n.prepare(Message::Ping(1)),
            Outgoing::Withheld { .. }
        ));
    }

    #[test]
    fn a_1_0_peer_gets_nothing_added_in_1_1() {
        // Protocol 1.0 (tag protocol-v1): components 0-50, messages 0-12.
        let n = Negotiated::from_hello(&hello(PROTOCOL_MAJOR, 50, 12)).unwrap();
        let w = Message::WriteComponents(WriteComponents {
            device: DeviceId(1),
            entity: 0,
            values: vec![
                Component::Energy(1.5),
                Component::Gas(1234.5),
                Component::ClimateAction(crate::component::ClimateAction::Heating),
            ],
        });
        match n.prepare(w) {
            Outgoing::Send {
                message: Message::WriteComponents(w),
                dropped,
            } => {
                assert_eq!(dropped, 2);
                assert_eq!(w.values, vec![Component::Energy(1.5)]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let revoke = Message::Revoke(crate::message::Revoke {
            grant: 1,
            reason: "unplugged".into(),
        });
        assert_eq!(n.prepare(revoke), Outgoing::Withheld { dropped: 0 });
        assert!(Negotiated::CURRENT.knows_component(57) && Negotiated::CURRENT.knows_message(14));
    }

    #[test]
    fn tree_messages_lose_unknown_components_and_are_withheld_from_old_peers() {
        // A 1.1 peer from before components 52+: Gas (51) is known, Gas-less
        // ClimateAction (56) is not.
        let n = Negotiated::from_hello(&hello(PROTOCOL_MAJOR, 51, MAX_MESSAGE_ID)).unwrap();
        let device = Message::TreeDevice(TreeDevice {
            device: DeviceId(4),
            provider: "esphome".into(),
            name: "Boiler".into(),
            room: String::new(),
            available: true,
            attributes: vec![],
            entities: vec![TreeEntity {
                name: "Climate".into(),
                attributes: vec![],
                values: vec![
                    Component::Temperature(20.0),
                    Component::ClimateAction(crate::component::ClimateAction::Heating),
                ],
            }],
        });
        match n.prepare(device) {
            Outgoing::Send {
                message: Message::TreeDevice(d),
                dropped,
            } => {
                assert_eq!(dropped, 1);
                assert_eq!(d.entities[0].values, vec![Component::Temperature(20.0)]);
            }
            other => panic!("unexpected {other:?}"),
        }
        let state = Message::TreeState(TreeState {
            device: DeviceId(4),
            entity: "Climate".into(),
            values: vec![Component::ClimateAction(
                crate::component::ClimateAction::Idle,
            )],
        });
        assert_eq!(n.prepare(state.clone()), Outgoing::Withheld { dropped: 1 });
        // A 1.0 peer never gets tree messages at all.
        let old = Negotiated::from_hello(&hello(PROTOCOL_MAJOR, 50, 14)).unwrap();
        let synced = Message::TreeSynced(crate::message::TreeSynced {
            request_id: 1,
            devices: 0,
        });
        assert_eq!(old.prepare(synced), Outgoing::Withheld { dropped: 0 });
        assert!(matches!(
            Negotiated::CURRENT.prepare(state),
            Outgoing::Send { dropped: 0, .. }
        ));
    }

    #[test]
    fn other_major_is_refused_naming_both_versions() {
        let e = Negotiated::from_hello(&hello(7, 0, 0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "protocol major 7 of old is not supported; this side speaks major 1"
        );
    }
}
