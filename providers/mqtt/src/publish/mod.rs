//! Discovery out: Igloo's whole device tree published as Home Assistant MQTT
//! discovery (docs/mqtt.md "Discovery out"), so Home Assistant creates
//! entities for devices of every provider, and its commands come back as
//! change requests through the core (`RequestChange`).
//!
//! - [`map`]: pure mapping of Igloo entities to Home Assistant platforms,
//!   state payloads and command payloads.
//! - [`publisher`]: the stateful part: what is published per device, turned
//!   into retained MQTT messages as the core's tree events arrive.
//!
//! Needs `tree = "control"` (or `"read"`, without commands) for the provider
//! in the core config, and a core with protocol 1.1.

pub mod map;
pub mod publisher;

use serde::Deserialize;

pub use publisher::{Out, Publisher};

/// Which discovery form is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One config per entity, `<prefix>/<platform>/igloo_<id>/<object>/config`
    /// (every Home Assistant version with MQTT discovery).
    #[default]
    Entity,
    /// One config per device, `<prefix>/device/igloo_<id>/config` with
    /// `components` (Home Assistant 2024.11 and later).
    Device,
}

/// `[provider.config.publish]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// Publish at all (default false: the owner opts in).
    pub enabled: bool,
    /// Home Assistant's discovery prefix (default `homeassistant`).
    pub prefix: String,
    /// Base of the state, availability and command topics (default `igloo`).
    pub base_topic: String,
    /// `entity` (default) or `device`.
    pub mode: Mode,
    /// Providers whose devices are published, by their name in the core
    /// config; `["*"]` (the default) for all. This provider's own devices
    /// are never published.
    pub providers: Vec<String>,
}

impl Default for PublishConfig {
    fn default() -> Self {
        PublishConfig {
            enabled: false,
            prefix: "homeassistant".into(),
            base_topic: "igloo".into(),
            mode: Mode::Entity,
            providers: vec!["*".into()],
        }
    }
}

/// Validated discovery-out settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Discovery prefix.
    pub prefix: String,
    /// Base topic.
    pub base_topic: String,
    /// Form.
    pub mode: Mode,
    /// Selected providers (`*` = all).
    pub providers: Vec<String>,
    /// This provider's name in the core config (`IGLOO_PROVIDER`), whose
    /// devices are never published.
    pub own: Option<String>,
    /// This build's version, for `origin` and the gateway device.
    pub sw_version: String,
}
