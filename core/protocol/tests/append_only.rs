//! Append-only guards against git history (DESIGN §4.1–2, §5).
//!
//! Every committed version of `components.toml` must be a prefix of today's
//! file (same names, kinds and units in the same positions; enum variants only
//! appended), and every committed version of `tests/golden/messages.txt` (the
//! `Message` variant order) must be a prefix of today's list.
//!
//! These tests need the repository's full history: a shallow clone is an error.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn git(args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo_root())
        .output()
        .map_err(|e| format!("cannot run git (needed to check history): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// (commit, file text) for every commit that touched `path`, oldest first.
fn history(path: &str) -> Vec<(String, String)> {
    let shallow = git(&["rev-parse", "--is-shallow-repository"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        shallow.trim(),
        "false",
        "the checkout is shallow; the append-only check needs full history (git fetch --unshallow)"
    );
    let log =
        git(&["log", "--format=%H", "--reverse", "--", path]).unwrap_or_else(|e| panic!("{e}"));
    log.lines()
        .filter_map(|c| {
            // A commit that deleted the file has no blob: that is itself a violation, reported by the caller's prefix check.
            git(&["show", &format!("{c}:{path}")])
                .ok()
                .map(|t| (c.to_string(), t))
        })
        .collect()
}

#[path = "../registry.rs"]
mod registry;

use registry::{Entry, Registry};

fn parse_components(text: &str, origin: &str) -> Vec<Entry> {
    toml::from_str::<Registry>(text)
        .unwrap_or_else(|e| panic!("components.toml at {origin} does not parse: {e}"))
        .component
}

/// Checks that `old` is a prefix of `new`; returns every violation found, each naming the entry and why.
fn component_violations(old: &[Entry], new: &[Entry]) -> Vec<String> {
    let mut v = Vec::new();
    if new.len() < old.len() {
        v.push(format!(
            "{} entries were removed (had {}, now {}): entries are never removed",
            old.len() - new.len(),
            old.len(),
            new.len()
        ));
    }
    for (i, (o, n)) in old.iter().zip(new).enumerate() {
        if o.name != n.name {
            v.push(format!(
                "entry {i} was {:?} and is now {:?}: entries are never renamed or reordered",
                o.name, n.name
            ));
            continue;
        }
        if o.kind != n.kind {
            v.push(format!(
                "entry {i} {:?} changed kind {:?} → {:?}: kinds never change",
                o.name, o.kind, n.kind
            ));
        }
        if o.unit != n.unit {
            v.push(format!(
                "entry {i} {:?} changed unit {:?} → {:?}: units never change",
                o.name, o.unit, n.unit
            ));
        }
        if n.variants.len() < o.variants.len() || n.variants[..o.variants.len()] != o.variants[..] {
            v.push(format!(
                "entry {i} {:?} changed variants {:?} → {:?}: variants are only appended",
                o.name, o.variants, n.variants
            ));
        }
    }
    v
}

#[test]
fn components_toml_only_ever_grows() {
    let today_text = std::fs::read_to_string(repo_root().join("components.toml")).unwrap();
    let today = parse_components(&today_text, "the working tree");
    let hist = history("components.toml");
    for (commit, text) in &hist {
        let old = parse_components(text, commit);
        let v = component_violations(&old, &today);
        assert!(
            v.is_empty(),
            "components.toml breaks the append-only rule against commit {commit}:\n  {}",
            v.join("\n  ")
        );
    }
}

#[test]
fn message_order_only_ever_grows() {
    let path = "core/protocol/tests/golden/messages.txt";
    let today_text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    let today: Vec<&str> = today_text.lines().collect();
    for (commit, text) in history(path) {
        let old: Vec<&str> = text.lines().collect();
        for (i, o) in old.iter().enumerate() {
            let now = today.get(i).copied().unwrap_or("<removed>");
            assert_eq!(
                *o, now,
                "Message variant {i} was {o:?} at commit {commit} and is now {now:?}: messages are append-only"
            );
        }
    }
}

#[test]
fn violations_are_detected_and_named() {
    let e = |name: &str, kind: &str, unit: Option<&str>, variants: &[&str]| Entry {
        name: name.into(),
        kind: kind.into(),
        unit: unit.map(Into::into),
        variants: variants.iter().map(|s| s.to_string()).collect(),
        desc: String::new(),
    };
    let old = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["A", "B"]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    // Appending is fine.
    let mut grown = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["A", "B", "C"]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    grown.push(e("New", "bool", None, &[]));
    assert!(component_violations(&old, &grown).is_empty());
    // Each kind of break is reported with the entry and the reason.
    let reordered = vec![
        e("Mode", "enum", None, &["A", "B"]),
        e("Light", "marker", None, &[]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    assert!(
        component_violations(&old, &reordered)[0]
            .contains("entry 0 was \"Light\" and is now \"Mode\"")
    );
    let rekinded = vec![
        e("Light", "bool", None, &[]),
        e("Mode", "enum", None, &["A", "B"]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    assert!(component_violations(&old, &rekinded)[0].contains("changed kind"));
    let reunit = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["A", "B"]),
        e("Temp", "float", Some("°F"), &[]),
    ];
    assert!(component_violations(&old, &reunit)[0].contains("changed unit"));
    let variants = vec![
        e("Light", "marker", None, &[]),
        e("Mode", "enum", None, &["B", "A"]),
        e("Temp", "float", Some("°C"), &[]),
    ];
    assert!(component_violations(&old, &variants)[0].contains("only appended"));
    let removed = vec![e("Light", "marker", None, &[])];
    assert!(component_violations(&old, &removed)[0].contains("removed"));
}
