//! Grant rules from the configuration: which serial ports a provider may be handed.
//!
//! A rule names a port by what it is (USB ids, serial number, product string, a
//! `/dev/serial/by-id` link, the kernel name, or an entry/kind of the [`super::known`]
//! table); every field given must match.

use std::fs;
use std::path::Path;

use super::known::{self, DongleKind, contains_ignore_case};
use super::sysfs::SerialPort;

/// The udev persistent-name directory for serial ports, relative to the `/dev` root
/// (systemd `rules.d/60-serial.rules`: `SYMLINK+="serial/by-id/$env{ID_BUS}-…"`).
const BY_ID_DIR: &str = "serial/by-id";

/// One grant rule, e.g. `{ known = "zigbee" }`, `{ usb = "10c4:ea60", serial = "e4f8…" }`
/// or `{ port = "ttyAMA0" }`. Unknown keys are refused when deserializing. Call
/// [`GrantRule::validate`] after deserializing; an invalid rule matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRule {
    /// USB `"VID:PID"`, each exactly four hex digits (either case), as `lsusb` prints them,
    /// e.g. `"1cf1:0030"`.
    pub usb: Option<String>,
    /// The USB serial number (iSerialNumber, sysfs `serial`), compared exactly.
    pub serial: Option<String>,
    /// A case-insensitive substring of the USB product string (sysfs `product`).
    pub product: Option<String>,
    /// A udev by-id link: `/dev/serial/by-id/<name>` or the bare `<name>`; matches when
    /// `<dev_root>/serial/by-id/<name>` resolves to the port's device node.
    pub by_id: Option<String>,
    /// The kernel name, e.g. `ttyAMA0` for a UART HAT (a leading `/dev/` is tolerated).
    pub port: Option<String>,
    /// A [`known::KNOWN`] id (e.g. `conbee2`) or a kind: `zigbee`, `zwave`, `thread`
    /// (case-insensitive).
    pub known: Option<String>,
}

/// Parses `"VID:PID"` (exactly 4 + 4 hex digits) into numbers.
fn parse_usb(s: &str) -> Option<(u16, u16)> {
    let (v, p) = s.split_once(':')?;
    let hex4 = |x: &str| {
        (x.len() == 4 && x.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u16::from_str_radix(x, 16).ok())
            .flatten()
    };
    Some((hex4(v)?, hex4(p)?))
}

/// The by-id link name of a `by_id` value, or why it is refused.
fn by_id_name(s: &str) -> Result<&str, String> {
    let name = s.strip_prefix("/dev/serial/by-id/").unwrap_or(s);
    if name.is_empty() || name.contains('/') || name.contains("..") || name.contains('\0') {
        return Err(format!(
            "by_id {s:?}: give /dev/serial/by-id/<name> or <name> (no '/', no '..')"
        ));
    }
    Ok(name)
}

/// The kernel name of a `port` value, or why it is refused.
fn port_name(s: &str) -> Result<&str, String> {
    let name = s.strip_prefix("/dev/").unwrap_or(s);
    if name.is_empty() || name.contains('/') || name.contains("..") || name.contains('\0') {
        return Err(format!(
            "port {s:?}: give the kernel name, e.g. ttyAMA0 (no '/', no '..')"
        ));
    }
    Ok(name)
}

/// Does `known` (an id or a kind) accept the dongle `d`?
fn known_accepts(known: &str, d: &known::KnownDongle) -> bool {
    d.id == known || DongleKind::from_rule_name(known) == Some(d.kind)
}

impl GrantRule {
    /// What the rule asks for, as it is written: `usb "1a86:55d4", product "ZBDongle"`.
    pub fn describe(&self) -> String {
        let fields = [
            ("usb", &self.usb),
            ("serial", &self.serial),
            ("product", &self.product),
            ("by_id", &self.by_id),
            ("port", &self.port),
            ("known", &self.known),
        ];
        let parts: Vec<String> = fields
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v:?}")))
            .collect();
        parts.join(", ")
    }

    /// Checks the rule. Errors (a sentence naming the field):
    /// - no field set;
    /// - a set field that is empty;
    /// - `usb` not `"VID:PID"` with exactly four hex digits each;
    /// - `known` neither a [`known::KNOWN`] id nor `zigbee`/`zwave`/`thread`;
    /// - `by_id` not `/dev/serial/by-id/<name>` or `<name>`, or containing `..`;
    /// - `port` containing `/` (after an optional `/dev/`) or `..`.
    pub fn validate(&self) -> Result<(), String> {
        let fields = [
            ("usb", &self.usb),
            ("serial", &self.serial),
            ("product", &self.product),
            ("by_id", &self.by_id),
            ("port", &self.port),
            ("known", &self.known),
        ];
        if fields.iter().all(|(_, v)| v.is_none()) {
            return Err(
                "a grant rule needs at least one of usb, serial, product, by_id, port, known"
                    .into(),
            );
        }
        for (name, value) in fields {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(format!("{name} is empty"));
            }
        }
        if let Some(u) = &self.usb
            && parse_usb(u).is_none()
        {
            return Err(format!(
                "usb {u:?}: expected \"VID:PID\" with four hex digits each, e.g. \"10c4:ea60\""
            ));
        }
        if let Some(k) = &self.known
            && known::by_id(k).is_none()
            && DongleKind::from_rule_name(k).is_none()
        {
            let ids: Vec<&str> = known::KNOWN.iter().map(|d| d.id).collect();
            return Err(format!(
                "known {k:?}: expected zigbee, zwave, thread or one of {}",
                ids.join(", ")
            ));
        }
        if let Some(b) = &self.by_id {
            by_id_name(b)?;
        }
        if let Some(p) = &self.port {
            port_name(p)?;
        }
        Ok(())
    }

    /// Does `port` satisfy every field of this rule? `dev_root` is normally `/dev`.
    ///
    /// - `usb`: the port's USB VID:PID equals it;
    /// - `serial`: the USB serial equals it exactly;
    /// - `product`: the USB product string contains it, case-insensitively;
    /// - `by_id`: `<dev_root>/serial/by-id/<name>` and `port.devnode` canonicalize to the
    ///   same path (a missing link or by-id directory, or any resolution error: no match);
    /// - `port`: `port.name` equals it;
    /// - `known`: [`known::identify`] names a dongle with that id or of that kind.
    ///
    /// A rule with no field, or one failing [`GrantRule::validate`], matches nothing. Only
    /// `by_id` touches the file system.
    pub fn matches(&self, port: &SerialPort, dev_root: &Path) -> bool {
        if self.validate().is_err() {
            return false;
        }
        let usb = port.usb.as_ref();
        if let Some(u) = &self.usb {
            let want = parse_usb(u);
            if want.is_none() || want != usb.map(|i| (i.vid, i.pid)) {
                return false;
            }
        }
        if let Some(s) = &self.serial
            && usb.and_then(|i| i.serial.as_deref()) != Some(s.as_str())
        {
            return false;
        }
        if let Some(p) = &self.product
            && !usb
                .and_then(|i| i.product.as_deref())
                .is_some_and(|have| contains_ignore_case(have, p))
        {
            return false;
        }
        if let Some(k) = &self.known
            && !usb
                .and_then(known::identify)
                .is_some_and(|d| known_accepts(k, d))
        {
            return false;
        }
        if let Some(p) = &self.port
            && port_name(p).ok() != Some(port.name.as_str())
        {
            return false;
        }
        if let Some(b) = &self.by_id {
            let Ok(name) = by_id_name(b) else {
                return false;
            };
            let link = dev_root.join(BY_ID_DIR).join(name);
            match (fs::canonicalize(&link), fs::canonicalize(&port.devnode)) {
                (Ok(a), Ok(b)) if a == b => {}
                _ => return false,
            }
        }
        true
    }
}

/// Checks each `[[provider.grant]]` rule as read from the file.
///
/// # Errors
/// The first invalid rule's problem ([`GrantRule::validate`]) with the
/// span of its table in the file.
pub fn rules_from_raw(
    raw: Vec<toml::Spanned<GrantRule>>,
) -> Result<Vec<GrantRule>, toml::Spanned<String>> {
    raw.into_iter()
        .map(|rule| {
            let span = rule.span();
            let rule = rule.into_inner();
            match rule.validate() {
                Ok(()) => Ok(rule),
                Err(e) => Err(toml::Spanned::new(span, format!("grant rule: {e}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::sysfs::{self, UsbInfo};
    use std::os::unix::fs::symlink;
    use std::path::PathBuf;

    const ZBDONGLE_P_BY_ID: &str =
        "usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_e4f8a1b2c3d4ed11-if00-port0";

    fn zbdongle_p(dev: &Path) -> SerialPort {
        SerialPort {
            name: "ttyUSB0".into(),
            devpath: "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0".into(),
            devnode: dev.join("ttyUSB0"),
            usb: Some(UsbInfo {
                vid: 0x10c4,
                pid: 0xea60,
                serial: Some("e4f8a1b2c3d4ed11".into()),
                manufacturer: Some("ITead".into()),
                product: Some("Sonoff Zigbee 3.0 USB Dongle Plus".into()),
                interface: Some(0),
            }),
        }
    }

    fn uart(dev: &Path) -> SerialPort {
        SerialPort {
            name: "ttyAMA0".into(),
            devpath: "/devices/platform/soc/fe201000.serial/tty/ttyAMA0".into(),
            devnode: dev.join("ttyAMA0"),
            usb: None,
        }
    }

    /// A `/dev` with ttyUSB0, ttyAMA0 (plain files) and a by-id link to ttyUSB0.
    fn fake_dev() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        fs::write(t.path().join("ttyUSB0"), "").expect("node");
        fs::write(t.path().join("ttyAMA0"), "").expect("node");
        fs::create_dir_all(t.path().join(BY_ID_DIR)).expect("mkdir");
        symlink(
            "../../ttyUSB0",
            t.path().join(BY_ID_DIR).join(ZBDONGLE_P_BY_ID),
        )
        .expect("link");
        t
    }

    fn rule(toml_text: &str) -> GrantRule {
        let r: GrantRule = toml::from_str(toml_text).expect("deserialize");
        r.validate().expect("valid");
        r
    }

    #[test]
    fn deserializes_and_refuses_unknown_fields() {
        let r = rule(r#"usb = "10C4:EA60""#);
        assert_eq!(r.usb.as_deref(), Some("10C4:EA60"));
        assert!(toml::from_str::<GrantRule>(r#"vendor = "10c4""#).is_err());
        assert!(toml::from_str::<GrantRule>("usb = 4").is_err());
    }

    #[test]
    fn validate() {
        let bad = [
            "",
            r#"usb = "10c4""#,
            r#"usb = "10c4:ea6""#,
            r#"usb = "10c4:ea600""#,
            r#"usb = "0x10:ea60""#,
            r#"usb = "+0c4:ea60""#,
            r#"usb = "zzzz:ea60""#,
            r#"serial = """#,
            r#"product = "  ""#,
            r#"known = "conbee9""#,
            r#"known = "serial""#,
            r#"by_id = "../../etc/passwd""#,
            r#"by_id = "/dev/serial/by-path/pci-0:1""#,
            r#"by_id = "/dev/serial/by-id/a/../b""#,
            r#"by_id = "x..y""#,
            r#"port = "../ttyUSB0""#,
            r#"port = "/dev/serial/ttyUSB0""#,
        ];
        for text in bad {
            let r: GrantRule = toml::from_str(text).expect("deserialize");
            assert!(r.validate().is_err(), "{text}");
        }
        let good = [
            r#"usb = "1cf1:0030""#,
            r#"usb = "10C4:ea60""#,
            r#"known = "conbee2""#,
            r#"known = "ZigBee""#,
            r#"known = "zwave""#,
            r#"known = "thread""#,
            r#"by_id = "/dev/serial/by-id/usb-x-if00""#,
            r#"by_id = "usb-x-if00""#,
            r#"port = "ttyAMA0""#,
            r#"port = "/dev/ttyAMA0""#,
            r#"serial = "DE2132123"
               product = "ConBee""#,
        ];
        for text in good {
            rule(text);
        }
        let e = GrantRule::default().validate().expect_err("empty rule");
        assert!(e.contains("at least one"), "{e}");
    }

    #[test]
    fn each_field() {
        let d = fake_dev();
        let dev = d.path();
        let (usb, ama) = (zbdongle_p(dev), uart(dev));
        let cases: &[(&str, bool, bool)] = &[
            // (rule, matches ttyUSB0, matches ttyAMA0)
            (r#"usb = "10c4:ea60""#, true, false),
            (r#"usb = "10C4:EA60""#, true, false),
            (r#"usb = "1cf1:0030""#, false, false),
            (r#"serial = "e4f8a1b2c3d4ed11""#, true, false),
            (r#"serial = "E4F8A1B2C3D4ED11""#, false, false),
            (r#"serial = "e4f8""#, false, false),
            (r#"product = "zigbee 3.0""#, true, false),
            (r#"product = "ConBee""#, false, false),
            (r#"port = "ttyUSB0""#, true, false),
            (r#"port = "/dev/ttyAMA0""#, false, true),
            (r#"port = "ttyAMA""#, false, false),
            (r#"known = "sonoff-zbdongle-p""#, true, false),
            (r#"known = "zigbee""#, true, false),
            (r#"known = "cp210x""#, false, false),
            (r#"known = "zwave""#, false, false),
        ];
        for (text, want_usb, want_ama) in cases {
            let r = rule(text);
            assert_eq!(r.matches(&usb, dev), *want_usb, "{text} vs ttyUSB0");
            assert_eq!(r.matches(&ama, dev), *want_ama, "{text} vs ttyAMA0");
        }
    }

    #[test]
    fn known_generic_adapter() {
        let d = fake_dev();
        let mut p = zbdongle_p(d.path());
        if let Some(u) = p.usb.as_mut() {
            u.product = Some("CP2102N USB to UART Bridge Controller".into());
        }
        assert!(rule(r#"known = "cp210x""#).matches(&p, d.path()));
        assert!(!rule(r#"known = "zigbee""#).matches(&p, d.path()));
    }

    #[test]
    fn by_id() {
        let d = fake_dev();
        let dev = d.path();
        let (usb, ama) = (zbdongle_p(dev), uart(dev));
        let full = rule(&format!(
            r#"by_id = "/dev/serial/by-id/{ZBDONGLE_P_BY_ID}""#
        ));
        let bare = rule(&format!(r#"by_id = "{ZBDONGLE_P_BY_ID}""#));
        for r in [&full, &bare] {
            assert!(r.matches(&usb, dev));
            assert!(!r.matches(&ama, dev));
        }
        // A link that does not exist, a dangling link, a port whose node is missing.
        assert!(!rule(r#"by_id = "usb-nope""#).matches(&usb, dev));
        symlink("../../ttyUSB9", dev.join(BY_ID_DIR).join("dangling")).expect("link");
        assert!(!rule(r#"by_id = "dangling""#).matches(&usb, dev));
        let mut gone = usb.clone();
        gone.devnode = dev.join("ttyUSB7");
        assert!(!full.matches(&gone, dev));
        // No by-id directory at all (no USB serial device ever plugged).
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(!full.matches(&zbdongle_p(empty.path()), empty.path()));
    }

    #[test]
    fn combinations_need_every_field() {
        let d = fake_dev();
        let dev = d.path();
        let usb = zbdongle_p(dev);
        let all = rule(&format!(
            r#"usb = "10c4:ea60"
               serial = "e4f8a1b2c3d4ed11"
               product = "sonoff"
               by_id = "{ZBDONGLE_P_BY_ID}"
               port = "ttyUSB0"
               known = "zigbee""#
        ));
        assert!(all.matches(&usb, dev));
        for (field, value) in [
            ("usb", "10c4:ea61"),
            ("serial", "other"),
            ("product", "skyconnect"),
            ("by_id", "usb-other"),
            ("port", "ttyUSB1"),
            ("known", "zwave"),
        ] {
            let mut r = all.clone();
            let v = Some(value.to_owned());
            match field {
                "usb" => r.usb = v,
                "serial" => r.serial = v,
                "product" => r.product = v,
                "by_id" => r.by_id = v,
                "port" => r.port = v,
                _ => r.known = v,
            }
            assert!(!r.matches(&usb, dev), "{field} = {value}");
        }
    }

    #[test]
    fn invalid_rules_match_nothing() {
        let d = fake_dev();
        let usb = zbdongle_p(d.path());
        assert!(!GrantRule::default().matches(&usb, d.path()));
        let r = GrantRule {
            usb: Some("10c4:ea60".into()),
            port: Some("../ttyUSB0".into()),
            ..GrantRule::default()
        };
        assert!(!r.matches(&usb, d.path()));
    }

    #[test]
    fn rules_against_scanned_sysfs() {
        let sys = sysfs::tests::fake_sysfs();
        let dev = PathBuf::from("/nonexistent-dev");
        let ports = sysfs::scan(sys.path(), &dev);
        let names = |r: &GrantRule| -> Vec<String> {
            ports
                .iter()
                .filter(|p| r.matches(p, &dev))
                .map(|p| p.name.clone())
                .collect()
        };
        assert_eq!(names(&rule(r#"known = "zigbee""#)), ["ttyACM0", "ttyUSB0"]);
        assert_eq!(names(&rule(r#"known = "conbee2""#)), ["ttyACM0"]);
        assert_eq!(names(&rule(r#"port = "ttyAMA0""#)), ["ttyAMA0"]);
        assert!(names(&rule(r#"known = "zwave""#)).is_empty());
    }
}
