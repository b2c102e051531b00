//! The gateway's Wi-Fi network, changed by the owner through the API and
//! the CLI (`/api/v1/wifi`, `igloo wifi`). The image's init runs
//! `wpa_supplicant`; the core only writes its config file and asks it to
//! reload (docs/image.md, "Wi-Fi"):
//!
//! - [`settings`]: `[wifi]` (the file, the supplicant's pid file, the
//!   interface); without `config` the core does not manage Wi-Fi;
//! - [`network`]: the network (SSID, country, security) and the checks of
//!   the owner's request;
//! - [`psk`]: the WPA-PSK derived from the passphrase (IEEE 802.11i H.4);
//! - [`file`]: the config file's one shape, written and read back; a file
//!   in another shape is someone else's and is replaced only when asked to;
//! - [`reload`]: SIGHUP to the running supplicant;
//! - [`link`]: the interface's state and addresses.
//!
//! The file is written atomically with mode 0600 (`fsutil`). The password
//! is used only to derive the key: it is never stored, logged or shown,
//! and neither is the key.

pub mod file;
pub mod link;
pub mod network;
pub mod psk;
pub mod reload;
pub mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use self::file::{ShapeError, Summary};
use self::link::Link;
use self::network::{FieldError, Network};
use self::reload::Reload;
use self::settings::WifiSettings;
use crate::fsutil::FileError;

/// The config file as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    /// No file: no network is set.
    Absent,
    /// A file in igloo's shape ([`file::read`]).
    Igloo(Summary),
    /// A file in another shape: what could be told of it, and where it
    /// leaves igloo's shape. The core does not replace it unless asked.
    Other {
        /// Best-effort reading ([`file::summary`]).
        summary: Summary,
        /// The first difference.
        why: ShapeError,
    },
}

impl FileState {
    /// What the file says of the network.
    pub fn summary(&self) -> Option<&Summary> {
        match self {
            FileState::Absent => None,
            FileState::Igloo(s) | FileState::Other { summary: s, .. } => Some(s),
        }
    }
}

/// The Wi-Fi status of `GET /api/v1/wifi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The interface (`[wifi] interface`).
    pub interface: String,
    /// The config file.
    pub file: FileState,
    /// The interface's link.
    pub link: Link,
}

/// The outcome of a change: the status after it and the reload request.
#[derive(Debug, Clone)]
pub struct Change {
    /// The status once the file was written or removed.
    pub status: Status,
    /// Whether the running supplicant got SIGHUP.
    pub reloaded: bool,
    /// Why it did not, and what happens instead; `None` when it did.
    pub reload_detail: Option<String>,
    /// For a removal: whether there was a file to remove.
    pub removed: Option<bool>,
}

/// Why a Wi-Fi request failed.
#[derive(Debug, thiserror::Error)]
pub enum WifiError {
    /// A field of the request breaks the rules (nothing was written).
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The file is not in igloo's shape and replacing it was not asked for.
    #[error(
        "{} was not written by igloo ({why}); it is left as it is. Move it away, or replace it with `\"force\": true` (`igloo wifi set --force`, `igloo wifi forget --force`)",
        path.display()
    )]
    NotIgloos {
        /// The config file.
        path: PathBuf,
        /// Where it leaves igloo's shape.
        why: ShapeError,
    },
    /// Reading the file failed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Writing or removing the file failed (the old file is unchanged).
    #[error(transparent)]
    Write(#[from] FileError),
    /// A blocking task did not finish (the core is shutting down).
    #[error("the Wi-Fi task failed: {0}")]
    Task(String),
}

/// What the owner asks for in `PUT /api/v1/wifi`. Has no `Debug`: it
/// holds the password.
pub struct SetRequest {
    /// The network's name.
    pub ssid: String,
    /// The passphrase or raw key; `None` or empty = an open network.
    pub password: Option<String>,
    /// The regulatory country.
    pub country: String,
    /// Replace a file that is not igloo's.
    pub force: bool,
}

/// The managed Wi-Fi: one per core, when `[wifi] config` is set.
#[derive(Debug)]
pub struct Wifi {
    config: PathBuf,
    pid_file: PathBuf,
    interface: String,
    sys_class_net: PathBuf,
    /// One change at a time: check, write and reload are not interleaved.
    changing: tokio::sync::Mutex<()>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WifiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WifiError::Task(e.to_string()))
}

impl Wifi {
    /// The handle, when `settings` name a config file; `None` = Wi-Fi is
    /// not managed by this gateway.
    pub fn new(settings: &WifiSettings) -> Option<Arc<Wifi>> {
        Some(Arc::new(Wifi {
            config: settings.config.clone()?,
            pid_file: settings.pid_file.clone(),
            interface: settings.interface.clone(),
            sys_class_net: PathBuf::from("/sys/class/net"),
            changing: tokio::sync::Mutex::new(()),
        }))
    }

    /// The config file's path.
    #[cfg(test)]
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The file's network and the interface's link.
    ///
    /// # Errors
    /// [`WifiError::Read`] when the file exists but cannot be read.
    pub async fn status(&self) -> Result<Status, WifiError> {
        let (config, net, interface) = (
            self.config.clone(),
            self.sys_class_net.clone(),
            self.interface.clone(),
        );
        blocking(move || {
            let file = read_file(&config)?;
            Ok(Status {
                link: link::read(&net, &interface),
                interface,
                file,
            })
        })
        .await?
    }

    /// Checks `request`, writes the network (mode 0600, atomically) and
    /// asks the supplicant to reload. A request that breaks a rule, or a
    /// file that is not igloo's without `force`, changes nothing.
    ///
    /// # Errors
    /// [`WifiError::Invalid`] (422), [`WifiError::NotIgloos`] (409), a file error.
    pub async fn set(&self, request: SetRequest) -> Result<Change, WifiError> {
        let SetRequest {
            ssid,
            password,
            country,
            force,
        } = request;
        let network =
            blocking(move || Network::from_request(&ssid, password.as_deref(), &country)).await??;
        let _one = self.changing.lock().await;
        let path = self.config.clone();
        let pid_file = self.pid_file.clone();
        let written = network.clone();
        let reload = blocking(move || {
            refuse_unless_igloos(&path, force)?;
            if let Some(dir) = path.parent().filter(|d| !d.exists()) {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(crate::fsutil::file_error("cannot create", dir))?;
            }
            crate::fsutil::write_private(&path, file::render(&written).as_bytes())?;
            Ok::<_, WifiError>(reload::reload(&pid_file))
        })
        .await??;
        let detail = detail(
            &reload,
            "the image's start script starts it on the new file within 10 s",
        );
        let (ssid, country) = (
            String::from_utf8_lossy(network.ssid.bytes()),
            network.country,
        );
        let security = network.security().name();
        tracing::info!(
            ssid = ?ssid,
            %country,
            security,
            reloaded = reload.sent(),
            "Wi-Fi network set{}",
            detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
        );
        Ok(Change {
            status: self.status().await?,
            reloaded: reload.sent(),
            reload_detail: detail,
            removed: None,
        })
    }

    /// Removes the network (the file) and asks the supplicant to reload,
    /// which makes it disconnect and exit (it cannot read a missing file).
    ///
    /// # Errors
    /// [`WifiError::NotIgloos`] (409) without `force`, a file error.
    pub async fn forget(&self, force: bool) -> Result<Change, WifiError> {
        let _one = self.changing.lock().await;
        let (path, pid_file) = (self.config.clone(), self.pid_file.clone());
        let (removed, reload) = blocking(move || {
            refuse_unless_igloos(&path, force)?;
            let removed = match std::fs::remove_file(&path) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(crate::fsutil::file_error("cannot remove", &path)(e).into()),
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::fsutil::sync_dir(dir)?;
            }
            let reload = if removed {
                reload::reload(&pid_file)
            } else {
                Reload::NotSent("there was no network to forget".into())
            };
            Ok::<_, WifiError>((removed, reload))
        })
        .await??;
        let detail = detail(&reload, "nothing to stop");
        if removed {
            tracing::info!(
                reloaded = reload.sent(),
                "Wi-Fi network forgotten{}",
                detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            );
        }
        Ok(Change {
            status: self.status().await?,
            reloaded: reload.sent(),
            reload_detail: detail,
            removed: Some(removed),
        })
    }
}

/// Why SIGHUP was not sent, with `then` (what happens instead) when no
/// supplicant runs; `None` when it was sent.
fn detail(reload: &Reload, then: &str) -> Option<String> {
    match reload {
        Reload::Sent(_) => None,
        Reload::NotRunning(why) => Some(format!("{why}; {then}")),
        Reload::NotSent(why) => Some(why.clone()),
    }
}

/// The file at `path` as found (blocking).
fn read_file(path: &Path) -> Result<FileState, WifiError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::Absent),
        Err(source) => {
            return Err(WifiError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    Ok(match file::read(&text) {
        Ok(summary) => FileState::Igloo(summary),
        Err(why) => FileState::Other {
            summary: file::summary(&text),
            why,
        },
    })
}

/// Refuses to touch a file that is not igloo's, unless `force` (blocking).
fn refuse_unless_igloos(path: &Path, force: bool) -> Result<(), WifiError> {
    match read_file(path)? {
        FileState::Other { why, .. } if !force => Err(WifiError::NotIgloos {
            path: path.to_path_buf(),
            why,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wifi(dir: &Path) -> Arc<Wifi> {
        Wifi::new(&WifiSettings {
            config: Some(dir.join("wifi/wpa_supplicant.conf")),
            pid_file: dir.join("none.pid"),
            interface: "lo".into(),
        })
        .unwrap()
    }

    fn request(ssid: &str, password: Option<&str>, force: bool) -> SetRequest {
        SetRequest {
            ssid: ssid.into(),
            password: password.map(str::to_string),
            country: "nl".into(),
            force,
        }
    }

    #[tokio::test]
    async fn set_writes_a_private_file_and_other_files_need_force() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let w = wifi(dir.path());
        assert_eq!(w.status().await.unwrap().file, FileState::Absent);
        let c = w
            .set(request("IEEE", Some("password"), false))
            .await
            .unwrap();
        assert!(!c.reloaded);
        assert!(c.reload_detail.is_some_and(|d| d.contains("within 10 s")));
        let text = std::fs::read_to_string(w.config_path()).unwrap();
        assert!(
            text.contains(
                "\tpsk=f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e\n"
            )
        );
        let mode = std::fs::metadata(w.config_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let s = c.status.file.summary().cloned().unwrap();
        assert_eq!(
            s.ssid.as_ref().and_then(network::Ssid::as_text),
            Some("IEEE")
        );

        // Bad input changes nothing.
        let e = w
            .set(request(&"s".repeat(33), None, false))
            .await
            .unwrap_err();
        assert!(matches!(
            e,
            WifiError::Invalid(FieldError { field: "ssid", .. })
        ));
        assert_eq!(std::fs::read_to_string(w.config_path()).unwrap(), text);

        // Someone else's file: left alone, unless forced.
        let theirs = "network={\n\tssid=\"Home\"\n\tpsk=\"hunter2hunter2\"\n}\n";
        std::fs::write(w.config_path(), theirs).unwrap();
        assert!(matches!(
            w.status().await.unwrap().file,
            FileState::Other { .. }
        ));
        let e = w.set(request("New", None, false)).await.unwrap_err();
        assert!(matches!(e, WifiError::NotIgloos { .. }), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(matches!(
            w.forget(false).await.unwrap_err(),
            WifiError::NotIgloos { .. }
        ));
        assert_eq!(std::fs::read_to_string(w.config_path()).unwrap(), theirs);
        w.set(request("New", None, true)).await.unwrap();
        assert!(matches!(
            w.status().await.unwrap().file,
            FileState::Igloo(_)
        ));

        let gone = w.forget(false).await.unwrap();
        assert_eq!(gone.removed, Some(true));
        assert_eq!(gone.status.file, FileState::Absent);
        assert_eq!(w.forget(false).await.unwrap().removed, Some(false));
    }
}
