//! A reader of the core's server-sent event stream (`GET /api/v1/events`).
//!
//! A thread reads the stream and sends each event's parsed `data` JSON into a
//! channel; tests wait for events matching a predicate. The subscription is
//! live when [`EventStream::connect`] returns (the response headers arrived).
//! The client is a few lines of HTTP/1.1 over a `TcpStream` so that dropping
//! the [`EventStream`] closes the connection, as a real client going away does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;

/// An open event stream. Dropping it closes the connection.
pub struct EventStream {
    rx: Receiver<Value>,
    seen: Vec<Value>,
    url: String,
    socket: TcpStream,
}

impl EventStream {
    /// Connects to `<base>/api/v1/events` (`base` = `http://host:port`).
    ///
    /// # Panics
    /// If the request fails or is not answered 200 with `text/event-stream`.
    pub fn connect(base: &str) -> EventStream {
        EventStream::connect_with(base, None)
    }

    /// [`EventStream::connect`] with `token` as the bearer credential.
    ///
    /// # Panics
    /// As [`EventStream::connect`].
    pub fn connect_with(base: &str, token: Option<&str>) -> EventStream {
        let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
        let url = format!("{base}/api/v1/events");
        let host = base
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("event stream base {base:?} is not http://host:port"))
            .trim_end_matches('/');
        let addr = host
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("cannot resolve {host:?}"));
        let mut socket = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("GET {url}: cannot connect: {e}"));
        write!(
            socket,
            "GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{auth}\r\n"
        )
        .unwrap_or_else(|e| panic!("GET {url}: cannot send the request: {e}"));
        let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
        let reader_socket = socket
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the event stream socket: {e}"));
        let mut reader = BufReader::new(reader_socket);
        let mut status_line = String::new();
        reader
            .read_line(&mut status_line)
            .unwrap_or_else(|e| panic!("GET {url}: no response: {e}"));
        let status = status_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let (mut ctype, mut chunked) = (String::new(), false);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) => panic!("GET {url}: connection closed inside the response headers"),
                Ok(_) => {}
                Err(e) => panic!("GET {url}: reading the response headers: {e}"),
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim().to_ascii_lowercase();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-type" => ctype = value,
                    "transfer-encoding" => chunked = value.contains("chunked"),
                    _ => {}
                }
            }
        }
        if status != "200" || !ctype.starts_with("text/event-stream") {
            panic!("GET {url}: expected 200 text/event-stream, got {status_line:?} {ctype:?}");
        }
        let _ = socket.set_read_timeout(None);
        let body: Box<dyn BufRead + Send> = if chunked {
            Box::new(BufReader::new(Chunked {
                inner: reader,
                left: 0,
                done: false,
            }))
        } else {
            Box::new(reader)
        };
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut data = String::new();
            for line in body.lines() {
                let Ok(line) = line else { break };
                if line.is_empty() {
                    if !data.is_empty() {
                        let event = serde_json::from_str(&data).unwrap_or_else(|e| {
                            serde_json::json!({"type": "unparseable", "error": e.to_string(), "data": data})
                        });
                        data.clear();
                        if tx.send(event).is_err() {
                            break;
                        }
                    }
                } else if let Some(rest) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                }
                // `event:`, `id:`, `retry:` and `:` comments carry nothing we check.
            }
        });
        EventStream {
            rx,
            seen: Vec::new(),
            url,
            socket,
        }
    }

    /// Waits for an event matching `pred`, consuming events up to and including it.
    pub fn try_wait_event(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ev) => {
                    let hit = pred(&ev);
                    self.seen.push(ev.clone());
                    if hit {
                        return Some(ev);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            }
        }
    }

    /// Waits for an event matching `pred` (described by `what`).
    ///
    /// # Panics
    /// On timeout, with the last events received.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        match self.try_wait_event(timeout, pred) {
            Some(ev) => ev,
            None => panic!(
                "no event {what} on {} within {:?}; last events received: {}",
                self.url,
                timeout,
                self.recent(20)
            ),
        }
    }

    /// Collects every event arriving within `d`.
    pub fn collect_for(&mut self, d: Duration) -> Vec<Value> {
        let deadline = Instant::now() + d;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(ev) => {
                    self.seen.push(ev.clone());
                    out.push(ev);
                }
                Err(_) => return out,
            }
        }
    }

    /// Everything received so far (consumed by waits).
    pub fn seen(&self) -> &[Value] {
        &self.seen
    }

    /// The last `n` events received, one per line, for failure messages.
    pub fn recent(&self, n: usize) -> String {
        let from = self.seen.len().saturating_sub(n);
        let lines: Vec<String> = self.seen[from..].iter().map(Value::to_string).collect();
        if lines.is_empty() {
            "(none)".to_string()
        } else {
            format!("\n{}", lines.join("\n"))
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}

/// The body of a `Transfer-Encoding: chunked` response.
struct Chunked<R> {
    inner: R,
    /// Bytes left in the current chunk.
    left: usize,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut size = String::new();
            if self.inner.read_line(&mut size)? == 0 {
                self.done = true;
                return Ok(0);
            }
            let hex = size.trim().split(';').next().unwrap_or("");
            self.left = usize::from_str_radix(hex, 16).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad chunk size line {size:?}"),
                )
            })?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            self.done = true;
            return Ok(0);
        }
        self.left -= n;
        if self.left == 0 {
            let mut crlf = String::new();
            self.inner.read_line(&mut crlf)?;
        }
        Ok(n)
    }
}

/// Whether `ev` is a `state` event for `device` (and `entity` if given).
pub fn is_state(ev: &Value, device: u64, entity: Option<&str>) -> bool {
    ev["type"] == "state"
        && ev["device"].as_u64() == Some(device)
        && entity.is_none_or(|e| ev["entity"] == e)
}

/// Whether `ev` is an `availability` event for `device` with `available`.
pub fn is_availability(ev: &Value, device: u64, available: bool) -> bool {
    ev["type"] == "availability"
        && ev["device"].as_u64() == Some(device)
        && ev["available"].as_bool() == Some(available)
}
