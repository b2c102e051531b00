//! Changes broadcast to API clients (`GET /api/v1/events`), produced by the
//! tree task, the supervisor and the update service (`ota`). JSON shapes are in `docs/api.md`; provider
//! objects are made by [`views`], like the API's.

use std::sync::Arc;

use igloo_protocol::{Component, DeviceId};
use serde_json::json;

use crate::api::views;
use crate::ota::OtaEvent;
use crate::supervisor::ProviderStatus;
use crate::tree::{DeviceView, EntityView, RoomView};

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
    /// A device was created, renamed or came back, or its provider removed
    /// one of its entities (the view no longer has it).
    Device(Arc<DeviceView>),
    /// An entity was registered or its attributes changed.
    Entity {
        /// Device.
        device: DeviceId,
        /// Entity name.
        entity: Arc<str>,
        /// The entity.
        view: Arc<EntityView>,
    },
    /// A device was removed by its provider.
    Removed(DeviceId),
    /// A provider refused a change request for an entity.
    Refused {
        /// Device.
        device: DeviceId,
        /// Entity name.
        entity: Arc<str>,
        /// The provider's reason.
        reason: Arc<str>,
    },
    /// A provider's status changed.
    Provider {
        /// Its new status.
        status: Arc<ProviderStatus>,
        /// Components withheld from it so far.
        dropped_components: u64,
    },
    /// An install of a system update moved on or ended.
    Ota(Arc<OtaEvent>),
    /// The rooms changed: all of them now, ordered by name.
    Rooms(Arc<[RoomView]>),
}

impl Event {
    /// The JSON object sent to clients, as text (`docs/api.md`).
    pub fn to_json_text(&self) -> String {
        let v = match self {
            Event::State {
                device,
                entity,
                values,
            } => json!({
                "type": "state",
                "device": device.0,
                "entity": &**entity,
                "components": views::components(values),
            }),
            Event::Availability { device, available } => {
                json!({"type": "availability", "device": device.0, "available": available})
            }
            Event::Device(d) => json!({"type": "device", "device": views::device(d)}),
            Event::Entity {
                device,
                entity,
                view,
            } => json!({
                "type": "entity",
                "device": device.0,
                "entity": &**entity,
                "value": views::entity(view),
            }),
            Event::Removed(d) => json!({"type": "removed", "device": d.0}),
            Event::Refused {
                device,
                entity,
                reason,
            } => json!({
                "type": "refused",
                "device": device.0,
                "entity": &**entity,
                "reason": &**reason,
            }),
            Event::Provider {
                status,
                dropped_components,
            } => json!({
                "type": "provider",
                "provider": views::provider_event(status, *dropped_components),
            }),
            Event::Ota(e) => views::ota_event(e),
            Event::Rooms(rooms) => json!({"type": "rooms", "rooms": views::rooms(rooms)}),
        };
        v.to_string()
    }

    /// The SSE event name (same as the JSON `type`).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::State { .. } => "state",
            Event::Availability { .. } => "availability",
            Event::Device(_) => "device",
            Event::Entity { .. } => "entity",
            Event::Removed(_) => "removed",
            Event::Refused { .. } => "refused",
            Event::Provider { .. } => "provider",
            Event::Ota(_) => "ota",
            Event::Rooms(_) => "rooms",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use igloo_protocol::Component;
    use serde_json::Value as Json;

    #[test]
    fn every_event_is_valid_json_with_its_type() {
        let events = [
            Event::State {
                device: DeviceId(1),
                entity: Arc::from("Light \"1\""),
                values: Arc::from(vec![Component::Switch(true)]),
            },
            Event::Availability {
                device: DeviceId(1),
                available: false,
            },
            Event::Device(Arc::new(DeviceView {
                id: DeviceId(1),
                provider: Arc::from("mqtt"),
                key: "k".into(),
                name: "lamp".into(),
                provider_name: "lamp".into(),
                room: Some(3),
                available: true,
                status: crate::tree::model::DeviceStatus::Online,
                unsupported: None,
                attributes: vec![],
                entities: vec![],
            })),
            Event::Entity {
                device: DeviceId(1),
                entity: Arc::from("Temp\\x"),
                view: Arc::new(EntityView {
                    attributes: vec![],
                    components: vec![Component::Temperature(21.5)],
                }),
            },
            Event::Removed(DeviceId(2)),
            Event::Refused {
                device: DeviceId(1),
                entity: Arc::from("Light"),
                reason: Arc::from("not connected to the broker"),
            },
            Event::Provider {
                status: Arc::new(ProviderStatus::new(
                    "mqtt",
                    "/usr/bin/igloo-mqtt".into(),
                    "configured".into(),
                )),
                dropped_components: 3,
            },
            Event::Ota(Arc::new(OtaEvent::Progress(crate::ota::InstallProgress {
                id: 1,
                source: "upload".into(),
                phase: crate::ota::install::Phase::Installing,
                percent: 20,
                step: "Determining slot states".into(),
                started_at_ms: 1,
            }))),
            Event::Ota(Arc::new(OtaEvent::Finished(
                crate::ota::history::Record::new(crate::ota::history::Kind::Install, 2),
            ))),
            Event::Rooms(Arc::from(vec![RoomView {
                id: 1,
                name: "Living \"room\"".into(),
            }])),
        ];
        for e in events {
            let v: Json = serde_json::from_str(&e.to_json_text())
                .unwrap_or_else(|err| panic!("{}: {err}", e.to_json_text()));
            assert_eq!(v["type"], e.kind());
        }
    }
}
