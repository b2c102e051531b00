//! The Wi-Fi network as the core knows it: name, regulatory country and
//! security, checked when the owner gives them ([`Network::from_request`]).

use std::fmt;

use super::psk::{self, Psk, Secret};

/// Longest SSID, bytes (IEEE 802.11-2020 9.4.2.2).
pub const MAX_SSID: usize = 32;

/// A network name: 1–32 bytes (any bytes in a file; UTF-8 from the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ssid(Vec<u8>);

impl Ssid {
    /// `bytes` when they are 1–32 long.
    pub fn new(bytes: Vec<u8>) -> Option<Ssid> {
        (1..=MAX_SSID).contains(&bytes.len()).then_some(Ssid(bytes))
    }

    /// The raw bytes (the PBKDF2 salt).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as lowercase hex (wpa_supplicant's unquoted `ssid=` form).
    pub fn to_hex(&self) -> String {
        psk::hex(&self.0)
    }

    /// The name as text, when it is UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

/// A regulatory country: ISO 3166-1 alpha-2 in capitals, or `00` (world).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country([u8; 2]);

impl Country {
    /// Two ASCII letters (made capitals) or `00`.
    ///
    /// # Errors
    /// Why `text` is not a country code.
    pub fn parse(text: &str) -> Result<Country, String> {
        match text.as_bytes() {
            [b'0', b'0'] => Ok(Country(*b"00")),
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Ok(Country([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => Err(format!(
                "{text:?} is not a country code: two letters of ISO 3166-1 alpha-2 (NL, DE, US …), or 00 for world-wide rules"
            )),
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Both bytes are ASCII by construction.
        f.write_str(std::str::from_utf8(&self.0).unwrap_or("00"))
    }
}

/// How the network is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// WPA/WPA2 personal: a pre-shared key.
    WpaPsk,
    /// No password (`key_mgmt=NONE`).
    Open,
}

impl Security {
    /// `wpa-psk` or `open`, as the API names it.
    pub fn name(self) -> &'static str {
        match self {
            Security::WpaPsk => "wpa-psk",
            Security::Open => "open",
        }
    }
}

/// A network to write: everything the config file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// Its name.
    pub ssid: Ssid,
    /// The country whose radio rules apply.
    pub country: Country,
    /// The key; `None` = an open network.
    pub key: Option<Psk>,
}

/// A field of the owner's request that breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// `ssid`, `password` or `country`.
    pub field: &'static str,
    /// What is wrong; never the password itself.
    pub message: String,
}

impl Network {
    /// Checks the owner's request and derives the key: `ssid` 1–32 bytes
    /// of UTF-8; `password` absent or empty = an open network, else a WPA
    /// passphrase or raw key ([`Secret::parse`]); `country` a country code
    /// ([`Country::parse`]). The derivation costs milliseconds: call it off
    /// the async runtime.
    ///
    /// # Errors
    /// The first field that breaks the rules.
    pub fn from_request(
        ssid: &str,
        password: Option<&str>,
        country: &str,
    ) -> Result<Network, FieldError> {
        let ssid = Ssid::new(ssid.as_bytes().to_vec()).ok_or_else(|| FieldError {
            field: "ssid",
            message: format!(
                "must be 1 to {MAX_SSID} bytes (IEEE 802.11); this one has {}",
                ssid.len()
            ),
        })?;
        let secret = match password.filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(Secret::parse(p).map_err(|message| FieldError {
                field: "password",
                message,
            })?),
        };
        let country = Country::parse(country).map_err(|message| FieldError {
            field: "country",
            message,
        })?;
        Ok(Network {
            key: secret.map(|s| s.key(ssid.bytes())),
            ssid,
            country,
        })
    }

    /// How it is secured.
    pub fn security(&self) -> Security {
        match self.key {
            Some(_) => Security::WpaPsk,
            None => Security::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_field_by_field() {
        let n = Network::from_request("IEEE", Some("password"), "nl").unwrap();
        assert_eq!(n.country.to_string(), "NL");
        assert_eq!(n.security(), Security::WpaPsk);
        assert_eq!(
            n.key.as_ref().map(Psk::to_hex).as_deref(),
            Some("f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e")
        );
        let open = Network::from_request("Café", None, "00").unwrap();
        assert_eq!(open.security(), Security::Open);
        assert_eq!(open.country.to_string(), "00");
        assert_eq!(
            Network::from_request("x", Some(""), "DE")
                .unwrap()
                .security(),
            Security::Open
        );
        let field = |r: Result<Network, FieldError>| r.unwrap_err().field;
        assert_eq!(field(Network::from_request("", None, "NL")), "ssid");
        assert_eq!(
            field(Network::from_request(&"s".repeat(33), None, "NL")),
            "ssid"
        );
        assert!(Network::from_request(&"s".repeat(32), None, "NL").is_ok());
        assert_eq!(
            field(Network::from_request("n", Some("1234567"), "NL")),
            "password"
        );
        for bad in ["XYZ", "N", "", "N1", "0", "01", "é"] {
            assert_eq!(
                field(Network::from_request("n", None, bad)),
                "country",
                "{bad}"
            );
        }
    }

    #[test]
    fn ssids_show_as_text_only_when_utf8() {
        let s = Ssid::new(b"My net".to_vec()).unwrap();
        assert_eq!(s.to_hex(), "4d79206e6574");
        assert_eq!(s.as_text(), Some("My net"));
        assert_eq!(Ssid::new(vec![0xff, 0xfe]).unwrap().as_text(), None);
    }
}
