//! `[auth]`: who may use the API (docs/configuration.md, docs/security.md).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A key's error: its span in the file and the message.
pub type KeyError = Spanned<String>;

/// Default session lifetime, days.
pub const DEFAULT_SESSION_DAYS: u32 = 30;
/// Where the root-only local socket is when the core runs as root and
/// `local_socket` is not set.
pub const DEFAULT_LOCAL_SOCKET: &str = "/run/igloo/api.sock";

/// `[auth]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// Whether requests need credentials. `false` is accepted only when
    /// `[core] api_listen` is a loopback address.
    pub enabled: bool,
    /// How long a browser session lasts, seconds.
    pub session_ttl_s: u64,
    /// The Unix socket on which root (by `SO_PEERCRED`) needs no
    /// credentials, when configured; see [`AuthSettings::local_socket`].
    pub local_socket: Option<PathBuf>,
}

/// `[auth]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawAuth {
    enabled: Option<Spanned<bool>>,
    session_days: Option<Spanned<u32>>,
    local_socket: Option<Spanned<String>>,
}

impl AuthSettings {
    /// Checks `raw`. `api_listen` decides whether authentication may be off;
    /// relative paths are taken from `base` (the config file's directory).
    ///
    /// # Errors
    /// `enabled = false` with a non-loopback `api_listen` (at `enabled`),
    /// `session_days` outside 1..=365, or an empty `local_socket`.
    pub fn from_raw(
        raw: RawAuth,
        api_listen: SocketAddr,
        base: &Path,
    ) -> Result<AuthSettings, KeyError> {
        let enabled = raw.enabled.as_ref().is_none_or(|e| *e.get_ref());
        if let Some(e) = &raw.enabled
            && !enabled
            && !api_listen.ip().is_loopback()
        {
            return Err(Spanned::new(
                e.span(),
                format!(
                    "[auth] enabled = false is refused while [core] api_listen = \"{api_listen}\" is reachable from other hosts: \
                     anyone on the network could then control every device. Listen on 127.0.0.1, or keep authentication on"
                ),
            ));
        }
        let days = match &raw.session_days {
            Some(d) if !(1..=365).contains(d.get_ref()) => {
                return Err(Spanned::new(
                    d.span(),
                    "session_days must be 1 to 365".into(),
                ));
            }
            Some(d) => *d.get_ref(),
            None => DEFAULT_SESSION_DAYS,
        };
        let local_socket = match raw.local_socket {
            Some(s) if s.get_ref().is_empty() => {
                return Err(Spanned::new(s.span(), "local_socket must be a path".into()));
            }
            Some(s) => {
                let p = PathBuf::from(s.into_inner());
                Some(if p.is_absolute() { p } else { base.join(p) })
            }
            None => None,
        };
        Ok(AuthSettings {
            enabled,
            session_ttl_s: u64::from(days) * 86_400,
            local_socket,
        })
    }

    /// The local socket to serve: the configured one, else
    /// [`DEFAULT_LOCAL_SOCKET`] when the core runs as `root`, else none.
    pub fn local_socket(&self, root: bool) -> Option<PathBuf> {
        self.local_socket
            .clone()
            .or_else(|| root.then(|| PathBuf::from(DEFAULT_LOCAL_SOCKET)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, listen: &str) -> Result<AuthSettings, String> {
        let raw: RawAuth = toml::from_str(text).map_err(|e| e.to_string())?;
        AuthSettings::from_raw(raw, listen.parse().unwrap(), Path::new("/etc/igloo"))
            .map_err(Spanned::into_inner)
    }

    #[test]
    fn authentication_is_on_by_default_and_off_only_on_loopback() {
        let s = parse("", "0.0.0.0:8080").unwrap();
        assert!(s.enabled);
        assert_eq!(s.session_ttl_s, 30 * 86_400);
        assert_eq!(s.local_socket, None);
        assert!(!parse("enabled = false", "127.0.0.1:8080").unwrap().enabled);
        assert!(!parse("enabled = false", "[::1]:8080").unwrap().enabled);
        for lan in ["0.0.0.0:8080", "192.168.1.2:80", "[::]:8080"] {
            let e = parse("enabled = false", lan).unwrap_err();
            assert!(e.contains("is refused") && e.contains(lan), "{e}");
        }
    }

    #[test]
    fn root_gets_the_local_socket_by_default() {
        let s = parse("", "0.0.0.0:8080").unwrap();
        assert_eq!(
            s.local_socket(true).as_deref(),
            Some(Path::new(DEFAULT_LOCAL_SOCKET))
        );
        assert_eq!(s.local_socket(false), None);
        let s = parse("local_socket = \"run/api.sock\"", "0.0.0.0:8080").unwrap();
        assert_eq!(
            s.local_socket.as_deref(),
            Some(Path::new("/etc/igloo/run/api.sock"))
        );
        assert!(parse("session_days = 0", "0.0.0.0:8080").is_err());
        assert!(parse("session_days = 7", "0.0.0.0:8080").is_ok());
    }
}
