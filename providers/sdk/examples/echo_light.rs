//! A complete example provider: one device with a dimmable light that
//! "confirms" every change request by reporting it back (and refuses, with
//! a reason, a brightness outside 0–100 %), a read-only temperature, and a
//! `toggle` custom command. The entities declare what a user may change
//! (`writable`), so the core itself refuses a change to the temperature.
//!
//! Run under the core by adding to `igloo.toml`:
//! ```toml
//! [[provider]]
//! name = "echo"
//! exec = "target/debug/examples/echo_light"
//! ```
//! or by hand against a core listening on a socket: `IGLOO_SOCKET=/path cargo run --example echo_light`.

use igloo_provider::protocol::{Component, ErrorCode};
use igloo_provider::{Event, Provider};

#[derive(serde::Deserialize, Default)]
struct Config {
    #[serde(default = "default_name")]
    name: String,
}

fn default_name() -> String {
    "Echo lamp".into()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let (provider, mut events) = Provider::connect("echo-light", env!("CARGO_PKG_VERSION")).await?;
    let config: Config = provider.config()?;
    let lamp = provider
        .create_device(
            "echo-1",
            &config.name,
            vec![("model".into(), "example".into())],
        )
        .await?;
    let light = provider
        .register_entity(
            lamp,
            "Light",
            vec![("writable".into(), "Switch,Brightness".into())],
        )
        .await?;
    // Empty `writable`: nothing a user can change.
    let sensor = provider
        .register_entity(
            lamp,
            "Temperature",
            vec![("writable".into(), String::new())],
        )
        .await?;
    provider
        .write(lamp, sensor, vec![Component::Temperature(21.5)])
        .await?;
    let mut on = false;
    provider
        .write(
            lamp,
            light,
            vec![
                Component::Light,
                Component::Switch(on),
                Component::Brightness(100.0),
            ],
        )
        .await?;
    provider.set_available(lamp, true).await?;

    while let Some(event) = events.next().await {
        match event {
            Event::Change {
                device,
                entity,
                values,
            } => {
                let out_of_range = values
                    .iter()
                    .any(|c| matches!(c, Component::Brightness(b) if !(0.0..=100.0).contains(b)));
                if out_of_range {
                    provider
                        .refuse_change(device, entity, "brightness must be 0 to 100 %")
                        .await?;
                    continue;
                }
                if let Some(Component::Switch(v)) =
                    values.iter().find(|c| matches!(c, Component::Switch(_)))
                {
                    on = *v;
                }
                provider.write(device, entity, values).await?;
            }
            Event::Custom {
                request_id,
                command,
                ..
            } if command == "toggle" => {
                on = !on;
                provider
                    .write(lamp, light, vec![Component::Switch(on)])
                    .await?;
                provider
                    .reply_custom(request_id, format!("{{\"on\":{on}}}"))
                    .await?;
            }
            Event::Custom {
                request_id,
                command,
                ..
            } => {
                provider
                    .reply_error(
                        request_id,
                        ErrorCode::UNSUPPORTED,
                        format!("unknown command {command}"),
                    )
                    .await?;
            }
            Event::Error { code, message } => {
                tracing::warn!(code = code.0, "core reported: {message}")
            }
            // Grants and events added by later SDK versions: not used here.
            _ => {}
        }
    }
    Ok(())
}
