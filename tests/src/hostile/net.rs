//! Network checks: Unix sockets (abstract and pathname), TCP and UDP to given
//! addresses, the Landlock bypasses (TCP Fast Open, MPTCP), and socket
//! families a provider should not get (netlink, packet, vsock).

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;

use super::sys::{check, deadline, owned, poll_until, socket_error};
use super::{Outcome, Step, describe_errno};

/// How long a TCP connect may take before it is reported as `ETIMEDOUT`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes sent by the UDP and Fast Open checks.
const PAYLOAD: &[u8] = b"igloo-hostile";

/// Parses `"1.2.3.4:80"` or `"[2001:db8::1]:80"`.
fn parse(addr: &str) -> Step<SocketAddr> {
    addr.parse().map_err(|_| {
        Outcome::bad_args(format!(
            "{addr:?} is not an address like 1.2.3.4:80 or [::1]:80"
        ))
    })
}

/// `addr` as a C socket address.
fn sockaddr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is valid.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than and aligned for sockaddr_in6.
            unsafe { std::ptr::write((&mut ss as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn family(addr: &SocketAddr) -> (libc::c_int, &'static str) {
    match addr {
        SocketAddr::V4(_) => (libc::AF_INET, "AF_INET"),
        SocketAddr::V6(_) => (libc::AF_INET6, "AF_INET6"),
    }
}

/// Creates a non-blocking, close-on-exec socket.
fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int, step: &str) -> Step<OwnedFd> {
    // SAFETY: a plain syscall with integer arguments.
    let fd = unsafe { libc::socket(domain, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, proto) };
    owned(fd.into(), step)
}

/// Waits for a non-blocking connect on `fd` to finish.
fn finish_connect(fd: &OwnedFd, step: &str) -> Step<()> {
    let revents = poll_until(fd.as_fd(), libc::POLLOUT, deadline(CONNECT_TIMEOUT))?;
    if revents == 0 {
        return Err(Outcome::failed(
            &format!("{step} (no answer within {CONNECT_TIMEOUT:?})"),
            libc::ETIMEDOUT,
        ));
    }
    match socket_error(fd.as_fd())? {
        0 => Ok(()),
        e => Err(Outcome::failed(step, e)),
    }
}

/// TCP connect to `addr` (2 s timeout).
pub fn tcp_connect(addr: &str) -> Outcome {
    stream_connect(addr, 0, "IPPROTO_TCP")
}

/// `socket(AF_INET[6], SOCK_STREAM, IPPROTO_MPTCP)` and connect to `addr`
/// (Landlock's TCP port rules do not cover MPTCP sockets).
pub fn mptcp_connect(addr: &str) -> Outcome {
    stream_connect(addr, libc::IPPROTO_MPTCP, "IPPROTO_MPTCP")
}

fn stream_connect(addr: &str, proto: libc::c_int, proto_name: &str) -> Outcome {
    let run = || -> Step<String> {
        let sa = parse(addr)?;
        let (domain, domain_name) = family(&sa);
        let fd = socket(
            domain,
            libc::SOCK_STREAM,
            proto,
            &format!("socket({domain_name}, SOCK_STREAM, {proto_name})"),
        )?;
        let (ss, len) = sockaddr(&sa);
        let step = format!("connect {sa}");
        // SAFETY: ss holds a valid socket address of length len.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        if r < 0 {
            let e = Errno::last_raw();
            if e != libc::EINPROGRESS {
                return Err(Outcome::failed(&step, e));
            }
            finish_connect(&fd, &step)?;
        }
        Ok(format!("connected to {sa} ({proto_name})"))
    };
    run().into()
}

/// UDP `sendto` of a few bytes to `addr`; ok when the kernel took them.
pub fn udp_send(addr: &str) -> Outcome {
    let run = || -> Step<String> {
        let sa = parse(addr)?;
        let (domain, domain_name) = family(&sa);
        let fd = socket(
            domain,
            libc::SOCK_DGRAM,
            0,
            &format!("socket({domain_name}, SOCK_DGRAM)"),
        )?;
        let (ss, len) = sockaddr(&sa);
        // SAFETY: valid buffer and socket address.
        let n = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                PAYLOAD.as_ptr().cast(),
                PAYLOAD.len(),
                0,
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        check(n as libc::c_long, &format!("sendto {sa}"))?;
        Ok(format!("sent {n} bytes to {sa}"))
    };
    run().into()
}

/// TCP Fast Open: `sendto(MSG_FASTOPEN)` on a fresh TCP socket to `addr`,
/// which connects without `connect(2)` (bypassing Landlock's connect rule).
///
/// Ok when `sendto` returned a byte count (data went in the SYN) or
/// `EINPROGRESS` (the SYN was sent; then `errno` is 115 and `error`
/// `"EINPROGRESS"` although `ok` is true). The detail also tells how the
/// connection attempt ended within 2 s.
pub fn tfo_sendto(addr: &str) -> Outcome {
    let run = || -> Step<Outcome> {
        let sa = parse(addr)?;
        let (domain, domain_name) = family(&sa);
        let fd = socket(
            domain,
            libc::SOCK_STREAM,
            0,
            &format!("socket({domain_name}, SOCK_STREAM)"),
        )?;
        let (ss, len) = sockaddr(&sa);
        let step = format!("sendto {sa} with MSG_FASTOPEN");
        // SAFETY: valid buffer and socket address.
        let n = unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                PAYLOAD.as_ptr().cast(),
                PAYLOAD.len(),
                libc::MSG_FASTOPEN,
                (&ss as *const libc::sockaddr_storage).cast(),
                len,
            )
        };
        let outcome = if n >= 0 {
            Outcome::success(format!("{step}: sent {n} bytes (SYN with data)"))
        } else {
            let e = Errno::last_raw();
            if e != libc::EINPROGRESS {
                return Err(Outcome::failed(&step, e));
            }
            Outcome {
                ok: true,
                errno: Some(e),
                error: Some(super::errno_name(e)),
                detail: format!("{step}: {} (SYN sent)", describe_errno(e)),
            }
        };
        let then = match finish_connect(&fd, "then connect") {
            Ok(()) => "then: connected".to_string(),
            Err(o) => format!("then: {}", o.detail),
        };
        Ok(outcome.and(&then))
    };
    run().unwrap_or_else(|o| o)
}

/// `setsockopt(TCP_FASTOPEN_CONNECT, 1)` on a TCP socket.
pub fn tfo_connect_opt() -> Outcome {
    let run = || -> Step<String> {
        let fd = socket(
            libc::AF_INET,
            libc::SOCK_STREAM,
            0,
            "socket(AF_INET, SOCK_STREAM)",
        )?;
        let one: libc::c_int = 1;
        // SAFETY: a valid int option value.
        let r = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_FASTOPEN_CONNECT,
                (&one as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        check(r.into(), "setsockopt(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)")?;
        Ok("TCP_FASTOPEN_CONNECT set".to_string())
    };
    run().into()
}

/// Connects an `AF_UNIX` stream socket to the abstract name `name` (given
/// without the leading NUL or `@`).
pub fn connect_abstract(name: &str) -> Outcome {
    unix_connect(name.as_bytes(), true, &format!("connect @{name}"))
}

/// Connects an `AF_UNIX` stream socket to the pathname socket `path`.
pub fn connect_unix_path(path: &str) -> Outcome {
    unix_connect(path.as_bytes(), false, &format!("connect {path}"))
}

fn unix_connect(name: &[u8], is_abstract: bool, step: &str) -> Outcome {
    let run = || -> Step<String> {
        // SAFETY: sockaddr_un is plain old data; all zeroes is valid.
        let mut sun: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        sun.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // Abstract: a NUL, then the name (no terminator). Pathname: the path, then a NUL.
        let start = usize::from(is_abstract);
        let used = start + name.len() + usize::from(!is_abstract);
        if used > sun.sun_path.len() || name.contains(&0) {
            return Err(Outcome::bad_args(format!(
                "{step}: the name does not fit a sockaddr_un or contains NUL"
            )));
        }
        for (slot, b) in sun.sun_path[start..].iter_mut().zip(name) {
            *slot = *b as libc::c_char;
        }
        let len = std::mem::offset_of!(libc::sockaddr_un, sun_path) + start + name.len();
        let len = len + usize::from(!is_abstract);
        let fd = socket(
            libc::AF_UNIX,
            libc::SOCK_STREAM,
            0,
            "socket(AF_UNIX, SOCK_STREAM)",
        )?;
        // SAFETY: sun holds a valid Unix socket address of length len.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&sun as *const libc::sockaddr_un).cast(),
                len as libc::socklen_t,
            )
        };
        check(r.into(), step)?;
        Ok(format!("{step}: connected"))
    };
    run().into()
}

/// Socket families a provider should not be able to open.
#[derive(Debug, Clone, Copy)]
pub enum Family {
    /// `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)`.
    Netlink,
    /// `socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))`.
    Packet,
    /// `socket(AF_VSOCK, SOCK_STREAM, 0)`.
    Vsock,
}

/// Opens (and closes) a socket of `family`.
pub fn raw_socket(family: Family) -> Outcome {
    let (domain, ty, proto, what) = match family {
        Family::Netlink => (
            libc::AF_NETLINK,
            libc::SOCK_RAW,
            libc::NETLINK_ROUTE,
            "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
        ),
        Family::Packet => (
            libc::AF_PACKET,
            libc::SOCK_RAW,
            libc::c_int::from((libc::ETH_P_ALL as u16).to_be()),
            "socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))",
        ),
        Family::Vsock => (
            libc::AF_VSOCK,
            libc::SOCK_STREAM,
            0,
            "socket(AF_VSOCK, SOCK_STREAM, 0)",
        ),
    };
    match socket(domain, ty, proto, what) {
        Ok(_fd) => Outcome::success(format!("{what} worked (closed)")),
        Err(o) => o,
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::UnixListener;

    use super::*;

    fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn baseline_tcp_udp_tfo_mptcp_on_loopback() {
        let l4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let a4 = l4.local_addr().unwrap().to_string();
        assert!(tcp_connect(&a4).ok);
        assert!(udp_send(&a4).ok);
        let o = tfo_sendto(&a4);
        assert!(o.ok, "{o:?}");
        assert!(tfo_connect_opt().ok);
        let o = mptcp_connect(&a4);
        assert!(
            o.ok || o.error.as_deref() == Some("EPROTONOSUPPORT"),
            "{o:?}"
        );
        if let Ok(l6) = TcpListener::bind("[::1]:0") {
            let a6 = l6.local_addr().unwrap().to_string();
            assert!(tcp_connect(&a6).ok);
            assert!(udp_send(&a6).ok);
        }
    }

    #[test]
    fn refused_and_bad_addresses() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let o = tcp_connect(&format!("127.0.0.1:{port}"));
        assert_eq!(o.error.as_deref(), Some("ECONNREFUSED"), "{o:?}");
        assert_eq!(o.errno, Some(libc::ECONNREFUSED));
        let o = tcp_connect("not an address");
        assert_eq!(o.error.as_deref(), Some("bad args"));
    }

    #[test]
    fn baseline_unix_sockets() {
        let name = format!("igloo-hostile-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let _l = UnixListener::bind_addr(&addr).unwrap();
        let o = connect_abstract(&name);
        assert!(o.ok, "{o:?}");
        let o = connect_abstract(&format!("{name}-missing"));
        assert_eq!(o.error.as_deref(), Some("ECONNREFUSED"), "{o:?}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let _l = UnixListener::bind(&path).unwrap();
        let o = connect_unix_path(path.to_str().unwrap());
        assert!(o.ok, "{o:?}");
        let o = connect_unix_path(dir.path().join("missing").to_str().unwrap());
        assert_eq!(o.error.as_deref(), Some("ENOENT"), "{o:?}");
    }

    #[test]
    fn baseline_socket_families() {
        assert!(raw_socket(Family::Netlink).ok);
        if is_root() {
            let o = raw_socket(Family::Packet);
            assert!(o.ok, "{o:?}");
        }
        // vsock needs the vsock module: report either way, never "bad args".
        let o = raw_socket(Family::Vsock);
        assert!(o.ok || o.errno.is_some(), "{o:?}");
    }
}
