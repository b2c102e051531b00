//! The supplicant's config file, in the one shape the core and the image's
//! first-boot import write (docs/image.md, "Wi-Fi"):
//!
//! ```text
//! # Written by igloo: the Wi-Fi network (docs/image.md, "Wi-Fi"). Change it with `igloo wifi set`.
//! ctrl_interface=/run/wpa_supplicant
//! country=NL
//! network={
//!     ssid=4d79206e6574
//!     psk=<64 lowercase hex digits>
//! }
//! ```
//!
//! The two lines in the block are indented with one tab. `ssid=` is hex
//! (no quoting or escaping to get wrong); an open network has
//! `key_mgmt=NONE` instead of `psk=`. [`read`] accepts exactly what
//! this shape can hold (blank lines, indentation, comments and either hex
//! case aside): such a file is igloo's and may be replaced. Anything else
//! is someone else's file, shown as well as [`summary`] can and never
//! overwritten without the owner's say-so (docs/api.md, `PUT /api/v1/wifi`).

use super::network::{Country, Network, Security, Ssid};
use super::psk::{Psk, hex_digit};

/// The first line of every file the core writes; a file starting with
/// this (after blank lines) may be igloo's.
pub const HEADER_PREFIX: &str = "# Written by igloo";
/// The header the core writes.
pub const HEADER: &str = "# Written by igloo: the Wi-Fi network (docs/image.md, \"Wi-Fi\"). Change it with `igloo wifi set`.";
/// Where `wpa_cli` finds the running supplicant.
pub const CTRL_INTERFACE: &str = "/run/wpa_supplicant";

/// The file for `network`, byte for byte.
pub fn render(network: &Network) -> String {
    let secret = match &network.key {
        Some(k) => format!("psk={}", k.to_hex()),
        None => "key_mgmt=NONE".to_string(),
    };
    format!(
        "{HEADER}\nctrl_interface={CTRL_INTERFACE}\ncountry={}\nnetwork={{\n\tssid={}\n\t{secret}\n}}\n",
        network.country,
        network.ssid.to_hex()
    )
}

/// What a config file says, without its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The network's name; `None` = no network (or none could be read).
    pub ssid: Option<Ssid>,
    /// `country=`, when given.
    pub country: Option<Country>,
    /// How the network is secured, when that could be told.
    pub security: Option<Security>,
}

/// Why a file is not in igloo's shape: the line and what is wrong there.
/// Never holds a value from the file (a `psk=` or `password=` is secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ShapeError {
    /// 1-based line (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn shape(line: usize, message: impl Into<String>) -> ShapeError {
    ShapeError {
        line,
        message: message.into(),
    }
}

/// Where [`read`] is in the file.
#[derive(PartialEq, Eq)]
enum Place {
    Top,
    InNetwork,
    AfterNetwork,
}

/// Reads a file in igloo's shape.
///
/// # Errors
/// The first line that igloo would not have written (without its value).
pub fn read(text: &str) -> Result<Summary, ShapeError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    match lines.next() {
        Some((_, first)) if first.starts_with(HEADER_PREFIX) => {}
        Some((n, _)) => {
            return Err(shape(
                n,
                format!("not written by igloo (no `{HEADER_PREFIX}` first line)"),
            ));
        }
        None => return Err(shape(0, "empty")),
    }
    let mut out = Summary::default();
    let mut place = Place::Top;
    let (mut ctrl, mut psk, mut open) = (false, false, false);
    for (n, line) in lines {
        if line.starts_with('#') {
            continue;
        }
        if line == "}" && place == Place::InNetwork {
            place = Place::AfterNetwork;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(shape(n, "not a `key=value` line"));
        };
        let key = key.trim();
        let value = value.trim();
        match (&place, key) {
            (Place::Top, "ctrl_interface") if !ctrl => ctrl = true,
            (Place::Top, "country") if out.country.is_none() => {
                out.country = Some(
                    Country::parse(value).map_err(|_| shape(n, "country is not a country code"))?,
                );
            }
            (Place::Top, "network") if value == "{" => place = Place::InNetwork,
            (Place::InNetwork, "ssid") if out.ssid.is_none() => {
                out.ssid =
                    Some(parse_ssid(value).ok_or_else(|| {
                        shape(n, "ssid is not 1 to 32 bytes in hex or in quotes")
                    })?);
            }
            (Place::InNetwork, "psk") if !psk && !open => {
                Psk::from_hex(value).ok_or_else(|| shape(n, "psk is not 64 hex digits"))?;
                psk = true;
            }
            (Place::InNetwork, "key_mgmt") if value == "NONE" && !psk && !open => open = true,
            (Place::InNetwork, "key_mgmt") if value == "WPA-PSK" && !open => {}
            (Place::AfterNetwork, "network") => {
                return Err(shape(n, "a second network (igloo writes one)"));
            }
            (_, key) => {
                return Err(shape(
                    n,
                    format!("`{key}` here is not something igloo writes"),
                ));
            }
        }
    }
    match place {
        Place::InNetwork => return Err(shape(0, "the network block is not closed")),
        Place::AfterNetwork if out.ssid.is_none() => {
            return Err(shape(0, "the network has no ssid"));
        }
        Place::AfterNetwork if !psk && !open => {
            return Err(shape(0, "the network has neither psk nor key_mgmt=NONE"));
        }
        _ => {}
    }
    out.security = match (psk, open) {
        (true, _) => Some(Security::WpaPsk),
        (false, true) => Some(Security::Open),
        _ => None,
    };
    Ok(out)
}

/// What can be told of any supplicant config file: `country=` at the top
/// and the first network's `ssid` and security. Best effort: a line it does
/// not understand is skipped.
pub fn summary(text: &str) -> Summary {
    let mut out = Summary::default();
    let mut depth = 0usize;
    let mut networks = 0usize;
    let (mut psk, mut key_mgmt) = (false, None::<String>);
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if line.ends_with('{') {
            depth += 1;
            if depth == 1 && line.starts_with("network") {
                networks += 1;
            }
            continue;
        }
        if line == "}" {
            depth = depth.saturating_sub(1);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match (depth, networks, key) {
            (0, _, "country") => out.country = Country::parse(value).ok(),
            (1, 1, "ssid") => out.ssid = parse_ssid(value),
            (1, 1, "psk") => psk = true,
            (1, 1, "key_mgmt") => key_mgmt = Some(value.to_string()),
            _ => {}
        }
    }
    if out.ssid.is_some() {
        out.security = match key_mgmt.as_deref() {
            Some("NONE") => Some(Security::Open),
            None | Some("WPA-PSK") if psk => Some(Security::WpaPsk),
            _ => None,
        };
    }
    out
}

/// An `ssid=` value: hex digits, or text in double quotes.
fn parse_ssid(value: &str) -> Option<Ssid> {
    if let Some(quoted) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return Ssid::new(quoted.as_bytes().to_vec());
    }
    let digits = value.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let bytes = digits
        .chunks_exact(2)
        .map(|p| Some((hex_digit(p[0])? << 4) | hex_digit(p[1])?))
        .collect::<Option<Vec<u8>>>()?;
    Ssid::new(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(password: Option<&str>) -> Network {
        Network::from_request("My net", password, "NL").unwrap()
    }

    #[test]
    fn the_file_has_the_agreed_shape() {
        let text = render(&network(Some("password")));
        let want = format!(
            "{HEADER}\nctrl_interface=/run/wpa_supplicant\ncountry=NL\nnetwork={{\n\tssid=4d79206e6574\n\tpsk={}\n}}\n",
            Psk::derive(b"password", b"My net").to_hex()
        );
        assert_eq!(text, want);
        let open = render(&network(None));
        assert!(open.contains("\n\tkey_mgmt=NONE\n}\n"), "{open}");
        assert!(!open.contains("psk"), "{open}");
    }

    #[test]
    fn what_igloo_writes_reads_back() {
        for password in [Some("password"), None] {
            let n = network(password);
            let s = read(&render(&n)).unwrap();
            assert_eq!(s.ssid, Some(n.ssid.clone()));
            assert_eq!(s.country, Some(n.country));
            assert_eq!(s.security, Some(n.security()));
            assert_eq!(summary(&render(&n)), s);
        }
    }

    #[test]
    fn the_same_shape_written_by_a_shell_script_reads_too() {
        // Spaces for the tab, upper-case hex, a comment, blank lines, no country.
        let text = "\n# Written by igloo-firstboot from igloo-wifi.txt\nctrl_interface=/run/wpa_supplicant\n\n\
                    network={\n  ssid=4D79206E6574\n  key_mgmt=WPA-PSK\n  psk=F42C6FC52DF0EBEF9EBB4B90B38A5F902E83FE1B135A70E23AED762E9710A12E\n}\n";
        let s = read(text).unwrap();
        assert_eq!(s.ssid.as_ref().and_then(Ssid::as_text), Some("My net"));
        assert_eq!(s.country, None);
        assert_eq!(s.security, Some(Security::WpaPsk));
        // No network at all: igloo's, nothing configured.
        let empty = read(&format!(
            "{HEADER}\nctrl_interface=/run/wpa_supplicant\ncountry=NL\n"
        ))
        .unwrap();
        assert_eq!(empty.ssid, None);
    }

    #[test]
    fn other_files_are_not_igloos_and_errors_hold_no_values() {
        let theirs = "ctrl_interface=/run/wpa_supplicant\nnetwork={\n\tssid=\"Home\"\n\tpsk=\"hunter2hunter2\"\n}\n";
        let e = read(theirs).unwrap_err();
        assert_eq!(e.line, 1);
        let s = summary(theirs);
        assert_eq!(s.ssid.as_ref().and_then(Ssid::as_text), Some("Home"));
        assert_eq!(s.security, Some(Security::WpaPsk));
        // igloo's header but a quoted passphrase: not a shape igloo writes.
        let edited = format!("{HEADER}\nnetwork={{\n\tssid=4d79\n\tpsk=\"hunter2hunter2\"\n}}\n");
        let e = read(&edited).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(!e.to_string().contains("hunter2"), "{e}");
        for extra in ["\tscan_ssid=1\n", "\tpassword=hunter2hunter2\n"] {
            let text = render(&network(Some("password"))).replace("\n}", &format!("\n{extra}}}"));
            let e = read(&text).unwrap_err();
            assert!(!e.to_string().contains("hunter2"), "{e}");
            assert!(e.message.contains("not something igloo writes"), "{e}");
        }
        let two = format!(
            "{}network={{\n\tssid=41\n\tkey_mgmt=NONE\n}}\n",
            render(&network(None))
        );
        assert!(read(&two).unwrap_err().message.contains("second network"));
        let unclosed = render(&network(None)).replace("}\n", "");
        assert!(read(&unclosed).is_err());
    }
}
