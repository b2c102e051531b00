//! Waiting for conditions, with failure messages that say what was expected
//! and what was observed instead.

use std::fmt::Display;
use std::time::{Duration, Instant};

/// For things that should happen almost at once (a state message to reach the API).
pub const SHORT: Duration = Duration::from_secs(5);
/// The default wait (startup, a provider restart).
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// For slow sequences (broker restart and reconnect with back-off).
pub const LONG: Duration = Duration::from_secs(40);

const POLL: Duration = Duration::from_millis(50);

/// Polls `probe` until it returns `Ok`, and returns that value.
///
/// `probe` returns `Err(description of what it saw)` while the condition does
/// not hold.
///
/// # Panics
/// After `timeout`, with `what` and the last description.
pub fn wait_for<T>(
    timeout: Duration,
    what: impl Display,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) => {
                if Instant::now() >= deadline {
                    panic!(
                        "timed out after {:.1}s waiting for {what}; last seen: {last}",
                        timeout.as_secs_f64()
                    );
                }
            }
        }
        std::thread::sleep(POLL);
    }
}

/// Polls `cond` until it is true.
///
/// # Panics
/// After `timeout`, naming `what`.
pub fn wait_until(timeout: Duration, what: impl Display, mut cond: impl FnMut() -> bool) {
    wait_for(timeout, what, || {
        if cond() {
            Ok(())
        } else {
            Err("condition false".to_string())
        }
    })
}
