//! Zigbee2MQTT: topics, payloads and the mapping to Igloo's device model.
//!
//! - [`topic`]: which kind of message a topic under the base topic carries.
//! - [`devices`]: `bridge/devices` → [`devices::DevicePlan`]s.
//! - [`exposes`]: a device's exposes → [`exposes::EntityPlan`]s (entities, components, attributes).
//! - [`state`]: state JSON → component values; availability payloads.
//! - [`command`]: change requests → `/set` JSON.
//! - [`bridge`]: the stateful part — the devices known, pending state, availability —
//!   driving the SDK. Everything else here is pure and unit-tested on
//!   real Zigbee2MQTT payloads.

pub mod bridge;
pub mod command;
pub mod devices;
pub mod exposes;
pub mod state;
pub mod topic;

#[cfg(test)]
mod fixtures;

pub use bridge::Bridge;

use serde_json::Value as J;

/// A payload from the broker that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON of the wrong shape.
    #[error("expected a JSON {expected}, got {got}")]
    Shape {
        /// What the topic carries.
        expected: &'static str,
        /// What arrived.
        got: &'static str,
    },
    /// An availability payload other than `online`/`offline` or `{"state": …}`.
    #[error("expected online/offline or {{\"state\":\"online\"|\"offline\"}}")]
    Availability,
}

/// `"array"`, `"object"`, … for error messages.
pub(crate) fn json_kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}
