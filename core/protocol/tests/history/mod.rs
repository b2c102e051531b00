//! The protocol's append-only rules, checked against a repository's git history
//! (DESIGN §4–5, docs/compatibility.md).
//!
//! Each check takes the root of a git work tree, compares the files there
//! ("today") with every committed version reachable from `HEAD`, and returns
//! every violation found. Each violation is one sentence that starts with the
//! file, names the entry (component, variant, message, vector or release) and
//! the rule it breaks. The checks read files and run `git`; they never build.
//!
//! Used by `append_only.rs` (this repository, in CI) and `scratch_commits.rs`
//! (breakages committed in a throw-away clone, proving each is caught).
//!
//! A shallow checkout is an error: the rules are about history.

// Each test binary that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "../../registry.rs"]
mod registry;

pub use registry::{Entry, Registry};

/// The component registry, relative to the repository root.
pub const COMPONENTS: &str = "components.toml";
/// The `Message` variant order, relative to the repository root.
pub const MESSAGES: &str = "core/protocol/tests/golden/messages.txt";
/// The golden vectors, relative to the repository root.
pub const GOLDEN_DIR: &str = "core/protocol/tests/golden";
/// The list of protocol releases, relative to the repository root.
pub const RELEASES: &str = "core/protocol/releases.toml";

/// Violations found by a check, each a complete sentence.
pub type Violations = Vec<String>;

/// Runs every check; the violations of all of them.
pub fn check_all(root: &Path) -> Result<(), Violations> {
    let mut all = Vec::new();
    for check in [
        check_components_history,
        check_messages_history,
        check_golden_files_unchanged,
        check_releases,
    ] {
        if let Err(v) = check(root) {
            all.extend(v);
        }
    }
    if all.is_empty() { Ok(()) } else { Err(all) }
}

/// Formats violations for a test failure: one per line, at most `max` of them.
pub fn report(violations: &[String], max: usize) -> String {
    let mut s: String = violations
        .iter()
        .take(max)
        .map(|v| format!("\n  - {v}"))
        .collect();
    if violations.len() > max {
        s.push_str(&format!("\n  … and {} more", violations.len() - max));
    }
    s
}

// ---------------------------------------------------------------------------
// git

/// Runs `git` in `root`; stdout as text.
pub fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    let out = git_command(root)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git (the history checks need it): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} (in {}): {}",
            args.join(" "),
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `git` command in `root`, unaffected by a caller's `GIT_DIR` and friends.
pub fn git_command(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(root)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
        .stdin(Stdio::null());
    c
}

/// Whether `git` succeeds (for existence probes).
fn git_ok(root: &Path, args: &[&str]) -> bool {
    git_command(root)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fails for a shallow checkout: the append-only rules need every commit.
pub fn require_full_history(root: &Path) -> Result<(), String> {
    let shallow = git(root, &["rev-parse", "--is-shallow-repository"])?;
    if shallow.trim() == "false" {
        Ok(())
    } else {
        Err(format!(
            "the checkout at {} is shallow; the append-only checks need the full history \
             (run `git fetch --unshallow --tags`, or clone without --depth)",
            root.display()
        ))
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// `(commit, text at that commit)` for every commit reachable from `HEAD`
/// that touched `path`, oldest first; `None` where the commit deleted it.
fn file_history(root: &Path, path: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let log = git(
        root,
        &[
            "log",
            "--full-history",
            "--reverse",
            "--format=%H",
            "--",
            path,
        ],
    )?;
    let mut out = Vec::new();
    for commit in log.lines().filter(|l| !l.is_empty()) {
        let spec = format!("{commit}:{path}");
        let text = if git_ok(root, &["cat-file", "-e", &spec]) {
            Some(git(root, &["cat-file", "blob", &spec])?)
        } else {
            None
        };
        out.push((commit.to_string(), text));
    }
    Ok(out)
}

/// Reads `path` in the work tree ("today").
fn read_today(root: &Path, path: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(path))
        .map_err(|e| format!("{path}: cannot read it in the work tree: {e}"))
}

/// Collects violations found against several commits, each sentence once,
/// naming the oldest commit it was found against.
#[derive(Default)]
struct Collected {
    seen: HashSet<String>,
    out: Vec<String>,
}

impl Collected {
    fn add(&mut self, file: &str, violation: String, commit: &str) {
        if self.seen.insert(violation.clone()) {
            self.out.push(format!(
                "{file}: {violation} (compared with commit {})",
                short(commit)
            ));
        }
    }

    fn push(&mut self, sentence: String) {
        self.out.push(sentence);
    }

    fn finish(self) -> Result<(), Violations> {
        if self.out.is_empty() {
            Ok(())
        } else {
            Err(self.out)
        }
    }
}

// ---------------------------------------------------------------------------
// components.toml

/// Parses `components.toml` text; `origin` names where it came from.
pub fn parse_components(text: &str, origin: &str) -> Result<Vec<Entry>, String> {
    toml::from_str::<Registry>(text)
        .map(|r| r.component)
        .map_err(|e| format!("{COMPONENTS} at {origin} does not parse: {e}"))
}

fn unit_text(u: &Option<String>) -> String {
    match u {
        Some(u) => format!("{u:?}"),
        None => "none".into(),
    }
}

/// Compares an earlier version of the registry (`old`) with a later one
/// (`new`): `old` must be a prefix of `new` in names, kinds, units and enum
/// variants. Every violation, each naming the entry (id and name) and the rule.
pub fn component_violations(old: &[Entry], new: &[Entry]) -> Vec<String> {
    let mut v = Vec::new();
    for (i, o) in old.iter().enumerate() {
        let Some(n) = new.get(i).filter(|n| n.name == o.name) else {
            let now = match new.get(i) {
                Some(n) => format!("id {i} is now {:?}", n.name),
                None => format!("the file now ends at id {}", new.len().saturating_sub(1)),
            };
            match new.iter().position(|e| e.name == o.name) {
                Some(j) => v.push(format!(
                    "entry {i} {:?} is now at id {j} ({now}): entries are never reordered \
                     (the position is the component id on the wire)",
                    o.name
                )),
                None => v.push(format!(
                    "entry {i} {:?} was removed or renamed ({now}): entries are never \
                     removed or renamed",
                    o.name
                )),
            }
            continue;
        };
        if o.kind != n.kind {
            v.push(format!(
                "entry {i} {:?} changed kind from {:?} to {:?}: kinds never change \
                 (the payload encoding would change)",
                o.name, o.kind, n.kind
            ));
        }
        if o.unit != n.unit {
            v.push(format!(
                "entry {i} {:?} changed unit from {} to {}: units never change \
                 (peers would misread the values)",
                o.name,
                unit_text(&o.unit),
                unit_text(&n.unit)
            ));
        }
        for (k, ov) in o.variants.iter().enumerate() {
            if n.variants.get(k) == Some(ov) {
                continue;
            }
            let now = match n.variants.get(k) {
                Some(nv) => format!("variant {k} is now {nv:?}"),
                None => format!("the entry now has {} variants", n.variants.len()),
            };
            match n.variants.iter().position(|nv| nv == ov) {
                Some(m) => v.push(format!(
                    "variant {k} {ov:?} of entry {i} {:?} is now variant {m} ({now}): enum \
                     variants are only appended, never reordered (the index is the wire value)",
                    o.name
                )),
                None => v.push(format!(
                    "variant {k} {ov:?} of entry {i} {:?} was removed or renamed ({now}): enum \
                     variants are only appended, never removed or renamed",
                    o.name
                )),
            }
        }
    }
    v
}

/// Every committed version of `components.toml` is a prefix of today's.
pub fn check_components_history(root: &Path) -> Result<(), Violations> {
    require_full_history(root).map_err(|e| vec![e])?;
    let today_text = read_today(root, COMPONENTS).map_err(|e| vec![e])?;
    let today = parse_components(&today_text, "the work tree").map_err(|e| vec![e])?;
    let history = file_history(root, COMPONENTS).map_err(|e| vec![e])?;
    let mut found = Collected::default();
    for (commit, text) in &history {
        let Some(text) = text else { continue };
        match parse_components(text, &format!("commit {}", short(commit))) {
            Ok(old) => {
                for violation in component_violations(&old, &today) {
                    found.add(COMPONENTS, violation, commit);
                }
            }
            Err(e) => found.push(e),
        }
    }
    found.finish()
}

// ---------------------------------------------------------------------------
// messages.txt

/// Compares an earlier `messages.txt` with a later one: the old lines must be
/// a prefix of the new ones (line n = message id n - 1).
pub fn message_violations(old: &[&str], new: &[&str]) -> Vec<String> {
    let mut v = Vec::new();
    for (i, o) in old.iter().enumerate() {
        if new.get(i) == Some(o) {
            continue;
        }
        let now = match new.get(i) {
            Some(n) => format!("id {i} is now {n:?}"),
            None => format!("the list now ends at id {}", new.len().saturating_sub(1)),
        };
        match new.iter().position(|n| n == o) {
            Some(j) => v.push(format!(
                "message id {i} {o:?} is now at id {j} ({now}): the Message enum is \
                 append-only, never reordered (line n is message id n-1 on the wire)"
            )),
            None => v.push(format!(
                "message id {i} {o:?} was removed or renamed ({now}): the Message enum is \
                 append-only, variants are never removed or renamed"
            )),
        }
    }
    v
}

/// Every committed version of `messages.txt` is a prefix of today's.
pub fn check_messages_history(root: &Path) -> Result<(), Violations> {
    require_full_history(root).map_err(|e| vec![e])?;
    let today_text = read_today(root, MESSAGES).map_err(|e| vec![e])?;
    let today: Vec<&str> = today_text.lines().collect();
    let history = file_history(root, MESSAGES).map_err(|e| vec![e])?;
    let mut found = Collected::default();
    for (commit, text) in &history {
        let Some(text) = text else { continue };
        let old: Vec<&str> = text.lines().collect();
        for violation in message_violations(&old, &today) {
            found.add(MESSAGES, violation, commit);
        }
    }
    found.finish()
}

// ---------------------------------------------------------------------------
// golden vectors

/// Every file ever committed under `core/protocol/tests/golden/` (except
/// `messages.txt`, which grows and has its own check) exists today with the
/// same content as in every commit that held it.
pub fn check_golden_files_unchanged(root: &Path) -> Result<(), Violations> {
    require_full_history(root).map_err(|e| vec![e])?;
    let commits = git(
        root,
        &[
            "log",
            "--full-history",
            "--reverse",
            "--format=%H",
            "--",
            GOLDEN_DIR,
        ],
    )
    .map_err(|e| vec![e])?;
    // path -> [(blob, first commit holding it)], in order of appearance.
    let mut blobs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for commit in commits.lines().filter(|l| !l.is_empty()) {
        let tree = git(
            root,
            &[
                "ls-tree",
                "-r",
                "-z",
                "--full-tree",
                commit,
                "--",
                GOLDEN_DIR,
            ],
        )
        .map_err(|e| vec![e])?;
        for record in tree.split('\0').filter(|r| !r.is_empty()) {
            // "<mode> <type> <object>\t<path>"
            let Some((meta, path)) = record.split_once('\t') else {
                continue;
            };
            let mut fields = meta.split(' ');
            let (Some(_mode), Some("blob"), Some(blob)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if path == MESSAGES {
                continue;
            }
            let versions = blobs.entry(path.to_string()).or_default();
            if !versions.iter().any(|(b, _)| b == blob) {
                versions.push((blob.to_string(), commit.to_string()));
            }
        }
    }
    // Today's blob ids, hashed the way `git add` would store the files.
    let present: Vec<&String> = blobs.keys().filter(|p| root.join(p).is_file()).collect();
    let mut today: BTreeMap<&str, String> = BTreeMap::new();
    if !present.is_empty() {
        let hashes = hash_objects(root, &present).map_err(|e| vec![e])?;
        for (p, h) in present.iter().zip(hashes) {
            today.insert(p.as_str(), h);
        }
    }
    let mut out = Vec::new();
    for (path, versions) in &blobs {
        let (_, added) = &versions[0];
        match today.get(path.as_str()) {
            None => out.push(format!(
                "{path}: golden vector deleted (committed in {}): golden vectors are never \
                 removed; restore it with `git checkout {} -- {path}`",
                short(added),
                short(added)
            )),
            Some(now) => {
                for (_, commit) in versions.iter().filter(|(blob, _)| blob != now) {
                    out.push(format!(
                        "{path}: content differs from commit {}: golden vectors are never \
                         regenerated or edited (the committed bytes are the wire format peers \
                         rely on); restore it with `git checkout {} -- {path}` and add a new \
                         vector instead",
                        short(commit),
                        short(commit)
                    ));
                }
            }
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// `git hash-object` of work-tree files (paths relative to `root`).
fn hash_objects(root: &Path, paths: &[&String]) -> Result<Vec<String>, String> {
    use std::io::Write as _;
    let mut child = git_command(root)
        .args(["hash-object", "--stdin-paths"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git hash-object: {e}"))?;
    let input: String = paths.iter().map(|p| format!("{p}\n")).collect();
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("git hash-object: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git hash-object: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git hash-object: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let hashes: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if hashes.len() != paths.len() {
        return Err(format!(
            "git hash-object returned {} ids for {} files",
            hashes.len(),
            paths.len()
        ));
    }
    Ok(hashes)
}

// ---------------------------------------------------------------------------
// releases.toml

#[path = "../../releases.rs"]
mod releases;

pub use releases::{Release, Releases};

/// Parses `releases.toml` text; `origin` names where it came from.
pub fn parse_releases(text: &str, origin: &str) -> Result<Vec<Release>, String> {
    toml::from_str::<Releases>(text)
        .map(|r| r.release)
        .map_err(|e| format!("{RELEASES} at {origin} does not parse: {e}"))
}

/// Today's releases (from the work tree).
pub fn releases_today(root: &Path) -> Result<Vec<Release>, String> {
    parse_releases(&read_today(root, RELEASES)?, "the work tree")
}

/// The highest id declared by a `components.toml` / `messages.txt` text.
fn max_ids(components: &str, messages: &str, origin: &str) -> Result<(i64, i64), String> {
    let c = parse_components(components, origin)?.len() as i64 - 1;
    let m = messages.lines().count() as i64 - 1;
    Ok((c, m))
}

/// Every release in `releases.toml` is consistent with the repository:
/// its commit is in HEAD's history (and its tag, where the clone has tags,
/// still points at it), that commit declares its max ids, today
/// declares at least as much, the list is ordered, and the file only grows.
pub fn check_releases(root: &Path) -> Result<(), Violations> {
    require_full_history(root).map_err(|e| vec![e])?;
    let releases = releases_today(root).map_err(|e| vec![e])?;
    let (today_c, today_m) = max_ids(
        &read_today(root, COMPONENTS).map_err(|e| vec![e])?,
        &read_today(root, MESSAGES).map_err(|e| vec![e])?,
        "the work tree",
    )
    .map_err(|e| vec![e])?;
    let mut out = Vec::new();
    if releases.is_empty() {
        out.push(format!(
            "{RELEASES}: lists no release; the first release (protocol-v1) is never removed"
        ));
    }
    let mut tags = HashSet::new();
    let mut previous: Option<&Release> = None;
    for (k, r) in releases.iter().enumerate() {
        let name = format!("{RELEASES}: release {k} ({})", r.tag);
        if !tags.insert(r.tag.as_str()) {
            out.push(format!(
                "{name}: the tag is listed twice; each release has its own tag"
            ));
        }
        let Some(version) = r.version() else {
            out.push(format!(
                "{name}: protocol = {:?} is not \"major.minor\"",
                r.protocol
            ));
            continue;
        };
        if let Some(p) = previous {
            if p.version().is_some_and(|pv| pv >= version) {
                out.push(format!(
                    "{name}: protocol {} is not above the previous release's {}: releases are \
                     listed oldest first, each with a higher version",
                    r.protocol, p.protocol
                ));
            }
            if r.max_component_id < p.max_component_id || r.max_message_id < p.max_message_id {
                out.push(format!(
                    "{name}: max ids ({}, {}) are below the previous release's ({}, {}): ids \
                     are never taken back",
                    r.max_component_id, r.max_message_id, p.max_component_id, p.max_message_id
                ));
            }
        }
        previous = Some(r);
        if i64::from(r.max_component_id) > today_c {
            out.push(format!(
                "{name}: max_component_id = {} but {COMPONENTS} now ends at id {today_c}: \
                 released components are never removed",
                r.max_component_id
            ));
        }
        if i64::from(r.max_message_id) > today_m {
            out.push(format!(
                "{name}: max_message_id = {} but {MESSAGES} now ends at id {today_m}: \
                 released messages are never removed",
                r.max_message_id
            ));
        }
        // The tag, when this clone has it (a clone of one branch has none:
        // the commit below is what identifies the release).
        let tag_ref = format!("refs/tags/{}", r.tag);
        if git_ok(root, &["rev-parse", "--verify", "--quiet", &tag_ref]) {
            match git(
                root,
                &["rev-parse", "--verify", &format!("{tag_ref}^{{commit}}")],
            ) {
                Ok(c) if c.trim() == r.commit => {}
                Ok(c) => out.push(format!(
                    "{name}: tag {} points at commit {} but the release commit is {}: release \
                     tags are never moved",
                    r.tag,
                    c.trim(),
                    r.commit
                )),
                Err(e) => out.push(format!("{name}: {e}")),
            }
        }
        // What the release commit declared.
        if !git_ok(
            root,
            &["cat-file", "-e", &format!("{}^{{commit}}", r.commit)],
        ) {
            out.push(format!(
                "{name}: commit {} is not in this clone (run `git fetch --unshallow`; it must be \
                 the full 40-hex id)",
                r.commit
            ));
            continue;
        }
        if !git_ok(root, &["merge-base", "--is-ancestor", &r.commit, "HEAD"]) {
            out.push(format!(
                "{name}: commit {} is not an ancestor of HEAD: a release is a commit of this \
                 branch's history",
                short(&r.commit)
            ));
        }
        let at = |path: &str| git(root, &["cat-file", "blob", &format!("{}:{path}", r.commit)]);
        match (at(COMPONENTS), at(MESSAGES)) {
            (Ok(c), Ok(m)) => match max_ids(&c, &m, &format!("commit {}", short(&r.commit))) {
                Ok((c, m)) => {
                    if c != i64::from(r.max_component_id) {
                        out.push(format!(
                            "{name}: {COMPONENTS} at commit {} ends at id {c}, not at \
                             max_component_id = {}: the entry must record what was released",
                            short(&r.commit),
                            r.max_component_id
                        ));
                    }
                    if m != i64::from(r.max_message_id) {
                        out.push(format!(
                            "{name}: {MESSAGES} at commit {} ends at id {m}, not at \
                             max_message_id = {}: the entry must record what was released",
                            short(&r.commit),
                            r.max_message_id
                        ));
                    }
                }
                Err(e) => out.push(format!("{name}: {e}")),
            },
            (Err(e), _) | (_, Err(e)) => out.push(format!("{name}: {e}")),
        }
    }
    // Append-only against its own history (none yet is fine).
    let history = file_history(root, RELEASES).map_err(|e| vec![e])?;
    let mut found = Collected::default();
    for (commit, text) in &history {
        let Some(text) = text else { continue };
        let old = match parse_releases(text, &format!("commit {}", short(commit))) {
            Ok(old) => old,
            Err(e) => {
                found.push(e);
                continue;
            }
        };
        for (k, o) in old.iter().enumerate() {
            match releases.get(k) {
                Some(n) if n == o => {}
                Some(n) => found.add(
                    RELEASES,
                    format!(
                        "release {k} ({}) was edited ({}): releases are never edited or \
                         removed; add a new one at the end",
                        o.tag,
                        release_changes(o, n).join(", ")
                    ),
                    commit,
                ),
                None => found.add(
                    RELEASES,
                    format!(
                        "release {k} ({}) was removed: releases are never edited or removed",
                        o.tag
                    ),
                    commit,
                ),
            }
        }
    }
    out.extend(found.out);
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// The fields that differ between two versions of a release, as `field: old → new`.
fn release_changes(old: &Release, new: &Release) -> Vec<String> {
    let mut c = Vec::new();
    let mut field = |name: &str, o: String, n: String| {
        if o != n {
            c.push(format!("{name}: {o} → {n}"));
        }
    };
    field("tag", format!("{:?}", old.tag), format!("{:?}", new.tag));
    field("commit", old.commit.clone(), new.commit.clone());
    field(
        "protocol",
        format!("{:?}", old.protocol),
        format!("{:?}", new.protocol),
    );
    field(
        "max_component_id",
        old.max_component_id.to_string(),
        new.max_component_id.to_string(),
    );
    field(
        "max_message_id",
        old.max_message_id.to_string(),
        new.max_message_id.to_string(),
    );
    c
}
