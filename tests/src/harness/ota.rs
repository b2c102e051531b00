//! Over-the-air updates on the host: a [`FakeBoard`], the stand-ins for
//! RAUC's `rauc`, libubootenv's `fw_printenv` and `reboot` from
//! `tests/fixtures/ota/`, with the slots and the boot state they report.
//! Bundles are served by [`crate::harness::http::FileServer`].
//!
//! The stand-ins exist only because RAUC cannot install on the host; the
//! real RAUC, U-Boot and boot state are exercised in QEMU
//! (`tests/tests/ota.rs`). They keep their state next to themselves: each
//! board copies them into its own temporary directory.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A board with slots `A` (`rootfs.0`) and `B` (`rootfs.1`) as the
/// stand-in programs report them, their state in files next to them (see
/// `tests/fixtures/ota/rauc`). Starts booted from A with version
/// `0.2.0-test`, `BOOT_ORDER="A B"`, 3 tries each (nothing waits to be
/// marked good). A good install puts the bundle's version into the other
/// slot and makes that slot `BOOT_ORDER`'s first, as RAUC does.
pub struct FakeBoard {
    dir: TempDir,
}

impl Default for FakeBoard {
    fn default() -> Self {
        FakeBoard::new()
    }
}

impl FakeBoard {
    /// A board in a fresh temporary directory.
    ///
    /// # Panics
    /// When the directory or the stand-ins cannot be made.
    pub fn new() -> FakeBoard {
        let dir = tempfile::Builder::new()
            .prefix("igloo-test-board-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir for the board: {e}"));
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ota");
        for name in ["rauc", "fw_printenv", "reboot"] {
            let to = dir.path().join(name);
            std::fs::copy(fixtures.join(name), &to)
                .unwrap_or_else(|e| panic!("cannot copy the {name} stand-in: {e}"));
            set_mode(&to, 0o755);
        }
        let board = FakeBoard { dir };
        board.write("system.conf", "[system]\ncompatible=igloo-test\n");
        board.write("version-A", "0.2.0-test");
        board.set_boot("A", "A B", 3, 3);
        board
    }

    fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    fn read(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(name))
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    }

    /// The board's directory (stand-ins and their state).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `[ota]` section that points the core at this board's stand-ins,
    /// with `health_timeout_s`.
    pub fn ota_toml(&self, health_timeout_s: u64) -> String {
        let p = |name: &str| {
            toml::Value::String(self.dir.path().join(name).display().to_string()).to_string()
        };
        format!(
            "[ota]\nhealth_timeout_s = {health_timeout_s}\nrauc = {}\nfw_printenv = {}\nreboot = [{}, \"-f\"]\nsystem_conf = {}\n",
            p("rauc"),
            p("fw_printenv"),
            p("reboot"),
            p("system.conf"),
        )
    }

    /// Sets which slot booted, `BOOT_ORDER` and the tries left of A and B
    /// (what U-Boot's script leaves for Linux).
    pub fn set_boot(&self, booted: &str, order: &str, a_left: u32, b_left: u32) {
        self.write("booted", booted);
        self.write(
            "bootenv",
            &format!("BOOT_ORDER={order}\nBOOT_A_LEFT={a_left}\nBOOT_B_LEFT={b_left}\n"),
        );
    }

    /// Sets the bundle version and RAUC's install time of slot `bootname`.
    pub fn set_slot(&self, bootname: &str, version: &str, installed: &str) {
        self.write(&format!("version-{bootname}"), version);
        self.write(&format!("installed-{bootname}"), installed);
    }

    /// The bundle version in slot `bootname`.
    pub fn version(&self, bootname: &str) -> Option<String> {
        self.read(&format!("version-{bootname}"))
    }

    /// `BOOT_ORDER` now.
    pub fn boot_order(&self) -> Option<String> {
        self.env("BOOT_ORDER")
    }

    /// Tries left of `bootname` in the boot state now (mark-good sets 3).
    pub fn tries_left(&self, bootname: &str) -> Option<u32> {
        self.env(&format!("BOOT_{bootname}_LEFT"))
            .and_then(|v| v.parse().ok())
    }

    fn env(&self, name: &str) -> Option<String> {
        let key = format!("{name}=");
        self.read("bootenv")?
            .lines()
            .find_map(|l| l.strip_prefix(&key).map(|v| v.trim().to_string()))
    }

    /// Every call of a stand-in so far (`rauc install /path`,
    /// `rauc status mark-good`, `reboot -f` …), in order.
    pub fn calls(&self) -> Vec<String> {
        self.read("calls")
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The calls that start with `prefix`.
    pub fn calls_of(&self, prefix: &str) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.starts_with(prefix))
            .collect()
    }

    /// Lets an install of a `WAIT` bundle go on.
    pub fn release(&self) {
        self.write("release", "");
    }

    /// The bytes of the last bundle the stand-in installed.
    pub fn installed(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.path().join("installed")).ok()
    }

    /// Writes a bundle for the stand-in into the board's directory (see
    /// [`bundle_bytes`]) and returns its path.
    pub fn bundle(&self, name: &str, first_line: &str, version: &str, size: usize) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bundle_bytes(first_line, version, size))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

/// A bundle's bytes for the stand-in `rauc`: `first_line` (`OK`, `WAIT`,
/// `FAIL <LastError>`), `version=<version>`, then a counting pattern up to
/// `size` bytes (so a misplaced range shows in a comparison).
pub fn bundle_bytes(first_line: &str, version: &str, size: usize) -> Vec<u8> {
    let mut b = format!("{first_line}\nversion={version}\n").into_bytes();
    let head = b.len();
    let mut i: u32 = 0;
    while b.len() < size {
        b.extend_from_slice(format!("{i:08}\n").as_bytes());
        i += 1;
    }
    b.truncate(size.max(head));
    b
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}
