//! Provider supervision (DESIGN §6): one task per `[[provider]]` that starts
//! the process, runs its connection, and restarts it on exit, protocol
//! violation or hang with capped exponential back-off and jitter (reset after
//! a stable period). A crash-looping provider never disturbs the others.

mod child;
mod connection;
mod external;
pub mod port;

pub use external::listen as listen_for_providers;
pub use port::{ActiveGrant, CommandError, CommandReply, ToProvider};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use serde_json::{Value as Json, json};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use crate::config::{CoreConfig, ProviderConfig, RestartPolicy};
use crate::events::Event;
use crate::sandbox::{self, Host, Layers};
use crate::tree::{TreeCmd, TreeHandle};
use crate::versions::{Selection, Version, VersionError, Versions};
use connection::{End, Settings};
use port::Port;

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

/// How often a version whose trial window ended during its handshake is looked at again.
const TRIAL_RECHECK: Duration = Duration::from_millis(250);

/// Grace period between SIGTERM and SIGKILL when stopping a provider.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Lifecycle state of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Process started, handshake pending.
    Starting,
    /// Handshake done, serving.
    Running,
    /// Waiting before the next restart.
    Backoff,
    /// Not started until a device matching its grant rules is plugged in.
    Waiting,
    /// Stopped for shutdown.
    Stopped,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Running => "running",
            State::Backoff => "backoff",
            State::Waiting => "waiting_for_device",
            State::Stopped => "stopped",
        }
    }
}

/// What the API reports about one provider.
#[derive(Debug, Clone)]
pub struct Status {
    name: String,
    exec: PathBuf,
    state: State,
    pid: Option<u32>,
    restarts: u64,
    last_exit: Option<String>,
    version: Option<String>,
    protocol: Option<String>,
    dropped: Arc<AtomicU64>,
    sandbox: Option<Layers>,
    uid: Option<u32>,
    /// Microseconds from preparing the confinement and spawning the process
    /// to its `Hello` being answered, at its last start.
    spawn_to_hello_us: Option<u64>,
    /// Label of the version that runs (`configured` for the config's `exec`).
    installed_version: String,
    /// Labels installed under `versions_dir`.
    versions: Vec<String>,
    /// The last update of this provider and how it went.
    update: Option<UpdateReport>,
}

/// The last `igloo providers update` of a provider (`update` in the providers API).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UpdateReport {
    /// `trial` (the new version runs, within its window), `kept` (it survived
    /// the window) or `rolled_back` (it failed; the previous version runs again).
    pub state: &'static str,
    /// The version updated from (the fallback).
    pub from: String,
    /// The new version.
    pub to: String,
    /// Why it was rolled back.
    pub reason: Option<String>,
    /// Failures of the new version counted within its window.
    pub failures: u32,
    /// When the state was reached, milliseconds since the Unix epoch.
    pub at_ms: u64,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Status {
    /// JSON view (`docs/api.md`); `devices` is filled in by the caller.
    pub fn to_json(&self, devices: usize) -> Json {
        json!({
            "name": self.name,
            "exec": self.exec.display().to_string(),
            "state": self.state.as_str(),
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "version": self.version,
            "protocol": self.protocol,
            "devices": devices,
            "dropped_components": self.dropped.load(Ordering::Relaxed),
            "uid": self.uid,
            "sandbox": self.sandbox,
            "spawn_to_hello_us": self.spawn_to_hello_us,
            "installed_version": self.installed_version,
            "versions": self.versions,
            "update": self.update,
        })
    }
}

/// The answer to an update request: the switch as JSON, or why it was refused.
type UpdateReply = tokio::sync::oneshot::Sender<Result<Json, String>>;

enum Control {
    Restart,
    Update {
        version: Version,
        reply: UpdateReply,
    },
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

struct Handle {
    status: Arc<Mutex<Status>>,
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

/// A restart request that could not be honoured.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No provider with that name.
    #[error("no provider named {0:?}")]
    Unknown(String),
}

impl Supervisor {
    /// Starts every configured provider.
    pub fn start(
        core: &CoreConfig,
        providers: &[ProviderConfig],
        tree: TreeHandle,
        events: broadcast::Sender<Event>,
        ctx: Arc<SandboxContext>,
    ) -> Supervisor {
        let (shutdown, _) = watch::channel(false);
        let mut map = BTreeMap::new();
        for cfg in providers {
            let versions = Arc::new(Versions::new(&core.versions_dir, &cfg.name, &cfg.exec));
            let (selection, note) = versions.initial();
            if let Some(note) = note {
                tracing::warn!(provider = cfg.name.as_str(), "{note}");
            }
            let trial = selection.trial.then(|| {
                tracing::info!(
                    provider = cfg.name.as_str(),
                    version = selection.active.label.as_str(),
                    "the version was on trial when the core stopped: its trial starts again"
                );
                Trial {
                    from: selection
                        .previous
                        .clone()
                        .unwrap_or_else(|| versions.configured()),
                    to: selection.active.clone(),
                    deadline: None,
                    failures: 0,
                }
            });
            let mut cfg = cfg.clone();
            cfg.exec = selection.active.exec.clone();
            let status = Arc::new(Mutex::new(Status {
                name: cfg.name.clone(),
                exec: cfg.exec.clone(),
                state: State::Starting,
                pid: None,
                restarts: 0,
                last_exit: None,
                version: None,
                protocol: None,
                dropped: Arc::new(AtomicU64::new(0)),
                sandbox: None,
                uid: None,
                spawn_to_hello_us: None,
                installed_version: selection.active.label.clone(),
                versions: versions.installed(),
                update: trial.as_ref().map(|t| t.report("trial", None)),
            }));
            let (control, rx) = mpsc::channel(4);
            let (inbox, inbox_rx) = mpsc::channel(INBOX);
            let data_dir = external::provider_data_dir(&core.data_dir, &cfg.name);
            let task = Task {
                versions: versions.clone(),
                selection,
                trial,
                cfg: cfg.clone(),
                settings: Settings {
                    name: Arc::from(cfg.name.as_str()),
                    config_toml: cfg.config_toml.clone(),
                    data_dir: data_dir.display().to_string(),
                    max_frame: core.max_frame,
                    heartbeat_interval: core.heartbeat_interval,
                    heartbeat_timeout: core.heartbeat_timeout,
                },
                data_dir,
                status: status.clone(),
                tree: tree.clone(),
                events: events.clone(),
                control: rx,
                shutdown: shutdown.subscribe(),
                inbox: inbox_rx,
                port: Port::new(Arc::from(cfg.name.as_str())),
                ctx: ctx.clone(),
            };
            let task = tokio::spawn(task.run());
            map.insert(
                cfg.name.clone(),
                Handle {
                    status,
                    control,
                    inbox,
                    versions,
                    task: Mutex::new(Some(task)),
                },
            );
        }
        Supervisor {
            providers: map,
            shutdown,
        }
    }

    /// Status of every provider, in name order, with per-provider device counts.
    pub fn statuses(&self, counts: &BTreeMap<String, usize>) -> Vec<Json> {
        self.providers
            .iter()
            .filter_map(|(name, h)| {
                h.status
                    .lock()
                    .ok()
                    .map(|s| s.to_json(counts.get(name).copied().unwrap_or(0)))
            })
            .collect()
    }

    /// (running, total).
    pub fn running(&self) -> (usize, usize) {
        let running = self
            .providers
            .values()
            .filter(|h| h.status.lock().is_ok_and(|s| s.state == State::Running))
            .count();
        (running, self.providers.len())
    }

    /// Stops and starts one provider now (skipping any back-off); others are untouched.
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
    /// (`[provider.update]`). Returns the switch as JSON
    /// (`{"provider", "from", "to", "state": "trial", "window_ms", "max_failures"}`).
    ///
    /// # Errors
    /// [`UpdateError`]: unknown provider, bad or missing version, or refused
    /// (that version already runs, or another update is still on trial).
    pub async fn update(&self, name: &str, target: UpdateTarget) -> Result<Json, UpdateError> {
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

/// A new version on trial after an update.
struct Trial {
    /// The version to return to.
    from: Version,
    /// The new version.
    to: Version,
    /// End of the window; set when the new version first starts.
    deadline: Option<Instant>,
    /// Ends of the new version counted within the window.
    failures: u32,
}

impl Trial {
    fn report(&self, state: &'static str, reason: Option<String>) -> UpdateReport {
        UpdateReport {
            state,
            from: self.from.label.clone(),
            to: self.to.label.clone(),
            reason,
            failures: self.failures,
            at_ms: unix_ms(),
        }
    }
}

struct Task {
    /// This provider's installed versions.
    versions: Arc<Versions>,
    /// Which version runs (`cfg.exec` is its executable).
    selection: Selection,
    /// The new version on trial, if any.
    trial: Option<Trial>,
    cfg: ProviderConfig,
    settings: Settings,
    data_dir: PathBuf,
    status: Arc<Mutex<Status>>,
    tree: TreeHandle,
    events: broadcast::Sender<Event>,
    control: mpsc::Receiver<Control>,
    shutdown: watch::Receiver<bool>,
    inbox: mpsc::Receiver<ToProvider>,
    port: Port,
    ctx: Arc<SandboxContext>,
}

/// Why one run of the provider ended.
enum Outcome {
    /// The connection ended (the process may still be alive).
    Ended(End),
    /// The process exited.
    Exited(ExitStatus),
    /// A restart was requested.
    Restart,
    /// A switch to another version was requested (and passed its checks).
    Update(Version, UpdateReply),
    /// The core is shutting down.
    Shutdown,
}

fn new_backoff(p: RestartPolicy) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(p.initial_backoff)
        .with_max_delay(p.max_backoff)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
}

fn describe_exit(st: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(sig)) => {
            let name = nix::sys::signal::Signal::try_from(sig)
                .map(|s| s.as_str())
                .unwrap_or("?");
            format!("signal {sig} ({name})")
        }
        _ => "unknown exit".to_string(),
    }
}

impl Task {
    fn update(&self, f: impl FnOnce(&mut Status)) {
        let json = {
            let Ok(mut s) = self.status.lock() else {
                return;
            };
            f(&mut s);
            s.to_json(0)
        };
        let _ = self.events.send(Event::Provider(Arc::new(json)));
    }

    /// The uid/gid this provider runs as, when the sandbox can switch ids.
    fn identity(&self) -> Option<(u32, u32)> {
        if !self.cfg.sandbox.enabled || !self.ctx.host.root {
            return None;
        }
        let uid = self
            .cfg
            .sandbox
            .uid
            .or_else(|| self.ctx.uids.get(&self.cfg.name).copied())?;
        Some((uid, self.cfg.sandbox.gid.unwrap_or(uid)))
    }

    async fn run(mut self) {
        let name = self.settings.name.clone();
        let ids = self.identity();
        let prepared_dir = match ids {
            Some((uid, gid)) => {
                sandbox::identity::own_data_dir(&self.ctx.data_root, &self.data_dir, uid, gid)
            }
            None => std::fs::create_dir_all(&self.data_dir),
        };
        if let Err(e) = prepared_dir {
            tracing::error!(
                provider = &*name,
                "cannot prepare data dir {}: {e}",
                self.data_dir.display()
            );
        }
        self.update(|s| s.uid = ids.map(|(u, _)| u));
        let mut backoff = new_backoff(self.cfg.restart);
        loop {
            if self.cfg.wait_for_grant && self.port.grants.is_empty() {
                self.update(|s| {
                    s.state = State::Waiting;
                    s.pid = None;
                });
                tracing::info!(
                    provider = &*name,
                    "waiting for a device matching its grant rules"
                );
                if !self.wait_for_device().await {
                    self.update(|s| s.state = State::Stopped);
                    return;
                }
            }
            if let Some(t) = &mut self.trial
                && t.deadline.is_none()
            {
                t.deadline = Some(Instant::now() + self.cfg.update.window);
            }
            self.update(|s| {
                s.state = State::Starting;
                s.pid = None;
            });
            let started = Instant::now();
            let (outcome, exit) = self.run_once().await;
            let handshook = self.status.lock().is_ok_and(|s| s.state == State::Running);
            self.tree
                .send(TreeCmd::ProviderDown {
                    provider: name.clone(),
                })
                .await;
            let shutting_down = matches!(outcome, Outcome::Shutdown);
            let reason = match (&outcome, &exit) {
                (Outcome::Ended(e), Some(x)) => format!("{e}; {x}"),
                (Outcome::Ended(e), None) => e.to_string(),
                (Outcome::Exited(st), Some(x)) => format!("{}; {x}", describe_exit(*st)),
                (Outcome::Exited(st), None) => describe_exit(*st),
                (Outcome::Restart, x) => format!(
                    "restart requested{}",
                    x.as_ref().map(|x| format!("; {x}")).unwrap_or_default()
                ),
                (Outcome::Update(v, _), x) => format!(
                    "switching to version {:?}{}",
                    v.label,
                    x.as_ref().map(|x| format!("; {x}")).unwrap_or_default()
                ),
                (Outcome::Shutdown, _) => "core shutdown".to_string(),
            };
            if shutting_down {
                tracing::info!(provider = &*name, "stopped");
                self.update(|s| {
                    s.state = State::Stopped;
                    s.pid = None;
                    s.last_exit = Some(reason);
                });
                return;
            }
            let mut now = matches!(outcome, Outcome::Restart);
            match outcome {
                Outcome::Update(version, reply) => {
                    let r = self.begin_switch(version);
                    now = r.is_ok();
                    let _ = reply.send(r);
                }
                Outcome::Ended(_) | Outcome::Exited(_) => {
                    now = self.trial_failed(handshook, &reason)
                }
                Outcome::Restart | Outcome::Shutdown => {}
            }
            if started.elapsed() >= self.cfg.restart.stable_after || now {
                backoff = new_backoff(self.cfg.restart);
            }
            let delay = if now {
                Duration::ZERO
            } else {
                backoff.next().unwrap_or(self.cfg.restart.max_backoff)
            };
            tracing::warn!(
                provider = &*name,
                reason,
                restart_in_ms = delay.as_millis() as u64,
                "provider ended"
            );
            self.update(|s| {
                s.state = State::Backoff;
                s.pid = None;
                s.last_exit = Some(reason);
                s.restarts += 1;
            });
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    Some(c) = self.control.recv() => match c {
                        Control::Restart => {
                            backoff = new_backoff(self.cfg.restart);
                            break;
                        }
                        Control::Update { version, reply } => {
                            let r = self.begin_switch(version);
                            let switched = r.is_ok();
                            let _ = reply.send(r);
                            if switched {
                                backoff = new_backoff(self.cfg.restart);
                                break;
                            }
                        }
                    },
                    Some(msg) = self.inbox.recv() => self.port.absorb(msg),
                    _ = self.shutdown.changed() => {
                        self.update(|s| s.state = State::Stopped);
                        return;
                    }
                }
            }
        }
    }

    /// Waits until a grant arrives; `false` on shutdown. A version switch
    /// meanwhile is recorded (its trial starts with the first start).
    async fn wait_for_device(&mut self) -> bool {
        while self.port.grants.is_empty() {
            tokio::select! {
                msg = self.inbox.recv() => match msg {
                    Some(msg) => self.port.absorb(msg),
                    None => return false,
                },
                Some(c) = self.control.recv() => {
                    if let Control::Update { version, reply } = c {
                        let r = self.begin_switch(version);
                        let _ = reply.send(r);
                    }
                }
                _ = self.shutdown.changed() => return false,
            }
        }
        true
    }

    /// Makes `version` the running one, on trial. Called with no process running.
    fn begin_switch(&mut self, version: Version) -> Result<Json, String> {
        check_switch(&self.trial, &self.selection, &version)?;
        let from = self.selection.active.clone();
        let selection = Selection {
            configured_exec: self.selection.configured_exec.clone(),
            active: version.clone(),
            previous: Some(from.clone()),
            trial: true,
        };
        self.versions.save(&selection).map_err(|e| e.to_string())?;
        tracing::info!(
            provider = &*self.settings.name,
            from = from.label.as_str(),
            to = version.label.as_str(),
            window_ms = self.cfg.update.window.as_millis() as u64,
            "switching version; the new one is on trial"
        );
        self.selection = selection;
        self.cfg.exec = version.exec.clone();
        let trial = Trial {
            from,
            to: version,
            deadline: None,
            failures: 0,
        };
        let report = trial.report("trial", None);
        let answer = json!({
            "provider": &*self.settings.name,
            "from": trial.from.label,
            "to": trial.to.label,
            "state": "trial",
            "window_ms": self.cfg.update.window.as_millis() as u64,
            "max_failures": self.cfg.update.max_failures,
        });
        let installed = self.versions.installed();
        let exec = self.cfg.exec.clone();
        let label = trial.to.label.clone();
        self.trial = Some(trial);
        self.update(|s| {
            s.exec = exec;
            s.installed_version = label;
            s.versions = installed;
            s.update = Some(report);
        });
        Ok(answer)
    }

    /// Counts an end of a version on trial; returns to the previous version
    /// when it never completed its handshake or failed too often within its
    /// window. `true` when it returned (restart at once).
    fn trial_failed(&mut self, handshook: bool, reason: &str) -> bool {
        let Some(t) = &mut self.trial else {
            return false;
        };
        let why = if !handshook {
            format!("version {:?} failed its handshake: {reason}", t.to.label)
        } else if t.deadline.is_some_and(|d| Instant::now() < d) {
            t.failures += 1;
            if t.failures < self.cfg.update.max_failures {
                let report = t.report("trial", None);
                self.update(|s| s.update = Some(report));
                return false;
            }
            format!(
                "version {:?} failed {} times within {} ms: {reason}",
                t.to.label,
                t.failures,
                self.cfg.update.window.as_millis()
            )
        } else {
            return false;
        };
        let Some(t) = self.trial.take() else {
            return false;
        };
        tracing::error!(
            provider = &*self.settings.name,
            from = t.to.label.as_str(),
            to = t.from.label.as_str(),
            "{why}; returning to the previous version"
        );
        let selection = Selection {
            configured_exec: self.selection.configured_exec.clone(),
            active: t.from.clone(),
            previous: Some(t.to.clone()),
            trial: false,
        };
        if let Err(e) = self.versions.save(&selection) {
            tracing::error!(
                provider = &*self.settings.name,
                "cannot record the return: {e}"
            );
        }
        self.selection = selection;
        self.cfg.exec = t.from.exec.clone();
        let report = t.report("rolled_back", Some(why));
        let exec = self.cfg.exec.clone();
        self.update(|s| {
            s.exec = exec;
            s.installed_version = t.from.label.clone();
            s.update = Some(report);
        });
        true
    }

    /// Starts the process and serves it once. Returns why it ended and, when
    /// known, how the process exited.
    async fn run_once(&mut self) -> (Outcome, Option<String>) {
        let name = self.settings.name.clone();
        let ids = self.identity();
        let not_started = |why: String| {
            tracing::error!(provider = &*name, exec = %self.cfg.exec.display(), "cannot start: {why}");
            (
                Outcome::Ended(End::Handshake(format!(
                    "cannot start {}: {why}",
                    self.cfg.exec.display()
                ))),
                None,
            )
        };
        if let Some((uid, _)) = ids
            && let Err(e) = sandbox::identity::check_reachable(&self.cfg.exec, uid)
        {
            return not_started(e);
        }
        // Spawn-to-hello includes building the confinement (ruleset, filter, cgroup).
        let spawn_started = Instant::now();
        let mut prepared = match sandbox::prepare(
            &self.cfg,
            ids,
            &self.data_dir,
            &self.ctx.host,
            self.ctx.cgroup_parent.as_deref(),
        ) {
            Ok(p) => p,
            Err(e) => return not_started(e.to_string()),
        };
        let cgroup = prepared.cgroup.take();
        let layers = prepared.layers.clone();
        if !layers.enabled {
            tracing::warn!(
                provider = &*name,
                "sandbox disabled in the config: running unconfined"
            );
        } else {
            for (layer, l) in [
                ("uid", &layers.uid),
                ("landlock", &layers.landlock),
                ("seccomp", &layers.seccomp),
                ("network", &layers.network),
                ("cgroup", &layers.cgroup),
            ] {
                if !l.enforced {
                    tracing::warn!(provider = &*name, layer, "not enforced: {}", l.detail);
                }
            }
        }
        self.update(|s| s.sandbox = Some(layers));
        let spawned = match child::spawn(&self.cfg, &self.data_dir, prepared) {
            Ok(s) => s,
            Err(e) => {
                if let Some(cg) = &cgroup {
                    cg.remove();
                }
                return not_started(e.to_string());
            }
        };
        if let Err(e) = set_nonblocking(&spawned.grants) {
            tracing::warn!(provider = &*name, "grant socket: {e}");
        }
        self.port.socket = Some(spawned.grants);
        let mut child = spawned.child;
        let pid = child.id();
        self.update(|s| s.pid = pid);
        tracing::info!(provider = &*name, pid, "started");
        let dropped = self
            .status
            .lock()
            .map(|s| s.dropped.clone())
            .unwrap_or_default();

        // The connection borrows the port and the inbox until it ends.
        let outcome = {
            let serve = serve_all(
                spawned.socket,
                spawn_started,
                &self.settings,
                &self.tree,
                dropped,
                &self.status,
                &self.events,
                &mut self.port,
                &mut self.inbox,
            );
            tokio::pin!(serve);
            // A version on trial is kept once it is still up at the end of its window.
            let trial_end = self.trial.as_ref().and_then(|t| t.deadline);
            let mut armed = trial_end.is_some();
            let window_end = tokio::time::sleep_until(trial_end.unwrap_or_else(Instant::now));
            tokio::pin!(window_end);
            loop {
                tokio::select! {
                    r = &mut serve => break Outcome::Ended(r),
                    st = child.wait() => break match st {
                        Ok(st) => Outcome::Exited(st),
                        Err(e) => Outcome::Ended(End::Protocol(format!("wait failed: {e}"))),
                    },
                    Some(c) = self.control.recv() => match c {
                        Control::Restart => break Outcome::Restart,
                        Control::Update { version, reply } => {
                            // Refuse before stopping anything.
                            match check_switch(&self.trial, &self.selection, &version) {
                                Ok(()) => break Outcome::Update(version, reply),
                                Err(e) => {
                                    let _ = reply.send(Err(e));
                                }
                            }
                        }
                    },
                    _ = self.shutdown.changed() => break Outcome::Shutdown,
                    () = &mut window_end, if armed => {
                        armed = !keep_trial(&self.settings.name, &mut self.trial, &mut self.selection, &self.versions, &self.status, &self.events);
                        if armed {
                            // Still in its handshake: look again shortly.
                            window_end.as_mut().reset(Instant::now() + TRIAL_RECHECK);
                        }
                    }
                }
            }
        };
        self.port.disconnected();
        if let Outcome::Ended(e) = &outcome {
            match e {
                End::Protocol(_) | End::Handshake(_) | End::Hung => {
                    tracing::error!(provider = &*name, "{e}")
                }
                End::Closed => tracing::info!(provider = &*name, "{e}"),
            }
        }
        let mut exit = match &outcome {
            Outcome::Exited(_) => None,
            // A provider that broke the protocol or hung is killed at once.
            Outcome::Ended(End::Protocol(_) | End::Hung) => kill_now(&mut child).await,
            _ => stop_gently(&mut child).await,
        };
        if let Some(cg) = cgroup {
            if let Some(n) = cg.oom_kills().filter(|n| *n > 0) {
                let note = format!("memory limit hit: {n} process(es) OOM-killed in its cgroup");
                tracing::warn!(provider = &*name, "{note}");
                exit = Some(match exit {
                    Some(x) => format!("{x}; {note}"),
                    None => note,
                });
            }
            // Also kills what the provider left behind (forked children); this
            // may wait for the kernel, so not on a runtime thread.
            let _ = tokio::task::spawn_blocking(move || cg.remove()).await;
        }
        (outcome, exit)
    }
}

/// Why a switch to `version` cannot start now, if it cannot.
fn check_switch(
    trial: &Option<Trial>,
    selection: &Selection,
    version: &Version,
) -> Result<(), String> {
    if let Some(t) = trial {
        return Err(format!(
            "version {:?} is still on trial; update again once it is kept or rolled back",
            t.to.label
        ));
    }
    if selection.active == *version {
        return Err(format!("version {:?} is already running", version.label));
    }
    Ok(())
}

/// Ends a trial that survived its window: the new version stays. `false`
/// when the version is not serving yet (still in its handshake), so the
/// caller looks again.
fn keep_trial(
    name: &str,
    trial: &mut Option<Trial>,
    selection: &mut Selection,
    versions: &Versions,
    status: &Mutex<Status>,
    events: &broadcast::Sender<Event>,
) -> bool {
    let running = status.lock().is_ok_and(|s| s.state == State::Running);
    if !running {
        return false;
    }
    let Some(t) = trial.take() else {
        return true;
    };
    selection.trial = false;
    if let Err(e) = versions.save(selection) {
        tracing::error!(provider = name, "cannot record the kept version: {e}");
    }
    tracing::info!(
        provider = name,
        version = t.to.label.as_str(),
        failures = t.failures,
        "the new version survived its trial and is kept"
    );
    let json = status.lock().ok().map(|mut s| {
        s.update = Some(t.report("kept", None));
        s.to_json(0)
    });
    if let Some(j) = json {
        let _ = events.send(Event::Provider(Arc::new(j)));
    }
    true
}

fn set_nonblocking(fd: &std::os::fd::OwnedFd) -> std::io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn serve_all(
    socket: tokio::net::UnixStream,
    spawn_started: Instant,
    s: &Settings,
    tree: &TreeHandle,
    dropped: Arc<AtomicU64>,
    status: &Mutex<Status>,
    events: &broadcast::Sender<Event>,
    port: &mut Port,
    inbox: &mut mpsc::Receiver<ToProvider>,
) -> End {
    let (frames, write, negotiated, peer) = match connection::handshake(socket, s).await {
        Ok(v) => v,
        Err(e) => return e,
    };
    let json = status.lock().ok().map(|mut st| {
        st.state = State::Running;
        st.spawn_to_hello_us = Some(spawn_started.elapsed().as_micros() as u64);
        st.version = Some(peer.version);
        st.protocol = Some(peer.protocol);
        st.to_json(0)
    });
    if let Some(j) = json {
        let _ = events.send(Event::Provider(Arc::new(j)));
    }
    connection::serve(
        frames,
        write,
        negotiated,
        s,
        tree,
        dropped,
        Some((port, inbox)),
    )
    .await
}

async fn kill_now(child: &mut tokio::process::Child) -> Option<String> {
    let _ = child.start_kill();
    child.wait().await.ok().map(describe_exit)
}

async fn stop_gently(child: &mut tokio::process::Child) -> Option<String> {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(st) => st.ok().map(describe_exit),
        Err(_) => kill_now(child).await,
    }
}
