//! `[[provider]]`: one provider's settings (docs/configuration.md). Its
//! `[provider.sandbox]` and `[provider.limits]` are read by
//! [`crate::sandbox::settings`], its `[[provider.grant]]` rules by
//! [`crate::grants::rules`], its `[provider.secrets]` by [`super::secrets`];
//! `[provider.restart]` and `[provider.update]` are the supervisor's policies
//! and are read here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::lines::{config_lines, grant_reference_warnings, lookup_line};
use super::secrets::{SecretRef, refs_from_raw};
use super::{ConfigError, CoreConfig, Source, line_col, valid_provider_name};
use crate::grants::rules::{GrantRule, rules_from_raw};
use crate::sandbox::netpolicy::NetworkPolicy;
use crate::sandbox::settings::{ProviderLimits, RawLimits, RawSandbox, SandboxSettings};

/// One `[[provider]]`.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Unique name (`[a-z0-9_-]+`).
    pub name: String,
    /// Resolved executable path.
    pub exec: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// `[provider.config]` as TOML text, passed in `Welcome` (with the
    /// values of `secrets` added at each start; never holds them itself).
    pub config_toml: String,
    /// `[provider.secrets]`: config keys whose values are read from files in
    /// `[core] secrets_dir` at each start, in key order.
    pub secrets: Vec<SecretRef>,
    /// `network = "lan"`: what the provider may reach (default `lan`).
    pub network: NetworkPolicy,
    /// `tree = "none"`: what the provider may do with other providers'
    /// devices (default `none`).
    pub tree: TreeAccess,
    /// `untrusted = true`: never start it without Landlock, unless
    /// `sandbox.allow_without_landlock` says so.
    pub untrusted: bool,
    /// `[provider.sandbox]`.
    pub sandbox: SandboxSettings,
    /// `[provider.limits]`.
    pub limits: ProviderLimits,
    /// `[[provider.grant]]` rules: devices the core opens and passes to it.
    pub grants: Vec<GrantRule>,
    /// `wait_for_grant = true`: start only once a device matching `grants` is present.
    pub wait_for_grant: bool,
    /// `[provider.update]`: when a newly switched-to version counts as failed.
    pub update: UpdatePolicy,
    /// Problems that do not stop the provider, each naming its file and line.
    pub warnings: Vec<String>,
    /// Line in the config file of each key of `[provider.config]`, dotted,
    /// array elements by index (`modbus.0.baud`); `""` is the section itself.
    pub config_lines: BTreeMap<String, usize>,
}

impl ProviderConfig {
    /// The 1-based line in the config file of `key` (dotted, relative to
    /// `[provider.config]`, array elements by index: `"modbus.0.baud"`), else
    /// of its nearest ancestor that is in the file, else of the section.
    /// `None` when the provider has no config section.
    pub fn config_line(&self, key: &str) -> Option<usize> {
        lookup_line(&self.config_lines, key)
    }

    /// The keys the sandbox confines it by.
    pub fn sandbox_subject(&self) -> crate::sandbox::Subject<'_> {
        crate::sandbox::Subject {
            name: &self.name,
            exec: &self.exec,
            network: self.network,
            untrusted: self.untrusted,
            sandbox: &self.sandbox,
            limits: &self.limits,
        }
    }
}

/// `tree = "…"` in a `[[provider]]` table: whether the provider may see and
/// change devices it does not own (`ObserveTree`, `RequestChange`;
/// docs/providers.md). Ownership itself never changes: a provider still
/// writes, marks available and removes only its own devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TreeAccess {
    /// Only its own devices (the default).
    #[default]
    None,
    /// May observe every device, its values and availability.
    Read,
    /// May also request changes to any device, checked like a user's
    /// request with the `control` scope.
    Control,
}

impl TreeAccess {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TreeAccess::None => "none",
            TreeAccess::Read => "read",
            TreeAccess::Control => "control",
        }
    }
}

/// `[provider.restart]`: exponential back-off with jitter between restarts
/// of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// `initial_backoff_ms = 500`: first delay.
    pub initial_backoff: Duration,
    /// `max_backoff_ms = 30000`: cap.
    pub max_backoff: Duration,
    /// `stable_after_ms = 60000`: running this long resets the back-off to
    /// `initial_backoff`.
    pub stable_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_millis(30_000),
            stable_after: Duration::from_millis(60_000),
        }
    }
}

/// `[provider.update]`: the trial of a new provider version after
/// `igloo providers update` (docs/compatibility.md). A version that fails its
/// handshake, or ends `max_failures` times within `window` of the switch, is
/// replaced by the previous version; one that survives the window is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatePolicy {
    /// `window_ms = 60000`: how long a new version is on trial.
    pub window: Duration,
    /// `max_failures = 3`: exits or lost connections within the window that
    /// send the provider back to the previous version (1..=100).
    pub max_failures: u32,
}

impl Default for UpdatePolicy {
    fn default() -> Self {
        UpdatePolicy {
            window: Duration::from_millis(60_000),
            max_failures: 3,
        }
    }
}

fn ms(d: Duration) -> Spanned<u64> {
    Spanned::new(0..0, u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawRestart {
    initial_backoff_ms: Spanned<u64>,
    max_backoff_ms: Spanned<u64>,
    stable_after_ms: u64,
}

impl Default for RawRestart {
    fn default() -> Self {
        let d = RestartPolicy::default();
        RawRestart {
            initial_backoff_ms: ms(d.initial_backoff),
            max_backoff_ms: ms(d.max_backoff),
            stable_after_ms: *ms(d.stable_after).get_ref(),
        }
    }
}

impl RestartPolicy {
    fn from_raw(r: RawRestart) -> Result<RestartPolicy, Spanned<String>> {
        let (initial, max) = (*r.initial_backoff_ms.get_ref(), *r.max_backoff_ms.get_ref());
        if initial == 0 {
            return Err(Spanned::new(
                r.initial_backoff_ms.span(),
                "[provider.restart] initial_backoff_ms must be > 0".into(),
            ));
        }
        if max < initial {
            return Err(Spanned::new(
                r.max_backoff_ms.span(),
                format!(
                    "[provider.restart] max_backoff_ms ({max}) must be >= initial_backoff_ms ({initial})"
                ),
            ));
        }
        Ok(RestartPolicy {
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
            stable_after: Duration::from_millis(r.stable_after_ms),
        })
    }
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawUpdate {
    window_ms: Spanned<u64>,
    max_failures: Spanned<u32>,
}

impl Default for RawUpdate {
    fn default() -> Self {
        let d = UpdatePolicy::default();
        RawUpdate {
            window_ms: ms(d.window),
            max_failures: Spanned::new(0..0, d.max_failures),
        }
    }
}

impl UpdatePolicy {
    fn from_raw(u: RawUpdate) -> Result<UpdatePolicy, Spanned<String>> {
        if *u.window_ms.get_ref() == 0 {
            return Err(Spanned::new(
                u.window_ms.span(),
                "[provider.update] needs window_ms > 0".into(),
            ));
        }
        if !(1..=100).contains(u.max_failures.get_ref()) {
            return Err(Spanned::new(
                u.max_failures.span(),
                "[provider.update] needs max_failures in 1..=100".into(),
            ));
        }
        Ok(UpdatePolicy {
            window: Duration::from_millis(*u.window_ms.get_ref()),
            max_failures: u.max_failures.into_inner(),
        })
    }
}

/// One `[[provider]]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    name: Spanned<String>,
    exec: Spanned<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    restart: RawRestart,
    #[serde(default)]
    config: Option<Spanned<toml::Table>>,
    #[serde(default)]
    network: NetworkPolicy,
    #[serde(default)]
    tree: TreeAccess,
    #[serde(default)]
    untrusted: bool,
    #[serde(default)]
    sandbox: RawSandbox,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    grant: Vec<Spanned<GrantRule>>,
    #[serde(default)]
    wait_for_grant: Option<Spanned<bool>>,
    #[serde(default)]
    update: RawUpdate,
    #[serde(default)]
    secrets: BTreeMap<String, Spanned<String>>,
}

impl RawProvider {
    /// `name`, with its span.
    pub fn name(&self) -> &Spanned<String> {
        &self.name
    }

    /// `[provider.sandbox] uid`, with its span.
    pub fn fixed_uid(&self) -> Option<&Spanned<u32>> {
        self.sandbox.uid()
    }
}

impl ProviderConfig {
    /// Checks the `index`-th `[[provider]]` (0-based, file order). Names
    /// and fixed uids unique across providers are the caller's to check.
    ///
    /// # Errors
    /// An invalid name, an executable not found, or a bad key in one of its
    /// sections, at the key (at the provider's name when the value is a
    /// default), prefixed with `provider "<name>": `.
    pub fn from_raw(
        p: RawProvider,
        index: usize,
        core: &CoreConfig,
        src: &Source<'_>,
    ) -> Result<ProviderConfig, ConfigError> {
        let name = p.name.get_ref().clone();
        let here = p.name.span();
        if !valid_provider_name(&name) {
            return Err(src.error(
                Some(here),
                format!("provider name {name:?} must be 1-64 characters of a-z, 0-9, '-' and '_'"),
            ));
        }
        let context = format!("provider {name:?}: ");
        let key_err = |e: Spanned<String>| src.key_error(e, here.clone(), &context);
        let exec = resolve_exec(p.exec.get_ref(), &src.base).ok_or_else(|| {
            src.error(
                Some(p.exec.span()),
                format!(
                    "{context}executable {:?} not found (looked relative to the config file, next to the igloo binary and on PATH)",
                    p.exec.get_ref()
                ),
            )
        })?;
        let restart = RestartPolicy::from_raw(p.restart).map_err(key_err)?;
        let update = UpdatePolicy::from_raw(p.update).map_err(key_err)?;
        let sandbox =
            SandboxSettings::from_raw(p.sandbox, &core.sandbox, &src.base).map_err(key_err)?;
        let limits = ProviderLimits::from_raw(p.limits).map_err(key_err)?;
        let grants = rules_from_raw(p.grant).map_err(key_err)?;
        let wait_for_grant = match p.wait_for_grant {
            Some(w) if *w.get_ref() && grants.is_empty() => {
                return Err(key_err(Spanned::new(
                    w.span(),
                    "wait_for_grant needs at least one [[provider.grant]] rule".into(),
                )));
            }
            w => w.is_some_and(|w| *w.get_ref()),
        };
        let config = p.config.map(Spanned::into_inner).unwrap_or_default();
        let secrets = refs_from_raw(p.secrets, &config, &|span| line_col(src.text, span.start).0)
            .map_err(key_err)?;
        let config_toml = toml::to_string(&config).map_err(|e| {
            src.error(
                Some(here.clone()),
                format!("{context}[provider.config] cannot be re-encoded: {e}"),
            )
        })?;
        let config_lines = config_lines(src.text, index);
        let warnings = grant_reference_warnings(&config, grants.len(), &|key: &str| {
            let line = lookup_line(&config_lines, key).unwrap_or(0);
            format!("{}:{line}", src.path.display())
        });
        Ok(ProviderConfig {
            name,
            exec,
            args: p.args,
            env: p.env,
            restart,
            config_toml,
            secrets,
            network: p.network,
            tree: p.tree,
            untrusted: p.untrusted,
            sandbox,
            limits,
            grants,
            wait_for_grant,
            update,
            warnings,
            config_lines,
        })
    }
}

/// Finds a provider executable: absolute; containing `/` → relative to the
/// config dir; a bare name → next to the running `igloo` binary, then on `PATH`.
fn resolve_exec(exec: &str, base: &Path) -> Option<PathBuf> {
    let is_file = |p: &Path| p.is_file();
    let p = Path::new(exec);
    if p.is_absolute() {
        return is_file(p).then(|| p.to_path_buf());
    }
    if exec.contains('/') {
        let q = base.join(p);
        return is_file(&q).then(|| std::fs::canonicalize(&q).unwrap_or(q));
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let q = dir.join(exec);
        if is_file(&q) {
            return Some(q);
        }
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join(exec))
            .find(|q| is_file(q))
    })
}
