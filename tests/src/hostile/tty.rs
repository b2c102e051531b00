//! Serial-device checks: opening a tty by path (denied in the sandbox) and
//! using a device the core granted over `SCM_RIGHTS` (allowed).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::fs::c_path;
use super::sys::{check, owned, poll_until};
use super::{Outcome, Step, log};

/// How long `granted_tty` waits for an answer after writing.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);
/// Most bytes `granted_tty` reads.
pub const READ_MAX: usize = 256;
/// After the first bytes arrived, how long to wait for more.
const READ_QUIET: Duration = Duration::from_millis(200);

/// Opens `path` (`O_RDWR|O_NOCTTY`, plus `O_NONBLOCK` so a serial line
/// without carrier cannot block) and asks for its termios (`TCGETS`).
pub fn open_tty(path: &Path) -> Outcome {
    let run = || -> Step<String> {
        let c = c_path(path)?;
        // SAFETY: c is a valid C string.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        let fd = owned(fd.into(), &format!("open {}", path.display()))?;
        let t = get_termios(fd.as_fd(), "tcgetattr (TCGETS)")?;
        // SAFETY: t is a valid termios.
        let speed = unsafe { libc::cfgetospeed(&t) };
        Ok(format!(
            "opened {} and read its termios (speed code {speed:#o})",
            path.display()
        ))
    };
    run().into()
}

fn get_termios(fd: BorrowedFd<'_>, step: &str) -> Step<libc::termios> {
    // SAFETY: termios is plain old data; all zeroes is valid.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: t is a valid out pointer.
    check(
        unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) }.into(),
        step,
    )?;
    Ok(t)
}

fn set_termios(fd: BorrowedFd<'_>, t: &libc::termios, step: &str) -> Step<()> {
    // SAFETY: t is a valid termios.
    check(
        unsafe { libc::tcsetattr(fd.as_raw_fd(), libc::TCSANOW, t) }.into(),
        step,
    )?;
    Ok(())
}

/// On a granted device: writes `write`, then (if `read`) reads up to 256
/// bytes, waiting up to 3 s for the first and 200 ms for more; then sets the
/// speed to 115200 and checks it reads back (the original settings are restored).
///
/// Ok only if every step worked; nothing arriving within 3 s fails the read
/// step with `ETIMEDOUT`. On success `detail` is exactly the text read (lossy
/// UTF-8; empty when `read` is false).
pub fn granted_tty(fd: BorrowedFd<'_>, write: &str, read: bool) -> Outcome {
    let run = || -> Step<String> {
        write_all(fd, write.as_bytes())?;
        let got = if read { read_some(fd)? } else { Vec::new() };
        let text = String::from_utf8_lossy(&got).into_owned();
        let orig = get_termios(fd, "tcgetattr")?;
        let mut t = orig;
        // SAFETY: t is a valid termios.
        check(
            unsafe { libc::cfsetspeed(&mut t, libc::B115200) }.into(),
            "cfsetspeed(B115200)",
        )?;
        let result = set_termios(fd, &t, "tcsetattr(B115200)")
            .and_then(|()| get_termios(fd, "tcgetattr after tcsetattr"));
        // Put the device back as it was, whatever happened.
        let _ = set_termios(fd, &orig, "restore");
        let back = result?;
        // SAFETY: back is a valid termios.
        let (ospeed, ispeed) = unsafe { (libc::cfgetospeed(&back), libc::cfgetispeed(&back)) };
        if ospeed != libc::B115200 || ispeed != libc::B115200 {
            return Err(Outcome::other(
                "speed mismatch",
                format!("set B115200, read back output {ospeed:#o} input {ispeed:#o}"),
            ));
        }
        log(&format!(
            "granted_tty: wrote {} bytes, read {} bytes, speed 115200 read back",
            write.len(),
            got.len()
        ));
        Ok(text)
    };
    run().into()
}

/// Writes all of `data`, waiting (up to 3 s) when the device is non-blocking and full.
fn write_all(fd: BorrowedFd<'_>, data: &[u8]) -> Step<()> {
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut sent = 0;
    while sent < data.len() {
        // SAFETY: writing from the unsent tail of a live buffer.
        let n = unsafe {
            libc::write(
                fd.as_raw_fd(),
                data[sent..].as_ptr().cast(),
                data.len() - sent,
            )
        };
        if n >= 0 {
            sent += n as usize;
            continue;
        }
        match Errno::last() {
            Errno::EINTR => {}
            Errno::EAGAIN => {
                if poll_until(fd, libc::POLLOUT, deadline)? == 0 {
                    return Err(Outcome::failed(
                        &format!("write (only {sent} of {} bytes within 3 s)", data.len()),
                        libc::ETIMEDOUT,
                    ));
                }
            }
            e => return Err(Outcome::failed("write", e as i32)),
        }
    }
    Ok(())
}

/// Reads up to [`READ_MAX`] bytes: waits up to 3 s for the first, then takes
/// what follows within 200 ms of quiet.
fn read_some(fd: BorrowedFd<'_>) -> Step<Vec<u8>> {
    let first_deadline = Instant::now() + READ_TIMEOUT;
    let mut got = Vec::new();
    let mut chunk = [0u8; READ_MAX];
    while got.len() < READ_MAX {
        let deadline = if got.is_empty() {
            first_deadline
        } else {
            Instant::now() + READ_QUIET
        };
        let revents = poll_until(fd, libc::POLLIN, deadline)?;
        if revents == 0 {
            break;
        }
        if revents & libc::POLLIN == 0 {
            if got.is_empty() {
                return Err(Outcome::other(
                    "hangup",
                    format!("read: poll gave revents {revents:#x} without data"),
                ));
            }
            break;
        }
        let want = READ_MAX - got.len();
        // SAFETY: reading into a live buffer of at least `want` bytes.
        let n = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), want) };
        if n > 0 {
            got.extend_from_slice(&chunk[..n as usize]);
        } else if n == 0 {
            break;
        } else {
            match Errno::last() {
                Errno::EINTR | Errno::EAGAIN => {}
                e => return Err(Outcome::failed("read", e as i32)),
            }
        }
    }
    if got.is_empty() {
        return Err(Outcome::failed(
            "read (nothing within 3 s)",
            libc::ETIMEDOUT,
        ));
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};

    use super::*;

    /// A pty pair: (master, slave path).
    fn pty() -> (std::fs::File, String) {
        // SAFETY: plain libc pty calls on a fresh master fd; ptsname_r writes
        // into our buffer.
        unsafe {
            let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
            assert!(m >= 0);
            let master = OwnedFd::from_raw_fd(m);
            assert_eq!(libc::grantpt(m), 0);
            assert_eq!(libc::unlockpt(m), 0);
            let mut buf = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(m, buf.as_mut_ptr(), buf.len()), 0);
            let path = std::ffi::CStr::from_ptr(buf.as_ptr())
                .to_string_lossy()
                .into_owned();
            (std::fs::File::from(master), path)
        }
    }

    #[test]
    fn baseline_open_tty() {
        let (_master, path) = pty();
        let o = open_tty(Path::new(&path));
        assert!(o.ok, "{o:?}");
        let o = open_tty(Path::new("/nonexistent/tty"));
        assert_eq!(o.error.as_deref(), Some("ENOENT"));
    }

    #[test]
    fn granted_pty_round_trip() {
        let (mut master, path) = pty();
        let slave = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        // No echo of the far end's answer back to the far end.
        let mut t = get_termios(slave.as_fd(), "tcgetattr").unwrap();
        t.c_lflag &= !libc::ECHO;
        set_termios(slave.as_fd(), &t, "tcsetattr").unwrap();
        // The far end: answer "pong" to whatever line arrives.
        let mut answer = master.try_clone().unwrap();
        let far = std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let n = answer.read(&mut buf).unwrap();
            answer.write_all(b"pong\n").unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        let o = granted_tty(slave.as_fd(), "ping\n", true);
        assert!(o.ok, "{o:?}");
        assert_eq!(o.detail, "pong\n");
        assert_eq!(far.join().unwrap(), "ping\r\n");
        // Nothing more comes: the read step times out.
        let o = granted_tty(slave.as_fd(), "", true);
        assert_eq!(o.error.as_deref(), Some("ETIMEDOUT"), "{o:?}");
        // Without reading only the termios part runs.
        let o = granted_tty(slave.as_fd(), "x", false);
        assert!(o.ok, "{o:?}");
        assert_eq!(o.detail, "");
        let mut sink = [0u8; 8];
        let n = master.read(&mut sink).unwrap();
        assert_eq!(&sink[..n], b"x");
    }
}
