//! Private network namespaces for tests that need a network the host never
//! sees: the network policy tests run the whole core (or any process) inside
//! one, with a "LAN" and a "WAN" address on a local interface, and install
//! nftables tables there instead of on the host.
//!
//! A [`NetNs`] is a named namespace (`ip netns add`, so it is visible at
//! `/run/netns/<name>`) holding `lo` (up) and a veth pair `d0`/`d0p` (both
//! ends inside, up) with the documentation addresses [`LAN_V4`], [`WAN_V4`],
//! [`LAN_V6`] and [`WAN_V6`] on `d0`. A veth pair stands in for the usual
//! `dummy` interface because kernels without `CONFIG_DUMMY` (like the one
//! these tests were written on) lack that link type; veth is there wherever
//! containers work. Only documentation prefixes (RFC 5737, RFC 3849) are used,
//! so nothing here could reach a real host.
//!
//! Three ways in: [`NetNs::spawn_thread`] (a thread whose sockets and child
//! processes live in the namespace), [`NetNs::pre_exec_enter`] (for
//! `Command::pre_exec`), and `nsenter --net=<path>` ([`NetNs::nft_list`]).
//! `ip netns exec` is avoided: it remounts /sys, which hides the cgroup
//! hierarchy (FIELD-NOTES "Sandboxing").
//!
//! Everything needs root (`CAP_SYS_ADMIN`, `CAP_NET_ADMIN`) and iproute2;
//! see [`crate::harness::privileged::require_root`].

use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use nix::libc;

/// The "LAN" IPv4 address on `d0` (in 192.0.2.0/24, TEST-NET-1, RFC 5737).
pub const LAN_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The "WAN" IPv4 address on `d0` (in 203.0.113.0/24, TEST-NET-3, RFC 5737).
pub const WAN_V4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
/// The "LAN" IPv6 address on `d0` (in 2001:db8::/32, RFC 3849).
pub const LAN_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1);
/// The "WAN" IPv6 address on `d0` (in 2001:db8::/32, RFC 3849).
pub const WAN_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 2, 0, 0, 0, 0, 1);
/// The prefixes to configure as the LAN (`[core.sandbox] lan_prefixes`): they
/// hold [`LAN_V4`] and [`LAN_V6`] but not [`WAN_V4`] or [`WAN_V6`].
pub const LAN_PREFIXES: [&str; 2] = ["192.0.2.0/24", "2001:db8:1::/48"];

/// The interface carrying the test addresses.
pub const INTERFACE: &str = "d0";

/// Moves the calling thread into the network namespace at `path` (e.g.
/// `/run/netns/NAME`, one made with `ip netns add`); see
/// [`NetNs::enter_current_thread`].
///
/// # Errors
/// Opening the path or `setns`.
pub fn enter_path(path: &Path) -> std::io::Result<()> {
    let fd = OwnedFd::from(File::open(path)?);
    setns_net(&fd)
}

/// A named network namespace, deleted on drop.
#[derive(Debug)]
pub struct NetNs {
    name: String,
    path: PathBuf,
}

impl NetNs {
    /// Creates `igloo-<tag>-<pid>-<n>` with `lo` up and [`INTERFACE`] up
    /// carrying `192.0.2.1/24`, `203.0.113.1/24`, `2001:db8:1::1/64` and
    /// `2001:db8:2::1/64` (IPv6 with `nodad`, so usable at once).
    ///
    /// # Errors
    /// A message naming the `ip` command that failed and its stderr (not
    /// root, iproute2 missing, …), or a `tag` that is not 1–20 characters of
    /// `a-z`, `0-9` and `-`. A half-made namespace is deleted again.
    pub fn create(tag: &str) -> Result<NetNs, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        if tag.is_empty()
            || tag.len() > 20
            || !tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(format!(
                "network namespace tag {tag:?} must be 1-20 characters of a-z, 0-9 and '-'"
            ));
        }
        let name = format!(
            "igloo-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name])?;
        let ns = NetNs {
            path: Path::new("/run/netns").join(&name),
            name,
        };
        // From here on, dropping `ns` on an error deletes the namespace.
        let n = ns.name.as_str();
        let steps: [&[&str]; 8] = [
            &["-n", n, "link", "set", "lo", "up"],
            &[
                "-n", n, "link", "add", INTERFACE, "type", "veth", "peer", "name", "d0p",
            ],
            &["-n", n, "link", "set", "d0p", "up"],
            &["-n", n, "addr", "add", "192.0.2.1/24", "dev", INTERFACE],
            &["-n", n, "addr", "add", "203.0.113.1/24", "dev", INTERFACE],
            &[
                "-n",
                n,
                "-6",
                "addr",
                "add",
                "2001:db8:1::1/64",
                "dev",
                INTERFACE,
                "nodad",
            ],
            &[
                "-n",
                n,
                "-6",
                "addr",
                "add",
                "2001:db8:2::1/64",
                "dev",
                INTERFACE,
                "nodad",
            ],
            &["-n", n, "link", "set", INTERFACE, "up"],
        ];
        for step in steps {
            ip(step)?;
        }
        Ok(ns)
    }

    /// The namespace's name (as `ip netns list` shows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/run/netns/<name>`: for `nsenter --net=`, `setns(2)` or `ip -n`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the **calling thread** (not the process, not other threads)
    /// into the namespace (`setns(fd, CLONE_NEWNET)`). Sockets it creates
    /// afterwards and processes it spawns live there. There is no way back
    /// except entering another namespace, so use a dedicated thread
    /// ([`NetNs::spawn_thread`]).
    ///
    /// # Errors
    /// Opening the path or `setns` (e.g. `EPERM` without `CAP_SYS_ADMIN`).
    pub fn enter_current_thread(&self) -> std::io::Result<()> {
        enter_path(&self.path)
    }

    /// Starts a thread that first enters the namespace, then runs `f`.
    ///
    /// # Panics
    /// Inside the thread (seen at `join`) if entering fails.
    pub fn spawn_thread<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let fd = File::open(&self.path)
            .map(OwnedFd::from)
            .map_err(|e| format!("cannot open {}: {e}", self.path.display()));
        let name = self.name.clone();
        std::thread::spawn(move || {
            let entered = fd.and_then(|fd| {
                setns_net(&fd).map_err(|e| format!("setns into network namespace {name}: {e}"))
            });
            if let Err(e) = entered {
                panic!("{e}");
            }
            f()
        })
    }

    /// A closure for `std::process::Command::pre_exec` that moves the child
    /// into the namespace. The namespace is opened here, before fork
    /// (close-on-exec, so the program does not inherit it); the closure only
    /// calls `setns(2)`, which is async-signal-safe. An error opening it is
    /// reported by the closure, i.e. by `spawn`.
    pub fn pre_exec_enter(&self) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
        let fd = File::open(&self.path)
            .map(OwnedFd::from)
            .map_err(|e| e.raw_os_error().unwrap_or(libc::ENOENT));
        move || match &fd {
            Ok(fd) => setns_net(fd),
            Err(code) => Err(std::io::Error::from_raw_os_error(*code)),
        }
    }

    /// `nft list ruleset` inside the namespace (run with
    /// `nsenter --net=<path>`): the ruleset as text, empty for none.
    ///
    /// # Panics
    /// If `nsenter` or `nft` cannot run or fail, with their stderr.
    pub fn nft_list(&self) -> String {
        let out = Command::new("nsenter")
            .arg(format!("--net={}", self.path.display()))
            .args(["nft", "list", "ruleset"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run nsenter (util-linux): {e}"));
        assert!(
            out.status.success(),
            "nsenter --net={} nft list ruleset failed ({}): {}",
            self.path.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for NetNs {
    /// `ip netns del`: the name goes away at once; the namespace itself lives
    /// on until the last process or socket in it is gone.
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("cannot delete network namespace {}: {e}", self.name);
        }
    }
}

/// `setns(fd, CLONE_NEWNET)` for the calling thread. Async-signal-safe.
fn setns_net(fd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: setns(2) on a namespace fd we own; it reads no memory of ours.
    if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Runs `ip args…`; `Err` names the command and carries its stderr.
fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip` (install iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
