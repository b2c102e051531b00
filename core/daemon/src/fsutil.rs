//! Files the core keeps on the data partition that must survive a power cut
//! whole: written to a temporary name next to the target, fsynced, renamed
//! over it, and the directory fsynced, so a reader finds either the old or
//! the new contents, never a torn file. Used by `versions` (provider version
//! selections), `ota` (the install and rollback history) and, created 0600,
//! `auth` (the setup code) and the CLI (its stored tokens).

use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed file operation: what was being done, where, and the error.
#[derive(Debug, thiserror::Error)]
#[error("{op} {}: {source}", path.display())]
pub struct FileError {
    /// What was being done (`cannot write`, `cannot rename to` …).
    pub op: &'static str,
    /// Where.
    pub path: PathBuf,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

/// A closure that turns an `io::Error` into a [`FileError`] for `op` on `path`.
pub fn file_error(
    op: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> FileError + use<> {
    let path = path.to_path_buf();
    move |source| FileError { op, path, source }
}

/// Replaces `path` with `bytes` atomically: writes `<path>.tmp`, fsyncs it,
/// renames it over `path` and fsyncs the directory. The directory must
/// exist. Blocking file I/O: call it off the async runtime.
///
/// # Errors
/// [`FileError`] naming the step and the file; `path` is then unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_with_mode(path, bytes, 0o644)
}

/// [`write_atomic`] for a secret: the file is created with mode 0600, so
/// its contents are never readable by others, not even for a moment.
///
/// # Errors
/// As [`write_atomic`].
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_with_mode(path, bytes, 0o600)
}

fn write_with_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover temp file may have another mode: start afresh.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(file_error("cannot create", &tmp))?;
    f.write_all(bytes)
        .map_err(file_error("cannot write", &tmp))?;
    f.sync_all().map_err(file_error("cannot sync", &tmp))?;
    std::fs::rename(&tmp, path).map_err(file_error("cannot rename to", path))?;
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => sync_dir(dir),
        None => sync_dir(Path::new(".")),
    }
}

/// Fsyncs directory `dir`, so a rename or a new entry in it is durable.
///
/// # Errors
/// [`FileError`] when it cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_error("cannot sync", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["state.json"]);
    }

    #[test]
    fn write_atomic_into_a_missing_directory_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone/state.json");
        let e = write_atomic(&path, b"x").unwrap_err();
        assert_eq!(e.op, "cannot create");
        assert!(e.to_string().contains("gone/state.json.tmp"), "{e}");
    }
}
