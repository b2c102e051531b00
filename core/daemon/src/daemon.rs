//! `igloo run`: wires config, store, tree, supervisor, over-the-air updates
//! and API together and handles shutdown.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, ProviderConfig};
use crate::sandbox::netpolicy::{Firewall, NetworkPolicy};
use crate::sandbox::{Host, probe};
use crate::supervisor::{SandboxContext, Supervisor};
use crate::{api, grants, ota, store, tree};

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
    let logs = Arc::new(crate::logs::Logs::start(&config.logs));
    init_tracing(&config.core.log, logs.sink());
    if let Some(e) = logs.start_error() {
        tracing::error!("log files are not written: {e}");
    }
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
    let code = match rt.block_on(run(config, logs.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("igloo: {e:#}");
            ExitCode::FAILURE
        }
    };
    logs.close();
    code
}

/// Logs to stderr as text and, when `file` is given, to the log files as
/// JSON lines (crate::logs), both through the filter `[core] log` (or
/// `RUST_LOG`).
fn init_tracing(directive: &str, file: Option<crate::logs::writer::Sink>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(directive))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colours on a terminal, unless NO_COLOR is set (https://no-color.org;
        // the appliance's serial console sets it).
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        );
    let file = file.map(|sink| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .with_writer(sink)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .init();
}

async fn run(config: Config, logs: Arc<crate::logs::Logs>) -> anyhow::Result<()> {
    let core_started = std::time::Instant::now();
    for p in &config.providers {
        for w in &p.warnings {
            tracing::warn!(provider = p.name.as_str(), "config: {w}");
        }
    }
    let data_dir = &config.core.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    let store = store::Store::open(&data_dir.join("igloo.redb"))?;
    let sb = &config.core.sandbox;
    let root = probe::is_root();
    if root {
        // Providers traverse to their own dirs; only the core lists or reads the rest.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o711));
        let _ = std::fs::set_permissions(
            data_dir.join("igloo.redb"),
            std::fs::Permissions::from_mode(0o600),
        );
    }
    let needs_uid: Vec<&str> = config
        .providers
        .iter()
        .filter(|p| p.sandbox.enabled && p.sandbox.uid.is_none())
        .map(|p| p.name.as_str())
        .collect();
    let uids = store.assign_uids(&needs_uid, sb.uid_range)?;
    let (firewall, firewall_status) = install_firewall(&config, &uids, root);
    let host = Host {
        root,
        cgroups: probe::cgroups(),
        firewall: firewall_status,
        landlock_max_abi: sb.landlock_max_abi,
    };
    let ctx = Arc::new(SandboxContext {
        host: host.clone(),
        uids,
        cgroup_parent: sb.cgroup.clone(),
        data_root: data_dir.clone(),
    });
    let auth = Arc::new(crate::auth::Auth::open(config.auth.clone(), data_dir)?);
    let (events, _) = broadcast::channel(EVENT_BUS);
    let tree = tree::spawn(store, events.clone())?;
    let listener = tokio::net::TcpListener::bind(config.core.api_listen)
        .await
        .with_context(|| format!("binding the API to {}", config.core.api_listen))?;
    let supervisor = Arc::new(Supervisor::start(
        &config.path,
        &config.core,
        &config.providers,
        tree.clone(),
        events.clone(),
        ctx,
    ));
    let shutdown = CancellationToken::new();
    let claimants = config
        .providers
        .iter()
        .filter(|p| !p.grants.is_empty())
        .filter_map(|p| {
            supervisor.inbox(&p.name).map(|inbox| grants::Claimant {
                name: p.name.clone(),
                rules: p.grants.clone(),
                inbox,
            })
        })
        .collect();
    let registry = grants::spawn(&config.core.hardware, claimants, shutdown.clone());
    let ota = ota::Ota::start(
        &config.ota,
        ota::Context {
            supervisor: supervisor.clone(),
            api: listener.local_addr()?,
            core_started,
            events: events.clone(),
            shutdown: shutdown.clone(),
        },
    );
    let history = crate::history::History::spawn(&events, shutdown.clone());
    let app = api::router(api::AppState {
        tree: tree.clone(),
        supervisor: supervisor.clone(),
        events,
        shutdown: shutdown.clone(),
        grants: registry,
        host_facts: Arc::new(host_facts(&host)),
        ota,
        auth,
        streams: api::limits::Counter::new(
            api::limits::STREAMS_PER_ADDRESS,
            api::limits::STREAMS_TOTAL,
        ),
        routes: Arc::default(),
        history,
        logs,
        wifi: crate::wifi::Wifi::new(&config.wifi),
        broker: Arc::new(api::BrokerInfo {
            secrets_dir: config.core.secrets_dir.clone(),
            port: config.mdns.mqtt_port,
        }),
    });
    // Without the local socket the API still works (with credentials):
    // a failure is reported, not fatal.
    let local = config.auth.local_socket(root).and_then(|path| {
        serve_local(path, app.clone(), shutdown.clone())
            .inspect_err(|e| tracing::error!("local API socket unavailable: {e:#}"))
            .ok()
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
    let announcer = crate::mdns::start(&config.mdns, addr.port(), shutdown.clone());
    // No /proc/cmdline (a container): no argument turns the watchdog off.
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    let watchdog = crate::watchdog::start(&config.watchdog, &cmdline, addr, shutdown.clone());

    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            shutdown.cancel();
        }
    });
    // Connections over the caps are closed at accept; the others get
    // TCP_NODELAY. `tap_io` only makes the client address available to
    // handlers (axum's `ConnectInfo<SocketAddr>`).
    let listener =
        axum::serve::ListenerExt::tap_io(api::limits::CappedListener::new(listener), |_| {});
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
    // Event streams end on cancellation; any other request gets a grace period.
    tokio::select! {
        r = server => r.context("API server")?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("API requests still open after {}s; stopping anyway", SHUTDOWN_GRACE.as_secs());
        }
    }
    tracing::info!("shutting down");
    if let Some(path) = local {
        let _ = std::fs::remove_file(path);
    }
    if let Some(a) = announcer {
        a.finished().await;
    }
    supervisor.shutdown().await;
    if let Some(w) = watchdog {
        let _ = w.await;
    }
    if let Some(fw) = firewall {
        // Runs `nft`; not on a runtime thread.
        let _ = tokio::task::spawn_blocking(move || fw.remove()).await;
    }
    tree.flush().await;
    Ok(())
}

/// Serves the API on the Unix socket `path` (mode 0600, its directory
/// created 0755), where root needs no credentials (`SO_PEERCRED`, checked per
/// request by `api::access`). Returns the path, removed at shutdown.
///
/// # Errors
/// The socket cannot be created.
fn serve_local(
    path: std::path::PathBuf,
    app: axum::Router,
    shutdown: CancellationToken,
) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the local socket's directory {}", dir.display()))?;
    }
    // A socket left by a core that was killed: nothing listens on it any more.
    if std::os::unix::net::UnixStream::connect(&path).is_err() {
        let _ = std::fs::remove_file(&path);
    }
    let listener = tokio::net::UnixListener::bind(&path)
        .with_context(|| format!("binding the local socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("chmod 0600 {}", path.display()))?;
    tracing::info!(socket = %path.display(), "local API for root on this machine");
    let service = app.into_make_service_with_connect_info::<api::access::LocalPeer>();
    tokio::spawn(async move {
        let server =
            axum::serve(listener, service).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(e) = server.await {
            tracing::error!("local API socket: {e}");
        }
    });
    Ok(path)
}

/// The host's confinement facts for `GET /api/v1/sandbox`. Runs `nft
/// --version` and reads /proc once, at start, not per request.
fn host_facts(host: &Host) -> serde_json::Value {
    let mut facts = probe::host_json(&host.cgroups, host.landlock_max_abi);
    facts["firewall"] = match &host.firewall {
        None => {
            serde_json::json!({"installed": false, "detail": "no provider has a lan or wan policy"})
        }
        Some(Ok(())) => {
            serde_json::json!({"installed": true, "detail": "nftables inet table installed"})
        }
        Some(Err(e)) => serde_json::json!({"installed": false, "detail": e}),
    };
    facts
}

/// Installs the nftables table for providers with a `lan` or `wan` policy.
/// Returns the table (removed at shutdown) and the status each provider's
/// report shows; `None` when no provider needs it.
fn install_firewall(
    config: &Config,
    uids: &std::collections::BTreeMap<String, u32>,
    root: bool,
) -> (Option<Firewall>, Option<Result<(), String>>) {
    let uid_of = |p: &ProviderConfig| p.sandbox.uid.or_else(|| uids.get(&p.name).copied());
    let rules: Vec<(u32, NetworkPolicy)> = config
        .providers
        .iter()
        .filter(|p| {
            p.sandbox.enabled && matches!(p.network, NetworkPolicy::Lan | NetworkPolicy::Wan)
        })
        .filter_map(|p| uid_of(p).map(|u| (u, p.network)))
        .collect();
    if rules.is_empty() {
        return (None, None);
    }
    if !root {
        return (None, Some(Err("the core is not running as root".into())));
    }
    let sb = &config.core.sandbox;
    match Firewall::apply(&sb.nft_table, &rules, &sb.lan_prefixes) {
        Ok(fw) => {
            tracing::info!(
                table = sb.nft_table,
                providers = rules.len(),
                "network policy table installed"
            );
            (Some(fw), Some(Ok(())))
        }
        Err(e) => {
            tracing::error!(
                table = sb.nft_table,
                "cannot install the network policy table: {e}"
            );
            (None, Some(Err(e.to_string())))
        }
    }
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
