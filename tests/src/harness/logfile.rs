//! A log file written by a child process (stdout and stderr), searched by tests.
//!
//! Lines are read with ANSI colour codes removed, and a structured field logged
//! as `key="value"` also matches a needle `key=value`, so needles are written
//! the way `tracing`'s plain output shows them: `provider=mqtt`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::wait::wait_for;

/// A captured log.
#[derive(Debug, Clone)]
pub struct LogFile {
    path: PathBuf,
}

impl LogFile {
    /// The log at `path` (it may not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> LogFile {
        LogFile { path: path.into() }
    }

    /// Where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole log so far, ANSI codes removed; empty if it does not exist yet.
    pub fn text(&self) -> String {
        match std::fs::read(&self.path) {
            Ok(bytes) => strip_ansi(&String::from_utf8_lossy(&bytes)),
            Err(_) => String::new(),
        }
    }

    /// The lines so far, normalised (see the module docs).
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(normalise).collect()
    }

    /// Whether any line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines().iter().any(|l| l.contains(needle))
    }

    /// The first line containing every needle.
    pub fn find_line(&self, needles: &[&str]) -> Option<String> {
        self.lines()
            .into_iter()
            .find(|l| needles.iter().all(|n| l.contains(n)))
    }

    /// Every line containing every needle.
    pub fn find_lines(&self, needles: &[&str]) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .collect()
    }

    /// Waits for a line containing every needle and returns it.
    ///
    /// # Panics
    /// On timeout, with the needles and the log's last lines.
    pub fn wait_line(&self, timeout: Duration, needles: &[&str]) -> String {
        wait_for(
            timeout,
            format!(
                "a line containing all of {needles:?} in {}",
                self.path.display()
            ),
            || {
                self.find_line(needles)
                    .ok_or_else(|| format!("no such line; log tail:\n{}", self.tail(30)))
            },
        )
    }

    /// The last `n` lines, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(n);
        lines[from..].join("\n")
    }

    /// Appends a marker line (e.g. "core restarted") to make the log readable.
    pub fn mark(&self, what: &str) {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            let _ = writeln!(f, "===== test harness: {what} =====");
        }
    }
}

/// `key="value"` → `key=value`, so needles need not care how a field was recorded.
fn normalise(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    let mut in_quoted_value = false;
    while let Some(c) = chars.next() {
        if c == '=' && chars.peek() == Some(&'"') {
            chars.next();
            out.push('=');
            in_quoted_value = true;
            continue;
        }
        if in_quoted_value && c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
            continue;
        }
        if in_quoted_value && c == '"' {
            in_quoted_value = false;
            continue;
        }
        out.push(c);
    }
    out
}

/// Removes ANSI escape sequences (CSI `ESC [ … final-byte`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_colours_are_normalised() {
        let raw = "\u{1b}[2mprovider\u{1b}[0m=\"mqtt\" error=\"bad \\\"x\\\"\" n=1";
        assert_eq!(
            normalise(&strip_ansi(raw)),
            "provider=mqtt error=bad \"x\" n=1"
        );
    }
}
