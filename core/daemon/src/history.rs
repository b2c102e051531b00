//! Recent values of each numeric component, for the dashboard's sparklines
//! (`GET /api/v1/history`). Kept in memory only, in a bounded ring per
//! component: nothing grows on disk, and a restart starts empty.
//!
//! Fed from the event bus, so the tree task does no extra work; a reader
//! that falls behind a flood misses points, never blocks a provider.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use igloo_protocol::{Component, ComponentId, ComponentInfo, DeviceId, Kind};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::events::Event;

/// Points kept per component.
pub const POINTS: usize = 60;
/// Seconds per point: a value in the same 10-second window as the last
/// point replaces it (a meter reporting every second keeps 10 minutes).
pub const SPACING_S: u32 = 10;
/// Most components followed (8 bytes a point: ≤ 1 MiB of points in all).
pub const MAX_SERIES: usize = 2048;

/// (device, entity, component).
type Key = (DeviceId, Arc<str>, ComponentId);

/// One point: unix seconds, value (f32: a sparkline needs no more, and the
/// ring stays 8 bytes a point).
type Point = (u32, f32);

/// The rings of every followed component.
#[derive(Default)]
pub struct History {
    series: Mutex<HashMap<Key, VecDeque<Point>>>,
}

/// The points of one component, oldest first: (unix ms, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Device.
    pub device: DeviceId,
    /// Entity name.
    pub entity: Arc<str>,
    /// The component's name (`components.toml`).
    pub component: &'static str,
    /// (unix ms, value), oldest first.
    pub points: Vec<(u64, f64)>,
}

impl History {
    /// Starts following `events` until `stop`.
    pub fn spawn(events: &broadcast::Sender<Event>, stop: CancellationToken) -> Arc<History> {
        let history = Arc::new(History::default());
        let mut rx = events.subscribe();
        let h = history.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    () = stop.cancelled() => break,
                    e = rx.recv() => e,
                };
                match event {
                    Ok(Event::State {
                        device,
                        entity,
                        values,
                    }) => h.record(device, &entity, &values, unix_s()),
                    Ok(Event::Removed(device)) => h.forget(device),
                    // Rare (created, renamed, moved, an entity removed).
                    Ok(Event::Device(view)) => h.keep_entities(view.id, |name| {
                        view.entities.iter().any(|(n, _)| **n == *name)
                    }),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        history
    }

    /// Adds the numeric values among `values`, seen at `now` (unix seconds).
    pub fn record(&self, device: DeviceId, entity: &Arc<str>, values: &[Component], now: u32) {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        for c in values {
            let Some(v) = numeric(c) else { continue };
            let key = (device, entity.clone(), c.id());
            let full = series.len() >= MAX_SERIES;
            let ring = match series.get_mut(&key) {
                Some(r) => r,
                None if full => continue,
                None => series
                    .entry(key)
                    .or_insert_with(|| VecDeque::with_capacity(4)),
            };
            match ring.back_mut() {
                // The same window; also when the clock went back (no time sync yet).
                Some(last) if now / SPACING_S <= last.0 / SPACING_S => *last = (last.0.max(now), v),
                _ => {
                    if ring.len() == POINTS {
                        ring.pop_front();
                    }
                    ring.push_back((now, v));
                }
            }
        }
    }

    /// Drops the rings of a removed device.
    pub fn forget(&self, device: DeviceId) {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(d, _, _), _| *d != device);
    }

    /// Drops the rings of the device's entities for which `has` is false
    /// (entities its provider removed).
    pub fn keep_entities(&self, device: DeviceId, has: impl Fn(&str) -> bool) {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(d, e, _), _| *d != device || has(e));
    }

    /// Every followed component with its points.
    pub fn all(&self) -> Vec<Series> {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series
            .iter()
            .filter_map(|((device, entity, id), ring)| {
                Some(Series {
                    device: *device,
                    entity: entity.clone(),
                    component: ComponentInfo::by_id(*id)?.name,
                    points: ring
                        .iter()
                        .map(|(t, v)| (u64::from(*t) * 1000, f64::from(*v)))
                        .collect(),
                })
            })
            .collect()
    }
}

/// The value of an int or float component.
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn numeric(c: &Component) -> Option<f32> {
    match (c.info().kind, c.value()) {
        (Kind::Float, igloo_protocol::Value::Float(v)) => Some(v as f32),
        (Kind::Int, igloo_protocol::Value::Int(v)) => Some(v as f32),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

fn unix_s() -> u32 {
    let s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    u32::try_from(s).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_keep_spaced_points_and_are_bounded() {
        let h = History::default();
        let e: Arc<str> = Arc::from("Temperature");
        let d = DeviceId(1);
        h.record(
            d,
            &e,
            &[Component::Temperature(20.0), Component::Switch(true)],
            1000,
        );
        // The same 10-second window: replaces the last point.
        h.record(d, &e, &[Component::Temperature(20.5)], 1009);
        h.record(d, &e, &[Component::Temperature(21.0)], 1010);
        // The clock went back: still the last point, its time kept.
        h.record(d, &e, &[Component::Temperature(21.5)], 900);
        let all = h.all();
        assert_eq!(all.len(), 1, "only the numeric component: {all:?}");
        assert_eq!(all[0].points, vec![(1_009_000, 20.5), (1_010_000, 21.5)]);
        for i in 0..(POINTS as u32 * 2) {
            h.record(
                d,
                &e,
                &[Component::Temperature(f64::from(i))],
                2000 + i * SPACING_S,
            );
        }
        let points = &h.all()[0].points;
        assert_eq!(points.len(), POINTS);
        assert_eq!(
            points.last().map(|p| p.1),
            Some(f64::from(POINTS as u32 * 2 - 1))
        );
        // Another entity of the device, then removed: only its rings go.
        let other: Arc<str> = Arc::from("Humidity");
        h.record(d, &other, &[Component::Humidity(40.0)], 5000);
        assert_eq!(h.all().len(), 2);
        h.keep_entities(d, |name| name == "Temperature");
        let all = h.all();
        assert_eq!(all.len(), 1);
        assert_eq!(&*all[0].entity, "Temperature");
        h.forget(d);
        assert!(h.all().is_empty());
    }

    #[test]
    fn the_number_of_series_is_capped() {
        let h = History::default();
        let e: Arc<str> = Arc::from("Power");
        for i in 0..(MAX_SERIES as u64 + 10) {
            h.record(DeviceId(i), &e, &[Component::Power(1.0)], 1);
        }
        assert_eq!(h.all().len(), MAX_SERIES);
    }
}
