//! The core's configuration file (`igloo.toml`): parsing and validation with
//! file:line:column errors. The format is documented in `docs/configuration.md`.
//!
//! Each section is read by the module that owns what it configures:
//! - [`core_section`]: `[core]` ([`CoreConfig`]), whose sandbox keys are checked by
//!   [`crate::sandbox::settings::CoreSandbox`] and hardware keys belong to
//!   [`crate::grants::settings::HardwareSettings`];
//! - [`provider`]: `[[provider]]` ([`ProviderConfig`]), whose
//!   `[provider.sandbox]` and `[provider.limits]` are read by
//!   [`crate::sandbox::settings`] and `[[provider.grant]]` by
//!   [`crate::grants::rules`];
//! - [`lines`]: where each key of `[provider.config]` is in the file, and the
//!   warnings about its `grant` indices;
//! - [`secrets`]: `[provider.secrets]`, the config keys whose values are read
//!   from files under `[core] secrets_dir` at each provider start;
//! - `[ota]` is read by [`crate::ota::settings`] ([`OtaSettings`]).
//! - `[mdns]` is read by [`crate::mdns::settings`] ([`MdnsSettings`]).
//! - `[watchdog]` is read by [`crate::watchdog::settings`] ([`WatchdogSettings`]).
//! - `[auth]` is read by [`crate::auth::settings`] ([`AuthSettings`]).
//! - `[logs]` is read by [`crate::logs::settings`] ([`LogSettings`]).
//! - `[wifi]` is read by [`crate::wifi::settings`] ([`WifiSettings`]).
//!
//! The dependency runs one way: `config` uses `sandbox`, `grants`, `ota`, `mdns`,
//! `watchdog`, `auth`, `logs` and `wifi`, never the reverse.

pub mod core_section;
pub mod lines;
pub mod provider;
pub mod secrets;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use self::core_section::CoreConfig;
pub use self::provider::{ProviderConfig, RestartPolicy, UpdatePolicy};
use crate::auth::settings::{AuthSettings, RawAuth};
use crate::logs::settings::{LogSettings, RawLogs};
use crate::mdns::settings::{MdnsSettings, RawMdns};
use crate::ota::settings::{OtaSettings, RawOta};
use crate::watchdog::settings::{RawWatchdog, WatchdogSettings};
use crate::wifi::settings::{RawWifi, WifiSettings};

/// A configuration error pointing at the place in the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", location(*.line, *.column))]
pub struct ConfigError {
    /// The config file.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong and, where useful, what to do.
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c} (line {l})"),
        (Some(l), None) => format!(":{l} (line {l})"),
        _ => String::new(),
    }
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Core settings.
    pub core: CoreConfig,
    /// One entry per `[[provider]]`, in file order.
    pub providers: Vec<ProviderConfig>,
    /// `[ota]`: over-the-air updates.
    pub ota: OtaSettings,
    /// `[mdns]`: announcing the gateway on the LAN.
    pub mdns: MdnsSettings,
    /// `[watchdog]`: the hardware watchdog.
    pub watchdog: WatchdogSettings,
    /// `[auth]`: who may use the API.
    pub auth: AuthSettings,
    /// `[logs]`: the log files on the data partition.
    pub logs: LogSettings,
    /// `[wifi]`: the Wi-Fi network the owner may change.
    pub wifi: WifiSettings,
    /// The file it came from.
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    core: self::core_section::RawCore,
    #[serde(default)]
    provider: Vec<provider::RawProvider>,
    #[serde(default)]
    ota: RawOta,
    #[serde(default)]
    mdns: RawMdns,
    #[serde(default)]
    watchdog: RawWatchdog,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    logs: RawLogs,
    #[serde(default)]
    wifi: RawWifi,
}

/// The text being parsed, for turning spans into errors and relative paths
/// into absolute ones.
pub struct Source<'a> {
    /// The whole file.
    pub text: &'a str,
    /// Where it was read from.
    pub path: &'a Path,
    /// The file's directory (`.` when it has none).
    pub base: PathBuf,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, path: &'a Path) -> Source<'a> {
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Source { text, path, base }
    }

    /// An error at byte span `span` (`0..0` or `None`: no position).
    pub fn error(&self, span: Option<Range<usize>>, message: String) -> ConfigError {
        let (line, column) = match span {
            Some(s) if !(s.start == 0 && s.end == 0) => {
                let (l, c) = line_col(self.text, s.start);
                (Some(l), Some(c))
            }
            _ => (None, None),
        };
        ConfigError {
            path: self.path.display().to_string(),
            line,
            column,
            message,
        }
    }

    /// A key's error, at the key, or at `fallback` when the key is not in
    /// the file (a default), prefixed with `context` (e.g. `provider "x": `).
    pub fn key_error(
        &self,
        e: toml::Spanned<String>,
        fallback: Range<usize>,
        context: &str,
    ) -> ConfigError {
        let span = e.span();
        let span = if span.start == 0 && span.end == 0 {
            fallback
        } else {
            span
        };
        self.error(Some(span), format!("{context}{}", e.into_inner()))
    }

    /// `p` made absolute against the config file's directory.
    pub fn abs(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.base.join(p)
        }
    }
}

/// Turns a byte offset into 1-based (line, column).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

impl Config {
    /// Reads and validates `path`. Relative paths inside are relative to the file's directory.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and, for syntax and validation errors, the line and column.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config `text` that was read from `path`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let src = Source::new(text, path);
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| src.error(e.span(), e.message().trim().to_string()))?;
        let core = CoreConfig::from_raw(raw.core, &src)?;
        let ota = OtaSettings::from_raw(raw.ota, &core.data_dir, &src.base)
            .map_err(|e| src.key_error(e, 0..0, ""))?;
        let mdns = MdnsSettings::from_raw(raw.mdns, core.api_listen)
            .map_err(|e| src.key_error(e, 0..0, ""))?;
        let watchdog =
            WatchdogSettings::from_raw(raw.watchdog).map_err(|e| src.key_error(e, 0..0, ""))?;
        let auth = AuthSettings::from_raw(raw.auth, core.api_listen, &src.base)
            .map_err(|e| src.key_error(e, 0..0, ""))?;
        let logs = LogSettings::from_raw(raw.logs, &core.data_dir, &src.base)
            .map_err(|e| src.key_error(e, 0..0, ""))?;
        let wifi =
            WifiSettings::from_raw(raw.wifi, &src.base).map_err(|e| src.key_error(e, 0..0, ""))?;
        let mut names = HashSet::new();
        let mut fixed_uids = HashSet::new();
        let mut providers = Vec::new();
        for (index, p) in raw.provider.into_iter().enumerate() {
            let name = p.name();
            if !names.insert(name.get_ref().clone()) {
                return Err(src.error(
                    Some(name.span()),
                    format!("duplicate provider name {:?}", name.get_ref()),
                ));
            }
            if let Some(uid) = p.fixed_uid()
                && !fixed_uids.insert(*uid.get_ref())
            {
                return Err(src.error(
                    Some(uid.span()),
                    format!(
                        "provider {:?}: [provider.sandbox] uid {} is already another provider's; each provider needs its own",
                        name.get_ref(),
                        uid.get_ref()
                    ),
                ));
            }
            providers.push(ProviderConfig::from_raw(p, index, &core, &src)?);
        }
        Ok(Config {
            core,
            providers,
            ota,
            mdns,
            watchdog,
            auth,
            logs,
            wifi,
            path: path.to_path_buf(),
        })
    }
}

/// Whether `name` is a valid provider name: non-empty, `[a-z0-9_-]+`, at most 64 bytes.
pub fn valid_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
}
