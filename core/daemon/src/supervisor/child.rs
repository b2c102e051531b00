//! Starting one provider process, confined by its prepared sandbox, with its
//! end of the connection socketpair as fd 3 and of the grant socketpair as
//! fd 4, and turning its stdout/stderr into the core's log lines tagged with
//! its name, at the level each line printed, within the provider's output
//! budget ([`crate::provider_log`]).

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
use crate::provider_log::{Budget, ProviderLog, limited};
use crate::sandbox::{GRANT_FD, PROVIDER_FD, Prepared};

/// Longest provider log line kept; longer lines are cut.
const MAX_LOG_LINE: usize = 8192;

/// A started provider process and the core's end of its connection.
pub struct Spawned {
    /// The process (killed on drop).
    pub child: Child,
    /// The core's end of the socketpair.
    pub socket: UnixStream,
    /// The core's end of the grant socketpair (`SOCK_SEQPACKET`): granted
    /// fds are sent here with `SCM_RIGHTS`.
    pub grants: OwnedFd,
}

/// Starts `cfg`'s executable confined by `sandbox`, with fd 3 = its end of a
/// new socketpair (`IGLOO_FD=3`), fd 4 = its end of the grant socketpair
/// (`IGLOO_GRANT_FD=4`), `IGLOO_PROVIDER`, `IGLOO_DATA_DIR`, stdin from
/// /dev/null, and its stdout/stderr forwarded to the log.
///
/// # Errors
/// I/O errors from `socketpair`, from a confinement step in the child (its
/// name is also written to the provider's stderr) or from `exec`.
pub fn spawn(
    cfg: &ProviderConfig,
    data_dir: &Path,
    mut sandbox: Prepared,
) -> std::io::Result<Spawned> {
    let (ours, theirs): (OwnedFd, OwnedFd) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    let (grants, their_grants): (OwnedFd, OwnedFd) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    let theirs_raw = theirs.as_raw_fd();
    let grants_raw = their_grants.as_raw_fd();
    let mut cmd = Command::new(&cfg.exec);
    cmd.args(&cfg.args)
        .envs(&cfg.env)
        .env("IGLOO_FD", PROVIDER_FD.to_string())
        .env("IGLOO_GRANT_FD", GRANT_FD.to_string())
        .env("IGLOO_PROVIDER", &cfg.name)
        .env("IGLOO_DATA_DIR", data_dir)
        .env_remove("IGLOO_SOCKET")
        .current_dir(data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls on data prepared before fork
    // (see `Prepared::apply_in_child`).
    unsafe {
        cmd.pre_exec(move || sandbox.apply_in_child(theirs_raw, grants_raw));
    }
    let mut child = cmd.spawn()?;
    drop(theirs);
    drop(their_grants);
    let name: Arc<str> = Arc::from(cfg.name.as_str());
    let output_log = || ProviderLog::new(name.clone()).with_budget(Budget::OUTPUT);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward_lines(out, output_log(), "stdout"));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward_lines(err, output_log(), "stderr"));
    }
    let std = std::os::unix::net::UnixStream::from(ours);
    std.set_nonblocking(true)?;
    Ok(Spawned {
        child,
        socket: UnixStream::from_std(std)?,
        grants,
    })
}

/// Logs each line of `stream` ([`ProviderLog::output`]) until it ends; the
/// log's drop then reports what was suppressed.
async fn forward_lines(stream: impl AsyncRead + Unpin, log: ProviderLog, fd: &'static str) {
    // Bytes, not str: a provider writing invalid UTF-8 must not stop the
    // forwarding (its pipe would fill and block it).
    let codec = AnyDelimiterCodec::new_with_max_length(b"\n".to_vec(), Vec::new(), MAX_LOG_LINE);
    let mut lines = FramedRead::new(stream, codec);
    while let Some(line) = lines.next().await {
        match line {
            Ok(l) => log.output(fd, &l),
            Err(AnyDelimiterCodecError::MaxChunkLengthExceeded) => limited!(
                target: "provider",
                log,
                fd,
                tracing::Level::WARN,
                fd,
                "log line over {MAX_LOG_LINE} bytes dropped"
            ),
            Err(AnyDelimiterCodecError::Io(_)) => break,
        }
    }
}
