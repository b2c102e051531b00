//! MAC addresses, the device key of an ESPHome device.

/// Normalises a MAC as ESPHome writes it in different places (`AA:BB:CC:DD:EE:FF`
/// in DeviceInfo, `aabbccddeeff` in mDNS TXT and the Noise server hello) to
/// lower-case, colon-separated `aa:bb:cc:dd:ee:ff`. `None` unless it holds
/// exactly 12 hex digits (separators `:` and `-` are ignored).
pub fn normalize(text: &str) -> Option<String> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b':' && *b != b'-').collect();
    if hex.len() != 12 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let lower = String::from_utf8_lossy(&hex).to_ascii_lowercase();
    let pairs: Vec<&str> = (0..6).map(|i| &lower[2 * i..2 * i + 2]).collect();
    Some(pairs.join(":"))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn forms() {
        for t in ["AA:BB:CC:DD:EE:0F", "aabbccddee0f", "AA-BB-CC-DD-EE-0F"] {
            assert_eq!(normalize(t).as_deref(), Some("aa:bb:cc:dd:ee:0f"), "{t}");
        }
        for t in [
            "",
            "aabbccddee",
            "aabbccddeeffgg",
            "zzbbccddeeff",
            "aa:bb:cc:dd:ee:ff:00",
        ] {
            assert_eq!(normalize(t), None, "{t}");
        }
    }
}
