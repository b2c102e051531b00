//! `[provider.secrets]`: keys of a provider's `[provider.config]` whose value
//! the core reads from a file under `[core] secrets_dir` at each start of the
//! provider, so that passwords never stand in `igloo.toml`
//! (docs/configuration.md). Only the names are read here; the files are read
//! by the supervisor (`supervisor::secrets`).

use std::collections::BTreeMap;

use toml::Spanned;

/// One `key = "name"` of `[provider.secrets]`: `[provider.config]` key `key`
/// gets the contents of `<secrets_dir>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The `[provider.config]` key the value is sent under (top level).
    pub key: String,
    /// The secret's file name in `secrets_dir` (a plain file name, see
    /// [`valid_secret_name`]).
    pub name: String,
    /// The 1-based line of the entry in the config file.
    pub line: usize,
}

/// Longest secret name, bytes (a file name on every Linux filesystem).
const MAX_NAME: usize = 255;

/// Whether `name` can name a file directly in `secrets_dir` and nothing
/// else: 1-255 characters of ASCII letters, digits, `.`, `-` and `_`, not
/// starting with `.` (so no `/`, no `..`, no hidden or temporary files).
pub fn valid_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Checks `[provider.secrets]` as written against the provider's
/// `[provider.config]` table. `line` turns a span into its 1-based line.
///
/// # Errors
/// At the entry: a name that is not a plain file name, or a key that
/// `[provider.config]` also sets.
pub fn refs_from_raw(
    raw: BTreeMap<String, Spanned<String>>,
    config: &toml::Table,
    line: &dyn Fn(std::ops::Range<usize>) -> usize,
) -> Result<Vec<SecretRef>, Spanned<String>> {
    let mut refs = Vec::with_capacity(raw.len());
    for (key, name) in raw {
        let span = name.span();
        if !valid_secret_name(name.get_ref()) {
            return Err(Spanned::new(
                span,
                format!(
                    "[provider.secrets] {key}: secret name {:?} must be a plain file name in \
                     secrets_dir: 1-{MAX_NAME} characters of a-z, A-Z, 0-9, '.', '-' and '_', \
                     not starting with '.'",
                    name.get_ref()
                ),
            ));
        }
        if config.contains_key(&key) {
            return Err(Spanned::new(
                span,
                format!(
                    "[provider.secrets] {key}: {key:?} is also set in [provider.config]; \
                     give it in one place only"
                ),
            ));
        }
        refs.push(SecretRef {
            key,
            name: name.into_inner(),
            line: line(span),
        });
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_are_plain_file_names() {
        for ok in ["mqtt-igloo-mqtt", "a", "key.pem", "A_b-9", &"x".repeat(255)] {
            assert!(valid_secret_name(ok), "{ok:?} is a plain name");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/shadow",
            ".hidden",
            "a b",
            "a\0b",
            "é",
            &"x".repeat(256),
        ] {
            assert!(!valid_secret_name(bad), "{bad:?} must be refused");
        }
    }
}
