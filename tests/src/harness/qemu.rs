//! The appliance image booted in QEMU (aarch64 `virt`, TCG) the way
//! `scripts/run-qemu` does: U-Boot as firmware (`-bios`), the disk on
//! virtio-blk (with the boot state in its gap before partition 1, see
//! [`BootState`]), the API and Mosquitto forwarded to free loopback ports.
//!
//! The image itself is built by `scripts/build-image BOARD` (`scripts/test`
//! does it before `cargo test`) into `<target>/image/igloo-BOARD.img`, or
//! taken from `IGLOO_IMAGE_DIR`. A test never writes to it: each [`Disk`] is
//! a qcow2 overlay backed by the raw image, so every guest write lands in the
//! overlay, and `qemu-img map` tells exactly which byte ranges were written
//! (that is how a test proves the rootfs slot was never written).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::api::Api;
use crate::harness::bins::target_dir;
use crate::harness::logfile::LogFile;
use crate::harness::mosquitto::{Credentials, try_publish};
use crate::harness::ports::free_port;
use crate::harness::wait::wait_for;

/// CRC-32 as U-Boot's environment uses it (zlib's, ISO-HDLC).
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// U-Boot for QEMU `virt` (Debian's u-boot-qemu).
pub const UBOOT_QEMU_ARM64: &str = "/usr/lib/u-boot/qemu_arm64/u-boot.bin";

/// How long a boot to "core ready" may take under TCG on a loaded 2-core
/// machine (a quiet machine takes about 15 s). A bound for the wait, not a
/// performance assertion: the boot time is reported by the test, not judged.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(180);

/// The image built for `board` (`igloo-<board>.img`).
///
/// # Panics
/// If it does not exist, saying how to build it.
pub fn image(board: &str) -> PathBuf {
    let dir = std::env::var_os("IGLOO_IMAGE_DIR")
        .map_or_else(|| target_dir().join("image"), PathBuf::from);
    let path = dir.join(format!("igloo-{board}.img"));
    if !path.is_file() {
        panic!(
            "{} not found: build it with `scripts/build-image {board}` (scripts/test does this before cargo test)",
            path.display()
        );
    }
    path
}

/// One partition of a disk image, from `sfdisk --json`.
#[derive(Debug, Clone)]
pub struct Partition {
    /// 1-based partition number.
    pub number: usize,
    /// First byte.
    pub start: u64,
    /// Length in bytes.
    pub size: u64,
    /// The type: a GPT type GUID or an MBR type in hex (`"c"`, `"83"`).
    pub kind: String,
}

/// The partition table of a disk image: its label (`"gpt"` or `"dos"`) and partitions.
///
/// # Panics
/// If `sfdisk` cannot read it.
pub fn partitions(image: &Path) -> (String, Vec<Partition>) {
    let out = Command::new("sfdisk")
        .arg("--json")
        .arg(image)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sfdisk: {e}"));
    if !out.status.success() {
        panic!(
            "sfdisk --json {} failed: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("sfdisk --json gave no JSON: {e}"));
    let table = &json["partitiontable"];
    let sector = table["sectorsize"].as_u64().unwrap_or(512);
    let label = table["label"].as_str().unwrap_or_default().to_string();
    let parts = table["partitions"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .enumerate()
                .map(|(i, p)| Partition {
                    number: i + 1,
                    start: p["start"].as_u64().unwrap_or(0) * sector,
                    size: p["size"].as_u64().unwrap_or(0) * sector,
                    kind: p["type"].as_str().unwrap_or_default().to_lowercase(),
                })
                .collect()
        })
        .unwrap_or_default();
    (label, parts)
}

/// A disk for one test: a qcow2 overlay on the built image, in a private
/// temporary directory.
pub struct Disk {
    dir: tempfile::TempDir,
    base: PathBuf,
    overlay: PathBuf,
}

impl Disk {
    /// A fresh disk on `image`, `size` bytes large if given (bigger than the
    /// image, as a larger SD card would be), else the image's size.
    ///
    /// # Panics
    /// If `qemu-img` fails.
    pub fn new(image: &Path, size: Option<u64>) -> Disk {
        let dir = tempfile::Builder::new()
            .prefix("igloo-qemu-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary dir: {e}"));
        let overlay = dir.path().join("disk.qcow2");
        let mut cmd = Command::new("qemu-img");
        cmd.args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
            .arg(image)
            .arg(&overlay);
        if let Some(size) = size {
            cmd.arg(size.to_string());
        }
        run(&mut cmd);
        Disk {
            dir,
            base: image.to_path_buf(),
            overlay,
        }
    }

    /// Byte ranges `(start, length)` the guest has written so far (the
    /// overlay's own data; everything else still reads from the image).
    ///
    /// # Panics
    /// If `qemu-img map` fails.
    pub fn written(&self) -> Vec<(u64, u64)> {
        let out = run(Command::new("qemu-img")
            .args(["map", "--output=json", "-f", "qcow2"])
            .arg(&self.overlay));
        let json: Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("qemu-img map gave no JSON: {e}"));
        json.as_array()
            .map(|extents| {
                extents
                    .iter()
                    .filter(|e| e["depth"].as_u64() == Some(0) && e["data"].as_bool() == Some(true))
                    .filter_map(|e| Some((e["start"].as_u64()?, e["length"].as_u64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Bytes written inside `part` (see [`Disk::written`]).
    pub fn written_in(&self, part: &Partition) -> u64 {
        let (a, b) = (part.start, part.start + part.size);
        self.written()
            .iter()
            .map(|&(s, l)| {
                let (lo, hi) = (s.max(a), (s + l).min(b));
                hi.saturating_sub(lo)
            })
            .sum()
    }

    /// The disk as the guest sees it now, as a raw image in the disk's
    /// directory (for `sfdisk`, `dumpe2fs`).
    ///
    /// # Panics
    /// If `qemu-img convert` fails.
    pub fn snapshot_raw(&self) -> PathBuf {
        let raw = self.dir.path().join("now.img");
        run(Command::new("qemu-img")
            .args(["convert", "-f", "qcow2", "-O", "raw"])
            .arg(&self.overlay)
            .arg(&raw));
        raw
    }

    /// One variable of the boot state, as `fw_printenv` (libubootenv, as
    /// RAUC uses it) reads it from the disk now.
    pub fn uboot_env(&self, name: &str) -> Option<String> {
        self.boot_state().get(name)
    }

    /// The boot state on the disk now (both copies, see [`BootState`]).
    ///
    /// # Panics
    /// If `qemu-img dd` fails.
    pub fn boot_state(&self) -> BootState {
        let layout = EnvLayout::of_repo();
        let head = self.dir.path().join("disk-head.img");
        let _ = std::fs::remove_file(&head);
        // The disk's first bytes up to the end of copy 1 (`skip=` is not
        // used: qemu-img 10's dd refuses it on qcow2 and still exits 0).
        let end = layout.offset + 2 * layout.size;
        run(Command::new("qemu-img")
            .args(["dd", "-f", "qcow2", "-O", "raw", "bs=512"])
            .arg(format!("if={}", self.overlay.display()))
            .arg(format!("of={}", head.display()))
            .arg(format!("count={}", end / 512)));
        let bytes =
            std::fs::read(&head).unwrap_or_else(|e| panic!("cannot read {}: {e}", head.display()));
        assert_eq!(
            bytes.len() as u64,
            end,
            "qemu-img dd copied {} of the disk's first {end} bytes",
            bytes.len()
        );
        let raw = self.dir.path().join("boot-state.img");
        std::fs::write(&raw, &bytes[layout.offset as usize..])
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", raw.display()));
        BootState {
            file: raw,
            size: layout.size,
        }
    }

    /// Puts the file `name` with `contents` on the boot partition (the
    /// FAT, partition 1), as the owner does with a card reader before the
    /// first boot: the partition is copied out of the disk, changed with
    /// `mcopy` and written back into the overlay.
    ///
    /// # Panics
    /// If the disk has no partitions or `qemu-img`, `mcopy` or `qemu-io` fail.
    pub fn put_boot_file(&self, name: &str, contents: &[u8]) {
        let (_, parts) = partitions(&self.base);
        let fat = parts
            .first()
            .unwrap_or_else(|| panic!("{} has no partitions", self.base.display()));
        let head = self.dir.path().join("disk-head.img");
        let _ = std::fs::remove_file(&head);
        run(Command::new("qemu-img")
            .args(["dd", "-f", "qcow2", "-O", "raw", "bs=512"])
            .arg(format!("if={}", self.overlay.display()))
            .arg(format!("of={}", head.display()))
            .arg(format!("count={}", (fat.start + fat.size) / 512)));
        let bytes =
            std::fs::read(&head).unwrap_or_else(|e| panic!("cannot read {}: {e}", head.display()));
        let part = self.dir.path().join("boot-part.img");
        std::fs::write(&part, &bytes[fat.start as usize..])
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", part.display()));
        let file = self.dir.path().join(name);
        std::fs::write(&file, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        run(Command::new("mcopy")
            .args(["-o", "-i"])
            .arg(&part)
            .arg(&file)
            .arg(format!("::/{name}")));
        run(Command::new("qemu-io")
            .args(["-f", "qcow2", "-c"])
            .arg(format!(
                "write -q -s {} {} {}",
                part.display(),
                fat.start,
                fat.size
            ))
            .arg(&self.overlay));
    }

    /// Overwrites `len` bytes at byte `offset` of the disk with `byte` (for
    /// a write that a power cut tore).
    ///
    /// # Panics
    /// If `qemu-io` fails.
    pub fn scribble(&self, offset: u64, len: u64, byte: u8) {
        run(Command::new("qemu-io")
            .args(["-f", "qcow2", "-c"])
            .arg(format!("write -P {byte} {offset} {len}"))
            .arg(&self.overlay));
    }
}

/// Where the boot state lives on the disk (`image/layout.env`:
/// `IGLOO_ENV_OFFSET`, `IGLOO_ENV_SIZE`; docs/adr/0005-boot-state.md).
#[derive(Debug, Clone, Copy)]
pub struct EnvLayout {
    /// Byte offset of copy 0; copy 1 follows it.
    pub offset: u64,
    /// Bytes per copy.
    pub size: u64,
}

impl EnvLayout {
    /// Read from the repository's `image/layout.env`.
    ///
    /// # Panics
    /// If the file or a key is missing.
    pub fn of_repo() -> EnvLayout {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../image/layout.env");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let key = |k: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} has no number {k}=", path.display()))
        };
        EnvLayout {
            offset: key("IGLOO_ENV_OFFSET"),
            size: key("IGLOO_ENV_SIZE"),
        }
    }
}

/// Both copies of the boot state, copied out of a disk, read with
/// libubootenv's `fw_printenv` as RAUC reads them on the board.
pub struct BootState {
    file: PathBuf,
    size: u64,
}

impl BootState {
    /// Copy 0 and copy 1 as stored: (CRC-32 right, flag byte).
    ///
    /// # Panics
    /// If the file cannot be read.
    pub fn copies(&self) -> [(bool, u8); 2] {
        let bytes = std::fs::read(&self.file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", self.file.display()));
        let n = self.size as usize;
        let copy = |i: usize| -> (bool, u8) {
            let c = &bytes[i * n..(i + 1) * n];
            let stored = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            (CRC32.checksum(&c[5..]) == stored, c[4])
        };
        [copy(0), copy(1)]
    }

    /// The newer valid copy's variable `name`, by `fw_printenv`.
    ///
    /// # Panics
    /// If `fw_printenv` cannot run.
    pub fn get(&self, name: &str) -> Option<String> {
        let config = self.file.with_extension("config");
        std::fs::write(
            &config,
            format!(
                "{f} 0x0 {n:#x}\n{f} {n:#x} {n:#x}\n",
                f = self.file.display(),
                n = self.size
            ),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
        let out = Command::new("fw_printenv")
            .arg("-c")
            .arg(&config)
            .arg("-n")
            .arg(name)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run fw_printenv ({e}); is libubootenv-tool installed?")
            });
        if out.status.success() {
            return Some(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        eprintln!(
            "fw_printenv -n {name} on the boot state: {}; copies (CRC right, flag): {:?}",
            String::from_utf8_lossy(&out.stderr).trim(),
            self.copies()
        );
        None
    }
}

/// A running guest.
pub struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    console: LogFile,
    started: Instant,
    api_port: u16,
    mqtt_port: u16,
    commands: u32,
    /// An admin token made on the console ([`Guest::wait_core_ready`]).
    token: Option<String>,
}

impl Guest {
    /// Boots `disk` on QEMU `virt` (cortex-a72, 512 MiB) with U-Boot as
    /// firmware, the API and Mosquitto forwarded to free loopback ports.
    /// The serial console is captured in a log next to the disk
    /// (`console-N.log`).
    ///
    /// # Panics
    /// If QEMU cannot start.
    pub fn boot(disk: &Disk) -> Guest {
        let api_port = free_port();
        let mqtt_port = free_port();
        let mut args: Vec<String> = [
            "-M",
            "virt",
            "-cpu",
            "cortex-a72",
            "-m",
            "512",
            "-bios",
            UBOOT_QEMU_ARM64,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        args.extend([
            "-drive".into(),
            format!("if=none,format=qcow2,id=disk,file={}", disk.overlay.display()),
            "-device".into(),
            "virtio-blk-pci,drive=disk".into(),
            "-netdev".into(),
            format!(
                "user,id=net,hostfwd=tcp:127.0.0.1:{api_port}-:8080,hostfwd=tcp:127.0.0.1:{mqtt_port}-:1883"
            ),
            "-device".into(),
            "virtio-net-pci,netdev=net,romfile=".into(),
            "-device".into(),
            "virtio-rng-pci".into(),
            // The hardware watchdog the core feeds (its timeout resets the
            // board, which -no-reboot turns into QEMU exiting).
            "-device".into(),
            "i6300esb".into(),
        ]);
        Guest::spawn(disk, &args, api_port, mqtt_port)
    }

    /// Boots a Raspberry Pi 3 image on QEMU's `raspi3b` model the way the
    /// Pi's GPU firmware would hand over: U-Boot from the image's boot FAT
    /// as the kernel, the board DTB from the FAT, the disk as the SD card
    /// (its size must be a power of two). U-Boot then runs boot.scr from the
    /// FAT and boots slot A. Console: the mini UART (QEMU's second serial
    /// port), as `enable_uart=1` gives on a real Pi. No network, and the
    /// model cannot power off: drop the guest to stop it.
    ///
    /// # Panics
    /// If the boot files cannot be read from the FAT or QEMU cannot start.
    pub fn boot_raspi3b(disk: &Disk) -> Guest {
        let (_, parts) = partitions(&disk.base);
        let fat = parts
            .first()
            .unwrap_or_else(|| panic!("{} has no partitions", disk.base.display()));
        let fat = format!("{}@@{}", disk.base.display(), fat.start);
        let mut files = Vec::new();
        for name in ["u-boot.bin", "bcm2837-rpi-3-b.dtb"] {
            let dest = disk.dir.path().join(name);
            run(Command::new("mcopy")
                .args(["-n", "-i", &fat])
                .arg(format!("::/{name}"))
                .arg(&dest));
            files.push(dest.display().to_string());
        }
        let args: Vec<String> = vec![
            "-M".into(),
            "raspi3b".into(),
            // The model has 4 cores. With one host thread per core (MTTCG),
            // the 3 secondaries spinning in U-Boot's spin table until Linux
            // brings them up take the 2 host cores from the boot CPU: the
            // kernel's first steps took 125-180 s of wall time. One thread
            // for all 4 (a spinning core's WFE yields to the next) boots to
            // "core ready" in about 50 s.
            "-accel".into(),
            "tcg,thread=single".into(),
            "-kernel".into(),
            files[0].clone(),
            "-dtb".into(),
            files[1].clone(),
            "-drive".into(),
            format!("if=sd,format=qcow2,file={}", disk.overlay.display()),
            "-serial".into(),
            "null".into(),
            "-serial".into(),
            "mon:stdio".into(),
            "-display".into(),
            "none".into(),
        ];
        Guest::spawn(disk, &args, 0, 0)
    }

    fn spawn(disk: &Disk, args: &[String], api_port: u16, mqtt_port: u16) -> Guest {
        let n = (0..)
            .find(|i| !disk.dir.path().join(format!("console-{i}.log")).exists())
            .unwrap_or(0);
        let path = disk.dir.path().join(format!("console-{n}.log"));
        let log =
            File::create(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot clone the console log handle: {e}"));
        // -nographic: the (last) serial port is stdin/stdout; -no-reboot: a
        // guest reboot ends QEMU, so a test sees every boot it asked for.
        let mut child = Command::new("qemu-system-aarch64")
            .args(args)
            .args(["-nographic", "-no-reboot"])
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start qemu-system-aarch64 ({e}); is qemu-system-arm installed?")
            });
        let stdin = child.stdin.take();
        Guest {
            child,
            stdin,
            console: LogFile::new(path),
            started: Instant::now(),
            api_port,
            mqtt_port,
            commands: 0,
            token: None,
        }
    }

    /// The serial console so far.
    pub fn console(&self) -> &LogFile {
        &self.console
    }

    /// Waits for the core's "core ready" line and returns the time since
    /// QEMU was started (firmware, U-Boot, kernel, initramfs, init, core).
    ///
    /// # Panics
    /// On timeout or if QEMU exits first, with the console's tail.
    /// Then makes an `admin` token on the serial console, as root through
    /// the core's local socket (`igloo tokens create`), which [`Guest::api`]
    /// sends from then on: what an owner without a password would do.
    pub fn wait_core_ready(&mut self) -> Duration {
        self.wait_console(BOOT_TIMEOUT, &["core ready"]);
        let ready = self.started.elapsed();
        if self.token.is_none() {
            self.token = Some(self.console_token("harness", "admin"));
        }
        ready
    }

    /// A new token with `scope`, made on the console as root.
    ///
    /// # Panics
    /// If the command fails or prints no token.
    pub fn console_token(&mut self, name: &str, scope: &str) -> String {
        let (out, rc) = self.shell(&format!("igloo tokens create {name} --scope {scope}"));
        assert_eq!(rc, 0, "igloo tokens create on the console: {out:?}");
        out.iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with("igloo_") && !l.contains(' '))
            .unwrap_or_else(|| panic!("no token in the console output: {out:?}"))
            .to_string()
    }

    /// The one-time setup code, read on the console as root
    /// (`/data/igloo/setup-code`, `ABCD-EFGH-JKMN`).
    ///
    /// # Panics
    /// If there is none (the owner exists already).
    pub fn setup_code(&mut self) -> String {
        let (lines, rc) = self.shell("cat /data/igloo/setup-code");
        assert_eq!(rc, 0, "the setup code on /data: {lines:?}");
        lines
            .iter()
            .map(|l| l.trim())
            .find(|l| l.len() == 14 && l.matches('-').count() == 2)
            .unwrap_or_else(|| panic!("no setup code in {lines:?}"))
            .to_string()
    }

    /// Writes `bytes` to `path` on the guest (mode 0644, parent directories
    /// made) through its console: hex digits in lines shorter than BusyBox's
    /// line editor takes (1024 characters), decoded by the image's python3.
    ///
    /// # Panics
    /// If a shell command fails or the file's size differs.
    pub fn copy_in(&mut self, bytes: &[u8], path: &str) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let staged = format!("{path}.hex");
        let (out, rc) = self.shell(&format!("mkdir -p \"$(dirname {path})\" && : > {staged}"));
        assert_eq!(rc, 0, "{out:?}");
        for chunk in hex.as_bytes().chunks(768) {
            let chunk = String::from_utf8_lossy(chunk);
            let (out, rc) = self.shell(&format!("printf %s {chunk} >> {staged}"));
            assert_eq!(rc, 0, "{out:?}");
        }
        let (out, rc) = self.shell(&format!(
            "python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(open(sys.argv[1]).read()))' {staged} > {path} && rm {staged} && chmod 0644 {path} && wc -c < {path}"
        ));
        assert_eq!(rc, 0, "{out:?}");
        assert!(
            out.iter().any(|l| l.trim() == bytes.len().to_string()),
            "{path} on the guest: {out:?}"
        );
    }

    /// Waits for a console line containing every needle.
    ///
    /// # Panics
    /// On timeout or if QEMU exits, with the console's tail.
    pub fn wait_console(&mut self, timeout: Duration, needles: &[&str]) -> String {
        let console = self.console.clone();
        let child = &mut self.child;
        wait_for(timeout, format!("console line with {needles:?}"), || {
            if let Some(line) = console.find_line(needles) {
                return Ok(line);
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "QEMU exited ({status}) before {needles:?}; console tail:\n{}",
                    console.tail(40)
                );
            }
            Err(format!("not yet; console tail:\n{}", console.tail(15)))
        })
    }

    /// A client of the guest's API through the port forward.
    /// With the console-made token once [`Guest::wait_core_ready`] ran.
    pub fn api(&self) -> Api {
        Api::new(format!("http://127.0.0.1:{}", self.api_port)).with_token(self.token.as_deref())
    }

    /// The host port forwarded to the guest's Mosquitto (1883).
    pub fn mqtt_port(&self) -> u16 {
        self.mqtt_port
    }

    /// The guest broker's `zigbee2mqtt` account: its password is read on the
    /// serial console from the secret file the first boot made
    /// (`/data/igloo/secrets/mqtt-zigbee2mqtt`).
    ///
    /// # Panics
    /// If the file cannot be read.
    pub fn bridge_credentials(&mut self) -> Credentials {
        let (out, rc) = self.shell("cat /data/igloo/secrets/mqtt-zigbee2mqtt");
        // The console also carries the core's log lines, which may fall
        // between the markers: the password is the line of 64 hex digits.
        let password = out
            .iter()
            .map(|l| l.trim())
            .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
            .unwrap_or_default()
            .to_string();
        assert!(
            rc == 0 && !password.is_empty(),
            "the zigbee2mqtt password on the guest (rc {rc}): {out:?}"
        );
        Credentials::new("zigbee2mqtt", &password)
    }

    /// A Zigbee2MQTT bridge on the LAN, logged in as the broker's
    /// `zigbee2mqtt` account ([`Guest::bridge_credentials`]): once the guest's
    /// Mosquitto answers through the port forward, publishes
    /// (retained) `zigbee2mqtt/bridge/state` online and
    /// `zigbee2mqtt/bridge/devices` = `devices` (Zigbee2MQTT's device list JSON).
    ///
    /// # Panics
    /// If the broker does not answer within 60 s or a later publish fails.
    pub fn publish_bridge(&mut self, devices: &[u8]) {
        let mqtt = self.mqtt_port;
        let login = self.bridge_credentials();
        let state = br#"{"state":"online"}"#;
        // QEMU's port forward accepts on the host before the guest's broker
        // listens, so an accepted connection proves nothing: the first
        // publish (retained, so repeating it is harmless) is the probe.
        wait_for(
            Duration::from_secs(60),
            "the guest's Mosquitto through the port forward",
            || try_publish(mqtt, Some(&login), "zigbee2mqtt/bridge/state", state, true),
        );
        let publish = |topic: &str, payload: &[u8]| {
            if let Err(e) = try_publish(mqtt, Some(&login), topic, payload, true) {
                panic!("as the zigbee2mqtt account: {e}");
            }
        };
        publish("zigbee2mqtt/bridge/devices", devices);
    }

    /// Runs `command` in the root shell on the serial console (BusyBox init's
    /// `askfirst` shell, activated by Enter) and returns its output lines and
    /// exit status.
    ///
    /// # Panics
    /// If the console does not answer within a minute.
    pub fn shell(&mut self, command: &str) -> (Vec<String>, i32) {
        self.commands += 1;
        let n = self.commands;
        let begin = format!("@@begin-{n}@@");
        let end = format!("@@end-{n}@@");
        // The markers are printed by the shell, not echoed with the command
        // line: the echo has them split in quotes ('@@'"end-…").
        let line = format!("\necho '@@'\"begin-{n}@@\"; {command}; echo \"@@\"'end-{n}@@' rc=$?\n");
        let stdin = self
            .stdin
            .as_mut()
            .unwrap_or_else(|| panic!("QEMU's console input is closed"));
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .unwrap_or_else(|e| panic!("cannot type on the console: {e}"));
        let end_line = self.wait_console(Duration::from_secs(60), &[&end]);
        let rc = end_line
            .rsplit("rc=")
            .next()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(-1);
        let lines = self.console.lines();
        let from = lines.iter().rposition(|l| l.trim_end() == begin);
        let to = lines.iter().rposition(|l| l.contains(&end));
        let output = match (from, to) {
            (Some(a), Some(b)) if a < b => lines[a + 1..b]
                .iter()
                .map(|l| l.trim_end_matches('\r').to_string())
                .collect(),
            _ => Vec::new(),
        };
        (output, rc)
    }

    /// Waits for the guest to end QEMU by itself (a reboot, with
    /// `-no-reboot`), up to `timeout`; returns how long it took.
    ///
    /// # Panics
    /// On timeout, with the console's tail.
    pub fn wait_exit(&mut self, timeout: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Ok(Some(_)) = self.child.try_wait() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "the guest did not reboot within {timeout:?}; console tail:\n{}",
            self.console.tail(30)
        );
    }

    /// Ends QEMU at once, as pulling the power would.
    pub fn power_cut(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A clean shutdown from the console (`poweroff`: init stops the
    /// services and unmounts /data), then waits for QEMU to exit.
    ///
    /// # Panics
    /// If QEMU does not exit within two minutes.
    pub fn poweroff(mut self) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = stdin.write_all(b"\npoweroff\n");
            let _ = stdin.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "the guest did not power off within 2 minutes; console tail:\n{}",
            self.console.tail(30)
        );
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the gateway behind `api` says its booted slot is marked good:
/// `GET /api/v1/ota` answers `pending_mark_good: false` with no `errors`
/// (an unreadable boot state is `null` with the reason in `errors`, never
/// taken for "marked good"). Returns the last status.
///
/// # Panics
/// If that does not happen within `limit`.
pub fn wait_marked_good(api: &Api, limit: Duration) -> Value {
    wait_for(limit, "the booted slot to be marked good", || {
        let (_, ota) = api.get("/api/v1/ota")?;
        // `checking` is left just after RAUC's mark-good returns.
        let clean = ota["errors"].as_array().is_some_and(Vec::is_empty)
            && ota["health"]["state"] != "checking";
        match ota["pending_mark_good"].as_bool() {
            Some(false) if clean => Ok(ota),
            _ => Err(ota.to_string()),
        }
    })
}

/// Runs a command to completion and returns its stdout.
///
/// # Panics
/// If it cannot start or fails, with its stderr.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    stdout_of(cmd, out)
}

/// Runs a command with `input` on its stdin to completion and returns its
/// stdout.
///
/// # Panics
/// If it cannot start or fails, with its stderr.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> Vec<u8> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .unwrap_or_else(|e| panic!("{cmd:?}: cannot write its input: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    stdout_of(cmd, out)
}

/// The stdout of a finished command, or a panic with its stderr.
fn stdout_of(cmd: &Command, out: std::process::Output) -> Vec<u8> {
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}
