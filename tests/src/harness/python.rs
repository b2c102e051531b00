//! The Python provider SDK (`providers/python`) for tests: the `igloo`
//! package assembled from its Python sources and the extension module cargo
//! built (`target/<profile>/lib_igloo.so`, installed as `_igloo.abi3.so`),
//! in a directory every uid may read, so that a confined provider (its own
//! uid, Landlock) can import it through `PYTHONPATH`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::bins::bin_dir;

/// The SDK's Python sources (`providers/python/python/igloo`).
pub fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../providers/python/python/igloo")
}

/// `providers/python/examples/NAME`.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../providers/python/examples")
        .join(name)
}

/// Debian's interpreter, which a provider under its own uid can run (the
/// test venv's lives under root's home).
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// A directory holding the `igloo` package; removed on drop.
pub struct Package {
    dir: TempDir,
}

impl Package {
    /// Assembles the package.
    ///
    /// # Panics
    /// When the extension module is not built (`cargo build -p igloo-py`).
    pub fn build() -> Package {
        let module = bin_dir().join("lib_igloo.so");
        assert!(
            module.is_file(),
            "{} not found: run `cargo build -p igloo-py` first",
            module.display()
        );
        let dir = tempfile::Builder::new()
            .prefix("igloo-py-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir: {e}"));
        let pkg = dir.path().join("igloo");
        std::fs::create_dir(&pkg).unwrap_or_else(|e| panic!("{}: {e}", pkg.display()));
        for entry in std::fs::read_dir(sources()).unwrap_or_else(|e| panic!("sources: {e}")) {
            let path = entry.unwrap_or_else(|e| panic!("sources: {e}")).path();
            if let Some(name) = path.file_name() {
                copy(&path, &pkg.join(name));
            }
        }
        copy(&module, &pkg.join("_igloo.abi3.so"));
        for d in [dir.path(), pkg.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        }
        Package { dir }
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
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("{} → {}: {e}", from.display(), to.display()));
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{}: {e}", to.display()));
}
