//! `[watchdog]`: the hardware watchdog the core feeds (docs/configuration.md).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// Shortest `timeout_s` accepted: a busy board must not reboot because one
/// check took a few seconds.
pub const MIN_TIMEOUT_S: u64 = 10;
/// Longest `timeout_s` accepted.
pub const MAX_TIMEOUT_S: u64 = 600;

/// A key's error: its span in the file and the message.
pub type KeyError = Spanned<String>;

/// `[watchdog]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchdogSettings {
    /// `device = "/dev/watchdog"`: the watchdog device; `None` (the
    /// default) = no watchdog is fed.
    pub device: Option<PathBuf>,
    /// `timeout_s = 60`: the board reboots this long after the last feed
    /// (10..=600; the driver may round it, the core logs what it took).
    pub timeout: Duration,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        WatchdogSettings {
            device: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// `[watchdog]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawWatchdog {
    device: Option<String>,
    timeout_s: Option<Spanned<u64>>,
}

impl WatchdogSettings {
    /// Checks `raw`.
    ///
    /// # Errors
    /// A `timeout_s` outside 10..=600, with the key's span.
    pub fn from_raw(raw: RawWatchdog) -> Result<WatchdogSettings, KeyError> {
        let mut s = WatchdogSettings {
            device: raw.device.filter(|d| !d.is_empty()).map(PathBuf::from),
            ..WatchdogSettings::default()
        };
        if let Some(t) = raw.timeout_s {
            let secs = *t.get_ref();
            if !(MIN_TIMEOUT_S..=MAX_TIMEOUT_S).contains(&secs) {
                return Err(Spanned::new(
                    t.span(),
                    format!(
                        "timeout_s {secs} is outside {MIN_TIMEOUT_S}..={MAX_TIMEOUT_S} seconds"
                    ),
                ));
            }
            s.timeout = Duration::from_secs(secs);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WatchdogSettings, String> {
        let raw: RawWatchdog = toml::from_str(text).map_err(|e| e.to_string())?;
        WatchdogSettings::from_raw(raw).map_err(Spanned::into_inner)
    }

    #[test]
    fn off_unless_a_device_is_named_and_the_timeout_is_bounded() {
        assert_eq!(parse("").unwrap(), WatchdogSettings::default());
        let s = parse("device = \"/dev/watchdog\"\ntimeout_s = 30").unwrap();
        assert_eq!(
            s.device.as_deref(),
            Some(std::path::Path::new("/dev/watchdog"))
        );
        assert_eq!(s.timeout, Duration::from_secs(30));
        for bad in [0, 9, 601] {
            let e = parse(&format!("timeout_s = {bad}")).unwrap_err();
            assert!(e.contains("outside 10..=600"), "{e}");
        }
    }
}
