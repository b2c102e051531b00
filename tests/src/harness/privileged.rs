//! Tests that need root (uid changes, namespaces, cgroups, nftables, uevents).
//! CI runs as root; there such a test must run. Elsewhere it says it is
//! skipped instead of passing silently.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::wait::wait_for;

/// `true` when the test may proceed. As non-root: panics when `CI` or
/// `IGLOO_REQUIRE_ROOT=1` is set, else prints why it is skipped and returns `false`.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let must = std::env::var_os("CI").is_some()
        || std::env::var("IGLOO_REQUIRE_ROOT").is_ok_and(|v| v == "1");
    assert!(!must, "{test} needs root (CI runs the suite as root)");
    eprintln!("skipped: {test} needs root");
    false
}

/// A pseudo-terminal pair made by socat, standing in for a serial dongle:
/// `device` is what the core opens and grants, `peer` is the "dongle" end the
/// test reads and writes.
pub struct PtyPair {
    child: Child,
    /// The end given to the provider (a symlink to a /dev/pts node).
    pub device: PathBuf,
    /// The other end, used by the test.
    pub peer: PathBuf,
    _dir: tempfile::TempDir,
}

impl PtyPair {
    /// Starts `socat` with two raw ptys linked under a temp dir.
    ///
    /// # Panics
    /// If socat is missing or the links do not appear within 5 s.
    pub fn open() -> PtyPair {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let device = dir.path().join("dongle");
        let peer = dir.path().join("peer");
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .arg(format!("pty,raw,echo=0,link={}", peer.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start socat (apt-get install socat): {e}"));
        wait_for(Duration::from_secs(5), "socat's pty links", || {
            if device.exists() && peer.exists() {
                Ok(())
            } else {
                Err("not yet".to_string())
            }
        });
        PtyPair {
            child,
            device,
            peer,
            _dir: dir,
        }
    }

    /// Ends socat: both ptys are gone, as when a stick's USB serial chip
    /// drops off the bus; whoever holds the device end reads EIO (hang-up).
    pub fn hang_up(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A new socat pair at the same two links (after [`PtyPair::hang_up`]):
    /// new /dev/pts nodes behind them.
    ///
    /// # Panics
    /// As [`PtyPair::open`].
    pub fn reopen(&mut self) {
        self.hang_up();
        let _ = std::fs::remove_file(&self.device);
        let _ = std::fs::remove_file(&self.peer);
        self.child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", self.device.display()))
            .arg(format!("pty,raw,echo=0,link={}", self.peer.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start socat: {e}"));
        let (device, peer) = (self.device.clone(), self.peer.clone());
        wait_for(Duration::from_secs(5), "socat's new pty links", || {
            (device.exists() && peer.exists())
                .then_some(())
                .ok_or_else(|| "not yet".to_string())
        });
    }

    /// The /dev/pts node behind [`PtyPair::device`].
    pub fn device_node(&self) -> PathBuf {
        std::fs::canonicalize(&self.device).unwrap_or_else(|_| self.device.clone())
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real sysfs path of a serial port whose `uevent` file the test may write
/// to produce a real kernel event (`ttyS0`, or the first tty with a device).
pub fn uevent_tty() -> Option<(String, PathBuf)> {
    let class = Path::new("/sys/class/tty");
    let mut names: Vec<String> = std::fs::read_dir(class)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| class.join(n).join("device").exists())
        .collect();
    names.sort();
    let name = if names.iter().any(|n| n == "ttyS0") {
        "ttyS0".to_string()
    } else {
        names.into_iter().next()?
    };
    let real = std::fs::canonicalize(class.join(&name)).ok()?;
    Some((name, real))
}
