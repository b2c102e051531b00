//! The A/B boot state as U-Boot's boot script and RAUC keep it
//! (docs/adr/0005-boot-state.md): `BOOT_ORDER` (`"A B"`: the first slot is
//! the one tried first) and `BOOT_<x>_LEFT` (tries left; the script takes
//! one before booting a slot, RAUC gives them back, [`FULL_TRIES`], when a
//! slot is marked good or active). Read with libubootenv's
//! `fw_printenv -n NAME`. The decisions over it are pure functions:
//! [`BootState::pending`] (this boot waits to be marked good) and
//! [`BootState::failed_primary`] (an update was rolled back).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// Tries a slot has after RAUC marked it good or active.
pub const FULL_TRIES: u32 = 3;
/// How long one `fw_printenv` may take.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The boot state could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the boot state with `{program} -n {name}`: {why}")]
pub struct BootStateError {
    /// The program (`fw_printenv`).
    pub program: String,
    /// The variable.
    pub name: String,
    /// What went wrong (its own message when it ran).
    pub why: String,
}

/// `BOOT_ORDER` and the tries left of each slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootState {
    /// Bootnames in the order U-Boot tries them (`["A", "B"]`).
    pub order: Vec<String>,
    /// Tries left per bootname (absent: not set, or not a number).
    pub left: BTreeMap<String, u32>,
}

impl BootState {
    /// Tries left for `bootname`.
    pub fn tries_left(&self, bootname: &str) -> Option<u32> {
        self.left.get(bootname).copied()
    }

    /// Whether this boot of slot `booted` waits to be marked good: U-Boot
    /// took a try before booting it and nobody has given it back yet
    /// (`BOOT_<booted>_LEFT` < [`FULL_TRIES`]). Unknown tries: not pending.
    pub fn pending(&self, booted: &str) -> bool {
        self.tries_left(booted).is_some_and(|n| n < FULL_TRIES)
    }

    /// The bootname of a slot an update to failed: `BOOT_ORDER` names it
    /// first (it was made active by an install), yet `booted` is another
    /// slot and it has no tries left — U-Boot gave up on it and came back.
    pub fn failed_primary(&self, booted: &str) -> Option<&str> {
        let first = self.order.first()?;
        (first != booted && self.tries_left(first) == Some(0)).then_some(first.as_str())
    }

    /// Reads `BOOT_ORDER`, then `BOOT_<x>_LEFT` for every slot it names and
    /// every one of `bootnames`, with `program -n NAME`. A variable that is
    /// not set is left out (U-Boot's script then uses its defaults).
    ///
    /// # Errors
    /// [`BootStateError`] when the program cannot be run or `BOOT_ORDER`
    /// cannot be read.
    pub async fn read(program: &Path, bootnames: &[String]) -> Result<BootState, BootStateError> {
        let order_text = read_var(program, "BOOT_ORDER").await?;
        let order: Vec<String> = order_text
            .unwrap_or_default()
            .split_whitespace()
            .map(ToString::to_string)
            .collect();
        let mut names: Vec<&String> = order.iter().chain(bootnames).collect();
        names.sort();
        names.dedup();
        let mut left = BTreeMap::new();
        for name in names {
            let var = format!("BOOT_{name}_LEFT");
            if let Some(n) = read_var(program, &var)
                .await?
                .and_then(|v| v.trim().parse::<u32>().ok())
            {
                left.insert(name.clone(), n);
            }
        }
        Ok(BootState { order, left })
    }
}

/// `program -n name`: its value, or `None` when the variable is not set
/// (the program says so and exits non-zero).
async fn read_var(program: &Path, name: &str) -> Result<Option<String>, BootStateError> {
    let err = |why: String| BootStateError {
        program: program.display().to_string(),
        name: name.to_string(),
        why,
    };
    let child = Command::new(program)
        .arg("-n")
        .arg(name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| err(e.to_string()))?;
    let out = tokio::time::timeout(READ_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| err(format!("no answer within {} s", READ_TIMEOUT.as_secs())))?
        .map_err(|e| err(e.to_string()))?;
    if out.status.success() {
        return Ok(Some(
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        ));
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    // libubootenv: `## Error: "NAME" not defined`.
    if said.contains("not defined") {
        return Ok(None);
    }
    Err(err(if said.is_empty() {
        out.status.to_string()
    } else {
        said
    }))
}

/// The booted slot's bootname from the kernel command line (`rauc.slot=A`).
pub fn booted_from_cmdline(cmdline: &str) -> Option<String> {
    cmdline
        .split_whitespace()
        .find_map(|w| w.strip_prefix("rauc.slot="))
        .filter(|s| !s.is_empty())
        .map(ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(order: &str, a: u32, b: u32) -> BootState {
        BootState {
            order: order.split_whitespace().map(String::from).collect(),
            left: [("A".to_string(), a), ("B".to_string(), b)].into(),
        }
    }

    #[test]
    fn a_boot_waits_to_be_marked_good_exactly_while_its_try_is_taken() {
        assert!(state("A B", 2, 3).pending("A"));
        assert!(!state("A B", 3, 3).pending("A"));
        assert!(state("B A", 3, 0).pending("B"));
        assert!(!BootState::default().pending("A"));
    }

    #[test]
    fn a_first_slot_without_tries_that_did_not_boot_is_a_failed_update() {
        assert_eq!(state("B A", 2, 0).failed_primary("A"), Some("B"));
        // Booted the first slot: nothing failed.
        assert_eq!(state("B A", 3, 0).failed_primary("B"), None);
        // The first slot still has tries: booting elsewhere is not its failure.
        assert_eq!(state("B A", 3, 1).failed_primary("A"), None);
        assert_eq!(BootState::default().failed_primary("A"), None);
    }

    #[test]
    fn the_booted_slot_is_rauc_slot_on_the_command_line() {
        assert_eq!(
            booted_from_cmdline("console=ttyAMA0 root=PARTUUID=x rauc.slot=B quiet\n").as_deref(),
            Some("B")
        );
        assert_eq!(booted_from_cmdline("console=ttyAMA0 rauc.slot="), None);
        assert_eq!(booted_from_cmdline("root=/dev/sda1"), None);
    }
}
