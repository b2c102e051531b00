//! Tree observation for one provider connection (`ObserveTree`, protocol
//! 1.1; docs/providers.md, docs/adr/0012-tree-observation.md).
//!
//! An [`Observer`] is a task beside the connection: it takes a snapshot from
//! the tree task ([`TreeHandle::observe`], which subscribes to the event bus
//! in the same step), sends it as `TreeDevice`s and a `TreeSynced`, then turns
//! the bus's events into `TreeState`, `TreeDevice`, `TreeAvailability` and
//! `TreeRemoved`. It writes into its own bounded queue to the connection's
//! writer and waits when that is full: the tree task never waits for an
//! observer (the bus is a broadcast channel). An observer that falls behind
//! the bus loses events ([`broadcast::error::RecvError::Lagged`]); it then
//! takes a fresh snapshot and sends it again, with `TreeRemoved` for devices
//! that went meanwhile, so nothing is lost silently.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use igloo_protocol::handshake::Outgoing;
use igloo_protocol::message::{
    RemoveDevice, SetAvailability, TreeDevice, TreeEntity, TreeState, TreeSynced,
};
use igloo_protocol::{DeviceId, Message, Negotiated};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::events::Event;
use crate::provider_log::{ProviderLog, limited};
use crate::tree::{DeviceView, TreeHandle};

/// Queue depth between an observer and the connection's writer.
pub const QUEUE: usize = 256;

/// A running observation; dropping it stops it.
pub struct Observer {
    task: JoinHandle<()>,
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where an observer sends, and what it may send.
#[derive(Clone)]
pub struct Sink {
    /// The observer queue of the connection's writer.
    pub tx: mpsc::Sender<Message>,
    /// What the provider decodes.
    pub negotiated: Negotiated,
    /// The provider's count of withheld components.
    pub dropped: Arc<AtomicU64>,
}

impl Sink {
    /// Sends `msg` after negotiation filtering; `false` when the connection is gone.
    async fn send(&self, msg: Message) -> bool {
        match self.negotiated.prepare(msg) {
            Outgoing::Send { message, dropped } => {
                self.count(dropped);
                self.tx.send(message).await.is_ok()
            }
            Outgoing::Withheld { dropped } => {
                self.count(dropped);
                true
            }
        }
    }

    fn count(&self, dropped: usize) {
        if dropped > 0 {
            self.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
        }
    }
}

/// Starts observing the tree for the provider behind `sink`, answering
/// `ObserveTree` number `request_id`.
pub fn start(tree: TreeHandle, sink: Sink, request_id: u32, log: Arc<ProviderLog>) -> Observer {
    Observer {
        task: tokio::spawn(run(tree, sink, request_id, log)),
    }
}

/// What the observer knows of the tree: which devices the provider was told
/// about, and room names.
#[derive(Default)]
struct Known {
    devices: HashSet<DeviceId>,
    rooms: HashMap<u64, String>,
}

async fn run(tree: TreeHandle, sink: Sink, request_id: u32, log: Arc<ProviderLog>) {
    let mut known = Known::default();
    loop {
        let Some(snapshot) = tree.observe().await else {
            return;
        };
        known.rooms = snapshot.rooms.into_iter().map(|r| (r.id, r.name)).collect();
        let count = u32::try_from(snapshot.devices.len()).unwrap_or(u32::MAX);
        let mut now = HashSet::with_capacity(snapshot.devices.len());
        for d in &snapshot.devices {
            now.insert(d.id);
            if !sink.send(tree_device(d, &known.rooms)).await {
                return;
            }
        }
        for gone in known.devices.difference(&now) {
            if !sink
                .send(Message::TreeRemoved(RemoveDevice { device: *gone }))
                .await
            {
                return;
            }
        }
        known.devices = now;
        let synced = Message::TreeSynced(TreeSynced {
            request_id,
            devices: count,
        });
        if !sink.send(synced).await {
            return;
        }
        let mut events = snapshot.events;
        loop {
            match events.recv().await {
                Ok(event) => {
                    if !forward(&tree, &sink, &mut known, event).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    limited!(
                        log,
                        "observer",
                        tracing::Level::WARN,
                        missed,
                        "tree observer fell behind; sending the whole tree again"
                    );
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

/// Sends what `event` means to an observer; `false` when the connection is gone.
async fn forward(tree: &TreeHandle, sink: &Sink, known: &mut Known, event: Event) -> bool {
    let msg = match event {
        Event::State {
            device,
            entity,
            values,
        } => Message::TreeState(TreeState {
            device,
            entity: entity.to_string(),
            values: values.to_vec(),
        }),
        Event::Availability { device, available } => {
            Message::TreeAvailability(SetAvailability { device, available })
        }
        Event::Device(view) => {
            known.devices.insert(view.id);
            tree_device(&view, &known.rooms)
        }
        Event::Entity { device, .. } => {
            // The whole device again: entities are few and change rarely
            // (registration), and one message kind keeps observers simple.
            let Some(view) = tree.device(device).await else {
                return true;
            };
            known.devices.insert(view.id);
            tree_device(&view, &known.rooms)
        }
        Event::Removed(device) => {
            known.devices.remove(&device);
            Message::TreeRemoved(RemoveDevice { device })
        }
        Event::Rooms(rooms) => {
            known.rooms = rooms.iter().map(|r| (r.id, r.name.clone())).collect();
            return true;
        }
        Event::Refused { .. } | Event::Provider { .. } | Event::Ota(_) => return true,
    };
    sink.send(msg).await
}

/// A device as an observer receives it.
fn tree_device(d: &DeviceView, rooms: &HashMap<u64, String>) -> Message {
    Message::TreeDevice(TreeDevice {
        device: d.id,
        provider: d.provider.to_string(),
        name: d.name.clone(),
        room: d
            .room
            .and_then(|r| rooms.get(&r).cloned())
            .unwrap_or_default(),
        available: d.available,
        attributes: d.attributes.clone(),
        entities: d
            .entities
            .iter()
            .map(|(name, e)| TreeEntity {
                name: name.to_string(),
                attributes: e.attributes.clone(),
                values: e.components.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use igloo_protocol::message::{CreateDevice, RegisterEntity, WriteComponents};
    use igloo_protocol::{Component, Negotiated};

    use super::*;
    use crate::store::Store;
    use crate::tree::{Link, TreeCmd};

    async fn from(tree: &TreeHandle, p: &Arc<str>, msg: Message) {
        tree.send(TreeCmd::FromProvider {
            provider: p.clone(),
            msg,
        })
        .await;
    }

    fn names(msgs: &[Message]) -> Vec<String> {
        msgs.iter()
            .map(|m| match m {
                Message::TreeDevice(d) => format!("device {}", d.device),
                Message::TreeRemoved(r) => format!("removed {}", r.device),
                Message::TreeSynced(s) => format!("synced {}", s.devices),
                Message::TreeState(s) => format!("state {}", s.device),
                other => other.name().to_string(),
            })
            .collect()
    }

    /// An observer that cannot keep up with the event bus loses events,
    /// then sends the snapshot again, with `TreeRemoved` for what went.
    #[tokio::test]
    async fn a_lagging_observer_gets_the_snapshot_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.redb")).unwrap();
        let (bus, _keep) = broadcast::channel(4);
        let tree = crate::tree::spawn(store, bus).unwrap();
        let (tx, mut owner_rx) = mpsc::channel(64);
        let p: Arc<str> = Arc::from("owner");
        let link = Link::new(p.clone(), tx, Negotiated::CURRENT, Arc::default());
        tree.send(TreeCmd::ProviderUp {
            provider: p.clone(),
            link,
        })
        .await;
        let mut ids = Vec::new();
        for key in ["a", "b"] {
            let create = CreateDevice {
                request_id: 1,
                key: key.into(),
                name: key.into(),
                attributes: vec![],
            };
            from(&tree, &p, Message::CreateDevice(create)).await;
            match owner_rx.recv().await {
                Some(Message::DeviceCreated(d)) => ids.push(d.device),
                other => panic!("{other:?}"),
            }
        }
        let (a, b) = (ids[0], ids[1]);
        let entity = RegisterEntity {
            device: b,
            entity: 0,
            name: "Power".into(),
            attributes: vec![],
        };
        from(&tree, &p, Message::RegisterEntity(entity)).await;
        tree.devices().await;

        // A queue of one: the observer blocks after its first message.
        let (obs_tx, mut obs_rx) = mpsc::channel(1);
        let sink = Sink {
            tx: obs_tx,
            negotiated: Negotiated::CURRENT,
            dropped: Arc::default(),
        };
        let log = Arc::new(ProviderLog::new(p.clone()));
        let _observer = start(tree.clone(), sink, 9, log);
        let first = obs_rx.recv().await.unwrap();
        assert!(matches!(first, Message::TreeDevice(ref d) if d.device == a));
        from(&tree, &p, Message::RemoveDevice(RemoveDevice { device: a })).await;
        for n in 0..10 {
            let w = WriteComponents {
                device: b,
                entity: 0,
                values: vec![Component::Power(f64::from(n))],
            };
            from(&tree, &p, Message::WriteComponents(w)).await;
        }
        tree.devices().await;
        let mut got = vec![first];
        while got
            .iter()
            .filter(|m| matches!(m, Message::TreeSynced(_)))
            .count()
            < 2
        {
            got.push(obs_rx.recv().await.unwrap());
        }
        assert_eq!(
            names(&got),
            [
                format!("device {a}"),
                format!("device {b}"),
                "synced 2".to_string(),
                format!("device {b}"),
                format!("removed {a}"),
                "synced 1".to_string(),
            ]
        );
        // The resent device has the last value: nothing was lost.
        let Some(Message::TreeDevice(d)) = got.get(3) else {
            panic!("{got:?}")
        };
        assert_eq!(d.entities[0].values, vec![Component::Power(9.0)]);
        assert!(got.iter().all(|m| match m {
            Message::TreeSynced(s) => s.request_id == 9,
            _ => true,
        }));
    }
}
