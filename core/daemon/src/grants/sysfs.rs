//! Serial ports and their USB identity, read straight from sysfs (no libudev).
//!
//! Layout relied on (kernel `Documentation/ABI/testing/sysfs-bus-usb`,
//! `Documentation/ABI/stable/sysfs-bus-usb`, `Documentation/admin-guide/sysfs-rules.rst`):
//!
//! ```text
//! <sysfs>/class/tty/ttyUSB0 -> ../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0
//! <sysfs>/devices/…/usb1/1-1/{idVendor,idProduct,serial,manufacturer,product}   USB device level
//! <sysfs>/devices/…/usb1/1-1/1-1:1.0/bInterfaceNumber                            USB interface level
//! <sysfs>/devices/…/1-1:1.0/ttyUSB0/tty/ttyUSB0/{uevent,device}                  the tty class device
//! ```
//!
//! The sysfs root and the `/dev` root are parameters so tests (and machines without USB)
//! can point them at a copied layout.

use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

/// The largest sysfs attribute the kernel returns: one page (`sysfs-rules.rst`). Reads are
/// capped a little above it so a hostile FUSE/bind mount cannot make us read without bound.
const MAX_ATTR_BYTES: u64 = 8192;

/// Longest devpath accepted (`PATH_MAX`).
const MAX_DEVPATH: usize = 4096;

/// Longest `DEVNAME` accepted (`NAME_MAX`-ish; udev device names are short).
const MAX_DEVNAME: usize = 255;

/// The USB identity of a serial port: what sits at the USB *device* level above it, plus
/// the number of the interface the port belongs to.
///
/// Source: kernel `Documentation/ABI/stable/sysfs-bus-usb` and
/// `Documentation/ABI/testing/sysfs-bus-usb` (attribute names and their `%04x`/`%02x`
/// formats, see `drivers/usb/core/sysfs.c`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbInfo {
    /// USB vendor id (`idVendor`, four hex digits in sysfs).
    pub vid: u16,
    /// USB product id (`idProduct`, four hex digits in sysfs).
    pub pid: u16,
    /// The iSerialNumber string (`serial`), trimmed; `None` when absent or empty.
    pub serial: Option<String>,
    /// The iManufacturer string (`manufacturer`), trimmed; `None` when absent or empty.
    pub manufacturer: Option<String>,
    /// The iProduct string (`product`), trimmed; `None` when absent or empty.
    pub product: Option<String>,
    /// `bInterfaceNumber` (two hex digits in sysfs) of the interface the port hangs off,
    /// e.g. `Some(0)` for `1-1:1.0`; `None` when there is no interface level or it is
    /// unreadable.
    pub interface: Option<u8>,
}

/// One serial port (a tty class device with a real parent device).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialPort {
    /// The kernel name: the last component of `devpath`, e.g. `ttyUSB0`, `ttyACM0`, `ttyAMA0`.
    pub name: String,
    /// The device path as in a uevent's `DEVPATH`: relative to the sysfs root, starting with
    /// `/devices/`, e.g. `/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0`.
    pub devpath: String,
    /// The device node: `<dev_root>/<DEVNAME>`, e.g. `/dev/ttyUSB0`.
    pub devnode: PathBuf,
    /// USB identity when the port sits on a USB device; `None` for on-board UARTs and when
    /// the USB attributes are unreadable or malformed.
    pub usb: Option<UsbInfo>,
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Checks a devpath from the kernel socket or the network: `/devices/…`, no NUL, no `..`.
fn check_devpath(devpath: &str) -> io::Result<()> {
    if devpath.len() > MAX_DEVPATH {
        return Err(invalid(format!("devpath longer than {MAX_DEVPATH} bytes")));
    }
    if devpath.contains('\0') || devpath.contains("..") {
        return Err(invalid(format!("devpath {devpath:?} contains NUL or ..")));
    }
    if !devpath.starts_with("/devices/") {
        return Err(invalid(format!(
            "devpath {devpath:?} does not start with /devices/"
        )));
    }
    Ok(())
}

/// Checks a `DEVNAME` (relative to `/dev`, may contain `/` as in `bus/usb/001/002`, see the
/// `DEVNAME` variable in `drivers/base/core.c` `dev_uevent()`): non-empty, relative, only
/// `[A-Za-z0-9_./:-]` (what kernel tty names use; anything else is treated as hostile),
/// no `..`, so `dev_root.join(devname)` stays below `dev_root`.
fn check_devname(devname: &str) -> io::Result<()> {
    let ok_chars = devname
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b':' | b'-'));
    if devname.is_empty()
        || devname.len() > MAX_DEVNAME
        || !ok_chars
        || devname.contains("..")
        || devname.starts_with('/')
    {
        return Err(invalid(format!("refusing device name {devname:?}")));
    }
    Ok(())
}

/// Reads one sysfs attribute, trimmed. `None` when missing, unreadable, not UTF-8 or empty
/// (all but "missing" are logged at debug level).
fn read_attr(path: &Path) -> Option<String> {
    let mut buf = Vec::new();
    let res = fs::File::open(path).and_then(|f| f.take(MAX_ATTR_BYTES).read_to_end(&mut buf));
    match res {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "unreadable sysfs attribute");
            return None;
        }
    }
    match String::from_utf8(buf) {
        Ok(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        }
        Err(_) => {
            tracing::debug!(path = %path.display(), "sysfs attribute is not UTF-8");
            None
        }
    }
}

/// Parses 1–`max_digits` hex digits (no sign, no `0x`), as the kernel prints `%04x`/`%02x`.
fn parse_hex(s: &str, max_digits: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// Walks up from `dir` to the USB device level (first directory with `idVendor` and
/// `idProduct`), never reaching `stop` or leaving it.
fn usb_info(dir: &Path, stop: &Path) -> Option<UsbInfo> {
    let mut below: Option<&Path> = None;
    let mut cur = dir;
    while cur != stop && cur.starts_with(stop) {
        let vid_path = cur.join("idVendor");
        let pid_path = cur.join("idProduct");
        if vid_path.is_file() && pid_path.is_file() {
            let vid = read_attr(&vid_path).and_then(|s| parse_hex(&s, 4));
            let pid = read_attr(&pid_path).and_then(|s| parse_hex(&s, 4));
            let (Some(vid), Some(pid)) = (vid, pid) else {
                tracing::debug!(path = %cur.display(), "malformed idVendor/idProduct; no USB info");
                return None;
            };
            let interface = below.and_then(|i| {
                let raw = read_attr(&i.join("bInterfaceNumber"))?;
                let n = parse_hex(&raw, 2);
                if n.is_none() {
                    tracing::debug!(path = %i.display(), value = %raw, "malformed bInterfaceNumber");
                }
                n.and_then(|n| u8::try_from(n).ok())
            });
            return Some(UsbInfo {
                // Both fit: at most four hex digits.
                vid: u16::try_from(vid).ok()?,
                pid: u16::try_from(pid).ok()?,
                serial: read_attr(&cur.join("serial")),
                manufacturer: read_attr(&cur.join("manufacturer")),
                product: read_attr(&cur.join("product")),
                interface,
            });
        }
        below = Some(cur);
        cur = cur.parent()?;
    }
    None
}

/// Reads the serial port at `devpath` from sysfs.
///
/// - `sysfs_root`: normally `/sys`.
/// - `devpath`: as in a uevent's `DEVPATH`, e.g. `/devices/…/ttyUSB0/tty/ttyUSB0`; must start
///   with `/devices/`, contain no NUL and no `..` (it comes from the kernel socket or the
///   network), at most 4 096 bytes.
/// - `devname`: as in a uevent's `DEVNAME`, relative to `dev_root` (e.g. `ttyUSB0`); only
///   `[A-Za-z0-9_./:-]`, not starting with `/`, no `..`, 1–255 bytes.
/// - `dev_root`: normally `/dev`.
///
/// USB identity: walks up from `<sysfs_root><devpath>` (stopping before `<sysfs_root>/devices`)
/// to the first directory holding both `idVendor` and `idProduct` — the USB device level
/// (`Documentation/ABI/stable/sysfs-bus-usb`) — and reads `serial`, `manufacturer`,
/// `product` there (trimmed; missing/empty → `None`), and `bInterfaceNumber` in the directory
/// just below it (the interface level, e.g. `1-1:1.0`). Malformed ids yield `usb: None` and a
/// debug log, never an error.
///
/// Errors: `InvalidInput` for a refused `devpath`/`devname`; `NotFound` (or another OS
/// error) when `<sysfs_root><devpath>` is not a readable directory.
pub fn read_port(
    sysfs_root: &Path,
    devpath: &str,
    devname: &str,
    dev_root: &Path,
) -> io::Result<SerialPort> {
    check_devpath(devpath)?;
    check_devname(devname)?;
    let dir = sysfs_root.join(devpath.trim_start_matches('/'));
    if !fs::metadata(&dir)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a directory", dir.display()),
        ));
    }
    let name = devpath
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid(format!("devpath {devpath:?} has no name")))?
        .to_owned();
    let usb = usb_info(&dir, &sysfs_root.join("devices"));
    Ok(SerialPort {
        name,
        devpath: devpath.to_owned(),
        devnode: dev_root.join(devname),
        usb,
    })
}

/// `DEVNAME=` from a sysfs `uevent` file, if present.
fn devname_from_uevent(path: &Path) -> Option<String> {
    let text = read_attr(path)?;
    text.lines()
        .find_map(|l| l.strip_prefix("DEVNAME="))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Turns `<sysfs_root>/class/tty/<name>` into its devpath (`/devices/…`) by resolving the
/// class symlink and stripping the (resolved) sysfs root.
fn class_entry_devpath(sysfs_root: &Path, entry: &Path) -> io::Result<String> {
    let root = fs::canonicalize(sysfs_root)?;
    let target = fs::canonicalize(entry)?;
    let rel = target.strip_prefix(&root).map_err(|_| {
        invalid(format!(
            "{} resolves outside {}",
            entry.display(),
            root.display()
        ))
    })?;
    let mut devpath = String::new();
    for c in rel.components() {
        let Component::Normal(part) = c else {
            return Err(invalid(format!("odd component in {}", rel.display())));
        };
        let part = part
            .to_str()
            .ok_or_else(|| invalid(format!("non-UTF-8 path {}", rel.display())))?;
        devpath.push('/');
        devpath.push_str(part);
    }
    Ok(devpath)
}

/// Lists the serial ports present now: every `<sysfs_root>/class/tty/<name>` that has a
/// `device` link (a real parent device), read with [`read_port`].
///
/// Virtual ttys (`tty`, `tty0`…`ttyN`, `console`, `ptmx`, ptys) have no `device` link and
/// are skipped (kernel `Documentation/admin-guide/sysfs-rules.rst`: "device" link points
/// to the parent device). Note that the 8250 driver's placeholder `ttyS*` ports *do* have
/// one, so they are listed even when no UART is wired.
///
/// `DEVNAME` comes from the entry's `uevent` file (`DEVNAME=` line), else the entry name.
/// Sorted by name. Never fails: an unreadable class directory yields an empty list and an
/// unreadable or refused entry is logged (debug) and skipped.
pub fn scan(sysfs_root: &Path, dev_root: &Path) -> Vec<SerialPort> {
    let class = sysfs_root.join("class").join("tty");
    let entries = match fs::read_dir(&class) {
        Ok(e) => e,
        Err(e) => {
            tracing::debug!(path = %class.display(), error = %e, "cannot list tty class");
            return Vec::new();
        }
    };
    let mut ports = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                tracing::debug!(path = %class.display(), error = %e, "tty class entry");
                continue;
            }
        };
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            tracing::debug!(path = %path.display(), "non-UTF-8 tty name skipped");
            continue;
        };
        if fs::symlink_metadata(path.join("device")).is_err() {
            continue; // virtual tty
        }
        let devname = devname_from_uevent(&path.join("uevent")).unwrap_or_else(|| name.clone());
        let port = class_entry_devpath(sysfs_root, &path)
            .and_then(|devpath| read_port(sysfs_root, &devpath, &devname, dev_root));
        match port {
            Ok(p) => ports.push(p),
            Err(e) => {
                tracing::debug!(tty = %name, error = %e, "serial port skipped");
            }
        }
    }
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    ports
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    pub(crate) const USB_DEV: &str = "devices/pci0000:00/0000:00:14.0/usb1/1-1";
    pub(crate) const USB_TTY: &str =
        "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/ttyUSB0/tty/ttyUSB0";
    pub(crate) const ACM_TTY: &str =
        "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/ttyACM0";
    pub(crate) const UART_TTY: &str = "/devices/platform/soc/fe201000.serial/tty/ttyAMA0";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    /// Adds a tty class device at `devpath` (dir + uevent + `device` link + class link).
    fn add_tty(root: &Path, devpath: &str, name: &str, devname: &str, minor: u32) {
        let dir = root.join(devpath.trim_start_matches('/'));
        write(
            &dir.join("uevent"),
            &format!("MAJOR=188\nMINOR={minor}\nDEVNAME={devname}\n"),
        );
        // `device` points two levels up (…/ttyUSB0/tty/ttyUSB0 -> ../../ttyUSB0 in the kernel).
        symlink("../..", dir.join("device")).expect("device link");
        let depth = 2; // class/tty
        let rel = format!("{}{}", "../".repeat(depth), devpath.trim_start_matches('/'));
        fs::create_dir_all(root.join("class/tty")).expect("mkdir class");
        symlink(rel, root.join("class/tty").join(name)).expect("class link");
    }

    /// A copied sysfs layout: a Sonoff ZBDongle-P style CP210x (ttyUSB0), a CDC-ACM
    /// ConBee II (ttyACM0), an on-board UART (ttyAMA0), and virtual tty0/ptmx/console.
    pub(crate) fn fake_sysfs() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        let dev = root.join(USB_DEV);
        write(&dev.join("idVendor"), "10c4\n");
        write(&dev.join("idProduct"), "ea60\n");
        write(&dev.join("serial"), "e4f8a1b2c3d4ed11\n");
        write(&dev.join("manufacturer"), "ITead\n");
        write(&dev.join("product"), "Sonoff Zigbee 3.0 USB Dongle Plus\n");
        write(&dev.join("1-1:1.0/bInterfaceNumber"), "00\n");
        // The root hub above also has ids: the walk must stop at the first level.
        write(
            &root.join("devices/pci0000:00/0000:00:14.0/usb1/idVendor"),
            "1d6b\n",
        );
        write(
            &root.join("devices/pci0000:00/0000:00:14.0/usb1/idProduct"),
            "0002\n",
        );
        add_tty(root, USB_TTY, "ttyUSB0", "ttyUSB0", 0);

        let acm = root.join("devices/pci0000:00/0000:00:14.0/usb1/1-2");
        write(&acm.join("idVendor"), "1cf1\n");
        write(&acm.join("idProduct"), "0030\n");
        write(&acm.join("serial"), "DE2132123\n");
        write(
            &acm.join("manufacturer"),
            "dresden elektronik ingenieurtechnik GmbH\n",
        );
        write(&acm.join("product"), "ConBee II\n");
        write(&acm.join("1-2:1.0/bInterfaceNumber"), "00\n");
        add_tty(root, ACM_TTY, "ttyACM0", "ttyACM0", 0);

        add_tty(root, UART_TTY, "ttyAMA0", "ttyAMA0", 64);

        for v in ["tty0", "ptmx", "console"] {
            let d = root.join("devices/virtual/tty").join(v);
            write(
                &d.join("uevent"),
                &format!("MAJOR=4\nMINOR=0\nDEVNAME={v}\n"),
            );
            symlink(
                format!("../../devices/virtual/tty/{v}"),
                root.join("class/tty").join(v),
            )
            .expect("virtual link");
        }
        t
    }

    #[test]
    fn reads_usb_serial_adapter() {
        let t = fake_sysfs();
        let p = read_port(t.path(), USB_TTY, "ttyUSB0", Path::new("/dev")).expect("port");
        assert_eq!(p.name, "ttyUSB0");
        assert_eq!(p.devpath, USB_TTY);
        assert_eq!(p.devnode, Path::new("/dev/ttyUSB0"));
        let usb = p.usb.expect("usb info");
        assert_eq!((usb.vid, usb.pid), (0x10c4, 0xea60));
        assert_eq!(usb.serial.as_deref(), Some("e4f8a1b2c3d4ed11"));
        assert_eq!(usb.manufacturer.as_deref(), Some("ITead"));
        assert_eq!(
            usb.product.as_deref(),
            Some("Sonoff Zigbee 3.0 USB Dongle Plus")
        );
        assert_eq!(usb.interface, Some(0));
    }

    #[test]
    fn reads_cdc_acm() {
        let t = fake_sysfs();
        let p = read_port(t.path(), ACM_TTY, "ttyACM0", Path::new("/d")).expect("port");
        assert_eq!(p.devnode, Path::new("/d/ttyACM0"));
        let usb = p.usb.expect("usb info");
        assert_eq!((usb.vid, usb.pid), (0x1cf1, 0x0030));
        assert_eq!(usb.product.as_deref(), Some("ConBee II"));
        assert_eq!(usb.interface, Some(0));
    }

    #[test]
    fn uart_has_no_usb_info() {
        let t = fake_sysfs();
        let p = read_port(t.path(), UART_TTY, "ttyAMA0", Path::new("/dev")).expect("port");
        assert_eq!(p.usb, None);
        assert_eq!(p.name, "ttyAMA0");
    }

    #[test]
    fn missing_strings_and_interface_are_none() {
        let t = fake_sysfs();
        let dev = t.path().join(USB_DEV);
        for f in ["serial", "manufacturer", "1-1:1.0/bInterfaceNumber"] {
            fs::remove_file(dev.join(f)).expect("rm");
        }
        fs::write(dev.join("product"), "  \n").expect("write");
        let usb = read_port(t.path(), USB_TTY, "ttyUSB0", Path::new("/dev"))
            .expect("port")
            .usb
            .expect("usb");
        assert_eq!(usb.serial, None);
        assert_eq!(usb.manufacturer, None);
        assert_eq!(usb.product, None);
        assert_eq!(usb.interface, None);
    }

    #[test]
    fn interface_number_is_hex() {
        let t = fake_sysfs();
        fs::write(
            t.path().join(USB_DEV).join("1-1:1.0/bInterfaceNumber"),
            "0a\n",
        )
        .expect("write");
        let usb = read_port(t.path(), USB_TTY, "ttyUSB0", Path::new("/dev"))
            .expect("port")
            .usb
            .expect("usb");
        assert_eq!(usb.interface, Some(10));
    }

    #[test]
    fn garbage_ids_mean_no_usb_info() {
        for bad in ["zzzz", "", "+1c4", "10c4a", "0x10", "\u{fffd}"] {
            let t = fake_sysfs();
            fs::write(t.path().join(USB_DEV).join("idVendor"), bad).expect("write");
            let p = read_port(t.path(), USB_TTY, "ttyUSB0", Path::new("/dev")).expect("port");
            assert_eq!(p.usb, None, "idVendor {bad:?}");
        }
        let t = fake_sysfs();
        fs::write(t.path().join(USB_DEV).join("idProduct"), [0xff, 0xfe]).expect("write");
        let p = read_port(t.path(), USB_TTY, "ttyUSB0", Path::new("/dev")).expect("port");
        assert_eq!(p.usb, None);
    }

    #[test]
    fn hostile_names_are_refused() {
        let t = fake_sysfs();
        let dev = Path::new("/dev");
        for devname in [
            "../etc/passwd",
            "/etc/passwd",
            "tty USB0",
            "ttyUSB0\0",
            "tty;rm",
            "",
            "a/../../b",
            "ttyÜ",
        ] {
            let e = read_port(t.path(), USB_TTY, devname, dev).expect_err(devname);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{devname:?}");
        }
        for devpath in [
            "/devices/../../etc",
            "/devices/pci0000:00\0/x",
            "devices/pci0000:00",
            "/etc/passwd",
            "/class/tty/ttyUSB0",
        ] {
            let e = read_port(t.path(), devpath, "ttyUSB0", dev).expect_err(devpath);
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{devpath:?}");
        }
        // Allowed: a nested DEVNAME as udev uses for some subsystems.
        let p = read_port(t.path(), USB_TTY, "serial/tty-0:1", dev).expect("nested name");
        assert_eq!(p.devnode, Path::new("/dev/serial/tty-0:1"));
    }

    #[test]
    fn missing_devpath_is_not_found() {
        let t = fake_sysfs();
        let e = read_port(
            t.path(),
            "/devices/nope/ttyUSB9",
            "ttyUSB9",
            Path::new("/dev"),
        )
        .expect_err("absent");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn scan_lists_real_ports_only() {
        let t = fake_sysfs();
        let ports = scan(t.path(), Path::new("/dev"));
        let names: Vec<_> = ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ttyACM0", "ttyAMA0", "ttyUSB0"]);
        let usb = ports.iter().find(|p| p.name == "ttyUSB0").expect("usb");
        assert_eq!(usb.devpath, USB_TTY);
        assert_eq!(usb.usb.as_ref().map(|u| u.vid), Some(0x10c4));
        let acm = ports.iter().find(|p| p.name == "ttyACM0").expect("acm");
        assert_eq!(acm.devpath, ACM_TTY);
        assert_eq!(acm.devnode, Path::new("/dev/ttyACM0"));
    }

    #[test]
    fn scan_uses_uevent_devname_and_skips_hostile() {
        let t = fake_sysfs();
        let dir = t.path().join(USB_TTY.trim_start_matches('/'));
        fs::write(
            dir.join("uevent"),
            "MAJOR=188\nMINOR=0\nDEVNAME=../../etc/shadow\n",
        )
        .expect("write");
        let acm = t.path().join(ACM_TTY.trim_start_matches('/'));
        fs::write(acm.join("uevent"), "MAJOR=166\nDEVNAME=serial/acm0\n").expect("write");
        let ports = scan(t.path(), Path::new("/dev"));
        let names: Vec<_> = ports.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ttyACM0", "ttyAMA0"]);
        assert_eq!(ports[0].devnode, Path::new("/dev/serial/acm0"));
    }

    #[test]
    fn scan_without_class_dir_is_empty() {
        let t = tempfile::tempdir().expect("tempdir");
        assert!(scan(t.path(), Path::new("/dev")).is_empty());
    }

    #[test]
    fn scan_skips_links_leaving_sysfs() {
        let t = fake_sysfs();
        let outside = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(outside.path().join("device")).expect("mkdir");
        symlink(outside.path(), t.path().join("class/tty/ttyEVIL")).expect("link");
        let names: Vec<_> = scan(t.path(), Path::new("/dev"))
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["ttyACM0", "ttyAMA0", "ttyUSB0"]);
    }
}
