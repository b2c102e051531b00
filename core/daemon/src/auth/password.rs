//! Owner passwords: Argon2id with the parameters OWASP's Password Storage
//! Cheat Sheet recommends (m = 19 MiB, t = 2, p = 1), stored as a PHC
//! string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), which carries
//! its own parameters, so a later change of them still verifies old hashes.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost, KiB (OWASP: 19 MiB).
pub const MEMORY_KIB: u32 = 19_456;
/// Passes (OWASP: 2).
pub const ITERATIONS: u32 = 2;
/// Lanes (OWASP: 1).
pub const PARALLELISM: u32 = 1;
/// Shortest password accepted, characters (NIST SP 800-63B §5.1.1.2: at least 8).
pub const MIN_LEN: usize = 8;
/// Longest password accepted, bytes (bounds the hashing work per request).
pub const MAX_LEN: usize = 1024;

/// A password that cannot be hashed or a stored hash that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than [`MIN_LEN`] or longer than [`MAX_LEN`].
    #[error("a password needs {MIN_LEN} to {MAX_LEN} characters")]
    Length,
    /// The hasher failed (or the stored PHC string is damaged).
    #[error("password hashing: {0}")]
    Hash(String),
}

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the length rules of a new password.
///
/// # Errors
/// [`PasswordError::Length`].
pub fn check_new(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < MIN_LEN || password.len() > MAX_LEN {
        return Err(PasswordError::Length);
    }
    Ok(())
}

/// Hashes a new password with a fresh random salt. Takes tens of
/// milliseconds of CPU and 19 MiB: call it off the async runtime.
///
/// # Errors
/// [`PasswordError`] when the password breaks the length rules.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    check_new(password)?;
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `stored` (in constant time
/// over the hash). Blocking, like [`hash`].
///
/// # Errors
/// [`PasswordError::Hash`] when `stored` is not a readable PHC string.
pub fn verify(password: &str, stored: &str) -> Result<bool, PasswordError> {
    if password.len() > MAX_LEN {
        return Ok(false);
    }
    let parsed = PasswordHash::new(stored).map_err(|e| PasswordError::Hash(e.to_string()))?;
    // The parameters come from the PHC string, not from `hasher()`.
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only_and_names_owasp_parameters() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h).unwrap());
        assert!(!verify("correct horse batterY", &h).unwrap());
        assert_ne!(h, hash("correct horse battery").unwrap(), "fresh salt");
    }

    #[test]
    fn short_passwords_and_damaged_hashes_are_errors() {
        assert!(matches!(hash("short"), Err(PasswordError::Length)));
        assert!(verify("whatever1", "not a PHC string").is_err());
    }
}
