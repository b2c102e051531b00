//! Home Assistant MQTT discovery, inbound: devices that announce themselves
//! with discovery configs (Tasmota, ESPHome, Shelly, Zigbee2MQTT, OpenMQTTGateway…)
//! become Igloo devices with entities and components.
//!
//! - [`topic`]: `<prefix>/<component>/[<node_id>/]<object_id>/config` and
//!   device-based `<prefix>/device/<object_id>/config`.
//! - [`abbrev`]: abbreviated keys (`stat_t` → `state_topic`) and the `~` base topic.
//! - [`config`]: the config payloads as typed values (serde).
//! - [`classes`]: device classes and units → components and unit conversions.
//! - [`platform`] → [`plan`]: a config → the entity, its reads, writes and availability.
//! - [`device`]: which Igloo device (stable key from identifiers/connections).
//! - [`template`]: Jinja templates on MiniJinja with Home Assistant's filters.
//! - [`decode`]: a (rendered) payload → component values.
//! - [`command`]: change requests → payloads.
//! - [`bridge`]: the stateful part driving the SDK.
//!
//! Everything but [`bridge`] is pure and unit-tested.

pub mod abbrev;
pub mod bridge;
pub mod classes;
pub mod command;
pub mod config;
pub mod decode;
pub mod device;
#[cfg(test)]
mod fixtures;
pub mod plan;
pub mod platform;
pub mod template;
pub mod topic;

pub use bridge::{Discovery, Publish};
