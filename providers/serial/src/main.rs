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

use igloo_provider::start;
use igloo_serial::{config, manager};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    start::init_logging();
    let (provider, events, settings) = match start::connect_with_config(
        "igloo-serial",
        env!("CARGO_PKG_VERSION"),
        config::Config::validate,
    )
    .await
    {
        Ok(v) => v,
        Err(code) => return code,
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
