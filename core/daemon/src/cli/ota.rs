//! `igloo ota status` and `igloo ota install FILE|URL` (docs/ota.md): clients
//! of `GET /api/v1/ota` and `POST /api/v1/ota/install`. An install follows
//! the event stream (`ota` events) for its progress, asks
//! `GET /api/v1/ota` when no event came for a while, and ends with the
//! result: exit status 0 when the bundle is installed, 1 with RAUC's
//! message when not.

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::Client;

/// How long the install waits for an event before asking the API.
const POLL: Duration = Duration::from_millis(500);

impl Client {
    /// `igloo ota status`: the slots, the boot state, the health check, a
    /// running install and the history.
    ///
    /// # Errors
    /// When the core cannot be reached.
    pub fn ota_status(&self) -> anyhow::Result<()> {
        let v = self.get("/ota")?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        print!("{}", status_text(&v));
        Ok(())
    }

    /// `igloo ota install FILE|URL`: a URL (`http://…`) is downloaded by
    /// the gateway; anything else must be a local file, uploaded as the
    /// request body. Prints the progress and the result.
    ///
    /// # Errors
    /// No such file, the core refuses (busy, unavailable …), or the install
    /// fails (RAUC's message).
    pub fn ota_install(&self, target: &str) -> anyhow::Result<()> {
        // Subscribed before the install starts, so no progress is missed.
        let events = self.ota_events()?;
        let started = if target.starts_with("http://") || target.starts_with("https://") {
            self.post("/ota/install", &json!({"url": target}))?
        } else {
            self.upload(target)?
        };
        let id = started["id"]
            .as_u64()
            .context("the core's answer has no install id")?;
        if !self.json {
            println!("install {id} started");
        }
        self.follow(id, &events)
    }

    /// Uploads file `path` as the body of `POST /api/v1/ota/install`.
    fn upload(&self, path: &str) -> anyhow::Result<Value> {
        let file = std::fs::File::open(path).with_context(|| {
            format!("{path}: cannot open it (give a bundle file, or an http:// URL)")
        })?;
        let size = file
            .metadata()
            .with_context(|| format!("{path}: cannot read its size"))?
            .len();
        if !self.json {
            println!("uploading {path} ({size} bytes)");
        }
        let body = Counting {
            inner: file,
            sent: 0,
            size,
            shown: 0,
            quiet: self.json,
        };
        let resp = self
            .request_post("/ota/install")
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", size.to_string())
            .send(ureq::SendBody::from_owned_reader(body))
            .with_context(|| format!("cannot upload {path} to the core at {}", self.base))?;
        self.check(resp)
    }

    /// The `ota` events of the event stream, read on a thread.
    fn ota_events(&self) -> anyhow::Result<mpsc::Receiver<Value>> {
        let resp = self.request_get("/events").call().with_context(|| {
            format!(
                "cannot reach the core at {} (is `igloo run` running?)",
                self.base
            )
        })?;
        if !resp.status().is_success() {
            bail!("{}: the event stream is not available", resp.status());
        }
        let (tx, rx) = mpsc::channel();
        let reader = BufReader::new(resp.into_body().into_reader());
        std::thread::spawn(move || {
            for line in reader.lines() {
                let Ok(line) = line else { return };
                let Some(data) = line.strip_prefix("data:") else {
                    continue;
                };
                if let Ok(v) = serde_json::from_str::<Value>(data.trim())
                    && v["type"] == "ota"
                    && tx.send(v).is_err()
                {
                    return;
                }
            }
        });
        Ok(rx)
    }

    /// Shows install `id`'s progress until it ends.
    fn follow(&self, id: u64, events: &mpsc::Receiver<Value>) -> anyhow::Result<()> {
        let mut shown = String::new();
        let mut show = |p: &Value| {
            let line = if self.json {
                json!({"type": "ota", "install": p}).to_string()
            } else {
                progress_line(p)
            };
            if line != shown {
                println!("{line}");
                shown = line;
            }
        };
        loop {
            let (install, finished) = match events.recv_timeout(POLL) {
                Ok(e) => (e.get("install").cloned(), e.get("finished").cloned()),
                Err(why) => {
                    if why == mpsc::RecvTimeoutError::Disconnected {
                        std::thread::sleep(POLL);
                    }
                    let s = self.get("/ota")?;
                    let record = s["history"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|r| r["kind"] == "install" && r["id"] == id)
                        .cloned();
                    (Some(s["install"].clone()), record)
                }
            };
            if let Some(p) = install.filter(|p| p["id"] == id) {
                show(&p);
            }
            if let Some(r) = finished.filter(|r| r["id"] == id) {
                return self.result(id, &r);
            }
        }
    }

    fn result(&self, id: u64, r: &Value) -> anyhow::Result<()> {
        if self.json {
            println!("{}", json!({"type": "ota", "finished": r}));
        }
        if r["result"] == "installed" {
            if !self.json {
                println!(
                    "install {id} succeeded: version {} is in slot {}; it runs after the next reboot",
                    r["version"].as_str().unwrap_or("?"),
                    r["slot"].as_str().unwrap_or("?"),
                );
            }
            return Ok(());
        }
        bail!(
            "install {id} failed: {}",
            r["reason"].as_str().unwrap_or("no reason given")
        )
    }
}

/// `installing   40% Checking bundle`.
fn progress_line(p: &Value) -> String {
    format!(
        "{:<11} {:>3}% {}",
        p["phase"].as_str().unwrap_or("?"),
        p["percent"].as_u64().unwrap_or(0),
        p["step"].as_str().unwrap_or("")
    )
}

/// The human text of `igloo ota status`.
fn status_text(v: &Value) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    let text = |v: &Value| v.as_str().unwrap_or("-").to_string();
    if v["available"] == false {
        line(format!(
            "over-the-air updates unavailable: {}",
            text(&v["unavailable_reason"])
        ));
    } else {
        let health = &v["health"];
        let mut booted = format!(
            "booted slot {}; {}",
            text(&v["booted"]),
            match v["pending_mark_good"].as_bool() {
                Some(true) => "waiting to be marked good",
                Some(false) => "marked good",
                None => "whether it is marked good is unknown (see the errors below)",
            }
        );
        if let Some(ms) = health["health_check_ms"].as_u64() {
            booted.push_str(&format!(
                " (health check took {}.{:03} s)",
                ms / 1000,
                ms % 1000
            ));
        }
        line(booted);
        line(format!(
            "health check: {}{}",
            text(&health["state"]),
            health["detail"]
                .as_str()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
        let order: Vec<&str> = v["boot_order"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        line(format!("boot order: {}", order.join(" ")));
        line(format!(
            "{:<5} {:<9} {:<9} {:<5} {:<24} {:<22} TRIES",
            "SLOT", "NAME", "STATE", "BOOT", "VERSION", "INSTALLED"
        ));
        for s in v["slots"].as_array().into_iter().flatten() {
            line(format!(
                "{:<5} {:<9} {:<9} {:<5} {:<24} {:<22} {}",
                text(&s["bootname"]),
                text(&s["name"]),
                text(&s["state"]),
                text(&s["boot_status"]),
                text(&s["version"]),
                text(&s["installed"]),
                s["tries_left"]
                    .as_u64()
                    .map_or_else(|| "-".into(), |n| n.to_string())
            ));
        }
        for e in v["errors"].as_array().into_iter().flatten() {
            line(format!("error: {}", text(e)));
        }
    }
    if v["install"].is_object() {
        line(format!(
            "running: install {} of {}: {}",
            v["install"]["id"],
            text(&v["install"]["source"]),
            progress_line(&v["install"])
        ));
    }
    let history: Vec<&Value> = v["history"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .collect();
    if !history.is_empty() {
        line("history (newest first):".into());
        for r in history {
            line(format!("  {}", text(&r["summary"])));
        }
    }
    out
}

/// A file being uploaded, printing how much was sent in steps of 10%.
struct Counting {
    inner: std::fs::File,
    sent: u64,
    size: u64,
    shown: u64,
    quiet: bool,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        if !self.quiet && self.size > 0 {
            let tenth = self.sent * 10 / self.size;
            if tenth > self.shown {
                self.shown = tenth;
                println!("{:<11} {:>3}%", "uploading", tenth * 10);
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_shows_slots_health_and_history() {
        let v = json!({
            "available": true,
            "booted": "A",
            "boot_order": ["B", "A"],
            "pending_mark_good": false,
            "health": {"state": "marked_good", "detail": "marked slot rootfs.0 as good", "health_check_ms": 1234},
            "slots": [
                {"bootname": "A", "name": "rootfs.0", "state": "booted", "boot_status": "good", "version": "0.2.0", "installed": null, "tries_left": 3},
                {"bootname": "B", "name": "rootfs.1", "state": "inactive", "boot_status": "bad", "version": "0.3.0", "installed": "2025-01-02T03:04:05Z", "tries_left": 0}
            ],
            "install": null,
            "history": [{"summary": "update to 0.3.0 failed at 2025-01-02T03:10:00Z: not healthy within 300 s"}],
            "errors": []
        });
        let text = status_text(&v);
        assert!(
            text.starts_with("booted slot A; marked good (health check took 1.234 s)\n"),
            "{text}"
        );
        assert!(text.contains("boot order: B A\n"), "{text}");
        assert!(
            text.contains("B     rootfs.1  inactive  bad   0.3.0                    2025-01-02T03:04:05Z   0\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  update to 0.3.0 failed at 2025-01-02T03:10:00Z: not healthy within 300 s\n"
            ),
            "{text}"
        );
        let off =
            json!({"available": false, "unavailable_reason": "no `rauc` program", "history": []});
        assert_eq!(
            status_text(&off),
            "over-the-air updates unavailable: no `rauc` program\n"
        );
    }
}
