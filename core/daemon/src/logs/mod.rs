//! The core's log on the data partition, so that it survives a reboot
//! (docs/configuration.md#logs, docs/api.md#logs).
//!
//! Everything the core logs through `tracing` — its own lines and the
//! providers' output it re-logs (`provider_log`, field `provider`) — goes to
//! stderr as before and, as JSON lines, to `<dir>/igloo.log`:
//! - [`settings`]: `[logs]` ([`LogSettings`]);
//! - [`writer`]: the batched writer with size rotation ([`writer::Sink`], a
//!   `tracing_subscriber` `MakeWriter`), on a thread of its own;
//! - [`read`]: the last lines back, across rotated files, optionally one
//!   provider's, for `GET /api/v1/logs`.
//!
//! JSON lines rather than the terminal's text: `--provider` is then an
//! exact match on the `provider` field instead of a guess in free text,
//! and clients get level, target and fields without parsing.

pub mod read;
pub mod settings;
pub mod writer;

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::broadcast;

pub use self::settings::LogSettings;
use self::writer::Sink;

/// Why the log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    /// `[logs] enabled = false`, or the directory could not be created at start.
    #[error("the core does not keep a log file ({0})")]
    Unavailable(String),
    /// A log file exists but cannot be read.
    #[error("cannot read the log files in {dir}: {source}")]
    Read {
        /// `[logs] dir`.
        dir: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The log files: where lines go ([`Logs::sink`]) and how they are read back.
pub struct Logs {
    settings: LogSettings,
    sink: Result<Sink, String>,
}

impl Logs {
    /// Starts the writer for `settings` (nothing when disabled). A directory
    /// that cannot be created leaves the core without log files, which
    /// [`Logs::start_error`] reports once logging is set up.
    pub fn start(settings: &LogSettings) -> Logs {
        let sink = if settings.enabled {
            Sink::start(settings).map_err(|e| {
                format!(
                    "cannot use the log directory {}: {e}",
                    settings.dir.display()
                )
            })
        } else {
            Err("[logs] enabled = false".into())
        };
        Logs {
            settings: settings.clone(),
            sink,
        }
    }

    /// The sink for the `tracing` file layer, when log files are written.
    pub fn sink(&self) -> Option<Sink> {
        self.sink.as_ref().ok().cloned()
    }

    /// Why log files are not written, when enabled but unavailable.
    pub fn start_error(&self) -> Option<&str> {
        match &self.sink {
            Err(e) if self.settings.enabled => Some(e),
            _ => None,
        }
    }

    /// The last `n` lines (oldest first), only `provider`'s when given,
    /// including every line logged before the call. Reads files: call it
    /// off the async runtime.
    ///
    /// # Errors
    /// [`LogsError`].
    pub fn tail(
        &self,
        n: usize,
        provider: Option<&str>,
    ) -> Result<Vec<Map<String, Value>>, LogsError> {
        let sink = self
            .sink
            .as_ref()
            .map_err(|e| LogsError::Unavailable(e.clone()))?;
        sink.flush();
        read::tail(&self.settings.dir, self.settings.files, n, provider).map_err(|source| {
            LogsError::Read {
                dir: self.settings.dir.display().to_string(),
                source,
            }
        })
    }

    /// Lines as they are logged, from now on (each one JSON object).
    ///
    /// # Errors
    /// [`LogsError::Unavailable`] without log files.
    pub fn follow(&self) -> Result<broadcast::Receiver<Arc<str>>, LogsError> {
        self.sink
            .as_ref()
            .map(Sink::follow)
            .map_err(|e| LogsError::Unavailable(e.clone()))
    }

    /// Lines lost so far (see [`writer`]).
    pub fn dropped(&self) -> u64 {
        self.sink.as_ref().map_or(0, Sink::dropped)
    }

    /// Writes the last batch and stops the writer (at the end of `igloo run`).
    pub fn close(&self) {
        if let Ok(sink) = &self.sink {
            sink.close();
        }
    }
}
