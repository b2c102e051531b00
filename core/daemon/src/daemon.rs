//! `igloo run`: wires config, store, tree, supervisor and API together and
//! handles shutdown.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::config::Config;
use crate::supervisor::Supervisor;
use crate::{api, store, tree};

/// How long open API requests may delay shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Capacity of the event bus; a slower API client sees a `lagged` event.
const EVENT_BUS: usize = 4096;

/// Entry point of `igloo run`. Exit code 2 for configuration errors, 1 for
/// other start-up failures.
pub fn main(config_path: &Path) -> ExitCode {
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("igloo: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.core.log))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("igloo: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("igloo: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let data_dir = &config.core.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let store = store::Store::open(&data_dir.join("igloo.redb"))?;
    let (events, _) = broadcast::channel(EVENT_BUS);
    let tree = tree::spawn(store, events.clone())?;
    let listener = tokio::net::TcpListener::bind(config.core.api_listen)
        .await
        .with_context(|| format!("binding the API to {}", config.core.api_listen))?;
    let supervisor = Arc::new(Supervisor::start(
        &config.core,
        &config.providers,
        tree.clone(),
        events.clone(),
    ));
    let shutdown = CancellationToken::new();
    let app = api::router(api::AppState {
        tree: tree.clone(),
        supervisor: supervisor.clone(),
        events,
        shutdown: shutdown.clone(),
    });
    if let Some(path) = config.core.provider_socket.clone() {
        let supervised = config.providers.iter().map(|p| p.name.clone()).collect();
        let (core, tree, shutdown) = (config.core.clone(), tree.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(e) = crate::supervisor::listen_for_providers(
                path.clone(),
                core,
                supervised,
                tree,
                shutdown,
            )
            .await
            {
                tracing::error!(socket = %path.display(), "provider socket: {e}");
            }
        });
    }
    let addr = listener.local_addr()?;
    tracing::info!(config = %config.path.display(), providers = config.providers.len(), "core ready, API on http://{addr}");

    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    let server =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    // Event streams end on cancellation; any other request gets a grace period.
    tokio::select! {
        r = server => r.context("API server")?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("API requests still open after {}s; stopping anyway", SHUTDOWN_GRACE.as_secs());
        }
    }
    tracing::info!("shutting down");
    supervisor.shutdown().await;
    tree.flush().await;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop the core with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
