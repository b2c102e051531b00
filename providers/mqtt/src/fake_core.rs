//! A fake core speaking the real protocol over a socketpair, for the
//! stateful parts' unit tests (the Zigbee2MQTT bridge, discovery).
#![allow(clippy::expect_used)] // test scaffolding: a broken socketpair is a broken test

use std::collections::HashMap;

use igloo_provider::Events;
use igloo_provider::protocol::message::{DeviceCreated, ErrorReply, Welcome};
use igloo_provider::protocol::{
    DEFAULT_MAX_FRAME, ErrorCode, MAX_COMPONENT_ID, MAX_MESSAGE_ID, Message, MessageId,
    PROTOCOL_MAJOR, PROTOCOL_MINOR, decode_payload, frame::to_frame_bytes,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use igloo_provider::{DeviceId, Provider};

/// The key the fake core uses to mark "everything sent before has arrived".
pub const SYNC_KEY: &str = "__sync__";
/// A key the fake core refuses.
pub const REFUSED_KEY: &str = "0xbadbadbadbadbad0";

pub struct FakeCore {
    rx: mpsc::UnboundedReceiver<Message>,
}

impl FakeCore {
    /// Everything the provider sent since the last call, summarised one line per message.
    pub async fn drain(&mut self, provider: &Provider) -> Vec<String> {
        provider
            .create_device(SYNC_KEY, "sync", vec![])
            .await
            .expect("sync");
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            if matches!(&m, Message::CreateDevice(c) if c.key == SYNC_KEY) {
                return out;
            }
            out.push(show(&m));
        }
        panic!("sync marker missing after {out:?}");
    }

    /// Like `drain`, but returns the raw messages.
    pub async fn drain_raw(&mut self, provider: &Provider) -> Vec<Message> {
        provider
            .create_device(SYNC_KEY, "sync", vec![])
            .await
            .expect("sync");
        let mut out = Vec::new();
        while let Ok(m) = self.rx.try_recv() {
            if matches!(&m, Message::CreateDevice(c) if c.key == SYNC_KEY) {
                return out;
            }
            out.push(m);
        }
        panic!("sync marker missing");
    }
}

pub fn show(m: &Message) -> String {
    match m {
        Message::CreateDevice(c) => format!("create {} {}", c.key, c.name),
        Message::RegisterEntity(r) => format!("entity {}/{} {}", r.device, r.entity, r.name),
        Message::WriteComponents(w) => format!("write {}/{} {:?}", w.device, w.entity, w.values),
        Message::SetAvailability(a) => format!("available {} {}", a.device, a.available),
        Message::RemoveDevice(r) => format!("remove {}", r.device),
        Message::RemoveEntity(r) => format!("remove entity {}/{}", r.device, r.entity),
        other => format!("{other:?}"),
    }
}

async fn send(s: &mut UnixStream, m: &Message) {
    let bytes = to_frame_bytes(m, DEFAULT_MAX_FRAME).expect("encode");
    s.write_all(&bytes).await.expect("write");
}

/// A minimal core: answers Hello and CreateDevice (ids by key, from 1), forwards the rest.
async fn core(mut s: UnixStream, tx: mpsc::UnboundedSender<Message>, max_message_id: MessageId) {
    let mut ids: HashMap<String, u64> = HashMap::new();
    loop {
        let mut len = [0u8; 4];
        if s.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut payload = vec![0; u32::from_le_bytes(len) as usize];
        if s.read_exact(&mut payload).await.is_err() {
            return;
        }
        let msg = decode_payload(&payload).expect("valid frame from the provider");
        match &msg {
            Message::Hello(_) => {
                let welcome = Welcome {
                    protocol_major: PROTOCOL_MAJOR,
                    protocol_minor: PROTOCOL_MINOR,
                    core_version: "test".into(),
                    max_component_id: MAX_COMPONENT_ID,
                    max_message_id,
                    config: String::new(),
                    data_dir: "/nonexistent".into(),
                };
                send(&mut s, &Message::Welcome(welcome)).await;
                continue;
            }
            Message::CreateDevice(c) if c.key == REFUSED_KEY => {
                let e = ErrorReply {
                    request_id: c.request_id,
                    code: ErrorCode::INVALID,
                    message: "refused for the test".into(),
                };
                send(&mut s, &Message::Error(e)).await;
            }
            Message::CreateDevice(c) => {
                let id = if c.key == SYNC_KEY {
                    999
                } else {
                    let next = ids.len() as u64 + 1;
                    *ids.entry(c.key.clone()).or_insert(next)
                };
                let reply = DeviceCreated {
                    request_id: c.request_id,
                    device: DeviceId(id),
                };
                send(&mut s, &Message::DeviceCreated(reply)).await;
            }
            _ => {}
        }
        if tx.send(msg).is_err() {
            return;
        }
    }
}

pub async fn start() -> (Provider, Events, FakeCore) {
    start_knowing(MAX_MESSAGE_ID).await
}

/// Like [`start`], with a core that knows messages up to `max_message_id`
/// (an older core).
pub async fn start_knowing(max_message_id: MessageId) -> (Provider, Events, FakeCore) {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(core(theirs, tx, max_message_id));
    let (provider, events) = Provider::over(ours, "igloo-mqtt", "test")
        .await
        .expect("handshake");
    (provider, events, FakeCore { rx })
}
