//! Provider supervision (DESIGN §6): one task per `[[provider]]` that starts
//! the process, runs its connection, and restarts it on exit, protocol
//! violation or hang with capped exponential back-off and jitter (reset after
//! a stable period). A crash-looping provider never disturbs the others.
//!
//! - [`Supervisor`] (this file): the handle the rest of the core holds —
//!   start, statuses, restart, update, custom commands, shutdown.
//! - `lifecycle`: the task of one provider (confine, spawn, serve, reap, back off).
//! - `trial`: which version runs and the trial of a new one.
//! - `status`: the typed [`ProviderStatus`], published on a `watch` channel.
//! - `secrets`: the `[provider.secrets]` files read into its config at each start.
//! - `child`, `connection`, `port`, `external`: the process, its connection,
//!   what else it is sent (grants, commands), providers started by hand.

mod child;
mod connection;
mod external;
mod lifecycle;
mod observe;
pub mod port;
mod secrets;
pub mod status;
mod trial;

pub use external::listen as listen_for_providers;
pub use port::{ActiveGrant, CommandError, CommandReply, ToProvider};
pub use status::{ProviderStatus, State};
pub use trial::SwitchStarted;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

use crate::config::{CoreConfig, ProviderConfig};
use crate::events::Event;
use crate::sandbox::Host;
use crate::tree::TreeHandle;
use crate::versions::{VersionError, Versions};
use connection::Settings;
use lifecycle::{Control, Task};
use port::Port;
use status::Publisher;
use trial::Versioning;

/// How long the API waits for a provider to answer a custom command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Queue depth of grants and commands to one provider.
const INBOX: usize = 64;

/// What the supervisor needs to confine providers, found once at start.
#[derive(Debug, Clone)]
pub struct SandboxContext {
    /// Host facts (root, cgroups, nftables result).
    pub host: Host,
    /// uid per provider name, from the database (`Store::assign_uids`).
    pub uids: BTreeMap<String, u32>,
    /// `[core] cgroup`.
    pub cgroup_parent: Option<String>,
    /// `[core] data_dir`.
    pub data_root: PathBuf,
}

/// What `igloo providers update` asks for.
#[derive(Debug, Clone)]
pub enum UpdateTarget {
    /// Install this executable (absolute path) as a new version, labelled
    /// `label` or from its SHA-256, and switch to it.
    Install {
        /// The executable to copy in.
        path: PathBuf,
        /// The version label.
        label: Option<String>,
    },
    /// Switch to an installed version (or `configured`).
    Installed(String),
}

/// An update that could not be started.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// No provider with that name.
    #[error("no provider named {0:?}")]
    Unknown(String),
    /// Installing or finding the version failed.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The provider's supervisor refused (already running it, another update on trial).
    #[error("{0}")]
    Refused(String),
}

/// A restart request that could not be honoured.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No provider with that name.
    #[error("no provider named {0:?}")]
    Unknown(String),
}

/// One provider's status with the live counters the API shows beside it.
#[derive(Debug, Clone)]
pub struct ProviderReport {
    /// What its task published last.
    pub status: ProviderStatus,
    /// Components withheld from it because its `Hello` does not know them.
    pub dropped_components: u64,
}

struct Handle {
    status: watch::Receiver<ProviderStatus>,
    dropped: Arc<AtomicU64>,
    control: mpsc::Sender<Control>,
    inbox: mpsc::Sender<ToProvider>,
    versions: Arc<Versions>,
    /// Taken by [`Supervisor::shutdown`] to wait for the task.
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Owns all provider tasks.
pub struct Supervisor {
    providers: BTreeMap<String, Handle>,
    shutdown: watch::Sender<bool>,
}

impl Supervisor {
    /// Starts every configured provider (`config_file`: where their config
    /// came from, named in config error reports).
    pub fn start(
        config_file: &std::path::Path,
        core: &CoreConfig,
        providers: &[ProviderConfig],
        tree: TreeHandle,
        events: broadcast::Sender<Event>,
        ctx: Arc<SandboxContext>,
    ) -> Supervisor {
        let (shutdown, _) = watch::channel(false);
        let config_file: Arc<std::path::Path> = Arc::from(config_file);
        let providers = providers
            .iter()
            .map(|cfg| {
                let handle = start_one(&config_file, core, cfg, (&tree, &events, &shutdown), &ctx);
                (cfg.name.clone(), handle)
            })
            .collect();
        Supervisor {
            providers,
            shutdown,
        }
    }

    /// Every provider's status, in name order.
    pub fn statuses(&self) -> Vec<ProviderReport> {
        self.providers
            .values()
            .map(|h| ProviderReport {
                status: h.status.borrow().clone(),
                dropped_components: h.dropped.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// (running, total).
    pub fn running(&self) -> (usize, usize) {
        let running = self
            .providers
            .values()
            .filter(|h| h.status.borrow().state == State::Running)
            .count();
        (running, self.providers.len())
    }

    /// Stops and starts one provider now (skipping any back-off, leaving
    /// `config_error`); others are untouched.
    ///
    /// # Errors
    /// [`ControlError::Unknown`].
    pub fn restart(&self, name: &str) -> Result<(), ControlError> {
        let h = self
            .providers
            .get(name)
            .ok_or_else(|| ControlError::Unknown(name.to_string()))?;
        // A full queue already holds a restart request.
        let _ = h.control.try_send(Control::Restart);
        Ok(())
    }

    /// Switches provider `name` to another version without touching the core
    /// or any other provider: installs it first when `target` is a path,
    /// stops the running version gently and starts the new one on trial
    /// (`[provider.update]`).
    ///
    /// # Errors
    /// [`UpdateError`]: unknown provider, bad or missing version, or refused
    /// (that version already runs, or another update is still on trial).
    pub async fn update(
        &self,
        name: &str,
        target: UpdateTarget,
    ) -> Result<SwitchStarted, UpdateError> {
        let h = self
            .providers
            .get(name)
            .ok_or_else(|| UpdateError::Unknown(name.to_string()))?;
        let versions = h.versions.clone();
        // Copying and hashing an executable is blocking file I/O.
        let version = tokio::task::spawn_blocking(move || match target {
            UpdateTarget::Install { path, label } => versions.install(&path, label.as_deref()),
            UpdateTarget::Installed(label) => versions.get(&label),
        })
        .await
        .map_err(|e| UpdateError::Refused(format!("the install task failed: {e}")))??;
        let (reply, rx) = tokio::sync::oneshot::channel();
        h.control
            .send(Control::Update { version, reply })
            .await
            .map_err(|_| UpdateError::Refused(format!("provider {name:?} has stopped")))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(r)) => r.map_err(UpdateError::Refused),
            _ => Err(UpdateError::Refused(format!(
                "provider {name:?}: no answer from its supervisor"
            ))),
        }
    }

    /// The queue of grants and commands for provider `name`.
    pub fn inbox(&self, name: &str) -> Option<mpsc::Sender<ToProvider>> {
        self.providers.get(name).map(|h| h.inbox.clone())
    }

    /// Sends custom `command` with JSON text `body` to provider `name` and
    /// waits (at most [`COMMAND_TIMEOUT`]) for its reply.
    ///
    /// # Errors
    /// [`CommandError`]: unknown provider, not running, refused, no reply.
    pub async fn command(&self, name: &str, command: String, body: String) -> CommandReply {
        let inbox = self
            .inbox(name)
            .ok_or_else(|| CommandError::Unknown(name.to_string()))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        inbox
            .send(ToProvider::Command {
                command,
                body,
                reply: tx,
            })
            .await
            .map_err(|_| CommandError::NotRunning(name.to_string()))?;
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(r)) => r,
            _ => Err(CommandError::NoReply(name.to_string())),
        }
    }

    /// Stops every provider (SIGTERM, then SIGKILL after a grace period) and waits for them.
    ///
    /// Works through a shared reference, so API handlers that still hold the
    /// supervisor never keep providers from being stopped gently.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        for h in self.providers.values() {
            let task = h.task.lock().ok().and_then(|mut t| t.take());
            if let Some(task) = task {
                let _ = task.await;
            }
        }
    }
}

/// Creates the task of one provider and its handle.
fn start_one(
    config_file: &Arc<std::path::Path>,
    core: &CoreConfig,
    cfg: &ProviderConfig,
    (tree, events, shutdown): (&TreeHandle, &broadcast::Sender<Event>, &watch::Sender<bool>),
    ctx: &Arc<SandboxContext>,
) -> Handle {
    let name: Arc<str> = Arc::from(cfg.name.as_str());
    let versions = Arc::new(Versions::new(&core.versions_dir, &cfg.name, &cfg.exec));
    let (versioning, report) = Versioning::load(name.clone(), versions.clone(), cfg.update);
    let mut initial = ProviderStatus::new(
        &cfg.name,
        versioning.exec().to_path_buf(),
        versioning.label().to_string(),
    );
    initial.versions = versioning.installed();
    initial.update = report;
    initial.warnings = cfg.warnings.clone();
    let dropped = Arc::new(AtomicU64::new(0));
    let (status, status_rx) = Publisher::new(initial, events.clone(), dropped.clone());
    let (control, control_rx) = mpsc::channel(4);
    let (inbox, inbox_rx) = mpsc::channel(INBOX);
    let data_dir = external::provider_data_dir(&core.data_dir, &cfg.name);
    let task = Task {
        versioning,
        cfg: cfg.clone(),
        settings: Settings {
            name: name.clone(),
            config_toml: cfg.config_toml.clone(),
            data_dir: data_dir.display().to_string(),
            max_frame: core.max_frame,
            heartbeat_interval: core.heartbeat_interval,
            heartbeat_timeout: core.heartbeat_timeout,
            tree: cfg.tree,
        },
        data_dir,
        status,
        dropped: dropped.clone(),
        tree: tree.clone(),
        control: control_rx,
        shutdown: shutdown.subscribe(),
        inbox: inbox_rx,
        port: Port::new(name.clone()),
        ctx: ctx.clone(),
        config_file: config_file.clone(),
        secrets_dir: core.secrets_dir.clone(),
        log: crate::provider_log::ProviderLog::new(name),
    };
    Handle {
        status: status_rx,
        dropped,
        control,
        inbox,
        versions,
        task: Mutex::new(Some(tokio::spawn(task.run()))),
    }
}
