//! `igloo-tree-probe`: an SDK provider for the tree-observation tests
//! (`ObserveTree`, `RequestChange`, `RemoveEntity`; tests/tests/tree_access.rs and
//! tests/tests/mqtt_publish.rs).
//!
//! It owns device `probe-lamp` ("Probe Lamp") with entities `Light` (`Light`,
//! `Switch`, `Brightness`; writable `Switch,Brightness`) and `Temperature`
//! (read-only `Temperature` in °C), confirms every change request by writing
//! the values back, and answers custom commands (JSON bodies):
//! - `probe.observe`: calls `observe_tree`; `{"ok":true}` or `{"error":…}`.
//! - `probe.tree`: what it has seen: `{"synced":n,"devices":{id:{"name",
//!   "provider","available","entities":{name:[values as Debug text]}}},
//!   "errors":[{"code","message"}],"changes":[Debug text of each change]}`.
//! - `probe.request` `{"device":id,"entity":name,"switch":bool}`:
//!   `request_change`; `{"ok":true}` or `{"code":n,"message":…}`.
//! - `probe.write_foreign` `{"device":id}`: writes `Switch(true)` to entity 0
//!   of a device it does not own (the core's refusal lands in `errors`).
//! - `probe.temperature` `{"value":x}`: reports a new temperature.
//! - `probe.available` `{"available":bool}`: reports `probe-lamp` (un)reachable.
//! - `probe.remove`: removes `probe-lamp`.
//! - `probe.remove_temperature`: removes the `Temperature` entity of
//!   `probe-lamp` (`RemoveEntity`); `{"ok":true}` or `{"error":…}`.
//! - `probe.remove_foreign_entity` `{"device":id}`: removes entity 1 of a
//!   device it does not own (the core's refusal lands in `errors`).
//!
//! With `lamps = N` in its `[provider.config]` it also owns `N` more devices
//! like `probe-lamp` (`bench-<i>`), for the discovery-out bench.

use std::collections::BTreeMap;
use std::process::ExitCode;

use igloo_provider::protocol::ErrorCode;
use igloo_provider::{Component, DeviceId, Event, Provider, SdkError};
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    synced: u32,
    devices: BTreeMap<u64, Value>,
    errors: Vec<Value>,
    changes: Vec<String>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("igloo-tree-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

fn entities(list: &[igloo_provider::protocol::message::TreeEntity]) -> Value {
    let mut m = serde_json::Map::new();
    for e in list {
        let values: Vec<String> = e.values.iter().map(|c| format!("{c:?}")).collect();
        m.insert(e.name.clone(), json!(values));
    }
    Value::Object(m)
}

async fn run() -> Result<(), SdkError> {
    let (provider, mut events) = Provider::connect("igloo-tree-probe", "0.1.0").await?;
    let extra = toml::from_str::<toml::Table>(&provider.welcome().config)
        .ok()
        .and_then(|t| t.get("lamps").and_then(toml::Value::as_integer))
        .unwrap_or(0);
    for i in 0..extra {
        let d = provider
            .create_device(&format!("bench-{i}"), &format!("Bench {i}"), vec![])
            .await?;
        let l = provider
            .register_entity(
                d,
                "Light",
                vec![("writable".into(), "Switch,Brightness".into())],
            )
            .await?;
        provider
            .write(
                d,
                l,
                vec![
                    Component::Light,
                    Component::Switch(false),
                    Component::Brightness(50.0),
                ],
            )
            .await?;
        let t = provider
            .register_entity(d, "Temperature", vec![("writable".into(), String::new())])
            .await?;
        provider
            .write(d, t, vec![Component::Sensor, Component::Temperature(20.0)])
            .await?;
    }
    let attrs = vec![
        ("manufacturer".to_string(), "Igloo Tests".to_string()),
        ("model".to_string(), "Probe 1".to_string()),
    ];
    let lamp = provider
        .create_device("probe-lamp", "Probe Lamp", attrs)
        .await?;
    let light = provider
        .register_entity(
            lamp,
            "Light",
            vec![("writable".into(), "Switch,Brightness".into())],
        )
        .await?;
    provider
        .write(
            lamp,
            light,
            vec![
                Component::Light,
                Component::Switch(false),
                Component::Brightness(50.0),
            ],
        )
        .await?;
    let temp = provider
        .register_entity(
            lamp,
            "Temperature",
            vec![("writable".into(), String::new())],
        )
        .await?;
    provider
        .write(
            lamp,
            temp,
            vec![Component::Sensor, Component::Temperature(21.5)],
        )
        .await?;
    let mut s = Seen::default();
    while let Some(event) = events.next().await {
        match event {
            Event::Change {
                device,
                entity,
                values,
            } => {
                s.changes.push(format!("{device}/{entity}: {values:?}"));
                provider.write(device, entity, values).await?;
            }
            Event::TreeDevice(d) => {
                s.devices.insert(
                    d.device.0,
                    json!({"name": d.name, "provider": d.provider, "available": d.available,
                           "entities": entities(&d.entities)}),
                );
            }
            Event::TreeState {
                device,
                entity,
                values,
            } => {
                if let Some(e) = s
                    .devices
                    .get_mut(&device.0)
                    .and_then(|d| d["entities"].get_mut(&entity))
                {
                    *e = json!(values.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>());
                }
            }
            Event::TreeAvailability { device, available } => {
                if let Some(d) = s.devices.get_mut(&device.0) {
                    d["available"] = json!(available);
                }
            }
            Event::TreeRemoved { device } => {
                s.devices.remove(&device.0);
            }
            Event::TreeSynced { .. } => s.synced += 1,
            Event::Error { code, message } => {
                s.errors.push(json!({"code": code.0, "message": message}))
            }
            Event::Custom {
                request_id,
                command,
                body,
            } => {
                let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                let reply = match command.as_str() {
                    "probe.observe" => match provider.observe_tree().await {
                        Ok(()) => json!({"ok": true}),
                        Err(e) => json!({"error": e.to_string()}),
                    },
                    "probe.tree" => {
                        json!({"synced": s.synced, "devices": s.devices, "errors": s.errors, "changes": s.changes})
                    }
                    "probe.request" => {
                        // Answered from a task: the core's reply arrives on
                        // the same reader as these events.
                        let p = provider.clone();
                        let device = DeviceId(body["device"].as_u64().unwrap_or(0));
                        let entity = body["entity"].as_str().unwrap_or("").to_string();
                        let on = body["switch"].as_bool().unwrap_or(true);
                        tokio::spawn(async move {
                            let r = match p
                                .request_change(device, &entity, vec![Component::Switch(on)])
                                .await
                            {
                                Ok(()) => json!({"ok": true}),
                                Err(SdkError::Refused { code, message }) => {
                                    json!({"code": code.0, "message": message})
                                }
                                Err(e) => json!({"error": e.to_string()}),
                            };
                            let _ = p.reply_custom(request_id, r.to_string()).await;
                        });
                        continue;
                    }
                    "probe.write_foreign" => {
                        let device = DeviceId(body["device"].as_u64().unwrap_or(0));
                        provider
                            .write(device, 0, vec![Component::Switch(true)])
                            .await?;
                        json!({"ok": true})
                    }
                    "probe.temperature" => {
                        let v = body["value"].as_f64().unwrap_or(0.0);
                        provider
                            .write(lamp, temp, vec![Component::Temperature(v)])
                            .await?;
                        json!({"ok": true})
                    }
                    "probe.available" => {
                        let on = body["available"].as_bool().unwrap_or(true);
                        provider.set_available(lamp, on).await?;
                        json!({"ok": true})
                    }
                    "probe.remove_temperature" => match provider.remove_entity(lamp, temp).await {
                        Ok(()) => json!({"ok": true}),
                        Err(e) => json!({"error": e.to_string()}),
                    },
                    "probe.remove_foreign_entity" => {
                        let device = DeviceId(body["device"].as_u64().unwrap_or(0));
                        match provider.remove_entity(device, 1).await {
                            Ok(()) => json!({"ok": true}),
                            Err(e) => json!({"error": e.to_string()}),
                        }
                    }
                    "probe.remove" => {
                        provider.remove_device(lamp).await?;
                        json!({"ok": true})
                    }
                    other => {
                        provider
                            .reply_error(
                                request_id,
                                ErrorCode::UNSUPPORTED,
                                format!("no command {other}"),
                            )
                            .await?;
                        continue;
                    }
                };
                provider.reply_custom(request_id, reply.to_string()).await?;
            }
            _ => {}
        }
    }
    Ok(())
}
