//! A serial dongle plugged in and out with real kernel uevents (DESIGN §7):
//! a synthetic `add`/`remove` written to a real tty's `uevent` file, which
//! the kernel broadcasts to every listener. The USB identity (a ConBee II)
//! comes from a copied sysfs layout at the event's device path (these
//! machines have no USB devices), and the device node under a fake `/dev`
//! points at a socat pty: the core opens and grants the pty, the test talks
//! to its peer end. Needs root.
//!
//! The kernel's broadcast reaches every core on the machine, so a
//! [`FakeDongle`] holds an exclusive lock on the tty for its life: two tests
//! (in one process or several) never plug and unplug the same tty at once.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
use tempfile::TempDir;

use crate::harness::core::CoreSettings;
use crate::harness::privileged::{PtyPair, uevent_tty};

/// The USB identity a [`FakeDongle`] shows in its sysfs copy.
#[derive(Debug, Clone, Copy)]
pub struct UsbIdentity {
    /// `idVendor`, `idProduct` (hex, as sysfs writes them).
    pub vid: &'static str,
    /// `idProduct`.
    pub pid: &'static str,
    /// The `manufacturer` string.
    pub manufacturer: &'static str,
    /// The `product` string.
    pub product: &'static str,
    /// The `serial` string.
    pub serial: &'static str,
}

/// dresden elektronik's ConBee II (CDC-ACM, its own VID).
pub const CONBEE_II: UsbIdentity = UsbIdentity {
    vid: "1cf1",
    pid: "0030",
    manufacturer: "dresden elektronik ingenieurtechnik GmbH",
    product: "ConBee II",
    serial: "DE2412345",
};

/// Sonoff's ZBDongle-P (a CC2652P behind a CP2102N, Z-Stack firmware): the
/// core's known-dongle table recognises it by its product string.
pub const ZBDONGLE_P: UsbIdentity = UsbIdentity {
    vid: "10c4",
    pid: "ea60",
    manufacturer: "ITead",
    product: "Sonoff Zigbee 3.0 USB Dongle Plus",
    serial: "c2b6d8a1e3f4ed11a8c1",
};

/// A USB serial dongle on a pty, plugged and unplugged by real uevents of a real tty.
pub struct FakeDongle {
    /// The pty pair: the core grants `pty.device`, the test uses `pty.peer`.
    pub pty: PtyPair,
    name: String,
    sys: PathBuf,
    dev: PathBuf,
    _root: TempDir,
    _lock: Flock<File>,
}

impl FakeDongle {
    /// Sets up the fake sysfs and `/dev` for the machine's uevent tty (see
    /// [`uevent_tty`]) and takes its lock, waiting while another test holds it.
    ///
    /// # Panics
    /// When the machine has no such tty, or a file cannot be written.
    pub fn conbee() -> FakeDongle {
        FakeDongle::with_identity(CONBEE_II)
    }

    /// A dongle showing `usb` as its USB identity; see [`FakeDongle::conbee`].
    ///
    /// # Panics
    /// As [`FakeDongle::conbee`].
    pub fn with_identity(usb: UsbIdentity) -> FakeDongle {
        let (name, real) = uevent_tty().expect("a tty with a device and a uevent file (ttyS0)");
        let lock_path = std::env::temp_dir().join(format!("igloo-uevent-{name}.lock"));
        let file = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("lock file {}: {e}", lock_path.display()));
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .unwrap_or_else(|(_, e)| panic!("locking {}: {e}", lock_path.display()));
        let devpath = real
            .strip_prefix("/sys")
            .expect("under /sys")
            .to_string_lossy()
            .into_owned();
        let pty = PtyPair::open();
        let root = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let (sys, dev) = fake_system(root.path(), &devpath, &name, &pty.device_node(), usb);
        FakeDongle {
            pty,
            name,
            sys,
            dev,
            _root: root,
            _lock: lock,
        }
    }

    /// The kernel's name of the tty, e.g. `ttyS0`: the grant's `device`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Core settings whose `sysfs_root` and `dev_root` are the fake ones.
    pub fn core_settings(&self) -> CoreSettings {
        CoreSettings {
            extra_core: format!(
                "sysfs_root = \"{}\"\ndev_root = \"{}\"\n",
                self.sys.display(),
                self.dev.display()
            ),
            ..CoreSettings::default()
        }
    }

    /// Plugs the dongle in: a real kernel `add` event.
    pub fn plug(&self) {
        self.kernel_event("add");
    }

    /// Unplugs it: a real kernel `remove` event.
    pub fn unplug(&self) {
        self.kernel_event("remove");
    }

    /// The stick fails without a uevent: its pty disappears (socat ends), so
    /// the granted fd reads EIO and hangs up while the core still holds the
    /// grant.
    pub fn hang_up(&mut self) {
        self.pty.hang_up();
    }

    /// A new pty for the stick (after [`FakeDongle::hang_up`]), its `/dev`
    /// node pointed at it; no uevent ([`FakeDongle::plug`] sends one).
    ///
    /// # Panics
    /// When socat fails or the node cannot be replaced.
    pub fn reconnect(&mut self) {
        self.pty.reopen();
        let node = self.dev.join(&self.name);
        std::fs::remove_file(&node).unwrap_or_else(|e| panic!("{}: {e}", node.display()));
        std::os::unix::fs::symlink(self.pty.device_node(), &node)
            .unwrap_or_else(|e| panic!("{}: {e}", node.display()));
    }

    /// The dongle's end of the pty, opened non-blocking.
    pub fn open_peer(&self) -> File {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&self.pty.peer)
            .unwrap_or_else(|e| panic!("open the pty peer: {e}"))
    }

    /// Writes `action` to the real tty's `uevent` file: the kernel broadcasts it.
    fn kernel_event(&self, action: &str) {
        let path = format!("/sys/class/tty/{}/uevent", self.name);
        std::fs::write(&path, action)
            .unwrap_or_else(|e| panic!("writing {action:?} to {path}: {e}"));
    }
}

/// Builds a sysfs copy where `devpath` (the real tty's path) sits below a
/// USB device with identity `usb`, and a `/dev` whose node for the tty is the
/// pty. Returns (sysfs root, dev root).
fn fake_system(
    root: &Path,
    devpath: &str,
    name: &str,
    pty_node: &Path,
    usb_id: UsbIdentity,
) -> (PathBuf, PathBuf) {
    let sys = root.join("sys");
    let dev = root.join("dev");
    let tty_dir = sys.join(devpath.trim_start_matches('/'));
    std::fs::create_dir_all(&tty_dir).expect("mkdir tty");
    std::fs::write(
        tty_dir.join("uevent"),
        format!("MAJOR=4\nMINOR=64\nDEVNAME={name}\n"),
    )
    .expect("uevent");
    // .../<usb device>/<interface>/tty/<name>
    let interface = tty_dir
        .parent()
        .and_then(Path::parent)
        .expect("interface level");
    let usb = interface.parent().expect("usb level");
    std::fs::write(interface.join("bInterfaceNumber"), "00\n").expect("attr");
    for (attr, value) in [
        ("idVendor", usb_id.vid),
        ("idProduct", usb_id.pid),
        ("manufacturer", usb_id.manufacturer),
        ("product", usb_id.product),
        ("serial", usb_id.serial),
    ] {
        std::fs::write(usb.join(attr), format!("{value}\n")).expect("attr");
    }
    std::fs::create_dir_all(&dev).expect("mkdir dev");
    std::os::unix::fs::symlink(pty_node, dev.join(name)).expect("symlink node");
    (sys, dev)
}

/// Reads from the (non-blocking) `peer` until `want` arrives or `timeout`
/// passes; returns everything read.
pub fn read_until(peer: &mut File, want: &str, timeout: Duration) -> String {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while start.elapsed() < timeout {
        match peer.read(&mut buf) {
            Ok(n) if n > 0 => {
                got.extend_from_slice(&buf[..n]);
                if String::from_utf8_lossy(&got).contains(want) {
                    break;
                }
            }
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}
