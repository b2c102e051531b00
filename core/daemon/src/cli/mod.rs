//! The command-line client: subcommands that call the HTTP API (`docs/api.md`).
//! Provider-specific subcommands live in submodules ([`esphome`]), as do
//! system updates ([`ota`]), accounts and tokens ([`account`]) and the
//! Wi-Fi network (`wifi`).
//!
//! How it reaches the core ([`Target::choose`]): with a token (`--token`,
//! `IGLOO_TOKEN`, or the one `igloo login` stored) over HTTP; else, when
//! no `--api` is given and the core's local socket answers, over that
//! socket ([`local`], root only); else over HTTP without credentials.

pub mod account;
pub mod esphome;
mod local;
mod logs;
pub mod ota;
pub mod rooms;
mod wifi;

use std::path::PathBuf;

use std::io::{BufRead, BufReader};

use anyhow::{Context, bail};
use serde_json::{Map, Value};

/// The API base used when none is given.
pub const DEFAULT_API: &str = "http://127.0.0.1:8080";

/// Where the CLI sends its requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// HTTP to `base`, with a bearer token when there is one.
    Http {
        /// `http://host:port`.
        base: String,
        /// The token, if any (never printed).
        token: Option<String>,
    },
    /// The core's local Unix socket (root only).
    Local(PathBuf),
}

impl Target {
    /// Picks the target: a token given (`token`) or stored by `igloo
    /// login` for this API → HTTP with it; no `api` given and the socket at
    /// `socket` accepts a connection → the socket; else HTTP without
    /// credentials.
    pub fn choose(api: Option<&str>, token: Option<String>, socket: &std::path::Path) -> Target {
        let base = api.unwrap_or(DEFAULT_API).trim_end_matches('/').to_string();
        if token.is_some() {
            return Target::Http { base, token };
        }
        if let Some(stored) = account::stored_token(&base) {
            return Target::Http {
                base,
                token: Some(stored),
            };
        }
        if api.is_none() && std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Target::Local(socket.to_path_buf());
        }
        Target::Http { base, token: None }
    }
}

/// An API client printing human-readable text or, with `--json`, raw JSON.
pub struct Client {
    base: String,
    token: Option<String>,
    json: bool,
    agent: ureq::Agent,
}

impl Client {
    /// A client for `target`.
    pub fn new(target: Target, json: bool) -> Client {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build();
        match target {
            Target::Http { base, token } => Client {
                base,
                token,
                json,
                agent: ureq::Agent::new_with_config(config),
            },
            Target::Local(path) => Client {
                // The host is not used (every connection goes to the socket); an IP
                // literal needs no name lookup (the appliance has no /etc/hosts).
                base: "http://127.0.0.1".into(),
                token: None,
                json,
                agent: ureq::Agent::with_parts(
                    config,
                    local::UnixConnector { path },
                    ureq::unversioned::resolver::DefaultResolver::default(),
                ),
            },
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A GET request to `path` (under `/api/v1`) with the credentials.
    fn request_get(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let r = self.agent.get(&self.url(path));
        match &self.token {
            Some(t) => r.header("Authorization", format!("Bearer {t}")),
            None => r,
        }
    }

    /// A POST request to `path` (under `/api/v1`) with the credentials.
    fn request_post(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithBody> {
        let r = self.agent.post(&self.url(path));
        match &self.token {
            Some(t) => r.header("Authorization", format!("Bearer {t}")),
            None => r,
        }
    }

    /// A DELETE request to `path` (under `/api/v1`) with the credentials.
    fn request_delete(&self, path: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let r = self.agent.delete(&self.url(path));
        match &self.token {
            Some(t) => r.header("Authorization", format!("Bearer {t}")),
            None => r,
        }
    }

    fn check(&self, mut resp: ureq::http::Response<ureq::Body>) -> anyhow::Result<Value> {
        let status = resp.status();
        let body: Value = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_json()
            .context("reading the API's answer")?;
        if !status.is_success() {
            let msg = body
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no details");
            if status == 401 {
                bail!(
                    "{status}: {msg}\n  log in with `igloo login --api {}`, or give a token (--token, IGLOO_TOKEN); \
                     on the gateway itself, run as root",
                    self.base
                );
            }
            bail!("{status}: {msg}");
        }
        Ok(body)
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self.request_get(path).call().with_context(|| {
            format!(
                "cannot reach the core at {} (is `igloo run` running?)",
                self.base
            )
        })?;
        self.check(resp)
    }

    fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let resp = self
            .request_post(path)
            .send_json(body)
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        self.check(resp)
    }

    fn print_json(v: &Value) {
        println!(
            "{}",
            serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
        );
    }

    /// `igloo devices`.
    pub fn devices(&self) -> anyhow::Result<()> {
        let v = self.get("/devices")?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        println!(
            "{:>5}  {:<12} {:<11} {:<28} ENTITIES",
            "ID", "PROVIDER", "STATE", "NAME"
        );
        for d in v.as_array().into_iter().flatten() {
            let entities: Vec<&str> = d["entities"]
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            println!(
                "{:>5}  {:<12} {:<11} {:<28} {}",
                d["id"].as_u64().unwrap_or(0),
                d["provider"].as_str().unwrap_or("?"),
                device_status(d),
                d["name"].as_str().unwrap_or(""),
                entities.join(", ")
            );
        }
        Ok(())
    }

    /// `igloo device ID`.
    pub fn device(&self, id: u64) -> anyhow::Result<()> {
        let d = self.get(&format!("/devices/{id}"))?;
        if self.json {
            Self::print_json(&d);
            return Ok(());
        }
        println!(
            "{} {} ({}, key {}, {})",
            d["id"],
            d["name"].as_str().unwrap_or(""),
            d["provider"].as_str().unwrap_or("?"),
            d["key"].as_str().unwrap_or("?"),
            device_status(&d)
        );
        if let Some(why) = d["unsupported"].as_str() {
            println!("  unsupported: {why}");
        }
        for (name, e) in d["entities"].as_object().into_iter().flatten() {
            println!("  {name}");
            for (c, v) in e["components"].as_object().into_iter().flatten() {
                let unit = e["units"]
                    .get(c)
                    .and_then(Value::as_str)
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default();
                println!("    {c} = {v}{unit}");
            }
        }
        Ok(())
    }

    /// `igloo set ID ENTITY Name=value…`.
    /// `igloo set`: with `wait`, until the provider confirms or refuses.
    pub fn set(
        &self,
        id: u64,
        entity: &str,
        pairs: &[String],
        wait: Option<std::time::Duration>,
    ) -> anyhow::Result<()> {
        let mut body = Map::new();
        for p in pairs {
            let (k, v) = p
                .split_once('=')
                .with_context(|| format!("{p:?} is not COMPONENT=VALUE"))?;
            // JSON where it parses (true, 40, "x", {"r":1,..}), plain text otherwise (on, #ff0000, Heat).
            let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
            body.insert(k.to_string(), value);
        }
        let entity_path: String = entity
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let query = wait
            .map(|w| format!("?wait_ms={}", w.as_millis()))
            .unwrap_or_default();
        let v = self.post(
            &format!("/devices/{id}/entities/{entity_path}{query}"),
            &Value::Object(body),
        )?;
        if self.json {
            Self::print_json(&v);
        } else if v["status"] == "confirmed" {
            let values: Vec<String> = v["components"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            println!(
                "confirmed: device {id} entity {entity}: {}",
                values.join(" ")
            );
        } else {
            println!(
                "sent to device {id} entity {entity}; the new state appears when the device confirms it (igloo watch)"
            );
        }
        Ok(())
    }

    /// `igloo providers`.
    pub fn providers(&self) -> anyhow::Result<()> {
        let v = self.get("/providers")?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        println!(
            "{:<12} {:<9} {:>7} {:>8} {:>7}  {:<20} LAST EXIT",
            "NAME", "STATE", "PID", "RESTARTS", "DEVICES", "VERSION"
        );
        for p in v.as_array().into_iter().flatten() {
            // The installed label, the version the provider reports, and an update in progress or undone.
            let mut version = p["installed_version"].as_str().unwrap_or("-").to_string();
            if let Some(reported) = p["version"].as_str() {
                version.push_str(&format!(" ({reported})"));
            }
            println!(
                "{:<12} {:<9} {:>7} {:>8} {:>7}  {:<20} {}",
                p["name"].as_str().unwrap_or("?"),
                p["state"].as_str().unwrap_or("?"),
                p["pid"]
                    .as_u64()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                p["restarts"].as_u64().unwrap_or(0),
                p["devices"].as_u64().unwrap_or(0),
                version,
                p["last_exit"].as_str().unwrap_or("-")
            );
            let u = &p["update"];
            if let Some(state) = u["state"].as_str() {
                println!(
                    "{:<12} update {} -> {}: {state}{}",
                    "",
                    u["from"].as_str().unwrap_or("?"),
                    u["to"].as_str().unwrap_or("?"),
                    u["reason"]
                        .as_str()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                );
            }
            let c = &p["config_error"];
            if let Some(message) = c["message"].as_str() {
                let place = match (c["file"].as_str(), c["line"].as_u64()) {
                    (Some(f), Some(l)) => format!("{f}:{l}: "),
                    (Some(f), None) => format!("{f}: "),
                    _ => String::new(),
                };
                let key = c["key"]
                    .as_str()
                    .map(|k| format!("[provider.config] {k}: "))
                    .unwrap_or_default();
                println!("{:<12} config error: {place}{key}{message}", "");
                println!(
                    "{:<12} not restarted until fixed: edit the config, then `igloo providers restart {}`",
                    "",
                    p["name"].as_str().unwrap_or("NAME")
                );
            }
            for w in p["warnings"].as_array().into_iter().flatten() {
                println!("{:<12} warning: {}", "", w.as_str().unwrap_or("?"));
            }
        }
        Ok(())
    }

    /// `igloo providers restart NAME`.
    pub fn restart(&self, name: &str) -> anyhow::Result<()> {
        let v = self.post(&format!("/providers/{name}/restart"), &Value::Null)?;
        if self.json {
            Self::print_json(&v);
        } else {
            println!("restarting provider {name}");
        }
        Ok(())
    }

    /// `igloo providers update NAME PATH|VERSION [--as VERSION]`: an existing
    /// file is sent as an absolute path to install; anything else names an
    /// installed version.
    ///
    /// # Errors
    /// When the path cannot be made absolute, or the core refuses.
    pub fn update(&self, name: &str, target: &str, label: Option<&str>) -> anyhow::Result<()> {
        let path = std::path::Path::new(target);
        let body = if path.exists() {
            let abs = std::path::absolute(path)
                .map_err(|e| anyhow::anyhow!("cannot make {target} absolute: {e}"))?;
            serde_json::json!({"path": abs.to_string_lossy(), "version": label})
        } else if label.is_some() {
            anyhow::bail!("{target}: no such file (--as names the version of a file to install)");
        } else {
            serde_json::json!({"version": target})
        };
        let v = self.post(&format!("/providers/{name}/update"), &body)?;
        if self.json {
            Self::print_json(&v);
        } else {
            println!(
                "provider {name}: {} -> {} (on trial for {} ms; it returns to {} by itself if it fails)",
                v["from"].as_str().unwrap_or("?"),
                v["to"].as_str().unwrap_or("?"),
                v["window_ms"],
                v["from"].as_str().unwrap_or("?"),
            );
        }
        Ok(())
    }

    /// `igloo watch`: prints each event until interrupted.
    /// `igloo doctor`: host sandbox support, per-provider layers, serial ports.
    ///
    /// # Errors
    /// When the core's API cannot be reached.
    pub fn doctor(&self) -> anyhow::Result<()> {
        let host = self.get("/sandbox")?;
        let providers = self.get("/providers")?;
        let grants = self.get("/grants")?;
        let health = self.get("/health")?;
        // A core without authentication has no such route: nothing to show.
        let failures = self.get("/auth/failures").unwrap_or(Value::Null);
        if self.json {
            Self::print_json(&serde_json::json!({
                "host": host, "providers": providers, "grants": grants, "login_failures": failures,
                "time": health["time"],
            }));
            return Ok(());
        }
        let yes = |b: &Value| {
            if b.as_bool() == Some(true) {
                "yes"
            } else {
                "NO "
            }
        };
        println!("host (kernel {})", host["kernel"].as_str().unwrap_or("?"));
        println!("  root       {}", yes(&host["root"]));
        println!(
            "  landlock   {} kernel ABI {}, used ABI {} (highest tested {})",
            yes(&host["landlock"]["available"]),
            host["landlock"]["kernel_abi"],
            host["landlock"]["used_abi"],
            host["landlock"]["highest_tested_abi"]
        );
        for k in ["seccomp", "cgroups", "nftables"] {
            println!(
                "  {k:<10} {} {}",
                yes(&host[k]["available"]),
                host[k]["detail"].as_str().unwrap_or("")
            );
        }
        println!(
            "  firewall   {} {}",
            yes(&host["firewall"]["installed"]),
            host["firewall"]["detail"].as_str().unwrap_or("")
        );
        println!(
            "  time       {} {}",
            yes(&health["time"]["synchronized"]),
            time_detail(&health["time"])
        );
        for p in providers.as_array().into_iter().flatten() {
            let name = p["name"].as_str().unwrap_or("?");
            let state = p["state"].as_str().unwrap_or("?");
            println!(
                "provider {name} ({state}{})",
                p["uid"]
                    .as_u64()
                    .map(|u| format!(", uid {u}"))
                    .unwrap_or_default()
            );
            for w in p["warnings"].as_array().into_iter().flatten() {
                println!("  warning: {}", w.as_str().unwrap_or("?"));
            }
            let sb = &p["sandbox"];
            if sb.is_null() {
                match p["last_exit"].as_str() {
                    Some(why) => println!("  not started: {why}"),
                    None => println!("  not started yet"),
                }
                continue;
            }
            if sb["enabled"] == Value::Bool(false) {
                println!("  SANDBOX DISABLED in the config: runs unconfined");
            }
            for l in ["uid", "landlock", "seccomp", "network", "cgroup", "rlimits"] {
                println!(
                    "  {l:<10} {} {}",
                    yes(&sb[l]["enforced"]),
                    sb[l]["detail"].as_str().unwrap_or("")
                );
            }
            for g in p["grants"].as_array().into_iter().flatten() {
                println!(
                    "  granted    {} (grant {})",
                    g["device"].as_str().unwrap_or("?"),
                    g["grant"]
                );
            }
        }
        println!(
            "serial ports (hot-plug: {})",
            grants["hotplug"].as_str().unwrap_or("?")
        );
        for port in grants["ports"].as_array().into_iter().flatten() {
            let usb = &port["usb"];
            let id = if usb.is_null() {
                "no USB identity".to_string()
            } else {
                format!(
                    "{}:{} {}",
                    usb["vid"].as_str().unwrap_or("?"),
                    usb["pid"].as_str().unwrap_or("?"),
                    usb["product"].as_str().unwrap_or("")
                )
            };
            let known = port["known"]["name"]
                .as_str()
                .map(|n| format!(" = {n}"))
                .unwrap_or_default();
            let holder = match (port["provider"].as_str(), port["error"].as_str()) {
                (Some(p), _) => format!("granted to {p}"),
                (None, Some(e)) => format!("not granted: {e}"),
                (None, None) => "not granted (no rule matches)".to_string(),
            };
            println!(
                "  {:<10} {id}{known}: {holder}",
                port["device"].as_str().unwrap_or("?")
            );
        }
        if let Some(list) = failures.as_array() {
            println!("failed logins since the core started (docs/security.md)");
            if list.is_empty() {
                println!("  none");
            }
            for f in list {
                let ago = crate::auth::now().saturating_sub(f["last"].as_u64().unwrap_or(0));
                println!(
                    "  {:<40} {} failed, the last {} min ago",
                    f["address"].as_str().unwrap_or("?"),
                    f["count"],
                    ago / 60
                );
            }
        }
        Ok(())
    }

    /// `igloo command PROVIDER COMMAND [JSON]`: prints the provider's reply.
    ///
    /// # Errors
    /// Invalid JSON argument, or the API's error (unknown provider, not running, refused).
    pub fn command(&self, provider: &str, command: &str, body: Option<&str>) -> anyhow::Result<()> {
        let arg: Value = match body {
            Some(b) => {
                serde_json::from_str(b).with_context(|| format!("argument {b:?} is not JSON"))?
            }
            None => serde_json::json!({}),
        };
        let reply = self.post(
            &format!("/providers/{provider}/command"),
            &serde_json::json!({"command": command, "body": arg}),
        )?;
        Self::print_json(&reply["body"]);
        Ok(())
    }

    pub fn watch(&self) -> anyhow::Result<()> {
        let resp = self
            .request_get("/events")
            .call()
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        if !resp.status().is_success() {
            bail!("{}", resp.status());
        }
        let reader = BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let line = line.context("event stream")?;
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if self.json {
                println!("{data}");
                continue;
            }
            let Ok(e) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            println!("{}", describe(&e));
        }
        Ok(())
    }
}

/// What `igloo doctor` says beside the `time` line: the kernel's error
/// bound when synchronised, else what to check.
fn time_detail(t: &Value) -> String {
    if let Some(e) = t["error"].as_str() {
        return format!("cannot tell: {e}");
    }
    match (t["synchronized"].as_bool(), t["maxerror_us"].as_i64()) {
        (Some(true), Some(max)) => format!("synchronised (max error {max} µs)"),
        (Some(true), None) => "synchronised".into(),
        _ => "not synchronised: is NTP running and reachable?".into(),
    }
}

fn describe(e: &Value) -> String {
    match e["type"].as_str() {
        Some("state") => {
            let comps: Vec<String> = e["components"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "state         device {} {}: {}",
                e["device"],
                e["entity"].as_str().unwrap_or("?"),
                comps.join(" ")
            )
        }
        Some("availability") => format!(
            "availability  device {} {}",
            e["device"],
            if e["available"] == true {
                "online"
            } else {
                "offline"
            }
        ),
        Some("device") => format!(
            "device        {} {}",
            e["device"]["id"],
            e["device"]["name"].as_str().unwrap_or("")
        ),
        Some("removed") => format!("removed       device {}", e["device"]),
        Some("refused") => format!(
            "refused       device {} {}: {}",
            e["device"],
            e["entity"].as_str().unwrap_or("?"),
            e["reason"].as_str().unwrap_or("?")
        ),
        Some("ota") => match (e.get("install"), e.get("finished")) {
            (Some(p), _) => format!(
                "ota           install {} {} {}% {}",
                p["id"],
                p["phase"].as_str().unwrap_or("?"),
                p["percent"],
                p["step"].as_str().unwrap_or("")
            ),
            (None, Some(r)) => format!("ota           {}", r["summary"].as_str().unwrap_or("?")),
            _ => e.to_string(),
        },
        Some("provider") => format!(
            "provider      {} {}{}",
            e["provider"]["name"].as_str().unwrap_or("?"),
            e["provider"]["state"].as_str().unwrap_or("?"),
            e["provider"]["last_exit"]
                .as_str()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default()
        ),
        _ => e.to_string(),
    }
}

/// `online`, `offline` or `unsupported` for a device object (from `status`;
/// from `available` for cores that predate it).
fn device_status(d: &Value) -> &str {
    d["status"]
        .as_str()
        .unwrap_or(match d["available"].as_bool() {
            Some(true) => "online",
            _ => "offline",
        })
}
