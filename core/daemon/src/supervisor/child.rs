//! Starting one provider process with its end of the socketpair as fd 3, and
//! turning its stdout/stderr into the core's log lines tagged with its name.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use futures::StreamExt;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use tokio::io::AsyncRead;
use tokio::net::UnixStream;
use tokio::process::{Child, Command};
use tokio_util::codec::{AnyDelimiterCodec, AnyDelimiterCodecError, FramedRead};

use crate::config::ProviderConfig;

/// The fd number a provider finds its core connection on (`IGLOO_FD`).
pub const PROVIDER_FD: i32 = 3;
/// Longest provider log line kept; longer lines are cut.
const MAX_LOG_LINE: usize = 8192;

/// A started provider process and the core's end of its connection.
pub struct Spawned {
    /// The process (killed on drop).
    pub child: Child,
    /// The core's end of the socketpair.
    pub socket: UnixStream,
}

/// Starts `cfg`'s executable with fd 3 = its end of a new socketpair,
/// `IGLOO_FD=3`, `IGLOO_PROVIDER`, `IGLOO_DATA_DIR`, stdin closed, and its
/// stdout/stderr forwarded to the log.
///
/// # Errors
/// I/O errors from `socketpair` or `exec` (e.g. not executable).
pub fn spawn(cfg: &ProviderConfig, data_dir: &Path) -> std::io::Result<Spawned> {
    let (ours, theirs): (OwnedFd, OwnedFd) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    let theirs_raw = theirs.as_raw_fd();
    let mut cmd = Command::new(&cfg.exec);
    cmd.args(&cfg.args)
        .envs(&cfg.env)
        .env("IGLOO_FD", PROVIDER_FD.to_string())
        .env("IGLOO_PROVIDER", &cfg.name)
        .env("IGLOO_DATA_DIR", data_dir)
        .env_remove("IGLOO_SOCKET")
        .current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (dup2, fcntl, prctl) on plain integers.
    unsafe {
        cmd.pre_exec(move || {
            if theirs_raw == PROVIDER_FD {
                // Already fd 3: only clear close-on-exec.
                if libc::fcntl(PROVIDER_FD, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(theirs_raw, PROVIDER_FD) == -1 {
                // dup2 leaves the new descriptor without FD_CLOEXEC.
                return Err(std::io::Error::last_os_error());
            }
            // The provider dies with the core (the sandbox issue hardens this further).
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) == -1
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    drop(theirs);
    let name: Arc<str> = Arc::from(cfg.name.as_str());
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward_lines(out, name.clone(), "stdout"));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward_lines(err, name, "stderr"));
    }
    let std = std::os::unix::net::UnixStream::from(ours);
    std.set_nonblocking(true)?;
    Ok(Spawned {
        child,
        socket: UnixStream::from_std(std)?,
    })
}

async fn forward_lines(stream: impl AsyncRead + Unpin, provider: Arc<str>, fd: &'static str) {
    // Bytes, not str: a provider writing invalid UTF-8 must not stop the
    // forwarding (its pipe would fill and block it).
    let codec = AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), Vec::new(), MAX_LOG_LINE);
    let mut lines = FramedRead::new(stream, codec);
    while let Some(line) = lines.next().await {
        match line {
            Ok(l) => {
                let text = String::from_utf8_lossy(&l);
                tracing::info!(target: "provider", provider = &*provider, fd, "{}", text.trim_end());
            }
            Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => {
                tracing::warn!(target: "provider", provider = &*provider, fd, "log line over {MAX_LOG_LINE} bytes dropped")
            }
            Err(AnyDelimiterCodecError::Io(_)) => break,
        }
    }
}
