//! Waiting for the outcome of a change request (`POST …/entities/{e}?wait_ms=N`,
//! `igloo set --wait`): a change is confirmed by the provider reporting the
//! entity's values, not by the request being sent (DESIGN §3).

use std::sync::Arc;
use std::time::Duration;

use igloo_protocol::{Component, ComponentId, DeviceId};
use tokio::sync::broadcast;

use crate::events::Event;

/// Longest wait a client may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// How a change request ended.
#[derive(Debug)]
pub enum Outcome {
    /// The provider reported values for every requested component (they may
    /// differ from the request, e.g. a device that rounds a brightness).
    Confirmed(Arc<[Component]>),
    /// The provider said it cannot do it.
    Refused(Arc<str>),
    /// The device went offline first.
    Offline,
    /// Nothing within the wait.
    Timeout,
}

/// Waits on `events` (subscribed before the request was sent) for the
/// outcome of a request for components `ids` of `device`/`entity`.
pub async fn outcome(
    mut events: broadcast::Receiver<Event>,
    device: DeviceId,
    entity: &str,
    ids: &[ComponentId],
    wait: Duration,
) -> Outcome {
    let watch = async {
        loop {
            match events.recv().await {
                Ok(Event::State {
                    device: d,
                    entity: e,
                    values,
                }) if d == device && &*e == entity => {
                    if ids.iter().all(|id| values.iter().any(|v| v.id() == *id)) {
                        return Outcome::Confirmed(values);
                    }
                }
                Ok(Event::Refused {
                    device: d,
                    entity: e,
                    reason,
                }) if d == device && &*e == entity => return Outcome::Refused(reason),
                Ok(Event::Availability {
                    device: d,
                    available: false,
                }) if d == device => return Outcome::Offline,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return Outcome::Timeout,
            }
        }
    };
    tokio::time::timeout(wait.min(MAX_WAIT), watch)
        .await
        .unwrap_or(Outcome::Timeout)
}
