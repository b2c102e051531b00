//! RAUC bundles for the update tests, made by the project's own
//! `scripts/make-bundle` from the rootfs `scripts/build-image` left in the
//! target dir, and the broken ones a gateway must refuse (each made the way
//! it happens in the field: signed by someone else, cut short, a flipped
//! byte, another board's, no signature at all).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::bins::target_dir;
use crate::harness::qemu::run;

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Makes bundles into a private directory (removed when dropped).
pub struct Bundles {
    dir: tempfile::TempDir,
    board: String,
}

impl Bundles {
    /// Bundles for `board` (its rootfs must have been built).
    ///
    /// # Panics
    /// If the rootfs is missing.
    pub fn new(board: &str) -> Bundles {
        let b = Bundles {
            dir: tempfile::Builder::new()
                .prefix("igloo-bundles-")
                .tempdir()
                .unwrap_or_else(|e| panic!("temporary dir: {e}")),
            board: board.to_string(),
        };
        assert!(
            b.rootfs().is_file(),
            "{} missing: build the image first (scripts/build-image {board})",
            b.rootfs().display()
        );
        b
    }

    /// The directory the bundles are in (serve it to a guest).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The slot image `scripts/build-image` made.
    pub fn rootfs(&self) -> PathBuf {
        target_dir()
            .join("image-work")
            .join(&self.board)
            .join("input/rootfs.ext4")
    }

    fn make_bundle(
        &self,
        board: &str,
        rootfs: &Path,
        version: &str,
        out: &Path,
        env: &[(&str, PathBuf)],
    ) {
        let mut cmd = Command::new("bash");
        cmd.arg(repo().join("scripts/make-bundle"))
            .arg(board)
            .arg("--rootfs")
            .arg(rootfs)
            .arg("--version")
            .arg(version)
            .arg("--out")
            .arg(out);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let stdout = run(&mut cmd);
        eprintln!("{}", String::from_utf8_lossy(&stdout).trim());
    }

    /// A good bundle of the built rootfs, installed as `version`
    /// (`<dir>/<version>.raucb`).
    pub fn good(&self, version: &str) -> PathBuf {
        let out = self.dir().join(format!("{version}.raucb"));
        self.make_bundle(&self.board, &self.rootfs(), version, &out, &[]);
        out
    }

    /// A signed, valid bundle whose system never becomes healthy: its MQTT
    /// provider's executable exits at once, so that provider never gets
    /// past its handshake.
    pub fn unhealthy(&self, version: &str) -> PathBuf {
        self.with_failing_program(version, "/usr/libexec/igloo/igloo-mqtt")
    }

    /// A signed, valid bundle whose core never starts: its `igloo` exits at
    /// once (only the boot guard can end such a boot).
    pub fn core_never_starts(&self, version: &str) -> PathBuf {
        self.with_failing_program(version, "/usr/libexec/igloo/igloo")
    }

    /// The rootfs with the program at `exe` replaced by a script that says
    /// "broken on purpose" and exits 1, bundled as `version`.
    fn with_failing_program(&self, version: &str, exe: &str) -> PathBuf {
        let rootfs = self.dir().join(format!("{version}.ext4"));
        std::fs::copy(self.rootfs(), &rootfs).unwrap_or_else(|e| panic!("copy the rootfs: {e}"));
        let script = self.dir().join("exit-1.sh");
        std::fs::write(&script, "#!/bin/sh\necho 'broken on purpose' >&2\nexit 1\n")
            .unwrap_or_else(|e| panic!("write {}: {e}", script.display()));
        let cmds = format!(
            "rm {exe}\nwrite {} {exe}\nset_inode_field {exe} mode 0100755\n",
            script.display()
        );
        let mut debugfs = Command::new("debugfs");
        debugfs.args(["-w", "-f", "-"]).arg(&rootfs);
        crate::harness::qemu::run_with_input(&mut debugfs, cmds.as_bytes());
        let out = self.dir().join(format!("{version}.raucb"));
        self.make_bundle(&self.board, &rootfs, version, &out, &[]);
        let _ = std::fs::remove_file(&rootfs);
        out
    }

    /// Signed by a CA the gateway does not trust.
    pub fn other_ca(&self) -> PathBuf {
        let keys = self.dir().join("other-keys");
        run(Command::new("bash").arg("-c").arg(format!(
            ". {}/scripts/lib.sh && rauc_dev_keys {} >/dev/null",
            repo().display(),
            keys.display()
        )));
        let out = self.dir().join("other-ca.raucb");
        self.make_bundle(
            &self.board,
            &self.rootfs(),
            "other-ca",
            &out,
            &[
                ("IGLOO_RAUC_CERT", keys.join("signing.cert.pem")),
                ("IGLOO_RAUC_KEY", keys.join("signing.key.pem")),
                ("IGLOO_RAUC_KEYRING", keys.join("ca.cert.pem")),
            ],
        );
        out
    }

    /// Properly signed, for another board (`compatible=igloo-<other>`).
    pub fn other_board(&self, other: &str) -> PathBuf {
        let out = self.dir().join(format!("{other}.raucb"));
        self.make_bundle(other, &self.rootfs(), "other-board", &out, &[]);
        out
    }

    /// `good` with one byte of its payload flipped (at a third of the file).
    pub fn tampered(&self, good: &Path) -> PathBuf {
        let mut bytes =
            std::fs::read(good).unwrap_or_else(|e| panic!("read {}: {e}", good.display()));
        let at = bytes.len() / 3;
        bytes[at] ^= 0xff;
        let out = self.dir().join("tampered.raucb");
        std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
        out
    }

    /// The first half of `good`.
    pub fn truncated(&self, good: &Path) -> PathBuf {
        let bytes = std::fs::read(good).unwrap_or_else(|e| panic!("read {}: {e}", good.display()));
        let out = self.dir().join("truncated.raucb");
        std::fs::write(&out, &bytes[..bytes.len() / 2])
            .unwrap_or_else(|e| panic!("write {}: {e}", out.display()));
        out
    }

    /// A bundle's contents (manifest and rootfs) packed as RAUC packs them,
    /// without a signature.
    pub fn unsigned(&self) -> PathBuf {
        let content = self.dir().join("unsigned-content");
        std::fs::create_dir_all(&content).unwrap_or_else(|e| panic!("mkdir: {e}"));
        std::fs::write(
            content.join("manifest.raucm"),
            format!(
                "[update]\ncompatible=igloo-{}\nversion=unsigned\n\n[image.rootfs]\nfilename=rootfs.ext4\n",
                self.board
            ),
        )
        .unwrap_or_else(|e| panic!("write the manifest: {e}"));
        std::fs::copy(self.rootfs(), content.join("rootfs.ext4"))
            .unwrap_or_else(|e| panic!("copy the rootfs: {e}"));
        let out = self.dir().join("unsigned.raucb");
        run(Command::new("mksquashfs").arg(&content).arg(&out).args([
            "-all-root",
            "-noappend",
            "-no-progress",
            "-quiet",
        ]));
        let _ = std::fs::remove_dir_all(&content);
        out
    }
}
