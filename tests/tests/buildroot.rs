//! The Buildroot BR2_EXTERNAL tree (`buildroot/`), checked without building
//! it (Buildroot downloads every source from upstream, which CI cannot):
//!
//! - `tests/buildroot/check.py` (kconfiglib, from the test venv) passes on
//!   the tree: Kconfig parses without warnings, the defconfigs are well
//!   formed and agree with `image/layout.env` and `image/boards/*.conf`,
//!   every referenced path exists, the scripts pass `bash -n` and are
//!   executable, the kernel fragment has what the core relies on.
//! - the checker is proven able to fail: on copies of the repository broken
//!   on purpose (a Kconfig syntax error, a missing referenced file, a rootfs
//!   size that disagrees with `image/layout.env`, and more) it fails and
//!   names the problem.
//! - `tests/buildroot/smoke.sh` runs the board's post-build and post-image
//!   scripts as Buildroot would, on a stand-in Buildroot output, with the
//!   real `image/` files and genimage, and checks the disk image.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use igloo_tests::harness::fake::python;

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| panic!("tests/ has no parent"))
        .to_path_buf()
}

/// The test venv's Python, which must have kconfiglib.
///
/// # Panics
/// If the venv is missing or lacks kconfiglib, saying how to fix it.
fn checker_python() -> PathBuf {
    let py = python();
    let probe = Command::new(&py)
        .args(["-c", "import kconfiglib"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    assert!(
        probe.status.success(),
        "kconfiglib is missing from the test Python {py}:\n{err}\n\
         It is pinned in tests/fakes/requirements.txt: run scripts/test (it rebuilds the \
         venv when that file changes), or `{py} -m pip install -r tests/fakes/requirements.txt`.",
        py = py.display(),
        err = String::from_utf8_lossy(&probe.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    py
}

/// What a run of the checker printed, and whether it passed.
struct CheckRun {
    passed: bool,
    code: Option<i32>,
    output: String,
}

/// Runs `tests/buildroot/check.py` of the repository at `root` on itself.
fn run_checker(root: &Path) -> CheckRun {
    let py = checker_python();
    let script = root.join("tests/buildroot/check.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg("--repo")
        .arg(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {}: {e}", py.display(), script.display()));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(
        out.status.code(),
        Some(2),
        "check.py could not run (exit 2):\n{output}"
    );
    CheckRun {
        passed: out.status.success(),
        code: out.status.code(),
        output,
    }
}

/// Copies the repository (without build outputs and git metadata) to a
/// temporary directory, for breaking on purpose.
fn repo_copy() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("igloo-buildroot-check-")
        .tempdir()
        .unwrap_or_else(|e| panic!("cannot make a temporary directory: {e}"));
    copy_tree(&repo(), dir.path(), true);
    dir
}

fn copy_tree(from: &Path, to: &Path, top: bool) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let entries = fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
        let name = entry.file_name();
        if top && [".git", "target", ".igloo-data"].iter().any(|s| name == *s) {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("stat {}: {e}", src.display()));
        if kind.is_symlink() {
            let link =
                fs::read_link(&src).unwrap_or_else(|e| panic!("readlink {}: {e}", src.display()));
            std::os::unix::fs::symlink(&link, &dst)
                .unwrap_or_else(|e| panic!("symlink {}: {e}", dst.display()));
        } else if kind.is_dir() {
            copy_tree(&src, &dst, false);
        } else if kind.is_file() {
            // fs::copy keeps the permission bits (the scripts' executable bit).
            fs::copy(&src, &dst)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), dst.display()));
        }
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Replaces the first `from` in the file with `to`; the file must contain it.
fn edit(path: &Path, from: &str, to: &str) {
    let text = read(path);
    assert!(
        text.contains(from),
        "{} no longer contains {from:?}; update this test",
        path.display()
    );
    write(path, &text.replacen(from, to, 1));
}

/// The checker fails on the broken copy, and a FAIL line mentions every needle.
fn assert_fails_naming(broken: &Path, what: &str, needles: &[&str]) {
    let run = run_checker(broken);
    assert!(
        !run.passed,
        "check.py passed on a copy with {what} (exit {:?}); it must fail:\n{}",
        run.code, run.output
    );
    let fails: Vec<&str> = run
        .output
        .lines()
        .filter(|l| l.starts_with("FAIL: "))
        .collect();
    assert!(
        fails.iter().any(|l| needles.iter().all(|n| l.contains(n))),
        "check.py failed on a copy with {what}, but no FAIL line names {needles:?}:\n{}",
        run.output
    );
    eprintln!("{what}: caught\n  {}", fails.join("\n  "));
}

#[test]
fn checker_passes_on_the_tree() {
    let run = run_checker(&repo());
    assert!(
        run.passed,
        "tests/buildroot/check.py fails on buildroot/ (exit {:?}):\n{}",
        run.code, run.output
    );
    assert!(
        run.output.contains("buildroot checks passed"),
        "unexpected checker output:\n{}",
        run.output
    );
    eprintln!("{}", run.output);
}

#[test]
fn checker_fails_on_a_kconfig_syntax_error() {
    let copy = repo_copy();
    let config_in = copy.path().join("buildroot/package/igloo/Config.in");
    edit(
        &config_in,
        "\tdepends on BR2_USE_MMU",
        "\tdepends on BR2_USE_MMU &&",
    );
    assert_fails_naming(
        copy.path(),
        "a Kconfig syntax error",
        &["Kconfig", "package/igloo/Config.in"],
    );
}

#[test]
fn checker_fails_on_a_missing_referenced_file() {
    let copy = repo_copy();
    let fragment = copy.path().join("buildroot/board/igloo/linux.fragment");
    fs::remove_file(&fragment).unwrap_or_else(|e| panic!("rm {}: {e}", fragment.display()));
    assert_fails_naming(
        copy.path(),
        "the kernel fragment removed",
        &["board/igloo/linux.fragment", "does not exist"],
    );
}

#[test]
fn checker_fails_on_a_rootfs_size_mismatch() {
    let copy = repo_copy();
    let defconfig = copy
        .path()
        .join("buildroot/configs/igloo_rpi4_64_defconfig");
    let text = read(&defconfig);
    let line = text
        .lines()
        .find(|l| l.starts_with("BR2_TARGET_ROOTFS_EXT2_SIZE="))
        .unwrap_or_else(|| panic!("{} sets no rootfs size", defconfig.display()))
        .to_string();
    edit(&defconfig, &line, "BR2_TARGET_ROOTFS_EXT2_SIZE=\"999M\"");
    assert_fails_naming(
        copy.path(),
        "a rootfs size that disagrees with image/layout.env",
        &["igloo_rpi4_64_defconfig", "rootfs size mismatch", "999M"],
    );
}

#[test]
fn checker_fails_on_a_layout_change_the_defconfigs_miss() {
    // The other direction: image/layout.env changes, the defconfigs do not.
    let copy = repo_copy();
    let layout = copy.path().join("image/layout.env");
    let text = read(&layout);
    let line = text
        .lines()
        .find(|l| l.starts_with("IGLOO_ROOTA_LABEL="))
        .unwrap_or_else(|| panic!("{} sets no IGLOO_ROOTA_LABEL", layout.display()))
        .to_string();
    edit(&layout, &line, "IGLOO_ROOTA_LABEL=renamed-rootA");
    assert_fails_naming(
        copy.path(),
        "a slot A label changed in image/layout.env only",
        &["rootfs label mismatch", "renamed-rootA"],
    );
}

#[test]
fn checker_fails_on_other_breakage() {
    type Breakage = (&'static str, fn(&Path), &'static [&'static str]);
    let cases: [Breakage; 7] = [
        (
            "a defconfig line that is not BR2_X=value",
            |root| {
                let d = root.join("buildroot/configs/igloo_qemu_aarch64_virt_defconfig");
                let text = read(&d);
                write(&d, &format!("{text}BR2_PACKAGE_MOSQUITTO = y\n"));
            },
            &[
                "igloo_qemu_aarch64_virt_defconfig",
                "not a BR2_SYMBOL=value line",
            ],
        ),
        (
            "a BR2_PACKAGE_IGLOO* symbol our Kconfig does not define",
            |root| {
                let d = root.join("buildroot/configs/igloo_rpi3_64_defconfig");
                let text = read(&d);
                write(&d, &format!("{text}BR2_PACKAGE_IGLOO_ZIGBEE=y\n"));
            },
            &["BR2_PACKAGE_IGLOO_ZIGBEE", "not defined"],
        ),
        (
            "a Kconfig dependency on a symbol nothing defines",
            |root| {
                edit(
                    &root.join("buildroot/package/igloo/Config.in"),
                    "\tdepends on BR2_USE_MMU",
                    "\tdepends on BR2_USE_MMU\n\tdepends on BR2_PACKAGE_NO_SUCH_THING",
                );
            },
            &["BR2_PACKAGE_NO_SUCH_THING", "undefined symbol"],
        ),
        (
            "a post-build script that lost its executable bit",
            |root| {
                let p = root.join("buildroot/board/igloo/post-build.sh");
                fs::set_permissions(&p, fs::Permissions::from_mode(0o644))
                    .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
            },
            &["post-build.sh", "not executable"],
        ),
        (
            "a shell syntax error in post-image.sh",
            |root| {
                let p = root.join("buildroot/board/igloo/post-image.sh");
                let text = read(&p);
                write(&p, &format!("{text}\nif true; then\n"));
            },
            &["post-image.sh", "-n"],
        ),
        (
            "a board without image/boards/<board>.conf",
            |root| {
                edit(
                    &root.join("buildroot/configs/igloo_rpi3_64_defconfig"),
                    "BR2_ROOTFS_POST_SCRIPT_ARGS=\"rpi3\"",
                    "BR2_ROOTFS_POST_SCRIPT_ARGS=\"rpi2\"",
                );
            },
            &["rpi2", "image/boards/rpi2.conf"],
        ),
        (
            "Landlock dropped from the kernel's LSM list",
            |root| {
                edit(
                    &root.join("buildroot/board/igloo/linux.fragment"),
                    "CONFIG_LSM=\"landlock,",
                    "CONFIG_LSM=\"",
                );
            },
            &["CONFIG_LSM", "landlock"],
        ),
    ];
    for (what, break_it, needles) in cases {
        let copy = repo_copy();
        break_it(copy.path());
        assert_fails_naming(copy.path(), what, needles);
    }
}

#[test]
fn post_scripts_build_a_disk_image_for_every_board() {
    let script = repo().join("tests/buildroot/smoke.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.code() != Some(2),
        "tests/buildroot/smoke.sh needs image tools that are not installed:\n{output}"
    );
    assert!(
        out.status.success(),
        "board/igloo/post-build.sh + post-image.sh did not make a good image:\n{output}"
    );
    assert!(
        output.contains("smoke: passed"),
        "unexpected smoke.sh output:\n{output}"
    );
    for line in output.lines().filter(|l| l.contains(": ok (")) {
        eprintln!("{line}");
    }
}
