//! The batched, size-rotated log file: lines are collected in memory and
//! written in one `write` per batch (every `flush_ms`, or sooner when the
//! batch passes [`FLUSH_BYTES`]), so a chatty provider costs the SD card a
//! few large writes instead of one per line.
//!
//! [`Sink`] is what `tracing` writes to (a `MakeWriter`); a thread of its
//! own ([`Sink::start`]) does the writing, so a slow or full disk never
//! blocks a task that logs. What cannot be kept is dropped and counted:
//! lines beyond [`MAX_PENDING`] bytes waiting in memory, and batches whose
//! write failed; each failure is reported once, and again with the count
//! when writing works again.
//!
//! Rotation ([`Rotating`]): `igloo.log` is renamed to `igloo.log.1` (`.1`
//! to `.2`, …, the oldest beyond `files` removed) before a line would make
//! it longer than `max_file_bytes`; a single longer line is written whole
//! into a fresh file. Files are created 0600.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::broadcast;

use super::settings::LogSettings;

/// A batch is written early once it holds this many bytes.
pub const FLUSH_BYTES: usize = 64 << 10;
/// Bytes that may wait in memory; lines beyond are dropped and counted.
pub const MAX_PENDING: usize = 1 << 20;
/// The current file's name in `[logs] dir`.
pub const FILE_NAME: &str = "igloo.log";
/// Lines kept for followers that read slowly (`GET /api/v1/logs/stream`).
const LIVE_CAPACITY: usize = 1024;

/// The path of file `index` in `dir`: 0 = `igloo.log`, n = `igloo.log.n`.
pub fn file_path(dir: &Path, index: u32) -> PathBuf {
    match index {
        0 => dir.join(FILE_NAME),
        n => dir.join(format!("{FILE_NAME}.{n}")),
    }
}

/// Where lines go: shared by every thread that logs, cheap to clone.
#[derive(Clone)]
pub struct Sink {
    shared: Arc<Shared>,
}

struct Shared {
    /// Lines not written yet.
    pending: Mutex<Vec<u8>>,
    /// Wakes the writer thread when a batch is full or at [`Sink::close`].
    wake: Condvar,
    /// The file side; taken before `pending` by whoever writes a batch, so
    /// batches reach the file in order.
    file: Mutex<Rotating>,
    /// Every line as it is logged, for followers.
    live: broadcast::Sender<Arc<str>>,
    /// Lines dropped because too many were waiting.
    overflowed: AtomicU64,
    stop: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
    flush: Duration,
}

impl Sink {
    /// A sink writing to `settings.dir` with its writer thread running.
    /// The directory is created (0700) if missing.
    ///
    /// # Errors
    /// The directory cannot be created or the thread cannot start.
    pub fn start(settings: &LogSettings) -> std::io::Result<Sink> {
        std::fs::create_dir_all(&settings.dir)?;
        let _ = std::fs::set_permissions(&settings.dir, std::fs::Permissions::from_mode(0o700));
        let sink = Sink {
            shared: Arc::new(Shared {
                pending: Mutex::new(Vec::with_capacity(FLUSH_BYTES)),
                wake: Condvar::new(),
                file: Mutex::new(Rotating::new(
                    &settings.dir,
                    settings.max_file_bytes,
                    settings.files,
                )),
                live: broadcast::channel(LIVE_CAPACITY).0,
                overflowed: AtomicU64::new(0),
                stop: AtomicBool::new(false),
                thread: Mutex::new(None),
                flush: settings.flush,
            }),
        };
        let shared = sink.shared.clone();
        let handle = std::thread::Builder::new()
            .name("igloo-logs".into())
            .spawn(move || shared.run())?;
        *sink
            .shared
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(handle);
        Ok(sink)
    }

    /// Adds one formatted line (with its newline) to the batch. Never
    /// blocks on the disk.
    pub fn commit(&self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        let s = &self.shared;
        if s.live.receiver_count() > 0 {
            let text = String::from_utf8_lossy(line);
            let _ = s.live.send(Arc::from(text.trim_end_matches('\n')));
        }
        let mut pending = s.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() + line.len() > MAX_PENDING {
            s.overflowed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.extend_from_slice(line);
        if pending.len() >= FLUSH_BYTES {
            s.wake.notify_one();
        }
    }

    /// Writes what is waiting now (readers call it so that they see every
    /// line logged before their request).
    pub fn flush(&self) {
        self.shared.write_pending();
    }

    /// Lines as they are logged, from now on.
    pub fn follow(&self) -> broadcast::Receiver<Arc<str>> {
        self.shared.live.subscribe()
    }

    /// Lines lost so far (too many waiting, or a failed write).
    pub fn dropped(&self) -> u64 {
        let file = self
            .shared
            .file
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        file.dropped + self.shared.overflowed.load(Ordering::Relaxed)
    }

    /// Stops the writer thread after a last batch. Lines logged afterwards
    /// stay in memory.
    pub fn close(&self) {
        {
            let _pending = self
                .shared
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            self.shared.stop.store(true, Ordering::Release);
            self.shared.wake.notify_one();
        }
        let handle = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        self.shared.write_pending();
    }
}

impl Shared {
    /// The writer thread: a batch every `flush`, or when one is full.
    fn run(&self) {
        let mut reported_overflow = 0;
        while !self.stop.load(Ordering::Acquire) {
            {
                let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                // Checked under the lock `close` sets it under, so its
                // wake-up cannot come between this check and the wait.
                if pending.len() < FLUSH_BYTES && !self.stop.load(Ordering::Acquire) {
                    let _ = self
                        .wake
                        .wait_timeout(pending, self.flush)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
            self.write_pending();
            let overflowed = self.overflowed.load(Ordering::Relaxed);
            if overflowed != reported_overflow {
                tracing::warn!(
                    dropped = overflowed - reported_overflow,
                    "log lines dropped: more were logged than the log file could take"
                );
                reported_overflow = overflowed;
            }
        }
    }

    fn write_pending(&self) {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let batch = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *pending, Vec::with_capacity(FLUSH_BYTES))
        };
        if !batch.is_empty() {
            file.write_batch(&batch);
        }
    }
}

/// Lets `tracing_subscriber::fmt` write into the sink: one [`LineWriter`]
/// per event, committed whole when dropped.
impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter {
            sink: self,
            line: Vec::new(),
        }
    }
}

/// One event's text on its way into the [`Sink`].
pub struct LineWriter<'a> {
    sink: &'a Sink,
    line: Vec<u8>,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        self.sink.commit(&self.line);
    }
}

/// The log files in one directory, rotated by size.
pub struct Rotating {
    dir: PathBuf,
    max_bytes: u64,
    files: u32,
    /// `igloo.log`, open for appending; `None` until first needed or after an error.
    file: Option<File>,
    /// Its length.
    size: u64,
    /// The last write failed (reported once until one succeeds).
    failing: bool,
    /// Lines lost to failed writes.
    dropped: u64,
    /// Lines lost since the failure was reported.
    dropped_since_report: u64,
}

impl Rotating {
    /// The files in `dir`; nothing is opened yet.
    pub fn new(dir: &Path, max_bytes: u64, files: u32) -> Rotating {
        Rotating {
            dir: dir.to_path_buf(),
            max_bytes,
            files,
            file: None,
            size: 0,
            failing: false,
            dropped: 0,
            dropped_since_report: 0,
        }
    }

    /// Writes `batch` (whole lines), rotating between lines as needed. A
    /// failure drops the rest of the batch and counts its lines.
    pub fn write_batch(&mut self, batch: &[u8]) {
        let mut rest = batch;
        while !rest.is_empty() {
            match self.write_some(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) => {
                    let lost = rest.iter().filter(|b| **b == b'\n').count().max(1) as u64;
                    self.dropped += lost;
                    self.dropped_since_report += lost;
                    self.file = None;
                    if !self.failing {
                        self.failing = true;
                        tracing::warn!(
                            dir = %self.dir.display(),
                            "cannot write the log file ({e}); log lines are dropped and counted until it works again"
                        );
                        self.dropped_since_report = 0;
                    }
                    return;
                }
            }
        }
        if self.failing {
            self.failing = false;
            tracing::warn!(
                dropped = self.dropped_since_report,
                "the log file is writable again"
            );
            self.dropped_since_report = 0;
        }
    }

    /// Writes the lines at the start of `rest` that fit in the current file
    /// (at least one line, into a file rotated first if it is not empty).
    /// Returns how many bytes were written.
    fn write_some(&mut self, rest: &[u8]) -> std::io::Result<usize> {
        if self.file.is_none() {
            self.open()?;
        }
        let room = self.max_bytes.saturating_sub(self.size);
        let mut end = 0;
        for (i, b) in rest.iter().enumerate() {
            if *b == b'\n' {
                if (i + 1) as u64 > room {
                    break;
                }
                end = i + 1;
            }
        }
        if end == 0 {
            // Not even the first line fits.
            if self.size > 0 {
                self.rotate()?;
            }
            end = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
        }
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("log file not open"));
        };
        file.write_all(&rest[..end])?;
        self.size += end as u64;
        Ok(end)
    }

    fn open(&mut self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let path = file_path(&self.dir, 0);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        // A file left by an older core, or created under another umask.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        self.size = file.metadata()?.len();
        self.file = Some(file);
        Ok(())
    }

    /// `igloo.log` → `.1` → `.2` …, the oldest beyond `files` removed, and
    /// a new, empty `igloo.log`.
    fn rotate(&mut self) -> std::io::Result<()> {
        self.file = None;
        if self.files == 0 {
            let _ = std::fs::remove_file(file_path(&self.dir, 0));
        } else {
            let _ = std::fs::remove_file(file_path(&self.dir, self.files));
            for i in (0..self.files).rev() {
                let from = file_path(&self.dir, i);
                if from.exists() {
                    std::fs::rename(&from, file_path(&self.dir, i + 1))?;
                }
            }
        }
        self.open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize, width: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let text = format!("{i:0width$}\n", width = width - 1);
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    fn sizes(dir: &Path) -> Vec<(String, u64)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().len(),
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rotates_by_size_keeping_at_most_files_plus_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Rotating::new(dir.path(), 1000, 3);
        for _ in 0..20 {
            r.write_batch(&lines(30, 10));
        }
        let files = sizes(dir.path());
        let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["igloo.log", "igloo.log.1", "igloo.log.2", "igloo.log.3"]
        );
        for (name, size) in &files {
            assert!(*size <= 1000, "{name}: {size}");
            assert_eq!(size % 10, 0, "{name} holds whole lines");
        }
        // The newest lines are in igloo.log, the last one at its end.
        let current = std::fs::read_to_string(file_path(dir.path(), 0)).unwrap();
        assert!(current.ends_with("000000029\n"), "{current}");
        let mode = std::fs::metadata(file_path(dir.path(), 1))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_line_longer_than_a_file_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Rotating::new(dir.path(), 100, 2);
        r.write_batch(b"short\n");
        let long = format!("{}\n", "x".repeat(300));
        r.write_batch(long.as_bytes());
        r.write_batch(b"after\n");
        assert_eq!(
            std::fs::read_to_string(file_path(dir.path(), 2)).unwrap(),
            "short\n"
        );
        assert_eq!(
            std::fs::read_to_string(file_path(dir.path(), 1)).unwrap(),
            long
        );
        assert_eq!(
            std::fs::read_to_string(file_path(dir.path(), 0)).unwrap(),
            "after\n"
        );
    }

    #[test]
    fn zero_rotated_files_keeps_only_the_current_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Rotating::new(dir.path(), 100, 0);
        r.write_batch(&lines(30, 10));
        assert_eq!(sizes(dir.path()), [("igloo.log".to_string(), 100)]);
    }

    #[test]
    fn an_unwritable_dir_drops_and_counts_lines() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the directory should be: every open fails.
        let blocked = dir.path().join("logs");
        std::fs::write(&blocked, b"").unwrap();
        let mut r = Rotating::new(&blocked, 1000, 2);
        r.write_batch(&lines(5, 10));
        r.write_batch(&lines(3, 10));
        assert_eq!(r.dropped, 8);
        assert!(r.failing);
    }

    #[test]
    fn the_sink_batches_and_flushes_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let settings = LogSettings {
            dir: dir.path().join("logs"),
            // Long enough that only `flush` writes within the test.
            flush: Duration::from_secs(60),
            ..LogSettings::defaults(dir.path())
        };
        let sink = Sink::start(&settings).unwrap();
        let mut live = sink.follow();
        sink.commit(b"one\n");
        sink.commit(b"two\n");
        assert_eq!(&*live.try_recv().unwrap(), "one");
        let path = file_path(&settings.dir, 0);
        sink.flush();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
        sink.commit(b"three\n");
        sink.close();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(sink.dropped(), 0);
    }
}
