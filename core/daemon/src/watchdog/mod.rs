//! Feeding the hardware watchdog while the core works, so a hung system
//! reboots (the Linux watchdog API, the kernel's
//! `Documentation/watchdog/watchdog-api.rst`):
//!
//! - opening the device arms it; `WDIOC_SETTIMEOUT` sets `[watchdog]
//!   timeout_s` (the driver may round it; the core logs what it took);
//! - every quarter of the timeout the core asks its own API for
//!   `GET /api/v1/health` (which asks the tree task: [`crate::api::probe`])
//!   and, only when it answers, writes a byte — any write is a keepalive;
//! - a core that hangs or is stopped feeds nothing and the board reboots
//!   one timeout after the last feed; U-Boot's boot counting goes on as
//!   for any other reboot (docs/ota.md);
//! - a clean stop writes the magic `V` before closing, which disarms the
//!   watchdog (unless the kernel was built with `WATCHDOG_NOWAYOUT`), so
//!   init restarting the core does not reboot the board. A core that
//!   crashes leaves it armed: init must start the next one within the
//!   timeout.
//!
//! A board without the device logs a warning and runs without.

pub mod settings;

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::settings::WatchdogSettings;

nix::ioctl_readwrite!(wdioc_settimeout, b'W', 6, libc::c_int);
nix::ioctl_read!(wdioc_gettimeout, b'W', 7, libc::c_int);

/// The longest the API's own health request may take: a feed is never
/// later than this after it was due.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The pause between two checks (and feeds): a quarter of `timeout`, so
/// three missed feeds in a row are survived.
pub fn feed_interval(timeout: Duration) -> Duration {
    timeout / 4
}

/// Opens `settings.device` (arming it) and feeds it while the API at `api`
/// answers, until `shutdown` (then disarms it). `None` when no device is
/// configured or it cannot be opened (logged).
pub fn start(
    settings: &WatchdogSettings,
    api: SocketAddr,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    let path = settings.device.clone()?;
    let mut device = match std::fs::OpenOptions::new().write(true).open(&path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(device = %path.display(), "no hardware watchdog: {e}");
            return None;
        }
    };
    let mut timeout = settings.timeout;
    let mut secs = libc::c_int::try_from(timeout.as_secs()).unwrap_or(libc::c_int::MAX);
    // SAFETY: the fd is open for the duration of the call and `secs` is a
    // valid c_int the driver reads and writes back.
    match unsafe { wdioc_settimeout(device.as_raw_fd(), &mut secs) } {
        Ok(_) => timeout = Duration::from_secs(u64::try_from(secs).unwrap_or(0).max(1)),
        Err(e) => {
            // The driver keeps its own timeout (e.g. a hardware maximum
            // below the one asked for): feed at the pace it needs.
            let mut current: libc::c_int = 0;
            // SAFETY: as above; the driver writes one c_int.
            match unsafe { wdioc_gettimeout(device.as_raw_fd(), &mut current) } {
                Ok(_) if current > 0 => {
                    timeout = Duration::from_secs(u64::try_from(current).unwrap_or(1));
                    tracing::warn!(
                        device = %path.display(),
                        "the watchdog's timeout could not be set to {} s ({e}); it keeps {current} s",
                        settings.timeout.as_secs()
                    );
                }
                _ => tracing::warn!(
                    device = %path.display(),
                    "the watchdog's timeout could not be set or read ({e}); assuming {} s",
                    timeout.as_secs()
                ),
            }
        }
    }
    let interval = feed_interval(timeout);
    tracing::info!(
        device = %path.display(),
        "watchdog armed: the board reboots {} s after the core stops answering",
        timeout.as_secs()
    );
    feed(&mut device);
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(interval) => {}
            }
            match crate::api::probe::health_answers(api, PROBE_TIMEOUT.min(interval)).await {
                Ok(()) => feed(&mut device),
                Err(why) => tracing::warn!(
                    "not feeding the watchdog: {why}; the board reboots within {} s unless the core answers again",
                    timeout.as_secs()
                ),
            }
        }
        disarm(device);
    }))
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
