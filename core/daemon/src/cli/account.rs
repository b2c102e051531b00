//! Accounts and tokens from the command line: `igloo onboard`, `igloo
//! login`/`logout` (a token kept in the user's config dir, mode 0600),
//! `igloo tokens list|create|revoke`, `igloo owner reset-password` (root on
//! the gateway, over the local socket) and `igloo routes`. See docs/security.md.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Client;

/// One stored login.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    /// The token's id (to revoke it at logout).
    id: String,
    /// The token.
    token: String,
}

/// `$XDG_CONFIG_HOME/igloo/tokens.json`, else `~/.config/igloo/tokens.json`.
fn token_file() -> Option<PathBuf> {
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(dir.join("igloo").join("tokens.json"))
}

fn read_stored() -> BTreeMap<String, Stored> {
    token_file()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_stored(all: &BTreeMap<String, Stored>) -> anyhow::Result<PathBuf> {
    let path = token_file().context("no home directory to keep the token in (set HOME)")?;
    let dir = path.parent().context("token file has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    crate::fsutil::write_private(&path, &serde_json::to_vec_pretty(all)?)?;
    Ok(path)
}

/// The token `igloo login` stored for the API at `base`, if any.
pub fn stored_token(base: &str) -> Option<String> {
    read_stored().remove(base).map(|s| s.token)
}

/// Reads a password: from the terminal without echo, or one line of stdin
/// when stdin is not a terminal (scripts: `echo "$PW" | igloo login …`).
pub(super) fn read_password(prompt: &str) -> anyhow::Result<String> {
    let pw = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(prompt).context("reading the password")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if pw.is_empty() {
        bail!("no password given");
    }
    Ok(pw)
}

fn read_line(prompt: &str) -> anyhow::Result<String> {
    eprint!("{prompt}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into())
}

impl Client {
    /// `igloo onboard --code CODE [--user NAME]`: creates the owner's account.
    pub fn onboard(&self, code: &str, user: Option<&str>) -> anyhow::Result<()> {
        let user = match user {
            Some(u) => u.to_string(),
            None => read_line("owner user name: ")?,
        };
        let password = read_password("owner password (8 characters or more): ")?;
        let v = self.post(
            "/auth/onboarding",
            &json!({"setup_code": code, "username": user, "password": password}),
        )?;
        if self.json {
            Self::print_json(&v);
        } else {
            println!(
                "owner {user:?} created. Next: `igloo login --api {}` on the computer you use",
                self.base
            );
        }
        Ok(())
    }

    /// `igloo login`: exchanges the owner's password for a token with
    /// `scope`, kept for this API in the user's config dir (0600).
    pub fn login(&self, user: Option<&str>, scope: &str) -> anyhow::Result<()> {
        let user = match user {
            Some(u) => u.to_string(),
            None => read_line("user name: ")?,
        };
        let password = read_password("password: ")?;
        let name = format!("igloo CLI on {}", host_name());
        let v = self.post(
            "/auth/login",
            &json!({"username": user, "password": password, "token": {"name": name, "scope": scope}}),
        )?;
        let (Some(id), Some(token)) = (v["id"].as_str(), v["token"].as_str()) else {
            bail!("the core answered without a token: {v}");
        };
        let mut all = read_stored();
        all.insert(
            self.base.clone(),
            Stored {
                id: id.to_string(),
                token: token.to_string(),
            },
        );
        let path = write_stored(&all)?;
        println!(
            "logged in to {} with a {scope} token (id {id}), kept in {}",
            self.base,
            path.display()
        );
        Ok(())
    }

    /// `igloo logout`: revokes and forgets the stored token for this API.
    pub fn logout(&self) -> anyhow::Result<()> {
        let mut all = read_stored();
        let Some(stored) = all.remove(&self.base) else {
            println!("no stored login for {}", self.base);
            return Ok(());
        };
        let revoked = self
            .request_delete(&format!("/auth/tokens/{}", stored.id))
            .call()
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        write_stored(&all)?;
        if revoked {
            println!("token {} revoked and forgotten", stored.id);
        } else {
            println!(
                "token {} forgotten here; it could not be revoked on the gateway (revoke it with `igloo tokens revoke {}` as admin)",
                stored.id, stored.id
            );
        }
        Ok(())
    }

    /// `igloo tokens list`.
    pub fn tokens_list(&self) -> anyhow::Result<()> {
        let v = self.get("/auth/tokens")?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        println!(
            "{:<13} {:<8} {:<11} {:<11} NAME",
            "ID", "SCOPE", "CREATED", "LAST USED"
        );
        for t in v.as_array().into_iter().flatten() {
            let day = |k: &str| {
                t[k].as_u64()
                    .map_or_else(|| "-".to_string(), |s| format!("{}d ago", days_ago(s)))
            };
            println!(
                "{:<13} {:<8} {:<11} {:<11} {}",
                t["id"].as_str().unwrap_or("?"),
                t["scope"].as_str().unwrap_or("?"),
                day("created"),
                day("last_used"),
                t["name"].as_str().unwrap_or("")
            );
        }
        Ok(())
    }

    /// `igloo tokens create NAME --scope S`: prints the token once.
    pub fn tokens_create(&self, name: &str, scope: &str) -> anyhow::Result<()> {
        let v = self.post("/auth/tokens", &json!({"name": name, "scope": scope}))?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        println!("{}", v["token"].as_str().unwrap_or(""));
        eprintln!(
            "token {} ({scope}) created; it is shown only this once",
            v["id"].as_str().unwrap_or("?")
        );
        Ok(())
    }

    /// `igloo tokens revoke ID`.
    pub fn tokens_revoke(&self, id: &str) -> anyhow::Result<()> {
        let resp = self
            .request_delete(&format!("/auth/tokens/{id}"))
            .call()
            .with_context(|| format!("cannot reach the core at {}", self.base))?;
        let v = self.check(resp)?;
        if self.json {
            Self::print_json(&v);
        } else {
            println!("token {id} revoked");
        }
        Ok(())
    }

    /// `igloo owner reset-password`: sets a new password without the old
    /// one (root on the gateway: the local socket) and ends every session.
    pub fn reset_password(&self) -> anyhow::Result<()> {
        let password = read_password("new owner password (8 characters or more): ")?;
        let v = self.post("/auth/password", &json!({"password": password}))?;
        if self.json {
            Self::print_json(&v);
        } else {
            println!("password changed; every browser session was ended");
        }
        Ok(())
    }

    /// `igloo mqtt credentials [--devices|--homeassistant]`: the bridge's
    /// account on the gateway's broker (`account` `None`), or the one for
    /// other MQTT devices (`devices`) or Home Assistant (`homeassistant`).
    pub fn mqtt_credentials(&self, account: Option<&str>) -> anyhow::Result<()> {
        let v = self.get(&match account {
            Some(a) => format!("/mqtt/credentials?account={a}"),
            None => "/mqtt/credentials".to_string(),
        })?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        let host = self
            .base
            .trim_start_matches("http://")
            .split(':')
            .next()
            .filter(|h| !h.is_empty() && *h != "127.0.0.1")
            .unwrap_or("igloo.local")
            .to_string();
        if account == Some("homeassistant") {
            println!("# Home Assistant: Settings → Devices & services → MQTT → Configure:");
            println!("broker: {host}");
            println!("port: {}", v["port"]);
            println!("username: {}", v["username"].as_str().unwrap_or("?"));
            println!("password: {}", v["password"].as_str().unwrap_or("?"));
            return Ok(());
        }
        if account.is_some() {
            println!("# In each device's MQTT settings (Tasmota, Shelly, ESPHome's mqtt:):");
            println!("host: {host}");
            println!("port: {}", v["port"]);
            println!("user: {}", v["username"].as_str().unwrap_or("?"));
            println!("password: {}", v["password"].as_str().unwrap_or("?"));
            return Ok(());
        }
        println!("# Zigbee2MQTT configuration.yaml, on the bridge:");
        println!("mqtt:");
        println!(
            "  base_topic: {}",
            v["base_topic"].as_str().unwrap_or("zigbee2mqtt")
        );
        println!("  server: mqtt://{host}:{}", v["port"]);
        println!("  user: {}", v["username"].as_str().unwrap_or("?"));
        println!("  password: {}", v["password"].as_str().unwrap_or("?"));
        Ok(())
    }

    /// `igloo routes`: the API's route table with the access each needs.
    pub fn routes(&self) -> anyhow::Result<()> {
        let v = self.get("/routes")?;
        if self.json {
            Self::print_json(&v);
            return Ok(());
        }
        for r in v.as_array().into_iter().flatten() {
            let access = match (&r["access"]["kind"], &r["access"]["scope"]) {
                (Value::String(k), Value::String(s)) if k == "scope" => s.clone(),
                (Value::String(k), _) => k.clone(),
                _ => "?".into(),
            };
            println!(
                "{:<7} {:<44} {access}",
                r["method"].as_str().unwrap_or("?"),
                r["path"].as_str().unwrap_or("?")
            );
        }
        Ok(())
    }
}

fn days_ago(unix_s: u64) -> u64 {
    crate::auth::now().saturating_sub(unix_s) / 86_400
}
