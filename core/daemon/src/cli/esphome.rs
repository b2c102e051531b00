//! `igloo esphome …`: the ESPHome provider's custom commands
//! (`esphome.add`, `esphome.remove`, `esphome.status`) with readable output.

use std::io::Read;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::Client;

/// The executable file name that identifies an ESPHome provider.
const EXEC_NAME: &str = "igloo-esphome";

/// Splits `HOST`, `HOST:PORT`, `[V6]:PORT` or a bare IPv6 literal.
fn host_port(text: &str) -> anyhow::Result<(String, Option<u16>)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .with_context(|| format!("{text:?}: missing ']'"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p.parse().with_context(|| format!("{text:?}: bad port"))?),
            None if tail.is_empty() => None,
            None => bail!("{text:?}: expected [ADDRESS]:PORT"),
        };
        return Ok((host.to_string(), port));
    }
    match text.rsplit_once(':') {
        // More than one ':' without brackets: an IPv6 literal without port.
        Some((host, _)) if host.contains(':') => Ok((text.to_string(), None)),
        Some((host, port)) => Ok((
            host.to_string(),
            Some(
                port.parse()
                    .with_context(|| format!("{text:?}: bad port"))?,
            ),
        )),
        None => Ok((text.to_string(), None)),
    }
}

impl Client {
    /// The provider to address: `name` if given, else the one configured
    /// provider whose executable is `igloo-esphome`.
    fn esphome_provider(&self, name: Option<&str>) -> anyhow::Result<String> {
        if let Some(n) = name {
            return Ok(n.to_string());
        }
        let providers = self.get("/providers")?;
        let found: Vec<String> = providers
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| {
                p["exec"].as_str().is_some_and(|e| {
                    std::path::Path::new(e)
                        .file_name()
                        .is_some_and(|f| f == EXEC_NAME)
                })
            })
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => {
                bail!("no provider runs {EXEC_NAME}; add one to the config (see docs/esphome.md)")
            }
            many => bail!(
                "several providers run {EXEC_NAME} ({}); choose one with --provider",
                many.join(", ")
            ),
        }
    }

    fn esphome_call(&self, provider: &str, command: &str, body: Value) -> anyhow::Result<Value> {
        let reply = self.post(
            &format!("/providers/{provider}/command"),
            &json!({"command": command, "body": body}),
        )?;
        Ok(reply["body"].clone())
    }

    /// `igloo esphome add HOST[:PORT] [--key KEY|-]`: adds a device by
    /// address or gives a known one its key (`-` reads the key from stdin,
    /// keeping it out of shell history and `ps`).
    ///
    /// # Errors
    /// A malformed address, an unreadable key, or the provider's refusal.
    pub fn esphome_add(
        &self,
        provider: Option<&str>,
        address: &str,
        key: Option<&str>,
    ) -> anyhow::Result<()> {
        let (host, port) = host_port(address)?;
        let key = match key {
            Some("-") => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the key from stdin")?;
                Some(text.trim().to_string())
            }
            Some(k) => Some(k.to_string()),
            None => None,
        };
        let provider = self.esphome_provider(provider)?;
        let mut body = json!({"host": host});
        if let Some(p) = port {
            body["port"] = json!(p);
        }
        if let Some(k) = key {
            body["key"] = json!(k);
        }
        let status = self.esphome_call(&provider, igloo_protocol::commands::esphome::ADD, body)?;
        if self.json {
            Self::print_json(&status);
        } else {
            println!(
                "added {} ({}); it connects in the background: `igloo esphome list` shows how it goes",
                status["address"].as_str().unwrap_or(address),
                if status["encrypted"].as_bool() == Some(true) {
                    "encrypted"
                } else {
                    "plaintext"
                }
            );
        }
        Ok(())
    }

    /// `igloo esphome remove HOST[:PORT]`.
    ///
    /// # Errors
    /// The provider's refusal (unknown device, one from the config file).
    pub fn esphome_remove(&self, provider: Option<&str>, address: &str) -> anyhow::Result<()> {
        let (host, port) = host_port(address)?;
        let provider = self.esphome_provider(provider)?;
        let mut body = json!({"host": host});
        if let Some(p) = port {
            body["port"] = json!(p);
        }
        let reply =
            self.esphome_call(&provider, igloo_protocol::commands::esphome::REMOVE, body)?;
        if self.json {
            Self::print_json(&reply);
        } else {
            println!("removed {}", reply["removed"].as_str().unwrap_or(address));
        }
        Ok(())
    }

    /// `igloo esphome list`: each device's address, state, MAC, name and
    /// last error.
    ///
    /// # Errors
    /// The API's or provider's error.
    pub fn esphome_list(&self, provider: Option<&str>) -> anyhow::Result<()> {
        let provider = self.esphome_provider(provider)?;
        let status = self.esphome_call(
            &provider,
            igloo_protocol::commands::esphome::STATUS,
            json!({}),
        )?;
        if self.json {
            Self::print_json(&status);
            return Ok(());
        }
        let devices = status["devices"].as_array().cloned().unwrap_or_default();
        if devices.is_empty() {
            println!(
                "no ESPHome devices yet (discovery finds them on the LAN; or `igloo esphome add HOST`)"
            );
            return Ok(());
        }
        println!(
            "{:<24} {:<16} {:<18} {:<6} {:<8} {:<5} NAME",
            "ADDRESS", "STATE", "MAC", "SOURCE", "ENCRYPT", "ID"
        );
        for d in devices {
            let s = |k: &str| d[k].as_str().unwrap_or("-").to_string();
            println!(
                "{:<24} {:<16} {:<18} {:<6} {:<8} {:<5} {}",
                s("address"),
                s("state"),
                s("mac"),
                s("source"),
                if d["encrypted"].as_bool() == Some(true) {
                    "yes"
                } else {
                    "no"
                },
                d["device_id"]
                    .as_u64()
                    .map(|i| i.to_string())
                    .unwrap_or("-".into()),
                s("name"),
            );
            if let Some(e) = d["error"].as_str() {
                println!("    {e}");
            } else if let Some(e) = d["last_error"].as_str() {
                // Back now; say why it last dropped and how often.
                println!("    last failure ({} so far): {e}", d["failures"]);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn addresses() {
        let ok = |t: &str| host_port(t).expect(t);
        assert_eq!(ok("10.0.0.5"), ("10.0.0.5".into(), None));
        assert_eq!(ok("10.0.0.5:6054"), ("10.0.0.5".into(), Some(6054)));
        assert_eq!(ok("kitchen.local"), ("kitchen.local".into(), None));
        assert_eq!(ok("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(ok("[fe80::1]:6053"), ("fe80::1".into(), Some(6053)));
        assert!(host_port("10.0.0.5:x").is_err());
        assert!(host_port("[fe80::1").is_err());
    }
}
