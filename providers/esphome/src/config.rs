//! The provider's config section (`[provider.config]` in `igloo.toml`) and its validation.
//!
//! ```toml
//! [provider.config]
//! discovery = true          # find devices with mDNS (`_esphomelib._tcp`); default true
//! keepalive_secs = 20       # ping an idle device this often; default 20 (as Home Assistant)
//! connect_timeout_secs = 10 # TCP connect + handshake + login; default 10
//! reconnect_max_secs = 60   # longest wait between reconnects; default 60
//!
//! [[provider.config.device]] # a device added by address (mDNS not needed)
//! host = "192.168.1.50"      # IP address or host name
//! port = 6053                # default 6053
//! key = "base64…"            # the device's `api: encryption: key:`, if it has one
//! ```
//!
//! Keys given with `igloo esphome add HOST --key KEY` are kept in the
//! provider's data dir instead (see [`crate::store`]); a key in this file wins
//! for its device. Unknown keys are errors (a typo must not silently fall back
//! to a default). Keys are never logged.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::api::noise::Psk;

/// ESPHome's native API port.
pub const DEFAULT_PORT: u16 = 6053;

/// The raw config section as written by the user.
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Browse mDNS for devices. Default true.
    #[serde(default)]
    pub discovery: Option<bool>,
    /// Seconds between pings of an idle connection (default 20). A device
    /// silent for 4.5 times this is considered gone, as aioesphomeapi does.
    #[serde(default)]
    pub keepalive_secs: Option<u64>,
    /// Seconds allowed for connect, handshake and login (default 10).
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    /// Longest wait between reconnect attempts in seconds (default 60).
    #[serde(default)]
    pub reconnect_max_secs: Option<u64>,
    /// Devices added by address.
    #[serde(default)]
    pub device: Vec<DeviceConfig>,
}

/// One `[[provider.config.device]]`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    /// IP address or host name.
    pub host: String,
    /// TCP port, default 6053.
    #[serde(default)]
    pub port: Option<u16>,
    /// The device's API encryption key, base64.
    #[serde(default)]
    pub key: Option<String>,
}

impl fmt::Debug for DeviceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A device address: host (IP or name) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize)]
pub struct Endpoint {
    /// IP address or host name.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Endpoint {
    /// Checks a host and port from a user.
    ///
    /// # Errors
    /// An empty or malformed host, or port 0.
    pub fn new(host: &str, port: u16) -> Result<Endpoint, String> {
        let host = host.trim().trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err("the host is empty".into());
        }
        let ok = host.parse::<std::net::IpAddr>().is_ok()
            || (host.len() <= 253
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }));
        if !ok {
            return Err(format!("{host:?} is not an IP address or host name"));
        }
        if port == 0 {
            return Err("port 0 is not a valid port".into());
        }
        Ok(Endpoint {
            host: host.to_string(),
            port,
        })
    }
}

/// A configured device, validated.
#[derive(Debug, Clone)]
pub struct ConfiguredDevice {
    /// Where it listens.
    pub endpoint: Endpoint,
    /// Its key, if encrypted.
    pub key: Option<Psk>,
}

/// The validated settings the provider runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Browse mDNS.
    pub discovery: bool,
    /// Ping interval of an idle connection.
    pub keepalive: Duration,
    /// Limit on connect + handshake + login.
    pub connect_timeout: Duration,
    /// Longest back-off between reconnects.
    pub reconnect_max: Duration,
    /// Devices from the config file.
    pub devices: Vec<ConfiguredDevice>,
}

impl Config {
    /// Validates the section.
    ///
    /// # Errors
    /// A message naming the offending key: zero durations, a bad host or port,
    /// an invalid key (the key itself is never part of a message), or the same
    /// device twice.
    pub fn validate(self) -> Result<Settings, String> {
        let secs = |name: &str, v: Option<u64>, default: u64, max: u64| {
            let v = v.unwrap_or(default);
            if v == 0 || v > max {
                Err(format!("{name} = {v}: must be 1..={max}"))
            } else {
                Ok(Duration::from_secs(v))
            }
        };
        let keepalive = secs("keepalive_secs", self.keepalive_secs, 20, 3600)?;
        let connect_timeout = secs("connect_timeout_secs", self.connect_timeout_secs, 10, 600)?;
        let reconnect_max = secs("reconnect_max_secs", self.reconnect_max_secs, 60, 86_400)?;
        let mut devices: Vec<ConfiguredDevice> = Vec::new();
        for (i, d) in self.device.into_iter().enumerate() {
            let endpoint = Endpoint::new(&d.host, d.port.unwrap_or(DEFAULT_PORT))
                .map_err(|e| format!("device[{i}]: {e}"))?;
            let key = d
                .key
                .as_deref()
                .map(Psk::from_base64)
                .transpose()
                .map_err(|e| format!("device[{i}] ({endpoint}): {e}"))?;
            if devices.iter().any(|o| o.endpoint == endpoint) {
                return Err(format!("device[{i}]: {endpoint} is listed twice"));
            }
            devices.push(ConfiguredDevice { endpoint, key });
        }
        Ok(Settings {
            discovery: self.discovery.unwrap_or(true),
            keepalive,
            connect_timeout,
            reconnect_max,
            devices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, String> {
        toml::from_str::<Config>(text)
            .map_err(|e| e.to_string())?
            .validate()
    }

    #[test]
    fn defaults() {
        let s = parse("").expect("empty is valid");
        assert!(s.discovery);
        assert_eq!(s.keepalive, Duration::from_secs(20));
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.reconnect_max, Duration::from_secs(60));
        assert!(s.devices.is_empty());
    }

    #[test]
    fn devices_and_errors() {
        let s = parse(
            r#"
            discovery = false
            [[device]]
            host = "192.168.1.50"
            key = "px7tsbK3C7bpXHr2OevEV2ZMg/FojJ0+SmcIgLKY1Bk="
            [[device]]
            host = "kitchen.local"
            port = 6054
            "#,
        )
        .expect("valid");
        assert!(!s.discovery);
        assert_eq!(s.devices[0].endpoint.to_string(), "192.168.1.50:6053");
        assert!(s.devices[0].key.is_some());
        assert_eq!(s.devices[1].endpoint.to_string(), "kitchen.local:6054");
        let e = parse("[[device]]\nhost = \"a\"\nkey = \"short\"").expect_err("bad key");
        assert!(
            e.contains("device[0] (a:6053)") && e.contains("base64"),
            "{e}"
        );
        assert!(!e.contains("short"), "the key must not be echoed: {e}");
        let e = parse("[[device]]\nhost = \"bad host!\"").expect_err("bad host");
        assert!(e.contains("not an IP address or host name"), "{e}");
        let e = parse("[[device]]\nhost = \"a\"\n[[device]]\nhost = \"a\"").expect_err("dup");
        assert!(e.contains("listed twice"), "{e}");
        let e = parse("keepalive_secs = 0").expect_err("zero");
        assert!(e.contains("keepalive_secs = 0"), "{e}");
        let e = parse("discovry = true").expect_err("typo");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn debug_never_shows_keys() {
        let d = DeviceConfig {
            host: "h".into(),
            port: None,
            key: Some("px7tsbK3C7bpXHr2OevEV2ZMg/FojJ0+SmcIgLKY1Bk=".into()),
        };
        assert!(!format!("{d:?}").contains("px7t"));
    }
}
