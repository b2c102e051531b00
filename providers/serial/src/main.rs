//! `igloo-serial`: the Igloo provider for Modbus RTU devices and DSMR P1
//! smart meters on serial ports granted by the core (DESIGN §8).
//!
//! Started by the core with its `[provider.config]` section (see
//! `igloo_serial::config`). It waits for the core to grant the ports its
//! `[[provider.grant]]` rules match, then runs one line per port.
//!
//! Exit codes: 0 when the core closes the connection, 1 when the core cannot
//! be reached, 2 when the config is invalid.

use std::process::ExitCode;

use igloo_provider::Provider;
use igloo_serial::{config, manager};
use tracing_subscriber::EnvFilter;

/// Exit code for an invalid config section.
const EXIT_CONFIG: u8 = 2;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let (provider, events) =
        match Provider::connect("igloo-serial", env!("CARGO_PKG_VERSION")).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
    let settings = match provider
        .config::<config::Config>()
        .map_err(|e| e.to_string())
        .and_then(config::Config::validate)
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("invalid [provider.config] for igloo-serial: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    tracing::info!(
        modbus_lines = settings.modbus.len(),
        p1_ports = settings.p1.len(),
        "starting; waiting for the granted ports"
    );
    match manager::run(provider, events, settings).await {
        Ok(()) => {
            tracing::info!("the core closed the connection; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
