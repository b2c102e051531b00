//! A real NTP server on a free loopback UDP port: Debian's `chronyd` in
//! server mode (`local stratum 3`, `-x`: it serves this machine's clock and
//! never changes it), for the appliance's own chronyd in a QEMU guest, which
//! reaches it as `10.0.2.2:<port>` through QEMU's user network.
//!
//! The binary: `$IGLOO_CHRONYD`, else `<target>/host-chrony/usr/sbin/chronyd`
//! (the Debian package unpacked, not installed, by `scripts/test`, so no
//! service starts on this machine), else `/usr/sbin/chronyd`.

use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use tempfile::TempDir;

use super::bins::target_dir;
use super::logfile::LogFile;

/// A running chronyd serving NTP on 127.0.0.1; killed on drop.
pub struct NtpServer {
    port: u16,
    child: Child,
    log: LogFile,
    _dir: TempDir,
}

/// The chronyd to run, if there is one.
pub fn chronyd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IGLOO_CHRONYD") {
        return Some(PathBuf::from(p));
    }
    [
        target_dir().join("host-chrony/usr/sbin/chronyd"),
        PathBuf::from("/usr/sbin/chronyd"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

impl NtpServer {
    /// Starts chronyd as an NTP server on a free UDP port of 127.0.0.1.
    ///
    /// # Panics
    /// If there is no chronyd (saying how to get one) or it cannot start.
    pub fn start() -> NtpServer {
        let exe = chronyd().unwrap_or_else(|| {
            panic!(
                "no chronyd: run scripts/test (it unpacks Debian's chrony), or set IGLOO_CHRONYD"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("igloo-ntp-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        // A free UDP port: bound, read, released (a race with another
        // process taking it in between is possible, and then chronyd fails
        // loudly below).
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("a free UDP port: {e}"));
        let conf = dir.path().join("chrony.conf");
        let text = format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 3\ncmdport 0\npidfile {}\n",
            dir.path().join("chronyd.pid").display()
        );
        std::fs::write(&conf, text).unwrap_or_else(|e| panic!("{}: {e}", conf.display()));
        let log = LogFile::new(dir.path().join("chronyd.log"));
        let out = std::fs::File::create(log.path())
            .unwrap_or_else(|e| panic!("{}: {e}", log.path().display()));
        let err = out.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let child = Command::new(&exe)
            .args(["-x", "-d", "-u", "root", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
        let mut server = NtpServer {
            port,
            child,
            log,
            _dir: dir,
        };
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("chronyd exited at once ({status}): {}", server.log.tail(20));
        }
        server
    }

    /// The UDP port it serves on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether it still runs, with its log's tail if not.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => Err(format!("chronyd exited ({st}): {}", self.log.tail(20))),
            Err(e) => Err(format!("chronyd: {e}")),
        }
    }
}

impl Drop for NtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
