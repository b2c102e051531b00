//! `[mdns]`: how the core announces the gateway on the LAN
//! (docs/configuration.md).

use std::net::SocketAddr;

use serde::Deserialize;
use toml::Spanned;

/// A key's error: its span in the file and the message.
pub type KeyError = Spanned<String>;

/// `[mdns]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnsSettings {
    /// Whether to announce at all: `enabled` when given, else whether
    /// `[core] api_listen` is reachable from other hosts (not loopback).
    pub enabled: bool,
    /// The host name to announce as `<hostname>.local`; `None` = the
    /// system's host name, read at start.
    pub hostname: Option<String>,
    /// `mqtt_port`: also announce `_mqtt._tcp` on this port (the
    /// appliance's own broker); `None` = no broker is announced.
    pub mqtt_port: Option<u16>,
}

/// `[mdns]` as written in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMdns {
    enabled: Option<bool>,
    hostname: Option<Spanned<String>>,
    mqtt_port: Option<Spanned<u16>>,
}

impl MdnsSettings {
    /// Checks `raw`; `api_listen` is `[core] api_listen` (whether the API
    /// is reachable from the LAN decides the default of `enabled`).
    ///
    /// # Errors
    /// A `hostname` that is not one DNS label of letters, digits and
    /// hyphens (RFC 1123, 1–63 characters, no hyphen first or last), or
    /// `mqtt_port = 0`, with the key's span.
    pub fn from_raw(raw: RawMdns, api_listen: SocketAddr) -> Result<MdnsSettings, KeyError> {
        if let Some(h) = &raw.hostname {
            check_label(h.get_ref()).map_err(|why| {
                Spanned::new(h.span(), format!("hostname {:?}: {why}", h.get_ref()))
            })?;
        }
        if let Some(p) = &raw.mqtt_port
            && *p.get_ref() == 0
        {
            return Err(Spanned::new(
                p.span(),
                "mqtt_port must be the broker's port (1-65535)".into(),
            ));
        }
        Ok(MdnsSettings {
            enabled: raw
                .enabled
                .unwrap_or_else(|| !api_listen.ip().is_loopback()),
            hostname: raw.hostname.map(Spanned::into_inner),
            mqtt_port: raw.mqtt_port.map(Spanned::into_inner),
        })
    }
}

/// Whether `name` is one host-name label (RFC 1123 §2.1, RFC 952).
///
/// # Errors
/// What is wrong with it.
pub fn check_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err("must be 1 to 63 characters".into());
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err("may hold only letters, digits and '-'".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err("must not start or end with '-'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, listen: &str) -> Result<MdnsSettings, String> {
        let raw: RawMdns = toml::from_str(text).map_err(|e| e.to_string())?;
        MdnsSettings::from_raw(raw, listen.parse().unwrap()).map_err(Spanned::into_inner)
    }

    #[test]
    fn announced_by_default_only_when_the_api_is_on_the_lan() {
        assert!(parse("", "0.0.0.0:8080").unwrap().enabled);
        assert!(parse("", "192.168.1.5:8080").unwrap().enabled);
        assert!(!parse("", "127.0.0.1:8080").unwrap().enabled);
        assert!(!parse("", "[::1]:8080").unwrap().enabled);
        assert!(parse("enabled = true", "127.0.0.1:8080").unwrap().enabled);
        assert!(!parse("enabled = false", "0.0.0.0:8080").unwrap().enabled);
    }

    #[test]
    fn hostnames_are_one_dns_label() {
        let s = parse(
            "hostname = \"igloo-kitchen\"\nmqtt_port = 1883",
            "0.0.0.0:80",
        )
        .unwrap();
        assert_eq!(s.hostname.as_deref(), Some("igloo-kitchen"));
        assert_eq!(s.mqtt_port, Some(1883));
        for bad in ["", "-igloo", "igloo-", "ig.loo", "ig loo", &"x".repeat(64)] {
            let e = parse(&format!("hostname = {bad:?}"), "0.0.0.0:80").unwrap_err();
            assert!(e.starts_with(&format!("hostname {bad:?}")), "{e}");
        }
        assert!(
            parse("mqtt_port = 0", "0.0.0.0:80")
                .unwrap_err()
                .contains("mqtt_port")
        );
    }
}
