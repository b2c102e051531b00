//! Start-up helpers for provider binaries: logging in the form the core
//! collects, and connect + config validation with the conventional exit codes.

use std::process::ExitCode;

use serde::de::DeserializeOwned;

use crate::{Events, Provider};

/// Exit code when the core cannot be reached ([`igloo_protocol::EXIT_NO_CORE`]).
pub const EXIT_NO_CORE: u8 = igloo_protocol::EXIT_NO_CORE as u8;
/// Exit code for an invalid `[provider.config]` section
/// ([`igloo_protocol::EXIT_CONFIG`], 78): the core shows the error and does not
/// restart the provider until asked to.
pub const EXIT_CONFIG: u8 = igloo_protocol::EXIT_CONFIG as u8;

/// Logs to stderr without timestamps or colours: the core timestamps each
/// line and prefixes it with the provider's name. The level comes from
/// `RUST_LOG` (default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
}

/// Connects to the core as `name` `version`, reads the config section as `C`
/// and validates it with `validate`.
///
/// # Errors
/// The exit code to return, after logging why: [`EXIT_NO_CORE`] when the core
/// cannot be reached, [`EXIT_CONFIG`] when the section does not parse or
/// `validate` refuses it. A config error is also reported to the core
/// ([`Provider::report_config_error`], naming the key when the section does
/// not parse), which shows it with its line in the core's config file.
pub async fn connect_with_config<C, S>(
    name: &str,
    version: &str,
    validate: impl FnOnce(C) -> Result<S, String>,
) -> Result<(Provider, Events, S), ExitCode>
where
    C: DeserializeOwned,
{
    let (provider, events) = Provider::connect(name, version).await.map_err(|e| {
        tracing::error!("{e}");
        ExitCode::from(EXIT_NO_CORE)
    })?;
    let checked = crate::parse_config::<C>(&provider.welcome().config)
        .and_then(|c| validate(c).map_err(|message| crate::ConfigError { key: None, message }));
    match checked {
        Ok(settings) => Ok((provider, events, settings)),
        Err(e) => {
            tracing::error!("invalid [provider.config] for {name}: {e}");
            provider
                .report_config_error(&e.message, e.key.as_deref())
                .await;
            Err(ExitCode::from(EXIT_CONFIG))
        }
    }
}
