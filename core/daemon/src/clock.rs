//! Whether the system clock is synchronised, as the kernel sees it:
//! `adjtimex(2)` with `modes = 0` (read only, no privilege needed).
//!
//! The kernel keeps the NTP state an NTP client (BusyBox `ntpd`, chrony,
//! systemd-timesyncd) sets: the `STA_UNSYNC` status bit and a return value
//! of `TIME_ERROR` both mean "not synchronised"; `maxerror` and `esterror`
//! are its error bounds in microseconds. A gateway without a real-time
//! clock boots in 1970 until NTP answers, so TLS, schedules and log times
//! depend on this.

/// The kernel's view of the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeStatus {
    /// The clock is synchronised (`STA_UNSYNC` clear and the return value
    /// not `TIME_ERROR`).
    pub synchronized: bool,
    /// Maximum error, microseconds (`timex.maxerror`).
    pub maxerror_us: i64,
    /// Estimated error, microseconds (`timex.esterror`).
    pub esterror_us: i64,
}

/// Reads the clock's state.
///
/// # Errors
/// The `adjtimex` call failed (the error from the kernel).
pub fn status() -> std::io::Result<TimeStatus> {
    // SAFETY: `timex` is plain data, valid when zeroed; with `modes = 0`
    // the kernel only fills it in and changes nothing.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = 0;
    // SAFETY: `tx` is a valid, writable `timex` for the call's duration.
    let state = unsafe { libc::adjtimex(&mut tx) };
    if state == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // `c_long`: 64 bits on aarch64, 32 on armv7.
    #[allow(clippy::useless_conversion)]
    Ok(TimeStatus {
        synchronized: state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0,
        maxerror_us: i64::from(tx.maxerror),
        esterror_us: i64::from(tx.esterror),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kernel_answers_without_privilege() {
        let s = super::status().unwrap();
        assert!(s.maxerror_us >= 0 && s.esterror_us >= 0, "{s:?}");
    }
}
