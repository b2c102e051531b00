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
    /// `timeout_s = 60`: how long the core may fail its own health check
    /// before the board reboots (10..=600).
    pub timeout: Duration,
    /// `hardware_timeout_s`: the timeout asked of the device (1..=`timeout_s`;
    /// default: `timeout_s`). For hardware whose limit is below `timeout_s`
    /// (the Pi's BCM2835 PM watchdog: 0xfffff ticks of 65 536 Hz, just under
    /// 16 s, so the driver takes at most 15 s): the core then feeds it every
    /// quarter of this while its last good health check is recent enough
    /// that the board still reboots about `timeout_s` after the core stopped
    /// answering. The driver may round it; the core logs what it took.
    pub hardware_timeout: Option<Duration>,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        WatchdogSettings {
            device: None,
            timeout: Duration::from_secs(60),
            hardware_timeout: None,
        }
    }
}

/// `[watchdog]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawWatchdog {
    device: Option<String>,
    timeout_s: Option<Spanned<u64>>,
    hardware_timeout_s: Option<Spanned<u64>>,
}

impl WatchdogSettings {
    /// Checks `raw`.
    ///
    /// # Errors
    /// A `timeout_s` outside 10..=600 or a `hardware_timeout_s` outside
    /// 1..=`timeout_s`, with the key's span.
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
        if let Some(t) = raw.hardware_timeout_s {
            let secs = *t.get_ref();
            let max = s.timeout.as_secs();
            if !(1..=max).contains(&secs) {
                return Err(Spanned::new(
                    t.span(),
                    format!("hardware_timeout_s {secs} is outside 1..={max} seconds (timeout_s)"),
                ));
            }
            s.hardware_timeout = Some(Duration::from_secs(secs));
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

    #[test]
    fn the_hardware_timeout_is_at_most_the_timeout() {
        let s = parse("device = \"/dev/watchdog\"\nhardware_timeout_s = 15").unwrap();
        assert_eq!(s.hardware_timeout, Some(Duration::from_secs(15)));
        assert_eq!(s.timeout, Duration::from_secs(60));
        for bad in [
            "hardware_timeout_s = 0",
            "timeout_s = 20\nhardware_timeout_s = 21",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("hardware_timeout_s"), "{e}");
        }
    }
}
