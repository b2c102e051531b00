//! Devices the core grants to the provider (DESIGN §7): the core opens a
//! device node (a serial dongle, a UART) and passes the open file descriptor
//! over the grant socket (fd 4, `IGLOO_GRANT_FD`) with `SCM_RIGHTS`, then
//! announces it with a `Grant` message on the main connection. Providers never
//! open `/dev` paths themselves; inside the sandbox they could not.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use igloo_protocol::message::Attributes;
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
use nix::sys::stat::SFlag;
use tokio::io::Interest;
use tokio::net::UnixDatagram;

/// Most fds stashed for grants whose `Grant` message has not arrived yet.
const MAX_STASHED: usize = 64;

/// A device the core opened for this provider: a serial port, a dongle.
///
/// The fd is shared between clones; take a private copy with
/// [`GrantedDevice::try_clone_fd`] to hand to a serial library.
#[derive(Debug, Clone)]
pub struct GrantedDevice {
    /// The core's number for this grant; [`crate::Event::Revoked`] names it.
    pub grant: u32,
    /// Kernel device name, e.g. `ttyUSB0` (for logs; there is no path to open).
    pub name: String,
    /// What the core knows about the device: `vid`, `pid` (4 hex digits),
    /// `serial`, `manufacturer`, `product`, `known` (e.g. `conbee2`), `kind`
    /// (e.g. `zigbee`), `rule`.
    pub attributes: Attributes,
    fd: Arc<OwnedFd>,
}

impl PartialEq for GrantedDevice {
    fn eq(&self, other: &Self) -> bool {
        self.grant == other.grant
            && self.name == other.name
            && self.attributes == other.attributes
            && self.fd.as_raw_fd() == other.fd.as_raw_fd()
    }
}

impl GrantedDevice {
    /// The open device (read/write, non-blocking, close-on-exec, opened
    /// exclusively by the core with `TIOCEXCL` for ttys).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// A new descriptor for the same open device (`dup`, close-on-exec).
    ///
    /// # Errors
    /// `EMFILE` and the like from `fcntl(F_DUPFD_CLOEXEC)`.
    pub fn try_clone_fd(&self) -> std::io::Result<OwnedFd> {
        self.fd.try_clone()
    }

    /// The value of attribute `key`, if the core sent it.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The provider's end of the grant socket (a `SOCK_SEQPACKET` socketpair).
pub(crate) struct GrantSocket {
    /// A `SOCK_SEQPACKET` socket; tokio's datagram type only serves as its
    /// reactor registration (every read is our own `recvmsg`).
    sock: UnixDatagram,
    /// Fds that arrived before their `Grant` message was handled.
    stash: HashMap<u32, OwnedFd>,
}

impl GrantSocket {
    /// Adopts the inherited grant socket.
    ///
    /// # Errors
    /// When the fd cannot be made non-blocking or registered with the runtime.
    pub(crate) fn new(fd: OwnedFd) -> std::io::Result<GrantSocket> {
        let std = std::os::unix::net::UnixDatagram::from(fd);
        std.set_nonblocking(true)?;
        Ok(GrantSocket {
            sock: UnixDatagram::from_std(std)?,
            stash: HashMap::new(),
        })
    }

    /// Takes `IGLOO_GRANT_FD` from the environment, if set and valid.
    pub(crate) fn from_env() -> Option<GrantSocket> {
        let raw: RawFd = std::env::var("IGLOO_GRANT_FD").ok()?.trim().parse().ok()?;
        if raw < 3 {
            return None;
        }
        // Only adopt a descriptor that is open and a socket.
        // SAFETY: borrowed only for this fstat; a closed number gives EBADF.
        let st = nix::sys::stat::fstat(unsafe { BorrowedFd::borrow_raw(raw) }).ok()?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        if kind != SFlag::S_IFSOCK {
            return None;
        }
        // SAFETY: the core hands this fd to us and nothing else in the process
        // owns it; the variable is removed so it is adopted once.
        let owned = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: removing our own variable; see above.
        unsafe { std::env::remove_var("IGLOO_GRANT_FD") };
        match GrantSocket::new(owned) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("grant socket IGLOO_GRANT_FD={raw} unusable: {e}");
                None
            }
        }
    }

    /// Waits for the fd of `grant` (it is sent before the `Grant` message, so
    /// this normally returns at once). Fds of other grants are kept for later.
    ///
    /// # Errors
    /// The socket closed, or a message without exactly one fd and a 4-byte id.
    pub(crate) async fn receive(&mut self, grant: u32) -> std::io::Result<OwnedFd> {
        loop {
            if let Some(fd) = self.stash.remove(&grant) {
                return Ok(fd);
            }
            let (id, fd) = self.recv_one().await?;
            if id == grant {
                return Ok(fd);
            }
            if self.stash.len() >= MAX_STASHED {
                // Keep the newest; an fd whose Grant never comes is closed.
                self.stash.clear();
            }
            self.stash.insert(id, fd);
        }
    }

    async fn recv_one(&mut self) -> std::io::Result<(u32, OwnedFd)> {
        let sock = &self.sock;
        sock.async_io(Interest::READABLE, || recv_fd(sock.as_fd()))
            .await
    }
}

/// One `recvmsg`: a 4-byte little-endian grant number with one fd attached.
fn recv_fd(sock: BorrowedFd<'_>) -> std::io::Result<(u32, OwnedFd)> {
    let mut payload = [0u8; 4];
    let mut iov = [IoSliceMut::new(&mut payload)];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC | MsgFlags::MSG_DONTWAIT,
    )?;
    let bytes = msg.bytes;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = cmsg {
            for r in raw {
                // SAFETY: the kernel just installed these descriptors for us.
                fds.push(unsafe { OwnedFd::from_raw_fd(r) });
            }
        }
    }
    if bytes == 0 && fds.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "grant socket closed by the core",
        ));
    }
    if bytes != 4 || fds.len() != 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "grant message with {bytes} bytes and {} fds (expected 4 and 1)",
                fds.len()
            ),
        ));
    }
    let fd = fds.pop().ok_or_else(|| std::io::Error::other("no fd"))?;
    Ok((u32::from_le_bytes(payload), fd))
}

/// Builds a [`GrantedDevice`] (crate-internal).
pub(crate) fn granted(
    grant: u32,
    name: String,
    attributes: Attributes,
    fd: OwnedFd,
) -> GrantedDevice {
    GrantedDevice {
        grant,
        name,
        attributes,
        fd: Arc::new(fd),
    }
}
