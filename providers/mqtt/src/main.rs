//! `igloo-mqtt`: the Igloo provider for Zigbee2MQTT and Home Assistant MQTT
//! discovery over an MQTT broker (DESIGN §8).
//!
//! Started by the core with its `[provider.config]` section (see [`config`]).
//! It connects to the broker, mirrors every Zigbee2MQTT device as an Igloo
//! device (key = IEEE address) with entities from its exposes, and every
//! device announced by Home Assistant discovery configs (key from its
//! identifiers), reports state and availability, and turns change requests
//! into publishes (`/set` JSON, command topics).
//!
//! Code map:
//! - [`config`]: the config section and its validation.
//! - [`session`]: the MQTT event loop (re-subscribe on every CONNACK, back-off)
//!   and the main loop joining broker and core.
//! - [`z2m`]: Zigbee2MQTT topics and payloads ↔ devices, entities, components.
//! - [`discovery`]: Home Assistant MQTT discovery configs ↔ devices, entities,
//!   components; templates on MiniJinja.
//! - [`publish`]: discovery out: Igloo's device tree → Home Assistant
//!   discovery, Home Assistant's commands → change requests through the core.
//! - [`color`]: CIE xy / hue-saturation → sRGB.
//!
//! Exit codes: 0 when the core closes the connection, 1 when the core cannot
//! be reached, 2 when the config is invalid. Broker trouble never exits: the
//! provider reconnects with back-off and reports its devices unavailable meanwhile.

// The test fixtures are large `json!` literals.
#![cfg_attr(test, recursion_limit = "512")]

mod color;
mod config;
mod discovery;
#[cfg(test)]
mod fake_core;
mod publish;
mod session;
mod z2m;

use std::process::ExitCode;

use igloo_provider::start;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    start::init_logging();
    let pid = std::process::id();
    let (provider, events, settings) = match start::connect_with_config(
        "igloo-mqtt",
        env!("CARGO_PKG_VERSION"),
        |c: config::Config| c.validate(pid).map_err(|e| e.to_string()),
    )
    .await
    {
        Ok(v) => v,
        Err(code) => return code,
    };
    tracing::info!(
        broker = format!("{}:{}", settings.host, settings.port),
        base_topic = settings.base_topic,
        client_id = settings.client_id,
        discovery = settings.discovery_prefix.as_deref().unwrap_or("off"),
        "starting"
    );
    match session::run(provider, events, settings).await {
        Ok(()) => {
            tracing::info!("the core closed the connection; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
