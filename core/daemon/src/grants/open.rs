//! Opening granted serial ports in the core and handing the descriptor to a provider.
//!
//! The provider never opens `/dev` paths itself (ARCHITECTURE.md, invariants): the core
//! opens the node exclusively and passes the fd over the provider's Unix socket with
//! `SCM_RIGHTS` (unix(7)).

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::socket::{ControlMessage, MsgFlags, UnixAddr, sendmsg};
use nix::sys::stat::{Mode, SFlag, fstat};

/// Adds the path to an error's message, keeping its kind (e.g. `ResourceBusy` for `EBUSY`,
/// `PermissionDenied` for `EACCES`, `NotFound` for `ENOENT`).
fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn not_char_device(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{}: not a character device, refusing to grant it",
            path.display()
        ),
    )
}

/// Opens a serial device node for handing to a provider.
///
/// Flags: `O_RDWR | O_NOCTTY` (never become our controlling terminal) `| O_CLOEXEC`
/// (no leak into spawned providers) `| O_NONBLOCK` (`open` does not wait for carrier
/// detect; the provider may clear it with `fcntl`). The node is checked to be a character
/// device before opening (so a regular file or FIFO is never opened) and again with `fstat`
/// on the open descriptor (the path may have been swapped in between). Then `ioctl(TIOCEXCL)`
/// puts the tty in exclusive mode: further `open`s by processes without `CAP_SYS_ADMIN`
/// fail with `EBUSY` (ioctl_tty(2), "Exclusive mode"); it ends when the last descriptor is
/// closed.
///
/// Errors, all naming `path`: `InvalidInput` for anything that is not a character device;
/// the OS error of `open` (`ENOENT` → `NotFound`, `EACCES` → `PermissionDenied`, `EBUSY` →
/// `ResourceBusy` when another process holds it exclusively); `ENOTTY` (kind `Other`) from
/// `TIOCEXCL` when the character device is not a tty (e.g. `/dev/null`).
pub fn open_exclusive(path: &Path) -> io::Result<OwnedFd> {
    let meta = std::fs::metadata(path).map_err(|e| with_path(path, e))?;
    if !meta.file_type().is_char_device() {
        return Err(not_char_device(path));
    }
    let flags = OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let fd = open(path, flags, Mode::empty()).map_err(|e| with_path(path, e.into()))?;
    let st = fstat(&fd).map_err(|e| with_path(path, e.into()))?;
    if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) != SFlag::S_IFCHR {
        return Err(not_char_device(path));
    }
    // SAFETY: TIOCEXCL takes no argument; `fd` is an open descriptor we own.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCEXCL) } == -1 {
        return Err(with_path(path, io::Error::last_os_error()));
    }
    Ok(fd)
}

/// Sends one descriptor over a connected Unix stream or seqpacket socket.
///
/// Message: a 4-byte payload, `grant` little-endian (`u32::to_le_bytes`), carrying one
/// `SCM_RIGHTS` control message with `fd` (unix(7)); the receiver gets a new descriptor for
/// the same open file description. Sent with `MSG_NOSIGNAL`, so a closed peer yields
/// `BrokenPipe` instead of SIGPIPE. `EINTR` is retried. The socket's own blocking mode is
/// kept: on a non-blocking socket with a full send buffer the error has kind `WouldBlock`
/// (`EAGAIN`) and nothing was sent.
///
/// Errors: the OS error of `sendmsg` (`WouldBlock`; `BrokenPipe`, or `ConnectionReset` when
/// the peer closed with messages unread; `ETOOMANYREFS` when the sender has too many
/// descriptors in flight, …); `WriteZero` if the kernel accepted fewer
/// than 4 bytes (not expected for such a small message on Linux).
pub fn send_fd(sock: BorrowedFd<'_>, grant: u32, fd: BorrowedFd<'_>) -> io::Result<()> {
    let payload = grant.to_le_bytes();
    let iov = [IoSlice::new(&payload)];
    let fds = [fd.as_raw_fd()];
    let cmsgs = [ControlMessage::ScmRights(&fds)];
    loop {
        match sendmsg::<UnixAddr>(sock.as_raw_fd(), &iov, &cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(n) if n == payload.len() => return Ok(()),
            Ok(n) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("grant {grant}: only {n} of 4 bytes sent"),
                ));
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{
        AddressFamily, ControlMessageOwned, SockFlag, SockType, recvmsg, setsockopt, socketpair,
        sockopt,
    };
    use std::ffi::CStr;
    use std::fs::File;
    use std::io::{IoSliceMut, Read, Write};
    use std::os::fd::{AsFd, FromRawFd, RawFd};
    use std::path::PathBuf;

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    /// A pty pair: (master, slave path), via posix_openpt(3)/grantpt/unlockpt/ptsname_r.
    fn pty() -> (OwnedFd, PathBuf) {
        // SAFETY: plain libc calls on a descriptor we own; the name buffer is sized and
        // NUL-terminated by ptsname_r on success.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0, "posix_openpt: {}", io::Error::last_os_error());
            let master = OwnedFd::from_raw_fd(m);
            assert_eq!(libc::grantpt(m), 0, "grantpt");
            assert_eq!(libc::unlockpt(m), 0, "unlockpt");
            let mut buf = [0 as libc::c_char; 128];
            assert_eq!(
                libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()),
                0,
                "ptsname_r"
            );
            let name = CStr::from_ptr(buf.as_ptr())
                .to_str()
                .expect("UTF-8 pts name");
            (master, PathBuf::from(name))
        }
    }

    fn exclusive(fd: BorrowedFd<'_>) -> libc::c_int {
        let mut v: libc::c_int = -1;
        // SAFETY: TIOCGEXCL writes one int through the pointer.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGEXCL, &mut v) };
        assert_eq!(r, 0, "TIOCGEXCL: {}", io::Error::last_os_error());
        v
    }

    #[test]
    fn opens_a_tty_exclusively() {
        let (_master, slave) = pty();
        let fd = open_exclusive(&slave).expect("open pty slave");
        assert_eq!(exclusive(fd.as_fd()), 1);
        // CLOEXEC and NONBLOCK are set.
        // SAFETY: F_GETFD/F_GETFL on an open descriptor.
        let (fdflags, flflags) = unsafe {
            (
                libc::fcntl(fd.as_raw_fd(), libc::F_GETFD),
                libc::fcntl(fd.as_raw_fd(), libc::F_GETFL),
            )
        };
        assert_ne!(fdflags & libc::FD_CLOEXEC, 0);
        assert_ne!(flflags & libc::O_NONBLOCK, 0);
        assert_eq!(flflags & libc::O_ACCMODE, libc::O_RDWR);
        let second = open_exclusive(&slave);
        if is_root() {
            // TIOCEXCL does not bind CAP_SYS_ADMIN (ioctl_tty(2)).
            let second = second.expect("root opens an exclusive tty");
            assert_eq!(exclusive(second.as_fd()), 1);
        } else {
            let e = second.expect_err("exclusive");
            assert_eq!(e.kind(), io::ErrorKind::ResourceBusy, "{e}");
        }
    }

    #[test]
    fn refuses_non_char_devices() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ttyFAKE");
        std::fs::write(&file, "x").expect("write");
        for p in [&file, &dir.path().to_path_buf()] {
            let e = open_exclusive(p).expect_err("not a char device");
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert!(e.to_string().contains(&*p.to_string_lossy()), "{e}");
        }
        let e = open_exclusive(&dir.path().join("missing")).expect_err("missing");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("missing"), "{e}");
        // A character device that is not a tty.
        let e = open_exclusive(Path::new("/dev/null")).expect_err("not a tty");
        assert!(e.to_string().contains("/dev/null"), "{e}");
    }

    /// Receives one grant: (payload, received fd).
    fn recv_grant(sock: BorrowedFd<'_>) -> (u32, OwnedFd) {
        let mut buf = [0u8; 16];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = recvmsg::<UnixAddr>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .expect("recvmsg");
        assert_eq!(msg.bytes, 4);
        let mut fds = Vec::new();
        for c in msg.cmsgs().expect("cmsgs") {
            if let ControlMessageOwned::ScmRights(v) = c {
                fds.extend(v);
            }
        }
        assert_eq!(fds.len(), 1, "one fd");
        // SAFETY: SCM_RIGHTS installed this descriptor in our table; we take ownership.
        let fd = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        let mut le = [0u8; 4];
        le.copy_from_slice(&buf[..4]);
        (u32::from_le_bytes(le), fd)
    }

    #[test]
    fn sends_a_tty_over_a_socket() {
        for ty in [SockType::Stream, SockType::SeqPacket] {
            let (master, slave) = pty();
            let port = open_exclusive(&slave).expect("open");
            let (a, b) =
                socketpair(AddressFamily::Unix, ty, None, SockFlag::SOCK_CLOEXEC).expect("pair");
            send_fd(a.as_fd(), 0xdead_beef, port.as_fd()).expect("send");
            drop(port); // the receiver's copy keeps the tty open
            let (grant, got) = recv_grant(b.as_fd());
            assert_eq!(grant, 0xdead_beef);
            assert_eq!(exclusive(got.as_fd()), 1);
            // No newline: the pty's ONLCR would turn it into CRLF.
            File::from(got)
                .write_all(b"hello")
                .expect("write via granted fd");
            let mut master = File::from(master);
            let mut out = Vec::new();
            while out.len() < 5 {
                let mut chunk = [0u8; 16];
                let n = master.read(&mut chunk).expect("read master");
                assert!(n > 0, "eof");
                out.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(out, b"hello");
        }
    }

    #[test]
    fn full_socket_is_would_block_and_closed_peer_is_broken_pipe() {
        let payload = File::open("/dev/null").expect("/dev/null");
        let (a, b) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        )
        .expect("pair");
        setsockopt(&a, sockopt::SndBuf, &1).expect("tiny send buffer");
        let mut sent = 0;
        let err = loop {
            match send_fd(a.as_fd(), sent, payload.as_fd()) {
                Ok(()) => sent += 1,
                Err(e) => break e,
            }
            assert!(sent < 100_000, "never filled");
        };
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err} after {sent}");
        assert!(sent > 0);
        // A peer that closed with our messages unread: ECONNRESET.
        drop(b);
        let e = send_fd(a.as_fd(), 1, payload.as_fd()).expect_err("peer closed");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset, "{e}");
        // A peer that closed cleanly: EPIPE. MSG_NOSIGNAL makes it an error, not a SIGPIPE
        // that would kill the test process.
        for ty in [SockType::Stream, SockType::SeqPacket] {
            let (a, b) =
                socketpair(AddressFamily::Unix, ty, None, SockFlag::SOCK_CLOEXEC).expect("pair");
            drop(b);
            let e = send_fd(a.as_fd(), 1, payload.as_fd()).expect_err("peer closed");
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{ty:?}: {e}");
        }
    }
}
