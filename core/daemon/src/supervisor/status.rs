//! What the core knows about one supervised provider, as types: its
//! lifecycle [`State`], how its last run ended ([`LastExit`]), its version
//! trial ([`UpdateReport`]) and the whole [`ProviderStatus`]. Each provider's
//! task is the only writer and publishes every change once, through
//! [`Publisher`]: on a `watch` channel (read by the API) and on the event bus.
//! JSON is made only at the edges (`api`, `events`), from these types.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::connection::End;
use crate::events::Event;
use crate::sandbox::Layers;

/// Lifecycle state of a provider (`state` in `GET /api/v1/providers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Process started, handshake pending.
    Starting,
    /// Handshake done, serving.
    Running,
    /// Waiting before the next restart.
    Backoff,
    /// Not started until a device matching its grant rules is plugged in.
    #[serde(rename = "waiting_for_device")]
    Waiting,
    /// Its last exit said its `[provider.config]` is wrong, or a file of its
    /// `[provider.secrets]` cannot be read: not restarted until a restart is
    /// requested or the core starts with another config.
    ConfigError,
    /// Stopped for shutdown.
    Stopped,
}

impl State {
    /// The name used in the API (`starting`, `running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::Running => "running",
            State::Backoff => "backoff",
            State::Waiting => "waiting_for_device",
            State::ConfigError => "config_error",
            State::Stopped => "stopped",
        }
    }
}

/// How a provider process ended, as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessExit {
    /// It exited with this status code.
    Code(i32),
    /// It was ended by this signal number.
    Signal(i32),
}

impl ProcessExit {
    /// From a `wait` status; `None` for a status that is neither (not seen on Linux).
    pub fn from_status(st: ExitStatus) -> Option<ProcessExit> {
        use std::os::unix::process::ExitStatusExt;
        match (st.code(), st.signal()) {
            (Some(c), _) => Some(ProcessExit::Code(c)),
            (None, Some(s)) => Some(ProcessExit::Signal(s)),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProcessExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ProcessExit::Code(c) => write!(f, "exit status {c}"),
            ProcessExit::Signal(sig) => {
                let name = nix::sys::signal::Signal::try_from(sig)
                    .map(|s| s.as_str())
                    .unwrap_or("?");
                write!(f, "signal {sig} ({name})")
            }
        }
    }
}

/// Why the core ended (or could not start) one run of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The process exited while connected, or after closing its connection.
    Exited,
    /// It closed its connection and had to be stopped.
    Closed,
    /// It broke the protocol (undecodable or over-long frame).
    Protocol(String),
    /// Its handshake failed (no `Hello`, a refused protocol major …).
    Handshake(String),
    /// It stopped answering pings.
    Hung,
    /// It could not be started (sandbox refused, exec failed).
    NotStarted(String),
    /// It was not started: a file of its `[provider.secrets]` cannot be
    /// used (the text names the file and the config line, never a value).
    Secret(String),
    /// A user asked for a restart.
    RestartRequested,
    /// A user switched it to version `to`.
    Switching {
        /// The version switched to.
        to: String,
    },
    /// The core is shutting down.
    CoreShutdown,
}

impl Cause {
    /// A short machine name (`cause` in the API's `exit` object).
    pub fn kind(&self) -> &'static str {
        match self {
            Cause::Exited => "exited",
            Cause::Closed => "closed",
            Cause::Protocol(_) => "protocol",
            Cause::Handshake(_) => "handshake",
            Cause::Hung => "hung",
            Cause::NotStarted(_) => "not_started",
            Cause::Secret(_) => "secret",
            Cause::RestartRequested => "restart_requested",
            Cause::Switching { .. } => "switching",
            Cause::CoreShutdown => "core_shutdown",
        }
    }

    /// The detail text, where the cause has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Cause::Protocol(d) | Cause::Handshake(d) | Cause::NotStarted(d) | Cause::Secret(d) => {
                Some(d)
            }
            Cause::Switching { to } => Some(to),
            _ => None,
        }
    }
}

impl From<End> for Cause {
    fn from(e: End) -> Cause {
        match e {
            End::Closed => Cause::Closed,
            End::Protocol(d) => Cause::Protocol(d),
            End::Handshake(d) => Cause::Handshake(d),
            End::Hung => Cause::Hung,
        }
    }
}

/// A provider's report that its `[provider.config]` is wrong (protocol docs:
/// exit code 78 with an `igloo.config_error` command before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// What the provider said is wrong.
    pub message: String,
    /// The key it named, dotted, relative to `[provider.config]` (`modbus.0.baud`).
    pub key: Option<String>,
    /// The core's config file.
    pub file: String,
    /// The line in `file` where that key (or the section) is.
    pub line: Option<usize>,
}

/// How the last run of a provider ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastExit {
    /// Why the run ended.
    pub cause: Cause,
    /// How the process ended, when there was one and it was reaped.
    pub process: Option<ProcessExit>,
    /// Processes the kernel OOM-killed in its cgroup during the run.
    pub oom_kills: u64,
    /// The provider's own report of a config error, if it made one.
    pub config: Option<ConfigProblem>,
}

impl LastExit {
    /// Whether the provider said its config is wrong: it exited with
    /// [`igloo_protocol::EXIT_CONFIG`] by itself.
    pub fn is_config_error(&self) -> bool {
        matches!(self.cause, Cause::Exited | Cause::Closed)
            && self.process == Some(ProcessExit::Code(igloo_protocol::EXIT_CONFIG))
    }
}

impl std::fmt::Display for LastExit {
    /// The `last_exit` text of API v1 (`"exit status 1"`, `"heartbeat
    /// timeout; signal 9 (SIGKILL)"` …), kept for clients that read it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let process = self.process.map(|p| p.to_string());
        let lead = match &self.cause {
            Cause::Exited => None,
            Cause::Closed => Some("connection closed".to_string()),
            Cause::Protocol(d) => Some(format!("protocol violation: {d}")),
            Cause::Handshake(d) => Some(format!("handshake failed: {d}")),
            Cause::Hung => Some("heartbeat timeout".to_string()),
            Cause::NotStarted(d) => Some(format!("handshake failed: {d}")),
            Cause::Secret(d) => Some(format!("not started: {d}")),
            Cause::RestartRequested => Some("restart requested".to_string()),
            Cause::Switching { to } => Some(format!("switching to version {to:?}")),
            Cause::CoreShutdown => Some("core shutdown".to_string()),
        };
        let mut parts: Vec<String> = lead.into_iter().chain(process).collect();
        if parts.is_empty() {
            parts.push("unknown exit".into());
        }
        if self.oom_kills > 0 {
            parts.push(format!(
                "memory limit hit: {} process(es) OOM-killed in its cgroup",
                self.oom_kills
            ));
        }
        if let Some(c) = &self.config {
            parts.push(format!("config error: {}", c.message));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Where a version update stands (`update.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateState {
    /// The new version runs, within its window.
    Trial,
    /// It survived the window.
    Kept,
    /// It failed; the previous version runs again.
    RolledBack,
}

/// The last `igloo providers update` of a provider (`update` in the providers API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    /// Where it stands.
    pub state: UpdateState,
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

/// Everything the core reports about one supervised provider. Published by
/// its task on every change; `GET /api/v1/providers` and the `provider`
/// events are made from it (`docs/api.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderStatus {
    /// Provider name.
    pub name: Arc<str>,
    /// The executable of the version that runs.
    pub exec: PathBuf,
    /// Lifecycle state.
    pub state: State,
    /// Process id while a process runs.
    pub pid: Option<u32>,
    /// Restarts since the core started.
    pub restarts: u64,
    /// How its last run ended.
    pub last_exit: Option<LastExit>,
    /// The version its running process said in `Hello`.
    pub version: Option<String>,
    /// The protocol `major.minor` its running process said in `Hello`.
    pub protocol: Option<String>,
    /// The confinement of its last start; `None` before the first.
    pub sandbox: Option<Layers>,
    /// The uid it runs as, when the core switches it.
    pub uid: Option<u32>,
    /// Microseconds from preparing the confinement and spawning the process
    /// to its `Hello` being answered, at its last start.
    pub spawn_to_hello_us: Option<u64>,
    /// Label of the version that runs (`configured` for the config's `exec`).
    pub installed_version: String,
    /// Labels installed under `versions_dir`.
    pub versions: Vec<String>,
    /// The last update of this provider and how it went.
    pub update: Option<UpdateReport>,
    /// Things the user should fix that do not stop it (config warnings, grant
    /// rules matching no port), each a sentence.
    pub warnings: Vec<String>,
}

impl ProviderStatus {
    /// The status of a provider that has not started yet.
    pub fn new(name: &str, exec: PathBuf, installed_version: String) -> ProviderStatus {
        ProviderStatus {
            name: Arc::from(name),
            exec,
            state: State::Starting,
            pid: None,
            restarts: 0,
            last_exit: None,
            version: None,
            protocol: None,
            sandbox: None,
            uid: None,
            spawn_to_hello_us: None,
            installed_version,
            versions: Vec::new(),
            update: None,
            warnings: Vec::new(),
        }
    }
}

/// The one writer of a provider's status: applies a change, then publishes
/// the result on the `watch` channel and the event bus.
pub struct Publisher {
    status: watch::Sender<ProviderStatus>,
    events: broadcast::Sender<Event>,
    dropped: Arc<AtomicU64>,
}

impl Publisher {
    /// A publisher starting from `initial`; the API subscribes to the channel.
    /// `dropped` is the live count of components withheld from the
    /// provider, sent along with each event.
    pub fn new(
        initial: ProviderStatus,
        events: broadcast::Sender<Event>,
        dropped: Arc<AtomicU64>,
    ) -> (Publisher, watch::Receiver<ProviderStatus>) {
        let (status, rx) = watch::channel(initial);
        let publisher = Publisher {
            status,
            events,
            dropped,
        };
        (publisher, rx)
    }

    /// Applies `f` and publishes the new status (a `provider` event).
    pub fn update(&self, f: impl FnOnce(&mut ProviderStatus)) {
        self.status.send_modify(f);
        let status = Arc::new(self.status.borrow().clone());
        let dropped_components = self.dropped.load(Ordering::Relaxed);
        // No receivers is normal (no API client watching).
        let _ = self.events.send(Event::Provider {
            status,
            dropped_components,
        });
    }

    /// The current status.
    pub fn get(&self) -> watch::Ref<'_, ProviderStatus> {
        self.status.borrow()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(cause: Cause, process: Option<ProcessExit>) -> LastExit {
        LastExit {
            cause,
            process,
            oom_kills: 0,
            config: None,
        }
    }

    #[test]
    fn last_exit_text_keeps_the_v1_wording() {
        let cases = [
            (
                exit(Cause::Exited, Some(ProcessExit::Code(1))),
                "exit status 1",
            ),
            (
                exit(Cause::Hung, Some(ProcessExit::Signal(9))),
                "heartbeat timeout; signal 9 (SIGKILL)",
            ),
            (
                exit(Cause::Protocol("frame too long".into()), None),
                "protocol violation: frame too long",
            ),
            (exit(Cause::RestartRequested, None), "restart requested"),
            (
                exit(
                    Cause::Switching { to: "0.3.0".into() },
                    Some(ProcessExit::Signal(15)),
                ),
                "switching to version \"0.3.0\"; signal 15 (SIGTERM)",
            ),
            (exit(Cause::CoreShutdown, None), "core shutdown"),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
        let mut oom = exit(Cause::Exited, Some(ProcessExit::Signal(9)));
        oom.oom_kills = 2;
        assert_eq!(
            oom.to_string(),
            "signal 9 (SIGKILL); memory limit hit: 2 process(es) OOM-killed in its cgroup"
        );
    }

    #[test]
    fn only_a_self_chosen_exit_78_is_a_config_error() {
        let code = Some(ProcessExit::Code(igloo_protocol::EXIT_CONFIG));
        assert!(exit(Cause::Exited, code).is_config_error());
        assert!(exit(Cause::Closed, code).is_config_error());
        assert!(!exit(Cause::Hung, code).is_config_error());
        assert!(!exit(Cause::Exited, Some(ProcessExit::Code(2))).is_config_error());
        assert!(!exit(Cause::Exited, Some(ProcessExit::Signal(15))).is_config_error());
    }

    #[test]
    fn states_have_their_api_names() {
        for s in [
            State::Starting,
            State::Running,
            State::Backoff,
            State::Waiting,
            State::ConfigError,
            State::Stopped,
        ] {
            let json = serde_json::to_value(s).expect("serializes");
            assert_eq!(json, s.as_str());
        }
    }
}
