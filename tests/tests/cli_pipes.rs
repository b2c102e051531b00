//! The CLI's output into a pipe that the reader closed ends the CLI quietly,
//! as Unix tools end (SIGPIPE, status 141 in a shell), never with a panic:
//! `igloo watch | head -n 1`, `igloo devices --json | head -c 1`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use igloo_tests::{Core, ProviderSpec, TIMEOUT, bin, providers_toml, wait_for};

/// `igloo --api URL args…` with the core's token, stdout and stderr piped.
fn igloo(core: &Core, args: &[&str]) -> std::process::Child {
    Command::new(bin("igloo"))
        .arg("--api")
        .arg(core.url())
        .args(args)
        .env("IGLOO_TOKEN", core.token().unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start igloo")
}

/// Waits for `child`, asserting it ended as a closed pipe ends a tool:
/// SIGPIPE or status 0, and no panic on stderr.
fn assert_quiet_end(child: std::process::Child, what: &str) {
    let out = child.wait_with_output().expect("wait for igloo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let quiet = out.status.signal() == Some(libc::SIGPIPE) || out.status.code() == Some(0);
    assert!(
        quiet,
        "{what}: ended with {:?}; stderr: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(!stderr.contains("Broken pipe"), "{what}: {stderr}");
}

#[test]
fn cli_output_into_a_closed_pipe_ends_quietly() {
    let core = Core::start(&providers_toml(&[ProviderSpec::test("good", "good")]));
    let api = core.api().clone();
    wait_for(TIMEOUT, "the good provider's device", || {
        let d = api.try_devices()?;
        match d.iter().any(|d| d.key == "good-1") {
            true => Ok(()),
            false => Err(format!("{d:?}")),
        }
    });

    // `igloo watch | head -n 1`: the provider writes every 50 ms, so watch
    // keeps writing after the reader has gone.
    let mut watch = igloo(&core, &["watch"]);
    let stdout = watch.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("read one event");
    assert!(first.starts_with("state"), "an event line: {first:?}");
    // `stdout` (the read end) was moved into the reader and is closed now.
    assert_quiet_end(watch, "igloo watch");

    // Output of any size into a pipe closed before it is written.
    for args in [
        &["devices", "--json"][..],
        &["providers", "--json"][..],
        &["devices"][..],
    ] {
        let mut child = igloo(&core, args);
        drop(child.stdout.take());
        assert_quiet_end(child, &args.join(" "));
    }
}
