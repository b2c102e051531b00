//! Headless chromium for tests in a real browser: `tests/browser/driver.py`
//! (Playwright for Python driving Debian's `/usr/bin/chromium`, see
//! `tests/README.md`) run with the test venv's Python ([`python`]), one page
//! per [`Browser`].
//!
//! Every method sends one JSON command line and reads the driver's one JSON
//! answer line; a failure comes back as `Err` with the driver's message,
//! which names the command, the selector and what was waited for. Selectors
//! are Playwright's (CSS by default). Methods that wait for their element
//! wait [`TIMEOUT`] unless they take a timeout. When a test fails while a
//! [`Browser`] is alive, its page is saved as a screenshot and what the page
//! logged is printed; the driver, node and chromium are ended on drop.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::bins::target_dir;
use super::fake::python;
use super::wait::{LONG, TIMEOUT};

/// Time a command may take beyond its own timeout before the driver counts
/// as hung (a screenshot, a slow machine).
const MARGIN: Duration = Duration::from_secs(15);
/// How long the driver gets to close chromium and exit before it is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// `tests/browser/driver.py`.
pub fn driver_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/driver.py")
}

/// `<target>/test-artifacts/screenshots/`, where [`Browser::screenshot`]
/// saves (created on first use).
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("test-artifacts/screenshots")
}

/// How to launch the browser.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    /// Viewport width, CSS pixels.
    pub width: u32,
    /// Viewport height, CSS pixels.
    pub height: u32,
    /// The chromium binary: `IGLOO_TEST_CHROMIUM`, else `/usr/bin/chromium`.
    pub executable: PathBuf,
}

impl Default for BrowserOptions {
    fn default() -> BrowserOptions {
        BrowserOptions {
            width: 1280,
            height: 800,
            executable: std::env::var_os("IGLOO_TEST_CHROMIUM")
                .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from),
        }
    }
}

impl BrowserOptions {
    /// With a `width` × `height` viewport (e.g. 375 × 667 for a phone).
    pub fn viewport(mut self, width: u32, height: u32) -> BrowserOptions {
        self.width = width;
        self.height = height;
        self
    }
}

/// Where the page went ([`Browser::goto`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Navigation {
    /// HTTP status of the main response; `None` for URLs without one
    /// (`data:`, `about:blank`).
    pub status: Option<u16>,
    /// The page's URL after redirects.
    pub url: String,
}

/// A cookie of the browser's context ([`Browser::cookies`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Host it is sent to (`127.0.0.1`).
    pub domain: String,
    /// Path.
    pub path: String,
    /// Expiry, Unix seconds; -1 for a session cookie.
    pub expires: f64,
    /// `HttpOnly`: hidden from the page's scripts.
    pub http_only: bool,
    /// `Secure`.
    pub secure: bool,
    /// `SameSite`: `Strict`, `Lax` or `None`.
    pub same_site: String,
}

/// Something the page logged ([`Browser::console`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConsoleMessage {
    /// The console level (`log`, `info`, `warning`, `error`, `debug`, …),
    /// or `pageerror` for an uncaught exception.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: String,
    /// `url:line:column` of the source, when known.
    pub location: Option<String>,
}

impl ConsoleMessage {
    /// A console error or an uncaught exception.
    pub fn is_error(&self) -> bool {
        self.kind == "error" || self.kind == "pageerror"
    }

    /// Chromium's report of something the page's Content-Security-Policy
    /// blocked (an inline script, a foreign origin, `eval`).
    pub fn is_csp_violation(&self) -> bool {
        self.text.contains("Content Security Policy")
    }
}

/// What [`Browser::wait_selector`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitState {
    /// In the DOM.
    Attached,
    /// Not in the DOM.
    Detached,
    /// In the DOM with a non-empty box and not `visibility: hidden`.
    Visible,
    /// Not in the DOM, or not visible.
    Hidden,
}

impl WaitState {
    fn as_str(self) -> &'static str {
        match self {
            WaitState::Attached => "attached",
            WaitState::Detached => "detached",
            WaitState::Visible => "visible",
            WaitState::Hidden => "hidden",
        }
    }
}

/// A headless chromium with one page, driven through `tests/browser/driver.py`.
/// Ended on drop (on a failing test, after saving a screenshot).
pub struct Browser {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Value>,
    version: String,
}

impl Browser {
    /// Launches chromium with the default [`BrowserOptions`].
    ///
    /// # Panics
    /// If it cannot be launched, with the driver's reason.
    pub fn launch() -> Browser {
        Browser::launch_with(&BrowserOptions::default())
    }

    /// Launches chromium with `options`.
    ///
    /// # Panics
    /// If it cannot be launched, with the driver's reason.
    pub fn launch_with(options: &BrowserOptions) -> Browser {
        Browser::try_launch(options).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Launches chromium and waits (up to [`LONG`]) until its page is open.
    ///
    /// # Errors
    /// The driver cannot be started, reports that chromium cannot be
    /// launched, or says nothing in time.
    pub fn try_launch(options: &BrowserOptions) -> Result<Browser, String> {
        let driver = driver_path();
        let mut child = Command::new(python())
            .arg(&driver)
            .arg("--executable")
            .arg(&options.executable)
            .arg(format!("--width={}", options.width))
            .arg(format!("--height={}", options.height))
            .arg(format!("--timeout-ms={}", TIMEOUT.as_millis()))
            // Never a browser download, should anything ask for one.
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            // Its own process group, which Drop can kill with node.
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("the browser driver has no stdin or stdout pipe".to_string());
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("browser driver: {line}"),
                }
            }
        });
        let mut browser = Browser {
            child,
            stdin: Some(stdin),
            rx,
            version: String::new(),
        };
        let ready = browser.answer("launch", LONG)?;
        browser.version = ready["version"]
            .as_str()
            .ok_or_else(|| format!("the driver's ready line has no version: {ready}"))?
            .to_string();
        Ok(browser)
    }

    /// Chromium's version, e.g. `156.0.8078.114`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sends `command` (a JSON object with `cmd`) and waits up to `wait` +
    /// a margin for its answer: the answer's fields when it is `ok`.
    ///
    /// # Errors
    /// The driver's `error`, or that it exited or did not answer.
    pub fn request(&mut self, command: &Value, wait: Duration) -> Result<Value, String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| "the browser is closed".to_string())?;
        stdin
            .write_all(format!("{command}\n").as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot send {command} to the browser driver: {e}"))?;
        self.answer(&command.to_string(), wait + MARGIN)
    }

    /// The next answer line, within `wait`.
    fn answer(&mut self, what: &str, wait: Duration) -> Result<Value, String> {
        match self.rx.recv_timeout(wait) {
            Ok(v) if v["ok"] == true => Ok(v),
            Ok(v) => Err(v["error"]
                .as_str()
                .map_or_else(|| format!("{what}: failed: {v}"), str::to_string)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // A late answer would be taken for the next command's: this
                // browser is done.
                let ended = self.end().err().unwrap_or_default();
                Err(format!(
                    "{what}: the browser driver did not answer within {wait:?} {ended}"
                ))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self
                    .child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                Err(format!(
                    "{what}: the browser driver exited ({status}); its stderr is above"
                ))
            }
        }
    }

    /// A field of an answer, decoded.
    fn field<T: DeserializeOwned>(answer: &Value, name: &str) -> Result<T, String> {
        serde_json::from_value(answer[name].clone())
            .map_err(|e| format!("unexpected {name:?} in the driver's answer {answer}: {e}"))
    }

    /// Opens `url` and waits for its `load` event (up to [`TIMEOUT`]).
    /// An HTTP error status is no error: it is in [`Navigation::status`].
    ///
    /// # Errors
    /// The page cannot be loaded (refused connection, timeout).
    pub fn goto(&mut self, url: &str) -> Result<Navigation, String> {
        let v = self.request(&json!({"cmd": "goto", "url": url}), TIMEOUT)?;
        serde_json::from_value(v.clone()).map_err(|e| format!("goto {url}: answer {v}: {e}"))
    }

    /// Clicks the element `selector` matches, once it is visible, enabled and
    /// still.
    ///
    /// # Errors
    /// No single such element within [`TIMEOUT`].
    pub fn click(&mut self, selector: &str) -> Result<(), String> {
        self.request(&json!({"cmd": "click", "selector": selector}), TIMEOUT)
            .map(drop)
    }

    /// Replaces the value of the input, textarea or contenteditable
    /// `selector` matches with `text` (firing `input`).
    ///
    /// # Errors
    /// No single such element within [`TIMEOUT`].
    pub fn fill(&mut self, selector: &str, text: &str) -> Result<(), String> {
        let cmd = json!({"cmd": "fill", "selector": selector, "text": text});
        self.request(&cmd, TIMEOUT).map(drop)
    }

    /// Chooses the option with value `value` in the `<select>` `selector`
    /// matches; returns the selected values.
    ///
    /// # Errors
    /// No such select or option within [`TIMEOUT`].
    pub fn select(&mut self, selector: &str, value: &str) -> Result<Vec<String>, String> {
        let cmd = json!({"cmd": "select", "selector": selector, "value": value});
        let v = self.request(&cmd, TIMEOUT)?;
        Browser::field(&v, "selected")
    }

    /// Sets the `<input type=range>` `selector` matches to `value` and fires
    /// `input` and `change`, as dragging its thumb does; returns the value
    /// the input took (clamped to its `min`, `max` and `step`).
    ///
    /// # Errors
    /// No such element within [`TIMEOUT`], or it is not a range input.
    pub fn set_range(&mut self, selector: &str, value: f64) -> Result<String, String> {
        let cmd = json!({"cmd": "set_range", "selector": selector, "value": value});
        let v = self.request(&cmd, TIMEOUT)?;
        Browser::field(&v, "value")
    }

    /// Waits until the text (`textContent`) of the one element `selector`
    /// matches contains `text`; returns that text.
    ///
    /// # Errors
    /// Not within `timeout` (saying what the text was), or the selector
    /// matches more than one element.
    pub fn wait_text(
        &mut self,
        selector: &str,
        text: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let cmd = json!({"cmd": "wait_text", "selector": selector, "text": text,
                         "timeout_ms": millis(timeout)});
        let v = self.request(&cmd, timeout)?;
        Browser::field(&v, "text")
    }

    /// Waits until attribute `name` of the one element `selector` matches is
    /// `value`.
    ///
    /// # Errors
    /// Not within `timeout` (saying what it was), or the selector matches
    /// more than one element.
    pub fn wait_attr(
        &mut self,
        selector: &str,
        name: &str,
        value: &str,
        timeout: Duration,
    ) -> Result<(), String> {
        let cmd = json!({"cmd": "wait_attr", "selector": selector, "name": name,
                         "value": value, "timeout_ms": millis(timeout)});
        self.request(&cmd, timeout).map(drop)
    }

    /// Waits until an element `selector` matches is in `state`.
    ///
    /// # Errors
    /// Not within `timeout`.
    pub fn wait_selector(
        &mut self,
        selector: &str,
        state: WaitState,
        timeout: Duration,
    ) -> Result<(), String> {
        let cmd = json!({"cmd": "wait_selector", "selector": selector,
                         "state": state.as_str(), "timeout_ms": millis(timeout)});
        self.request(&cmd, timeout).map(drop)
    }

    /// The text (`textContent`) of the one element `selector` matches.
    ///
    /// # Errors
    /// No single such element within [`TIMEOUT`].
    pub fn text(&mut self, selector: &str) -> Result<String, String> {
        let v = self.request(&json!({"cmd": "text", "selector": selector}), TIMEOUT)?;
        Browser::field::<Option<String>>(&v, "text").map(Option::unwrap_or_default)
    }

    /// Attribute `name` of the one element `selector` matches (`None`
    /// when it has none).
    ///
    /// # Errors
    /// No single such element within [`TIMEOUT`].
    pub fn attr(&mut self, selector: &str, name: &str) -> Result<Option<String>, String> {
        let cmd = json!({"cmd": "attr", "selector": selector, "name": name});
        let v = self.request(&cmd, TIMEOUT)?;
        Browser::field(&v, "value")
    }

    /// How many elements `selector` matches now (no waiting).
    ///
    /// # Errors
    /// An invalid selector.
    pub fn count(&mut self, selector: &str) -> Result<usize, String> {
        let v = self.request(&json!({"cmd": "count", "selector": selector}), TIMEOUT)?;
        Browser::field(&v, "count")
    }

    /// Evaluates the JavaScript `expression` in the page and returns its
    /// value as JSON (a promise is awaited; a function is called). It runs
    /// through the DevTools protocol, which the page's CSP does not
    /// restrict, and sees the page's globals.
    ///
    /// # Errors
    /// It throws, or its value is not JSON (`Infinity`, a DOM node…).
    pub fn eval(&mut self, expression: &str) -> Result<Value, String> {
        let v = self.request(&json!({"cmd": "eval", "expression": expression}), TIMEOUT)?;
        Ok(v["value"].clone())
    }

    /// Saves a PNG of the page (the whole scrollable page with `full_page`,
    /// else the viewport) at `path`; returns its size in bytes.
    ///
    /// # Errors
    /// The page cannot be captured or the file written.
    pub fn screenshot_to(&mut self, path: &Path, full_page: bool) -> Result<u64, String> {
        let cmd = json!({"cmd": "screenshot", "path": path, "full_page": full_page});
        let v = self.request(&cmd, TIMEOUT)?;
        Browser::field(&v, "bytes")
    }

    /// Saves a PNG of the whole page as
    /// `<target>/test-artifacts/screenshots/<name>.png` ([`screenshot_dir`])
    /// and returns that path.
    ///
    /// # Errors
    /// `name` is not made of letters, digits, `-`, `_` and `.`; the
    /// directory cannot be created; the page cannot be captured.
    pub fn screenshot(&mut self, name: &str) -> Result<PathBuf, String> {
        let valid = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(format!(
                "screenshot name {name:?}: use letters, digits, '-', '_' and '.'"
            ));
        }
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        self.screenshot_to(&path, true)?;
        Ok(path)
    }

    /// The cookies the browser holds (for every site).
    ///
    /// # Errors
    /// The driver fails.
    pub fn cookies(&mut self) -> Result<Vec<Cookie>, String> {
        let v = self.request(&json!({"cmd": "cookies"}), TIMEOUT)?;
        Browser::field(&v, "cookies")
    }

    /// What the page logged since it was opened, in order: console messages
    /// (Chromium reports CSP violations there as errors) and uncaught
    /// exceptions (`pageerror`).
    ///
    /// # Errors
    /// The driver fails.
    pub fn console(&mut self) -> Result<Vec<ConsoleMessage>, String> {
        let v = self.request(&json!({"cmd": "console"}), TIMEOUT)?;
        Browser::field(&v, "messages")
    }

    /// Resizes the viewport to `width` × `height` CSS pixels.
    ///
    /// # Errors
    /// An empty size, or the driver fails.
    pub fn set_viewport(&mut self, width: u32, height: u32) -> Result<(), String> {
        let cmd = json!({"cmd": "viewport", "width": width, "height": height});
        self.request(&cmd, TIMEOUT).map(drop)
    }

    /// Closes chromium and waits for the driver to exit.
    ///
    /// # Errors
    /// It does not close cleanly (it is killed then).
    pub fn close(mut self) -> Result<(), String> {
        self.request(&json!({"cmd": "close"}), CLOSE_GRACE)
            .map(drop)
            .and_then(|()| self.end())
    }

    /// Closes the driver's stdin (it then closes chromium and exits) and
    /// waits for it; kills its process group if it is still there after
    /// [`CLOSE_GRACE`].
    fn end(&mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + CLOSE_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("the browser driver exited with {status}")),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(None) | Err(_) => break,
            }
        }
        // Node and the driver; chromium exits when node's pipe to it closes.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(-pid), Signal::SIGKILL);
        }
        let _ = self.child.wait();
        Err(format!(
            "the browser driver did not exit within {CLOSE_GRACE:?}: killed"
        ))
    }

    /// On a failing test: a screenshot named after the test and what the
    /// page logged, on stderr.
    fn report_failure(&mut self) {
        let test = std::thread::current()
            .name()
            .unwrap_or("browser")
            .replace("::", "-");
        let name = format!("{test}-failure");
        match self.screenshot(&name) {
            Ok(path) => eprintln!("browser: the page at the failure: {}", path.display()),
            Err(e) => eprintln!("browser: no screenshot of the failure: {e}"),
        }
        match self.console() {
            Ok(messages) => {
                eprintln!("----- browser console ({} messages) -----", messages.len());
                for m in &messages {
                    eprintln!(
                        "[{}] {} ({})",
                        m.kind,
                        m.text,
                        m.location.as_deref().unwrap_or("-")
                    );
                }
                eprintln!("-----");
            }
            Err(e) => eprintln!("browser: no console messages: {e}"),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.stdin.is_none() {
            return;
        }
        if std::thread::panicking() {
            self.report_failure();
        }
        if let Err(e) = self.end() {
            eprintln!("browser: {e}");
        }
    }
}

/// `d` in whole milliseconds, for the driver's `timeout_ms`.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
