//! The lifecycle of one supervised provider: one task that waits for a
//! grant when it must, confines and starts the process, serves its
//! connection, reaps it, and restarts it with capped exponential back-off and
//! jitter (reset after a stable period), while answering restart and update
//! requests. Every change of what it knows is published through its
//! [`Publisher`].
//!
//! One run: [`Task::confine`] → [`child::spawn`] → [`Task::await_outcome`]
//! (connection, process exit, requests, the trial window) → [`Task::reap`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::SandboxContext;
use super::child;
use super::connection::{self, End, Settings, Supervised};
use super::port::{Port, ToProvider};
use super::status::{Cause, ConfigProblem, LastExit, ProcessExit, Publisher, State};
use super::trial::{SwitchStarted, Verdict, Versioning};
use crate::config::{ProviderConfig, RestartPolicy};
use crate::provider_log::{ProviderLog, limited};
use crate::sandbox::{self, Layers};
use crate::tree::TreeHandle;
use crate::versions::Version;

/// How often a version whose trial window ended during its handshake is looked at again.
const TRIAL_RECHECK: Duration = Duration::from_millis(250);

/// Grace period between SIGTERM and SIGKILL when stopping a provider.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How long a provider whose connection ended (it closed it, or its
/// handshake was refused) has to exit by itself before it is stopped: long
/// enough to log the core's `Error` reply and exit with its own status, which
/// is then what the core reports.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// The answer to an update request: the switch, or why it was refused.
pub type UpdateReply = oneshot::Sender<Result<SwitchStarted, String>>;

/// Requests to a provider's task.
pub enum Control {
    /// Stop and start it now (also leaves `config_error`).
    Restart,
    /// Switch to `version` on trial.
    Update {
        /// The installed version.
        version: Version,
        /// Where the answer goes.
        reply: UpdateReply,
    },
}

/// Why one run of the provider ended.
enum Outcome {
    /// The connection ended (the process may still be alive).
    Ended(End),
    /// The process exited.
    Exited(std::process::ExitStatus),
    /// A restart was requested.
    Restart,
    /// A switch to another version was requested (and passed its checks).
    Update(Version, UpdateReply),
    /// The core is shutting down.
    Shutdown,
}

/// What one run left behind.
struct Run {
    outcome: Outcome,
    exit: LastExit,
    handshook: bool,
}

/// Everything the task of one provider owns.
pub struct Task {
    /// Which version runs, and its trial.
    pub versioning: Versioning,
    /// The provider's config (`exec` is the configured one; the version's is
    /// in `versioning`).
    pub cfg: ProviderConfig,
    /// Connection settings.
    pub settings: Settings,
    /// The provider's data dir.
    pub data_dir: PathBuf,
    /// The one writer of its status.
    pub status: Publisher,
    /// Components withheld from it (live counter, shown by the API).
    pub dropped: Arc<AtomicU64>,
    /// The device tree.
    pub tree: TreeHandle,
    /// Restart and update requests.
    pub control: mpsc::Receiver<Control>,
    /// Set at core shutdown.
    pub shutdown: watch::Receiver<bool>,
    /// Grants and commands for it.
    pub inbox: mpsc::Receiver<ToProvider>,
    /// Grants kept across restarts, pending commands.
    pub port: Port,
    /// Host facts and uids for confinement.
    pub ctx: Arc<SandboxContext>,
    /// The core's config file (named in config error reports).
    pub config_file: Arc<std::path::Path>,
    /// `[core] secrets_dir`: where its `[provider.secrets]` files are read.
    pub secrets_dir: PathBuf,
    /// Log budgets for its per-run lines, kept across restarts, so a
    /// crash-looping provider cannot flood the log.
    pub log: ProviderLog,
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

/// What the loop does after a run.
enum Next {
    /// Start again after the back-off delay (or at once).
    Restart { now: bool },
    /// Wait for a restart request: the provider said its config is wrong.
    HoldForConfig,
    /// The core is shutting down.
    Stop,
}

impl Task {
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

    /// Runs the provider until the core shuts down.
    pub async fn run(mut self) {
        self.prepare_data_dir();
        let mut backoff = new_backoff(self.cfg.restart);
        loop {
            if self.cfg.wait_for_grant && self.port.grants.is_empty() {
                self.status.update(|s| {
                    s.state = State::Waiting;
                    s.pid = None;
                });
                tracing::info!(
                    provider = &*self.settings.name,
                    "waiting for a device matching its grant rules"
                );
                if !self.wait_for_device().await {
                    return self.stopped(None);
                }
            }
            if let Err(e) = self.load_secrets() {
                self.hold_for_secret(e);
                match self.hold_for_config().await {
                    None => return self.stopped(None),
                    Some(_) => {
                        backoff = new_backoff(self.cfg.restart);
                        continue;
                    }
                }
            }
            self.versioning.arm();
            self.status.update(|s| {
                s.state = State::Starting;
                s.pid = None;
            });
            let started = Instant::now();
            let run = self.run_once().await;
            let restarted = match self.after(run) {
                Next::Stop => return,
                Next::HoldForConfig => self.hold_for_config().await,
                Next::Restart { now } => {
                    if now || started.elapsed() >= self.cfg.restart.stable_after {
                        backoff = new_backoff(self.cfg.restart);
                    }
                    let delay = match now {
                        true => Duration::ZERO,
                        false => backoff.next().unwrap_or(self.cfg.restart.max_backoff),
                    };
                    self.back_off(delay).await
                }
            };
            match restarted {
                None => return self.stopped(None),
                // A request asked for the start: the back-off starts afresh.
                Some(true) => backoff = new_backoff(self.cfg.restart),
                Some(false) => {}
            }
        }
    }

    /// Puts the provider's `[provider.config]`, with the values of its
    /// `[provider.secrets]` read now, into the `Welcome` of the next start.
    ///
    /// # Errors
    /// A secret file that cannot be used.
    fn load_secrets(&mut self) -> Result<(), super::secrets::SecretError> {
        self.settings.config_toml = super::secrets::welcome_config(
            &self.cfg.config_toml,
            &self.cfg.secrets,
            &self.secrets_dir,
        )?;
        Ok(())
    }

    /// Publishes `config_error` for a secret file that cannot be used (the
    /// error names the file and the line, never a value) and logs it.
    fn hold_for_secret(&mut self, e: super::secrets::SecretError) {
        let name = self.settings.name.clone();
        let message = e.to_string();
        tracing::error!(
            provider = &*name,
            file = %e.path.display(),
            line = e.line,
            "not started: {message} (igloo providers restart {name})"
        );
        let problem = ConfigProblem {
            message: message.clone(),
            key: Some(e.key),
            file: self.config_file.display().to_string(),
            line: Some(e.line),
        };
        self.status.update(|s| {
            s.state = State::ConfigError;
            s.pid = None;
            s.last_exit = Some(LastExit {
                cause: Cause::Secret(message),
                process: None,
                oom_kills: 0,
                config: Some(problem),
            });
        });
    }

    fn prepare_data_dir(&mut self) {
        let ids = self.identity();
        let prepared = match ids {
            Some((uid, gid)) => {
                sandbox::identity::own_data_dir(&self.ctx.data_root, &self.data_dir, uid, gid)
            }
            None => std::fs::create_dir_all(&self.data_dir),
        };
        if let Err(e) = prepared {
            tracing::error!(
                provider = &*self.settings.name,
                "cannot prepare data dir {}: {e}",
                self.data_dir.display()
            );
        }
        self.status.update(|s| s.uid = ids.map(|(u, _)| u));
    }

    fn stopped(&self, last_exit: Option<LastExit>) {
        self.status.update(|s| {
            s.state = State::Stopped;
            s.pid = None;
            if let Some(e) = last_exit {
                s.last_exit = Some(e);
            }
        });
    }

    /// Decides what follows a run, publishes it, and answers a pending update request.
    fn after(&mut self, run: Run) -> Next {
        let name = self.settings.name.clone();
        let reason = run.exit.to_string();
        if matches!(run.outcome, Outcome::Shutdown) {
            tracing::info!(provider = &*name, "stopped");
            self.stopped(Some(run.exit));
            return Next::Stop;
        }
        let now = match run.outcome {
            Outcome::Update(version, reply) => {
                let r = self.switch(version);
                let ok = r.is_ok();
                let _ = reply.send(r);
                ok
            }
            Outcome::Ended(_) | Outcome::Exited(_) => self.count_end(run.handshook, &reason),
            Outcome::Restart => true,
            Outcome::Shutdown => false,
        };
        if run.exit.is_config_error() && !now {
            tracing::error!(
                provider = &*name,
                reason,
                "the provider says its [provider.config] is wrong; it is not restarted until the \
                 config is fixed and a restart is requested (igloo providers restart {name})"
            );
            self.status.update(|s| {
                s.state = State::ConfigError;
                s.pid = None;
                s.last_exit = Some(run.exit);
            });
            return Next::HoldForConfig;
        }
        limited!(
            self.log,
            "lifecycle",
            tracing::Level::WARN,
            reason,
            "provider ended"
        );
        self.status.update(|s| {
            s.state = State::Backoff;
            s.pid = None;
            s.last_exit = Some(run.exit);
            s.restarts += 1;
        });
        Next::Restart { now }
    }

    /// Counts an end against a version on trial; `true` when it was rolled
    /// back (restart at once).
    fn count_end(&mut self, handshook: bool, reason: &str) -> bool {
        match self.versioning.ended(handshook, reason) {
            Verdict::NotOnTrial => false,
            Verdict::Counted(report) => {
                self.status.update(|s| s.update = Some(report));
                false
            }
            Verdict::RolledBack(report) => {
                let exec = self.versioning.exec().to_path_buf();
                let label = self.versioning.label().to_string();
                self.status.update(|s| {
                    s.exec = exec;
                    s.installed_version = label;
                    s.update = Some(report);
                });
                true
            }
        }
    }

    /// Makes `version` the running one, on trial, and publishes it. Called
    /// with no process running.
    fn switch(&mut self, version: Version) -> Result<SwitchStarted, String> {
        let (started, report) = self.versioning.begin_switch(version)?;
        let exec = self.versioning.exec().to_path_buf();
        let label = self.versioning.label().to_string();
        let installed = self.versioning.installed();
        self.status.update(|s| {
            s.exec = exec;
            s.installed_version = label;
            s.versions = installed;
            s.update = Some(report);
        });
        Ok(started)
    }

    /// Sleeps `delay` while serving requests. `Some(reset)` to start again
    /// (`reset`: a request asked for it, start the back-off afresh), `None`
    /// on shutdown.
    async fn back_off(&mut self, delay: Duration) -> Option<bool> {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return Some(false),
                Some(c) = self.control.recv() => {
                    if self.control_while_stopped(c) {
                        return Some(true);
                    }
                }
                Some(msg) = self.inbox.recv() => self.port.absorb(msg),
                _ = self.shutdown.changed() => return None,
            }
        }
    }

    /// Waits in `config_error` until a restart (or a switch) is requested:
    /// `Some(true)`, or `None` on shutdown.
    async fn hold_for_config(&mut self) -> Option<bool> {
        loop {
            tokio::select! {
                Some(c) = self.control.recv() => {
                    if self.control_while_stopped(c) {
                        return Some(true);
                    }
                }
                Some(msg) = self.inbox.recv() => self.port.absorb(msg),
                _ = self.shutdown.changed() => return None,
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
                        let _ = reply.send(self.switch(version));
                    }
                }
                _ = self.shutdown.changed() => return false,
            }
        }
        true
    }

    /// Handles a request while no process runs; `true` when the provider
    /// should start now.
    fn control_while_stopped(&mut self, c: Control) -> bool {
        match c {
            Control::Restart => true,
            Control::Update { version, reply } => {
                let r = self.switch(version);
                let switched = r.is_ok();
                let _ = reply.send(r);
                switched
            }
        }
    }

    /// Builds the confinement and publishes the layers it will enforce.
    ///
    /// # Errors
    /// Why the provider cannot be started (unreachable executable, a sandbox
    /// step that cannot be prepared).
    fn confine(&mut self, cfg: &ProviderConfig) -> Result<sandbox::Prepared, String> {
        let ids = self.identity();
        if let Some((uid, _)) = ids {
            sandbox::identity::check_reachable(&cfg.exec, uid)?;
        }
        let prepared = sandbox::prepare(
            &cfg.sandbox_subject(),
            ids,
            &self.data_dir,
            &self.ctx.host,
            self.ctx.cgroup_parent.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        warn_missing_layers(&self.settings.name, &prepared.layers);
        let layers = prepared.layers.clone();
        self.status.update(|s| s.sandbox = Some(layers));
        Ok(prepared)
    }

    /// Starts the process and serves it once.
    async fn run_once(&mut self) -> Run {
        let name = self.settings.name.clone();
        let mut cfg = self.cfg.clone();
        cfg.exec = self.versioning.exec().to_path_buf();
        let not_started = |log: &ProviderLog, why: String| {
            limited!(log, "lifecycle", tracing::Level::ERROR, exec = %cfg.exec.display(), "cannot start: {why}");
            Run {
                outcome: Outcome::Ended(End::Handshake(why.clone())),
                exit: LastExit {
                    cause: Cause::NotStarted(format!("cannot start {}: {why}", cfg.exec.display())),
                    process: None,
                    oom_kills: 0,
                    config: None,
                },
                handshook: false,
            }
        };
        // Spawn-to-hello includes building the confinement (ruleset, filter, cgroup).
        let spawn_started = Instant::now();
        let mut prepared = match self.confine(&cfg) {
            Ok(p) => p,
            Err(e) => return not_started(&self.log, e),
        };
        let cgroup = prepared.cgroup.take();
        let spawned = match child::spawn(&cfg, &self.data_dir, prepared) {
            Ok(s) => s,
            Err(e) => {
                if let Some(cg) = &cgroup {
                    cg.remove();
                }
                return not_started(&self.log, e.to_string());
            }
        };
        if let Err(e) = set_nonblocking(&spawned.grants) {
            tracing::warn!(provider = &*name, "grant socket: {e}");
        }
        self.port.socket = Some(spawned.grants);
        let mut child = spawned.child;
        let pid = child.id();
        self.status.update(|s| s.pid = pid);
        limited!(self.log, "lifecycle", tracing::Level::INFO, pid, "started");

        let mut config_report = None;
        let outcome = self
            .await_outcome(
                spawned.socket,
                spawn_started,
                &mut child,
                &mut config_report,
            )
            .await;
        // `running` is published only after a completed handshake.
        let handshook = self.status.get().state == State::Running;
        self.port.disconnected();
        if let Outcome::Ended(e) = &outcome {
            match e {
                End::Protocol(_) | End::Handshake(_) | End::Hung => {
                    limited!(self.log, "lifecycle", tracing::Level::ERROR, "{e}")
                }
                End::Closed => limited!(self.log, "lifecycle", tracing::Level::INFO, "{e}"),
            }
        }
        let process = reap(&outcome, &mut child).await;
        let oom_kills = match cgroup {
            Some(cg) => release_cgroup(&name, cg).await,
            None => 0,
        };
        let exit = LastExit {
            cause: cause_of(&outcome),
            process,
            oom_kills,
            config: config_report.map(|(message, key)| self.locate(message, key)),
        };
        Run {
            outcome,
            exit,
            handshook,
        }
    }

    /// Points a provider's config report at the line of `igloo.toml`.
    fn locate(&self, message: String, key: Option<String>) -> ConfigProblem {
        let line = self.cfg.config_line(key.as_deref().unwrap_or(""));
        ConfigProblem {
            message,
            key,
            file: self.config_file.display().to_string(),
            line,
        }
    }

    /// Serves the connection until it ends, the process exits, a request
    /// stops it or the core shuts down; keeps a version whose trial window
    /// ends while it serves.
    async fn await_outcome(
        &mut self,
        socket: tokio::net::UnixStream,
        spawn_started: Instant,
        child: &mut tokio::process::Child,
        config_report: &mut Option<(String, Option<String>)>,
    ) -> Outcome {
        let serve = serve(
            socket,
            spawn_started,
            &self.settings,
            &self.tree,
            self.dropped.clone(),
            &self.status,
            &self.log,
            Supervised {
                port: &mut self.port,
                inbox: &mut self.inbox,
                config_report,
            },
        );
        tokio::pin!(serve);
        // A version on trial is kept once it is still up at the end of its window.
        let trial_end = self.versioning.deadline();
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
                        match self.versioning.check_switch(&version) {
                            Ok(()) => break Outcome::Update(version, reply),
                            Err(e) => { let _ = reply.send(Err(e)); }
                        }
                    }
                },
                _ = self.shutdown.changed() => break Outcome::Shutdown,
                () = &mut window_end, if armed => {
                    if self.status.get().state != State::Running {
                        // Still in its handshake: look again shortly.
                        window_end.as_mut().reset(Instant::now() + TRIAL_RECHECK);
                        continue;
                    }
                    armed = false;
                    if let Some(report) = self.versioning.keep() {
                        self.status.update(|s| s.update = Some(report));
                    }
                }
            }
        }
    }
}

/// Reads the OOM kills of a run's cgroup, then empties and removes it (which
/// also kills what the provider left behind). Returns the OOM kills.
async fn release_cgroup(name: &str, cg: sandbox::cgroup::ProviderCgroup) -> u64 {
    let n = cg.oom_kills().unwrap_or(0);
    if n > 0 {
        tracing::warn!(
            provider = name,
            "memory limit hit: {n} process(es) OOM-killed in its cgroup"
        );
    }
    // Removing may wait for the kernel, so not on a runtime thread.
    let _ = tokio::task::spawn_blocking(move || cg.remove()).await;
    n
}

/// Logs each layer that will not be enforced.
fn warn_missing_layers(name: &str, layers: &Layers) {
    if !layers.enabled {
        tracing::warn!(
            provider = name,
            "sandbox disabled in the config: running unconfined"
        );
        return;
    }
    for (layer, l) in [
        ("uid", &layers.uid),
        ("landlock", &layers.landlock),
        ("seccomp", &layers.seccomp),
        ("network", &layers.network),
        ("cgroup", &layers.cgroup),
    ] {
        if !l.enforced {
            tracing::warn!(provider = name, layer, "not enforced: {}", l.detail);
        }
    }
}

fn cause_of(outcome: &Outcome) -> Cause {
    match outcome {
        Outcome::Ended(e) => Cause::from(e.clone()),
        Outcome::Exited(_) => Cause::Exited,
        Outcome::Restart => Cause::RestartRequested,
        Outcome::Update(v, _) => Cause::Switching {
            to: v.label.clone(),
        },
        Outcome::Shutdown => Cause::CoreShutdown,
    }
}

/// Ends the process as the outcome calls for and returns how it ended: a
/// provider that broke the protocol or hung is killed at once; one whose
/// connection ended is given [`EXIT_GRACE`] to exit by itself (so its own
/// exit status is what is reported), then stopped; for a request or a
/// shutdown it is stopped gently (SIGTERM, SIGKILL after [`STOP_GRACE`]).
async fn reap(outcome: &Outcome, child: &mut tokio::process::Child) -> Option<ProcessExit> {
    match outcome {
        Outcome::Exited(st) => ProcessExit::from_status(*st),
        Outcome::Ended(End::Protocol(_) | End::Hung) => kill_now(child).await,
        Outcome::Ended(End::Closed | End::Handshake(_)) => {
            match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(st) => st.ok().and_then(ProcessExit::from_status),
                Err(_) => stop_gently(child).await,
            }
        }
        Outcome::Restart | Outcome::Update(..) | Outcome::Shutdown => stop_gently(child).await,
    }
}

async fn kill_now(child: &mut tokio::process::Child) -> Option<ProcessExit> {
    let _ = child.start_kill();
    child.wait().await.ok().and_then(ProcessExit::from_status)
}

async fn stop_gently(child: &mut tokio::process::Child) -> Option<ProcessExit> {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(st) => st.ok().and_then(ProcessExit::from_status),
        Err(_) => kill_now(child).await,
    }
}

fn set_nonblocking(fd: &std::os::fd::OwnedFd) -> std::io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// Handshake, then serve; publishes `running` with what the provider said.
#[allow(clippy::too_many_arguments)]
async fn serve(
    socket: tokio::net::UnixStream,
    spawn_started: Instant,
    s: &Settings,
    tree: &TreeHandle,
    dropped: Arc<AtomicU64>,
    status: &Publisher,
    log: &ProviderLog,
    supervised: Supervised<'_>,
) -> End {
    let (frames, write, negotiated, peer) = match connection::handshake(socket, s, log).await {
        Ok(v) => v,
        Err(e) => return e,
    };
    status.update(|st| {
        st.state = State::Running;
        st.spawn_to_hello_us = Some(spawn_started.elapsed().as_micros() as u64);
        st.version = Some(peer.version);
        st.protocol = Some(peer.protocol);
    });
    connection::serve(
        frames,
        write,
        negotiated,
        s,
        tree,
        dropped,
        Some(supervised),
    )
    .await
}
