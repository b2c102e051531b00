//! # igloo-provider
//!
//! What a Rust provider links to talk to the Igloo core (DESIGN §5, §8).
//!
//! ```no_run
//! use igloo_provider::{Event, Provider, protocol::Component};
//!
//! # async fn run() -> Result<(), igloo_provider::SdkError> {
//! let (provider, mut events) = Provider::connect("igloo-example", "0.1.0").await?;
//! let lamp = provider.create_device("lamp-1", "Desk lamp", vec![]).await?;
//! let light = provider.register_entity(lamp, "Light", vec![]).await?;
//! provider.write(lamp, light, vec![Component::Light, Component::Switch(false)]).await?;
//! while let Some(event) = events.next().await {
//!     if let Event::Change { device, entity, values } = event {
//!         // Drive the hardware, then report what it confirms.
//!         provider.write(device, entity, values).await?;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The connection comes from the core: the inherited socket in `IGLOO_FD`
//! (normally fd 3), or, for running a provider by hand during development, a
//! Unix socket path in `IGLOO_SOCKET`. When the core closes the connection,
//! [`Events::next`] returns `None` and the provider should exit.
//!
//! Outgoing messages are queued and written in batches: the writer flushes
//! when its queue drains, so bursts of writes cost one syscall per batch.
//! Components and messages the core does not know (it may be older) are
//! dropped before sending and counted in [`Provider::dropped_components`].
#![warn(missing_docs)]

mod connection;
mod error;
mod grant;
pub mod start;

pub use connection::{ConfigError, Event, Events, Provider, parse_config};
pub use error::SdkError;
pub use grant::GrantedDevice;
/// The protocol crate, re-exported so providers need only this dependency.
pub use igloo_protocol as protocol;
pub use igloo_protocol::message::Attributes;
pub use igloo_protocol::{Component, DeviceId, EntityId};
