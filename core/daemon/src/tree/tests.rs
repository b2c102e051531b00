use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use igloo_protocol::message::{
    CreateDevice, CreateDeviceWithAvailability, RegisterEntity, RemoveEntity, SetAvailability,
    WriteComponents,
};
use igloo_protocol::{Component, DeviceId, ErrorCode, Message, Negotiated};
use tokio::sync::{broadcast, mpsc};

use super::*;

struct Fixture {
    tree: TreeHandle,
    events: broadcast::Receiver<Event>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.redb")).unwrap();
    let (tx, rx) = broadcast::channel(1024);
    let tree = spawn(store, tx).unwrap();
    Fixture {
        tree,
        events: rx,
        _dir: dir,
    }
}

async fn connect(
    tree: &TreeHandle,
    name: &str,
    negotiated: Negotiated,
) -> (Arc<str>, mpsc::Receiver<Message>, u64) {
    let (tx, rx) = mpsc::channel(64);
    let p: Arc<str> = Arc::from(name);
    let link = Link::new(p.clone(), tx, negotiated, Arc::new(AtomicU64::new(0)));
    let connection = link.connection();
    tree.send(TreeCmd::ProviderUp {
        provider: p.clone(),
        link,
    })
    .await;
    (p, rx, connection)
}

async fn from(tree: &TreeHandle, p: &Arc<str>, msg: Message) {
    tree.send(TreeCmd::FromProvider {
        provider: p.clone(),
        msg,
    })
    .await;
}

async fn create(
    tree: &TreeHandle,
    p: &Arc<str>,
    rx: &mut mpsc::Receiver<Message>,
    key: &str,
) -> DeviceId {
    from(
        tree,
        p,
        Message::CreateDevice(CreateDevice {
            request_id: 5,
            key: key.into(),
            name: key.into(),
            attributes: vec![],
        }),
    )
    .await;
    match rx.recv().await {
        Some(Message::DeviceCreated(d)) => {
            assert_eq!(d.request_id, 5);
            d.device
        }
        other => panic!("expected DeviceCreated, got {other:?}"),
    }
}

fn error_code(m: Option<Message>) -> ErrorCode {
    match m {
        Some(Message::Error(e)) => e.code,
        other => panic!("expected an Error reply, got {other:?}"),
    }
}

#[tokio::test]
async fn same_key_same_id_and_other_providers_cannot_write() {
    let f = fixture().await;
    let (a, mut arx, _) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    let (b, mut brx, _) = connect(&f.tree, "b", Negotiated::CURRENT).await;
    let d1 = create(&f.tree, &a, &mut arx, "k1").await;
    assert_eq!(create(&f.tree, &a, &mut arx, "k1").await, d1);
    let d2 = create(&f.tree, &b, &mut brx, "k1").await;
    assert_ne!(
        d1, d2,
        "the same key under another provider is another device"
    );

    from(
        &f.tree,
        &a,
        Message::RegisterEntity(RegisterEntity {
            device: d1,
            entity: 0,
            name: "Light".into(),
            attributes: vec![],
        }),
    )
    .await;
    // b writes to a's device: refused, a's state unchanged.
    from(
        &f.tree,
        &b,
        Message::WriteComponents(WriteComponents {
            device: d1,
            entity: 0,
            values: vec![Component::Switch(true)],
        }),
    )
    .await;
    assert_eq!(error_code(brx.recv().await), ErrorCode::NOT_OWNER);
    from(
        &f.tree,
        &b,
        Message::SetAvailability(SetAvailability {
            device: d1,
            available: false,
        }),
    )
    .await;
    assert_eq!(error_code(brx.recv().await), ErrorCode::NOT_OWNER);
    // Unknown device and unregistered entity number.
    from(
        &f.tree,
        &a,
        Message::WriteComponents(WriteComponents {
            device: DeviceId(999),
            entity: 0,
            values: vec![],
        }),
    )
    .await;
    assert_eq!(error_code(arx.recv().await), ErrorCode::UNKNOWN_DEVICE);
    from(
        &f.tree,
        &a,
        Message::WriteComponents(WriteComponents {
            device: d1,
            entity: 7,
            values: vec![Component::Switch(true)],
        }),
    )
    .await;
    assert_eq!(error_code(arx.recv().await), ErrorCode::UNKNOWN_ENTITY);

    let dev = crate::api::views::device(&f.tree.device(d1).await.unwrap());
    assert_eq!(
        dev["entities"]["Light"]["components"],
        serde_json::json!({})
    );
    assert_eq!(dev["available"], true);
}

#[tokio::test]
async fn writes_apply_and_requests_reach_the_owner_with_its_entity_number() {
    let mut f = fixture().await;
    let (a, mut arx, a_conn) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    let d = create(&f.tree, &a, &mut arx, "lamp").await;
    from(
        &f.tree,
        &a,
        Message::RegisterEntity(RegisterEntity {
            device: d,
            entity: 4,
            name: "Light".into(),
            attributes: vec![],
        }),
    )
    .await;
    from(
        &f.tree,
        &a,
        Message::WriteComponents(WriteComponents {
            device: d,
            entity: 4,
            values: vec![Component::Light, Component::Brightness(10.0)],
        }),
    )
    .await;
    from(
        &f.tree,
        &a,
        Message::WriteComponents(WriteComponents {
            device: d,
            entity: 4,
            values: vec![Component::Brightness(55.0)],
        }),
    )
    .await;
    let dev = crate::api::views::device(&f.tree.device(d).await.unwrap());
    assert_eq!(
        dev["entities"]["Light"]["components"],
        serde_json::json!({"Light": true, "Brightness": 55.0})
    );
    assert_eq!(
        dev["entities"]["Light"]["units"],
        serde_json::json!({"Brightness": "%"})
    );

    f.tree
        .request(d, "Light".into(), vec![Component::Switch(true)])
        .await
        .unwrap();
    match arx.recv().await {
        Some(Message::WriteComponents(w)) => {
            assert_eq!(
                (w.device, w.entity, w.values),
                (d, 4, vec![Component::Switch(true)])
            );
        }
        other => panic!("expected the change request, got {other:?}"),
    }
    assert!(matches!(
        f.tree
            .request(d, "Nope".into(), vec![Component::Switch(true)])
            .await,
        Err(RequestError::UnknownEntity(..))
    ));
    assert!(matches!(
        f.tree.request(DeviceId(77), "Light".into(), vec![]).await,
        Err(RequestError::UnknownDevice(_))
    ));

    // A late ProviderDown of an older connection changes nothing.
    f.tree
        .send(TreeCmd::ProviderDown {
            provider: a.clone(),
            connection: a_conn.wrapping_sub(1_000_000),
        })
        .await;
    f.tree
        .request(d, "Light".into(), vec![Component::Switch(true)])
        .await
        .expect("still connected");
    assert!(matches!(
        arx.recv().await,
        Some(Message::WriteComponents(_))
    ));
    // The provider goes down: unavailable, and requests say so.
    f.tree
        .send(TreeCmd::ProviderDown {
            provider: a.clone(),
            connection: a_conn,
        })
        .await;
    assert!(matches!(
        f.tree
            .request(d, "Light".into(), vec![Component::Switch(true)])
            .await,
        Err(RequestError::ProviderDown(_))
    ));
    let mut saw_unavailable = false;
    while let Ok(e) = f.events.try_recv() {
        if let Event::Availability {
            device,
            available: false,
        } = e
        {
            saw_unavailable |= device == d;
        }
    }
    assert!(saw_unavailable);
}

#[tokio::test]
async fn components_unknown_to_an_older_provider_are_not_sent() {
    let f = fixture().await;
    // An old provider that knows components up to id 2 (Light, Switch, Brightness).
    let old = Negotiated {
        peer_max_component_id: 2,
        peer_max_message_id: igloo_protocol::MAX_MESSAGE_ID,
    };
    let (a, mut arx, _) = connect(&f.tree, "old", old).await;
    let d = create(&f.tree, &a, &mut arx, "x").await;
    from(
        &f.tree,
        &a,
        Message::RegisterEntity(RegisterEntity {
            device: d,
            entity: 0,
            name: "Light".into(),
            attributes: vec![],
        }),
    )
    .await;
    f.tree
        .request(
            d,
            "Light".into(),
            vec![Component::Switch(true), Component::ColorTemperature(300)],
        )
        .await
        .unwrap();
    match arx.recv().await {
        Some(Message::WriteComponents(w)) => assert_eq!(w.values, vec![Component::Switch(true)]),
        other => panic!("expected a filtered write, got {other:?}"),
    }
    assert!(matches!(
        f.tree
            .request(d, "Light".into(), vec![Component::ColorTemperature(300)])
            .await,
        Err(RequestError::Unsupported(_, 2))
    ));
}

#[tokio::test]
async fn oversized_texts_are_refused() {
    let f = fixture().await;
    let (a, mut arx, _) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    from(
        &f.tree,
        &a,
        Message::CreateDevice(CreateDevice {
            request_id: 9,
            key: "k".repeat(MAX_TEXT + 1),
            name: "n".into(),
            attributes: vec![],
        }),
    )
    .await;
    match arx.recv().await {
        Some(Message::Error(e)) => assert_eq!((e.request_id, e.code), (9, ErrorCode::INVALID)),
        other => panic!("expected an Error reply, got {other:?}"),
    }
    assert!(f.tree.devices().await.is_empty());
}

#[tokio::test]
async fn an_entity_is_removed_by_its_owner_only_and_can_come_back() {
    let mut f = fixture().await;
    let (a, mut arx, _) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    let (b, mut brx, _) = connect(&f.tree, "b", Negotiated::CURRENT).await;
    let d = create(&f.tree, &a, &mut arx, "sensor").await;
    for (entity, name, value) in [
        (1, "Temperature", Component::Temperature(21.5)),
        (2, "Humidity", Component::Humidity(40.0)),
    ] {
        from(
            &f.tree,
            &a,
            Message::RegisterEntity(RegisterEntity {
                device: d,
                entity,
                name: name.into(),
                attributes: vec![],
            }),
        )
        .await;
        from(
            &f.tree,
            &a,
            Message::WriteComponents(WriteComponents {
                device: d,
                entity,
                values: vec![value],
            }),
        )
        .await;
    }
    let remove = |entity| Message::RemoveEntity(RemoveEntity { device: d, entity });

    // Another provider cannot remove it; the baseline below shows the owner can.
    from(&f.tree, &b, remove(2)).await;
    assert_eq!(error_code(brx.recv().await), ErrorCode::NOT_OWNER);
    // Unknown entity number and unknown device: refused, nothing changes.
    from(&f.tree, &a, remove(9)).await;
    assert_eq!(error_code(arx.recv().await), ErrorCode::UNKNOWN_ENTITY);
    from(
        &f.tree,
        &a,
        Message::RemoveEntity(RemoveEntity {
            device: DeviceId(999),
            entity: 2,
        }),
    )
    .await;
    assert_eq!(error_code(arx.recv().await), ErrorCode::UNKNOWN_DEVICE);
    let dev = crate::api::views::device(&f.tree.device(d).await.unwrap());
    assert_eq!(dev["entities"]["Humidity"]["components"]["Humidity"], 40.0);
    while f.events.try_recv().is_ok() {}

    from(&f.tree, &a, remove(2)).await;
    let dev = crate::api::views::device(&f.tree.device(d).await.unwrap());
    assert!(dev["entities"].get("Humidity").is_none(), "{dev}");
    assert_eq!(
        dev["entities"]["Temperature"]["components"]["Temperature"],
        21.5
    );
    match f.events.try_recv() {
        Ok(Event::Device(v)) => {
            assert_eq!(v.id, d);
            let names: Vec<&str> = v.entities.iter().map(|(n, _)| &**n).collect();
            assert_eq!(names, ["Temperature"]);
        }
        other => panic!("expected a device event, got {other:?}"),
    }
    // Its number is no longer registered: writes and a second removal are refused.
    from(&f.tree, &a, remove(2)).await;
    assert_eq!(error_code(arx.recv().await), ErrorCode::UNKNOWN_ENTITY);

    // Registering the name again creates it anew, without the old values.
    from(
        &f.tree,
        &a,
        Message::RegisterEntity(RegisterEntity {
            device: d,
            entity: 2,
            name: "Humidity".into(),
            attributes: vec![],
        }),
    )
    .await;
    let dev = crate::api::views::device(&f.tree.device(d).await.unwrap());
    assert_eq!(
        dev["entities"]["Humidity"]["components"],
        serde_json::json!({})
    );
}

#[tokio::test]
async fn a_removed_entity_stays_removed_in_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.redb");
    let d = {
        let (tx, _rx) = broadcast::channel(64);
        let tree = spawn(Store::open(&path).unwrap(), tx).unwrap();
        let (a, mut arx, _) = connect(&tree, "a", Negotiated::CURRENT).await;
        let d = create(&tree, &a, &mut arx, "sensor").await;
        for (entity, name) in [(1, "Temperature"), (2, "Humidity")] {
            from(
                &tree,
                &a,
                Message::RegisterEntity(RegisterEntity {
                    device: d,
                    entity,
                    name: name.into(),
                    attributes: vec![],
                }),
            )
            .await;
        }
        tree.flush().await;
        from(
            &tree,
            &a,
            Message::RemoveEntity(RemoveEntity {
                device: d,
                entity: 2,
            }),
        )
        .await;
        tree.flush().await;
        d
    };
    // The dropped handle ends the first tree task, which then closes the store.
    let store = loop {
        match Store::open(&path) {
            Ok(s) => break s,
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let (tx, _rx) = broadcast::channel(64);
    let tree = spawn(store, tx).unwrap();
    let dev = crate::api::views::device(&tree.device(d).await.unwrap());
    let names: Vec<&String> = dev["entities"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["Temperature"]);
}

/// The availability events of `device` still queued in `events`, in order.
fn availability_events(events: &mut broadcast::Receiver<Event>, device: DeviceId) -> Vec<bool> {
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let Event::Availability {
            device: d,
            available,
        } = e
            && d == device
        {
            seen.push(available);
        }
    }
    seen
}

#[tokio::test]
async fn a_device_created_unavailable_is_never_shown_available() {
    let mut f = fixture().await;
    let (a, mut arx, conn) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    let create_as = |request_id, available| {
        Message::CreateDeviceWithAvailability(CreateDeviceWithAvailability {
            create: CreateDevice {
                request_id,
                key: "plug".into(),
                name: "Plug".into(),
                attributes: vec![],
            },
            available,
        })
    };
    // Baseline: a plain CreateDevice makes the device available.
    let d = create(&f.tree, &a, &mut arx, "plug").await;
    assert_eq!(availability_events(&mut f.events, d), [true]);
    assert!(f.tree.device(d).await.is_some_and(|v| v.available));
    // The provider goes away and comes back; the device is announced again
    // as unavailable: the same id, and no event says it is available.
    f.tree
        .send(TreeCmd::ProviderDown {
            provider: a.clone(),
            connection: conn,
        })
        .await;
    let (a, mut arx, _) = connect(&f.tree, "a", Negotiated::CURRENT).await;
    from(&f.tree, &a, create_as(6, false)).await;
    match arx.recv().await {
        Some(Message::DeviceCreated(c)) => {
            assert_eq!((c.request_id, c.device), (6, d));
        }
        other => panic!("expected DeviceCreated, got {other:?}"),
    }
    assert!(f.tree.device(d).await.is_some_and(|v| !v.available));
    assert_eq!(availability_events(&mut f.events, d), [false]);
    // Announced again as available: one event.
    from(&f.tree, &a, create_as(7, true)).await;
    assert!(matches!(arx.recv().await, Some(Message::DeviceCreated(_))));
    assert!(f.tree.device(d).await.is_some_and(|v| v.available));
    assert_eq!(availability_events(&mut f.events, d), [true]);
    // A bad key is refused with the request's id, as for CreateDevice.
    from(
        &f.tree,
        &a,
        Message::CreateDeviceWithAvailability(CreateDeviceWithAvailability {
            create: CreateDevice {
                request_id: 8,
                key: String::new(),
                name: "x".into(),
                attributes: vec![],
            },
            available: false,
        }),
    )
    .await;
    match arx.recv().await {
        Some(Message::Error(e)) => {
            assert_eq!((e.request_id, e.code), (8, ErrorCode::INVALID));
        }
        other => panic!("expected an Error reply, got {other:?}"),
    }
}
