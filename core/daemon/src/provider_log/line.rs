//! Reading one line a provider printed: the level, module and spans that
//! tracing-subscriber's fmt format writes (the SDK's `init_logging`:
//! `LEVEL [span{fields}:…: ]module::path: message key=value`, optionally
//! after a timestamp), so the core can log it again at that level.

use tracing::Level;

/// One provider output line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The level printed; without one, INFO (ERROR for a Rust panic message).
    pub level: Level,
    /// The provider's tracing target (its module path), when printed.
    pub module: Option<&'a str>,
    /// The span chain printed before the module (`conn{id=1}:login:`), without
    /// the final colon.
    pub spans: Option<&'a str>,
    /// The rest: the message and the event's fields as printed. The whole
    /// line (trailing white space removed) when no level was recognised.
    pub message: &'a str,
}

/// Splits `line`. Never fails: a line without a recognisable level (Python,
/// a shell script, a continuation line) is kept whole at INFO, except the
/// first line of a Rust panic (`thread '…' panicked at …`), which is ERROR.
pub fn parse(line: &str) -> Line<'_> {
    let line = line.trim_end();
    let Some((level, rest)) = leading_level(line) else {
        let panic = line.starts_with("thread '") && line.contains("' panicked at");
        return Line {
            level: if panic { Level::ERROR } else { Level::INFO },
            module: None,
            spans: None,
            message: line,
        };
    };
    let (first, after_first) = token(rest);
    let Some(head) = first.strip_suffix(':') else {
        return plain(level, rest);
    };
    if is_path(head) {
        return Line {
            level,
            module: Some(head),
            spans: None,
            message: after_first,
        };
    }
    if !is_span_chain(first) {
        return plain(level, rest);
    }
    let (second, message) = token(after_first);
    match second.strip_suffix(':').filter(|m| is_path(m)) {
        Some(module) => Line {
            level,
            module: Some(module),
            spans: Some(head),
            message,
        },
        // Spans but no target (`with_target(false)`).
        None => Line {
            level,
            module: None,
            spans: Some(head),
            message: after_first,
        },
    }
}

fn plain(level: Level, message: &str) -> Line<'_> {
    Line {
        level,
        module: None,
        spans: None,
        message,
    }
}

/// The level at the start of `line` (after optional padding and an optional
/// timestamp) and what follows it.
fn leading_level(line: &str) -> Option<(Level, &str)> {
    let line = line.trim_start();
    if let Some(found) = level_token(line) {
        return Some(found);
    }
    let (first, rest) = token(line);
    let timestamp = first.starts_with(|c: char| c.is_ascii_digit()) && first.contains(':');
    if timestamp { level_token(rest) } else { None }
}

fn level_token(s: &str) -> Option<(Level, &str)> {
    let (word, rest) = token(s);
    let level = match word {
        "ERROR" => Level::ERROR,
        "WARN" => Level::WARN,
        "INFO" => Level::INFO,
        "DEBUG" => Level::DEBUG,
        "TRACE" => Level::TRACE,
        _ => return None,
    };
    Some((level, rest))
}

/// The text up to the first space outside braces (span fields may hold
/// spaces), and the rest after the spaces that follow it.
fn token(s: &str) -> (&str, &str) {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 => return (&s[..i], s[i..].trim_start()),
            _ => {}
        }
    }
    (s, "")
}

/// A tracing target as the fmt format prints it: a module path
/// (`igloo_mqtt::session`) or a short name (`provider`, `igloo-mqtt`).
fn is_path(s: &str) -> bool {
    !s.is_empty()
        && s.split("::").all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}

/// `name:`, `name{fields}:`, repeated, as the fmt format prints the spans
/// an event is in.
fn is_span_chain(s: &str) -> bool {
    let mut chars = s.chars().peekable();
    let mut spans = 0;
    while chars.peek().is_some() {
        let mut name = 0;
        while chars
            .next_if(|c| c.is_ascii_alphanumeric() || *c == '_')
            .is_some()
        {
            name += 1;
        }
        if name == 0 {
            return false;
        }
        if chars.next_if_eq(&'{').is_some() {
            let mut depth = 1;
            while depth > 0 {
                match chars.next() {
                    Some('{') => depth += 1,
                    Some('}') => depth -= 1,
                    Some(_) => {}
                    None => return false,
                }
            }
        }
        if chars.next_if_eq(&':').is_none() {
            return false;
        }
        spans += 1;
    }
    spans > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(level: Level, module: Option<&'static str>, message: &'static str) -> Line<'static> {
        Line {
            level,
            module,
            spans: None,
            message,
        }
    }

    #[test]
    fn every_level_the_sdk_prints_is_kept() {
        for (printed, level) in [
            ("ERROR", Level::ERROR),
            (" WARN", Level::WARN),
            (" INFO", Level::INFO),
            ("DEBUG", Level::DEBUG),
            ("TRACE", Level::TRACE),
        ] {
            let text = format!("{printed} igloo_mqtt::session: broker gone key=value n=3\n");
            assert_eq!(
                parse(&text),
                line(
                    level,
                    Some("igloo_mqtt::session"),
                    "broker gone key=value n=3"
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_timestamp_before_the_level_is_skipped() {
        assert_eq!(
            parse("2025-01-02T03:04:05.678901Z  WARN igloo_serial::p1: telegram rejected"),
            line(Level::WARN, Some("igloo_serial::p1"), "telegram rejected")
        );
    }

    #[test]
    fn spans_are_split_from_the_module() {
        assert_eq!(
            parse(" INFO conn{id=1 peer=\"a b\"}:login: igloo_esphome::session: ok"),
            Line {
                level: Level::INFO,
                module: Some("igloo_esphome::session"),
                spans: Some("conn{id=1 peer=\"a b\"}:login"),
                message: "ok",
            }
        );
        assert_eq!(
            parse("ERROR a{x=1}: lost"),
            Line {
                level: Level::ERROR,
                module: None,
                spans: Some("a{x=1}"),
                message: "lost",
            }
        );
    }

    #[test]
    fn a_level_without_a_module_keeps_the_whole_message() {
        assert_eq!(
            parse("WARN disk almost full"),
            line(Level::WARN, None, "disk almost full")
        );
        assert_eq!(parse(" WARN"), line(Level::WARN, None, ""));
        // A message that starts with `word:` reads as a module: the fmt
        // format cannot tell them apart.
        assert_eq!(
            parse("ERROR failed: code 3"),
            line(Level::ERROR, Some("failed"), "code 3")
        );
        assert_eq!(
            parse("ERROR x:y: code 3"),
            Line {
                level: Level::ERROR,
                module: None,
                spans: Some("x:y"),
                message: "code 3",
            }
        );
    }

    #[test]
    fn lines_without_a_level_stay_info() {
        for text in [
            "",
            "   ",
            "plain text from a shell script",
            "WARNING:root:python's default format",
            "warn lower case is not tracing's format",
            "INFOx glued",
            "[WARN] bracketed",
            "igloo-test-provider[12]: mode good",
            "12:00 not a level after this",
        ] {
            let p = parse(text);
            assert_eq!(
                (p.level, p.module, p.spans, p.message),
                (Level::INFO, None, None, text.trim_end()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_rust_panic_is_an_error() {
        let p = parse("thread 'main' panicked at src/main.rs:3:5:");
        assert_eq!(p.level, Level::ERROR);
        assert_eq!(p.message, "thread 'main' panicked at src/main.rs:3:5:");
    }

    #[test]
    fn invalid_utf8_keeps_the_level_and_the_rest_of_the_line() {
        let raw = b" WARN igloo_mqtt: caf\xe9 \xff\xfe n=1";
        let text = String::from_utf8_lossy(raw);
        assert_eq!(
            parse(&text),
            line(
                Level::WARN,
                Some("igloo_mqtt"),
                "caf\u{fffd} \u{fffd}\u{fffd} n=1"
            )
        );
        // Garbage where the level would be: no level.
        let text = String::from_utf8_lossy(b"\xffWARN igloo_mqtt: x");
        assert_eq!(parse(&text).level, Level::INFO);
        assert_eq!(parse(&text).message, "\u{fffd}WARN igloo_mqtt: x");
    }

    #[test]
    fn unbalanced_braces_do_not_confuse_the_split() {
        assert_eq!(parse("DEBUG a{x: y"), line(Level::DEBUG, None, "a{x: y"));
        assert_eq!(parse("DEBUG }}: y"), line(Level::DEBUG, None, "}}: y"));
    }
}
