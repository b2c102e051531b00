//! Running the `igloo` CLI as a real subprocess.

use std::process::Command;

use crate::harness::bins::bin;

/// What a CLI run produced.
#[derive(Debug, Clone)]
pub struct CliOutput {
    /// The command line, for messages.
    pub command: String,
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CliOutput {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics unless it exited 0.
    pub fn assert_success(&self) -> &CliOutput {
        if !self.success() {
            panic!(
                "`{}` failed (exit {:?})\nstdout: {}\nstderr: {}",
                self.command, self.code, self.stdout, self.stderr
            );
        }
        self
    }

    /// For `igloo doctor`: panics unless the section of running provider
    /// `provider` says `yes` for each of `layers` (`uid`, `landlock`,
    /// `seccomp`, `network`), with the whole output in the message.
    pub fn assert_doctor_enforces(&self, provider: &str, layers: &[&str]) {
        let head = format!("provider {provider} (running");
        let section: Vec<&str> = self
            .stdout
            .lines()
            .skip_while(|l| !l.starts_with(&head))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        for layer in layers {
            assert!(
                section
                    .iter()
                    .any(|l| l.starts_with(&format!("  {layer:<10} yes"))),
                "{layer} of {provider} in igloo doctor:\n{}",
                self.stdout
            );
        }
    }

    /// Standard output parsed as JSON.
    ///
    /// # Panics
    /// If it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "`{}` did not print JSON ({e}); stdout: {}\nstderr: {}",
                self.command, self.stdout, self.stderr
            )
        })
    }
}

/// Runs `igloo <args…>` and waits for it. The environment is the test's,
/// without `IGLOO_API` and `IGLOO_TOKEN`, with `IGLOO_SOCKET` pointing
/// nowhere (so no test reaches a core's local socket by chance) and
/// `XDG_CONFIG_HOME` an empty directory of this test process (so no
/// stored login is read or written outside it).
pub fn igloo(args: &[&str]) -> CliOutput {
    igloo_env(args, &[])
}

/// [`igloo`] with extra environment variables (set after the defaults, so
/// `IGLOO_TOKEN`, `IGLOO_SOCKET` or `XDG_CONFIG_HOME` can be given).
pub fn igloo_env(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    igloo_input(args, env, None)
}

/// [`igloo_env`] with `input` written to its stdin (a pipe, not a
/// terminal: how a script gives `igloo login` or `igloo wifi set` a
/// password). `None`: stdin is closed, as with [`igloo`].
pub fn igloo_input(args: &[&str], env: &[(&str, &str)], input: Option<&str>) -> CliOutput {
    use std::io::Write;
    use std::process::Stdio;
    let exe = bin("igloo");
    let mut command = Command::new(&exe);
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("IGLOO_API")
        .env_remove("IGLOO_TOKEN")
        .env("IGLOO_SOCKET", "/nonexistent/igloo-test.sock")
        .env("XDG_CONFIG_HOME", config_home());
    for (k, v) in env {
        command.env(k, v);
    }
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = command
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    if let (Some(text), Some(mut pipe)) = (input, child.stdin.take()) {
        // The CLI may exit before reading (a bad argument): not an error here.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    CliOutput {
        command: format!("igloo {}", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `igloo --api <api> <args…>` without credentials.
pub fn igloo_with_api(api: &str, args: &[&str]) -> CliOutput {
    let mut all = vec!["--api", api];
    all.extend_from_slice(args);
    igloo(&all)
}

/// Runs `igloo --api <api> <args…>` with `IGLOO_TOKEN=token` when given.
pub fn igloo_with_token(api: &str, token: Option<&str>, args: &[&str]) -> CliOutput {
    igloo_with_token_input(api, token, args, None)
}

/// [`igloo_with_token`] with `input` on its stdin ([`igloo_input`]).
pub fn igloo_with_token_input(
    api: &str,
    token: Option<&str>,
    args: &[&str],
    input: Option<&str>,
) -> CliOutput {
    let mut all = vec!["--api", api];
    all.extend_from_slice(args);
    match token {
        Some(t) => igloo_input(&all, &[("IGLOO_TOKEN", t)], input),
        None => igloo_input(&all, &[], input),
    }
}

/// An empty config directory for the CLI, one per test process.
fn config_home() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("igloo-test-cli-home-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"))
    })
    .path()
}
