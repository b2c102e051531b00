//! Marking a boot good only when the core is healthy. A boot that waits to
//! be marked good ([`super::bootstate::BootState::pending`]) is checked
//! until it passes or `[ota] health_timeout_s` runs out:
//!
//! - healthy ([`decide`], pure): the API answers its own
//!   `GET /api/v1/health`, and every configured provider is `running` (past
//!   its handshake) or `waiting_for_device` (by design, until a device is
//!   plugged in);
//! - then `rauc status mark-good`, and the time from the core's start is
//!   kept as `health_check_ms`;
//! - not healthy in time: no mark-good; the reason goes into the history
//!   (`health_check_failed`, for the rollback report of the slot the board
//!   returns to) and the log, and the `reboot` program runs, so U-Boot's
//!   counter for this slot runs out and the board goes back to the other.
//!
//! The time counts from the core's first start in this boot of this slot
//! ([`CheckStart`], kept in `download_dir`), not from its latest: a core
//! that crashes and is restarted by init before the timeout must not keep
//! a broken slot from being given up.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::history::{History, Kind, Outcome, Record};
use super::rauc::Rauc;
use crate::supervisor::status::unix_ms;
use crate::supervisor::{ProviderReport, State, Supervisor};

/// Pause between two checks.
const CHECK_EVERY: Duration = Duration::from_millis(500);
/// How long the API's own health request may take.
const API_TIMEOUT: Duration = Duration::from_secs(5);
/// Tries of `rauc status mark-good`, and the pause between them.
const MARK_ATTEMPTS: u32 = 5;
const MARK_PAUSE: Duration = Duration::from_secs(2);
/// How long the reboot program may take to return.
const REBOOT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the health check of this boot stands (`health.state` in
/// `GET /api/v1/ota`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// OTA is unavailable: nothing is checked or marked.
    Unavailable,
    /// This boot was not waiting to be marked good (or the boot state could
    /// not be read).
    NotNeeded,
    /// Checking until healthy or the timeout.
    Checking,
    /// Healthy and marked good.
    MarkedGood,
    /// Healthy, but `rauc status mark-good` failed.
    MarkFailed,
    /// Not healthy in time: not marked good, rebooting.
    Unhealthy,
}

impl HealthState {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Unavailable => "unavailable",
            HealthState::NotNeeded => "not_needed",
            HealthState::Checking => "checking",
            HealthState::MarkedGood => "marked_good",
            HealthState::MarkFailed => "mark_failed",
            HealthState::Unhealthy => "unhealthy",
        }
    }
}

/// The health check's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// Where it stands.
    pub state: HealthState,
    /// Milliseconds from the core's start to the slot being marked good.
    pub health_check_ms: Option<u64>,
    /// Why it is not healthy yet, why it failed, or RAUC's confirmation.
    pub detail: Option<String>,
}

impl HealthReport {
    /// A report in `state` with nothing else.
    pub fn new(state: HealthState) -> HealthReport {
        HealthReport {
            state,
            health_check_ms: None,
            detail: None,
        }
    }
}

/// Whether the core is healthy: `api` is the result of its own health
/// request, `providers` every configured provider's status. The reason
/// names what is not ready: each such provider, its state and its last
/// exit.
///
/// # Errors
/// The reason when it is not healthy.
pub fn decide(api: &Result<(), String>, providers: &[ProviderReport]) -> Result<(), String> {
    let mut problems = Vec::new();
    if let Err(e) = api {
        problems.push(format!("the API does not answer: {e}"));
    }
    for p in providers {
        let s = &p.status;
        if matches!(s.state, State::Running | State::Waiting) {
            continue;
        }
        let exit = s
            .last_exit
            .as_ref()
            .map(|e| format!(" (last exit: {e})"))
            .unwrap_or_default();
        problems.push(format!(
            "provider {:?} is {}{exit}",
            &*s.name,
            s.state.as_str()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The file in `download_dir` that keeps [`CheckStart`].
pub const START_FILE: &str = "health-check.json";

/// When the health check of one boot of one slot began, kept across core
/// restarts within that boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStart {
    /// The kernel's id of the boot (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: String,
    /// The booted slot's bootname.
    pub slot: String,
    /// The core's first start in that boot, ms since the boot
    /// (`CLOCK_BOOTTIME`, which counts suspend too).
    pub since_boot_ms: u64,
}

/// The check's start: `saved` when it is for this boot (`boot_id`) and
/// `slot`, else a new one at `now_ms` (ms since the boot).
pub fn check_start(
    saved: Option<CheckStart>,
    boot_id: &str,
    slot: &str,
    now_ms: u64,
) -> CheckStart {
    match saved {
        Some(s) if s.boot_id == boot_id && s.slot == slot && s.since_boot_ms <= now_ms => s,
        _ => CheckStart {
            boot_id: boot_id.to_string(),
            slot: slot.to_string(),
            since_boot_ms: now_ms,
        },
    }
}

/// Time since the boot (`CLOCK_BOOTTIME`).
pub fn since_boot() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .map(Duration::from)
        .unwrap_or_default()
}

/// The start of this boot's check of `slot`, given that the core started
/// `core_age` ago: the one saved in `dir` when it is for this boot and slot,
/// else now (then saved). Blocking file I/O.
pub fn load_start(dir: &Path, slot: &str, core_age: Duration) -> CheckStart {
    let path = dir.join(START_FILE);
    let saved = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<CheckStart>(&b).ok());
    // Without a boot id, never match a saved start (count from this start).
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string())
        .unwrap_or_else(|_| format!("unknown-{}", unix_ms()));
    let now = since_boot().saturating_sub(core_age).as_millis() as u64;
    let start = check_start(saved.clone(), &boot_id, slot, now);
    if saved.as_ref() == Some(&start) {
        tracing::info!(
            slot,
            "the core was restarted during this boot's health check; its time counts from the first start"
        );
        return start;
    }
    let written = serde_json::to_vec(&start)
        .map_err(|e| e.to_string())
        .and_then(|b| crate::fsutil::write_atomic(&path, &b).map_err(|e| e.to_string()));
    if let Err(e) = written {
        tracing::warn!("cannot keep the health check's start: {e}");
    }
    start
}

/// What the check needs.
pub struct Check {
    /// The providers.
    pub supervisor: Arc<Supervisor>,
    /// The address the API listens on.
    pub api: SocketAddr,
    /// `[ota] health_timeout_s`.
    pub timeout: Duration,
    /// When the check began ([`load_start`]), since the boot.
    pub started: Duration,
    /// RAUC, to mark good.
    pub rauc: Rauc,
    /// Where a failure is recorded.
    pub history: Arc<History>,
    /// The booted slot's bootname and bundle version, for the record.
    pub booted: (String, Option<String>),
    /// `[ota] reboot`: program and arguments.
    pub reboot: Vec<String>,
    /// Where the report is published.
    pub report: watch::Sender<HealthReport>,
    /// Cancelled at shutdown: the check stops (no reboot).
    pub shutdown: CancellationToken,
}

impl Check {
    /// Checks until healthy (then marks good) or the timeout (then records
    /// why, and reboots).
    pub async fn run(self) {
        let deadline = self.started + self.timeout;
        self.report
            .send_replace(HealthReport::new(HealthState::Checking));
        let reason = loop {
            let api = crate::api::probe::health_answers(self.api, API_TIMEOUT).await;
            let verdict = decide(&api, &self.supervisor.statuses());
            match verdict {
                Ok(()) => return self.mark_good().await,
                Err(reason) if since_boot() >= deadline => break reason,
                Err(reason) => self.report.send_modify(|r| r.detail = Some(reason)),
            }
            tokio::select! {
                () = tokio::time::sleep(CHECK_EVERY) => {}
                () = self.shutdown.cancelled() => return,
            }
        };
        self.fail(reason).await;
    }

    /// `rauc status mark-good`, tried [`MARK_ATTEMPTS`] times (RAUC's
    /// service may still be starting).
    async fn mark_good(&self) {
        let mut result = self.rauc.mark_good().await;
        for _ in 1..MARK_ATTEMPTS {
            if result.is_ok() || self.shutdown.is_cancelled() {
                break;
            }
            tokio::time::sleep(MARK_PAUSE).await;
            result = self.rauc.mark_good().await;
        }
        match result {
            Ok(said) => {
                let ms = since_boot().saturating_sub(self.started).as_millis() as u64;
                tracing::info!(
                    slot = self.booted.0,
                    health_check_ms = ms,
                    "healthy: slot marked good ({said})"
                );
                self.report.send_replace(HealthReport {
                    state: HealthState::MarkedGood,
                    health_check_ms: Some(ms),
                    detail: Some(said),
                });
            }
            Err(e) => {
                tracing::error!(
                    slot = self.booted.0,
                    "healthy, but marking the slot good failed: {e}"
                );
                self.report.send_replace(HealthReport {
                    state: HealthState::MarkFailed,
                    health_check_ms: None,
                    detail: Some(e.to_string()),
                });
            }
        }
    }

    async fn fail(&self, reason: String) {
        let secs = self.timeout.as_secs();
        tracing::error!(
            slot = self.booted.0,
            "not healthy within {secs} s, so slot {} is not marked good: {reason}; rebooting so the bootloader counts the try",
            self.booted.0
        );
        let mut record = Record::new(Kind::HealthCheckFailed, unix_ms());
        record.result = Some(Outcome::Failed);
        record.slot = Some(self.booted.0.clone());
        record.version = self.booted.1.clone();
        record.reason = Some(format!("not healthy within {secs} s: {reason}"));
        self.history.add(record).await;
        let ran = run_reboot(&self.reboot).await;
        if let Err(e) = &ran {
            tracing::error!("cannot reboot: {e}");
        }
        self.report.send_replace(HealthReport {
            state: HealthState::Unhealthy,
            health_check_ms: None,
            detail: Some(match ran {
                Ok(()) => format!("not healthy within {secs} s: {reason}; rebooted"),
                Err(e) => format!("not healthy within {secs} s: {reason}; reboot failed: {e}"),
            }),
        });
    }
}

/// Runs the reboot program and waits for it to return.
async fn run_reboot(argv: &[String]) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("no reboot program configured")?;
    let child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    match tokio::time::timeout(REBOOT_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(format!("{program} ended with {}", out.status)),
        Ok(Err(e)) => Err(format!("{program}: {e}")),
        Err(_) => Err(format!(
            "{program} did not return within {} s",
            REBOOT_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::supervisor::ProviderStatus;
    use crate::supervisor::status::{Cause, LastExit, ProcessExit};

    fn provider(name: &str, state: State, last_exit: Option<LastExit>) -> ProviderReport {
        let mut status = ProviderStatus::new(name, "/bin/x".into(), "configured".into());
        status.state = state;
        status.last_exit = last_exit;
        ProviderReport {
            status,
            dropped_components: 0,
        }
    }

    #[test]
    fn running_and_device_waiting_providers_with_an_answering_api_are_healthy() {
        let all = [
            provider("mqtt", State::Running, None),
            provider("serial", State::Waiting, None),
        ];
        assert_eq!(decide(&Ok(()), &all), Ok(()));
        assert_eq!(decide(&Ok(()), &[]), Ok(()));
    }

    #[test]
    fn every_provider_not_past_its_handshake_is_named_with_its_state_and_exit() {
        let exit = LastExit {
            cause: Cause::Handshake("no Hello within 10 s".into()),
            process: Some(ProcessExit::Signal(9)),
            oom_kills: 0,
            config: None,
        };
        let all = [
            provider("mqtt", State::Running, None),
            provider("zigbee", State::Backoff, Some(exit)),
            provider("esphome", State::Starting, None),
        ];
        let reason = decide(&Ok(()), &all).unwrap_err();
        assert_eq!(
            reason,
            "provider \"zigbee\" is backoff (last exit: handshake failed: no Hello within 10 s; signal 9 (SIGKILL)); provider \"esphome\" is starting"
        );
        for state in [State::ConfigError, State::Stopped] {
            assert!(decide(&Ok(()), &[provider("p", state, None)]).is_err());
        }
    }

    #[test]
    fn a_restarted_core_keeps_counting_from_the_first_start_of_this_boot_and_slot() {
        let first = check_start(None, "boot-1", "B", 5_000);
        assert_eq!(first.since_boot_ms, 5_000);
        // The core crashed and init started it again in the same boot.
        assert_eq!(
            check_start(Some(first.clone()), "boot-1", "B", 60_000),
            first
        );
        // Another boot, or another slot: a new check.
        assert_eq!(
            check_start(Some(first.clone()), "boot-2", "B", 4_000).since_boot_ms,
            4_000
        );
        assert_eq!(
            check_start(Some(first), "boot-1", "A", 70_000).since_boot_ms,
            70_000
        );
    }

    #[test]
    fn the_start_is_saved_next_to_the_history_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_start(dir.path(), "B", Duration::ZERO);
        assert!(dir.path().join(START_FILE).is_file());
        assert_eq!(load_start(dir.path(), "B", Duration::ZERO), first);
        assert_eq!(load_start(dir.path(), "A", Duration::ZERO).slot, "A");
    }

    #[test]
    fn an_api_that_does_not_answer_is_not_healthy() {
        let all = [provider("mqtt", State::Running, None)];
        assert_eq!(
            decide(&Err("connection refused".into()), &all),
            Err("the API does not answer: connection refused".into())
        );
    }
}
