//! Proves the append-only checks catch real breakages: each test clones this
//! repository (full history, tags), commits one breakage on a fresh branch and
//! runs the same check functions as `append_only.rs` on the clone, expecting
//! a violation that names the entry and the rule. The baselines prove that
//! valid growth passes. Nothing is built in the clone; each test takes well
//! under a second or two.
//!
//! The clone first gets a "baseline" commit holding this work tree's versions
//! of the guarded files (`components.toml`, `tests/golden/`, `releases.toml`),
//! so uncommitted additions are part of what is checked.
//!
//! Run with `--nocapture` to see the failure messages.

mod history;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use history::{COMPONENTS, GOLDEN_DIR, MESSAGES, RELEASES};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A throw-away clone, removed on drop.
struct Scratch {
    dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs git in `dir` with an identity and no signing or hooks, so no global
/// configuration is needed; panics with git's output on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = history::git_command(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run git: {e}"));
    assert!(
        out.status.success(),
        "git {} in {} failed: {}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unique_dir(label: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "scratch-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Copies a file or a directory tree.
fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
        let entries =
            std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} → {}: {e}", from.display(), to.display()));
    }
}

impl Scratch {
    /// Clones this repository and commits the work tree's guarded files as
    /// branch `baseline`, which must pass every check.
    fn new(label: &str) -> Scratch {
        let src = repo_root();
        history::require_full_history(&src).unwrap_or_else(|e| panic!("{e}"));
        let dir = unique_dir(label);
        let _ = std::fs::remove_dir_all(&dir);
        let parent = dir.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
        let src_text = src.to_string_lossy().into_owned();
        let dir_text = dir.to_string_lossy().into_owned();
        git(
            parent,
            &["clone", "--quiet", "--shared", &src_text, &dir_text],
        );
        let s = Scratch { dir };
        // This work tree's versions of the guarded files.
        let golden = s.dir.join(GOLDEN_DIR);
        let _ = std::fs::remove_dir_all(&golden);
        copy(&src.join(GOLDEN_DIR), &golden);
        copy(&src.join(COMPONENTS), &s.dir.join(COMPONENTS));
        copy(&src.join(RELEASES), &s.dir.join(RELEASES));
        git(
            &s.dir,
            &["add", "-A", "--", COMPONENTS, GOLDEN_DIR, RELEASES],
        );
        git(
            &s.dir,
            &[
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                "baseline: the work tree's guarded files",
            ],
        );
        git(&s.dir, &["branch", "baseline"]);
        if let Err(v) = history::check_all(&s.dir) {
            panic!(
                "the baseline (this work tree) already breaks the rules; fix that first:{}",
                history::report(&v, 20)
            );
        }
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel))
            .unwrap_or_else(|e| panic!("read {rel} in the scratch clone: {e}"))
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text)
            .unwrap_or_else(|e| panic!("write {rel} in the scratch clone: {e}"));
    }

    /// Replaces exactly one occurrence of `from` in `rel`.
    fn replace(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "{rel} must hold {from:?} once"
        );
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Commits everything on a fresh branch from `baseline`, after `edit`.
    fn commit_on_branch(&self, branch: &str, edit: impl FnOnce(&Scratch)) {
        git(
            &self.dir,
            &["checkout", "--quiet", "-f", "-B", branch, "baseline"],
        );
        edit(self);
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "--quiet", "-m", branch]);
    }

    /// The checks must fail with a violation holding every fragment; returns it.
    fn expect_violation(&self, what: &str, fragments: &[&str]) -> String {
        let violations = match history::check_all(&self.dir) {
            Ok(()) => panic!("{what}: the checks passed, but this breakage must be refused"),
            Err(v) => v,
        };
        let hit = violations
            .iter()
            .find(|v| fragments.iter().all(|f| v.contains(f)))
            .unwrap_or_else(|| {
                panic!(
                    "{what}: no violation mentions all of {fragments:?}; got:{}",
                    history::report(&violations, 20)
                )
            });
        eprintln!("{what}: {} violation(s), e.g.\n  {hit}", violations.len());
        hit.clone()
    }
}

/// `[[component]]` block of `name` in components.toml text (up to the next block).
fn block<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("[[component]]\nname = {name:?}\n"))
        .unwrap_or_else(|| panic!("components.toml has no component {name}"));
    let len = text[start + 1..]
        .find("[[component]]")
        .map_or(text.len() - start, |n| n + 1);
    &text[start..start + len]
}

#[test]
fn scratch_baseline_appending_a_component_passes() {
    let s = Scratch::new("append");
    s.commit_on_branch("append-component", |s| {
        let mut text = s.read(COMPONENTS);
        text.push_str(
            "\n[[component]]\nname = \"ScratchProbe\"\nkind = \"float\"\nunit = \"%\"\n\
             desc = \"A component appended by the scratch-commit test.\"\n",
        );
        s.write(COMPONENTS, &text);
    });
    if let Err(v) = history::check_all(&s.dir) {
        panic!(
            "appending a component must pass:{}",
            history::report(&v, 20)
        );
    }
}

#[test]
fn scratch_baseline_other_valid_growth_passes() {
    let s = Scratch::new("grow");
    s.commit_on_branch("grow", |s| {
        // A new enum variant at the end, a new message, a new golden file, a reworded desc.
        s.replace(
            COMPONENTS,
            "variants = [\"Open\", \"Close\", \"Stop\"]",
            "variants = [\"Open\", \"Close\", \"Stop\", \"Toggle\"]",
        );
        s.replace(
            COMPONENTS,
            "desc = \"Relative humidity.\"",
            "desc = \"Relative humidity, reworded.\"",
        );
        let mut messages = s.read(MESSAGES);
        messages.push_str("ScratchMessage\n");
        s.write(MESSAGES, &messages);
        s.write(&format!("{GOLDEN_DIR}/v1/15-ScratchMessage.bin"), "\u{f}");
    });
    if let Err(v) = history::check_all(&s.dir) {
        panic!(
            "appending variants, messages and vectors must pass:{}",
            history::report(&v, 20)
        );
    }
}

#[test]
fn scratch_changed_unit_is_refused() {
    let s = Scratch::new("unit");
    s.commit_on_branch("change-unit", |s| {
        s.replace(
            COMPONENTS,
            "name = \"Power\"\nkind = \"float\"\nunit = \"W\"",
            "name = \"Power\"\nkind = \"float\"\nunit = \"kW\"",
        );
    });
    s.expect_violation(
        "changing the unit of Power",
        &[
            "components.toml: entry 9 \"Power\" changed unit from \"W\" to \"kW\"",
            "units never change",
        ],
    );
}

#[test]
fn scratch_changed_kind_is_refused() {
    let s = Scratch::new("kind");
    s.commit_on_branch("change-kind", |s| {
        s.replace(
            COMPONENTS,
            "name = \"ColorTemperature\"\nkind = \"int\"",
            "name = \"ColorTemperature\"\nkind = \"float\"",
        );
    });
    s.expect_violation(
        "changing the kind of ColorTemperature",
        &[
            "components.toml: entry 4 \"ColorTemperature\" changed kind from \"int\" to \"float\"",
            "kinds never change",
        ],
    );
}

#[test]
fn scratch_reordered_components_are_refused() {
    let s = Scratch::new("reorder");
    s.commit_on_branch("reorder-components", |s| {
        let text = s.read(COMPONENTS);
        let (t, h) = (
            block(&text, "Temperature").to_string(),
            block(&text, "Humidity").to_string(),
        );
        let swapped = text.replacen(&format!("{t}{h}"), &format!("{h}{t}"), 1);
        assert_ne!(swapped, text, "Temperature and Humidity are adjacent");
        s.write(COMPONENTS, &swapped);
    });
    s.expect_violation(
        "swapping Temperature and Humidity",
        &[
            "entry 5 \"Temperature\" is now at id 6 (id 5 is now \"Humidity\")",
            "entries are never reordered",
        ],
    );
    s.expect_violation(
        "swapping Temperature and Humidity",
        &["entry 6 \"Humidity\" is now at id 5"],
    );
}

#[test]
fn scratch_removed_component_is_refused() {
    let s = Scratch::new("remove");
    s.commit_on_branch("remove-component", |s| {
        let text = s.read(COMPONENTS);
        let smoke = block(&text, "Smoke").to_string();
        s.write(COMPONENTS, &text.replacen(&smoke, "", 1));
    });
    s.expect_violation(
        "removing Smoke",
        &[
            "entry 18 \"Smoke\" was removed or renamed (id 18 is now \"LinkQuality\")",
            "entries are never removed or renamed",
        ],
    );
}

#[test]
fn scratch_reordered_enum_variants_are_refused() {
    let s = Scratch::new("variants");
    s.commit_on_branch("reorder-variants", |s| {
        s.replace(
            COMPONENTS,
            "[\"Open\", \"Closed\", \"Opening\", \"Closing\", \"Stopped\"]",
            "[\"Open\", \"Closed\", \"Closing\", \"Opening\", \"Stopped\"]",
        );
    });
    s.expect_violation(
        "swapping CoverState's Opening and Closing",
        &[
            "variant 2 \"Opening\" of entry 23 \"CoverState\" is now variant 3 (variant 2 is now \"Closing\")",
            "enum variants are only appended, never reordered",
        ],
    );
}

#[test]
fn scratch_reordered_messages_are_refused() {
    let s = Scratch::new("messages");
    s.commit_on_branch("reorder-messages", |s| {
        s.replace(MESSAGES, "Ping\nPong\n", "Pong\nPing\n");
    });
    s.expect_violation(
        "swapping Ping and Pong in messages.txt",
        &[
            "core/protocol/tests/golden/messages.txt: message id 10 \"Ping\" is now at id 11 (id 10 is now \"Pong\")",
            "the Message enum is append-only",
        ],
    );
}

#[test]
fn scratch_modified_golden_vector_is_refused() {
    let s = Scratch::new("golden");
    let path = format!("{GOLDEN_DIR}/v1/10-Ping.bin");
    s.commit_on_branch("modify-golden", |s| {
        let mut bytes = std::fs::read(s.path(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(s.path(&path), bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    });
    s.expect_violation(
        "editing a committed golden vector",
        &[
            &format!("{path}: content differs from commit"),
            "golden vectors are never regenerated or edited",
        ],
    );
}

#[test]
fn scratch_deleted_golden_vector_is_refused() {
    let s = Scratch::new("golden-rm");
    let path = format!("{GOLDEN_DIR}/v1/11-Pong.json");
    s.commit_on_branch("delete-golden", |s| {
        std::fs::remove_file(s.path(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    });
    s.expect_violation(
        "deleting a committed golden vector",
        &[
            &format!("{path}: golden vector deleted"),
            "golden vectors are never removed",
        ],
    );
}

#[test]
fn scratch_edited_release_is_refused() {
    let s = Scratch::new("release");
    s.commit_on_branch("edit-release", |s| {
        s.replace(RELEASES, "max_component_id = 50", "max_component_id = 49");
    });
    let hit = s.expect_violation(
        "editing the protocol-v1 entry",
        &[
            "release 0 (protocol-v1)",
            "ends at id 50, not at max_component_id = 49",
        ],
    );
    assert!(hit.starts_with(RELEASES), "{hit}");
    s.expect_violation(
        "editing the protocol-v1 entry",
        &[
            "release 0 (protocol-v1) was edited (max_component_id: 50 → 49)",
            "releases are never edited or removed",
        ],
    );
}

#[test]
fn scratch_moved_release_tag_is_refused_and_a_missing_one_is_not() {
    let s = Scratch::new("tag");
    git(
        &s.dir,
        &["tag", "-f", "-a", "-m", "moved", "protocol-v1", "HEAD"],
    );
    s.expect_violation(
        "moving tag protocol-v1",
        &[
            "release 0 (protocol-v1): tag protocol-v1 points at commit",
            "release tags are never moved",
        ],
    );
    // A clone of one branch carries no tags: the recorded commit is what
    // identifies the release, so a missing tag is not a violation.
    git(&s.dir, &["tag", "-d", "protocol-v1"]);
    if let Err(v) = history::check_all(&s.dir) {
        panic!(
            "a clone without tag protocol-v1 must pass (the release commit identifies it):{}",
            history::report(&v, 20)
        );
    }
}

#[test]
fn scratch_shallow_clone_is_an_error() {
    let dir = unique_dir("shallow");
    let parent = dir.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
    let url = format!(
        "file://{}",
        repo_root()
            .canonicalize()
            .unwrap_or_else(|e| panic!("{e}"))
            .display()
    );
    git(
        parent,
        &[
            "clone",
            "--quiet",
            "--depth",
            "1",
            &url,
            &dir.to_string_lossy(),
        ],
    );
    let s = Scratch { dir };
    let v = history::check_components_history(&s.dir).expect_err("a shallow clone must not pass");
    assert!(
        v[0].contains("is shallow") && v[0].contains("git fetch --unshallow"),
        "{v:?}"
    );
    eprintln!("shallow clone: {}", v[0]);
}
