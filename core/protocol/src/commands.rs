//! Names of the custom commands (`Custom` messages) that are part of the
//! contract between the core and providers, in one place for every side that
//! sends or answers them (`docs/providers.md`, "Custom commands").

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
