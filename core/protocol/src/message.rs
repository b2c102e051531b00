//! The [`Message`] enum: everything that crosses the provider ⇄ core socket.
//!
//! **Append-only.** The variant index is the message id and the bincode
//! discriminant. Variants are never removed, reordered or changed; a new
//! capability is a new variant at the end. Struct payloads are frozen once
//! released (bincode has no field evolution): extend through the
//! `attributes` lists or a new message. `tests/golden/messages.txt` lists the
//! names in order and a test checks it against git history.

use serde::{Deserialize, Serialize};

use crate::component::{Component, ComponentId};

/// A message id: the [`Message`] variant index.
pub type MessageId = u16;

/// Core-assigned, persistent device id. Stable across provider, core and board
/// restarts for the same (provider, key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceId(pub u64);

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Provider-chosen entity number, unique within one device for one connection.
/// The core keys entities by name; this number only saves bytes on the wire.
pub type EntityId = u32;

/// Free-form `(key, value)` metadata (e.g. `("model", "TRADFRI bulb")`,
/// `("unit", "°F")`). The extension point for frozen payloads.
pub type Attributes = Vec<(String, String)>;

/// Provider → core, first message: who the provider is and what it understands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol major the provider speaks ([`crate::PROTOCOL_MAJOR`]).
    pub protocol_major: u16,
    /// Protocol minor (informational; any minor of a known major is accepted).
    pub protocol_minor: u16,
    /// Provider name (e.g. `igloo-mqtt`).
    pub name: String,
    /// Provider version (semver text).
    pub version: String,
    /// Highest component id the provider can decode.
    pub max_component_id: ComponentId,
    /// Highest message id the provider can decode.
    pub max_message_id: MessageId,
}

/// Core → provider, reply to [`Hello`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// Protocol major the core speaks.
    pub protocol_major: u16,
    /// Protocol minor of the core.
    pub protocol_minor: u16,
    /// Core version (semver text).
    pub core_version: String,
    /// Highest component id the core can decode.
    pub max_component_id: ComponentId,
    /// Highest message id the core can decode.
    pub max_message_id: MessageId,
    /// The provider's `[provider.config]` section from the core config, as TOML text.
    pub config: String,
    /// The provider's own read-write data directory.
    pub data_dir: String,
}

/// Provider → core: create (or find again) the device with this stable key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateDevice {
    /// Echoed in [`DeviceCreated`] or [`ErrorReply`].
    pub request_id: u32,
    /// Stable key within the provider: MAC, IEEE address, Modbus unit + port…
    pub key: String,
    /// Human-readable name.
    pub name: String,
    /// Metadata such as `model`, `manufacturer`, `sw_version`.
    pub attributes: Attributes,
}

/// Core → provider: the id for a [`CreateDevice`] request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceCreated {
    /// The request this answers.
    pub request_id: u32,
    /// The persistent device id.
    pub device: DeviceId,
}

/// Provider → core: declare an entity on one of its devices. Registering the
/// same name again replaces the entity's number and attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterEntity {
    /// Owning device.
    pub device: DeviceId,
    /// Number used by later [`WriteComponents`] for this entity.
    pub entity: EntityId,
    /// Entity name, unique per device (e.g. `Light`, `Temperature`, `Relay 1`).
    pub name: String,
    /// Metadata such as `unit`, `options`, `writable`.
    pub attributes: Attributes,
}

/// Both directions. Provider → core: the entity's confirmed new values.
/// Core → provider: a change request from a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteComponents {
    /// Target device.
    pub device: DeviceId,
    /// Target entity number (from [`RegisterEntity`]).
    pub entity: EntityId,
    /// Component values; at most one per component id is meaningful.
    pub values: Vec<Component>,
}

/// Provider → core: the device is reachable or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAvailability {
    /// The device.
    pub device: DeviceId,
    /// `true` = online.
    pub available: bool,
}

/// Provider → core: the device is gone for good (unpaired). Its id is kept
/// reserved for its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveDevice {
    /// The device.
    pub device: DeviceId,
}

/// Both directions: a provider-specific command (e.g. `esphome.add`) and its
/// JSON-text argument. Answered by [`CustomReply`] or [`ErrorReply`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Custom {
    /// Echoed in the reply.
    pub request_id: u32,
    /// Command name.
    pub command: String,
    /// Argument, JSON text by convention.
    pub body: String,
}

/// Reply to a [`Custom`] command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomReply {
    /// The request this answers.
    pub request_id: u32,
    /// Result, JSON text by convention.
    pub body: String,
}

/// An error answering a request (`request_id` 0 when not tied to one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The request this answers, or 0.
    pub request_id: u32,
    /// What kind of error ([`ErrorCode`] constants; unknown codes are allowed).
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
}

/// Error codes in [`ErrorReply`]. A plain number so new codes never break old peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// The peer's protocol major is not supported; the connection closes.
    pub const PROTOCOL_VERSION: ErrorCode = ErrorCode(1);
    /// A message out of order or malformed in content.
    pub const PROTOCOL: ErrorCode = ErrorCode(2);
    /// The device id is unknown.
    pub const UNKNOWN_DEVICE: ErrorCode = ErrorCode(3);
    /// The device belongs to another provider.
    pub const NOT_OWNER: ErrorCode = ErrorCode(4);
    /// The entity number was never registered on the device.
    pub const UNKNOWN_ENTITY: ErrorCode = ErrorCode(5);
    /// The request is understood but not valid (bad argument, read-only value).
    pub const INVALID: ErrorCode = ErrorCode(6);
    /// The custom command is not supported.
    pub const UNSUPPORTED: ErrorCode = ErrorCode(7);
    /// The peer failed internally.
    pub const INTERNAL: ErrorCode = ErrorCode(8);
    /// The sender is not allowed to do this (e.g. [`ObserveTree`] or
    /// [`RequestChange`] without the `tree` permission in the core config).
    pub const FORBIDDEN: ErrorCode = ErrorCode(9);
    /// Not possible now, try again later: the device is offline, its provider
    /// is not running or not keeping up, or the core is shutting down.
    pub const UNAVAILABLE: ErrorCode = ErrorCode(10);
}

/// Core → provider: a device node (serial port, dongle) the core opened for
/// the provider. The open file descriptor itself travels separately, over the
/// grant socket (fd 4, `IGLOO_GRANT_FD`), as `SCM_RIGHTS` ancillary data on a
/// 4-byte little-endian payload that carries the same `grant` number, and is
/// sent before this message. Providers never open `/dev` paths themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Core-chosen number, unique for the core's lifetime; names the grant in [`Revoke`].
    pub grant: u32,
    /// Kernel device name, e.g. `ttyUSB0`.
    pub name: String,
    /// What the core knows about the device: `vid`, `pid` (4 hex digits),
    /// `serial`, `manufacturer`, `product`, `known` (id from the core's dongle
    /// table, e.g. `conbee2`), `kind` (`zigbee`, `zwave`, `thread`, `serial`),
    /// `rule` (index of the matching grant rule).
    pub attributes: Attributes,
}

/// Core → provider: a granted device was unplugged or its grant withdrawn.
/// The provider should close its copy of the fd; the core has closed its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revoke {
    /// The [`Grant::grant`] number.
    pub grant: u32,
    /// Why, e.g. `unplugged`.
    pub reason: String,
}

/// Provider → core: "send me the whole device tree and then its changes"
/// (protocol 1.1, needs `tree = "read"` or `"control"` for the provider in the
/// core config, else an [`ErrorReply`] with [`ErrorCode::FORBIDDEN`]).
///
/// The core answers with one [`TreeDevice`] per live device and a
/// [`TreeSynced`] echoing `request_id`, then streams [`TreeState`],
/// [`TreeDevice`], [`TreeAvailability`](Message::TreeAvailability) and
/// [`TreeRemoved`](Message::TreeRemoved) as the tree changes. When the
/// provider falls behind, the core sends the snapshot again (with
/// `TreeRemoved` for devices that went meanwhile) and another `TreeSynced`.
/// Sending `ObserveTree` again restarts the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObserveTree {
    /// Echoed in every [`TreeSynced`] of this observation, or in the refusal.
    pub request_id: u32,
    /// Reserved for options; none are defined (peers ignore unknown keys).
    pub attributes: Attributes,
}

/// One entity of a [`TreeDevice`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEntity {
    /// Entity name, unique per device; [`TreeState`] and [`RequestChange`] use it.
    pub name: String,
    /// The entity's attributes as its provider registered them (`unit`,
    /// `writable`, `options`, `device_class`…).
    pub attributes: Attributes,
    /// Its current confirmed values, sorted by component id (components above
    /// the receiver's `max_component_id` are left out).
    pub values: Vec<Component>,
}

/// Core → provider (observers only): a whole device, in a snapshot or when it
/// was created, renamed, moved to another room, came back or gained or
/// changed an entity. Replaces what the receiver knew about the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeDevice {
    /// The persistent device id.
    pub device: DeviceId,
    /// The owning provider's name (from the core config, e.g. `mqtt`).
    pub provider: String,
    /// Display name (the owner's name for it, else the provider's).
    pub name: String,
    /// The name of the room the owner put it in; empty for none.
    pub room: String,
    /// Reachable now.
    pub available: bool,
    /// The device attributes its provider set (`manufacturer`, `model`…).
    pub attributes: Attributes,
    /// Its entities, in name order.
    pub entities: Vec<TreeEntity>,
}

/// Core → provider (observers only): confirmed new values of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeState {
    /// The device.
    pub device: DeviceId,
    /// The entity name (as in [`TreeEntity::name`]).
    pub entity: String,
    /// The values written (components the receiver does not know are left out).
    pub values: Vec<Component>,
}

/// Core → provider (observers only): the end of a snapshot of the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeSynced {
    /// The [`ObserveTree::request_id`].
    pub request_id: u32,
    /// How many [`TreeDevice`]s the snapshot held.
    pub devices: u32,
}

/// Provider → core: a change request for a device of any provider, handled
/// exactly like a user's (the core checks the device is online and the
/// entity's `writable` and `options`, then forwards a [`WriteComponents`] to
/// the owning provider; the tree changes only when that provider confirms).
/// Needs `tree = "control"` in the core config. Answered by a
/// [`CustomReply`] with body `{}` when forwarded, or an [`ErrorReply`]
/// ([`ErrorCode::FORBIDDEN`], `UNKNOWN_DEVICE`, `UNKNOWN_ENTITY`, `INVALID`,
/// `UNSUPPORTED`, `UNAVAILABLE`) with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestChange {
    /// Echoed in the reply.
    pub request_id: u32,
    /// The device (any provider's).
    pub device: DeviceId,
    /// The entity name.
    pub entity: String,
    /// Requested values.
    pub values: Vec<Component>,
}

/// Provider → core (protocol 1.1): one entity of one of the provider's
/// devices is gone for good (e.g. its Home Assistant discovery config was
/// cleared); the device and its other entities stay. The core drops the
/// entity with its last values, and a later [`RegisterEntity`] with the same
/// name creates it again. Refused with an [`ErrorReply`]
/// ([`ErrorCode::UNKNOWN_DEVICE`], `NOT_OWNER`, `UNKNOWN_ENTITY`) like a
/// [`WriteComponents`]. Only send it to a core whose `max_message_id` covers
/// it; an older core drops the connection on an unknown message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveEntity {
    /// The owning device.
    pub device: DeviceId,
    /// The entity number (from [`RegisterEntity`] on this connection).
    pub entity: EntityId,
}

/// Provider → core (protocol 1.1): [`CreateDevice`] with the device's
/// availability. A plain `CreateDevice` makes the device available; this one
/// sets what the provider knows, so a device known to be unreachable (a
/// Zigbee device that left the network, announced again after a restart) is
/// never shown available, not even for the moment between a `CreateDevice`
/// and a [`SetAvailability`]. Answered like `CreateDevice`, with
/// [`DeviceCreated`] or an [`ErrorReply`] carrying `request_id`. Only send it
/// to a core whose `max_message_id` covers it; an older core drops the
/// connection on an unknown message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateDeviceWithAvailability {
    /// The device, as in a `CreateDevice`.
    pub create: CreateDevice,
    /// `true` = online, as in a [`SetAvailability`].
    pub available: bool,
}

/// Every message of the protocol. The variant index is the message id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// 0, P→C.
    Hello(Hello),
    /// 1, C→P.
    Welcome(Welcome),
    /// 2, P→C.
    CreateDevice(CreateDevice),
    /// 3, C→P.
    DeviceCreated(DeviceCreated),
    /// 4, P→C.
    RegisterEntity(RegisterEntity),
    /// 5, both.
    WriteComponents(WriteComponents),
    /// 6, P→C.
    SetAvailability(SetAvailability),
    /// 7, P→C.
    RemoveDevice(RemoveDevice),
    /// 8, both.
    Custom(Custom),
    /// 9, both.
    CustomReply(CustomReply),
    /// 10, both: heartbeat request with a nonce.
    Ping(u64),
    /// 11, both: heartbeat answer echoing the nonce.
    Pong(u64),
    /// 12, both.
    Error(ErrorReply),
    /// 13, C→P.
    Grant(Grant),
    /// 14, C→P.
    Revoke(Revoke),
    /// 15, P→C (1.1).
    ObserveTree(ObserveTree),
    /// 16, C→P (1.1), to observers.
    TreeDevice(TreeDevice),
    /// 17, C→P (1.1), to observers.
    TreeState(TreeState),
    /// 18, C→P (1.1), to observers: a device's availability changed.
    TreeAvailability(SetAvailability),
    /// 19, C→P (1.1), to observers: a device was removed by its provider.
    TreeRemoved(RemoveDevice),
    /// 20, C→P (1.1), to observers.
    TreeSynced(TreeSynced),
    /// 21, P→C (1.1).
    RequestChange(RequestChange),
    /// 22, P→C (1.1).
    RemoveEntity(RemoveEntity),
    /// 23, P→C (1.1).
    CreateDeviceWithAvailability(CreateDeviceWithAvailability),
}

/// The id of each message (its variant index, its position in
/// [`MESSAGE_NAMES`]): one constant per variant, so code that asks whether a
/// peer knows a message (`Negotiated::knows_message`) never writes a number.
pub mod ids {
    use super::MessageId;

    /// `Hello`.
    pub const HELLO: MessageId = 0;
    /// `Welcome`.
    pub const WELCOME: MessageId = 1;
    /// `CreateDevice`.
    pub const CREATE_DEVICE: MessageId = 2;
    /// `DeviceCreated`.
    pub const DEVICE_CREATED: MessageId = 3;
    /// `RegisterEntity`.
    pub const REGISTER_ENTITY: MessageId = 4;
    /// `WriteComponents`.
    pub const WRITE_COMPONENTS: MessageId = 5;
    /// `SetAvailability`.
    pub const SET_AVAILABILITY: MessageId = 6;
    /// `RemoveDevice`.
    pub const REMOVE_DEVICE: MessageId = 7;
    /// `Custom`.
    pub const CUSTOM: MessageId = 8;
    /// `CustomReply`.
    pub const CUSTOM_REPLY: MessageId = 9;
    /// `Ping`.
    pub const PING: MessageId = 10;
    /// `Pong`.
    pub const PONG: MessageId = 11;
    /// `Error`.
    pub const ERROR: MessageId = 12;
    /// `Grant`.
    pub const GRANT: MessageId = 13;
    /// `Revoke`.
    pub const REVOKE: MessageId = 14;
    /// `ObserveTree`.
    pub const OBSERVE_TREE: MessageId = 15;
    /// `TreeDevice`.
    pub const TREE_DEVICE: MessageId = 16;
    /// `TreeState`.
    pub const TREE_STATE: MessageId = 17;
    /// `TreeAvailability`.
    pub const TREE_AVAILABILITY: MessageId = 18;
    /// `TreeRemoved`.
    pub const TREE_REMOVED: MessageId = 19;
    /// `TreeSynced`.
    pub const TREE_SYNCED: MessageId = 20;
    /// `RequestChange`.
    pub const REQUEST_CHANGE: MessageId = 21;
    /// `RemoveEntity`.
    pub const REMOVE_ENTITY: MessageId = 22;
    /// `CreateDeviceWithAvailability`.
    pub const CREATE_DEVICE_WITH_AVAILABILITY: MessageId = 23;
}

/// Variant names in wire order (index = message id).
pub const MESSAGE_NAMES: &[&str] = &[
    "Hello",
    "Welcome",
    "CreateDevice",
    "DeviceCreated",
    "RegisterEntity",
    "WriteComponents",
    "SetAvailability",
    "RemoveDevice",
    "Custom",
    "CustomReply",
    "Ping",
    "Pong",
    "Error",
    "Grant",
    "Revoke",
    "ObserveTree",
    "TreeDevice",
    "TreeState",
    "TreeAvailability",
    "TreeRemoved",
    "TreeSynced",
    "RequestChange",
    "RemoveEntity",
    "CreateDeviceWithAvailability",
];

/// The highest message id this build knows.
pub const MAX_MESSAGE_ID: MessageId = ids::CREATE_DEVICE_WITH_AVAILABILITY;

impl Message {
    /// The message id (variant index).
    pub fn id(&self) -> MessageId {
        match self {
            Message::Hello(_) => ids::HELLO,
            Message::Welcome(_) => ids::WELCOME,
            Message::CreateDevice(_) => ids::CREATE_DEVICE,
            Message::DeviceCreated(_) => ids::DEVICE_CREATED,
            Message::RegisterEntity(_) => ids::REGISTER_ENTITY,
            Message::WriteComponents(_) => ids::WRITE_COMPONENTS,
            Message::SetAvailability(_) => ids::SET_AVAILABILITY,
            Message::RemoveDevice(_) => ids::REMOVE_DEVICE,
            Message::Custom(_) => ids::CUSTOM,
            Message::CustomReply(_) => ids::CUSTOM_REPLY,
            Message::Ping(_) => ids::PING,
            Message::Pong(_) => ids::PONG,
            Message::Error(_) => ids::ERROR,
            Message::Grant(_) => ids::GRANT,
            Message::Revoke(_) => ids::REVOKE,
            Message::ObserveTree(_) => ids::OBSERVE_TREE,
            Message::TreeDevice(_) => ids::TREE_DEVICE,
            Message::TreeState(_) => ids::TREE_STATE,
            Message::TreeAvailability(_) => ids::TREE_AVAILABILITY,
            Message::TreeRemoved(_) => ids::TREE_REMOVED,
            Message::TreeSynced(_) => ids::TREE_SYNCED,
            Message::RequestChange(_) => ids::REQUEST_CHANGE,
            Message::RemoveEntity(_) => ids::REMOVE_ENTITY,
            Message::CreateDeviceWithAvailability(_) => ids::CREATE_DEVICE_WITH_AVAILABILITY,
        }
    }

    /// The variant name (for logs).
    pub fn name(&self) -> &'static str {
        MESSAGE_NAMES[usize::from(self.id())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_agree() {
        assert_eq!(MESSAGE_NAMES.len(), usize::from(MAX_MESSAGE_ID) + 1);
        let m = Message::CreateDeviceWithAvailability(CreateDeviceWithAvailability {
            create: CreateDevice {
                request_id: 1,
                key: "k".into(),
                name: "n".into(),
                attributes: Vec::new(),
            },
            available: false,
        });
        assert_eq!(m.id(), MAX_MESSAGE_ID);
        assert_eq!(m.name(), "CreateDeviceWithAvailability");
    }

    #[test]
    fn id_constants_name_their_variants() {
        for (id, name) in [
            (ids::HELLO, "Hello"),
            (ids::CUSTOM, "Custom"),
            (ids::ERROR, "Error"),
            (ids::GRANT, "Grant"),
            (ids::REVOKE, "Revoke"),
            (ids::OBSERVE_TREE, "ObserveTree"),
            (ids::TREE_SYNCED, "TreeSynced"),
            (ids::REQUEST_CHANGE, "RequestChange"),
            (ids::REMOVE_ENTITY, "RemoveEntity"),
            (
                ids::CREATE_DEVICE_WITH_AVAILABILITY,
                "CreateDeviceWithAvailability",
            ),
        ] {
            assert_eq!(MESSAGE_NAMES[usize::from(id)], name);
        }
    }
}
