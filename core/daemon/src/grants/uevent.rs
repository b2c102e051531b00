//! Kernel uevents (hot-plug) from a `NETLINK_KOBJECT_UEVENT` socket, without libudev.
//!
//! Wire format (kernel `lib/kobject_uevent.c`, `kobject_uevent_env()` and
//! `Documentation/ABI/testing/sysfs-uevent`): one datagram per event,
//!
//! ```text
//! ACTION@DEVPATH \0 ACTION=… \0 DEVPATH=… \0 SUBSYSTEM=… \0 [DEVNAME=… \0] SEQNUM=… \0 …
//! ```
//!
//! sent to multicast group 1 by the kernel (netlink port id 0). udev re-broadcasts its own
//! processed copy on group 2 with a binary header starting `libudev\0`; we listen to the
//! kernel only.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use nix::sys::socket::{
    AddressFamily, NetlinkAddr, SockFlag, SockProtocol, SockType, bind, recvfrom, setsockopt,
    socket, sockopt,
};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Largest datagram accepted. The kernel builds the environment in a 2 048-byte buffer
/// (`UEVENT_BUFFER_SIZE`, `include/linux/kobject.h`) plus the `ACTION@DEVPATH` header
/// (devpath ≤ `PATH_MAX`); anything larger is not a kernel uevent.
pub const MAX_MESSAGE: usize = 8192;

/// Most `KEY=VALUE` pairs accepted: the kernel's `UEVENT_NUM_ENVP` (64,
/// `include/linux/kobject.h`).
pub const MAX_VARS: usize = 64;

/// Netlink multicast group of kernel uevents (`lib/kobject_uevent.c` sends to group 1).
const KERNEL_GROUP: u32 = 1;

/// Receive buffer requested for the socket: 1 MiB, so a burst (a hub with several dongles
/// plugged at once) is not dropped while the core is busy.
const RCVBUF: usize = 1 << 20;

/// The uevent action (`kobject_actions[]` in `lib/kobject_uevent.c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `add`: a device appeared (or a synthetic `add` was written to its `uevent` file).
    Add,
    /// `remove`: a device went away.
    Remove,
    /// `change`: a device's state changed.
    Change,
    /// `bind`: a driver was bound to the device.
    Bind,
    /// `unbind`: the driver was unbound.
    Unbind,
    /// Any other action text, e.g. `move`, `online`, `offline`.
    Other(String),
}

impl Action {
    fn from_str(s: &str) -> Action {
        match s {
            "add" => Action::Add,
            "remove" => Action::Remove,
            "change" => Action::Change,
            "bind" => Action::Bind,
            "unbind" => Action::Unbind,
            other => Action::Other(other.to_owned()),
        }
    }
}

/// One parsed kernel uevent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uevent {
    /// From the `ACTION@` header (checked against `ACTION=` when present).
    pub action: Action,
    /// From the `@DEVPATH` header, relative to the sysfs root and starting with `/`, e.g.
    /// `/devices/pnp0/00:00/…/tty/ttyS0` (checked against `DEVPATH=` when present).
    pub devpath: String,
    /// `SUBSYSTEM=`, e.g. `tty`, `usb`.
    pub subsystem: Option<String>,
    /// `DEVNAME=`, the device node relative to `/dev`, e.g. `ttyUSB0` (unchecked here; use
    /// [`super::sysfs::read_port`], which validates it).
    pub devname: Option<String>,
    /// `SEQNUM=` (decimal); `None` when absent or not a number.
    pub seqnum: Option<u64>,
    /// Every `KEY=VALUE` pair in arrival order (including the ones above), at most
    /// [`MAX_VARS`].
    pub vars: Vec<(String, String)>,
}

impl Uevent {
    /// The value of the first variable named `key`, if any.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses one kernel uevent datagram (format in the module docs).
///
/// Returns `None` — never panics — for: libudev-format messages (starting `libudev\0`),
/// more than [`MAX_MESSAGE`] bytes, invalid UTF-8, a header without `@` or with an empty
/// action or a devpath not starting with `/`, a field without `=` or with an empty key, more
/// than [`MAX_VARS`] fields, and `ACTION=`/`DEVPATH=` values that contradict the header.
/// Empty fields (the trailing NUL) are ignored.
pub fn parse(buf: &[u8]) -> Option<Uevent> {
    if buf.len() > MAX_MESSAGE || buf.starts_with(b"libudev\0") {
        return None;
    }
    let text = std::str::from_utf8(buf).ok()?;
    let mut fields = text.split('\0');
    let (action, devpath) = fields.next()?.split_once('@')?;
    if action.is_empty() || !devpath.starts_with('/') {
        return None;
    }
    let mut vars = Vec::new();
    for field in fields.filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=')?;
        if k.is_empty() || vars.len() == MAX_VARS {
            return None;
        }
        vars.push((k.to_owned(), v.to_owned()));
    }
    let ev = Uevent {
        action: Action::from_str(action),
        devpath: devpath.to_owned(),
        subsystem: None,
        devname: None,
        seqnum: None,
        vars,
    };
    if ev.var("ACTION").is_some_and(|a| a != action)
        || ev.var("DEVPATH").is_some_and(|d| d != devpath)
    {
        return None;
    }
    Some(Uevent {
        subsystem: ev.var("SUBSYSTEM").map(str::to_owned),
        devname: ev.var("DEVNAME").map(str::to_owned),
        seqnum: ev.var("SEQNUM").and_then(|s| s.parse().ok()),
        ..ev
    })
}

/// A non-blocking `NETLINK_KOBJECT_UEVENT` socket bound to the kernel's multicast group 1,
/// registered with the tokio reactor.
///
/// Only datagrams whose sender port id is 0 (the kernel) are returned; netlink port ids
/// cannot be forged by user space (`net/netlink/af_netlink.c` stamps the sender's own port
/// id). Receiving group 1 needs no privilege (`NL_CFG_F_NONROOT_RECV`).
pub struct UeventSocket {
    fd: AsyncFd<OwnedFd>,
    buf: Vec<u8>,
}

impl UeventSocket {
    /// Opens the socket: `socket(AF_NETLINK, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC,
    /// NETLINK_KOBJECT_UEVENT)`, a 1 MiB receive buffer (`SO_RCVBUFFORCE` when privileged,
    /// else `SO_RCVBUF`, capped by `net.core.rmem_max`; failure is only logged), bound to
    /// group 1 with a kernel-assigned port id.
    ///
    /// Errors: the OS error of `socket`/`bind` (e.g. `EPROTONOSUPPORT` without netlink, or
    /// in a sandbox that forbids it), or `Other` when called outside a tokio runtime (which
    /// [`AsyncFd::register_with_interest`] needs; it would
    /// otherwise panic).
    pub fn open() -> io::Result<UeventSocket> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(io::Error::other(
                "UeventSocket::open needs a tokio runtime with I/O enabled",
            ));
        }
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Datagram,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
            SockProtocol::NetlinkKObjectUEvent,
        )?;
        if setsockopt(&fd, sockopt::RcvBufForce, &RCVBUF).is_err() {
            // Unprivileged: the kernel silently caps SO_RCVBUF at net.core.rmem_max.
            if let Err(e) = setsockopt(&fd, sockopt::RcvBuf, &RCVBUF) {
                tracing::debug!(error = %e, "uevent socket: cannot raise the receive buffer");
            }
        }
        bind(fd.as_raw_fd(), &NetlinkAddr::new(0, KERNEL_GROUP))?;
        // SAFETY: `fd` is an open socket we own; the AsyncFd takes it over and nothing
        // replaces or closes it before the AsyncFd is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
        Ok(UeventSocket {
            fd,
            buf: vec![0; MAX_MESSAGE + 1],
        })
    }

    /// Waits for the next kernel uevent, skipping datagrams not sent by the kernel and
    /// unparsable ones ([`parse`]; oversized datagrams are truncated by `recv` to
    /// `MAX_MESSAGE + 1` bytes and thus refused).
    ///
    /// Errors: OS errors of `recvfrom`. In particular `ENOBUFS` (kind `Other`,
    /// `raw_os_error() == Some(libc::ENOBUFS)`) means the kernel dropped events because the
    /// receive queue overflowed: the socket stays usable, but the caller should rescan sysfs
    /// ([`super::sysfs::scan`]). Cancel-safe: dropping the future loses no event.
    pub async fn next(&mut self) -> io::Result<Uevent> {
        loop {
            let mut guard = self.fd.readable().await?;
            let buf = &mut self.buf;
            let res = guard.try_io(|fd| {
                recvfrom::<NetlinkAddr>(fd.as_fd().as_raw_fd(), buf).map_err(io::Error::from)
            });
            let (n, sender) = match res {
                Ok(Ok(r)) => r,
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            };
            match sender {
                Some(addr) if addr.pid() == 0 => {}
                other => {
                    tracing::debug!(sender = ?other.map(|a| a.pid()), "uevent not from the kernel dropped");
                    continue;
                }
            }
            let msg = self.buf.get(..n).unwrap_or(&[]);
            match parse(msg) {
                Some(ev) => return Ok(ev),
                None => tracing::debug!(bytes = n, "unparsable uevent dropped"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    const TTY_ADD: &[u8] = b"add@/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0ACTION=add\0\
DEVPATH=/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0\0SUBSYSTEM=tty\0SYNTH_UUID=0\0\
MAJOR=4\0MINOR=64\0DEVNAME=ttyS0\0SEQNUM=4242\0";

    #[test]
    fn parses_kernel_message() {
        let ev = parse(TTY_ADD).expect("parses");
        assert_eq!(ev.action, Action::Add);
        assert_eq!(
            ev.devpath,
            "/devices/pnp0/00:00/00:00:0/00:00:0.0/tty/ttyS0"
        );
        assert_eq!(ev.subsystem.as_deref(), Some("tty"));
        assert_eq!(ev.devname.as_deref(), Some("ttyS0"));
        assert_eq!(ev.seqnum, Some(4242));
        assert_eq!(ev.vars.len(), 8);
        assert_eq!(ev.var("SYNTH_UUID"), Some("0"));
        assert_eq!(ev.vars[0], ("ACTION".into(), "add".into()));
    }

    #[test]
    fn actions() {
        for (a, want) in [
            ("add", Action::Add),
            ("remove", Action::Remove),
            ("change", Action::Change),
            ("bind", Action::Bind),
            ("unbind", Action::Unbind),
            ("move", Action::Other("move".into())),
        ] {
            let msg = format!("{a}@/devices/x\0ACTION={a}\0SUBSYSTEM=usb\0");
            assert_eq!(parse(msg.as_bytes()).expect(a).action, want);
        }
    }

    #[test]
    fn header_only_and_missing_fields() {
        let ev = parse(b"remove@/devices/x").expect("header only");
        assert_eq!(ev.action, Action::Remove);
        assert!(ev.vars.is_empty());
        assert_eq!((ev.subsystem, ev.devname, ev.seqnum), (None, None, None));
        let ev = parse(b"add@/devices/x\0SEQNUM=abc\0").expect("bad seqnum");
        assert_eq!(ev.seqnum, None);
        // A value may contain '=' (only the first splits).
        let ev = parse(b"add@/devices/x\0MODALIAS=a=b\0").expect("eq in value");
        assert_eq!(ev.var("MODALIAS"), Some("a=b"));
    }

    #[test]
    fn rejects_malformed() {
        let mut big = b"add@/devices/x\0".to_vec();
        big.resize(MAX_MESSAGE + 1, b'A');
        let mut many = b"add@/devices/x\0".to_vec();
        for i in 0..=MAX_VARS {
            many.extend_from_slice(format!("K{i}=v\0").as_bytes());
        }
        let cases: Vec<&[u8]> = vec![
            b"",
            b"\0",
            b"libudev\0\xfe\xed\xca\xfeadd@/devices/x\0",
            b"add/devices/x\0ACTION=add\0",
            b"@/devices/x\0",
            b"add@devices/x\0",
            b"add@/devices/x\0NOEQUALS\0",
            b"add@/devices/x\0=value\0",
            b"add@/devices/x\0ACTION=remove\0",
            b"add@/devices/x\0DEVPATH=/devices/y\0",
            b"add@/devices/\xff\0",
            b"add@/devices/x\0NAME=\xc3\0",
            &big,
            &many,
        ];
        for c in cases {
            assert_eq!(parse(c), None, "{:?}", String::from_utf8_lossy(c));
        }
        // Exactly MAX_VARS is fine.
        many.truncate(many.len() - format!("K{MAX_VARS}=v\0").len());
        assert_eq!(parse(&many).expect("64 vars").vars.len(), MAX_VARS);
    }

    /// xorshift64*: deterministic pseudo-random bytes without a dependency.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn fuzzish_never_panics() {
        // Every truncation of a real message: parses or refuses, never panics; a prefix
        // that parses has a devpath that is a prefix of the real one.
        for n in 0..=TTY_ADD.len() {
            if let Some(ev) = parse(&TTY_ADD[..n]) {
                assert!(ev.vars.len() <= 8);
            }
        }
        // Every single-byte mutation at every position.
        let mut m = TTY_ADD.to_vec();
        for i in 0..m.len() {
            let orig = m[i];
            for b in [0u8, b'@', b'=', 0x80, 0xff, b'/'] {
                m[i] = b;
                let _ = parse(&m);
            }
            m[i] = orig;
        }
        // Random buffers, random alphabets (biased towards structure bytes), random lengths.
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let alphabet = b"add@/=\0ACTIONDEVPATHSUBSYSTEM\xff\xc3";
        for _ in 0..20_000 {
            let len = (rng(&mut s) % 200) as usize;
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng(&mut s);
                    if r & 3 == 0 {
                        (r >> 8) as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            let _ = parse(&buf);
            let mut with_header = b"add@/".to_vec();
            with_header.extend_from_slice(&buf);
            if let Some(ev) = parse(&with_header) {
                assert!(ev.devpath.starts_with('/'));
                assert!(ev.vars.len() <= MAX_VARS);
            }
        }
    }

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    /// Root is required: fails in CI (`CI` set) or with `IGLOO_REQUIRE_ROOT=1`, else skips.
    fn require_root(what: &str) -> bool {
        if is_root() {
            return true;
        }
        let required = std::env::var_os("CI").is_some()
            || std::env::var("IGLOO_REQUIRE_ROOT").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{what} needs root (CI or IGLOO_REQUIRE_ROOT=1 is set, so this is a failure)"
        );
        println!("skipped: needs root ({what})");
        false
    }

    /// A `/sys/class/tty/<name>` with a `device` link: ttyS0 if present, else the first.
    fn real_tty() -> Option<(String, PathBuf)> {
        let class = Path::new("/sys/class/tty");
        let has_device = |n: &str| class.join(n).join("device").exists();
        if has_device("ttyS0") {
            return Some(("ttyS0".into(), class.join("ttyS0")));
        }
        let mut names: Vec<String> = std::fs::read_dir(class)
            .ok()?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| has_device(n))
            .collect();
        names.sort();
        let n = names.into_iter().next()?;
        let p = class.join(&n);
        Some((n, p))
    }

    #[tokio::test]
    async fn receives_synthetic_kernel_uevent() {
        if !require_root("writing /sys/class/tty/*/uevent") {
            return;
        }
        let (name, entry) = real_tty().expect("no /sys/class/tty entry with a device link");
        let target = std::fs::canonicalize(&entry).expect("resolve class link");
        let devpath = target
            .strip_prefix("/sys")
            .expect("under /sys")
            .to_str()
            .expect("UTF-8 devpath");
        let devpath = format!("/{devpath}");
        let mut sock = UeventSocket::open().expect("open uevent socket");
        std::fs::write(entry.join("uevent"), "add").expect("write add to uevent");
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let ev = sock.next().await.expect("receive");
                if ev.devpath == devpath && ev.action == Action::Add {
                    return ev;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no add uevent for {devpath} within 5 s"));
        assert_eq!(got.subsystem.as_deref(), Some("tty"));
        assert_eq!(got.devname.as_deref(), Some(name.as_str()));
        assert!(got.seqnum.is_some());
    }

    #[test]
    fn open_outside_runtime_is_an_error() {
        let e = UeventSocket::open().err().expect("no runtime");
        assert_eq!(e.kind(), io::ErrorKind::Other);
    }
}
