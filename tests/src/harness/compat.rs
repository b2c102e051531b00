//! Binaries built from the source of a released protocol version, for the
//! compatibility tests (`tests/tests/compat.rs`): an old provider under
//! today's core, today's providers under an old core. Real binaries, built
//! from the release's commit, not simulations.
//!
//! Releases are listed in `core/protocol/releases.toml` (tag, commit, max
//! ids). For a release the harness
//! 1. checks that the recorded commit is in the clone and, where the clone
//!    has the git tag (a single-branch clone has none), that the tag points
//!    at it,
//! 2. extracts `git archive <commit>` into `<target dir>/compat/<tag>/src`
//!    (once; `src.stamp` holding the commit marks a complete extraction, so a
//!    half-extracted tree is redone),
//! 3. runs `cargo build --locked` there for [`RELEASE_BINARIES`] with
//!    `CARGO_TARGET_DIR=<target dir>/compat/<tag>/target`, so today's binaries
//!    in `target/debug` are never overwritten. Cargo makes repeated builds
//!    no-ops; the first one takes minutes.
//!
//! Builds are serialised within the test process (one at a time, each tag
//! built at most once) and across processes by a lock file next to the tree.
//! `IGLOO_COMPAT_DIR=/some/dir` puts the trees elsewhere.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use nix::fcntl::{Flock, FlockArg};

use crate::harness::bins::target_dir;
use crate::harness::core::ProviderSpec;
use crate::harness::mosquitto::Mosquitto;

/// The binaries built for every release (`cargo build --bin …`).
pub const RELEASE_BINARIES: [&str; 3] = ["igloo", "igloo-test-provider", "igloo-mqtt"];

/// The first protocol release (core 0.1.0, protocol 1.0).
pub const PROTOCOL_V1: &str = "protocol-v1";

#[path = "../../../core/protocol/releases.rs"]
mod releases;

pub use releases::Release;
use releases::Releases;

/// The workspace this test crate belongs to (the parent of `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .unwrap_or_else(|| panic!("{} has no parent", manifest.display()))
        .to_path_buf()
}

/// `core/protocol/releases.toml` of this workspace.
pub fn releases_file() -> PathBuf {
    workspace_root().join("core/protocol/releases.toml")
}

/// Every release listed in `core/protocol/releases.toml`, in file order.
///
/// # Panics
/// If the file cannot be read or parsed.
pub fn releases() -> Vec<Release> {
    let path = releases_file();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: Releases =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid: {e}", path.display()));
    file.release
}

/// The release with tag `tag`.
///
/// # Panics
/// If `releases.toml` does not list it.
pub fn release(tag: &str) -> Release {
    let all = releases();
    all.iter()
        .find(|r| r.tag == tag)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{} lists no release {tag:?}; it lists {:?}",
                releases_file().display(),
                all.iter().map(|r| &r.tag).collect::<Vec<_>>()
            )
        })
}

/// Where release trees are built: `IGLOO_COMPAT_DIR`, else `compat/` in the
/// target directory that holds today's binaries.
pub fn compat_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("IGLOO_COMPAT_DIR") {
        return PathBuf::from(dir);
    }
    target_dir().join("compat")
}

/// `<compat root>/<tag>`: the release's `src`, `target` and stamp.
pub fn release_dir(tag: &str) -> PathBuf {
    compat_root().join(tag)
}

/// The workspace version (`[workspace.package] version`) of release `tag`,
/// read from its extracted source (builds it first if needed).
pub fn release_version(tag: &str) -> String {
    build_release(tag);
    let manifest = release_dir(tag).join("src/Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
    let doc: toml::Table =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{} is invalid: {e}", manifest.display()));
    doc.get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("{} has no [workspace.package] version", manifest.display()))
        .to_string()
}

/// The path of binary `name` (one of [`RELEASE_BINARIES`]) built from the
/// source of release `tag`, building it on first use.
///
/// # Panics
/// If the tag is unknown or missing from the clone, or the build fails.
pub fn release_bin(tag: &str, name: &str) -> PathBuf {
    assert!(
        RELEASE_BINARIES.contains(&name),
        "release binaries are {RELEASE_BINARIES:?}, not {name:?}"
    );
    let path = build_release(tag).join(name);
    assert!(
        path.is_file(),
        "cargo built release {tag} but {} is missing",
        path.display()
    );
    path
}

/// The MQTT provider of release `tag` on `broker` with base topic `zigbee2mqtt`.
pub fn release_mqtt(tag: &str, name: &str, broker: &Mosquitto) -> ProviderSpec {
    ProviderSpec::new(name, release_bin(tag, "igloo-mqtt"))
        .config("broker", broker.address())
        .config("base_topic", "zigbee2mqtt")
}

/// The test provider of release `tag` in `mode` (set in `[provider.config]`).
pub fn release_test_provider(tag: &str, name: &str, mode: &str) -> ProviderSpec {
    ProviderSpec::new(name, release_bin(tag, "igloo-test-provider")).config("mode", mode)
}

/// Builds release `tag` (see the module docs) and returns the directory
/// holding its binaries. At most one build runs at a time in this process, and
/// each tag is built once per process.
///
/// # Panics
/// If the tag is unknown, missing or moved, or extraction or the build fails
/// (with the tail of cargo's output).
pub fn build_release(tag: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    // A build that panicked poisons the lock; the next caller simply tries again.
    let mut built = BUILT
        .get_or_init(|| Mutex::new(BTreeMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(dir) = built.get(tag) {
        return dir.clone();
    }
    let r = release(tag);
    check_tag(&r);
    let dir = release_dir(tag);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    // Other processes (scripts/test's pre-build, another test binary) wait here.
    let lock_path = dir.join("build.lock");
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .unwrap_or_else(|(_, e)| panic!("cannot lock {}: {e}", lock_path.display()));
    extract(&r, &dir);
    let bins = cargo_build(&r, &dir);
    built.insert(tag.to_string(), bins.clone());
    bins
}

fn git(args: &[&str]) -> std::process::Output {
    let root = workspace_root();
    Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run git ({e}); is git installed?"))
}

/// Panics unless commit `r.commit` is in this clone and, where the clone has
/// tag `r.tag` (a clone of one branch has none), the tag points at it.
fn check_tag(r: &Release) {
    let root = workspace_root();
    let spec = format!("{}^{{commit}}", r.commit);
    if !git(&["cat-file", "-e", &spec]).status.success() {
        panic!(
            "release {tag}: commit {commit} is not in this clone ({root}); the compatibility \
             tests build the release from it: run `git fetch --unshallow` in a shallow clone",
            tag = r.tag,
            commit = r.commit,
            root = root.display()
        );
    }
    let out = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("refs/tags/{}^{{commit}}", r.tag),
    ]);
    if !out.status.success() {
        return;
    }
    let commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        commit,
        r.commit,
        "git tag {} points at {commit}, but {} records commit {}: the tag was moved \
         (releases are frozen; fetch the original tag with `git fetch --tags --force`)",
        r.tag,
        releases_file().display(),
        r.commit
    );
}

/// Extracts the release's source into `<dir>/src` unless `<dir>/src.stamp`
/// says it is complete.
fn extract(r: &Release, dir: &Path) {
    let src = dir.join("src");
    let stamp = dir.join("src.stamp");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == r.commit) && src.is_dir() {
        return;
    }
    eprintln!(
        "igloo-tests: extracting {} ({}) into {}",
        r.tag,
        r.commit,
        src.display()
    );
    let _ = std::fs::remove_file(&stamp);
    if src.exists() {
        std::fs::remove_dir_all(&src)
            .unwrap_or_else(|e| panic!("cannot remove the partial tree {}: {e}", src.display()));
    }
    std::fs::create_dir_all(&src)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", src.display()));
    let tar = dir.join("src.tar");
    let out = git(&[
        "archive",
        "--format=tar",
        "-o",
        &tar.to_string_lossy(),
        &r.commit,
    ]);
    if !out.status.success() {
        panic!(
            "git archive {} failed ({}): {}",
            r.commit,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&src)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run tar: {e}"));
    if !out.status.success() {
        panic!(
            "extracting {} into {} failed ({}): {}",
            tar.display(),
            src.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_file(&tar);
    std::fs::write(&stamp, format!("{}\n", r.commit))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", stamp.display()));
}

/// `cargo build --locked` of [`RELEASE_BINARIES`] in `<dir>/src` into
/// `<dir>/target`; returns `<dir>/target/debug`.
fn cargo_build(r: &Release, dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let target = dir.join("target");
    let bins = target.join("debug");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&src).args(["build", "--locked"]);
    for b in RELEASE_BINARIES {
        cmd.args(["--bin", b]);
    }
    // The release is built as it was released: not with today's flags (a newer
    // compiler's warnings must not fail it under `-D warnings`), and never
    // into today's target dir. Without debug info or incremental state: the
    // binaries are only run, and a whole second build's debug info is
    // gigabytes on a CI machine's disk.
    cmd.env("CARGO_TARGET_DIR", &target)
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        .env("CARGO_INCREMENTAL", "0")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("IGLOO_BIN_DIR")
        .stdin(Stdio::null());
    let fresh = RELEASE_BINARIES.iter().all(|b| bins.join(b).is_file());
    eprintln!(
        "igloo-tests: building {} from {} in {}{}",
        r.tag,
        r.commit,
        src.display(),
        if fresh {
            " (up to date unless its sources changed)"
        } else {
            " (first time takes minutes)"
        }
    );
    let started = Instant::now();
    // cargo reports on stderr; each line is shown as it comes (visible with
    // --nocapture, e.g. in scripts/test) and the tail is kept for a failure.
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}); set CARGO to the cargo executable",
                Path::new(&cargo).display()
            )
        });
    let mut tail = std::collections::VecDeque::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            eprintln!("  [{}] {line}", r.tag);
            if tail.len() == 60 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let status = child
        .wait()
        .unwrap_or_else(|e| panic!("waiting for cargo: {e}"));
    if !status.success() {
        let tail: Vec<String> = tail.into_iter().collect();
        panic!(
            "building release {} ({}) failed ({status}): `cargo build --locked` in {} with \
             CARGO_TARGET_DIR={}; output tail:\n{}",
            r.tag,
            r.commit,
            src.display(),
            target.display(),
            tail.join("\n")
        );
    }
    eprintln!(
        "igloo-tests: {} built in {:.1}s: {}",
        r.tag,
        started.elapsed().as_secs_f64(),
        bins.display()
    );
    bins
}
