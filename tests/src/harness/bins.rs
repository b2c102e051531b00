//! Locating the workspace binaries (`igloo`, `igloo-mqtt`, `igloo-test-provider`).
//!
//! Integration tests run from `target/<profile>/deps/`; the binaries of the
//! workspace are built into `target/<profile>/`. Set `IGLOO_BIN_DIR` to use
//! binaries from elsewhere.

use std::path::PathBuf;

/// The directory holding the workspace binaries.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IGLOO_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe()
        .unwrap_or_else(|e| panic!("cannot locate the test executable: {e}"));
    let mut dir = exe
        .parent()
        .unwrap_or_else(|| panic!("test executable {} has no parent", exe.display()))
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// The cargo target directory holding [`bin_dir`] (`target/` for
/// `target/debug`); release builds for the compatibility tests go below it
/// (`compat/`, see [`crate::harness::compat`]).
pub fn target_dir() -> PathBuf {
    let bins = bin_dir();
    bins.parent()
        .map_or_else(|| bins.clone(), std::path::Path::to_path_buf)
}

/// The path of workspace binary `name`.
///
/// # Panics
/// If it is not built, telling how to build it.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    if !path.is_file() {
        panic!(
            "{} not found: run `cargo build --workspace --bins` first",
            path.display()
        );
    }
    path
}
