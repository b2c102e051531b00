//! `[ota]` of `igloo.toml`: over-the-air updates (docs/configuration.md#ota).
//! The defaults are written once, in [`OtaSettings::default`]; [`RawOta`] is
//! the section as written, checked by [`OtaSettings::from_raw`], whose error
//! is the message and the span of the offending key (`config` turns it into
//! `file:line:column`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::sandbox::settings::KeyError;

/// Shortest `health_timeout_s` accepted. Values below 10 s are meant for
/// tests: a real board needs longer for its providers to start.
pub const MIN_HEALTH_TIMEOUT_S: u64 = 1;
/// Longest `health_timeout_s` accepted (an hour).
pub const MAX_HEALTH_TIMEOUT_S: u64 = 3600;

/// `[ota]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OtaSettings {
    /// `enabled = true`. `false` reports OTA as unavailable ("disabled in
    /// [ota]"): no install, no health check, no mark-good.
    pub enabled: bool,
    /// `health_timeout_s = 300`: how long a boot that waits to be marked
    /// good may take to become healthy before the core reboots (1..=3600).
    pub health_timeout: Duration,
    /// `download_dir`: where bundles are downloaded and uploaded to (default
    /// `<data_dir>/ota`, which also holds `history.json`). Never RAM.
    pub download_dir: PathBuf,
    /// `rauc = "rauc"`: RAUC's command-line program (a name looked up in
    /// `PATH`, or a path).
    pub rauc: PathBuf,
    /// `fw_printenv = "fw_printenv"`: libubootenv's program that reads the
    /// boot state (`BOOT_ORDER`, `BOOT_x_LEFT`).
    pub fw_printenv: PathBuf,
    /// `reboot = ["reboot"]`: the program and arguments run when a boot is
    /// not healthy in time.
    pub reboot: Vec<String>,
    /// `system_conf = "/etc/rauc/system.conf"`: RAUC's system configuration;
    /// without it the system has no slots and OTA is unavailable.
    pub system_conf: PathBuf,
}

impl Default for OtaSettings {
    /// The defaults, with `download_dir` under the default `data_dir`
    /// (`from_raw` puts it under the configured one).
    fn default() -> Self {
        OtaSettings {
            enabled: true,
            health_timeout: Duration::from_secs(300),
            download_dir: PathBuf::from("/var/lib/igloo/ota"),
            rauc: PathBuf::from("rauc"),
            fw_printenv: PathBuf::from("fw_printenv"),
            reboot: vec!["reboot".to_string()],
            system_conf: PathBuf::from("/etc/rauc/system.conf"),
        }
    }
}

/// `[ota]` as written in the file, with the spans of the keys that
/// [`OtaSettings::from_raw`] checks; missing keys take
/// [`OtaSettings::default`] (a missing `download_dir` is `<data_dir>/ota`).
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawOta {
    enabled: bool,
    health_timeout_s: Spanned<u64>,
    download_dir: Option<String>,
    rauc: Spanned<String>,
    fw_printenv: Spanned<String>,
    reboot: Spanned<Vec<String>>,
    system_conf: String,
}

impl Default for RawOta {
    fn default() -> Self {
        let d = OtaSettings::default();
        let text = |p: &Path| Spanned::new(0..0, p.display().to_string());
        RawOta {
            enabled: d.enabled,
            health_timeout_s: Spanned::new(0..0, d.health_timeout.as_secs()),
            download_dir: None,
            rauc: text(&d.rauc),
            fw_printenv: text(&d.fw_printenv),
            reboot: Spanned::new(0..0, d.reboot),
            system_conf: d.system_conf.display().to_string(),
        }
    }
}

impl OtaSettings {
    /// Checks `raw` as read from the file. Relative paths (and programs
    /// given with a `/`) are resolved against `base`, the config file's
    /// directory; `data_dir` is `[core] data_dir`, under which
    /// `download_dir` defaults to `ota`.
    ///
    /// # Errors
    /// A `health_timeout_s` outside 1..=3600, an empty `rauc`,
    /// `fw_printenv` or `reboot`, with the key's span.
    pub fn from_raw(raw: RawOta, data_dir: &Path, base: &Path) -> Result<OtaSettings, KeyError> {
        let timeout = *raw.health_timeout_s.get_ref();
        if !(MIN_HEALTH_TIMEOUT_S..=MAX_HEALTH_TIMEOUT_S).contains(&timeout) {
            return Err(Spanned::new(
                raw.health_timeout_s.span(),
                format!(
                    "health_timeout_s {timeout} is outside {MIN_HEALTH_TIMEOUT_S}..={MAX_HEALTH_TIMEOUT_S} seconds"
                ),
            ));
        }
        let program = |key: &str, v: &Spanned<String>| -> Result<PathBuf, KeyError> {
            match v.get_ref().as_str() {
                "" => Err(Spanned::new(
                    v.span(),
                    format!("{key} must name a program (a name found in PATH, or a path)"),
                )),
                p => Ok(program_path(p, base)),
            }
        };
        let rauc = program("rauc", &raw.rauc)?;
        let fw_printenv = program("fw_printenv", &raw.fw_printenv)?;
        let mut reboot = raw.reboot.get_ref().clone();
        match reboot.first_mut() {
            Some(first) if !first.is_empty() => {
                *first = program_path(first, base).display().to_string();
            }
            _ => {
                return Err(Spanned::new(
                    raw.reboot.span(),
                    "reboot must be a program and its arguments, e.g. [\"reboot\"]".into(),
                ));
            }
        }
        let abs = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_absolute() { p } else { base.join(p) }
        };
        Ok(OtaSettings {
            enabled: raw.enabled,
            health_timeout: Duration::from_secs(timeout),
            download_dir: raw
                .download_dir
                .as_deref()
                .map_or_else(|| data_dir.join("ota"), abs),
            rauc,
            fw_printenv,
            reboot,
            system_conf: abs(&raw.system_conf),
        })
    }
}

/// A program as configured: a bare name stays a name (looked up in `PATH`
/// when run); anything with a `/` is a path, made absolute against `base`.
fn program_path(p: &str, base: &Path) -> PathBuf {
    let path = PathBuf::from(p);
    if !p.contains('/') || path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OtaSettings, KeyError> {
        let raw: RawOta = toml::from_str(text).unwrap();
        OtaSettings::from_raw(raw, Path::new("/data"), Path::new("/etc/igloo"))
    }

    #[test]
    fn an_empty_section_takes_the_documented_defaults() {
        let s = parse("").unwrap();
        let d = OtaSettings::default();
        assert_eq!(s.download_dir, Path::new("/data/ota"));
        assert_eq!(
            OtaSettings {
                download_dir: d.download_dir.clone(),
                ..s
            },
            d
        );
    }

    #[test]
    fn programs_with_a_slash_are_paths_relative_to_the_config() {
        let s = parse(
            "rauc = \"bin/rauc\"\nfw_printenv = \"/usr/bin/fw_printenv\"\nreboot = [\"./reboot\", \"-f\"]\ndownload_dir = \"dl\"",
        )
        .unwrap();
        assert_eq!(s.rauc, Path::new("/etc/igloo/bin/rauc"));
        assert_eq!(s.fw_printenv, Path::new("/usr/bin/fw_printenv"));
        assert_eq!(s.reboot, ["/etc/igloo/./reboot", "-f"]);
        assert_eq!(s.download_dir, Path::new("/etc/igloo/dl"));
    }

    #[test]
    fn bad_values_are_refused_at_their_key() {
        let text = "health_timeout_s = 0\n";
        let e = parse(text).unwrap_err();
        assert_eq!(&text[e.span()], "0");
        assert!(e.get_ref().contains("outside 1..=3600"), "{}", e.get_ref());
        let text = "reboot = []\n";
        let e = parse(text).unwrap_err();
        assert_eq!(&text[e.span()], "[]");
        let text = "rauc = \"\"\n";
        let e = parse(text).unwrap_err();
        assert!(e.get_ref().starts_with("rauc must name a program"));
        assert!(toml::from_str::<RawOta>("health_timeout = 3").is_err());
    }
}
