//! How a provider process tells the core why it ended, by its exit status
//! (`docs/providers.md`, "Exit codes"). The core reads these from the
//! process's `wait` status; they are part of the provider contract like the
//! messages, so they never change meaning.

/// The provider could not reach the core (no `IGLOO_FD`/`IGLOO_SOCKET`, or
/// the handshake failed). The core restarts it with back-off.
pub const EXIT_NO_CORE: i32 = 1;

/// The provider's `[provider.config]` section is wrong (`EX_CONFIG` from BSD
/// `sysexits.h`). A provider exits with it only after telling the core what
/// is wrong ([`crate::commands::CONFIG_ERROR`]), and the core then does not restart it until a
/// restart is requested or the core starts with another config: retrying
/// cannot fix a config.
pub const EXIT_CONFIG: i32 = 78;
