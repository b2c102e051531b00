//! The boot state (docs/adr/0005-boot-state.md) as U-Boot and Linux share
//! it: the image's own boot script (`image/boot/boot.cmd`), run by Debian's
//! real U-Boot for QEMU `virt`, and libubootenv's `fw_setenv`/`fw_printenv`
//! (what RAUC runs on the board), on one small disk that holds only the boot
//! FAT and the two copies of the state, made by the builders' own
//! `image/boot/boot-state.sh`. With no rootfs slots every boot ends at "slot
//! cannot be booted", which is enough to see which slot the script chose and
//! what it saved; a boot takes a few seconds.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use igloo_tests::harness::qemu::{EnvLayout, UBOOT_QEMU_ARM64, run};

/// A boot that chooses a slot and resets takes ~3 s under TCG; this bounds
/// a loaded machine (QEMU is killed then and the test fails).
const BOOT_LIMIT: Duration = Duration::from_secs(90);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A raw disk: GPT, partition 1 a FAT with boot.scr at 1 MiB, the boot state
/// at `IGLOO_ENV_OFFSET` as a new image has it.
struct MiniDisk {
    dir: tempfile::TempDir,
    img: PathBuf,
    layout: EnvLayout,
}

impl MiniDisk {
    fn new() -> MiniDisk {
        let dir = tempfile::Builder::new()
            .prefix("igloo-boot-state-")
            .tempdir()
            .expect("a temporary dir");
        let img = dir.path().join("disk.img");
        let script = r#"
set -euo pipefail
repo=$1; dir=$2
. "$repo/image/layout.env"
. "$repo/image/boot/boot-state.sh"
boot_state_check "$repo/image/boot/boot.cmd"
mkimage -A arm64 -T script -C none -n "igloo boot" -d "$repo/image/boot/boot.cmd" "$dir/boot.scr" >/dev/null
boot_state_image "$dir/uboot-env.img"
truncate -s 8M "$dir/fat.img"
mkfs.vfat -n IGLOO-BOOT "$dir/fat.img" >/dev/null
mcopy -i "$dir/fat.img" "$dir/boot.scr" ::/boot.scr
truncate -s 16M "$dir/disk.img"
printf 'label: gpt\nstart=2048, size=16384, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' | sfdisk -q "$dir/disk.img"
dd if="$dir/fat.img" of="$dir/disk.img" bs=1M seek=1 conv=notrunc status=none
dd if="$dir/uboot-env.img" of="$dir/disk.img" bs=512 seek=$((IGLOO_ENV_OFFSET / 512)) conv=notrunc status=none
"#;
        run(Command::new("bash")
            .arg("-c")
            .arg(script)
            .arg("mini-disk")
            .arg(repo())
            .arg(dir.path()));
        let layout = EnvLayout::of_repo();
        let disk = MiniDisk { dir, img, layout };
        std::fs::write(
            disk.fw_env_config(),
            format!(
                "{f} {o:#x} {n:#x}\n{f} {o2:#x} {n:#x}\n",
                f = disk.img.display(),
                o = layout.offset,
                o2 = layout.offset + layout.size,
                n = layout.size
            ),
        )
        .expect("write fw_env.config");
        disk
    }

    fn fw_env_config(&self) -> PathBuf {
        self.dir.path().join("fw_env.config")
    }

    /// `fw_setenv -s` with `name=value` lines (libubootenv's script
    /// format): several variables in one write.
    fn fw_setenv(&self, lines: &str) {
        let script = self.dir.path().join("setenv.txt");
        std::fs::write(&script, lines).expect("write the fw_setenv script");
        run(Command::new("fw_setenv")
            .arg("-c")
            .arg(self.fw_env_config())
            .arg("-s")
            .arg(&script));
    }

    /// `fw_printenv -n name`: what Linux (RAUC) reads.
    fn fw_printenv(&self, name: &str) -> Option<String> {
        let out = Command::new("fw_printenv")
            .arg("-c")
            .arg(self.fw_env_config())
            .arg("-n")
            .arg(name)
            .output()
            .expect("run fw_printenv");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.img).expect("read the disk")
    }

    /// Copy `i` as stored: (CRC right, flag byte).
    fn copy(&self, i: u64) -> (bool, u8) {
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
        let bytes = self.bytes();
        let at = (self.layout.offset + i * self.layout.size) as usize;
        let c = &bytes[at..at + self.layout.size as usize];
        let stored = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        (crc.checksum(&c[5..]) == stored, c[4])
    }

    /// Overwrites `len` bytes at `offset` within copy `i` with `byte`.
    fn scribble(&self, i: u64, offset: u64, len: usize, byte: u8) {
        let mut bytes = self.bytes();
        let at = (self.layout.offset + i * self.layout.size + offset) as usize;
        bytes[at..at + len].fill(byte);
        std::fs::write(&self.img, bytes).expect("write the disk");
    }

    /// Boots U-Boot on the disk until the boot script resets the board
    /// (QEMU exits: -no-reboot) and returns the console.
    fn boot(&self) -> String {
        let mut child = Command::new("qemu-system-aarch64")
            .args(["-M", "virt", "-cpu", "cortex-a72", "-m", "256"])
            .args(["-bios", UBOOT_QEMU_ARM64])
            .args(["-nographic", "-no-reboot", "-nic", "none"])
            .arg("-drive")
            .arg(format!(
                "if=none,format=raw,id=d,file={}",
                self.img.display()
            ))
            .args(["-device", "virtio-blk-pci,drive=d"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qemu-system-aarch64 (qemu-system-arm installed?)");
        let started = std::time::Instant::now();
        loop {
            if child.try_wait().expect("wait for QEMU").is_some() {
                break;
            }
            if started.elapsed() > BOOT_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("U-Boot did not reset the board within {BOOT_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("QEMU's console");
        String::from_utf8_lossy(&out.stdout).replace('\r', "")
    }
}

/// The slot the script chose on this boot, from its "igloo: slot X, …" line.
fn chosen_slot(console: &str) -> Option<String> {
    console
        .lines()
        .find_map(|l| l.strip_prefix("igloo: slot "))
        .and_then(|rest| rest.split(',').next())
        .map(str::to_string)
}

fn lines_of<'a>(console: &'a str, prefix: &str) -> Vec<&'a str> {
    console.lines().filter(|l| l.starts_with(prefix)).collect()
}

#[test]
fn u_boot_and_fw_setenv_read_and_write_one_boot_state() {
    let disk = MiniDisk::new();
    // A new image: copy 0 valid (flag 1), copy 1 empty.
    assert_eq!(disk.copy(0), (true, 1));
    assert!(!disk.copy(1).0);
    assert_eq!(disk.fw_printenv("BOOT_ORDER").as_deref(), Some("A B"));

    // First boot: slot A takes a try, cannot be loaded (no rootfs here) and
    // gives up its tries; each save goes to the older copy.
    let console = disk.boot();
    assert_eq!(chosen_slot(&console).as_deref(), Some("A"), "{console}");
    assert!(
        console.contains("igloo: boot state from copy 0"),
        "{console}"
    );
    assert_eq!(
        lines_of(&console, "igloo: boot state saved"),
        [
            "igloo: boot state saved (copy 1, flag 2)",
            "igloo: boot state saved (copy 0, flag 3)"
        ],
        "{console}"
    );
    assert_eq!(disk.fw_printenv("BOOT_A_LEFT").as_deref(), Some("0"));
    assert_eq!(disk.fw_printenv("BOOT_B_LEFT").as_deref(), Some("3"));

    // Linux switches to slot B as RAUC does after an install: U-Boot follows.
    disk.fw_setenv("BOOT_ORDER=B A\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n");
    assert_eq!(disk.copy(1), (true, 4), "libubootenv wrote the older copy");
    let console = disk.boot();
    assert_eq!(chosen_slot(&console).as_deref(), Some("B"), "{console}");
    assert!(
        console.contains("igloo: boot state from copy 1"),
        "{console}"
    );
    // What U-Boot saved, Linux reads: B used its tries, A keeps its 3.
    assert_eq!(disk.fw_printenv("BOOT_ORDER").as_deref(), Some("B A"));
    assert_eq!(disk.fw_printenv("BOOT_B_LEFT").as_deref(), Some("0"));
    assert_eq!(disk.fw_printenv("BOOT_A_LEFT").as_deref(), Some("3"));

    // No slot with tries left: both get 3 again.
    disk.fw_setenv("BOOT_A_LEFT=0\n");
    let console = disk.boot();
    assert!(
        console.contains("igloo: no slot has tries left; giving both 3 again"),
        "{console}"
    );
    assert_eq!(disk.fw_printenv("BOOT_A_LEFT").as_deref(), Some("3"));
    assert_eq!(disk.fw_printenv("BOOT_B_LEFT").as_deref(), Some("3"));
}

#[test]
fn a_torn_write_of_the_boot_state_leaves_the_previous_state() {
    let disk = MiniDisk::new();
    // The baseline: a whole write switches to B.
    disk.fw_setenv("BOOT_ORDER=B A\nBOOT_B_LEFT=3\n");
    assert_eq!(disk.fw_printenv("BOOT_ORDER").as_deref(), Some("B A"));
    assert_eq!(disk.copy(1), (true, 2));

    // The same write, torn by a power cut: copy 1's data is half written.
    disk.scribble(1, 5, 8, 0xff);
    assert!(!disk.copy(1).0, "the torn copy fails its CRC");
    assert_eq!(
        disk.fw_printenv("BOOT_ORDER").as_deref(),
        Some("A B"),
        "libubootenv falls back to the intact older copy"
    );
    let console = disk.boot();
    assert!(
        console.contains("igloo: boot state from copy 0"),
        "{console}"
    );
    assert_eq!(
        chosen_slot(&console).as_deref(),
        Some("A"),
        "U-Boot boots by the intact older copy: {console}"
    );
    // Its save replaced the torn copy; copy 0 kept the state it read until
    // the second save.
    assert_eq!(disk.copy(1), (true, 2), "{console}");
    assert!(disk.copy(0).0);
}

#[test]
fn the_newer_copy_wins_when_the_write_count_wraps_around() {
    let disk = MiniDisk::new();
    // 255 writes later: copy 0 flag 255 says A, copy 1 flag 0 says B.
    disk.fw_setenv("BOOT_ORDER=B A\n");
    assert_eq!(disk.copy(1), (true, 2));
    disk.scribble(0, 4, 1, 0xff);
    disk.scribble(1, 4, 1, 0x00);
    assert_eq!((disk.copy(0), disk.copy(1)), ((true, 0xff), (true, 0)));
    assert_eq!(
        disk.fw_printenv("BOOT_ORDER").as_deref(),
        Some("B A"),
        "libubootenv takes flag 0 after 255"
    );
    let console = disk.boot();
    assert!(
        console.contains("igloo: boot state from copy 1"),
        "{console}"
    );
    assert_eq!(chosen_slot(&console).as_deref(), Some("B"), "{console}");
    // Its own saves continue the count: 1 into copy 0, then 2 into copy 1.
    assert_eq!(disk.copy(0), (true, 1), "{console}");
    assert_eq!(disk.copy(1), (true, 2), "{console}");
}

#[test]
fn with_no_valid_copy_the_board_starts_from_slot_a() {
    let disk = MiniDisk::new();
    disk.scribble(0, 0, 4, 0);
    disk.scribble(1, 0, 4, 0);
    assert!(!disk.copy(0).0 && !disk.copy(1).0);
    let console = disk.boot();
    assert!(
        console.contains("igloo: no valid boot state on the disk; starting with slot A"),
        "{console}"
    );
    assert_eq!(chosen_slot(&console).as_deref(), Some("A"), "{console}");
    assert_eq!(disk.fw_printenv("BOOT_A_LEFT").as_deref(), Some("0"));
    assert_eq!(disk.fw_printenv("BOOT_B_LEFT").as_deref(), Some("3"));
}
