//! Random secrets and their stored form. Tokens, session ids and the setup
//! code are generated here from the operating system's CSPRNG (through
//! `rand`'s thread-local generator, seeded and reseeded from it); only their
//! SHA-256 is ever stored, and comparisons run in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// `bytes` random bytes as URL-safe base64 without padding (43 characters
/// for 32 bytes).
pub fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex(&buf)
}

/// Letters and digits that cannot be mistaken for each other when read off
/// a screen (no 0/O, 1/I/L): 32 symbols, 5 bits each.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A setup code: 12 symbols of [`CODE_ALPHABET`] (≈ 59 bits) in groups of
/// four, `ABCD-EFGH-JKMN`.
pub fn setup_code() -> String {
    let mut rng = rand::rng();
    let symbols: Vec<char> = (0..12)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect();
    symbols
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A setup code as typed, normalised for comparison: upper case, without
/// separators or spaces.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// SHA-256 of `text` as lowercase hex: the stored form of a token secret or
/// session id (they are 256-bit random, so a fast hash suffices).
pub fn digest(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Whether two strings are equal, in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_compared_whole() {
        let (a, b) = (random_text(32), random_text(32));
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b) && !same(&a, &a[..42]));
        assert_eq!(digest("abc").len(), 64);
    }

    #[test]
    fn setup_codes_are_grouped_and_compared_without_separators() {
        let c = setup_code();
        assert_eq!(c.len(), 14, "{c}");
        assert_eq!(c.matches('-').count(), 2);
        assert_eq!(
            normalise_code(&c.to_lowercase().replace('-', " ")),
            c.replace('-', "")
        );
    }
}
