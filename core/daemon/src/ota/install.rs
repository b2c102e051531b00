//! Installing a bundle, one at a time. A request claims the single install
//! slot (a second one gets [`InstallError::Busy`] naming what runs), the
//! bundle is brought onto the data partition (a path on the gateway is used
//! where it is; a URL is downloaded, an upload is received, both into
//! `download_dir`), `rauc install` runs, and the outcome is recorded in the
//! history. Progress (phase, percent, step) is published on a `watch`
//! channel (for `GET /api/v1/ota`) and as [`OtaEvent`]s on the event bus.
//! A downloaded or uploaded bundle is deleted afterwards, whatever the
//! outcome.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, watch};

use super::download::{self, DownloadError, shown_url};
use super::history::{History, Kind, Outcome, Record};
use super::rauc::Rauc;
use crate::events::Event;
use crate::supervisor::status::unix_ms;

/// Where a bundle comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A bundle already on the gateway (absolute path); left in place.
    Path(PathBuf),
    /// A bundle the gateway downloads (`http://`).
    Url(String),
    /// The body of the install request.
    Upload,
}

impl Source {
    /// How the source is shown (the API, the history, the log): a URL
    /// without credentials or query.
    pub fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Url(u) => shown_url(u),
            Source::Upload => "upload".to_string(),
        }
    }

    /// Whether the bundle is the core's own copy, deleted after the install.
    fn owned(&self) -> bool {
        !matches!(self, Source::Path(_))
    }
}

/// The phase of an install.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The bundle is being uploaded in the request.
    Receiving,
    /// The gateway downloads the bundle.
    Downloading,
    /// `rauc install` runs.
    Installing,
}

impl Phase {
    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Receiving => "receiving",
            Phase::Downloading => "downloading",
            Phase::Installing => "installing",
        }
    }
}

/// The install that runs, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallProgress {
    /// The install's id (unique across restarts).
    pub id: u64,
    /// [`Source::describe`].
    pub source: String,
    /// Its phase.
    pub phase: Phase,
    /// 0–100 within the phase.
    pub percent: u8,
    /// What happens now (RAUC's step, or bytes received).
    pub step: String,
    /// When it started, ms since the Unix epoch.
    pub started_at_ms: u64,
}

impl Display for InstallProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "install {} of {} ({} {}%: {})",
            self.id,
            self.source,
            self.phase.as_str(),
            self.percent,
            self.step
        )
    }
}

/// What the event bus carries about installs (`ota` events).
#[derive(Debug, Clone, PartialEq)]
pub enum OtaEvent {
    /// The running install moved on.
    Progress(InstallProgress),
    /// An install ended; its history record.
    Finished(Record),
}

/// An install that cannot be started.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// This system cannot be updated (no RAUC, disabled …).
    #[error("over-the-air updates are unavailable: {0}")]
    Unavailable(String),
    /// Another install runs.
    #[error("an install is already running: {0}")]
    Busy(Box<InstallProgress>),
    /// The request is wrong (no such file, not a URL …).
    #[error("{0}")]
    BadRequest(String),
    /// An upload without `Content-Length`.
    #[error("an uploaded bundle needs a Content-Length header (its size in bytes)")]
    LengthRequired,
    /// The bundle does not fit, or its file cannot be written.
    #[error(transparent)]
    Storage(DownloadError),
    /// The upload broke off or sent more than announced.
    #[error("{0}")]
    Upload(String),
}

/// Runs installs, one at a time.
#[derive(Clone)]
pub struct Installer {
    shared: Arc<Shared>,
}

struct Shared {
    rauc: Rauc,
    history: Arc<History>,
    download_dir: PathBuf,
    progress: watch::Sender<Option<InstallProgress>>,
    events: broadcast::Sender<Event>,
}

impl Installer {
    /// An installer storing bundles in `download_dir` and recording
    /// outcomes in `history`.
    pub fn new(
        rauc: Rauc,
        history: Arc<History>,
        download_dir: &Path,
        events: broadcast::Sender<Event>,
    ) -> Installer {
        let (progress, _) = watch::channel(None);
        Installer {
            shared: Arc::new(Shared {
                rauc,
                history,
                download_dir: download_dir.to_path_buf(),
                progress,
                events,
            }),
        }
    }

    /// The install that runs, if any.
    pub fn current(&self) -> Option<InstallProgress> {
        self.shared.progress.borrow().clone()
    }

    /// Takes the install slot for `source`.
    fn claim(&self, source: Source) -> Result<Claim, InstallError> {
        let id = self.shared.history.next_id();
        let progress = InstallProgress {
            id,
            source: source.describe(),
            phase: match source {
                Source::Upload => Phase::Receiving,
                Source::Url(_) => Phase::Downloading,
                Source::Path(_) => Phase::Installing,
            },
            percent: 0,
            step: "starting".to_string(),
            started_at_ms: unix_ms(),
        };
        let mut busy = None;
        self.shared.progress.send_if_modified(|p| match p {
            Some(running) => {
                busy = Some(Box::new(running.clone()));
                false
            }
            None => {
                *p = Some(progress);
                true
            }
        });
        if let Some(running) = busy {
            return Err(InstallError::Busy(running));
        }
        let bundle = match &source {
            Source::Path(p) => p.clone(),
            _ => self
                .shared
                .download_dir
                .join(format!("{BUNDLE_PREFIX}{id}{BUNDLE_SUFFIX}")),
        };
        Ok(Claim {
            reporter: Reporter {
                shared: self.shared.clone(),
                id,
            },
            source,
            bundle,
            finished: false,
        })
    }

    /// Starts installing a bundle on the gateway or at a URL in the
    /// background; returns its id.
    ///
    /// # Errors
    /// [`InstallError::BadRequest`] for a relative or missing path or a URL
    /// that is not `http://`; [`InstallError::Busy`].
    pub fn start(&self, source: Source) -> Result<u64, InstallError> {
        match &source {
            Source::Path(p) if !p.is_absolute() => {
                return Err(InstallError::BadRequest(format!(
                    "path {:?} must be absolute",
                    p.display().to_string()
                )));
            }
            Source::Path(p) if !p.is_file() => {
                return Err(InstallError::BadRequest(format!(
                    "{} is not a file on the gateway",
                    p.display()
                )));
            }
            Source::Url(u) if !u.starts_with("http://") => {
                return Err(InstallError::BadRequest(format!(
                    "url {:?}: only http:// URLs can be downloaded by the gateway (upload the file instead)",
                    shown_url(u)
                )));
            }
            Source::Upload => {
                return Err(InstallError::BadRequest(
                    "an upload is started by Installer::upload".into(),
                ));
            }
            _ => {}
        }
        let claim = self.claim(source)?;
        let id = claim.reporter.id;
        tokio::spawn(claim.run());
        Ok(id)
    }

    /// Receives an uploaded bundle of `len` bytes (the request's
    /// `Content-Length`) from `body` into `download_dir`, then starts
    /// installing it in the background; returns its id. The free space is
    /// checked before the first byte is written.
    ///
    /// # Errors
    /// [`InstallError::Busy`], [`InstallError::LengthRequired`],
    /// [`InstallError::Storage`] (no room, file error) and
    /// [`InstallError::Upload`] (the body broke off; recorded in the
    /// history).
    pub async fn upload<S, E>(&self, len: Option<u64>, body: S) -> Result<u64, InstallError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Display,
    {
        let mut claim = self.claim(Source::Upload)?;
        let len = len.ok_or(InstallError::LengthRequired)?;
        download::check_space(&self.shared.download_dir, len).map_err(InstallError::Storage)?;
        match claim.receive(len, body).await {
            Ok(()) => {
                let id = claim.reporter.id;
                tokio::spawn(claim.run());
                Ok(id)
            }
            Err(InstallError::Upload(reason)) => {
                claim.finish(Err(reason.clone())).await;
                Err(InstallError::Upload(reason))
            }
            Err(e) => Err(e),
        }
    }
}

/// Bundles in `download_dir` are `bundle-<id>.raucb`.
const BUNDLE_PREFIX: &str = "bundle-";
const BUNDLE_SUFFIX: &str = ".raucb";

/// Deletes bundles a previous run left in `dir` (a power cut during an
/// install); returns how many. Only this core's own file names.
pub fn remove_leftovers(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(BUNDLE_PREFIX) && n.ends_with(BUNDLE_SUFFIX))
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Publishes one install's progress.
#[derive(Clone)]
struct Reporter {
    shared: Arc<Shared>,
    id: u64,
}

impl Reporter {
    /// Sets phase, percent and step; an `ota` event when anything changed.
    fn set(&self, phase: Phase, percent: u8, step: impl Into<String>) {
        let step = step.into();
        let mut changed = None;
        self.shared.progress.send_if_modified(|p| match p {
            Some(p)
                if p.id == self.id
                    && (p.phase != phase || p.percent != percent || p.step != step) =>
            {
                p.phase = phase;
                p.percent = percent.min(100);
                p.step = step;
                changed = Some(p.clone());
                true
            }
            _ => false,
        });
        if let Some(p) = changed {
            // No receivers is normal.
            let _ = self
                .shared
                .events
                .send(Event::Ota(Arc::new(OtaEvent::Progress(p))));
        }
    }
}

/// The claimed install slot. Released by [`Claim::finish`]; a claim
/// dropped before that (a request refused before anything started, or an
/// upload whose client went away) releases the slot and deletes its file.
struct Claim {
    reporter: Reporter,
    source: Source,
    bundle: PathBuf,
    finished: bool,
}

impl Claim {
    /// Writes the request body to the bundle file.
    async fn receive<S, E>(&mut self, len: u64, mut body: S) -> Result<(), InstallError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Display,
    {
        let storage = |op, e| {
            InstallError::Storage(DownloadError::File(crate::fsutil::file_error(
                op,
                &self.bundle,
            )(e)))
        };
        let mut file = tokio::fs::File::create(&self.bundle)
            .await
            .map_err(|e| storage("cannot create", e))?;
        let mut have: u64 = 0;
        let mut shown = u8::MAX;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                InstallError::Upload(format!("upload stopped at {have} of {len} bytes: {e}"))
            })?;
            have += chunk.len() as u64;
            if have > len {
                return Err(InstallError::Upload(format!(
                    "the upload sent more than its Content-Length of {len} bytes"
                )));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| storage("cannot write", e))?;
            let percent = percent_of(have, Some(len));
            if percent != shown {
                shown = percent;
                self.reporter
                    .set(Phase::Receiving, percent, format!("{have} of {len} bytes"));
            }
        }
        if have < len {
            return Err(InstallError::Upload(format!(
                "upload stopped at {have} of {len} bytes"
            )));
        }
        file.sync_all()
            .await
            .map_err(|e| storage("cannot sync", e))?;
        Ok(())
    }

    /// Gets the bundle (downloads a URL) and installs it, then records the
    /// outcome.
    async fn run(mut self) {
        let result = self.fetch_and_install().await;
        self.finish(result).await;
    }

    async fn fetch_and_install(&self) -> Result<(), String> {
        if let Source::Url(url) = &self.source {
            let (url, dest, reporter) = (url.clone(), self.bundle.clone(), self.reporter.clone());
            reporter.set(Phase::Downloading, 0, "connecting");
            let fetched = tokio::task::spawn_blocking(move || {
                let mut shown = u8::MAX;
                download::download(&url, &dest, |have, total| {
                    let percent = percent_of(have, total);
                    if percent != shown {
                        shown = percent;
                        let of = total.map_or_else(String::new, |t| format!(" of {t}"));
                        reporter.set(Phase::Downloading, percent, format!("{have}{of} bytes"));
                    }
                })
            })
            .await;
            match fetched {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.to_string()),
                Err(e) => return Err(format!("the download task failed: {e}")),
            }
        }
        self.reporter
            .set(Phase::Installing, 0, "starting rauc install");
        let reporter = self.reporter.clone();
        self.reporter
            .shared
            .rauc
            .install(&self.bundle, |p| {
                reporter.set(Phase::Installing, p.percent, p.step);
            })
            .await
            .map_err(|e| e.message())
    }

    /// Records the outcome, deletes the core's copy of the bundle, frees
    /// the slot and sends the `finished` event.
    async fn finish(&mut self, result: Result<(), String>) {
        let shared = &self.reporter.shared;
        let started = shared.progress.borrow().as_ref().map(|p| p.started_at_ms);
        let mut record = Record::new(Kind::Install, unix_ms());
        record.id = Some(self.reporter.id);
        record.started_at_ms = started;
        record.source = Some(self.source.describe());
        match result {
            Ok(()) => {
                record.result = Some(Outcome::Installed);
                // RAUC made the installed slot the next one to boot.
                if let Ok(status) = shared.rauc.status().await
                    && let Some(slot) = status
                        .boot_primary
                        .as_deref()
                        .and_then(|p| status.by_name(p))
                {
                    record.slot = slot.bootname.clone();
                    record.version = slot.bundle_version.clone();
                    record.installed = slot.installed.clone();
                }
                tracing::info!(
                    install = self.reporter.id,
                    source = record.source.as_deref(),
                    slot = record.slot.as_deref(),
                    version = record.version.as_deref(),
                    "update installed; it runs after the next reboot"
                );
            }
            Err(reason) => {
                tracing::warn!(
                    install = self.reporter.id,
                    source = record.source.as_deref(),
                    "update not installed: {reason}"
                );
                record.result = Some(Outcome::Failed);
                record.reason = Some(reason);
            }
        }
        self.delete_bundle();
        shared.history.add(record.clone()).await;
        self.finished = true;
        shared.progress.send_replace(None);
        let _ = shared
            .events
            .send(Event::Ota(Arc::new(OtaEvent::Finished(record))));
    }

    fn delete_bundle(&self) {
        if self.source.owned()
            && let Err(e) = std::fs::remove_file(&self.bundle)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot delete {}: {e}", self.bundle.display());
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        tracing::debug!(
            install = self.reporter.id,
            "install request ended before the install started"
        );
        self.delete_bundle();
        let id = self.reporter.id;
        self.reporter.shared.progress.send_if_modified(|p| match p {
            Some(running) if running.id == id => {
                *p = None;
                true
            }
            _ => false,
        });
    }
}

/// `have` of `total` in percent (0 without a total).
fn percent_of(have: u64, total: Option<u64>) -> u8 {
    match total {
        Some(t) if t > 0 => (have.saturating_mul(100) / t).min(100) as u8,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_is_bounded_and_zero_without_a_size() {
        assert_eq!(percent_of(0, Some(10)), 0);
        assert_eq!(percent_of(5, Some(10)), 50);
        assert_eq!(percent_of(11, Some(10)), 100);
        assert_eq!(percent_of(5, None), 0);
        assert_eq!(percent_of(5, Some(0)), 0);
    }

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        assert_eq!(
            Source::Url("http://user:secret@example.org:8000/b/x.raucb?token=abc".into())
                .describe(),
            "http://example.org:8000/b/x.raucb"
        );
        assert_eq!(Source::Upload.describe(), "upload");
    }

    #[test]
    fn only_the_cores_own_bundle_files_are_removed_as_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "bundle-3.raucb",
            "bundle-4.raucb",
            "mine.raucb",
            "history.json",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(remove_leftovers(dir.path()), 2);
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["history.json", "mine.raucb"]);
    }

    fn installer(dir: &Path) -> (Installer, broadcast::Receiver<Event>) {
        let (events, rx) = broadcast::channel(64);
        let (history, _) = History::load(&dir.join("history.json"));
        let i = Installer::new(
            Rauc::new(Path::new("/nonexistent/rauc")),
            Arc::new(history),
            dir,
            events,
        );
        (i, rx)
    }

    #[tokio::test]
    async fn a_second_claim_is_busy_and_names_the_running_install() {
        let dir = tempfile::tempdir().unwrap();
        let (i, _rx) = installer(dir.path());
        let first = i.claim(Source::Url("http://h/a.raucb".into())).unwrap();
        first.reporter.set(Phase::Downloading, 40, "4 of 10 bytes");
        let Err(InstallError::Busy(running)) = i.claim(Source::Upload) else {
            panic!("a second install was not refused");
        };
        assert_eq!(
            InstallError::Busy(running).to_string(),
            "an install is already running: install 1 of http://h/a.raucb (downloading 40%: 4 of 10 bytes)"
        );
        drop(first);
        assert_eq!(i.current(), None);
        assert!(i.claim(Source::Upload).is_ok());
    }

    #[tokio::test]
    async fn an_upload_is_checked_stored_and_a_broken_one_is_recorded_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let (i, mut rx) = installer(dir.path());
        let none = futures::stream::empty::<Result<Bytes, std::io::Error>>();
        assert!(matches!(
            i.upload(None, none).await,
            Err(InstallError::LengthRequired)
        ));
        let huge = futures::stream::empty::<Result<Bytes, std::io::Error>>();
        assert!(matches!(
            i.upload(Some(u64::MAX / 2), huge).await,
            Err(InstallError::Storage(DownloadError::NoSpace { .. }))
        ));
        let broken = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"12345")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let e = i.upload(Some(10), broken).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "upload stopped at 5 of 10 bytes: connection reset"
        );
        assert_eq!(i.current(), None);
        assert!(!dir.path().join("bundle-1.raucb").exists());
        let records = i.shared.history.records();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].result, Some(Outcome::Failed));
        let mut finished = None;
        while let Ok(e) = rx.try_recv() {
            if let Event::Ota(e) = e
                && let OtaEvent::Finished(r) = &*e
            {
                finished = Some(r.clone());
            }
        }
        assert_eq!(finished.map(|r| r.id), Some(Some(1)));
    }
}
