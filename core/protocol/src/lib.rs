//! # igloo-protocol
//!
//! The contract between the Igloo core and its providers (DESIGN §4–5):
//!
//! - [`component`]: the [`Component`] enum generated from the workspace's
//!   append-only `components.toml` (id = position = bincode variant index),
//!   its metadata table and kind-neutral [`Value`]s (plus JSON with the `json` feature).
//! - [`message`]: the append-only [`Message`] enum exchanged over the socket.
//! - [`frame`]: 4-byte little-endian length + bincode 2.0.1 `standard()` payload,
//!   with a maximum frame size; never panics on bad input.
//! - [`handshake`]: `Hello`/`Welcome` negotiation and the rule that nothing above
//!   the peer's max component id / max message id is ever sent.
//! - [`commands`]: names of the custom commands that belong to the contract.
//! - [`process`]: the exit codes a provider process uses to tell the core why it ended.
//! - [`codec`] (feature `codec`): a tokio-util `Encoder`/`Decoder` over [`frame`].
//!
//! This crate does no I/O and has no tokio types in its core API.
#![warn(missing_docs)]

pub mod commands;
pub mod component;
pub mod frame;
pub mod handshake;
pub mod message;
pub mod process;

#[cfg(feature = "codec")]
pub mod codec;

pub use component::{
    COMPONENTS, Color, Component, ComponentId, ComponentInfo, Kind, MAX_COMPONENT_ID, Value,
    ValueError, find_name,
};
pub use frame::{DEFAULT_MAX_FRAME, FrameError, decode_payload, encode_frame, try_decode_frame};
pub use handshake::{HandshakeError, Negotiated, PROTOCOL_MAJOR, PROTOCOL_MINOR};
pub use message::{
    DeviceId, EntityId, ErrorCode, MAX_MESSAGE_ID, MESSAGE_NAMES, Message, MessageId, ids,
};
pub use process::{EXIT_CONFIG, EXIT_NO_CORE};
