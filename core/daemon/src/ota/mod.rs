//! Over-the-air updates of the whole system with RAUC (docs/ota.md): the
//! A/B slots and their boot state, installing a bundle, marking a boot
//! good only when the core is healthy, and the record of installs and
//! rollbacks that survives them all.
//!
//! - [`Ota`] (this file): the handle the core holds — started once with
//!   [`Ota::start`], asked for [`Ota::status`], told to [`Ota::install`] or
//!   [`Ota::upload`]. At start it checks that the system can be updated
//!   (RAUC, its system.conf), records a rollback the bootloader made, and
//!   runs the health check when this boot waits to be marked good.
//! - [`settings`]: `[ota]` of `igloo.toml`.
//! - [`rauc`]: RAUC's command line (status, install with progress, mark-good).
//! - [`bootstate`]: `BOOT_ORDER`/`BOOT_x_LEFT` through `fw_printenv`, and
//!   the decisions over them (waiting to be marked good, a failed update).
//! - [`install`]: one install at a time, its progress and events.
//! - [`download`]: URL downloads with resume, the free-space check.
//! - [`health`]: the health decision and the check that marks good or reboots.
//! - [`history`]: `history.json`, the last installs, failed checks and rollbacks.
//!
//! JSON is made in `api::views` from [`OtaStatus`] and [`OtaEvent`].

pub mod bootstate;
pub mod download;
pub mod health;
pub mod history;
pub mod install;
pub mod rauc;
pub mod settings;

pub use install::{InstallError, InstallProgress, OtaEvent, Source};

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::Stream;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use self::bootstate::BootState;
use self::health::{HealthReport, HealthState};
use self::history::{History, Record};
use self::install::Installer;
use self::rauc::{Rauc, RaucStatus, Slot};
use self::settings::OtaSettings;
use crate::events::Event;
use crate::supervisor::Supervisor;
use crate::supervisor::status::unix_ms;

/// Tries of `rauc status` at start.
const START_ATTEMPTS: u32 = 15;

/// What [`Ota::start`] needs from the rest of the core.
pub struct Context {
    /// The providers, for the health check.
    pub supervisor: Arc<Supervisor>,
    /// The address the API is bound to, for the health check.
    pub api: SocketAddr,
    /// When the core started (the health check's time counts from the
    /// first start in this boot of this slot).
    pub core_started: Instant,
    /// The event bus (`ota` events).
    pub events: broadcast::Sender<Event>,
    /// Cancelled at shutdown (stops the health check).
    pub shutdown: CancellationToken,
}

/// One slot as `GET /api/v1/ota` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotReport {
    /// What RAUC says about it.
    pub slot: Slot,
    /// `BOOT_<bootname>_LEFT`.
    pub tries_left: Option<u32>,
    /// It is the slot that booted.
    pub booted: bool,
    /// It is `BOOT_ORDER`'s first: tried first at the next boot.
    pub primary: bool,
}

/// Everything `GET /api/v1/ota` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct OtaStatus {
    /// Why this system cannot be updated; `None` when it can.
    pub unavailable: Option<String>,
    /// RAUC's `compatible` (which bundles fit).
    pub compatible: Option<String>,
    /// Bootname of the booted slot.
    pub booted: Option<String>,
    /// `BOOT_ORDER`.
    pub boot_order: Vec<String>,
    /// Every slot.
    pub slots: Vec<SlotReport>,
    /// This boot waits to be marked good (its try is still taken); `None`
    /// when the booted slot or the boot state cannot be read (see `errors`).
    pub pending_mark_good: Option<bool>,
    /// The health check of this boot.
    pub health: HealthReport,
    /// The install that runs.
    pub install: Option<InstallProgress>,
    /// The last installs, failed checks and rollbacks, oldest first.
    pub history: Vec<Record>,
    /// What could not be read just now (RAUC's status, the boot state).
    pub errors: Vec<String>,
}

/// The over-the-air update service of the core.
pub struct Ota {
    settings: OtaSettings,
    unavailable: Option<String>,
    rauc: Rauc,
    history: Arc<History>,
    installer: Installer,
    health: watch::Receiver<HealthReport>,
}

impl Ota {
    /// Checks whether this system can be updated (never an error: the
    /// reason is reported), loads the history, deletes bundles a previous
    /// run left behind, and starts the boot task: record a rollback the
    /// bootloader made, then, if this boot waits to be marked good, the
    /// health check. Call it once the API is bound and the providers are
    /// started.
    pub fn start(settings: &OtaSettings, ctx: Context) -> Arc<Ota> {
        let unavailable = unavailable_reason(settings);
        let history_path = settings.download_dir.join(history::FILE_NAME);
        let (history, warning) = History::load(&history_path);
        if let Some(w) = warning {
            tracing::warn!("{w}");
        }
        let history = Arc::new(history);
        let rauc = Rauc::new(&settings.rauc);
        let installer = Installer::new(
            rauc.clone(),
            history.clone(),
            &settings.download_dir,
            ctx.events.clone(),
        );
        let initial = match &unavailable {
            Some(why) => {
                tracing::info!("over-the-air updates unavailable: {why}");
                HealthReport {
                    detail: Some(why.clone()),
                    ..HealthReport::new(HealthState::Unavailable)
                }
            }
            None => HealthReport::new(HealthState::Checking),
        };
        let (report, health) = watch::channel(initial);
        let ota = Arc::new(Ota {
            settings: settings.clone(),
            unavailable,
            rauc,
            history,
            installer,
            health,
        });
        if ota.unavailable.is_none() {
            let removed = install::remove_leftovers(&settings.download_dir);
            if removed > 0 {
                tracing::info!(
                    "removed {removed} bundle(s) an interrupted install left in {}",
                    settings.download_dir.display()
                );
            }
            tokio::spawn(ota.clone().boot(ctx, report));
        }
        ota
    }

    fn check_available(&self) -> Result<(), InstallError> {
        match &self.unavailable {
            Some(why) => Err(InstallError::Unavailable(why.clone())),
            None => Ok(()),
        }
    }

    /// Starts installing a bundle on the gateway or at a URL; returns the
    /// install's id. Progress shows in [`Ota::status`] and `ota` events.
    ///
    /// # Errors
    /// [`InstallError`]: unavailable, busy, bad path or URL.
    pub fn install(&self, source: Source) -> Result<u64, InstallError> {
        self.check_available()?;
        self.installer.start(source)
    }

    /// Receives an uploaded bundle (`len` = the request's `Content-Length`)
    /// and starts installing it; returns the install's id.
    ///
    /// # Errors
    /// [`InstallError`]: unavailable, busy, no length, no room, the upload
    /// broke off.
    pub async fn upload<S, E>(&self, len: Option<u64>, body: S) -> Result<u64, InstallError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.check_available()?;
        self.installer.upload(len, body).await
    }

    /// The slots, the boot state, the health check, the running install
    /// and the history, read now (runs `rauc status` and `fw_printenv`).
    pub async fn status(&self) -> OtaStatus {
        let mut status = OtaStatus {
            unavailable: self.unavailable.clone(),
            compatible: None,
            booted: None,
            boot_order: Vec::new(),
            slots: Vec::new(),
            pending_mark_good: None,
            health: self.health.borrow().clone(),
            install: self.installer.current(),
            history: self.history.records(),
            errors: Vec::new(),
        };
        if self.unavailable.is_some() {
            return status;
        }
        let rauc = match self.rauc.status().await {
            Ok(r) => r,
            Err(e) => {
                status.errors.push(e.to_string());
                RaucStatus::default()
            }
        };
        let booted = booted_slot(&rauc).await;
        match BootState::read(&self.settings.fw_printenv, &bootnames(&rauc)).await {
            Ok(boot) => {
                status.pending_mark_good = booted.as_deref().map(|b| boot.pending(b));
                status.slots = slot_reports(&rauc, &boot, booted.as_deref());
                status.boot_order = boot.order;
            }
            Err(e) => {
                status.errors.push(e.to_string());
                status.slots = slot_reports(&rauc, &BootState::default(), booted.as_deref());
            }
        }
        status.compatible = rauc.compatible;
        status.booted = booted;
        status
    }

    /// At start: record a rollback, then check health if this boot waits
    /// to be marked good.
    async fn boot(self: Arc<Self>, ctx: Context, report: watch::Sender<HealthReport>) {
        let not_needed = |detail: String| {
            report.send_replace(HealthReport {
                detail: Some(detail),
                ..HealthReport::new(HealthState::NotNeeded)
            });
        };
        let rauc = self.status_at_start().await;
        let Some(booted) = booted_slot(&rauc).await else {
            return not_needed(
                "the booted slot is unknown (no rauc.slot= on the kernel command line)".into(),
            );
        };
        let boot = match BootState::read(&self.settings.fw_printenv, &bootnames(&rauc)).await {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("{e}");
                return not_needed(e.to_string());
            }
        };
        if let Some(failed) = boot.failed_primary(&booted) {
            self.record_rollback(&rauc, failed).await;
        }
        if !boot.pending(&booted) {
            return not_needed(format!(
                "slot {booted} was already marked good (it has all its tries)"
            ));
        }
        tracing::info!(
            slot = booted,
            "this boot waits to be marked good: checking health for up to {} s",
            self.settings.health_timeout.as_secs()
        );
        let version = rauc
            .by_bootname(&booted)
            .and_then(|s| s.bundle_version.clone());
        let (dir, slot, age) = (
            self.settings.download_dir.clone(),
            booted.clone(),
            ctx.core_started.elapsed(),
        );
        let Ok(start) =
            tokio::task::spawn_blocking(move || health::load_start(&dir, &slot, age)).await
        else {
            return not_needed("the health check could not start".into());
        };
        health::Check {
            supervisor: ctx.supervisor,
            api: ctx.api,
            timeout: self.settings.health_timeout,
            started: Duration::from_millis(start.since_boot_ms),
            rauc: self.rauc.clone(),
            history: self.history.clone(),
            booted: (booted, version),
            reboot: self.settings.reboot.clone(),
            report,
            shutdown: ctx.shutdown,
        }
        .run()
        .await;
    }

    /// RAUC's status, tried [`START_ATTEMPTS`] times a second apart (its
    /// service may start after the core); empty if it never answers.
    async fn status_at_start(&self) -> RaucStatus {
        let mut attempt = 1;
        loop {
            match self.rauc.status().await {
                Ok(r) => return r,
                Err(e) if attempt >= START_ATTEMPTS => {
                    tracing::error!("cannot read the slots: {e}");
                    return RaucStatus::default();
                }
                Err(e) => tracing::debug!("RAUC's status, attempt {attempt}: {e}"),
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Records (once) that the bootloader gave up on slot `failed`.
    async fn record_rollback(&self, rauc: &RaucStatus, failed: &str) {
        let slot = rauc.by_bootname(failed);
        let Some(record) = history::rollback_record(
            &self.history.records(),
            failed,
            slot.and_then(|s| s.bundle_version.as_deref()),
            slot.and_then(|s| s.installed.as_deref()),
            unix_ms(),
        ) else {
            return;
        };
        tracing::warn!(
            slot = failed,
            "update to {} failed at {}: {}; the board is back on the previous slot",
            record.version.as_deref().unwrap_or("an unknown version"),
            history::utc_text(record.at_ms),
            record.reason.as_deref().unwrap_or("")
        );
        self.history.add(record).await;
    }
}

/// The booted slot: RAUC's `booted`, else `rauc.slot=` in /proc/cmdline.
async fn booted_slot(rauc: &RaucStatus) -> Option<String> {
    if let Some(b) = rauc.booted.clone().filter(|b| !b.is_empty()) {
        return Some(b);
    }
    let cmdline = tokio::fs::read_to_string("/proc/cmdline").await.ok()?;
    bootstate::booted_from_cmdline(&cmdline)
}

fn bootnames(rauc: &RaucStatus) -> Vec<String> {
    rauc.slots
        .iter()
        .filter_map(|s| s.bootname.clone())
        .collect()
}

fn slot_reports(rauc: &RaucStatus, boot: &BootState, booted: Option<&str>) -> Vec<SlotReport> {
    rauc.slots
        .iter()
        .map(|s| {
            let bootname = s.bootname.as_deref();
            SlotReport {
                slot: s.clone(),
                tries_left: bootname.and_then(|b| boot.tries_left(b)),
                booted: bootname.is_some() && bootname == booted,
                primary: bootname.is_some() && bootname == boot.order.first().map(String::as_str),
            }
        })
        .collect()
}

/// Why OTA cannot work on this system, if it cannot: disabled, no `rauc`
/// program, no RAUC system configuration, no download directory.
fn unavailable_reason(s: &OtaSettings) -> Option<String> {
    if !s.enabled {
        return Some("disabled in igloo.toml ([ota] enabled = false)".into());
    }
    if find_program(&s.rauc).is_none() {
        return Some(format!(
            "no `{}` program (RAUC is not installed here)",
            s.rauc.display()
        ));
    }
    if !s.system_conf.is_file() {
        return Some(format!(
            "no {} (this system has no RAUC slots: not an Igloo appliance image)",
            s.system_conf.display()
        ));
    }
    if let Err(e) = std::fs::create_dir_all(&s.download_dir) {
        return Some(format!(
            "cannot create download_dir {}: {e}",
            s.download_dir.display()
        ));
    }
    None
}

/// `program` if it is an executable file (given with a `/`), or the first
/// executable of that name in `PATH`.
fn find_program(program: &Path) -> Option<PathBuf> {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.components().count() > 1 || program.is_absolute() {
        return executable(program).then(|| program.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_without_rauc_or_its_config_is_unavailable_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let base = OtaSettings {
            download_dir: dir.path().join("ota"),
            rauc: PathBuf::from("igloo-no-such-rauc"),
            system_conf: dir.path().join("system.conf"),
            ..OtaSettings::default()
        };
        let off = OtaSettings {
            enabled: false,
            ..base.clone()
        };
        assert!(
            unavailable_reason(&off)
                .unwrap()
                .contains("enabled = false")
        );
        let why = unavailable_reason(&base).unwrap();
        assert!(why.starts_with("no `igloo-no-such-rauc` program"), "{why}");
        let with_rauc = OtaSettings {
            rauc: PathBuf::from("sh"),
            ..base.clone()
        };
        let why = unavailable_reason(&with_rauc).unwrap();
        assert!(why.contains("system.conf"), "{why}");
        std::fs::write(&with_rauc.system_conf, "[system]\n").unwrap();
        assert_eq!(unavailable_reason(&with_rauc), None);
        assert!(with_rauc.download_dir.is_dir());
    }

    #[test]
    fn programs_are_found_by_path_or_in_path() {
        assert!(find_program(Path::new("sh")).is_some());
        assert!(find_program(Path::new("/bin/sh")).is_some());
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("not-executable");
        std::fs::write(&plain, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(find_program(&plain), None);
        assert_eq!(find_program(dir.path()), None);
        assert_eq!(find_program(Path::new("igloo-no-such-program")), None);
    }
}
