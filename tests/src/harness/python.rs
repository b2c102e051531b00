//! The Python provider SDK (`providers/python`) for tests: the host's wheel,
//! built by `scripts/build-python-wheel` into `<target>/wheels/` (the aarch64
//! one for the appliance image goes to `<target>/wheels/aarch64/`), installed
//! with pip into a directory every uid may read, so that a confined provider
//! (its own uid, Landlock) can import it through `PYTHONPATH`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::bins::target_dir;
use super::core::ProviderSpec;
use super::fake::python;

/// `providers/python/examples/NAME`.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/python/examples")
        .join(name)
}

/// The wheel `scripts/build-python-wheel` built for this machine: in
/// `<target>/wheels/`, its platform tag ending in this machine's
/// architecture (`…_x86_64.whl`), so a cross-built wheel put there by hand
/// is never picked.
///
/// # Panics
/// When there is none, saying how to build it.
pub fn wheel() -> PathBuf {
    let dir = target_dir().join("wheels");
    let arch = format!("_{}.whl", std::env::consts::ARCH);
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("igloo-") && n.ends_with(&arch))
                })
                .collect()
        })
        .unwrap_or_default();
    wheels.sort();
    wheels.pop().unwrap_or_else(|| {
        panic!(
            "no igloo wheel for {} in {}: run scripts/build-python-wheel first",
            std::env::consts::ARCH,
            dir.display()
        )
    })
}

/// Debian's interpreter, which a provider under its own uid can run (the
/// test venv's lives under root's home).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// A directory holding the `igloo` package; removed on drop.
pub struct Package {
    dir: TempDir,
}

impl Package {
    /// Installs the wheel (`pip install --target`, no dependencies: it has none).
    ///
    /// # Panics
    /// When the wheel is not built or pip fails.
    pub fn build() -> Package {
        let dir = tempfile::Builder::new()
            .prefix("igloo-py-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        let wheel = wheel();
        let out = Command::new(python())
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-deps", "--no-compile", "--target"])
            .arg(dir.path())
            .arg(&wheel)
            .output()
            .unwrap_or_else(|e| panic!("pip: {e}"));
        assert!(
            out.status.success(),
            "pip install {}: {}",
            wheel.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        readable(dir.path());
        Package { dir }
    }

    /// The package with the Zigbee provider (`providers/zigbee/igloo_zigbee`)
    /// and its pinned dependencies (`providers/zigbee/requirements.txt`, wheels
    /// only) installed beside it.
    ///
    /// # Panics
    /// When the wheel is not built, pip fails or a file cannot be copied.
    pub fn zigbee() -> Package {
        let package = Package::build();
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../providers/zigbee");
        let out = Command::new(python())
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args([
                "--no-deps",
                "--only-binary=:all:",
                "--no-compile",
                "--target",
            ])
            .arg(package.path())
            .arg("-r")
            .arg(root.join("requirements.txt"))
            .output()
            .unwrap_or_else(|e| panic!("pip: {e}"));
        assert!(
            out.status.success(),
            "pip install -r providers/zigbee/requirements.txt: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        copy_tree(
            &root.join("igloo_zigbee"),
            &package.path().join("igloo_zigbee"),
        );
        readable(package.path());
        package
    }

    /// The Zigbee provider, confined: `python3 -m igloo_zigbee` with this
    /// package on `PYTHONPATH` and its `[provider.sandbox]` allowing reads of
    /// it; network `none`. `sandbox` holds more lines for that table.
    pub fn zigbee_provider(&self, name: &str, sandbox: &str) -> ProviderSpec {
        let dir = self.path().display().to_string();
        ProviderSpec::new(name, SYSTEM_PYTHON.into())
            .arg("-m")
            .arg("igloo_zigbee")
            .line(&format!(
                "env = {{ PYTHONPATH = {dir:?}, PYTHONDONTWRITEBYTECODE = \"1\" }}"
            ))
            .network("none")
            .table(&format!(
                "[provider.sandbox]\nread_paths = [{dir:?}]\n{sandbox}"
            ))
    }

    /// Copies `script` next to the package (readable by a provider's uid
    /// wherever the checkout is) and returns the copy's path.
    pub fn add_script(&self, script: &Path) -> PathBuf {
        let name = script
            .file_name()
            .unwrap_or_else(|| panic!("{} has no file name", script.display()));
        let to = self.dir.path().join(name);
        copy(script, &to);
        to
    }

    /// The directory to put on `PYTHONPATH`.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Provider `name`: `script` (copied next to the package) run by
    /// Debian's `python3` with the package on `PYTHONPATH`, confined like any
    /// provider; its `[provider.sandbox]` lets it read the package and the
    /// script, nothing more. `sandbox` holds more lines for that table.
    pub fn provider(&self, name: &str, script: &Path, sandbox: &str) -> ProviderSpec {
        self.unconfined_provider(name, script).table(&format!(
            "[provider.sandbox]\nread_paths = [{:?}]\n{sandbox}",
            self.path().display().to_string()
        ))
    }

    /// [`Package::provider`] without a `[provider.sandbox]` table: for a
    /// core with no sandbox (the first release), or to add `.unconfined()`.
    pub fn unconfined_provider(&self, name: &str, script: &Path) -> ProviderSpec {
        let script = self.add_script(script);
        let dir = self.path().display().to_string();
        ProviderSpec::new(name, SYSTEM_PYTHON.into())
            .arg(&script.display().to_string())
            .line(&format!(
                "env = {{ PYTHONPATH = {dir:?}, PYTHONDONTWRITEBYTECODE = \"1\" }}"
            ))
    }
}

/// `tests/python/NAME`: the Python test providers.
pub fn test_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()));
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{}: {e}", to.display()));
}

/// Copies the `*.py` files of `from` into a new directory `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry
            .unwrap_or_else(|e| panic!("{}: {e}", from.display()))
            .path();
        if path.extension().is_some_and(|e| e == "py")
            && let Some(name) = path.file_name()
        {
            copy(&path, &to.join(name));
        }
    }
}

/// Makes `dir` and everything below it readable (and the directories
/// searchable) by every uid.
fn readable(dir: &Path) {
    let mode = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    };
    mode(dir, 0o755);
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            readable(&path);
        } else {
            mode(&path, 0o644);
        }
    }
}
