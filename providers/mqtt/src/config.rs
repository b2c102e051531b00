//! The provider's config section (`[provider.config]` in `igloo.toml`) and its validation.
//!
//! ```toml
//! [provider.config]
//! broker = "127.0.0.1:1883"     # host:port ([v6::addr]:port for IPv6 literals)
//! base_topic = "zigbee2mqtt"    # Zigbee2MQTT's `mqtt.base_topic`
//! client_id = "igloo-mqtt-1234" # default igloo-mqtt-<pid>
//! username = "igloo"            # optional; password requires username
//! password = "secret"           # optional; never logged
//! keep_alive_secs = 30          # MQTT keep-alive; 0 disables it
//! discovery = true              # Home Assistant MQTT discovery in (default on)
//! discovery_prefix = "homeassistant"
//!
//! [provider.config.publish]     # discovery out (docs/mqtt.md), off by default
//! enabled = true
//! prefix = "homeassistant"
//! base_topic = "igloo"
//! mode = "entity"               # or "device" (Home Assistant 2024.11+)
//! providers = ["*"]             # or names from the core config
//! ```
//!
//! Unknown keys are errors (a typo must not silently fall back to a default).

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::publish::{Options, PublishConfig};

/// The raw config section as written by the user. Every field has a default,
/// so an absent section means "local broker, default Zigbee2MQTT topic".
#[derive(Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Broker address, `host:port` (`[addr]:port` for IPv6 literals). Default `127.0.0.1:1883`.
    #[serde(default = "default_broker")]
    pub broker: String,
    /// Zigbee2MQTT base topic (its `mqtt.base_topic`). Default `zigbee2mqtt`.
    #[serde(default = "default_base_topic")]
    pub base_topic: String,
    /// MQTT client id. Default `igloo-mqtt-<pid>`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Broker user name, if the broker requires a login.
    #[serde(default)]
    pub username: Option<String>,
    /// Broker password; only together with `username`. Never logged.
    #[serde(default)]
    pub password: Option<String>,
    /// MQTT keep-alive in seconds (0 disables keep-alive pings). Default 30.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_secs: u16,
    /// Read Home Assistant MQTT discovery configs. Default true: devices that
    /// announce themselves this way (Tasmota, ESPHome, Shelly…) appear with no
    /// further setup, and an idle subscription costs nothing.
    #[serde(default = "default_true")]
    pub discovery: bool,
    /// Home Assistant's discovery prefix. Default `homeassistant`.
    #[serde(default = "default_discovery_prefix")]
    pub discovery_prefix: String,
    /// Discovery out: publish Igloo's devices as Home Assistant discovery.
    #[serde(default)]
    pub publish: PublishConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            broker: default_broker(),
            base_topic: default_base_topic(),
            client_id: None,
            username: None,
            password: None,
            keep_alive_secs: default_keep_alive(),
            discovery: true,
            discovery_prefix: default_discovery_prefix(),
            publish: PublishConfig::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("broker", &self.broker)
            .field("base_topic", &self.base_topic)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("discovery", &self.discovery)
            .field("discovery_prefix", &self.discovery_prefix)
            .field("publish", &self.publish)
            .finish()
    }
}

fn default_broker() -> String {
    "127.0.0.1:1883".into()
}

fn default_base_topic() -> String {
    "zigbee2mqtt".into()
}

fn default_keep_alive() -> u16 {
    30
}

fn default_true() -> bool {
    true
}

fn default_discovery_prefix() -> String {
    "homeassistant".into()
}

/// A topic prefix: non-empty, no wildcards or NUL, no leading or trailing `/`.
fn valid_prefix(p: &str) -> bool {
    !p.is_empty() && !p.contains(['+', '#', '\0']) && !p.starts_with('/') && !p.ends_with('/')
}

/// A config value that parses but cannot work. The message names the field
/// and says what is expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `broker` is not `host:port` with a port in 1..=65535.
    #[error("broker = {0:?}: expected host:port, e.g. \"127.0.0.1:1883\" or \"[::1]:1883\"")]
    Broker(String),
    /// `base_topic` is empty, has MQTT wildcards, or starts/ends with `/`.
    #[error(
        "base_topic = {0:?}: expected a non-empty MQTT topic without wildcards (+, #) and without a leading or trailing /"
    )]
    BaseTopic(String),
    /// `client_id` is empty.
    #[error("client_id must not be empty (leave it out for igloo-mqtt-<pid>)")]
    ClientId,
    /// A password without a user name.
    #[error("password is set but username is not")]
    PasswordWithoutUser,
    /// `discovery_prefix` is empty, has wildcards, or starts/ends with `/`.
    #[error(
        "discovery_prefix = {0:?}: expected a non-empty MQTT topic without wildcards (+, #) and without a leading or trailing /"
    )]
    DiscoveryPrefix(String),
    /// `publish.prefix` or `publish.base_topic` is not a valid topic prefix.
    #[error(
        "publish.{0} = {1:?}: expected a non-empty MQTT topic without wildcards (+, #) and without a leading or trailing /"
    )]
    Publish(&'static str, String),
    /// `publish.base_topic` is Zigbee2MQTT's base topic or the discovery prefix.
    #[error("publish.base_topic = {0:?} must differ from base_topic and publish.prefix")]
    PublishClash(String),
}

/// A validated config, ready to connect with.
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// Broker host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// Zigbee2MQTT base topic, without trailing `/`.
    pub base_topic: String,
    /// MQTT client id.
    pub client_id: String,
    /// `(username, password)`; the password is empty when only a user name is given.
    pub credentials: Option<(String, String)>,
    /// Keep-alive interval; zero disables keep-alive pings.
    pub keep_alive: Duration,
    /// Home Assistant discovery prefix, when discovery is on.
    pub discovery_prefix: Option<String>,
    /// Discovery out, when enabled.
    pub publish: Option<Options>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("base_topic", &self.base_topic)
            .field("client_id", &self.client_id)
            .field("username", &self.credentials.as_ref().map(|(u, _)| u))
            .field("keep_alive", &self.keep_alive)
            .field("discovery_prefix", &self.discovery_prefix)
            .field("publish", &self.publish)
            .finish()
    }
}

impl Config {
    /// Checks the values and resolves defaults; `pid` names the default client id.
    ///
    /// # Errors
    /// The first [`ConfigError`] found.
    pub fn validate(self, pid: u32) -> Result<Settings, ConfigError> {
        let (host, port) =
            parse_broker(&self.broker).ok_or_else(|| ConfigError::Broker(self.broker.clone()))?;
        if !valid_prefix(&self.base_topic) {
            return Err(ConfigError::BaseTopic(self.base_topic));
        }
        if !valid_prefix(&self.discovery_prefix) {
            return Err(ConfigError::DiscoveryPrefix(self.discovery_prefix));
        }
        let p = self.publish;
        if p.enabled {
            if !valid_prefix(&p.prefix) {
                return Err(ConfigError::Publish("prefix", p.prefix));
            }
            if !valid_prefix(&p.base_topic) {
                return Err(ConfigError::Publish("base_topic", p.base_topic));
            }
            if p.base_topic == self.base_topic || p.base_topic == p.prefix {
                return Err(ConfigError::PublishClash(p.base_topic));
            }
        }
        let publish = p.enabled.then(|| Options {
            prefix: p.prefix,
            base_topic: p.base_topic,
            mode: p.mode,
            providers: p.providers,
            own: std::env::var("IGLOO_PROVIDER").ok(),
            sw_version: env!("CARGO_PKG_VERSION").to_string(),
        });
        let client_id = match self.client_id {
            Some(id) if id.is_empty() => return Err(ConfigError::ClientId),
            Some(id) => id,
            None => format!("igloo-mqtt-{pid}"),
        };
        let credentials = match (self.username, self.password) {
            (Some(u), p) => Some((u, p.unwrap_or_default())),
            (None, Some(_)) => return Err(ConfigError::PasswordWithoutUser),
            (None, None) => None,
        };
        Ok(Settings {
            host,
            port,
            base_topic: self.base_topic,
            client_id,
            credentials,
            keep_alive: Duration::from_secs(u64::from(self.keep_alive_secs)),
            discovery_prefix: self.discovery.then_some(self.discovery_prefix),
            publish,
        })
    }
}

/// Splits `host:port` / `[v6]:port`; `None` when malformed or the port is 0.
fn parse_broker(s: &str) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        (host, port)
    } else {
        let (host, port) = s.rsplit_once(':')?;
        if host.contains(':') {
            return None; // a bare IPv6 literal is ambiguous: require brackets
        }
        (host, port)
    };
    let port: u16 = port.parse().ok()?;
    if host.is_empty() || host.contains(char::is_whitespace) || port == 0 {
        return None;
    }
    Some((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(toml_text)
    }

    #[test]
    fn empty_section_gives_documented_defaults() {
        let s = parse("").map(|c| c.validate(42));
        let s = match s {
            Ok(Ok(s)) => s,
            other => panic!("defaults must validate: {other:?}"),
        };
        assert_eq!(s.host, "127.0.0.1");
        assert_eq!(s.port, 1883);
        assert_eq!(s.base_topic, "zigbee2mqtt");
        assert_eq!(s.client_id, "igloo-mqtt-42");
        assert_eq!(s.credentials, None);
        assert_eq!(s.keep_alive, Duration::from_secs(30));
        assert_eq!(s.discovery_prefix.as_deref(), Some("homeassistant"));
    }

    #[test]
    fn discovery_can_be_moved_or_turned_off() {
        let s = parse("discovery_prefix = \"ha/disc\"").map(|c| c.validate(1));
        assert!(
            matches!(&s, Ok(Ok(s)) if s.discovery_prefix.as_deref() == Some("ha/disc")),
            "{s:?}"
        );
        let s = parse("discovery = false").map(|c| c.validate(1));
        assert!(
            matches!(&s, Ok(Ok(s)) if s.discovery_prefix.is_none()),
            "{s:?}"
        );
        for bad in ["", "ha/#", "/ha", "ha/"] {
            let s = parse(&format!("discovery_prefix = {bad:?}")).map(|c| c.validate(1));
            assert!(
                matches!(&s, Ok(Err(ConfigError::DiscoveryPrefix(p))) if p == bad),
                "{bad}: {s:?}"
            );
        }
    }

    #[test]
    fn full_section_is_used() {
        let c = parse(
            r#"broker = "[::1]:8883"
               base_topic = "z2m/home"
               client_id = "gw"
               username = "u"
               password = "p"
               keep_alive_secs = 5"#,
        );
        let s = c.map(|c| c.validate(1));
        let Ok(Ok(s)) = s else {
            panic!("valid config rejected: {s:?}")
        };
        assert_eq!((s.host.as_str(), s.port), ("::1", 8883));
        assert_eq!(s.base_topic, "z2m/home");
        assert_eq!(s.client_id, "gw");
        assert_eq!(s.credentials, Some(("u".into(), "p".into())));
        assert_eq!(s.keep_alive, Duration::from_secs(5));
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused() {
        let e = parse("brokr = \"x:1\"")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(e.contains("brokr"), "{e}");
        assert!(parse("keep_alive_secs = 70000").is_err());
        assert!(parse("keep_alive_secs = \"30\"").is_err());
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let bad = |toml_text: &str| match parse(toml_text) {
            Ok(c) => c.validate(1).err(),
            Err(e) => panic!("{toml_text}: {e}"),
        };
        for broker in [
            "localhost",
            "host:0",
            "host:99999",
            ":1883",
            "::1:1883",
            "h:x",
        ] {
            assert_eq!(
                bad(&format!("broker = {broker:?}")),
                Some(ConfigError::Broker(broker.into())),
                "{broker}"
            );
        }
        for base in ["", "a/#", "+", "/z2m", "z2m/"] {
            assert_eq!(
                bad(&format!("base_topic = {base:?}")),
                Some(ConfigError::BaseTopic(base.into())),
                "{base}"
            );
        }
        assert_eq!(bad("client_id = \"\""), Some(ConfigError::ClientId));
        assert_eq!(
            bad("password = \"p\""),
            Some(ConfigError::PasswordWithoutUser)
        );
        assert_eq!(bad("broker = \"mqtt.local:1883\""), None);
    }

    #[test]
    fn publish_is_off_by_default_and_checked_when_on() {
        let s = parse("").map(|c| c.validate(1));
        assert!(matches!(&s, Ok(Ok(s)) if s.publish.is_none()), "{s:?}");
        let s = parse("[publish]\nenabled = true\nmode = \"device\"\nproviders = [\"esphome\"]")
            .map(|c| c.validate(1));
        let Ok(Ok(s)) = s else {
            panic!("valid publish section rejected: {s:?}")
        };
        let p = s.publish.unwrap_or_else(|| panic!("publish is on"));
        assert_eq!(
            (p.prefix.as_str(), p.base_topic.as_str()),
            ("homeassistant", "igloo")
        );
        assert_eq!(p.mode, crate::publish::Mode::Device);
        assert_eq!(p.providers, ["esphome"]);
        let bad = |t: &str| parse(t).map(|c| c.validate(1).err());
        assert!(matches!(
            bad("[publish]\nenabled = true\nbase_topic = \"ig/#\""),
            Ok(Some(ConfigError::Publish("base_topic", _)))
        ));
        assert!(matches!(
            bad("[publish]\nenabled = true\nbase_topic = \"zigbee2mqtt\""),
            Ok(Some(ConfigError::PublishClash(_)))
        ));
        assert!(parse("[publish]\nenable = true").is_err());
        assert!(parse("[publish]\nmode = \"both\"").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let c = Config {
            username: Some("u".into()),
            password: Some("hunter2".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let s = c.validate(1).map(|s| format!("{s:?}"));
        assert!(matches!(&s, Ok(t) if !t.contains("hunter2") && t.contains("\"u\"")));
    }
}
