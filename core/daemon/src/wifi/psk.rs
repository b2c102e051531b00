//! The WPA pre-shared key: derived from a passphrase as IEEE 802.11i-2004
//! Annex H.4 says (PBKDF2-HMAC-SHA1 over the passphrase, salted with the
//! SSID, 4096 rounds, 256 bits: what `wpa_passphrase` computes), or given
//! raw as 64 hex digits. Neither the passphrase nor the key is ever printed:
//! [`Psk`]'s `Debug` shows no bytes and [`Secret`] has no `Debug` at all.

use std::fmt;

use sha1::Sha1;

/// PBKDF2 rounds of the WPA-PSK (IEEE 802.11i-2004 H.4.1).
pub const ROUNDS: u32 = 4096;
/// Shortest passphrase, characters (IEEE 802.11i-2004 H.4.1).
pub const MIN_PASSPHRASE: usize = 8;
/// Longest passphrase, characters; 64 characters are a raw key in hex.
pub const MAX_PASSPHRASE: usize = 63;

/// A 256-bit WPA pre-shared key.
#[derive(Clone, PartialEq, Eq)]
pub struct Psk([u8; 32]);

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Psk(<secret>)")
    }
}

impl Psk {
    /// The key for `passphrase` on the network named `ssid` (the SSID's
    /// bytes are the salt). Costs 8 192 SHA-1 compressions: a few
    /// milliseconds, so call it off the async runtime.
    pub fn derive(passphrase: &[u8], ssid: &[u8]) -> Psk {
        Psk(pbkdf2::pbkdf2_hmac_array::<Sha1, 32>(
            passphrase, ssid, ROUNDS,
        ))
    }

    /// A key written as exactly 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Psk> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            key[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
        }
        Some(Psk(key))
    }

    /// The key as 64 lowercase hex digits (wpa_supplicant's `psk=` form).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

/// `bytes` as lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The value of one hex digit (either case).
pub fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// What the owner gave as the network's password.
pub enum Secret {
    /// A passphrase of 8–63 printable ASCII characters, to be derived.
    Passphrase(String),
    /// A raw key given as 64 hex digits.
    Raw(Psk),
}

impl Secret {
    /// Checks `text` as IEEE 802.11i-2004 H.4.1 allows: 8–63 ASCII
    /// characters from 32 to 126, or exactly 64 hex digits (a raw key).
    ///
    /// # Errors
    /// Why it is not a WPA passphrase; the message never contains the text.
    pub fn parse(text: &str) -> Result<Secret, String> {
        if let Some(psk) = Psk::from_hex(text) {
            return Ok(Secret::Raw(psk));
        }
        if !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(
                "must be printable ASCII (letters, digits, punctuation, spaces): WPA passphrases (IEEE 802.11i) allow nothing else"
                    .into(),
            );
        }
        let n = text.len();
        if !(MIN_PASSPHRASE..=MAX_PASSPHRASE).contains(&n) {
            return Err(format!(
                "must be {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters (or a raw key of 64 hex digits); this one has {n}"
            ));
        }
        Ok(Secret::Passphrase(text.to_string()))
    }

    /// The key on the network named `ssid`.
    pub fn key(&self, ssid: &[u8]) -> Psk {
        match self {
            Secret::Passphrase(p) => Psk::derive(p.as_bytes(), ssid),
            Secret::Raw(k) => k.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IEEE 802.11i-2004 Annex H.4.2, test vectors 1 and 2.
    #[test]
    fn the_published_test_vectors() {
        assert_eq!(
            Psk::derive(b"password", b"IEEE").to_hex(),
            "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
        );
        assert_eq!(
            Psk::derive(b"ThisIsAPassword", b"ThisIsASSID").to_hex(),
            "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"
        );
    }

    #[test]
    fn passwords_follow_802_11i() {
        assert!(matches!(
            Secret::parse("password"),
            Ok(Secret::Passphrase(_))
        ));
        assert!(matches!(
            Secret::parse(&"x".repeat(63)),
            Ok(Secret::Passphrase(_))
        ));
        assert!(matches!(
            Secret::parse("with spaces ~!"),
            Ok(Secret::Passphrase(_))
        ));
        let raw = "F42C6FC52DF0EBEF9EBB4B90B38A5F902E83FE1B135A70E23AED762E9710A12E";
        match Secret::parse(raw) {
            Ok(Secret::Raw(k)) => assert_eq!(k.to_hex(), raw.to_ascii_lowercase()),
            _ => panic!("64 hex digits are a raw key"),
        }
        let short = Secret::parse("passwor").err().unwrap();
        assert!(short.contains("this one has 7"), "{short}");
        assert!(
            !short.contains("passwor"),
            "the message shows the password: {short}"
        );
        assert!(
            Secret::parse(&"x".repeat(64)).is_err(),
            "64 non-hex characters"
        );
        assert!(Secret::parse("pässword").is_err());
        assert!(Secret::parse("pass\tword").is_err());
    }

    #[test]
    fn a_key_never_prints() {
        let k = Psk::derive(b"password", b"IEEE");
        assert_eq!(format!("{k:?}"), "Psk(<secret>)");
    }
}
