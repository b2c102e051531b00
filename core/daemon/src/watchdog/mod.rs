//! Feeding the hardware watchdog while the core works, so a hung system
//! reboots (the Linux watchdog API, the kernel's
//! `Documentation/watchdog/watchdog-api.rst`):
//!
//! - opening the device arms it; `WDIOC_SETTIMEOUT` sets `[watchdog]
//!   hardware_timeout_s` (default `timeout_s`; the driver may round it or
//!   keep its own, and the core logs what it took);
//! - every quarter of the hardware timeout the core asks its own API for
//!   `GET /api/v1/health` (which asks the tree task: [`crate::api::probe`])
//!   and writes a byte (any write is a keepalive) when it answers, or when
//!   the last answer is still within `timeout_s` minus the hardware timeout
//!   ([`Pace::feeds`]). So a board whose hardware cannot wait `timeout_s`
//!   (the Pi's BCM2835: under 16 s) still gives a busy core `timeout_s`;
//! - a core that hangs feeds nothing and the board reboots about
//!   `timeout_s` after its last good check; a core that is stopped or
//!   frozen as a whole feeds nothing at all, and the hardware reboots the
//!   board one hardware timeout after the last feed. U-Boot's boot counting
//!   goes on as for any other reboot (docs/ota.md);
//! - a clean stop writes the magic `V` before closing, which disarms the
//!   watchdog (unless the kernel was built with `WATCHDOG_NOWAYOUT`), so
//!   init restarting the core does not reboot the board. A core that
//!   crashes leaves it armed: init must start the next one within the
//!   hardware timeout;
//! - `igloo.watchdog=off` on the kernel command line (the image's boot
//!   script appends `igloo-cmdline.txt` from the boot partition,
//!   docs/image.md) leaves the device closed: for an emulator whose model
//!   resets at once when armed (QEMU's `raspi3b`), or a board being debugged.
//!
//! A board without the device logs a warning and runs without.

pub mod settings;

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::settings::WatchdogSettings;

nix::ioctl_readwrite!(wdioc_settimeout, b'W', 6, libc::c_int);
nix::ioctl_read!(wdioc_gettimeout, b'W', 7, libc::c_int);

/// The longest the API's own health request may take: a feed is never
/// later than this after it was due.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The kernel command-line argument that keeps the watchdog closed.
pub const OFF_ARGUMENT: &str = "igloo.watchdog=off";

/// Whether the kernel command line `cmdline` (`/proc/cmdline`: arguments
/// separated by white space) holds [`OFF_ARGUMENT`].
pub fn off_by_cmdline(cmdline: &str) -> bool {
    cmdline.split_whitespace().any(|a| a == OFF_ARGUMENT)
}

/// When the core checks its health and feeds a device whose own timeout is
/// `hardware`, for the liveness window `timeout` of `[watchdog] timeout_s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The device's timeout, at most `timeout`.
    pub hardware: Duration,
    /// How long the core may fail its health check before the board reboots.
    pub timeout: Duration,
}

impl Pace {
    /// `hardware` is capped at `timeout` (a device that took a longer one
    /// is fed as if it had `timeout`).
    pub fn new(hardware: Duration, timeout: Duration) -> Pace {
        Pace {
            hardware: hardware.min(timeout),
            timeout,
        }
    }

    /// The pause between two checks (and feeds): a quarter of the hardware
    /// timeout, so three missed feeds in a row are survived.
    pub fn interval(&self) -> Duration {
        self.hardware / 4
    }

    /// Whether to feed after a failed check when the last good one was
    /// `since_ok` ago: while the hardware timeout still ends within
    /// `timeout` of that good check. With `hardware == timeout`, never: only
    /// a check that answers feeds.
    pub fn feeds(&self, since_ok: Duration) -> bool {
        since_ok < self.timeout.saturating_sub(self.hardware)
    }
}

/// Opens `settings.device` (arming it) and feeds it while the API at `api`
/// answers (see [`Pace`]), until `shutdown` (then disarms it). `None` when no
/// device is configured, `cmdline` holds [`OFF_ARGUMENT`] or the device
/// cannot be opened (each logged).
pub fn start(
    settings: &WatchdogSettings,
    cmdline: &str,
    api: SocketAddr,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    let path = settings.device.clone()?;
    if off_by_cmdline(cmdline) {
        tracing::warn!(
            device = %path.display(),
            "the watchdog stays off: {OFF_ARGUMENT} is on the kernel command line"
        );
        return None;
    }
    let mut device = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(device = %path.display(), "no hardware watchdog: {e}");
            return None;
        }
    };
    let asked = settings.hardware_timeout.unwrap_or(settings.timeout);
    let hardware = set_timeout(&device, &path, asked);
    let pace = Pace::new(hardware, settings.timeout);
    let interval = pace.interval();
    tracing::info!(
        device = %path.display(),
        hardware_timeout_s = pace.hardware.as_secs(),
        "watchdog armed: the board reboots {} s after the core stops answering",
        pace.timeout.as_secs()
    );
    feed(&mut device);
    Some(tokio::spawn(async move {
        let mut last_ok = Instant::now();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
            match crate::api::probe::health_answers(api, PROBE_TIMEOUT.min(interval)).await {
                Ok(()) => {
                    last_ok = Instant::now();
                    feed(&mut device);
                }
                Err(why) => {
                    let since_ok = last_ok.elapsed();
                    let left = pace.timeout.saturating_sub(since_ok).as_secs();
                    tracing::warn!(
                        "the core's health check failed: {why}; the board reboots within {left} s unless the core answers again"
                    );
                    if pace.feeds(since_ok) {
                        feed(&mut device);
                    }
                }
            }
        }
        disarm(device);
    }))
}

/// Asks the device for `asked`; the timeout it runs with.
fn set_timeout(device: &File, path: &Path, asked: Duration) -> Duration {
    let mut secs = libc::c_int::try_from(asked.as_secs()).unwrap_or(libc::c_int::MAX);
    // SAFETY: the fd is open for the duration of the call and `secs` is a
    // valid c_int the driver reads and writes back.
    match unsafe { wdioc_settimeout(device.as_raw_fd(), &mut secs) } {
        Ok(_) => Duration::from_secs(u64::try_from(secs).unwrap_or(0).max(1)),
        Err(e) => {
            // The driver keeps its own timeout (e.g. a hardware maximum
            // below the one asked for): feed at the pace it needs.
            let mut current: libc::c_int = 0;
            // SAFETY: as above; the driver writes one c_int.
            match unsafe { wdioc_gettimeout(device.as_raw_fd(), &mut current) } {
                Ok(_) if current > 0 => {
                    tracing::warn!(
                        device = %path.display(),
                        "the watchdog's timeout could not be set to {} s ({e}); it keeps {current} s",
                        asked.as_secs()
                    );
                    Duration::from_secs(u64::try_from(current).unwrap_or(1))
                }
                _ => {
                    tracing::warn!(
                        device = %path.display(),
                        "the watchdog's timeout could not be set or read ({e}); assuming {} s",
                        asked.as_secs()
                    );
                    asked
                }
            }
        }
    }
}

/// One keepalive.
fn feed(device: &mut File) {
    if let Err(e) = device.write_all(b"k").and_then(|()| device.flush()) {
        tracing::warn!("feeding the watchdog failed: {e}");
    }
}

/// The magic close: `V`, then close.
fn disarm(mut device: File) {
    match device.write_all(b"V").and_then(|()| device.flush()) {
        Ok(()) => tracing::info!("watchdog disarmed (the core stops cleanly)"),
        Err(e) => tracing::warn!("disarming the watchdog failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_device_that_takes_the_timeout_is_fed_only_after_an_answer() {
        let pace = Pace::new(S(60), S(60));
        assert_eq!(pace.interval(), S(15));
        assert!(!pace.feeds(S(0)));
        assert!(!pace.feeds(S(16)));
    }

    #[test]
    fn a_short_hardware_timeout_is_bridged_up_to_the_timeout() {
        // The Pi: 15 s of hardware, 60 s for the core.
        let pace = Pace::new(S(15), S(60));
        assert_eq!(pace.interval(), Duration::from_millis(3750));
        assert!(pace.feeds(S(44)));
        // Fed at 44.9 s at the latest: the hardware fires before 60 s.
        assert!(!pace.feeds(S(45)));
        // A device that took more than asked is fed as if it had `timeout`.
        assert_eq!(Pace::new(S(120), S(60)), Pace::new(S(60), S(60)));
    }

    #[test]
    fn only_the_exact_argument_keeps_it_off() {
        assert!(off_by_cmdline(
            "console=ttyS1,115200 root=PARTUUID=x igloo.watchdog=off quiet\n"
        ));
        for line in [
            "",
            "quiet",
            "igloo.watchdog=of",
            "xigloo.watchdog=off",
            "igloo.watchdog=on",
        ] {
            assert!(!off_by_cmdline(line), "{line}");
        }
    }
}
