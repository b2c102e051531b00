//! `igloo logs [--provider NAME] [--lines N] [--follow]`: the core's log
//! files over the API (`GET /api/v1/logs`, `GET /api/v1/logs/stream`).

use std::io::{BufRead, BufReader};

use anyhow::{Context, bail};
use serde_json::{Map, Value};

use super::Client;

impl Client {
    /// `igloo logs`: the last `lines` lines (only `provider`'s when given),
    /// then, with `follow`, each new line until the core goes away.
    pub fn logs(&self, provider: Option<&str>, lines: usize, follow: bool) -> anyhow::Result<()> {
        let mut req = self.request_get("/logs").query("lines", lines.to_string());
        if let Some(p) = provider {
            req = req.query("provider", p);
        }
        let resp = req
            .call()
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        let body = self.check(resp)?;
        for line in body["lines"].as_array().into_iter().flatten() {
            self.print_line(line);
        }
        if !follow {
            return Ok(());
        }
        let mut req = self.request_get("/logs/stream");
        if let Some(p) = provider {
            req = req.query("provider", p);
        }
        let resp = req
            .call()
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        if !resp.status().is_success() {
            let status = resp.status();
            self.check(resp)?;
            bail!("{status}");
        }
        let reader = BufReader::new(resp.into_body().into_reader());
        let mut event = String::new();
        for line in reader.lines() {
            let line = line.context("log stream")?;
            if let Some(name) = line.strip_prefix("event:") {
                event = name.trim().to_string();
                continue;
            }
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            match serde_json::from_str::<Value>(data.trim()) {
                Ok(v) if event == "lagged" => {
                    eprintln!(
                        "igloo: {} log lines missed (reading too slowly)",
                        v["missed"]
                    );
                }
                Ok(v) => self.print_line(&v),
                Err(_) => continue,
            }
        }
        Ok(())
    }

    fn print_line(&self, line: &Value) {
        if self.json {
            println!("{line}");
        } else if let Some(m) = line.as_object() {
            println!("{}", text(m));
        }
    }
}

/// One line as text: `<time> <LEVEL> <target>: <message> key=value …`.
fn text(m: &Map<String, Value>) -> String {
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("");
    let mut out = format!(
        "{} {:>5} {}: {}",
        s("timestamp"),
        s("level"),
        s("target"),
        s("message")
    );
    for (k, v) in m {
        if matches!(k.as_str(), "timestamp" | "level" | "target" | "message") {
            continue;
        }
        match v {
            Value::String(t) => out.push_str(&format!(" {k}={t}")),
            other => out.push_str(&format!(" {k}={other}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_reads_like_the_terminal_log() {
        let v = serde_json::json!({
            "timestamp": "2026-12-05T21:00:00.000000Z", "level": "WARN", "target": "provider",
            "message": "lamp gone", "provider": "echo", "fd": 2,
        });
        let line = super::text(v.as_object().unwrap());
        assert_eq!(
            line,
            "2026-12-05T21:00:00.000000Z  WARN provider: lamp gone fd=2 provider=echo"
        );
    }
}
