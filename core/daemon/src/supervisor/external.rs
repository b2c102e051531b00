//! Providers started by hand (development): the core listens on a Unix socket
//! (`[core] provider_socket`) and serves each connection like a supervised
//! provider, named by its `Hello`. The core does not restart these; when one
//! disconnects its devices become unavailable. The socket is owner-only
//! (mode 0600): anyone who can connect can act as a provider. A name starting
//! with `@` is a Linux abstract socket instead: it has no file permissions
//! (any process in the network namespace can connect, except Landlock-scoped
//! providers), so use it only for development and tests.
//!
//! Its per-connection lines are budgeted ([`crate::provider_log`]) by the
//! provider name once a `Hello` gave a valid one, else in one shared budget,
//! so a client that keeps connecting cannot flood the log.

use std::collections::HashSet;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use igloo_protocol::ErrorCode;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use super::connection::{self, End, Settings};
use crate::config::{CoreConfig, valid_provider_name};
use crate::provider_log::{ProviderLog, ProviderLogs, limited};
use crate::tree::TreeHandle;

/// Binds `path` (replacing a stale socket, never another kind of file) and
/// serves provider connections until `shutdown`; removes the socket then.
///
/// # Errors
/// I/O errors binding the socket or setting its mode.
pub async fn listen(
    path: PathBuf,
    core: CoreConfig,
    supervised: HashSet<String>,
    tree: TreeHandle,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let abstract_name = path
        .to_str()
        .and_then(|p| p.strip_prefix('@'))
        .map(str::to_string);
    let listener = match &abstract_name {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            let std = std::os::unix::net::UnixListener::bind_addr(&addr)?;
            std.set_nonblocking(true)?;
            UnixListener::from_std(std)?
        }
        None => bind_path(&path)?,
    };
    tracing::info!(socket = %path.display(), "accepting providers started by hand (IGLOO_SOCKET)");
    let connected: Arc<Mutex<HashSet<String>>> = Arc::default();
    let core = Arc::new(core);
    let supervised = Arc::new(supervised);
    let logs = Arc::new(ProviderLogs::default());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Shared { core: core.clone(), supervised: supervised.clone(), connected: connected.clone(), logs: logs.clone() };
                    tokio::spawn(serve_one(stream, shared, tree.clone()));
                }
                Err(e) => limited!(logs.shared(), "accept", tracing::Level::WARN, "provider socket accept: {e}"),
            },
            _ = shutdown.cancelled() => break,
        }
    }
    if abstract_name.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

fn bind_path(path: &Path) -> std::io::Result<UnixListener> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::other(format!(
                "{} exists and is not a socket; refusing to replace it",
                path.display()
            )));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// What every connection of the socket shares.
struct Shared {
    core: Arc<CoreConfig>,
    /// Names of supervised providers (refused here).
    supervised: Arc<HashSet<String>>,
    /// Names connected now.
    connected: Arc<Mutex<HashSet<String>>>,
    /// Log budgets by provider name.
    logs: Arc<ProviderLogs>,
}

async fn serve_one(stream: UnixStream, shared: Shared, tree: TreeHandle) {
    let Shared {
        core,
        supervised,
        connected,
        logs,
    } = shared;
    let (frames, mut write, hello) = match connection::read_hello(stream, core.max_frame).await {
        Ok(v) => v,
        Err(e) => {
            limited!(
                logs.shared(),
                "handshake",
                tracing::Level::WARN,
                "provider socket: {e}"
            );
            return;
        }
    };
    let name = hello.name.clone();
    let log = if valid_provider_name(&name) {
        logs.named(&name)
    } else {
        logs.shared()
    };
    let clash = if !valid_provider_name(&name) {
        Some(format!(
            "provider name {name:?} must use only a-z, 0-9, '-' and '_'"
        ))
    } else if supervised.contains(&name) {
        Some(format!(
            "provider name {name:?} belongs to a provider the core supervises"
        ))
    } else if !connected.lock().is_ok_and(|mut c| c.insert(name.clone())) {
        Some(format!("a provider named {name:?} is already connected"))
    } else {
        None
    };
    if let Some(why) = clash {
        limited!(
            log,
            "refused",
            tracing::Level::WARN,
            "provider socket: refused: {why}"
        );
        connection::refuse(&mut write, ErrorCode::PROTOCOL, why).await;
        return;
    }
    let end = serve_named(frames, write, hello, &name, &core, &tree, &log).await;
    limited!(
        log,
        "connection",
        tracing::Level::INFO,
        "provider started by hand ended: {end}"
    );
    if let Ok(mut c) = connected.lock() {
        c.remove(&name);
    }
}

async fn serve_named(
    frames: connection::Frames,
    mut write: tokio::net::unix::OwnedWriteHalf,
    hello: igloo_protocol::message::Hello,
    name: &str,
    core: &CoreConfig,
    tree: &TreeHandle,
    log: &ProviderLog,
) -> End {
    let data_dir = provider_data_dir(&core.data_dir, name);
    if let Err(e) = std::fs::create_dir_all(&data_dir) {
        limited!(
            log,
            "connection",
            tracing::Level::ERROR,
            "cannot create data dir {}: {e}",
            data_dir.display()
        );
    }
    let settings = Settings {
        name: Arc::from(name),
        config_toml: String::new(),
        data_dir: data_dir.display().to_string(),
        max_frame: core.max_frame,
        heartbeat_interval: core.heartbeat_interval,
        heartbeat_timeout: core.heartbeat_timeout,
        // Hand-started providers are not in the config: no tree access.
        tree: crate::config::provider::TreeAccess::None,
    };
    match connection::accept(hello, &mut write, &settings, log).await {
        Ok((negotiated, _peer)) => {
            connection::serve(
                frames,
                write,
                negotiated,
                &settings,
                tree,
                Arc::new(AtomicU64::new(0)),
                None,
            )
            .await
        }
        Err(e) => e,
    }
}

/// `<data_dir>/providers/<name>`.
pub fn provider_data_dir(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("providers").join(name)
}
