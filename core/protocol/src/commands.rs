//! Names of the providers' custom commands, for both ends: the provider that
//! answers a command and the core's CLI that sends it.
//!
//! A custom command travels as [`Message::Custom`](crate::Message::Custom)
//! ([`Custom::command`](crate::message::Custom::command) is one of these
//! names, the body JSON text); the provider answers with a
//! [`CustomReply`](crate::message::CustomReply), or an
//! [`ErrorReply`](crate::message::ErrorReply) with
//! [`ErrorCode::UNSUPPORTED`](crate::ErrorCode::UNSUPPORTED) for a name it
//! does not know. The names are `<provider>.<verb>`, lower case. They live here, and
//! nowhere else, so that the core can name them without linking a provider's
//! crate (and its dependencies). The bodies and replies are documented with
//! each provider (`docs/api.md`).

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
