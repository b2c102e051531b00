//! What a session reports: its [`Status`] (shown by `esphome.status`) and
//! the [`Failure`] that ended a connection.

use igloo_provider::DeviceId;
use serde::Serialize;

use crate::api::frame::FrameError;
use crate::api::noise::HandshakeError;

/// How a device entry came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `[[provider.config.device]]`.
    Config,
    /// `igloo esphome add`.
    Added,
    /// Found by mDNS.
    Mdns,
}

/// Connection state shown in `igloo esphome list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Connecting or logging in.
    Connecting,
    /// Serving states.
    Connected,
    /// Between attempts after a failure; see `error`.
    Disconnected,
    /// Announced by mDNS as encrypted; no key is known for it yet.
    WaitingForKey,
    /// Stopped (removed).
    Stopped,
}

/// The class of the last failure, stable for tests and UIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Our key was rejected.
    WrongKey,
    /// The device needs a key and none is set.
    EncryptionRequired,
    /// A key is set but the device speaks plaintext.
    PlaintextDevice,
    /// TCP connect failed.
    Unreachable,
    /// A step took too long.
    Timeout,
    /// The device sent something invalid (garbage, over-long or cut frames,
    /// undecodable messages, an unsupported API major).
    Protocol,
    /// The connection closed or dropped.
    Closed,
}

impl ErrorKind {
    /// Key problems are retried slowly (and at once on a new key).
    pub fn is_key_problem(self) -> bool {
        matches!(
            self,
            ErrorKind::WrongKey | ErrorKind::EncryptionRequired | ErrorKind::PlaintextDevice
        )
    }
}

/// What went wrong with a connection.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Its class.
    pub kind: ErrorKind,
    /// A sentence for people (never holds the key).
    pub message: String,
}

impl Failure {
    pub(super) fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }
}

impl From<FrameError> for Failure {
    fn from(e: FrameError) -> Failure {
        let kind = match e {
            FrameError::RequiresEncryption => ErrorKind::EncryptionRequired,
            FrameError::DeviceIsPlaintext => ErrorKind::PlaintextDevice,
            FrameError::Io(_) => ErrorKind::Closed,
            _ => ErrorKind::Protocol,
        };
        Failure::new(kind, e.to_string())
    }
}

impl From<HandshakeError> for Failure {
    fn from(e: HandshakeError) -> Failure {
        let kind = match e {
            HandshakeError::WrongKey => ErrorKind::WrongKey,
            HandshakeError::DeviceIsPlaintext | HandshakeError::ClosedDuringHello => {
                ErrorKind::PlaintextDevice
            }
            HandshakeError::Io(_) => ErrorKind::Closed,
            _ => ErrorKind::Protocol,
        };
        Failure::new(kind, e.to_string())
    }
}

/// One device's status, as `esphome.status` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `host:port`.
    pub address: String,
    /// Where the entry came from.
    pub source: Source,
    /// Connection state.
    pub state: State,
    /// Whether a key is set (the key itself is never shown).
    pub encrypted: bool,
    /// MAC once known.
    pub mac: Option<String>,
    /// The device's node name once known.
    pub name: Option<String>,
    /// ESPHome version it runs.
    pub esphome_version: Option<String>,
    /// Igloo device id once created.
    pub device_id: Option<DeviceId>,
    /// Entities mirrored.
    pub entities: usize,
    /// Entity types present on the device but not mapped (e.g. `camera`).
    pub skipped: Vec<String>,
    /// Class of the current failure (cleared by a successful login).
    pub error_kind: Option<ErrorKind>,
    /// The current failure, for people (cleared by a successful login).
    pub error: Option<String>,
    /// Class of the last failure, kept after the device is back.
    pub last_error_kind: Option<ErrorKind>,
    /// The last failure, kept after the device is back: a device that
    /// drops and comes back between two looks still says why it dropped.
    pub last_error: Option<String>,
    /// Failures so far (connection attempts that failed or sessions that ended).
    pub failures: u64,
    /// Successful logins so far.
    pub connects: u64,
    /// Connection attempts so far.
    pub attempts: u64,
}
