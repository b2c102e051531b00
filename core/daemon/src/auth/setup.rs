//! The one-time setup code that lets the first person create the owner's
//! account. Made at start while no owner exists, kept in memory and in
//! `<data_dir>/setup-code` (mode 0600, for root on the gateway and the
//! image's console); deleted once used. Its value is never logged.

use std::path::PathBuf;
use std::sync::Mutex;

use super::secret;

/// The setup code of this run, if onboarding is still open.
pub struct SetupCode {
    path: PathBuf,
    code: Mutex<Option<String>>,
}

impl SetupCode {
    /// A holder that writes its code to `path`.
    pub fn new(path: PathBuf) -> SetupCode {
        SetupCode {
            path,
            code: Mutex::new(None),
        }
    }

    /// Makes the code: the one in the file if it is still there (so a
    /// restart does not invalidate a code someone is reading), else a new
    /// one, written to the file with mode 0600 (temp + rename).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn issue(&self) -> anyhow::Result<()> {
        let existing = std::fs::read_to_string(&self.path)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| secret::normalise_code(s).len() == 12);
        let code = match existing {
            Some(c) => c,
            None => {
                let c = secret::setup_code();
                crate::fsutil::write_private(&self.path, format!("{c}\n").as_bytes())?;
                c
            }
        };
        if let Ok(mut slot) = self.code.lock() {
            *slot = Some(code);
        }
        tracing::warn!(
            file = %self.path.display(),
            "no owner account yet: create it with the setup code from this file (root only) \
             in the dashboard or with `igloo onboard`; until then the API serves only onboarding"
        );
        Ok(())
    }

    /// Whether `typed` is the code (ignoring case, spaces and dashes).
    pub fn matches(&self, typed: &str) -> bool {
        let Ok(slot) = self.code.lock() else {
            return false;
        };
        slot.as_deref().is_some_and(|c| {
            secret::same(&secret::normalise_code(typed), &secret::normalise_code(c))
        })
    }

    /// Forgets the code and deletes its file (used, or not needed).
    pub fn withdraw(&self) {
        if let Ok(mut slot) = self.code.lock() {
            *slot = None;
        }
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %self.path.display(), "cannot delete the used setup code: {e}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_private_kept_across_restarts_and_gone_once_withdrawn() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("setup-code");
        let s = SetupCode::new(path.clone());
        s.issue().unwrap();
        let code = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(s.matches(&code.to_lowercase()));
        assert!(!s.matches("AAAA-AAAA-AAAA"));
        let again = SetupCode::new(path.clone());
        again.issue().unwrap();
        assert!(again.matches(&code), "a restart keeps the code");
        again.withdraw();
        assert!(!again.matches(&code) && !path.exists());
    }
}
