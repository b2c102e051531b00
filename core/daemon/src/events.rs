//! Changes broadcast to API clients (`GET /api/v1/events`), produced by the
//! tree task and the supervisor. JSON shapes are in `docs/api.md`.

use std::sync::Arc;

use igloo_protocol::{Component, DeviceId};
use serde_json::{Value as Json, json};

use crate::tree::components_json;

/// One change. Cheap to clone (shared payloads).
#[derive(Debug, Clone)]
pub enum Event {
    /// Confirmed values of an entity.
    State {
        /// Device.
        device: DeviceId,
        /// Entity name.
        entity: Arc<str>,
        /// The values written (only those that changed or were re-confirmed).
        values: Arc<[Component]>,
    },
    /// Device availability changed.
    Availability {
        /// Device.
        device: DeviceId,
        /// New availability.
        available: bool,
    },
    /// A device was created or its entities changed: the full device JSON.
    Device(Arc<Json>),
    /// A device was removed by its provider.
    Removed(DeviceId),
    /// A provider's status changed: the provider JSON.
    Provider(Arc<Json>),
}

impl Event {
    /// The JSON object sent to clients.
    pub fn to_json(&self) -> Json {
        match self {
            Event::State {
                device,
                entity,
                values,
            } => {
                json!({"type": "state", "device": device.0, "entity": &**entity, "components": components_json(values)})
            }
            Event::Availability { device, available } => {
                json!({"type": "availability", "device": device.0, "available": available})
            }
            Event::Device(d) => json!({"type": "device", "device": &**d}),
            Event::Removed(d) => json!({"type": "removed", "device": d.0}),
            Event::Provider(p) => json!({"type": "provider", "provider": &**p}),
        }
    }

    /// The SSE event name (same as the JSON `type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::State { .. } => "state",
            Event::Availability { .. } => "availability",
            Event::Device(_) => "device",
            Event::Removed(_) => "removed",
            Event::Provider(_) => "provider",
        }
    }
}
