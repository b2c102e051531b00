//! `igloo-esphome`: the Igloo provider for ESPHome devices (DESIGN §8).
//!
//! Started by the core with its `[provider.config]` section (see
//! `igloo_esphome::config`). It connects to every configured, added and
//! discovered device over ESPHome's native API and mirrors its entities; see
//! the library's code map in `src/lib.rs`.
//!
//! Exit codes: 0 when the core closes the connection, 1 when the core cannot
//! be reached, 2 when the config is invalid. Device trouble never exits: each
//! device reconnects on its own and is reported unavailable meanwhile.

use std::process::ExitCode;

use igloo_esphome::{config, discovery, manager::Manager};
use igloo_provider::start;
use tokio::sync::mpsc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    start::init_logging();
    let (provider, events, settings) = match start::connect_with_config(
        "igloo-esphome",
        env!("CARGO_PKG_VERSION"),
        config::Config::validate,
    )
    .await
    {
        Ok(v) => v,
        Err(code) => return code,
    };
    tracing::info!(
        devices = settings.devices.len(),
        discovery = settings.discovery,
        "starting"
    );
    // Keep the mDNS daemon alive for the whole run.
    let (_mdns, discovered) = if settings.discovery {
        match discovery::start() {
            Ok((d, rx)) => (Some(d), rx),
            Err(e) => {
                tracing::error!("discovery is off: {e}");
                (None, mpsc::channel(1).1)
            }
        }
    } else {
        (None, mpsc::channel(1).1)
    };
    let data_dir = provider.data_dir().to_path_buf();
    let manager = Manager::start(provider, settings, &data_dir);
    // The core stops providers with SIGTERM: say goodbye to the devices first.
    let shutdown = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM ({e}); devices are not told when it stops");
                std::future::pending::<()>().await;
            }
        }
    };
    match manager.run(events, discovered, shutdown).await {
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
