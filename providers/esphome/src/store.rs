//! Devices added with `igloo esphome add`, and their keys, kept in the
//! provider's data dir.
//!
//! File: `<data_dir>/devices.json`, mode 0600 (owner only: it holds API
//! encryption keys), replaced atomically (written to a temporary file in the
//! same directory, fsynced, renamed, directory fsynced), so a power cut leaves
//! the old or the new list, never a mix. Shape:
//!
//! ```json
//! {"version": 1, "devices": [{"host": "192.168.1.50", "port": 6053, "key": "base64…", "mac": "aa:bb:cc:dd:ee:ff"}]}
//! ```
//!
//! `key` and `mac` may be null. A file that does not parse is set aside as
//! `devices.json.damaged` (never deleted) and the provider starts with an
//! empty list, reporting it.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::noise::Psk;
use crate::config::Endpoint;

/// File name inside the data dir.
pub const FILE: &str = "devices.json";

/// One stored device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDevice {
    /// IP address or host name.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// API encryption key (base64), if any.
    pub key: Option<String>,
    /// The device's MAC once known (lower-case, colon-separated), to match it
    /// when mDNS reports it under another address.
    #[serde(default)]
    pub mac: Option<String>,
}

impl std::fmt::Debug for StoredDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDevice")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("mac", &self.mac)
            .finish()
    }
}

impl StoredDevice {
    /// Its address.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            host: self.host.clone(),
            port: self.port,
        }
    }

    /// Its key, parsed; `Err` if the stored text is not a valid key.
    pub fn psk(&self) -> Result<Option<Psk>, String> {
        self.key.as_deref().map(Psk::from_base64).transpose()
    }
}

#[derive(Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    devices: Vec<StoredDevice>,
}

/// The stored list and where it lives.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    devices: Vec<StoredDevice>,
}

impl Store {
    /// Loads `<dir>/devices.json`; a missing file is an empty list.
    ///
    /// Returns the store and, when the file was damaged, a description of
    /// what was set aside (for the log).
    pub fn load(dir: &Path) -> (Store, Option<String>) {
        let path = dir.join(FILE);
        let mut note = None;
        let devices = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<FileFormat>(&bytes) {
                Ok(f) => f.devices,
                Err(e) => {
                    let aside = dir.join(format!("{FILE}.damaged"));
                    let moved = std::fs::rename(&path, &aside);
                    note = Some(format!(
                        "{} does not parse ({e}); {}; starting with no added devices",
                        path.display(),
                        match moved {
                            Ok(()) => format!("kept as {}", aside.display()),
                            Err(m) => format!("could not set it aside ({m})"),
                        }
                    ));
                    Vec::new()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                note = Some(format!("cannot read {}: {e}", path.display()));
                Vec::new()
            }
        };
        (Store { path, devices }, note)
    }

    /// The stored devices.
    pub fn devices(&self) -> &[StoredDevice] {
        &self.devices
    }

    /// Adds or replaces the device at `endpoint` and saves.
    ///
    /// # Errors
    /// The file could not be written (the list in memory is unchanged).
    pub fn upsert(&mut self, device: StoredDevice) -> std::io::Result<()> {
        let mut next = self.devices.clone();
        match next
            .iter_mut()
            .find(|d| d.host == device.host && d.port == device.port)
        {
            Some(d) => *d = device,
            None => next.push(device),
        }
        self.save(next)
    }

    /// Records the MAC of a stored device once it is known.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn set_mac(&mut self, endpoint: &Endpoint, mac: &str) -> std::io::Result<()> {
        let mut next = self.devices.clone();
        let Some(d) = next
            .iter_mut()
            .find(|d| d.host == endpoint.host && d.port == endpoint.port)
        else {
            return Ok(());
        };
        if d.mac.as_deref() == Some(mac) {
            return Ok(());
        }
        d.mac = Some(mac.to_string());
        self.save(next)
    }

    /// Removes the device at `endpoint`; `Ok(false)` if it was not stored.
    ///
    /// # Errors
    /// The file could not be written.
    pub fn remove(&mut self, endpoint: &Endpoint) -> std::io::Result<bool> {
        let next: Vec<_> = self
            .devices
            .iter()
            .filter(|d| !(d.host == endpoint.host && d.port == endpoint.port))
            .cloned()
            .collect();
        if next.len() == self.devices.len() {
            return Ok(false);
        }
        self.save(next)?;
        Ok(true)
    }

    fn save(&mut self, devices: Vec<StoredDevice>) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(".{FILE}.tmp"));
        let body = serde_json::to_vec_pretty(&FileFormat {
            version: 1,
            devices: devices.clone(),
        })
        .map_err(std::io::Error::other)?;
        {
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&body)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        std::fs::File::open(dir)?.sync_all()?;
        self.devices = devices;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const KEY: &str = "px7tsbK3C7bpXHr2OevEV2ZMg/FojJ0+SmcIgLKY1Bk=";

    #[test]
    fn round_trip_owner_only_and_damage_is_set_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, note) = Store::load(dir.path());
        assert!(note.is_none() && s.devices().is_empty());
        s.upsert(StoredDevice {
            host: "10.0.0.5".into(),
            port: 6053,
            key: Some(KEY.into()),
            mac: None,
        })
        .expect("save");
        let ep = Endpoint::new("10.0.0.5", 6053).expect("endpoint");
        s.set_mac(&ep, "aa:bb:cc:dd:ee:ff").expect("mac");
        let mode = std::fs::metadata(dir.path().join(FILE))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (s2, note) = Store::load(dir.path());
        assert!(note.is_none());
        assert_eq!(s2.devices(), s.devices());
        assert_eq!(s2.devices()[0].mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert!(s2.devices()[0].psk().expect("valid").is_some());
        assert!(!format!("{:?}", s2.devices()[0]).contains("px7t"));

        let mut s3 = s2;
        assert!(s3.remove(&ep).expect("remove"));
        assert!(!s3.remove(&ep).expect("again"));

        std::fs::write(dir.path().join(FILE), b"{\"version\":1,\"devi").expect("write");
        let (s4, note) = Store::load(dir.path());
        assert!(s4.devices().is_empty());
        let note = note.expect("reported");
        assert!(
            note.contains("does not parse") && note.contains(".damaged"),
            "{note}"
        );
        assert!(dir.path().join("devices.json.damaged").exists());
    }
}
