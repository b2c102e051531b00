//! What the core logs about a provider, bounded per provider: a provider must
//! not be able to flood the core's log (the appliance keeps it in RAM).
//!
//! A [`ProviderLog`] belongs to one provider (or to connections whose
//! provider is not known yet) and keeps one [`Window`] per (category, level):
//! within its [`Budget`] a line is logged at its level; the first line over
//! it adds one notice, the others are logged at TRACE only and counted; the
//! count is logged (at the lines' level, field `suppressed`) with the next
//! line of that kind after the window, and when the `ProviderLog` is dropped
//! (the provider's output ended, its connection closed). It is the P1
//! reader's "one warning per 10 s, the rest at debug", with a count.
//!
//! - [`limited!`] logs a core line about a provider within its budget.
//! - [`ProviderLog::output`] re-logs a line the provider printed at the level
//!   it printed ([`parse`]), target `provider`.
//! - [`ProviderLogs`] keys connections to the hand-started provider socket.

mod line;
mod window;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tracing::Level;

pub use line::parse;
pub use window::Budget;
use window::{Verdict, Window};

/// Logs like `tracing::event!` at a constant level, with `$level` picked at
/// run time.
macro_rules! at_level {
    (target: $target:expr, $level:expr, $($arg:tt)+) => {
        match $level {
            ::tracing::Level::ERROR => ::tracing::event!(target: $target, ::tracing::Level::ERROR, $($arg)+),
            ::tracing::Level::WARN => ::tracing::event!(target: $target, ::tracing::Level::WARN, $($arg)+),
            ::tracing::Level::INFO => ::tracing::event!(target: $target, ::tracing::Level::INFO, $($arg)+),
            ::tracing::Level::DEBUG => ::tracing::event!(target: $target, ::tracing::Level::DEBUG, $($arg)+),
            _ => ::tracing::event!(target: $target, ::tracing::Level::TRACE, $($arg)+),
        }
    };
}

/// Logs one line about a provider within its budget: like
/// `tracing::event!(level, fields…, "format", args…)`, plus the field
/// `provider` (do not pass it). Over the budget of (`category`, `level`) the
/// line is logged at TRACE instead (see the module docs).
///
/// `limited!([target: "t",] log, "category", tracing::Level::WARN, code = 3, "refused: {why}")`
/// where `log` is a [`ProviderLog`] (or a reference or `Arc` to one),
/// `category` a `&'static str` and the level a `tracing::Level` constant.
macro_rules! limited {
    (target: $target:expr, $log:expr, $category:expr, $level:expr, $($arg:tt)+) => {{
        let log: &$crate::provider_log::ProviderLog = &$log;
        if log.admit($category, $level) {
            ::tracing::event!(target: $target, $level, provider = log.name(), $($arg)+)
        } else {
            ::tracing::event!(target: $target, ::tracing::Level::TRACE, provider = log.name(), $($arg)+)
        }
    }};
    ($log:expr, $category:expr, $level:expr, $($arg:tt)+) => {{
        let log: &$crate::provider_log::ProviderLog = &$log;
        if log.admit($category, $level) {
            ::tracing::event!($level, provider = log.name(), $($arg)+)
        } else {
            ::tracing::event!(::tracing::Level::TRACE, provider = log.name(), $($arg)+)
        }
    }};
}
pub(crate) use limited;

/// The log budgets of one provider: one [`Window`] per (category, level).
/// Shareable between tasks (`&self` methods). Dropping it reports what it
/// suppressed and has not reported yet.
pub struct ProviderLog {
    name: Option<Arc<str>>,
    budget: Budget,
    windows: Mutex<HashMap<(&'static str, Level), Window>>,
}

impl ProviderLog {
    /// Budgets for provider `name` ([`Budget::EVENTS`] per category and level).
    pub fn new(name: impl Into<Arc<str>>) -> ProviderLog {
        ProviderLog::build(Some(name.into()))
    }

    /// Budgets for lines that name no provider (a connection that has not
    /// said who it is); its lines carry no `provider` field.
    pub fn unnamed() -> ProviderLog {
        ProviderLog::build(None)
    }

    fn build(name: Option<Arc<str>>) -> ProviderLog {
        ProviderLog {
            name,
            budget: Budget::EVENTS,
            windows: Mutex::default(),
        }
    }

    /// The same with `budget` for every category (e.g. [`Budget::OUTPUT`]).
    pub fn with_budget(mut self, budget: Budget) -> ProviderLog {
        self.budget = budget;
        self
    }

    /// The provider's name; `None` for [`ProviderLog::unnamed`].
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Counts one `category` line at `level` now: `true` when it is within
    /// the budget and is to be logged at `level`. Logs, at `level`, the count
    /// of the window that just ended and the notice when the budget runs out.
    /// Used by [`limited!`].
    pub fn admit(&self, category: &'static str, level: Level) -> bool {
        let now = Instant::now();
        let (ended, verdict) = {
            let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
            windows
                .entry((category, level))
                .or_insert_with(|| Window::new(self.budget, now))
                .admit(now)
        };
        if ended > 0 {
            self.report(category, level, ended);
        }
        match verdict {
            Verdict::Log => true,
            Verdict::FirstOver => {
                let b = self.budget;
                at_level!(
                    target: "igloo::provider_log",
                    level,
                    provider = self.name(),
                    category,
                    "more than {} {category} lines within {} s: further ones are counted and logged at TRACE only",
                    b.lines,
                    b.window.as_secs()
                );
                false
            }
            Verdict::Over => false,
        }
    }

    fn report(&self, category: &'static str, level: Level, suppressed: u64) {
        at_level!(
            target: "igloo::provider_log",
            level,
            provider = self.name(),
            category,
            suppressed,
            "{suppressed} {category} lines over the log budget were suppressed"
        );
    }

    /// Logs one line the provider printed on `fd` (`"stdout"`/`"stderr"`)
    /// at the level it printed (see [`parse`]; invalid UTF-8 is replaced),
    /// target `provider`, fields `provider`, `fd`, `module` and `spans` (when
    /// printed); the provider's own fields stay text in the message. Within
    /// the budget of (`fd`, level).
    pub fn output(&self, fd: &'static str, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let line = parse(&text);
        let level = if self.admit(fd, line.level) {
            line.level
        } else {
            Level::TRACE
        };
        at_level!(
            target: "provider",
            level,
            provider = self.name(),
            fd,
            module = line.module,
            spans = line.spans,
            "{}",
            line.message
        );
    }
}

impl Drop for ProviderLog {
    fn drop(&mut self) {
        let windows = self
            .windows
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        let pending: Vec<_> = windows
            .iter_mut()
            .map(|(&(category, level), w)| (category, level, w.take_suppressed()))
            .filter(|(_, _, n)| *n > 0)
            .collect();
        for (category, level, n) in pending {
            self.report(category, level, n);
        }
    }
}

/// How many provider names [`ProviderLogs`] keeps budgets for; connections
/// with further names share the unnamed budget.
pub const MAX_NAMED: usize = 64;

/// Budgets for connections to the hand-started provider socket, where the
/// name is known only after `Hello` and a client may try many: one
/// [`ProviderLog`] per name (the first [`MAX_NAMED`]), one shared
/// ([`ProviderLog::unnamed`]) for the rest and for connections without a
/// (valid) name.
pub struct ProviderLogs {
    named: Mutex<HashMap<String, Arc<ProviderLog>>>,
    shared: Arc<ProviderLog>,
}

impl Default for ProviderLogs {
    fn default() -> ProviderLogs {
        ProviderLogs {
            named: Mutex::default(),
            shared: Arc::new(ProviderLog::unnamed()),
        }
    }
}

impl ProviderLogs {
    /// The budgets of provider `name` (a valid provider name), or the shared
    /// ones once [`MAX_NAMED`] names have their own.
    pub fn named(&self, name: &str) -> Arc<ProviderLog> {
        let mut named = self.named.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(log) = named.get(name) {
            return log.clone();
        }
        if named.len() >= MAX_NAMED {
            return self.shared.clone();
        }
        let log = Arc::new(ProviderLog::new(name));
        named.insert(name.to_string(), log.clone());
        log
    }

    /// The budgets shared by connections without a name.
    pub fn shared(&self) -> Arc<ProviderLog> {
        self.shared.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::Duration;

    use super::*;

    /// Everything logged while `f` runs, at every level, as the core's fmt
    /// format prints it without time.
    fn captured(f: impl FnOnce()) -> Vec<String> {
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_string).collect()
    }

    fn at(lines: &[String], level: &str, needle: &str) -> usize {
        lines
            .iter()
            .filter(|l| l.starts_with(level) && l.contains(needle))
            .count()
    }

    const THREE: Budget = Budget {
        lines: 3,
        window: Duration::from_secs(3600),
    };

    #[test]
    fn a_flood_is_logged_up_to_the_budget_then_counted_when_dropped() {
        let lines = captured(|| {
            let log = ProviderLog::new("flood").with_budget(THREE);
            for i in 0..10 {
                limited!(log, "refused", Level::WARN, code = 4, "refused: write {i}");
            }
        });
        assert_eq!(at(&lines, " WARN", "refused: write"), 3, "{lines:#?}");
        assert_eq!(at(&lines, "TRACE", "refused: write"), 7, "{lines:#?}");
        assert!(
            lines[..3]
                .iter()
                .all(|l| l.contains("code=4") && l.contains("provider=\"flood\"")),
            "{lines:#?}"
        );
        assert_eq!(
            at(&lines, " WARN", "more than 3 refused lines within 3600 s"),
            1,
            "one notice when the budget runs out: {lines:#?}"
        );
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(" WARN")
                && last.contains("7 refused lines over the log budget were suppressed")
                && last.contains("suppressed=7")
                && last.contains("category=\"refused\"")
                && last.contains("provider=\"flood\""),
            "{lines:#?}"
        );
        assert_eq!(lines.len(), 12, "{lines:#?}");
    }

    #[test]
    fn categories_and_levels_have_their_own_budgets() {
        let lines = captured(|| {
            let log = ProviderLog::new("p").with_budget(THREE);
            for _ in 0..5 {
                limited!(log, "refused", Level::WARN, "a refusal");
                limited!(log, "reported", Level::WARN, "a report");
                limited!(log, "refused", Level::ERROR, "a bad refusal");
            }
        });
        assert_eq!(at(&lines, " WARN", "a refusal"), 3);
        assert_eq!(at(&lines, " WARN", "a report"), 3);
        assert_eq!(at(&lines, "ERROR", "a bad refusal"), 3);
        assert_eq!(at(&lines, "ERROR", "2 refused lines over"), 1);
    }

    #[test]
    fn a_quiet_provider_reports_nothing_when_dropped() {
        let lines = captured(|| {
            let log = ProviderLog::new("quiet").with_budget(THREE);
            limited!(log, "refused", Level::WARN, "one");
        });
        assert_eq!(lines.len(), 1, "{lines:#?}");
    }

    #[test]
    fn output_is_logged_at_the_providers_level_with_its_module() {
        let lines = captured(|| {
            let log = ProviderLog::new("mqtt");
            log.output(
                "stderr",
                b" WARN igloo_mqtt::session: broker gone retry_ms=500\n",
            );
            log.output("stdout", b"plain \xff text");
        });
        assert_eq!(
            lines,
            vec![
                " WARN provider: broker gone retry_ms=500 provider=\"mqtt\" fd=\"stderr\" \
                 module=\"igloo_mqtt::session\""
                    .to_string(),
                " INFO provider: plain \u{fffd} text provider=\"mqtt\" fd=\"stdout\"".to_string(),
            ]
        );
    }

    #[test]
    fn output_over_the_budget_is_counted_per_stream_and_level() {
        let lines = captured(|| {
            let log = ProviderLog::new("noisy").with_budget(THREE);
            for i in 0..50 {
                log.output("stderr", format!(" INFO noisy: line {i}").as_bytes());
            }
            log.output("stderr", b"ERROR noisy: the one that matters");
        });
        assert_eq!(at(&lines, " INFO", "provider: line"), 3);
        assert_eq!(at(&lines, "TRACE", "provider: line"), 47);
        assert_eq!(at(&lines, "ERROR", "the one that matters"), 1);
        assert_eq!(at(&lines, " INFO", "suppressed=47"), 1);
    }

    #[test]
    fn socket_connections_share_a_budget_past_the_named_ones() {
        let logs = ProviderLogs::default();
        let a = logs.named("a");
        assert!(Arc::ptr_eq(&a, &logs.named("a")));
        assert_eq!(a.name(), Some("a"));
        for i in 1..MAX_NAMED {
            logs.named(&format!("n{i}"));
        }
        let late = logs.named("late");
        assert!(Arc::ptr_eq(&late, &logs.shared()));
        assert_eq!(late.name(), None);
    }
}
