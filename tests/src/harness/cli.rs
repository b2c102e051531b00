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

/// Runs `igloo <args…>` and waits for it.
pub fn igloo(args: &[&str]) -> CliOutput {
    let exe = bin("igloo");
    let out = Command::new(&exe)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("IGLOO_API")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    CliOutput {
        command: format!("igloo {}", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `igloo --api <api> <args…>`.
pub fn igloo_with_api(api: &str, args: &[&str]) -> CliOutput {
    let mut all = vec!["--api", api];
    all.extend_from_slice(args);
    igloo(&all)
}
