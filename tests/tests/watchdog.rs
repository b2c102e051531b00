//! The core feeds the watchdog only while it answers (`[watchdog]`,
//! docs/configuration.md), against a named pipe standing in for
//! `/dev/watchdog` on the host (a real watchdog here would reboot the
//! machine; the QEMU image test uses the guest's real one). What the core
//! writes is what a driver sees: a keepalive byte per check, nothing while
//! the core is stopped (SIGSTOP), again after SIGCONT, and the magic `V`
//! last when it stops cleanly.

use std::io::Read;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use igloo_tests::{Core, CoreSettings};

/// `timeout_s` in the test config: a feed every 2.5 s.
const TIMEOUT_S: u64 = 10;
const FEED: Duration = Duration::from_millis(2_500);

/// Bytes written to the pipe, with when they were read.
fn read_pipe(path: std::path::PathBuf) -> mpsc::Receiver<(Instant, u8)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Blocks until the core opens the pipe for writing.
        let mut pipe =
            std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut byte = [0u8; 1];
        while let Ok(1) = pipe.read(&mut byte) {
            if tx.send((Instant::now(), byte[0])).is_err() {
                return;
            }
        }
    });
    rx
}

fn signal(core: &Core, sig: nix::sys::signal::Signal) {
    let pid = core
        .pid()
        .unwrap_or_else(|| panic!("the core is not running"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig)
        .unwrap_or_else(|e| panic!("kill -{sig} {pid}: {e}"));
}

#[test]
fn the_core_feeds_the_watchdog_only_while_it_answers_and_disarms_it_at_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let pipe = dir.path().join("watchdog");
    nix::unistd::mkfifo(&pipe, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    let bytes = read_pipe(pipe.clone());
    let settings = CoreSettings {
        extra_toml: format!(
            "[watchdog]\ndevice = {}\ntimeout_s = {TIMEOUT_S}\n",
            toml::Value::String(pipe.display().to_string())
        ),
        ..CoreSettings::default()
    };
    let mut core = Core::start_with(settings, "");
    core.wait_log(
        Duration::from_secs(10),
        &["watchdog armed", &format!("reboots {TIMEOUT_S} s after")],
    );

    // Fed while it answers: the first feed at once, then one per interval.
    let fed = |within: Duration, n: usize| -> Vec<u8> {
        (0..n)
            .map(|i| {
                bytes
                    .recv_timeout(within)
                    .unwrap_or_else(|_| panic!("feed {i}: nothing within {within:?}"))
                    .1
            })
            .collect()
    };
    assert_eq!(fed(FEED * 2, 3), b"kkk");

    // Stopped: no feed for three intervals.
    signal(&core, nix::sys::signal::Signal::SIGSTOP);
    while bytes.try_recv().is_ok() {}
    let quiet = bytes.recv_timeout(FEED * 3);
    signal(&core, nix::sys::signal::Signal::SIGCONT);
    assert!(quiet.is_err(), "a stopped core fed the watchdog: {quiet:?}");
    // Running again: fed again.
    assert_eq!(fed(FEED * 2, 2), b"kk");

    // A clean stop writes the magic close last.
    core.stop();
    let mut rest = Vec::new();
    while let Ok((_, b)) = bytes.recv_timeout(Duration::from_secs(5)) {
        rest.push(b);
    }
    assert_eq!(rest.last(), Some(&b'V'), "last bytes: {rest:?}");
    assert!(core.log_contains("watchdog disarmed"));
}
