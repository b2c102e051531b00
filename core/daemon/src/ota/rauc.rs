//! A client of RAUC's command-line program (`rauc`, 1.8 in Debian bookworm),
//! run with `tokio::process` so the runtime never blocks:
//!
//! - [`Rauc::status`]: `rauc status --detailed --output-format=json`, read
//!   leniently into [`RaucStatus`] (every field optional, unknown ones ignored);
//! - [`Rauc::install`]: `rauc install BUNDLE`, whose progress lines
//!   (`" 20% Determining slot states"`) are handed to a callback as
//!   [`Progress`], and whose `LastError: …` line is the failure's message;
//! - [`Rauc::mark_good`]: `rauc status mark-good` (the booted slot).
//!
//! The output formats were written from RAUC's documentation and its 1.8
//! sources (the JSON status formatter and the install client's printing);
//! [`parse_status`] and [`parse_install_line`] are the pure parsers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// How long `rauc status` and `rauc status mark-good` may take.
const QUICK_COMMAND: Duration = Duration::from_secs(60);
/// Lines of other output kept to explain a failure without `LastError`.
const KEPT_LINES: usize = 8;

/// A RAUC command that could not be run or did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RaucError {
    /// The program could not be started (not installed, not executable).
    #[error("cannot run {program}: {why}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's error.
        why: String,
    },
    /// It ran and failed; `message` is RAUC's own (its `LastError`, else
    /// the last lines it printed).
    #[error("`{command}` failed: {message}")]
    Failed {
        /// The command line, e.g. `rauc install /data/ota/bundle-3.raucb`.
        command: String,
        /// What RAUC said.
        message: String,
    },
    /// It did not finish in time and was killed.
    #[error("`{command}` did not finish within {} s", .after.as_secs())]
    Timeout {
        /// The command line.
        command: String,
        /// The limit.
        after: Duration,
    },
    /// `rauc status` printed something that is not its JSON status.
    #[error("`{command}` printed no status this core can read: {why}")]
    Unreadable {
        /// The command line.
        command: String,
        /// The parse error.
        why: String,
    },
}

impl RaucError {
    /// RAUC's own message for a failed command; the whole error otherwise.
    pub fn message(&self) -> String {
        match self {
            RaucError::Failed { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// What `rauc status` says about the system and its slots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaucStatus {
    /// The system's `compatible` (e.g. `igloo-qemu`).
    pub compatible: Option<String>,
    /// The bootname of the booted slot (`A`), from the kernel command line.
    pub booted: Option<String>,
    /// The name of the slot the bootloader prefers next (`rootfs.1`).
    pub boot_primary: Option<String>,
    /// Every slot, in RAUC's order.
    pub slots: Vec<Slot>,
}

impl RaucStatus {
    /// The slot with bootname `bootname`.
    pub fn by_bootname(&self, bootname: &str) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.bootname.as_deref() == Some(bootname))
    }

    /// The slot named `name` (`rootfs.1`).
    pub fn by_name(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }
}

/// One slot of [`RaucStatus`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slot {
    /// RAUC's slot name (`rootfs.0`).
    pub name: String,
    /// Slot class (`rootfs`).
    pub class: Option<String>,
    /// Its device (`/dev/vda2`).
    pub device: Option<String>,
    /// The bootloader's name for it (`A`).
    pub bootname: Option<String>,
    /// `booted`, `active` or `inactive`.
    pub state: Option<String>,
    /// The bootloader's verdict: `good` or `bad`.
    pub boot_status: Option<String>,
    /// The version of the bundle last installed into it.
    pub bundle_version: Option<String>,
    /// When that bundle was installed (RAUC's text, ISO 8601 UTC).
    pub installed: Option<String>,
    /// The last install's result as RAUC recorded it (`ok`, or an error).
    pub install_status: Option<String>,
}

/// RAUC's JSON as written, every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStatus {
    compatible: Option<String>,
    booted: Option<String>,
    boot_primary: Option<String>,
    /// A list of single-key objects: `[{"rootfs.0": {...}}, …]`.
    slots: Vec<BTreeMap<String, RawSlot>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSlot {
    class: Option<String>,
    device: Option<String>,
    bootname: Option<String>,
    state: Option<String>,
    boot_status: Option<String>,
    slot_status: Option<RawSlotStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSlotStatus {
    bundle: Option<RawBundle>,
    installed: Option<RawWhen>,
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawBundle {
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawWhen {
    timestamp: Option<String>,
}

/// Reads the output of `rauc status --detailed --output-format=json`.
///
/// # Errors
/// The parse error's text when `json` is not a JSON object of that shape.
pub fn parse_status(json: &str) -> Result<RaucStatus, String> {
    let raw: RawStatus = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let slots = raw
        .slots
        .into_iter()
        .flat_map(BTreeMap::into_iter)
        .map(|(name, s)| {
            let st = s.slot_status.unwrap_or_default();
            Slot {
                name,
                class: s.class,
                device: s.device,
                bootname: s.bootname,
                state: s.state,
                boot_status: s.boot_status,
                bundle_version: st.bundle.and_then(|b| b.version),
                installed: st.installed.and_then(|i| i.timestamp),
                install_status: st.status,
            }
        })
        .collect();
    Ok(RaucStatus {
        compatible: raw.compatible,
        booted: raw.booted,
        boot_primary: raw.boot_primary,
        slots,
    })
}

/// One step of an install: RAUC's percentage and what it is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// 0–100.
    pub percent: u8,
    /// RAUC's text, e.g. `Determining slot states`.
    pub step: String,
}

/// What one line printed by `rauc install` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallLine {
    /// `" 20% Determining slot states"`.
    Progress(Progress),
    /// `LastError: …`: why the install failed, in RAUC's words.
    LastError(String),
    /// ``Installing `…` succeeded``.
    Succeeded,
    /// ``Installing `…` failed`` (and the D-Bus and unknown-code variants).
    Failed,
    /// Anything else (the service's `installing`/`idle`, log lines).
    Other(String),
}

/// Classifies one line of `rauc install`'s output (stdout or stderr).
pub fn parse_install_line(line: &str) -> InstallLine {
    // The service client may prefix lines with terminal escapes.
    let line = line
        .trim_start_matches(['\r', '\u{1b}'])
        .trim_start_matches("[J")
        .trim_end();
    if let Some(message) = line.strip_prefix("LastError:") {
        return InstallLine::LastError(message.trim().to_string());
    }
    if let Some(p) = progress(line) {
        return InstallLine::Progress(p);
    }
    if line.starts_with("Installing `") || line.starts_with("D-Bus error while installing `") {
        if line.ends_with("` succeeded") {
            return InstallLine::Succeeded;
        }
        if line.contains("` failed") || line.starts_with("D-Bus error") {
            return InstallLine::Failed;
        }
    }
    InstallLine::Other(line.to_string())
}

/// `"%3d%% %s"`: up to three digits (right-aligned), `%`, a space, the step.
fn progress(line: &str) -> Option<Progress> {
    let trimmed = line.trim_start();
    let (digits, rest) = trimmed.split_once('%')?;
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let percent: u8 = digits.parse().ok().filter(|p| *p <= 100)?;
    let step = rest.strip_prefix(' ').unwrap_or(rest).trim().to_string();
    Some(Progress { percent, step })
}

/// What a read error during an install means. RAUC reads a verity bundle's
/// payload through dm-verity, which answers a block that does not match the
/// signed hash tree with EIO; RAUC then says only "Input/output error".
const READ_ERROR_HINT: &str = " (a read error while installing: the bundle's data does not match \
its signed verity hash, so the file was damaged or changed after it was signed — download it \
again; if it happens with a good bundle, the storage is failing)";

/// The message of a failed install, from what it printed: RAUC's
/// `LastError`, else the last other lines, else the exit status; a read
/// error gets [`READ_ERROR_HINT`].
fn failure_message(last_error: Option<String>, other: &[String], status: &str) -> String {
    let message = raw_failure_message(last_error, other, status);
    if message.contains("Input/output error") {
        message + READ_ERROR_HINT
    } else {
        message
    }
}

fn raw_failure_message(last_error: Option<String>, other: &[String], status: &str) -> String {
    if let Some(e) = last_error.filter(|e| !e.is_empty()) {
        return e;
    }
    let lines: Vec<&str> = other
        .iter()
        .map(String::as_str)
        .filter(|l| !l.is_empty() && !matches!(*l, "installing" | "idle"))
        .collect();
    if lines.is_empty() {
        format!("rauc install ended with {status} and printed no reason")
    } else {
        lines.join("; ")
    }
}

/// RAUC's command-line program.
#[derive(Debug, Clone)]
pub struct Rauc {
    program: PathBuf,
}

impl Rauc {
    /// A client running `program` (`rauc`, or a path).
    pub fn new(program: &Path) -> Rauc {
        Rauc {
            program: program.to_path_buf(),
        }
    }

    fn command_line(&self, args: &[&str]) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(args.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn spawn_error(&self, e: &std::io::Error) -> RaucError {
        RaucError::Spawn {
            program: self.program.display().to_string(),
            why: e.to_string(),
        }
    }

    /// Runs a short command and returns its stdout.
    async fn run(&self, args: &[&str]) -> Result<String, RaucError> {
        let command = self.command_line(args);
        let child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| self.spawn_error(&e))?;
        let out = match tokio::time::timeout(QUICK_COMMAND, child.wait_with_output()).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(self.spawn_error(&e)),
            Err(_) => {
                return Err(RaucError::Timeout {
                    command,
                    after: QUICK_COMMAND,
                });
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            return Ok(stdout);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = stderr
            .lines()
            .chain(stdout.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let message = if said.is_empty() {
            format!("{} and printed no reason", out.status)
        } else {
            said.join("; ")
        };
        Err(RaucError::Failed { command, message })
    }

    /// The system's slots and which one booted.
    ///
    /// # Errors
    /// [`RaucError`]: not runnable, failed (no RAUC service …), or output
    /// that is not its JSON status.
    pub async fn status(&self) -> Result<RaucStatus, RaucError> {
        let args = ["status", "--detailed", "--output-format=json"];
        let out = self.run(&args).await?;
        parse_status(&out).map_err(|why| RaucError::Unreadable {
            command: self.command_line(&args),
            why,
        })
    }

    /// Marks the booted slot good (`rauc status mark-good`), which gives
    /// the bootloader's tries back. Returns RAUC's confirmation.
    ///
    /// # Errors
    /// [`RaucError`] with RAUC's message.
    pub async fn mark_good(&self) -> Result<String, RaucError> {
        self.run(&["status", "mark-good"])
            .await
            .map(|s| s.trim().to_string())
    }

    /// Installs `bundle` (`rauc install BUNDLE`), calling `on_progress` for
    /// every progress line, and returns when RAUC has finished. No time
    /// limit: a large bundle on a slow card takes minutes.
    ///
    /// # Errors
    /// [`RaucError::Failed`] with RAUC's `LastError` (or its last lines),
    /// [`RaucError::Spawn`] when it cannot be run.
    pub async fn install(
        &self,
        bundle: &Path,
        mut on_progress: impl FnMut(Progress),
    ) -> Result<(), RaucError> {
        let bundle_arg = bundle.display().to_string();
        let command = self.command_line(&["install", &bundle_arg]);
        let mut child = Command::new(&self.program)
            .arg("install")
            .arg(bundle)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| self.spawn_error(&e))?;
        let mut stdout = child.stdout.take().map(|o| BufReader::new(o).lines());
        let mut stderr = child.stderr.take().map(|e| BufReader::new(e).lines());
        let mut last_error = None;
        let mut other: Vec<String> = Vec::new();
        let mut succeeded = false;
        // Both pipes until both end, in the order lines arrive.
        while stdout.is_some() || stderr.is_some() {
            let line = tokio::select! {
                l = next_line(&mut stdout), if stdout.is_some() => l,
                l = next_line(&mut stderr), if stderr.is_some() => l,
            };
            let Some(line) = line else { continue };
            match parse_install_line(&line) {
                InstallLine::Progress(p) => on_progress(p),
                InstallLine::LastError(e) => last_error = Some(e),
                InstallLine::Succeeded => succeeded = true,
                InstallLine::Failed => {}
                InstallLine::Other(text) => {
                    if other.len() == KEPT_LINES {
                        other.remove(0);
                    }
                    other.push(text);
                }
            }
        }
        let status = child.wait().await.map_err(|e| self.spawn_error(&e))?;
        if status.success() && (succeeded || last_error.is_none()) {
            return Ok(());
        }
        Err(RaucError::Failed {
            command,
            message: failure_message(last_error, &other, &status.to_string()),
        })
    }
}

/// The next line of a pipe, or `None` once (and setting it to `None` when)
/// it ended or failed.
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Option<tokio::io::Lines<R>>,
) -> Option<String> {
    let l = lines.as_mut()?;
    match l.next_line().await {
        Ok(Some(line)) => Some(line),
        Ok(None) | Err(_) => {
            *lines = None;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RAUC 1.8's `status --detailed --output-format=json` on an A/B system
    /// after an install into slot B (shape from its JSON formatter).
    const STATUS: &str = r#"{"compatible":"igloo-qemu","variant":"","booted":"A","boot_primary":"rootfs.1","slots":[{"rootfs.0":{"class":"rootfs","device":"/dev/vda2","type":"ext4","bootname":"A","state":"booted","parent":null,"mountpoint":"/","boot_status":"good","slot_status":{"bundle":{"compatible":"igloo-qemu"},"status":"ok"}}},{"rootfs.1":{"class":"rootfs","device":"/dev/vda3","type":"ext4","bootname":"B","state":"inactive","parent":null,"mountpoint":null,"boot_status":"good","slot_status":{"bundle":{"compatible":"igloo-qemu","version":"0.3.0-4f2a","description":"Igloo","build":"20250101"},"checksum":{"sha256":"ab12","size":123456},"installed":{"timestamp":"2025-01-02T03:04:05Z","count":1},"activated":{"timestamp":"2025-01-02T03:04:06Z","count":1},"status":"ok"}}}]}"#;

    #[test]
    fn status_json_gives_booted_slot_versions_and_install_times() {
        let s = parse_status(STATUS).unwrap();
        assert_eq!(s.compatible.as_deref(), Some("igloo-qemu"));
        assert_eq!(s.booted.as_deref(), Some("A"));
        assert_eq!(s.boot_primary.as_deref(), Some("rootfs.1"));
        assert_eq!(s.slots.len(), 2);
        let a = s.by_bootname("A").unwrap();
        assert_eq!(a.name, "rootfs.0");
        assert_eq!(a.state.as_deref(), Some("booted"));
        assert_eq!(a.bundle_version, None);
        assert_eq!(a.installed, None);
        let b = s.by_name("rootfs.1").unwrap();
        assert_eq!(b.bootname.as_deref(), Some("B"));
        assert_eq!(b.device.as_deref(), Some("/dev/vda3"));
        assert_eq!(b.bundle_version.as_deref(), Some("0.3.0-4f2a"));
        assert_eq!(b.installed.as_deref(), Some("2025-01-02T03:04:05Z"));
        assert_eq!(b.install_status.as_deref(), Some("ok"));
        assert_eq!(b.boot_status.as_deref(), Some("good"));
    }

    /// What RAUC 1.8 (Debian bookworm) printed on a host with two empty
    /// slots and the `noop` bootloader: nulls where nothing is known.
    const STATUS_EMPTY_SLOTS: &str = r#"{"compatible":"igloo-test","variant":"","booted":"A","boot_primary":null,"slots":[{"rootfs.1":{"class":"rootfs","device":"/tmp/rauctest/b.img","type":"ext4","bootname":"B","state":"inactive","parent":null,"mountpoint":null,"boot_status":"bad","slot_status":{"bundle":{"compatible":null}}}},{"rootfs.0":{"class":"rootfs","device":"/tmp/rauctest/a.img","type":"ext4","bootname":"A","state":"booted","parent":null,"mountpoint":null,"boot_status":"bad","slot_status":{"bundle":{"compatible":null}}}}]}"#;

    #[test]
    fn status_of_empty_slots_from_rauc_1_8_reads_with_its_nulls() {
        let s = parse_status(STATUS_EMPTY_SLOTS).unwrap();
        assert_eq!(s.booted.as_deref(), Some("A"));
        assert_eq!(s.boot_primary, None);
        assert_eq!(s.slots[0].name, "rootfs.1");
        assert_eq!(s.by_bootname("A").unwrap().state.as_deref(), Some("booted"));
        assert_eq!(s.by_bootname("B").unwrap().bundle_version, None);
    }

    /// A script printing `stdout` and `stderr` and exiting with `code`, as
    /// a stand-in `rauc` (RAUC cannot run an install on the host).
    fn script(dir: &Path, stdout: &str, stderr: &str, code: i32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("rauc");
        let text = format!(
            "#!/bin/sh\ncat <<'OUT'\n{stdout}OUT\ncat >&2 <<'ERR'\n{stderr}ERR\nexit {code}\n"
        );
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn a_refused_install_gives_its_progress_and_raucs_last_error() {
        // Printed by RAUC 1.8's `rauc install` for a file that is no bundle.
        let out = "installing\n  0% Installing\n  0% Determining slot states\n 20% Determining slot states done.\n 20% Checking bundle\n 40% Checking bundle failed.\n100% Installing failed.\nLastError: No keyring file or directory provided\n";
        let err = "Installing `/tmp/rauctest/junk.raucb` failed\n";
        let dir = tempfile::tempdir().unwrap();
        let rauc = Rauc::new(&script(dir.path(), out, err, 1));
        let mut seen = Vec::new();
        let e = rauc
            .install(Path::new("/tmp/junk.raucb"), |p| {
                seen.push((p.percent, p.step))
            })
            .await
            .unwrap_err();
        assert_eq!(e.message(), "No keyring file or directory provided");
        assert_eq!(seen.len(), 6, "{seen:?}");
        assert_eq!(seen[3], (20, "Checking bundle".to_string()));
        assert_eq!(seen[5], (100, "Installing failed.".to_string()));
    }

    #[tokio::test]
    async fn a_successful_install_and_mark_good_report_success() {
        let dir = tempfile::tempdir().unwrap();
        let out = "installing\n  0% Installing\n100% Installing done.\nidle\nInstalling `/b.raucb` succeeded\n";
        let rauc = Rauc::new(&script(dir.path(), out, "", 0));
        let mut last = None;
        rauc.install(Path::new("/b.raucb"), |p| last = Some(p.percent))
            .await
            .unwrap();
        assert_eq!(last, Some(100));
        let rauc = Rauc::new(&script(
            dir.path(),
            "rauc status: marked slot rootfs.0 as good\n",
            "",
            0,
        ));
        assert_eq!(
            rauc.mark_good().await.unwrap(),
            "rauc status: marked slot rootfs.0 as good"
        );
        let rauc = Rauc::new(&script(dir.path(), "", "rauc mark: no booted slot\n", 1));
        assert_eq!(
            rauc.mark_good().await.unwrap_err().message(),
            "rauc mark: no booted slot"
        );
        let missing = Rauc::new(Path::new("/nonexistent/rauc"));
        assert!(matches!(
            missing.status().await,
            Err(RaucError::Spawn { .. })
        ));
    }

    #[test]
    fn status_without_details_or_with_unknown_fields_still_reads() {
        let s = parse_status(
            r#"{"booted":"B","future":{"x":1},"slots":[{"rootfs.0":{"bootname":"A","new_field":[1,2]}}]}"#,
        )
        .unwrap();
        assert_eq!(s.booted.as_deref(), Some("B"));
        assert_eq!(s.compatible, None);
        assert_eq!(s.slots[0].bootname.as_deref(), Some("A"));
        assert_eq!(s.slots[0].bundle_version, None);
        assert_eq!(parse_status("{}").unwrap(), RaucStatus::default());
        assert!(parse_status("rauc-Message: no service").is_err());
    }

    #[test]
    fn install_lines_are_progress_errors_and_results() {
        assert_eq!(
            parse_install_line(" 20% Determining slot states"),
            InstallLine::Progress(Progress {
                percent: 20,
                step: "Determining slot states".into()
            })
        );
        assert_eq!(
            parse_install_line("100% Installing done."),
            InstallLine::Progress(Progress {
                percent: 100,
                step: "Installing done.".into()
            })
        );
        assert_eq!(
            parse_install_line("  0% Installing"),
            InstallLine::Progress(Progress {
                percent: 0,
                step: "Installing".into()
            })
        );
        assert_eq!(
            parse_install_line("LastError: Failed to check bundle identifier: Invalid identifier."),
            InstallLine::LastError("Failed to check bundle identifier: Invalid identifier.".into())
        );
        assert_eq!(
            parse_install_line("\u{1b}[JLastError: Compatible mismatch"),
            InstallLine::LastError("Compatible mismatch".into())
        );
        assert_eq!(
            parse_install_line("Installing `/data/ota/bundle-1.raucb` succeeded"),
            InstallLine::Succeeded
        );
        assert_eq!(
            parse_install_line("Installing `/data/ota/bundle-1.raucb` failed"),
            InstallLine::Failed
        );
        assert_eq!(
            parse_install_line("D-Bus error while installing `/x.raucb`"),
            InstallLine::Failed
        );
        for other in ["installing", "idle", "1000% no", "50%", "abc% x"] {
            match parse_install_line(other) {
                InstallLine::Other(_) => {}
                InstallLine::Progress(p) if other == "50%" => assert_eq!(p.percent, 50),
                l => panic!("{other:?} → {l:?}"),
            }
        }
    }

    #[test]
    fn a_failure_says_rauc_last_error_else_its_last_lines() {
        assert_eq!(
            failure_message(
                Some("bad signature".into()),
                &["x".into()],
                "exit status: 1"
            ),
            "bad signature"
        );
        assert_eq!(
            failure_message(
                None,
                &["installing".into(), "Failed GDBus.Error: no service".into()],
                "exit status: 1"
            ),
            "Failed GDBus.Error: no service"
        );
        assert_eq!(
            failure_message(None, &[], "exit status: 1"),
            "rauc install ended with exit status: 1 and printed no reason"
        );
    }

    #[test]
    fn a_read_error_says_the_bundle_does_not_match_its_signature() {
        let m = failure_message(
            Some("Failed updating slot rootfs.1: Error splicing data: Input/output error".into()),
            &[],
            "exit status: 1",
        );
        assert!(m.starts_with("Failed updating slot rootfs.1"), "{m}");
        assert!(m.contains("does not match its signed verity hash"), "{m}");
        assert!(!failure_message(Some("bad signature".into()), &[], "").contains("verity"));
    }
}
