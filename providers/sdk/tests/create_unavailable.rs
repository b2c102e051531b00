//! `Provider::create_device_with_availability` against a core that knows
//! `CreateDeviceWithAvailability` (message 23) and against one that does not
//! (a protocol 1.0 core, messages 0–12): what goes on the wire.
#![allow(clippy::expect_used, clippy::unwrap_used)] // a broken socketpair is a broken test

use futures::{SinkExt, StreamExt};
use igloo_provider::protocol::codec::MessageCodec;
use igloo_provider::protocol::message::{DeviceCreated, Welcome};
use igloo_provider::protocol::{
    MAX_COMPONENT_ID, MAX_MESSAGE_ID, Message, MessageId, PROTOCOL_MAJOR, ids,
};
use igloo_provider::{DeviceId, Provider};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_util::codec::Framed;

/// A core that welcomes the provider with `max_message_id`, answers both
/// device creations with id 7 and forwards everything it receives.
async fn core(s: UnixStream, max_message_id: MessageId, tx: mpsc::UnboundedSender<Message>) {
    let mut frames = Framed::new(s, MessageCodec::default());
    while let Some(Ok(msg)) = frames.next().await {
        let reply = match &msg {
            Message::Hello(_) => Some(Message::Welcome(Welcome {
                protocol_major: PROTOCOL_MAJOR,
                protocol_minor: 0,
                core_version: "test".into(),
                max_component_id: MAX_COMPONENT_ID,
                max_message_id,
                config: String::new(),
                data_dir: "/nonexistent".into(),
            })),
            Message::CreateDevice(c) => Some(Message::DeviceCreated(DeviceCreated {
                request_id: c.request_id,
                device: DeviceId(7),
            })),
            Message::CreateDeviceWithAvailability(c) => {
                Some(Message::DeviceCreated(DeviceCreated {
                    request_id: c.create.request_id,
                    device: DeviceId(7),
                }))
            }
            _ => None,
        };
        if let Some(r) = reply {
            frames.send(r).await.expect("write");
        }
        if !matches!(msg, Message::Hello(_)) && tx.send(msg).is_err() {
            return;
        }
    }
}

/// The message names the core received for one unavailable announcement
/// and, after it, one `RemoveDevice` (a marker that everything before it
/// arrived).
async fn announce_unavailable(max_message_id: MessageId) -> (bool, Vec<String>) {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(core(theirs, max_message_id, tx));
    let (provider, _events) = Provider::over(ours, "sdk-test", "test")
        .await
        .expect("handshake");
    let id = provider
        .create_device_with_availability("plug", "Plug", vec![], false)
        .await
        .expect("created");
    assert_eq!(id, DeviceId(7));
    provider.remove_device(id).await.expect("marker");
    let mut names = Vec::new();
    while let Some(m) = rx.recv().await {
        if let Message::SetAvailability(a) = &m {
            assert_eq!((a.device, a.available), (DeviceId(7), false));
        }
        if let Message::CreateDeviceWithAvailability(c) = &m {
            assert_eq!((c.create.key.as_str(), c.available), ("plug", false));
        }
        let done = matches!(m, Message::RemoveDevice(_));
        names.push(m.name().to_string());
        if done {
            break;
        }
    }
    (provider.core_can_create_unavailable(), names)
}

#[tokio::test]
async fn a_current_core_gets_one_message_with_the_availability() {
    let (can, names) = announce_unavailable(MAX_MESSAGE_ID).await;
    assert!(can);
    assert_eq!(names, ["CreateDeviceWithAvailability", "RemoveDevice"]);
}

#[tokio::test]
async fn a_core_older_than_the_message_gets_create_then_set_availability() {
    let (can, names) = announce_unavailable(ids::ERROR).await;
    assert!(!can);
    assert_eq!(names, ["CreateDevice", "SetAvailability", "RemoveDevice"]);
}
