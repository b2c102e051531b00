//! `igloo-conformance`: the Rust side of the provider conformance suite
//! (tests/tests/conformance.rs). Its Python twin,
//! tests/python/conformance_provider.py, does exactly the same through the
//! `igloo` wheel, so one suite proves both SDKs behave alike.
//!
//! What it does (the twin must match, line for line):
//! - connects as `igloo-conformance` 1.0.0;
//! - device `conf-lamp` (attribute `model = conformance`), entity `Light`
//!   (`writable = Switch,Brightness`) with Light, Switch=false, Brightness=0;
//! - device `conf-meter`, entity `Reading` with Sensor, Number=1, Gas=2.5
//!   (Gas is id 51: a first-release core does not know it, so it is
//!   withheld), and entity `Report` whose `Text` is [`Report`] as JSON,
//!   rewritten after every event;
//! - change requests are confirmed by writing them back, except
//!   Brightness 13 on the lamp, which is refused with [`REFUSAL`];
//! - custom commands: `conformance.echo` (replies its body),
//!   `conformance.fail` (an error reply), `conformance.add` `{"key",
//!   "name"}` (a device with entity `Switch`), `conformance.available`
//!   `{"device", "available"}`, `conformance.remove` `{"device"}`,
//!   `conformance.port` `{"grant", "write", "expect"}` (writes to the granted
//!   fd, then reads until `expect`, 5 s at most), `conformance.crash` (exits
//!   with [`CRASH_CODE`], no reply); anything else is an error reply;
//! - a failure of the SDK ends it with `conformance provider: <error>` on
//!   stderr and exit code 1.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use igloo_provider::protocol::{Component, DeviceId, EntityId, ErrorCode};
use igloo_provider::{Event, GrantedDevice, Provider, SdkError};
use serde_json::{Value, json};

/// The refusal of Brightness 13.
const REFUSAL: &str = "13 is refused by the conformance provider";
/// The exit code of `conformance.crash`.
const CRASH_CODE: i32 = 3;

/// What the provider has seen, written to `Report.Text`.
#[derive(Default)]
struct Report {
    /// `greeting` from `[provider.config]`.
    config: Option<String>,
    /// The core's version from its Welcome.
    core: String,
    /// Components withheld because the core does not know them.
    dropped: u64,
    /// Change requests confirmed.
    changes: u64,
    /// `[grant, device name]` of every grant received.
    granted: Vec<(u32, String)>,
    /// `[grant, reason]` of every revocation.
    revoked: Vec<(u32, String)>,
}

impl Report {
    fn to_json(&self) -> String {
        json!({
            "config": self.config,
            "core": self.core,
            "dropped": self.dropped,
            "changes": self.changes,
            "granted": self.granted,
            "revoked": self.revoked,
        })
        .to_string()
    }
}

struct Conformance {
    provider: Provider,
    lamp: DeviceId,
    light: EntityId,
    meter: DeviceId,
    report_entity: EntityId,
    report: Report,
    grants: BTreeMap<u32, GrantedDevice>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("conformance provider: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), SdkError> {
    let (provider, mut events) = Provider::connect("igloo-conformance", "1.0.0").await?;
    let config: toml::Table = toml::from_str(&provider.welcome().config).unwrap_or_default();
    let lamp = provider
        .create_device(
            "conf-lamp",
            "Conformance lamp",
            vec![("model".into(), "conformance".into())],
        )
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
                Component::Brightness(0.0),
            ],
        )
        .await?;
    let meter = provider
        .create_device("conf-meter", "Conformance meter", vec![])
        .await?;
    let reading = provider.register_entity(meter, "Reading", vec![]).await?;
    provider
        .write(
            meter,
            reading,
            vec![
                Component::Sensor,
                Component::Number(1.0),
                Component::Gas(2.5),
            ],
        )
        .await?;
    let report_entity = provider.register_entity(meter, "Report", vec![]).await?;
    let report = Report {
        config: config
            .get("greeting")
            .and_then(|g| g.as_str())
            .map(String::from),
        core: provider.welcome().core_version.clone(),
        ..Report::default()
    };
    let mut c = Conformance {
        provider,
        lamp,
        light,
        meter,
        report_entity,
        report,
        grants: BTreeMap::new(),
    };
    c.write_report().await?;
    while let Some(event) = events.next().await {
        c.on_event(event).await?;
        c.write_report().await?;
    }
    Ok(())
}

impl Conformance {
    async fn write_report(&mut self) -> Result<(), SdkError> {
        self.report.dropped = self.provider.dropped_components();
        self.provider
            .write(
                self.meter,
                self.report_entity,
                vec![Component::Text(self.report.to_json())],
            )
            .await
    }

    async fn on_event(&mut self, event: Event) -> Result<(), SdkError> {
        match event {
            Event::Change {
                device,
                entity,
                values,
            } => {
                let unlucky = values
                    .iter()
                    .any(|v| matches!(v, Component::Brightness(b) if *b == 13.0));
                if (device, entity) == (self.lamp, self.light) && unlucky {
                    self.provider.refuse_change(device, entity, REFUSAL).await
                } else {
                    self.report.changes += 1;
                    self.provider.write(device, entity, values).await
                }
            }
            Event::Custom {
                request_id,
                command,
                body,
            } => self.on_command(request_id, &command, &body).await,
            Event::Granted(device) => {
                self.report
                    .granted
                    .push((device.grant, device.name.clone()));
                self.grants.insert(device.grant, device);
                Ok(())
            }
            Event::Revoked { grant, reason } => {
                // Dropping the last copy closes the fd.
                self.grants.remove(&grant);
                self.report.revoked.push((grant, reason));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_command(&mut self, id: u32, command: &str, body: &str) -> Result<(), SdkError> {
        let args: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let p = &self.provider;
        match command {
            "conformance.echo" => p.reply_custom(id, body.to_string()).await,
            "conformance.fail" => {
                p.reply_error(id, ErrorCode::INVALID, format!("asked to fail: {body}"))
                    .await
            }
            "conformance.add" => {
                let key = args["key"].as_str().unwrap_or_default();
                let name = args["name"].as_str().unwrap_or_default();
                let device = p.create_device(key, name, vec![]).await?;
                let entity = p
                    .register_entity(device, "Switch", vec![("writable".into(), "Switch".into())])
                    .await?;
                p.write(device, entity, vec![Component::Switch(false)])
                    .await?;
                let reply = json!({"device": device.0, "entity": entity});
                p.reply_custom(id, reply.to_string()).await
            }
            "conformance.available" => {
                let device = args["device"].as_u64().unwrap_or_default();
                let available = args["available"].as_bool().unwrap_or_default();
                p.set_available(DeviceId(device), available).await?;
                p.reply_custom(id, "{}".into()).await
            }
            "conformance.remove" => {
                p.remove_device(DeviceId(args["device"].as_u64().unwrap_or_default()))
                    .await?;
                p.reply_custom(id, "{}".into()).await
            }
            "conformance.port" => {
                let grant = args["grant"].as_u64().unwrap_or_default();
                let Some(device) = u32::try_from(grant).ok().and_then(|g| self.grants.get(&g))
                else {
                    return p
                        .reply_error(id, ErrorCode::INVALID, format!("grant {grant} is not held"))
                        .await;
                };
                let write = args["write"].as_str().unwrap_or_default().to_string();
                let expect = args["expect"].as_str().unwrap_or_default().to_string();
                let fd = device.try_clone_fd()?;
                let exchanged = tokio::task::spawn_blocking(move || exchange(fd, &write, &expect))
                    .await
                    .map_err(std::io::Error::other)?;
                match exchanged {
                    Ok(read) => p.reply_custom(id, json!({"read": read}).to_string()).await,
                    Err(e) => {
                        p.reply_error(id, ErrorCode::INVALID, format!("port: {e}"))
                            .await
                    }
                }
            }
            "conformance.crash" => std::process::exit(CRASH_CODE),
            other => {
                p.reply_error(id, ErrorCode::INVALID, format!("unknown command {other}"))
                    .await
            }
        }
    }
}

/// Writes `write` to the (non-blocking) `fd`, then reads until `expect` has
/// arrived or 5 s have passed; returns what was read.
fn exchange(fd: std::os::fd::OwnedFd, write: &str, expect: &str) -> std::io::Result<String> {
    let mut port = std::fs::File::from(fd);
    port.write_all(write.as_bytes())?;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains(expect) && Instant::now() < deadline {
        match port.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}
