//! `[logs]`: the core's log files on the data partition
//! (docs/configuration.md#logs).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A key's error: its span in the file and the message.
pub type KeyError = Spanned<String>;

/// Smallest `max_file_bytes` accepted (4 KiB): smaller files would rotate
/// on every batch.
pub const MIN_FILE_BYTES: u64 = 4 << 10;
/// Largest `max_file_bytes` accepted (256 MiB).
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Largest `files` accepted.
pub const MAX_FILES: u32 = 100;
/// Shortest `flush_ms` accepted: below it the batching would not spare the card.
pub const MIN_FLUSH_MS: u64 = 50;
/// Longest `flush_ms` accepted (one minute of lines lost at a power cut).
pub const MAX_FLUSH_MS: u64 = 60_000;

/// `[logs]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `enabled = true`: whether the core writes its log to files at all.
    pub enabled: bool,
    /// `dir`: where `igloo.log` and its rotated files are (default
    /// `<data_dir>/logs`; relative to the config file's directory).
    pub dir: PathBuf,
    /// `max_file_bytes = 1048576`: `igloo.log` is rotated before it would
    /// grow past this many bytes (a single longer line is written whole).
    pub max_file_bytes: u64,
    /// `files = 5`: rotated files kept (`igloo.log.1` … `igloo.log.N`);
    /// the oldest is dropped. 0 keeps only `igloo.log` (truncated at rotation).
    pub files: u32,
    /// `flush_ms = 2000`: how long lines wait in memory before they are
    /// written in one batch (sooner when the batch passes
    /// [`super::writer::FLUSH_BYTES`]).
    pub flush: Duration,
}

impl LogSettings {
    /// The defaults for a core whose `[core] data_dir` is `data_dir`.
    pub fn defaults(data_dir: &Path) -> LogSettings {
        LogSettings {
            enabled: true,
            dir: data_dir.join("logs"),
            max_file_bytes: 1 << 20,
            files: 5,
            flush: Duration::from_millis(2000),
        }
    }
}

/// `[logs]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawLogs {
    enabled: Option<bool>,
    dir: Option<String>,
    max_file_bytes: Option<Spanned<u64>>,
    files: Option<Spanned<u32>>,
    flush_ms: Option<Spanned<u64>>,
}

impl LogSettings {
    /// Checks `raw`; `data_dir` is `[core] data_dir` (the default `dir` is
    /// under it), `base` the config file's directory (a relative `dir` is
    /// relative to it).
    ///
    /// # Errors
    /// `max_file_bytes`, `files` or `flush_ms` outside its range, or an
    /// empty `dir`, naming the key, with its span.
    pub fn from_raw(raw: RawLogs, data_dir: &Path, base: &Path) -> Result<LogSettings, KeyError> {
        let mut s = LogSettings::defaults(data_dir);
        if let Some(e) = raw.enabled {
            s.enabled = e;
        }
        if let Some(dir) = raw.dir {
            if dir.is_empty() {
                return Err(Spanned::new(0..0, "[logs] dir must not be empty".into()));
            }
            let p = PathBuf::from(dir);
            s.dir = if p.is_absolute() { p } else { base.join(p) };
        }
        if let Some(m) = raw.max_file_bytes {
            s.max_file_bytes = in_range(m, "max_file_bytes", MIN_FILE_BYTES, MAX_FILE_BYTES)?;
        }
        if let Some(f) = raw.files {
            s.files = in_range(f, "files", 0, MAX_FILES)?;
        }
        if let Some(f) = raw.flush_ms {
            s.flush = Duration::from_millis(in_range(f, "flush_ms", MIN_FLUSH_MS, MAX_FLUSH_MS)?);
        }
        Ok(s)
    }
}

fn in_range<T: PartialOrd + Copy + std::fmt::Display>(
    v: Spanned<T>,
    key: &str,
    min: T,
    max: T,
) -> Result<T, KeyError> {
    let x = *v.get_ref();
    if x < min || x > max {
        return Err(Spanned::new(
            v.span(),
            format!("[logs] {key} {x} is outside {min}..={max}"),
        ));
    }
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LogSettings, String> {
        let raw: RawLogs = toml::from_str(text).map_err(|e| e.to_string())?;
        LogSettings::from_raw(raw, Path::new("/data"), Path::new("/etc/igloo"))
            .map_err(Spanned::into_inner)
    }

    #[test]
    fn defaults_are_under_the_data_dir() {
        let s = parse("").unwrap();
        assert_eq!(s, LogSettings::defaults(Path::new("/data")));
        assert_eq!(s.dir, Path::new("/data/logs"));
        assert!(s.enabled);
    }

    #[test]
    fn relative_dirs_follow_the_config_file() {
        assert_eq!(
            parse("dir = \"logs\"").unwrap().dir,
            Path::new("/etc/igloo/logs")
        );
        assert_eq!(
            parse("dir = \"/var/log/igloo\"").unwrap().dir,
            Path::new("/var/log/igloo")
        );
        assert!(parse("dir = \"\"").unwrap_err().contains("dir"));
    }

    #[test]
    fn ranges_are_checked_and_name_the_key() {
        let s = parse("max_file_bytes = 8192\nfiles = 2\nflush_ms = 100\nenabled = false").unwrap();
        assert_eq!((s.max_file_bytes, s.files), (8192, 2));
        assert_eq!(s.flush, Duration::from_millis(100));
        assert!(!s.enabled);
        for (bad, key) in [
            ("max_file_bytes = 100", "max_file_bytes"),
            ("max_file_bytes = 1000000000000", "max_file_bytes"),
            ("files = 101", "files"),
            ("flush_ms = 10", "flush_ms"),
            ("flush_ms = 600000", "flush_ms"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(key) && e.contains("outside"), "{bad}: {e}");
        }
    }
}
