//! Names of the custom commands (`Custom` messages) that belong to the
//! contract between the core and providers, in one place for every side that
//! sends or answers them, so that the core can name them without linking a
//! provider's crate (and its dependencies).
//!
//! A custom command travels as [`Message::Custom`](crate::Message::Custom)
//! ([`Custom::command`](crate::message::Custom::command) is one of these
//! names, the body JSON text); the receiver answers with a
//! [`CustomReply`](crate::message::CustomReply), or an
//! [`ErrorReply`](crate::message::ErrorReply) with
//! [`ErrorCode::UNSUPPORTED`](crate::ErrorCode::UNSUPPORTED) for a name it
//! does not know. Names are `<receiver>.<verb>`, lower case: `igloo.*` are
//! answered by the core (`docs/providers.md`, "Commands a provider sends to
//! the core"), the others by a provider (`docs/api.md`).

/// Provider → core: "my `[provider.config]` is wrong". Body: JSON
/// `{"message": text, "key": dotted key relative to the section or null}`
/// (`"modbus.0.baud"`). Sent just before exiting with
/// [`crate::EXIT_CONFIG`]; the core shows the message with the line of that
/// key in its config file and does not restart the provider until asked.
/// Cores before 0.3 answer it with an `Error` (unsupported), which a provider
/// may ignore.
pub const CONFIG_ERROR: &str = "igloo.config_error";

/// Provider → core: "I cannot carry out this change request". Body: JSON
/// `{"device": id, "entity": entity number, "reason": text}`. Fire and
/// forget; the core shows it on the event stream (`refused`) and answers a
/// user waiting for the change (`igloo set --wait`) with the reason.
pub const CHANGE_REFUSED: &str = "igloo.change_refused";

/// `igloo-esphome`'s commands (`igloo esphome add|remove|list`).
pub mod esphome {
    /// Add a device by address, or give a known one its key.
    /// Body `{"host": "10.0.0.5", "port": 6053, "key": "base64…"}` (`port`
    /// and `key` optional); replies with the device's status.
    pub const ADD: &str = "esphome.add";
    /// Disconnect and forget a device added by address.
    /// Body `{"host": "10.0.0.5", "port": 6053}` (`port` optional); replies
    /// `{"removed": "host:port"}`.
    pub const REMOVE: &str = "esphome.remove";
    /// Every device's status: `{"devices": [status…]}`.
    pub const STATUS: &str = "esphome.status";
}

/// `igloo-mqtt`'s commands.
pub mod mqtt {
    /// The broker connection: `{"connected": bool, "devices": n}`.
    pub const STATUS: &str = "mqtt.status";
}

/// `igloo-serial`'s commands.
pub mod serial {
    /// Every line's counters: `{"modbus": [{"grant", "port", "devices"}…],
    /// "p1": [{"grant", "status"}…]}`.
    pub const STATUS: &str = "serial.status";
}
