//! Python fakes of real peers (`tests/fakes/*.py`), run with the test venv's
//! Python: each prints one JSON event per line on stdout and takes JSON
//! control commands on stdin, answered by a `done` (or `error`) event naming
//! the `op`. See `tests/fakes/README.md`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::bins::target_dir;
use super::wait::TIMEOUT;

/// The Python with the fakes' packages (`tests/fakes/requirements.txt`):
/// `IGLOO_TEST_PYTHON`, else `<target>/test-venv/bin/python` (made by
/// `scripts/test`).
///
/// # Panics
/// If neither exists, saying how to make it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("IGLOO_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let p = target_dir().join("test-venv/bin/python");
    if !p.is_file() {
        panic!(
            "{} not found: run scripts/test (it creates the venv), or \
             `python3 -m venv {venv} && {venv}/bin/pip install -r tests/fakes/requirements.txt`",
            p.display(),
            venv = target_dir().join("test-venv").display()
        );
    }
    p
}

/// `tests/fakes/`.
pub fn fakes_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fakes")
}

/// Runs a fake's self-check script (`tests/fakes/check_*.py`, which drives
/// the fake with the peer's own client library) and returns its output.
///
/// # Panics
/// If it cannot run, exits non-zero, or does not report `checks passed`.
pub fn run_self_check(script: &str) -> String {
    let path = fakes_dir().join(script);
    let out = Command::new(python())
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    assert!(text.contains("checks passed"), "{script}: {text}");
    text
}

/// A running fake; killed on drop.
pub struct FakeProcess {
    label: String,
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl FakeProcess {
    /// Starts `tests/fakes/<script>` with `args`.
    ///
    /// # Panics
    /// If it cannot be started.
    pub fn spawn(label: &str, script: &str, args: &[String]) -> FakeProcess {
        let mut child = Command::new(python())
            .arg(fakes_dir().join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {label}: {e}"));
        let stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let (tx, rx) = mpsc::channel();
        let name = label.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("{name}: {line}"),
                }
            }
        });
        FakeProcess {
            label: label.to_string(),
            child,
            stdin,
            rx,
            seen: Vec::new(),
        }
    }

    /// Reads every event that arrived so far.
    pub fn drain(&mut self) {
        while let Ok(v) = self.rx.try_recv() {
            self.seen.push(v);
        }
    }

    /// Every event so far.
    pub fn events(&mut self) -> &[Value] {
        self.drain();
        &self.seen
    }

    /// Events named `name` so far.
    pub fn count(&mut self, name: &str) -> usize {
        self.events().iter().filter(|e| e["event"] == name).count()
    }

    /// Waits for an event matching `pred` at or after position `from` of
    /// [`FakeProcess::events`], and returns it.
    ///
    /// # Panics
    /// On timeout, listing the recent events.
    pub fn wait_event_from(
        &mut self,
        from: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        let mut checked = from;
        loop {
            self.drain();
            if let Some(v) = self.seen.iter().skip(checked).find(|v| pred(v)) {
                return v.clone();
            }
            checked = self.seen.len().max(from);
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let start = self.seen.len().saturating_sub(15);
                panic!(
                    "{}: no {what} within {timeout:?}; recent events:\n{}",
                    self.label,
                    self.seen[start..]
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            if let Ok(v) = self.rx.recv_timeout(left.min(Duration::from_millis(100))) {
                self.seen.push(v);
            }
        }
    }

    /// [`FakeProcess::wait_event_from`] over every event so far.
    pub fn wait_event(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        self.wait_event_from(0, what, timeout, pred)
    }

    /// Sends a control command and waits for its `done` (panics on `error`).
    pub fn op(&mut self, op: Value) -> Value {
        let v = self.reply(op.clone());
        assert_eq!(v["event"], "done", "{} refused {op}: {v}", self.label);
        v
    }

    /// Sends a control command and returns its reply, `done` or `error`.
    pub fn reply(&mut self, op: Value) -> Value {
        let from = self.events().len();
        let line = format!("{op}\n");
        self.stdin
            .write_all(line.as_bytes())
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("{}: cannot send {op}: {e}", self.label));
        let name = op["op"].clone();
        self.wait_event_from(from, &format!("reply to {op}"), TIMEOUT, |e| {
            (e["event"] == "done" || e["event"] == "error") && e["op"] == name
        })
    }
}

impl Drop for FakeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
