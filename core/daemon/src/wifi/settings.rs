//! `[wifi]`: whether and where the core manages the gateway's Wi-Fi network
//! (docs/configuration.md).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// Where the image's `wpa_supplicant` writes its pid (docs/image.md).
pub const DEFAULT_PID_FILE: &str = "/run/wpa_supplicant.pid";
/// The Pi's built-in Wi-Fi interface.
pub const DEFAULT_INTERFACE: &str = "wlan0";

/// A key's error: its span in the file and the message.
pub type KeyError = Spanned<String>;

/// `[wifi]`, checked. Wi-Fi is managed only when `config` is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WifiSettings {
    /// `config = "/data/etc/wifi/wpa_supplicant.conf"`: the supplicant's
    /// config file the core writes; `None` (section or key absent) = the
    /// core does not manage Wi-Fi and `/api/v1/wifi` answers 404.
    pub config: Option<PathBuf>,
    /// `pid_file`: where the running `wpa_supplicant` keeps its pid, for
    /// the SIGHUP that makes it re-read `config`.
    pub pid_file: PathBuf,
    /// `interface`: the Wi-Fi network interface whose link is shown.
    pub interface: String,
}

impl Default for WifiSettings {
    fn default() -> Self {
        WifiSettings {
            config: None,
            pid_file: PathBuf::from(DEFAULT_PID_FILE),
            interface: DEFAULT_INTERFACE.into(),
        }
    }
}

/// `[wifi]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawWifi {
    config: Option<Spanned<String>>,
    pid_file: Option<Spanned<String>>,
    interface: Option<Spanned<String>>,
}

impl WifiSettings {
    /// Checks `raw`; relative paths are made absolute against `base` (the
    /// config file's directory).
    ///
    /// # Errors
    /// An empty `config` or `pid_file`, or an `interface` that is not a
    /// Linux interface name (1–15 bytes, no `/`, whitespace or `:`), with
    /// the key's span.
    pub fn from_raw(raw: RawWifi, base: &Path) -> Result<WifiSettings, KeyError> {
        let path = |key: &str, v: Spanned<String>| {
            if v.get_ref().is_empty() {
                return Err(Spanned::new(
                    v.span(),
                    format!("{key} must be a file path (leave [wifi] out to not manage Wi-Fi)"),
                ));
            }
            Ok(base.join(v.into_inner()))
        };
        let mut s = WifiSettings::default();
        if let Some(c) = raw.config {
            s.config = Some(path("config", c)?);
        }
        if let Some(p) = raw.pid_file {
            s.pid_file = path("pid_file", p)?;
        }
        if let Some(i) = raw.interface {
            check_interface(i.get_ref()).map_err(|why| {
                Spanned::new(i.span(), format!("interface {:?}: {why}", i.get_ref()))
            })?;
            s.interface = i.into_inner();
        }
        Ok(s)
    }
}

/// Whether `name` can be a Linux network interface name (the kernel's
/// `dev_valid_name`: 1–15 bytes, not `.` or `..`, no `/`, `:` or whitespace).
///
/// # Errors
/// What is wrong with it.
pub fn check_interface(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 15 {
        return Err("must be 1 to 15 bytes".into());
    }
    if name == "." || name == ".." {
        return Err("is not an interface name".into());
    }
    if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err("may not hold '/', ':', spaces or control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WifiSettings, String> {
        let raw: RawWifi = toml::from_str(text).map_err(|e| e.to_string())?;
        WifiSettings::from_raw(raw, Path::new("/etc/igloo")).map_err(Spanned::into_inner)
    }

    #[test]
    fn managed_only_with_a_config_path_and_defaults_otherwise() {
        assert_eq!(parse("").unwrap(), WifiSettings::default());
        assert_eq!(parse("").unwrap().config, None);
        let s = parse("config = \"/data/etc/wifi/wpa_supplicant.conf\"").unwrap();
        assert_eq!(
            s.config.as_deref(),
            Some(Path::new("/data/etc/wifi/wpa_supplicant.conf"))
        );
        assert_eq!(s.pid_file, Path::new("/run/wpa_supplicant.pid"));
        assert_eq!(s.interface, "wlan0");
        let s = parse("config = \"wifi.conf\"\npid_file = \"/tmp/w.pid\"\ninterface = \"wlp2s0\"")
            .unwrap();
        assert_eq!(s.config.as_deref(), Some(Path::new("/etc/igloo/wifi.conf")));
        assert_eq!(s.pid_file, Path::new("/tmp/w.pid"));
        assert_eq!(s.interface, "wlp2s0");
    }

    #[test]
    fn bad_keys_are_named() {
        assert!(
            parse("config = \"\"")
                .unwrap_err()
                .starts_with("config must")
        );
        assert!(
            parse("pid_file = \"\"")
                .unwrap_err()
                .starts_with("pid_file must")
        );
        for bad in ["", "wlan0:1", "a/b", "wl an", "..", "abcdefghijklmnop"] {
            let e = parse(&format!("interface = {bad:?}")).unwrap_err();
            assert!(e.starts_with(&format!("interface {bad:?}")), "{e}");
        }
        assert!(parse("ssid = \"x\"").unwrap_err().contains("unknown field"));
    }
}
