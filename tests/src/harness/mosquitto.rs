//! A private Mosquitto broker on a free loopback port, plus publishing and
//! subscribing through the `mosquitto_pub` / `mosquitto_sub` clients.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::harness::logfile::LogFile;
use crate::harness::ports::{free_port, wait_port};
use crate::harness::wait::TIMEOUT;

/// A username and password for a broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// MQTT username.
    pub username: String,
    /// MQTT password.
    pub password: String,
}

impl Credentials {
    /// `username` / `password`.
    pub fn new(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_string(),
            password: password.to_string(),
        }
    }
}

/// A running broker. Killed on drop; its log tail is printed if the test is failing.
pub struct Mosquitto {
    port: u16,
    /// The second listener, which requires a password ([`Mosquitto::start_with_accounts`]).
    auth_port: Option<u16>,
    dir: TempDir,
    log: LogFile,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts Mosquitto on a free port of 127.0.0.1 (anonymous, no persistence)
    /// and waits until it accepts connections.
    ///
    /// # Panics
    /// If `mosquitto` is not installed or does not come up.
    pub fn start() -> Mosquitto {
        Mosquitto::start_with_accounts(&[])
    }

    /// [`Mosquitto::start`], plus (when `accounts` is not empty) a second
    /// listener on [`Mosquitto::auth_port`] that refuses anonymous clients and
    /// knows only `accounts` (a password file hashed by `mosquitto_passwd`).
    /// Messages are shared between the listeners, so the anonymous helpers
    /// ([`Mosquitto::publish`], [`Mosquitto::subscribe`]) still work.
    ///
    /// # Panics
    /// As [`Mosquitto::start`], or if `mosquitto_passwd` fails.
    pub fn start_with_accounts(accounts: &[Credentials]) -> Mosquitto {
        let dir = tempfile::Builder::new()
            .prefix("igloo-test-mosquitto-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for mosquitto: {e}"));
        let port = free_port();
        let mut conf = String::new();
        let mut auth_port = None;
        if !accounts.is_empty() {
            let passwd = dir.path().join("passwd");
            let plain: String = accounts
                .iter()
                .map(|c| format!("{}:{}\n", c.username, c.password))
                .collect();
            std::fs::write(&passwd, plain)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", passwd.display()));
            let out = Command::new("mosquitto_passwd")
                .arg("-U")
                .arg(&passwd)
                .output()
                .unwrap_or_else(|e| panic!("cannot run mosquitto_passwd: {e}"));
            assert!(
                out.status.success(),
                "mosquitto_passwd -U failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let p = free_port();
            auth_port = Some(p);
            conf.push_str(&format!(
                "per_listener_settings true\nlistener {p} 127.0.0.1\nallow_anonymous false\n\
                 password_file {}\n",
                passwd.display()
            ));
        }
        conf.push_str(&format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
             log_dest stderr\nlog_type all\nlog_timestamp_format %H:%M:%S\n"
        ));
        if running_as_root() {
            // Otherwise Mosquitto switches to the `mosquitto` user, which may not exist.
            conf.push_str("user root\n");
        }
        let conf_path = dir.path().join("mosquitto.conf");
        std::fs::write(&conf_path, conf)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", conf_path.display()));
        let log = LogFile::new(dir.path().join("mosquitto.log"));
        let mut m = Mosquitto {
            port,
            auth_port,
            dir,
            log,
            child: None,
        };
        m.spawn();
        m
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log.path())
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", self.log.path().display()));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the log file handle: {e}"));
        let child = Command::new("mosquitto")
            .arg("-c")
            .arg(self.conf_path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `mosquitto` ({e}); is Mosquitto installed (apt install mosquitto)?")
            });
        self.child = Some(child);
        let ports = [Some(self.port), self.auth_port];
        if !ports.into_iter().flatten().all(|p| wait_port(p, TIMEOUT)) {
            let status = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            panic!(
                "mosquitto did not accept connections on 127.0.0.1:{} within {:?} (exit: {status:?}); log:\n{}",
                self.port,
                TIMEOUT,
                self.log.tail(30)
            );
        }
        // A port that accepts is not yet a broker that answers: the first
        // test to publish at once saw `The connection was lost.` in CI. One
        // QoS 1 publish (CONNACK and PUBACK) proves it.
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match try_publish(self.port, None, "igloo-test/ready", b"", false) {
                Ok(()) => break,
                Err(e) if Instant::now() >= deadline => panic!(
                    "mosquitto on 127.0.0.1:{} did not answer an MQTT publish within {:?}: {e}; log:\n{}",
                    self.port,
                    TIMEOUT,
                    self.log.tail(30)
                ),
                Err(e) => {
                    eprintln!("mosquitto on 127.0.0.1:{} not ready yet: {e}", self.port);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }

    /// The broker's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, the form the MQTT provider's `broker` setting takes.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port of the listener that requires a password.
    ///
    /// # Panics
    /// If the broker was started without accounts.
    pub fn auth_port(&self) -> u16 {
        self.auth_port
            .unwrap_or_else(|| panic!("this broker has no password listener (start_with_accounts)"))
    }

    /// `127.0.0.1:<auth_port>`.
    pub fn auth_address(&self) -> String {
        format!("127.0.0.1:{}", self.auth_port())
    }

    /// The broker's log.
    pub fn log(&self) -> &LogFile {
        &self.log
    }

    /// Stops the broker (SIGTERM, then SIGKILL after 5 s) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, Duration::from_secs(5));
        }
        self.log.mark("mosquitto stopped");
    }

    /// Stops the broker and starts it again on the same port. Retained
    /// messages are lost (no persistence), like a broker that lost its state.
    pub fn restart(&mut self) {
        self.stop();
        self.log.mark("mosquitto starting again");
        self.spawn();
    }

    /// Publishes `payload` on `topic` with QoS 1 (and the retain flag if asked).
    ///
    /// # Panics
    /// If `mosquitto_pub` fails.
    pub fn publish(&self, topic: &str, payload: &[u8], retained: bool) {
        publish_to(self.port, topic, payload, retained);
    }

    /// [`Mosquitto::publish`] of a text payload.
    pub fn publish_str(&self, topic: &str, payload: &str, retained: bool) {
        self.publish(topic, payload.as_bytes(), retained);
    }

    /// [`Mosquitto::publish`] of a JSON value.
    pub fn publish_json(&self, topic: &str, payload: &serde_json::Value, retained: bool) {
        self.publish(topic, payload.to_string().as_bytes(), retained);
    }

    /// Subscribes to `filters` and returns once the subscription is live
    /// (checked by a probe message on a private topic).
    pub fn subscribe(&self, filters: &[&str]) -> Subscriber {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let probe = format!(
            "igloo-test/probe/{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut cmd = Command::new("mosquitto_sub");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-q", "1", "-F", "%j", "-t", &probe]);
        for f in filters {
            cmd.args(["-t", f]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run mosquitto_sub ({e}); is mosquitto-clients installed?")
            });
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("mosquitto_sub has no stdout pipe"));
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(msg) = MqttMessage::from_sub_json(&line)
                    && tx.send(msg).is_err()
                {
                    break;
                }
            }
        });
        let mut sub = Subscriber {
            child,
            rx,
            pending: std::collections::VecDeque::new(),
            seen: Vec::new(),
            filters: filters.iter().map(|s| s.to_string()).collect(),
        };
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.publish_str(&probe, "probe", false);
            if sub
                .try_wait_message(Duration::from_millis(300), |m| m.topic == probe)
                .is_some()
            {
                break;
            }
            if Instant::now() >= deadline {
                panic!("mosquitto_sub on {filters:?} never received its probe on {probe}");
            }
        }
        // Messages that came with the probe (e.g. retained ones) are still to be waited for.
        sub.pending = std::mem::take(&mut sub.seen)
            .into_iter()
            .filter(|m| m.topic != probe)
            .collect();
        sub
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "----- mosquitto log tail ({}) -----\n{}\n-----",
                self.log.path().display(),
                self.log.tail(40)
            );
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Whether this process runs as uid 0 (the owner of `/proc/self`).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Sends SIGTERM, waits up to `grace`, then SIGKILL; always reaps the child.
pub(crate) fn terminate(child: &mut Child, grace: Duration) -> Option<std::process::ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().ok()
}

/// One received MQTT message.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttMessage {
    /// Topic.
    pub topic: String,
    /// Payload as text.
    pub payload: String,
    /// Whether the broker delivered it as retained.
    pub retained: bool,
}

impl MqttMessage {
    /// Parses one line of `mosquitto_sub -F %j`. Depending on the Mosquitto
    /// version a JSON payload is embedded as a string or as JSON.
    fn from_sub_json(line: &str) -> Option<MqttMessage> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let topic = v.get("topic")?.as_str()?.to_string();
        // An empty message (a cleared retained one) comes as `"payload":null`
        // with `"payloadlen":0`.
        let empty = v.get("payloadlen").and_then(serde_json::Value::as_u64) == Some(0);
        let payload = match v.get("payload")? {
            _ if empty => String::new(),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let retained = match v.get("retain") {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::Number(n)) => n.as_u64() == Some(1),
            _ => false,
        };
        Some(MqttMessage {
            topic,
            payload,
            retained,
        })
    }

    /// The payload parsed as JSON.
    ///
    /// # Panics
    /// If it is not JSON, showing the payload.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.payload).unwrap_or_else(|e| {
            panic!(
                "payload on {} is not JSON ({e}): {:?}",
                self.topic, self.payload
            )
        })
    }
}

/// A live `mosquitto_sub`, recording what it receives. Killed on drop.
pub struct Subscriber {
    child: Child,
    rx: Receiver<MqttMessage>,
    /// Received but not yet looked at by a wait.
    pending: std::collections::VecDeque<MqttMessage>,
    seen: Vec<MqttMessage>,
    filters: Vec<String>,
}

impl Subscriber {
    /// Waits for a message matching `pred`; messages before it are kept in [`Subscriber::seen`].
    pub fn try_wait_message(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&MqttMessage) -> bool,
    ) -> Option<MqttMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.pending.pop_front() {
                Some(m) => Ok(m),
                None => self.rx.recv_timeout(left),
            };
            match next {
                Ok(m) => {
                    let hit = pred(&m);
                    self.seen.push(m.clone());
                    if hit {
                        return Some(m);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            }
        }
    }

    /// Waits for a message matching `pred` (described by `what`).
    ///
    /// # Panics
    /// On timeout, listing every message received so far.
    pub fn wait_message(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&MqttMessage) -> bool,
    ) -> MqttMessage {
        match self.try_wait_message(timeout, pred) {
            Some(m) => m,
            None => panic!(
                "no MQTT message {what} on {:?} within {:?}; received instead: {:#?}",
                self.filters, timeout, self.seen
            ),
        }
    }

    /// Everything received so far (while waiting).
    pub fn seen(&self) -> &[MqttMessage] {
        &self.seen
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Publishes `payload` on `topic` with QoS 1 (and the retain flag if asked)
/// to the broker on 127.0.0.1:`port` (e.g. a guest's, through a port forward).
///
/// # Panics
/// If `mosquitto_pub` fails.
pub fn publish_to(port: u16, topic: &str, payload: &[u8], retained: bool) {
    if let Err(e) = try_publish(port, None, topic, payload, retained) {
        panic!("{e}");
    }
}

/// Publishes like [`publish_to`], logged in as `credentials` (anonymous
/// with `None`), and returns `mosquitto_pub`'s error text when it fails
/// (a refused login: `Connection Refused: not authorised.`).
///
/// # Panics
/// If `mosquitto_pub` cannot be run.
pub fn try_publish(
    port: u16,
    credentials: Option<&Credentials>,
    topic: &str,
    payload: &[u8],
    retained: bool,
) -> Result<(), String> {
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-q", "1", "-t", topic]);
    if let Some(c) = credentials {
        cmd.args(["-u", &c.username, "-P", &c.password]);
    }
    // `-s` refuses empty input; `-n` sends a zero-length message.
    cmd.arg(if payload.is_empty() { "-n" } else { "-s" });
    if retained {
        cmd.arg("-r");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run mosquitto_pub ({e}); is mosquitto-clients installed?")
        });
    // A failed write (mosquitto_pub gave up early) shows in its status below.
    let written = child.stdin.take().map(|mut stdin| stdin.write_all(payload));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("mosquitto_pub did not finish: {e}"));
    if let Some(Err(e)) = written
        && out.status.success()
    {
        panic!("cannot write the payload to mosquitto_pub: {e}");
    }
    if !out.status.success() {
        return Err(format!(
            "mosquitto_pub -t {topic} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// The first message on `topic` (a retained one arrives at once), read with
/// `mosquitto_sub -C 1` logged in as `credentials`, within `timeout`
/// (whole seconds, at least 1). `Err` with mosquitto_sub's text when it
/// fails or nothing arrives in time.
///
/// # Panics
/// If `mosquitto_sub` cannot be run.
pub fn try_read_one(
    port: u16,
    credentials: Option<&Credentials>,
    topic: &str,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("mosquitto_sub");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-q", "1", "-C", "1", "-t", topic])
        .args(["-W", &timeout.as_secs().max(1).to_string()]);
    if let Some(c) = credentials {
        cmd.args(["-u", &c.username, "-P", &c.password]);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run mosquitto_sub ({e}); is mosquitto-clients installed?")
    });
    if !out.status.success() {
        return Err(format!(
            "mosquitto_sub -t {topic} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut payload = out.stdout;
    // mosquitto_sub ends each message with a newline.
    if payload.last() == Some(&b'\n') {
        payload.pop();
    }
    Ok(payload)
}
