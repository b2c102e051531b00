//! Reading a provider's `[provider.secrets]` at each of its starts: each
//! named file under `[core] secrets_dir` is read, one trailing newline
//! trimmed, and its contents added to the `[provider.config]` TOML the
//! provider gets in `Welcome`. The values exist only in that text, for that
//! start: they are never logged, never in an error (which names the file and
//! the config line instead) and never in a status.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::config::secrets::SecretRef;

/// Largest secret file read, bytes: a password or key, not a document.
const MAX_SECRET: u64 = 64 * 1024;

/// A secret file that could not be used. Its text names the file, the
/// `[provider.secrets]` key and line, and why; never the contents.
#[derive(Debug, thiserror::Error)]
#[error(
    "secret file {} for [provider.secrets] {key} (line {line}) {reason}; \
     write it, then restart the provider",
    path.display()
)]
pub struct SecretError {
    /// The file.
    pub path: PathBuf,
    /// The `[provider.config]` key it was for.
    pub key: String,
    /// The line of the `[provider.secrets]` entry in the config file.
    pub line: usize,
    /// Why it could not be used (`cannot be read: No such file or directory (os error 2)`, …).
    pub reason: String,
}

/// `config_toml` (a provider's `[provider.config]` as TOML text) with the
/// value of every secret in `refs` read from `dir` and added under its key.
/// Returns `config_toml` unchanged when `refs` is empty.
///
/// # Errors
/// The first secret whose file is missing, unreadable, larger than 64 KiB,
/// not UTF-8 or empty once trimmed; or a config text that is not TOML (not
/// seen: the core wrote it).
pub fn welcome_config(
    config_toml: &str,
    refs: &[SecretRef],
    dir: &Path,
) -> Result<String, SecretError> {
    if refs.is_empty() {
        return Ok(config_toml.to_string());
    }
    let err = |r: &SecretRef, path: PathBuf, reason: String| SecretError {
        path,
        key: r.key.clone(),
        line: r.line,
        reason,
    };
    let mut table: toml::Table = toml::from_str(config_toml).map_err(|e| {
        err(
            &refs[0],
            dir.to_path_buf(),
            format!("cannot be added: [provider.config] does not parse: {e}"),
        )
    })?;
    for r in refs {
        let path = dir.join(&r.name);
        let value = read_secret(&path).map_err(|reason| err(r, path.clone(), reason))?;
        table.insert(r.key.clone(), toml::Value::String(value));
    }
    toml::to_string(&table).map_err(|e| {
        err(
            &refs[0],
            dir.to_path_buf(),
            format!("cannot be added: the config cannot be encoded: {e}"),
        )
    })
}

/// The contents of secret file `path` without one trailing newline
/// (`\n` or `\r\n`).
///
/// # Errors
/// Why not, as the end of a sentence starting with the file's name; never
/// with any of its contents.
fn read_secret(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_SECRET + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_SECRET {
        return Err(format!("is larger than {MAX_SECRET} bytes"));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err("is empty".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(key: &str, name: &str) -> SecretRef {
        SecretRef {
            key: key.into(),
            name: name.into(),
            line: 7,
        }
    }

    #[test]
    fn secrets_are_added_with_one_newline_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw"), "s3cret-value\n").unwrap();
        std::fs::write(dir.path().join("token"), "line one\nline two\n\n").unwrap();
        std::fs::write(dir.path().join("crlf"), "windows\r\n").unwrap();
        let refs = [
            secret("password", "pw"),
            secret("token", "token"),
            secret("other", "crlf"),
        ];
        let text = welcome_config("broker = \"127.0.0.1:1883\"\n", &refs, dir.path()).unwrap();
        let t: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(t["broker"].as_str(), Some("127.0.0.1:1883"));
        assert_eq!(t["password"].as_str(), Some("s3cret-value"));
        assert_eq!(t["token"].as_str(), Some("line one\nline two\n"));
        assert_eq!(t["other"].as_str(), Some("windows"));
    }

    #[test]
    fn no_secrets_leaves_the_text_as_it_is() {
        let text = "a = 1 # as written\n";
        assert_eq!(
            welcome_config(text, &[], Path::new("/nonexistent")).unwrap(),
            text
        );
    }

    #[test]
    fn errors_name_the_file_and_line_never_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let missing = welcome_config("", &[secret("password", "absent")], dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains(&dir.path().join("absent").display().to_string()),
            "{missing}"
        );
        assert!(
            missing.contains("[provider.secrets] password (line 7)"),
            "{missing}"
        );
        assert!(missing.contains("No such file"), "{missing}");

        std::fs::write(dir.path().join("bin"), [0xff, 0xfe, b'x']).unwrap();
        std::fs::write(dir.path().join("empty"), "\n").unwrap();
        std::fs::write(dir.path().join("big"), "y".repeat(64 * 1024 + 1)).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for (name, why) in [
            ("bin", "is not UTF-8"),
            ("empty", "is empty"),
            ("big", "is larger than"),
            ("sub", "is not a regular file"),
        ] {
            let e = welcome_config("", &[secret("k", name)], dir.path())
                .unwrap_err()
                .to_string();
            assert!(e.contains(why), "{name}: {e}");
            assert!(!e.contains("yyyy"), "{name}: {e}");
        }
    }
}
