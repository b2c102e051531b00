//! What a credential may do. Scopes are ordered: each includes the ones
//! below it (`admin` ⊃ `control` ⊃ `read`). The table of which route needs
//! which scope is `api::routes` (docs/security.md lists it).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A token's scope, or what a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read the device tree, providers, grants, the sandbox, system updates
    /// and the event stream.
    Read,
    /// `read`, and request changes of devices (`POST …/entities/{e}`).
    Control,
    /// Everything: provider restart, update and custom commands, grants,
    /// system updates, tokens, sessions and the owner's password.
    Admin,
}

impl Scope {
    /// Every scope, weakest first.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Control, Scope::Admin];

    /// The name used in the API, the CLI and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Control => "control",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is none of `read`, `control`, `admin`.
#[derive(Debug, thiserror::Error)]
#[error("unknown scope {0:?}: use read, control or admin")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_includes_the_weaker_ones() {
        assert!(Scope::Admin > Scope::Control && Scope::Control > Scope::Read);
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
        }
        assert!("owner".parse::<Scope>().is_err());
    }
}
