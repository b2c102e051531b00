//! API tokens for programs: `igloo_<id>_<secret>`, where `id` is 12 hex
//! digits (shown in listings, used to revoke) and `secret` is 32 random
//! bytes in URL-safe base64. The whole token is shown once, at creation;
//! the store keeps the id, a name, the scope and the SHA-256 of the secret.

use serde::{Deserialize, Serialize};

use super::scope::Scope;
use super::secret;

/// The prefix of every token (lets secret scanners and people recognise one).
pub const PREFIX: &str = "igloo_";
/// Longest token name, bytes.
pub const MAX_NAME: usize = 64;

/// A token as stored (JSON in the auth database).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// What the owner called it (`"kitchen tablet"`).
    pub name: String,
    /// What it may do.
    pub scope: Scope,
    /// SHA-256 of the secret part, hex.
    pub hash: String,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
}

/// A freshly made token: the full text (to show once) and its record.
pub struct NewToken {
    /// The token's id.
    pub id: String,
    /// `igloo_<id>_<secret>`: never stored, never logged.
    pub token: String,
    /// What is stored.
    pub record: TokenRecord,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Makes a new token called `name` with `scope`, created at `now` (Unix seconds).
pub fn issue(name: &str, scope: Scope, now: u64) -> NewToken {
    let id = secret::random_hex(6);
    let secret_part = secret::random_text(32);
    NewToken {
        token: format!("{PREFIX}{id}_{secret_part}"),
        record: TokenRecord {
            name: name.to_string(),
            scope,
            hash: secret::digest(&secret_part),
            created: now,
        },
        id,
    }
}

/// Splits a presented token into (id, secret), or `None` when it does not
/// have the token's shape.
pub fn parse(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret_part) = rest.split_once('_')?;
    let hex_id = id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit());
    (hex_id && secret_part.len() == 43).then_some((id, secret_part))
}

/// Whether `secret_part` is the secret of `record`.
pub fn matches(record: &TokenRecord, secret_part: &str) -> bool {
    secret::same(&secret::digest(secret_part), &record.hash)
}

/// Checks a token name: 1–[`MAX_NAME`] bytes, no control characters.
///
/// # Errors
/// What is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > MAX_NAME {
        return Err(format!("a token name needs 1 to {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a token name may not hold control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_parses_back_and_matches_only_its_record() {
        let t = issue("cli", Scope::Read, 1);
        let (id, s) = parse(&t.token).unwrap();
        assert_eq!(id, t.id);
        assert!(matches(&t.record, s));
        let other = issue("cli", Scope::Read, 1);
        let (_, s2) = parse(&other.token).unwrap();
        assert!(!matches(&t.record, s2));
        assert!(!format!("{t:?}").contains(s));
    }

    #[test]
    fn malformed_tokens_are_not_parsed() {
        for bad in [
            "",
            "igloo_",
            "igloo_abc_def",
            "Bearer x",
            "igloo_zzzzzzzzzzzz_aaaa",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(check_name("").is_err() && check_name("a\nb").is_err());
        assert!(check_name("kitchen tablet").is_ok());
    }
}
