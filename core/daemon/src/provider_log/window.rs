//! The line budget of one kind of line: a fixed-window counter. Pure (the
//! caller passes the time), so it is tested without sleeping.

use std::time::{Duration, Instant};

/// How many lines of one kind may be logged per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Lines logged per window; the rest are counted.
    pub lines: u32,
    /// Window length. A window starts with the first line after the
    /// previous one ended.
    pub window: Duration,
}

impl Budget {
    /// Lines the core writes about a provider (refusals, violations,
    /// connections, restarts): 20 per 10 s per provider, kind and level.
    pub const EVENTS: Budget = Budget {
        lines: 20,
        window: Duration::from_secs(10),
    };
    /// A provider's own output: 200 lines per 10 s per provider, stream
    /// (stdout/stderr) and level; enough for a start-up that lists a few
    /// hundred devices within a couple of windows.
    pub const OUTPUT: Budget = Budget {
        lines: 200,
        window: Duration::from_secs(10),
    };
}

/// What to do with one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the budget: log it.
    Log,
    /// The first line over the budget in this window: say that further ones
    /// are counted, and do not log the line itself at its level.
    FirstOver,
    /// Over the budget: count it, do not log it at its level.
    Over,
}

/// A fixed-window line counter.
#[derive(Debug)]
pub struct Window {
    budget: Budget,
    start: Instant,
    used: u32,
    suppressed: u64,
}

impl Window {
    /// A window for `budget` starting at `now`.
    pub fn new(budget: Budget, now: Instant) -> Window {
        Window {
            budget,
            start: now,
            used: 0,
            suppressed: 0,
        }
    }

    /// Counts one line at `now`. Returns the lines suppressed in the window
    /// that `now` ended (0 when the window goes on or nothing was
    /// suppressed; the caller reports a non-zero count before this line) and
    /// what to do with the line.
    pub fn admit(&mut self, now: Instant) -> (u64, Verdict) {
        let mut ended = 0;
        if now.saturating_duration_since(self.start) >= self.budget.window {
            ended = self.take_suppressed();
            self.start = now;
            self.used = 0;
        }
        if self.used < self.budget.lines {
            self.used += 1;
            return (ended, Verdict::Log);
        }
        self.suppressed += 1;
        let verdict = if self.suppressed == 1 {
            Verdict::FirstOver
        } else {
            Verdict::Over
        };
        (ended, verdict)
    }

    /// The lines suppressed and not yet reported; resets the count (for a
    /// report when the lines' source goes away).
    pub fn take_suppressed(&mut self) -> u64 {
        std::mem::take(&mut self.suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE_PER_10S: Budget = Budget {
        lines: 3,
        window: Duration::from_secs(10),
    };

    fn verdicts(w: &mut Window, now: Instant, n: usize) -> Vec<(u64, Verdict)> {
        (0..n).map(|_| w.admit(now)).collect()
    }

    #[test]
    fn lines_within_the_budget_are_logged_and_the_rest_counted() {
        let t0 = Instant::now();
        let mut w = Window::new(THREE_PER_10S, t0);
        assert_eq!(
            verdicts(&mut w, t0 + Duration::from_secs(9), 6),
            vec![
                (0, Verdict::Log),
                (0, Verdict::Log),
                (0, Verdict::Log),
                (0, Verdict::FirstOver),
                (0, Verdict::Over),
                (0, Verdict::Over),
            ]
        );
        assert_eq!(w.take_suppressed(), 3);
        assert_eq!(w.take_suppressed(), 0, "a count is reported once");
    }

    #[test]
    fn the_next_window_reports_the_suppressed_count_and_logs_again() {
        let t0 = Instant::now();
        let mut w = Window::new(THREE_PER_10S, t0);
        verdicts(&mut w, t0, 10);
        // Just before the end the window still refuses.
        assert_eq!(
            w.admit(t0 + Duration::from_millis(9_999)),
            (0, Verdict::Over)
        );
        let next = t0 + Duration::from_secs(10);
        assert_eq!(w.admit(next), (8, Verdict::Log), "7 + the one above");
        assert_eq!(
            verdicts(&mut w, next, 3),
            vec![
                (0, Verdict::Log),
                (0, Verdict::Log),
                (0, Verdict::FirstOver)
            ]
        );
        // The new window started at its first line, not on a fixed grid.
        assert_eq!(w.admit(t0 + Duration::from_secs(19)), (0, Verdict::Over));
        assert_eq!(w.admit(t0 + Duration::from_secs(20)), (2, Verdict::Log));
    }

    #[test]
    fn a_quiet_window_reports_nothing() {
        let t0 = Instant::now();
        let mut w = Window::new(THREE_PER_10S, t0);
        verdicts(&mut w, t0, 2);
        assert_eq!(w.admit(t0 + Duration::from_secs(60)), (0, Verdict::Log));
        assert_eq!(w.take_suppressed(), 0);
    }

    #[test]
    fn time_going_backwards_keeps_the_window() {
        let t0 = Instant::now() + Duration::from_secs(5);
        let mut w = Window::new(THREE_PER_10S, t0);
        verdicts(&mut w, t0, 3);
        let earlier = t0 - Duration::from_secs(5);
        assert_eq!(w.admit(earlier), (0, Verdict::FirstOver));
    }

    #[test]
    fn a_zero_budget_counts_every_line() {
        let t0 = Instant::now();
        let mut w = Window::new(
            Budget {
                lines: 0,
                window: Duration::from_secs(1),
            },
            t0,
        );
        assert_eq!(w.admit(t0), (0, Verdict::FirstOver));
        assert_eq!(w.admit(t0), (0, Verdict::Over));
        assert_eq!(
            w.admit(t0 + Duration::from_secs(1)),
            (2, Verdict::FirstOver)
        );
    }
}
