//! What happened to updates, kept on the data partition so it survives
//! every reboot, update and rollback: `<download_dir>/history.json`, the
//! last [`KEEP`] [`Record`]s (installs, failed health checks, rollbacks),
//! oldest first, written atomically ([`crate::fsutil::write_atomic`]).
//!
//! Cores of different versions share this file (an update runs a newer
//! core on it, a rollback an older one), so its format only grows
//! (docs/compatibility.md#data-on-the-gateway): a newer core may add fields
//! and record kinds, never change what an existing field means. An older
//! core keeps what it does not know: unknown fields of the file and of each
//! record are carried through a rewrite ([`Record::extra`]), unknown kinds
//! and results are kept as their text.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::fsutil::{self, FileError};

/// The file's name inside `download_dir`.
pub const FILE_NAME: &str = "history.json";
/// Records kept; older ones are dropped when a new one is added.
pub const KEEP: usize = 10;
/// The reason of a rollback when the failed slot's core left none.
pub const NEVER_REPORTED: &str = "its core never reported (it did not start)";

/// What a [`Record`] is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Kind {
    /// `install`: a bundle was installed (or failed to be).
    Install,
    /// `health_check_failed`: a boot that waited to be marked good was not
    /// healthy in time; the core rebooted.
    HealthCheckFailed,
    /// `rollback`: the bootloader gave up on an updated slot and booted
    /// the previous one.
    Rollback,
    /// A kind written by a newer core, kept as its text.
    Other(String),
}

impl Kind {
    /// The name in the file and the API.
    pub fn as_str(&self) -> &str {
        match self {
            Kind::Install => "install",
            Kind::HealthCheckFailed => "health_check_failed",
            Kind::Rollback => "rollback",
            Kind::Other(s) => s,
        }
    }
}

impl From<String> for Kind {
    fn from(s: String) -> Kind {
        match s.as_str() {
            "install" => Kind::Install,
            "health_check_failed" => Kind::HealthCheckFailed,
            "rollback" => Kind::Rollback,
            _ => Kind::Other(s),
        }
    }
}

impl From<Kind> for String {
    fn from(k: Kind) -> String {
        k.as_str().to_string()
    }
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Outcome {
    /// `installed`: the bundle is in the other slot, which boots next.
    Installed,
    /// `failed`: an install or a boot's health check failed.
    Failed,
    /// `rolled_back`: the bootloader gave up on the updated slot.
    RolledBack,
    /// A result written by a newer core, kept as its text.
    Other(String),
}

impl Outcome {
    /// The name in the file and the API.
    pub fn as_str(&self) -> &str {
        match self {
            Outcome::Installed => "installed",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled_back",
            Outcome::Other(s) => s,
        }
    }
}

impl From<String> for Outcome {
    fn from(s: String) -> Outcome {
        match s.as_str() {
            "installed" => Outcome::Installed,
            "failed" => Outcome::Failed,
            "rolled_back" => Outcome::RolledBack,
            _ => Outcome::Other(s),
        }
    }
}

impl From<Outcome> for String {
    fn from(o: Outcome) -> String {
        o.as_str().to_string()
    }
}

/// One entry of the history. Every field but `kind` may be missing in the
/// file (a record of another kind, or of another core version).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// What it is about.
    pub kind: Kind,
    /// The install's id (`install` only; also in the API's answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// When it ended (install) or happened, milliseconds since the Unix
    /// epoch by the gateway's clock.
    #[serde(default)]
    pub at_ms: u64,
    /// When an install started, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_ms: Option<u64>,
    /// Where an install's bundle came from (a path, a URL, `upload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Outcome>,
    /// Why it failed, in the words of whoever found out (RAUC, the
    /// download, the health check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The bundle version involved: the installed one, the one whose boot
    /// failed, the one rolled back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The bootname of the slot involved (`B`): installed into, booted,
    /// given up on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// RAUC's install time of that slot's bundle (rollbacks: which
    /// install failed, so it is reported once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// Fields this core does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Record {
    /// A record of `kind` at `at_ms` with nothing else set.
    pub fn new(kind: Kind, at_ms: u64) -> Record {
        Record {
            kind,
            id: None,
            at_ms,
            started_at_ms: None,
            source: None,
            result: None,
            reason: None,
            version: None,
            slot: None,
            installed: None,
            extra: Map::new(),
        }
    }
}

/// The file as a whole.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct HistoryFile {
    #[serde(default)]
    records: Vec<Record>,
    /// The highest install id handed out (records may have been dropped).
    #[serde(default)]
    last_id: u64,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// The history file and its contents in memory. Blocking file I/O: call
/// [`History::append`] off the async runtime (or use [`History::add`]).
#[derive(Debug)]
pub struct History {
    path: PathBuf,
    file: Mutex<HistoryFile>,
}

impl History {
    /// Reads `path`. A missing file is an empty history; a damaged one is
    /// renamed to `<path>.damaged` and the history starts empty, with a
    /// warning to log (the second value).
    pub fn load(path: &Path) -> (History, Option<String>) {
        let (file, warning) = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<HistoryFile>(&bytes) {
                Ok(f) => (f, None),
                Err(e) => {
                    let mut aside = path.as_os_str().to_owned();
                    aside.push(".damaged");
                    let moved = std::fs::rename(path, &aside)
                        .map(|()| format!("; moved to {}", Path::new(&aside).display()))
                        .unwrap_or_default();
                    let warning = format!(
                        "{} is damaged ({e}){moved}; starting an empty update history",
                        path.display()
                    );
                    (HistoryFile::default(), Some(warning))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (HistoryFile::default(), None),
            Err(e) => (
                HistoryFile::default(),
                Some(format!(
                    "cannot read {}: {e}; the update history starts empty",
                    path.display()
                )),
            ),
        };
        let history = History {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        (history, warning)
    }

    fn lock(&self) -> MutexGuard<'_, HistoryFile> {
        // A panic while holding the lock left a consistent value (every
        // change is one assignment); keep using it.
        self.file
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every record, oldest first.
    pub fn records(&self) -> Vec<Record> {
        self.lock().records.clone()
    }

    /// One more than the highest install id ever recorded (1 for none), so
    /// ids stay unique across restarts.
    pub fn next_id(&self) -> u64 {
        let file = self.lock();
        let recorded = file.records.iter().filter_map(|r| r.id).max();
        recorded.unwrap_or(0).max(file.last_id).saturating_add(1)
    }

    /// Adds `record` (dropping the oldest beyond [`KEEP`]) and writes the
    /// file atomically before returning. Blocking.
    ///
    /// # Errors
    /// [`FileError`]; the record is then kept in memory only.
    pub fn append(&self, record: Record) -> Result<(), FileError> {
        let text = {
            let mut file = self.lock();
            if let Some(id) = record.id {
                file.last_id = file.last_id.max(id);
            }
            file.records.push(record);
            let excess = file.records.len().saturating_sub(KEEP);
            file.records.drain(..excess);
            serde_json::to_vec_pretty(&*file).map_err(|e| FileError {
                op: "cannot encode",
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?
        };
        fsutil::write_atomic(&self.path, &text)
    }

    /// [`History::append`] on the blocking pool; a write error is logged
    /// (the record stays in memory and in the API).
    pub async fn add(self: &Arc<Self>, record: Record) {
        let me = self.clone();
        let done = tokio::task::spawn_blocking(move || me.append(record)).await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("update history: {e}"),
            Err(e) => tracing::error!("update history: the write task failed: {e}"),
        }
    }
}

/// The rollback to record, if the bootloader gave up on slot `failed`
/// (see [`super::bootstate::BootState::failed_primary`]) and that was not
/// recorded yet. `version` and `installed` are what RAUC says of that slot.
///
/// The reason is the last `health_check_failed` record the failing slot's
/// core wrote since that slot was last installed or rolled back from;
/// without one, [`NEVER_REPORTED`]. The record's time is that failure's,
/// else `now_ms`.
pub fn rollback_record(
    records: &[Record],
    failed: &str,
    version: Option<&str>,
    installed: Option<&str>,
    now_ms: u64,
) -> Option<Record> {
    let about_slot = |r: &&Record| r.slot.as_deref() == Some(failed);
    let known = records.iter().filter(about_slot).any(|r| {
        r.kind == Kind::Rollback
            && r.installed.as_deref() == installed
            && r.version.as_deref() == version
    });
    if known {
        return None;
    }
    let report = records
        .iter()
        .rev()
        .filter(about_slot)
        .take_while(|r| match r.kind {
            Kind::Rollback => false,
            Kind::Install => r.result != Some(Outcome::Installed),
            _ => true,
        })
        .find(|r| r.kind == Kind::HealthCheckFailed);
    let mut r = Record::new(Kind::Rollback, report.map_or(now_ms, |f| f.at_ms));
    r.result = Some(Outcome::RolledBack);
    r.slot = Some(failed.to_string());
    r.version = version.map(ToString::to_string);
    r.installed = installed.map(ToString::to_string);
    r.reason = Some(
        report
            .and_then(|f| f.reason.clone())
            .unwrap_or_else(|| NEVER_REPORTED.to_string()),
    );
    Some(r)
}

/// `at_ms` (ms since the Unix epoch) as UTC text, `2025-01-02T03:04:05Z`.
pub fn utc_text(at_ms: u64) -> String {
    let secs = at_ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// (year, month, day) of `days` since 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's days-to-civil algorithm, unsigned for dates after 1970).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(slot: &str, at_ms: u64, reason: &str) -> Record {
        let mut r = Record::new(Kind::HealthCheckFailed, at_ms);
        r.slot = Some(slot.into());
        r.result = Some(Outcome::Failed);
        r.reason = Some(reason.into());
        r
    }

    fn install(slot: &str, at_ms: u64, ok: bool) -> Record {
        let mut r = Record::new(Kind::Install, at_ms);
        r.slot = Some(slot.into());
        r.result = Some(if ok {
            Outcome::Installed
        } else {
            Outcome::Failed
        });
        r
    }

    #[test]
    fn appending_keeps_the_last_ten_and_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (h, warning) = History::load(&path);
        assert_eq!(warning, None);
        assert_eq!(h.next_id(), 1);
        for i in 0..12u64 {
            let mut r = install("B", i, true);
            r.id = Some(i + 1);
            h.append(r).unwrap();
        }
        let (again, warning) = History::load(&path);
        assert_eq!(warning, None);
        let ids: Vec<_> = again.records().iter().filter_map(|r| r.id).collect();
        assert_eq!(ids, (3..=12).collect::<Vec<_>>());
        assert_eq!(again.next_id(), 13);
    }

    #[test]
    fn fields_and_kinds_from_a_newer_core_are_read_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            r#"{"records":[
                {"kind":"install","id":4,"at_ms":5,"result":"installed","signer":"ca-2","phases":[1,2]},
                {"kind":"factory_reset","at_ms":6,"result":"partial"}
               ],
               "schema_note":"from a newer core"}"#,
        )
        .unwrap();
        let (h, warning) = History::load(&path);
        assert_eq!(warning, None);
        let records = h.records();
        assert_eq!(records[0].kind, Kind::Install);
        assert_eq!(records[0].id, Some(4));
        assert_eq!(records[0].extra["signer"], "ca-2");
        assert_eq!(records[1].kind, Kind::Other("factory_reset".into()));
        assert_eq!(records[1].result, Some(Outcome::Other("partial".into())));
        h.append(failure("B", 7, "x")).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(written["schema_note"], "from a newer core");
        assert_eq!(written["records"][0]["phases"], serde_json::json!([1, 2]));
        assert_eq!(written["records"][1]["kind"], "factory_reset");
        assert_eq!(written["records"][1]["result"], "partial");
        assert_eq!(written["records"][2]["kind"], "health_check_failed");
    }

    #[test]
    fn a_damaged_file_is_set_aside_and_the_history_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{\"records\": [").unwrap();
        let (h, warning) = History::load(&path);
        let warning = warning.unwrap();
        assert!(warning.contains("is damaged"), "{warning}");
        assert!(h.records().is_empty());
        assert!(dir.path().join("history.json.damaged").is_file());
        assert!(!path.exists());
    }

    #[test]
    fn a_rollback_takes_the_reason_the_failing_boots_wrote_since_the_install() {
        let records = [
            failure("B", 1, "old failure before the install"),
            install("B", 2, true),
            failure("B", 3, "provider \"mqtt\" is backoff"),
            failure("A", 4, "about the other slot"),
            failure("B", 5, "provider \"mqtt\" is starting"),
        ];
        let r = rollback_record(
            &records,
            "B",
            Some("0.3.0"),
            Some("2025-01-02T03:04:05Z"),
            99,
        )
        .unwrap();
        assert_eq!(r.kind, Kind::Rollback);
        assert_eq!(r.reason.as_deref(), Some("provider \"mqtt\" is starting"));
        assert_eq!(r.at_ms, 5);
        assert_eq!(r.version.as_deref(), Some("0.3.0"));
        assert_eq!(r.slot.as_deref(), Some("B"));
    }

    #[test]
    fn a_rollback_without_reports_says_the_core_never_reported_and_is_recorded_once() {
        let records = vec![failure("B", 1, "before the install"), install("B", 2, true)];
        let r = rollback_record(&records, "B", Some("0.3.0"), Some("t1"), 99).unwrap();
        assert_eq!(r.reason.as_deref(), Some(NEVER_REPORTED));
        assert_eq!(r.at_ms, 99);
        let mut with = records.clone();
        with.push(r);
        assert_eq!(
            rollback_record(&with, "B", Some("0.3.0"), Some("t1"), 100),
            None
        );
        // A later install into the same slot that fails again is a new rollback.
        with.push(install("B", 101, true));
        let again = rollback_record(&with, "B", Some("0.3.1"), Some("t2"), 102).unwrap();
        assert_eq!(again.reason.as_deref(), Some(NEVER_REPORTED));
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(utc_text(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_text(1_735_787_045_000), "2025-01-02T03:04:05Z");
        assert_eq!(utc_text(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
