//! Provider versions installed side by side, and which one runs (rolling
//! updates, docs/compatibility.md).
//!
//! Layout under `[core] versions_dir` (default `<data_dir>/provider-versions`):
//!
//! ```text
//! <versions_dir>/<provider>/<version>/<executable>   one directory per version
//! <versions_dir>/<provider>/.selection.json          which version runs, and the one before
//! ```
//!
//! `<executable>` has the file name of the provider's configured `exec`. The
//! tree is owned by the core and not writable by any provider (the providers'
//! own data dirs live elsewhere), so a provider can never plant its next
//! version. A version label is 1–64 characters of `A-Z a-z 0-9 . _ + -` not
//! starting with `.`; without one, an install is labelled `sha256-` and the
//! first 12 hex digits of the executable's SHA-256. Installing the same bytes
//! under the same label again is a no-op; other bytes under a taken label are
//! refused. Every write goes to a temporary name, is fsynced and renamed, so a
//! power cut leaves either the old or the new state, never a torn one.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil;

/// The label of the executable named by the config's `exec` (not installed
/// under `versions_dir`).
pub const CONFIGURED: &str = "configured";
/// Name of the selection file inside a provider's versions dir.
const SELECTION: &str = ".selection.json";

/// One runnable version of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// [`CONFIGURED`] or the directory name under the provider's versions dir.
    pub label: String,
    /// Absolute path of the executable.
    pub exec: PathBuf,
}

/// Which version runs, persisted in `.selection.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// The config's `exec` when this selection was made. When the config now
    /// names another executable, the operator changed it on purpose and the
    /// config wins (the selection is ignored).
    pub configured_exec: PathBuf,
    /// The version to run.
    pub active: Version,
    /// The version that ran before `active`; the fallback while on trial.
    pub previous: Option<Version>,
    /// `active` is a new version still on trial (the core stopped during its
    /// window): the trial starts again at the next start.
    pub trial: bool,
}

/// A failed version operation; the message says what and where.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The label breaks the naming rule.
    #[error(
        "version label {0:?} is not valid: use 1-64 characters of A-Z a-z 0-9 . _ + - not starting with '.' (and not \"configured\")"
    )]
    Label(String),
    /// No such installed version.
    #[error("provider {provider:?} has no installed version {label:?} (installed: {installed})")]
    NotInstalled {
        /// Provider name.
        provider: String,
        /// The requested label.
        label: String,
        /// Installed labels, comma-separated, or `none`.
        installed: String,
    },
    /// The label is taken by different bytes.
    #[error(
        "provider {provider:?} already has a version {label:?} with different contents; choose another label"
    )]
    Exists {
        /// Provider name.
        provider: String,
        /// The label.
        label: String,
    },
    /// The file to install is unusable.
    #[error("cannot install {}: {why}", path.display())]
    Source {
        /// The path given.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A filesystem operation under `versions_dir` failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `.selection.json` does not parse.
    #[error("{} is damaged ({why}); running the configured executable", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The parse error.
        why: String,
    },
}

fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VersionError + use<> {
    let path = path.to_path_buf();
    move |source| VersionError::Io { op, path, source }
}

/// Whether `label` may name a version directory.
pub fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && !label.starts_with('.')
        && label != CONFIGURED
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
}

/// The versions of one provider.
#[derive(Debug)]
pub struct Versions {
    provider: String,
    dir: PathBuf,
    exe_name: OsString,
    configured: PathBuf,
}

impl Versions {
    /// The versions of `provider` under `versions_dir`; `configured_exec` is
    /// the config's `exec` (its file name names the executable in every version).
    pub fn new(versions_dir: &Path, provider: &str, configured_exec: &Path) -> Versions {
        Versions {
            provider: provider.to_string(),
            dir: versions_dir.join(provider),
            exe_name: configured_exec
                .file_name()
                .map_or_else(|| OsString::from(provider), ToOwned::to_owned),
            configured: configured_exec.to_path_buf(),
        }
    }

    /// The executable from the config, as a [`Version`] labelled [`CONFIGURED`].
    pub fn configured(&self) -> Version {
        Version {
            label: CONFIGURED.to_string(),
            exec: self.configured.clone(),
        }
    }

    /// The selection to start with: the saved one when it is for today's
    /// configured `exec` and its executable exists, else the configured one.
    /// The second value explains a saved selection that was set aside.
    pub fn initial(&self) -> (Selection, Option<String>) {
        let fresh = Selection {
            configured_exec: self.configured.clone(),
            active: self.configured(),
            previous: None,
            trial: false,
        };
        match self.load() {
            Ok(None) => (fresh, None),
            Ok(Some(s)) if s.configured_exec != self.configured => {
                let why = format!(
                    "the config's exec changed from {} to {}: running the configured executable instead of version {:?}",
                    s.configured_exec.display(),
                    self.configured.display(),
                    s.active.label
                );
                (fresh, Some(why))
            }
            Ok(Some(s)) if !s.active.exec.is_file() => {
                let why = format!(
                    "version {:?} ({}) is gone: running the configured executable",
                    s.active.label,
                    s.active.exec.display()
                );
                (fresh, Some(why))
            }
            Ok(Some(s)) => (s, None),
            Err(e) => (fresh, Some(e.to_string())),
        }
    }

    fn selection_path(&self) -> PathBuf {
        self.dir.join(SELECTION)
    }

    /// The saved selection, if any.
    ///
    /// # Errors
    /// [`VersionError::Io`] when it cannot be read, [`VersionError::Damaged`] when it does not parse.
    pub fn load(&self) -> Result<Option<Selection>, VersionError> {
        let path = self.selection_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("cannot read", &path)(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| VersionError::Damaged {
                path,
                why: e.to_string(),
            })
    }

    /// Saves `sel` atomically (temporary file, fsync, rename, fsync of the dir).
    ///
    /// # Errors
    /// [`VersionError::Io`].
    pub fn save(&self, sel: &Selection) -> Result<(), VersionError> {
        self.ensure_dir()?;
        let path = self.selection_path();
        let text = serde_json::to_vec_pretty(sel).map_err(|e| VersionError::Io {
            op: "cannot encode",
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        Ok(fsutil::write_atomic(&path, &text)?)
    }

    /// Installed labels, sorted.
    pub fn installed(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| valid_label(n) && self.dir.join(n).join(&self.exe_name).is_file())
            .collect();
        out.sort();
        out
    }

    /// The installed version `label` ([`CONFIGURED`] names the config's `exec`).
    ///
    /// # Errors
    /// [`VersionError::Label`] or [`VersionError::NotInstalled`].
    pub fn get(&self, label: &str) -> Result<Version, VersionError> {
        if label == CONFIGURED {
            return Ok(self.configured());
        }
        if !valid_label(label) {
            return Err(VersionError::Label(label.to_string()));
        }
        let exec = self.dir.join(label).join(&self.exe_name);
        if exec.is_file() {
            Ok(Version {
                label: label.to_string(),
                exec,
            })
        } else {
            let installed = self.installed();
            Err(VersionError::NotInstalled {
                provider: self.provider.clone(),
                label: label.to_string(),
                installed: if installed.is_empty() {
                    "none".to_string()
                } else {
                    installed.join(", ")
                },
            })
        }
    }

    /// Copies the executable `src` in as version `label` (default: from its
    /// SHA-256). Blocking file I/O: call it off the async runtime.
    ///
    /// # Errors
    /// [`VersionError::Source`] (missing, not a regular file, unreadable),
    /// [`VersionError::Label`], [`VersionError::Exists`], [`VersionError::Io`].
    pub fn install(&self, src: &Path, label: Option<&str>) -> Result<Version, VersionError> {
        let source = |why: String| VersionError::Source {
            path: src.to_path_buf(),
            why,
        };
        if !src.is_absolute() {
            return Err(source("the path must be absolute".into()));
        }
        let meta = std::fs::metadata(src).map_err(|e| source(e.to_string()))?;
        if !meta.is_file() {
            return Err(source("not a regular file".into()));
        }
        let bytes = std::fs::read(src).map_err(|e| source(e.to_string()))?;
        let digest = sha256_hex(&bytes);
        let label = match label {
            Some(l) if valid_label(l) => l.to_string(),
            Some(l) => return Err(VersionError::Label(l.to_string())),
            None => format!("sha256-{}", &digest[..12]),
        };
        let target = self.dir.join(&label);
        let exec = target.join(&self.exe_name);
        if target.exists() {
            return match std::fs::read(&exec) {
                Ok(old) if sha256_hex(&old) == digest => Ok(Version { label, exec }),
                _ => Err(VersionError::Exists {
                    provider: self.provider.clone(),
                    label,
                }),
            };
        }
        self.ensure_dir()?;
        let staging = self.dir.join(format!(
            ".incoming-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let result = (|| {
            make_dir(&staging)?;
            let file = staging.join(&self.exe_name);
            let mut f = std::fs::File::create(&file).map_err(io("cannot create", &file))?;
            f.write_all(&bytes).map_err(io("cannot write", &file))?;
            f.set_permissions(std::fs::Permissions::from_mode(0o755))
                .map_err(io("cannot chmod", &file))?;
            f.sync_all().map_err(io("cannot sync", &file))?;
            sync_dir(&staging)?;
            std::fs::rename(&staging, &target).map_err(io("cannot rename to", &target))?;
            sync_dir(&self.dir)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result.map(|()| Version { label, exec })
    }

    fn ensure_dir(&self) -> Result<(), VersionError> {
        if let Some(root) = self.dir.parent() {
            make_dir(root)?;
        }
        make_dir(&self.dir)
    }
}

/// Creates `dir` (0755) if missing, and its missing parents.
fn make_dir(dir: &Path) -> Result<(), VersionError> {
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) => Err(io("cannot create", dir)(e)),
    }
}

fn sync_dir(dir: &Path) -> Result<(), VersionError> {
    Ok(fsutil::sync_dir(dir)?)
}

impl From<fsutil::FileError> for VersionError {
    fn from(e: fsutil::FileError) -> VersionError {
        VersionError::Io {
            op: e.op,
            path: e.path,
            source: e.source,
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Versions, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let configured = dir.path().join("bin/igloo-mqtt");
        std::fs::create_dir_all(configured.parent().unwrap()).unwrap();
        std::fs::write(&configured, b"v1").unwrap();
        let v = Versions::new(&dir.path().join("versions"), "mqtt", &configured);
        (dir, v, configured)
    }

    #[test]
    fn install_names_by_label_or_digest_and_refuses_other_bytes_under_a_taken_label() {
        let (dir, v, _) = setup();
        let new = dir.path().join("new");
        std::fs::write(&new, b"v2").unwrap();
        let a = v.install(&new, Some("0.2.0")).unwrap();
        assert_eq!(a.label, "0.2.0");
        assert_eq!(a.exec, dir.path().join("versions/mqtt/0.2.0/igloo-mqtt"));
        assert_eq!(std::fs::read(&a.exec).unwrap(), b"v2");
        let mode = std::fs::metadata(&a.exec).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        // Same bytes again: the same version.
        assert_eq!(v.install(&new, Some("0.2.0")).unwrap(), a);
        // Other bytes under the taken label: refused, the installed file kept.
        let other = dir.path().join("other");
        std::fs::write(&other, b"v3").unwrap();
        let e = v.install(&other, Some("0.2.0")).unwrap_err();
        assert!(
            e.to_string().contains("already has a version \"0.2.0\""),
            "{e}"
        );
        assert_eq!(std::fs::read(&a.exec).unwrap(), b"v2");
        // No label: named from the digest.
        let d = v.install(&other, None).unwrap();
        assert!(
            d.label.starts_with("sha256-") && d.label.len() == 19,
            "{}",
            d.label
        );
        assert_eq!(v.installed(), vec!["0.2.0".to_string(), d.label.clone()]);
        assert_eq!(v.get("0.2.0").unwrap(), a);
        assert_eq!(v.get(CONFIGURED).unwrap(), v.configured());
        let e = v.get("9.9").unwrap_err().to_string();
        assert!(
            e.contains("no installed version \"9.9\"") && e.contains("0.2.0"),
            "{e}"
        );
    }

    #[test]
    fn bad_labels_and_sources_are_refused() {
        let (dir, v, _) = setup();
        let new = dir.path().join("new");
        std::fs::write(&new, b"v2").unwrap();
        for bad in ["", ".hidden", "a/b", "..", "configured", &"x".repeat(65)] {
            assert!(
                matches!(v.install(&new, Some(bad)), Err(VersionError::Label(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            v.install(Path::new("relative"), None),
            Err(VersionError::Source { .. })
        ));
        assert!(matches!(
            v.install(dir.path(), None),
            Err(VersionError::Source { .. })
        ));
        assert!(matches!(
            v.install(&dir.path().join("missing"), None),
            Err(VersionError::Source { .. })
        ));
        // Nothing half-installed was left behind.
        assert!(v.installed().is_empty());
    }

    #[test]
    fn selection_round_trips_and_is_set_aside_when_stale_or_damaged() {
        let (dir, v, configured) = setup();
        let (fresh, why) = v.initial();
        assert_eq!(
            (fresh.active, fresh.previous, why),
            (v.configured(), None, None)
        );
        let new = dir.path().join("new");
        std::fs::write(&new, b"v2").unwrap();
        let a = v.install(&new, Some("2")).unwrap();
        let sel = Selection {
            configured_exec: configured.clone(),
            active: a.clone(),
            previous: Some(v.configured()),
            trial: true,
        };
        v.save(&sel).unwrap();
        assert_eq!(v.initial(), (sel.clone(), None));
        // The config now names another executable: the config wins.
        let moved = Versions::new(
            &dir.path().join("versions"),
            "mqtt",
            &dir.path().join("bin/other"),
        );
        let (s, why) = moved.initial();
        assert_eq!(s.active.label, CONFIGURED);
        assert!(why.unwrap().contains("exec changed"));
        // The version's file disappeared.
        std::fs::remove_file(&a.exec).unwrap();
        let (s, why) = v.initial();
        assert_eq!(s.active.label, CONFIGURED);
        assert!(why.unwrap().contains("is gone"));
        // A damaged file (e.g. edited by hand) is reported, not trusted.
        std::fs::write(dir.path().join("versions/mqtt/.selection.json"), b"{trunc").unwrap();
        let (s, why) = v.initial();
        assert_eq!(s.active.label, CONFIGURED);
        assert!(why.unwrap().contains("damaged"));
    }
}
