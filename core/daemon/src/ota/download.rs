//! Getting a bundle onto the data partition: downloading a URL with `ureq`
//! (resumed with an HTTP `Range` request when the connection drops), and
//! the free-space check both downloads and uploads make before writing.
//! Bundles are written to a file as they arrive, never held in memory.
//! Blocking I/O: run [`download`] on the blocking pool.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fsutil::{FileError, file_error};

/// Resumes after a dropped connection before giving up.
pub const MAX_RESUMES: u32 = 3;
/// Free space left on the data partition after a bundle is stored, bytes
/// (the device store and logs need room too).
pub const RESERVE: u64 = 8 << 20;
/// No byte for this long ends the attempt (then it is resumed).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause before a resume, times the attempt number.
const RESUME_PAUSE: Duration = Duration::from_millis(500);

/// Why a bundle could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The URL is not one this core downloads.
    #[error("{url}: only http:// URLs can be downloaded by the gateway")]
    Scheme {
        /// The URL.
        url: String,
    },
    /// The server answered with an error status.
    #[error("the server answered {status} for {url}")]
    Status {
        /// The URL.
        url: String,
        /// E.g. `404 Not Found`.
        status: String,
    },
    /// The server could not be reached at all.
    #[error("cannot download {url}: {why}")]
    Unreachable {
        /// The URL.
        url: String,
        /// The last error.
        why: String,
    },
    /// The connection kept dropping.
    #[error(
        "download of {url} stopped at {have} of {total} bytes ({why}; gave up after {attempts} attempts)"
    )]
    Stopped {
        /// The URL.
        url: String,
        /// Bytes stored.
        have: u64,
        /// The size the server announced, or `?`.
        total: String,
        /// The last error.
        why: String,
        /// Attempts made.
        attempts: u32,
    },
    /// Not enough room on the partition of `dir`.
    #[error(
        "not enough free space in {} for a {need}-byte bundle: {free} bytes free, {RESERVE} must stay free",
        dir.display()
    )]
    NoSpace {
        /// The download directory.
        dir: PathBuf,
        /// The bundle's size.
        need: u64,
        /// Free bytes there.
        free: u64,
    },
    /// Writing the file failed.
    #[error(transparent)]
    File(#[from] FileError),
}

/// `url` as it may be shown and logged: without credentials
/// (`user:password@`), query or fragment, which may carry secrets.
pub fn shown_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..cut];
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(host_end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

/// Bytes available to this process on the filesystem holding `dir`.
///
/// # Errors
/// [`FileError`] when `statvfs` fails.
pub fn free_bytes(dir: &Path) -> Result<u64, FileError> {
    let st = nix::sys::statvfs::statvfs(dir).map_err(|e| FileError {
        op: "cannot read the free space of",
        path: dir.to_path_buf(),
        source: std::io::Error::from(e),
    })?;
    #[allow(clippy::useless_conversion)] // the field types differ between targets
    let (blocks, size) = (
        u64::from(st.blocks_available()),
        u64::from(st.fragment_size()),
    );
    Ok(blocks.saturating_mul(size))
}

/// Checks that `need` more bytes fit in `dir` with [`RESERVE`] to spare.
///
/// # Errors
/// [`DownloadError::NoSpace`], or the `statvfs` error.
pub fn check_space(dir: &Path, need: u64) -> Result<(), DownloadError> {
    let free = free_bytes(dir)?;
    if free < need.saturating_add(RESERVE) {
        return Err(DownloadError::NoSpace {
            dir: dir.to_path_buf(),
            need,
            free,
        });
    }
    Ok(())
}

/// Downloads `url` into `dest` (created or truncated), calling
/// `on_progress(bytes stored, total if announced)` as bytes arrive. When
/// the connection drops, it asks for the rest with `Range: bytes=N-`, up to
/// [`MAX_RESUMES`] times (a server that answers the whole file again is
/// read from the start). The announced size (`Content-Length`) is checked
/// against the free space before anything is written. Returns the size.
///
/// # Errors
/// [`DownloadError`]: not `http://`, an error status, unreachable, the
/// connection kept dropping, no space, or the file failed.
pub fn download(
    url: &str,
    dest: &Path,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<u64, DownloadError> {
    if !url.starts_with("http://") {
        return Err(DownloadError::Scheme {
            url: shown_url(url),
        });
    }
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_per_read(Some(READ_TIMEOUT))
            .build(),
    );
    let mut fetch = Fetch {
        url,
        dest,
        file: std::fs::File::create(dest).map_err(file_error("cannot create", dest))?,
        have: 0,
        total: None,
    };
    let mut attempts = 0;
    let mut last_error = String::new();
    while attempts <= MAX_RESUMES {
        if attempts > 0 {
            std::thread::sleep(RESUME_PAUSE * attempts);
        }
        attempts += 1;
        match fetch.attempt(&agent, &mut on_progress)? {
            None => {
                fetch
                    .file
                    .sync_all()
                    .map_err(file_error("cannot sync", dest))?;
                return Ok(fetch.have);
            }
            Some(why) => last_error = why,
        }
    }
    if fetch.have == 0 && fetch.total.is_none() {
        return Err(DownloadError::Unreachable {
            url: shown_url(url),
            why: last_error,
        });
    }
    Err(DownloadError::Stopped {
        url: shown_url(url),
        have: fetch.have,
        total: fetch.total.map_or_else(|| "?".into(), |t| t.to_string()),
        why: last_error,
        attempts,
    })
}

/// One download in progress: the file and how far it got.
struct Fetch<'a> {
    url: &'a str,
    dest: &'a Path,
    file: std::fs::File,
    /// Bytes stored.
    have: u64,
    /// The size the server announced.
    total: Option<u64>,
}

impl Fetch<'_> {
    /// One request: the whole file, or the rest (`Range`) when some is
    /// stored. `None` when the file is complete, else why this attempt
    /// ended early (to be resumed).
    ///
    /// # Errors
    /// An error status, no space, or the file failed: not worth resuming.
    fn attempt(
        &mut self,
        agent: &ureq::Agent,
        on_progress: &mut impl FnMut(u64, Option<u64>),
    ) -> Result<Option<String>, DownloadError> {
        let mut request = agent.get(self.url);
        if self.have > 0 {
            request = request.header("Range", format!("bytes={}-", self.have));
        }
        let response = match request.call() {
            Ok(r) => r,
            Err(e) => return Ok(Some(e.to_string())),
        };
        let status = response.status();
        match status.as_u16() {
            200 => self.restart(response.body().content_length())?,
            206 => match content_range(&response) {
                Some((from, size)) if from == self.have => self.total = self.total.or(size),
                // Not the range asked for: the next attempt starts over.
                _ => {
                    self.restart(None)?;
                    return Ok(Some(format!("the server sent another range ({status})")));
                }
            },
            416 if self.total == Some(self.have) => return Ok(None),
            _ => {
                return Err(DownloadError::Status {
                    url: shown_url(self.url),
                    status: status_text(status),
                });
            }
        }
        if let Some(t) = self.total {
            check_space(
                self.dest.parent().unwrap_or(Path::new(".")),
                t.saturating_sub(self.have),
            )?;
        }
        let total = self.total;
        let dropped = copy_body(response, &mut self.file, self.dest, &mut self.have, |h| {
            on_progress(h, total)
        })?;
        Ok(match dropped {
            Ok(()) if total.is_none_or(|t| self.have >= t) => None,
            Ok(()) => Some("the connection closed early".into()),
            Err(e) => Some(e),
        })
    }

    /// Empties the file for a download from the start of size `total`.
    fn restart(&mut self, total: Option<u64>) -> Result<(), FileError> {
        self.have = 0;
        self.total = total;
        self.file
            .set_len(0)
            .map_err(file_error("cannot truncate", self.dest))?;
        self.file
            .rewind()
            .map_err(file_error("cannot rewind", self.dest))
    }
}

/// Appends the response body to `file`, counting into `have`. The outer
/// error is the file's; the inner one a dropped connection's text.
fn copy_body(
    response: ureq::http::Response<ureq::Body>,
    file: &mut std::fs::File,
    dest: &Path,
    have: &mut u64,
    mut on_progress: impl FnMut(u64),
) -> Result<Result<(), String>, FileError> {
    let mut reader = response.into_body().into_reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(Ok(())),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Ok(Err(e.to_string())),
        };
        file.write_all(&buf[..n])
            .map_err(file_error("cannot write", dest))?;
        *have += n as u64;
        on_progress(*have);
    }
}

/// `Content-Range: bytes FROM-TO/SIZE` → (FROM, SIZE if given).
fn content_range(response: &ureq::http::Response<ureq::Body>) -> Option<(u64, Option<u64>)> {
    let v = response.headers().get("content-range")?.to_str().ok()?;
    parse_content_range(v)
}

fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, size) = rest.split_once('/')?;
    let (from, _) = range.split_once('-')?;
    Some((from.trim().parse().ok()?, size.trim().parse().ok()))
}

/// `404 Not Found`.
fn status_text(status: ureq::http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_gives_the_start_and_the_size() {
        assert_eq!(
            parse_content_range("bytes 500-999/1000"),
            Some((500, Some(1000)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, None)));
        assert_eq!(parse_content_range("items 0-9/10"), None);
    }

    #[test]
    fn a_bundle_bigger_than_the_free_space_is_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        check_space(dir.path(), 1).unwrap();
        let e = check_space(dir.path(), free).unwrap_err();
        assert!(e.to_string().starts_with("not enough free space in"), "{e}");
    }

    #[test]
    fn only_http_urls_are_downloaded() {
        let dir = tempfile::tempdir().unwrap();
        let e = download("ftp://x/b.raucb", &dir.path().join("b"), |_, _| {}).unwrap_err();
        assert!(matches!(e, DownloadError::Scheme { .. }), "{e}");
    }
}
