#!/usr/bin/env python3
"""Static checks of the Igloo BR2_EXTERNAL tree (buildroot/).

The tree cannot be built on our CI machines (Buildroot downloads every source
from upstream), so this checks what can be checked without building:

 1. Kconfig: buildroot/Config.in and package/*/Config.in parse with kconfiglib
    under a stub Buildroot top level (tests/buildroot/Kconfig); any warning
    fails, including symbols referenced but defined nowhere.
 2. defconfigs: every line is BR2_...=value, "# BR2_... is not set" or a
    comment; no symbol twice; each BR2_PACKAGE_IGLOO* symbol is defined by our
    Kconfig and keeps the value the defconfig gives it.
 3. paths: everything the tree references through $(BR2_EXTERNAL_IGLOO_PATH)
    (defconfigs, .mk, Config.in, scripts), "$repo/..." and "$ext/..." in the
    board scripts and "$(dirname "$0")/..." exists in the repository.
 4. scripts: bash -n (sh -n for /bin/sh scripts) and the executable bit.
 5. image/ contract: each defconfig's rootfs ext4 label and size match
    image/layout.env; its board (BR2_ROOTFS_POST_SCRIPT_ARGS) has
    image/boards/BOARD.conf and image/genimage/boot-BOARD.cfg; U-Boot, DTBs and
    Pi firmware agree with the board conf; the boot FAT's file list matches
    what post-image.sh stages; BusyBox init, read-only root, the shared
    overlay, the board scripts and the host tools they need are configured.
 6. the package: the binaries igloo.mk builds are workspace packages with a
    binary of that name; the BR2_PACKAGE_IGLOO* symbols igloo.mk tests exist.
 7. the kernel fragment: valid lines, no duplicates, no =m without modules,
    and the options the core relies on (Landlock in CONFIG_LSM, seccomp,
    cgroups, nftables, virtio/ext4/vfat, USB serial drivers) built in.

With --buildroot DIR (a Buildroot source tree, not needed in CI) it also loads
every defconfig into Buildroot's real Kconfig and fails on symbols Buildroot
does not know and on values that do not stick (unmet dependencies).

Usage: check.py [--repo DIR] [--buildroot DIR]
Exit status 0 when every check passes; problems are printed one per line.
Needs kconfiglib (pip install kconfiglib; tests/fakes/requirements.txt).
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

try:
    import kconfiglib
except ImportError:
    sys.stderr.write(
        "error: the Python module kconfiglib is missing.\n"
        "Install it into the test venv: pip install -r tests/fakes/requirements.txt\n"
        "(scripts/test does this), or: pip install kconfiglib\n"
    )
    sys.exit(2)

HERE = Path(__file__).resolve().parent
EXT_NAME = "IGLOO"
EXT_VAR = f"BR2_EXTERNAL_{EXT_NAME}_PATH"

DEFCONFIG_LINE = re.compile(
    r'^(?P<sym>BR2_[A-Za-z0-9_]+)=(?P<val>y|m|n|-?[0-9]+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$'
)
DEFCONFIG_UNSET = re.compile(r"^# (?P<sym>BR2_[A-Za-z0-9_]+) is not set$")
FRAGMENT_LINE = re.compile(
    r'^CONFIG_(?P<sym>[A-Za-z0-9_]+)=(?P<val>y|m|n|-?[0-9]+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$'
)
FRAGMENT_UNSET = re.compile(r"^# CONFIG_(?P<sym>[A-Za-z0-9_]+) is not set$")
# $(BR2_EXTERNAL_IGLOO_PATH)/rest, ${...}/rest, $BR2_EXTERNAL_IGLOO_PATH/rest
EXT_REF = re.compile(
    r"\$(?:\(BR2_EXTERNAL_(?P<n1>[A-Z0-9_]+)_PATH\)|\{BR2_EXTERNAL_(?P<n2>[A-Z0-9_]+)_PATH\}"
    r"|BR2_EXTERNAL_(?P<n3>[A-Z0-9_]+)_PATH\b)(?:(?=/)(?P<rest>/[^\s\"'`)$;|&<>]*))?"
)
# "$repo/..." and "$ext/..." in the board scripts (repository root, buildroot/)
SCRIPT_REF = re.compile(r"\$\{?(?P<var>repo|ext)\}?(?P<rest>/[^\s\"'`;|&<>)]*)")
DIRNAME_REF = re.compile(
    r"\$\(dirname \"\$(?:0|\{BASH_SOURCE\[0\]\})\"\)(?P<rest>/[^\s\"'`;|&<>)]*)"
)
GENIMAGE_FILES = re.compile(r"files\s*=\s*\{(?P<body>[^}]*)\}", re.S)

# Kernel options the core and the image rely on (DESIGN sections 7 and 9).
REQUIRED_KERNEL = {
    "SECURITY": "y",
    "SECURITY_LANDLOCK": "y",
    "SECCOMP": "y",
    "SECCOMP_FILTER": "y",
    "CGROUPS": "y",
    "NET_NS": "y",
    "NF_TABLES": "y",
    "NF_TABLES_INET": "y",
    "NFT_REJECT": "y",
    "NFT_REJECT_INET": "y",
    "NFT_CT": "y",
    "VIRTIO_BLK": "y",
    "VIRTIO_PCI": "y",
    "EXT4_FS": "y",
    "VFAT_FS": "y",
    "DEVTMPFS": "y",
    "USB_ACM": "y",
    "USB_SERIAL": "y",
    "USB_SERIAL_CP210X": "y",
    "USB_SERIAL_CH341": "y",
    "USB_SERIAL_FTDI_SIO": "y",
    "USB_SERIAL_PL2303": "y",
    "DM_VERITY": "y",
    "SQUASHFS": "y",
    "BLK_DEV_LOOP": "y",
}

# Pi firmware file on the boot FAT -> the rpi-firmware option that installs it.
RPI_FIRMWARE_OPTION = {
    "bootcode.bin": "BR2_PACKAGE_RPI_FIRMWARE_BOOTCODE_BIN",
    "start.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI",
    "fixup.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI",
    "start_x.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_X",
    "fixup_x.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_X",
    "start_cd.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_CD",
    "fixup_cd.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI_CD",
    "start4.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4",
    "fixup4.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4",
    "start4x.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_X",
    "fixup4x.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_X",
    "start4cd.elf": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_CD",
    "fixup4cd.dat": "BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI4_CD",
}

# What board/igloo/post-image.sh runs, and the host package providing it.
POST_IMAGE_HOST_TOOLS = {
    "mkimage": "BR2_PACKAGE_HOST_UBOOT_TOOLS",
    "genimage": "BR2_PACKAGE_HOST_GENIMAGE",
    "mkdosfs": "BR2_PACKAGE_HOST_DOSFSTOOLS",
    "mcopy": "BR2_PACKAGE_HOST_MTOOLS",
}


class Checker:
    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self.ext = repo / "buildroot"
        self.problems: list[str] = []
        self.passed: list[str] = []
        # settings file (settings_file) -> (its defconfig, its line -> the defconfig's)
        self.linemaps: dict[str, tuple[str, dict[int, int]]] = {}

    # -- reporting ---------------------------------------------------------
    def rel(self, path: Path | str) -> str:
        try:
            return str(Path(path).resolve().relative_to(self.repo.resolve()))
        except ValueError:
            return str(path)

    def fail(self, where: str, msg: str) -> None:
        self.problems.append(f"{where}: {msg}" if where else msg)

    def ok(self, msg: str) -> None:
        self.passed.append(msg)

    # -- helpers -------------------------------------------------------------
    def defconfigs(self) -> list[Path]:
        return sorted((self.ext / "configs").glob("*_defconfig"))

    def parse_defconfig(self, path: Path) -> tuple[dict[str, str], list[tuple[int, str, str]]]:
        """Returns ({symbol: value}, [(lineno, symbol, value)]); value is 'n'
        for '# ... is not set' and unquoted for strings."""
        values: dict[str, str] = {}
        entries: list[tuple[int, str, str]] = []
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = DEFCONFIG_LINE.match(line)
            if m:
                sym, val = m["sym"], m["val"]
                if val.startswith('"'):
                    val = re.sub(r"\\(.)", r"\1", val[1:-1])
            else:
                m = DEFCONFIG_UNSET.match(line)
                if not m:
                    continue
                sym, val = m["sym"], "n"
            values[sym] = val
            entries.append((n, sym, val))
        return values, entries

    def settings_file(self, path: Path) -> str:
        """A copy of the defconfig with only its settings, $(BR2_EXTERNAL_IGLOO_PATH)
        expanded as make does before Kconfig reads it. Buildroot's symbols have no
        CONFIG_ prefix, and kconfiglib with an empty prefix would read comment
        lines that contain '=' as assignments; Buildroot's own kconfig does not."""
        keep: list[str] = []
        linemap: dict[int, int] = {}
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if DEFCONFIG_LINE.match(line) or DEFCONFIG_UNSET.match(line):
                keep.append(line.replace(f"$({EXT_VAR})", str(self.ext)))
                linemap[len(keep)] = n
        tmp = tempfile.NamedTemporaryFile("w", suffix="_defconfig", delete=False)
        with tmp:
            tmp.write("\n".join(keep) + "\n")
        self.linemaps[tmp.name] = (self.rel(path), linemap)
        return tmp.name

    def unmap(self, text: str) -> str:
        """Replaces settings-file locations in a kconfiglib message with the
        defconfig's own file and line."""
        for name, (where, linemap) in self.linemaps.items():
            text = re.sub(
                re.escape(name) + r":(\d+)",
                # re.sub calls it right here, in this iteration.
                lambda m: f"{where}:{linemap.get(int(m.group(1)), '?')}",  # noqa: B023
                text,
            )
        return text

    def shell_env(self, *files: Path) -> dict[str, str]:
        """The variables a POSIX shell has after sourcing FILES (set -a)."""
        script = "set -a; " + " ".join(f'. "${i + 1}";' for i in range(len(files))) + " env -0"
        out = subprocess.run(
            ["bash", "-c", script, "bash", *[str(f) for f in files]],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            capture_output=True,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.decode(errors="replace").strip())
        env: dict[str, str] = {}
        for item in out.stdout.decode().split("\0"):
            if "=" in item:
                k, v = item.split("=", 1)
                env[k] = v
        return env

    def resolve_ext_path(self, rest: str | None) -> Path:
        return Path(os.path.normpath(str(self.ext) + (rest or "")))

    def boards(self) -> dict[str, str]:
        """Defconfig file name -> the board it builds."""
        found: dict[str, str] = {}
        for d in self.defconfigs():
            values, _ = self.parse_defconfig(d)
            args = values.get("BR2_ROOTFS_POST_SCRIPT_ARGS", "").split()
            if args:
                found[d.name] = args[0]
        return found

    def text_files(self) -> Iterator[tuple[Path, str]]:
        """Every text file of the BR2_EXTERNAL tree."""
        for p in sorted(self.ext.rglob("*")):
            if p.is_file() and not p.is_symlink():
                try:
                    yield p, p.read_text()
                except UnicodeDecodeError:
                    continue

    # -- 1. Kconfig ----------------------------------------------------------
    def load_kconfig(self) -> kconfiglib.Kconfig | None:
        os.environ[EXT_VAR] = str(self.ext)
        # Buildroot's symbols carry no CONFIG_ prefix in .config files.
        os.environ["CONFIG_"] = ""
        os.environ["KCONFIG_WARN_UNDEF"] = "y"
        os.environ.pop("KCONFIG_WARN_UNDEF_ASSIGN", None)
        stub = HERE / "Kconfig"
        try:
            kconf = kconfiglib.Kconfig(str(stub), warn_to_stderr=False)
        except kconfiglib.KconfigError as e:
            self.fail("Kconfig", f"does not parse: {self.clean_kconfig_msg(e)}")
            return None
        except OSError as e:
            self.fail("Kconfig", f"cannot read a file it sources: {e}")
            return None
        for w in kconf.warnings:
            self.fail("Kconfig", self.explain_warning(w))
        if not kconf.warnings:
            n = sum(1 for s in kconf.unique_defined_syms if s.name.startswith("BR2_PACKAGE_IGLOO"))
            self.ok(
                "Kconfig: buildroot/Config.in and package Config.in files parse, "
                f"no warnings ({n} BR2_PACKAGE_IGLOO* symbols)"
            )
        return kconf

    def clean_kconfig_msg(self, e: kconfiglib.KconfigError) -> str:
        return str(e).replace(str(self.ext) + "/", "buildroot/").strip()

    def explain_warning(self, w: str) -> str:
        w = w.replace(str(self.ext) + "/", "buildroot/").strip()
        m = re.match(r"warning: undefined symbol (\S+?):", w)
        if m:
            refs = ", ".join(re.findall(r"Referenced at (\S+?):?$", w, re.M)) or "?"
            w = (
                f"undefined symbol {m.group(1)} (referenced at {refs}): a typo, or a Buildroot "
                "symbol missing from the stub tests/buildroot/Kconfig "
                "(add it there with Buildroot's type)"
            )
        return w

    # -- 2. defconfigs -------------------------------------------------------
    def check_defconfigs(self, kconf: kconfiglib.Kconfig | None) -> None:
        defconfigs = self.defconfigs()
        if not defconfigs:
            self.fail("buildroot/configs", "no *_defconfig")
            return
        for d in defconfigs:
            where = self.rel(d)
            seen: dict[str, int] = {}
            bad = 0
            for n, line in enumerate(d.read_text().splitlines(), 1):
                setting = DEFCONFIG_LINE.match(line) or DEFCONFIG_UNSET.match(line)
                if setting:
                    sym = setting["sym"]
                    if sym in seen:
                        self.fail(f"{where}:{n}", f"{sym} is set again (first at line {seen[sym]})")
                        bad += 1
                    seen[sym] = n
                elif line.strip() == "" or (
                    line.startswith("#") and not DEFCONFIG_UNSET.match(line)
                ):
                    if re.match(r"^#\s*BR2_\w+", line) and not DEFCONFIG_UNSET.match(line):
                        self.fail(
                            f"{where}:{n}",
                            f"looks like a malformed '# BR2_... is not set' line: {line!r}",
                        )
                        bad += 1
                else:
                    self.fail(f"{where}:{n}", f"not a BR2_SYMBOL=value line or a comment: {line!r}")
                    bad += 1
            if kconf is None:
                continue
            values, entries = self.parse_defconfig(d)
            ours = [(n, s, v) for n, s, v in entries if s.startswith("BR2_PACKAGE_IGLOO")]
            before = len(kconf.warnings)
            settings = self.settings_file(d)
            try:
                kconf.load_config(settings)
            finally:
                os.unlink(settings)
            for sym in kconf.unique_defined_syms:
                _ = sym.str_value  # evaluates selects; kconfiglib warns on unmet ones
            for w in kconf.warnings[before:]:
                # The stub knows few of Buildroot's symbols: only warnings
                # about ours count here (--buildroot checks the others).
                if "BR2_PACKAGE_IGLOO" in w:
                    self.fail(where, self.explain_warning(self.unmap(w)))
                    bad += 1
            for n, s, v in ours:
                sym = kconf.syms.get(s)
                if sym is None or not sym.nodes:
                    self.fail(
                        f"{where}:{n}",
                        f"{s} is not defined by buildroot/Config.in or package/*/Config.in",
                    )
                    bad += 1
                    continue
                got = sym.str_value
                if got != v and not (v == "n" and got == ""):
                    deps = kconfiglib.expr_str(sym.direct_dep)
                    self.fail(
                        f"{where}:{n}",
                        f"{s} is {v!r} here but Kconfig makes it {got!r} (depends on: {deps})",
                    )
                    bad += 1
            if "BR2_PACKAGE_IGLOO" not in values or values["BR2_PACKAGE_IGLOO"] != "y":
                self.fail(where, "does not set BR2_PACKAGE_IGLOO=y (the image would have no igloo)")
                bad += 1
            if not bad:
                self.ok(
                    f"{where}: {len(entries)} settings well-formed, "
                    f"{len(ours)} BR2_PACKAGE_IGLOO* symbols defined and kept"
                )

    # -- 3. paths --------------------------------------------------------------
    def check_paths(self) -> None:
        boards = sorted(set(self.boards().values()))
        checked = 0
        before = len(self.problems)
        for path, text in self.text_files():
            if path.suffix == ".md":
                continue  # documentation: its paths are examples
            where = self.rel(path)
            for n, line in enumerate(text.splitlines(), 1):
                for m in EXT_REF.finditer(line):
                    name = m["n1"] or m["n2"] or m["n3"]
                    if name != EXT_NAME:
                        self.fail(
                            f"{where}:{n}",
                            f"uses BR2_EXTERNAL_{name}_PATH but external.desc names the tree "
                            f"{EXT_NAME}",
                        )
                        continue
                    checked += self.check_one_path(
                        where, n, self.resolve_ext_path(m["rest"]), m.group(0)
                    )
                if path.suffix == ".sh" or text.startswith("#!"):
                    for m in SCRIPT_REF.finditer(line):
                        base = self.repo if m["var"] == "repo" else self.ext
                        checked += self.check_script_path(
                            where, n, base, m["rest"], m.group(0), boards
                        )
                    for m in DIRNAME_REF.finditer(line):
                        target = Path(os.path.normpath(str(path.parent) + m["rest"]))
                        checked += self.check_one_path(where, n, target, m.group(0))
        if checked and len(self.problems) == before:
            self.ok(f"paths: {checked} references into the repository exist")

    def check_script_path(
        self, where: str, n: int, base: Path, rest: str, text: str, boards: list[str]
    ) -> int:
        variables = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", rest))
        if variables - {"board"}:
            self.fail(
                f"{where}:{n}",
                f"path {text!r} uses ${', $'.join(sorted(variables - {'board'}))}: "
                "keep paths into the repository checkable "
                "(only $board is expanded, for every board)",
            )
            return 0
        count = 0
        for b in boards if "board" in variables else [None]:
            r = rest if b is None else re.sub(r"\$\{?board\}?", b, rest)
            count += self.check_one_path(where, n, Path(os.path.normpath(str(base) + r)), text)
        return count

    def check_one_path(self, where: str, n: int, target: Path, text: str) -> int:
        if any(c in str(target) for c in "*?["):
            if not glob.glob(str(target)):
                self.fail(f"{where}:{n}", f"{text!r} matches no file ({self.rel(target)})")
            return 1
        if not target.exists():
            self.fail(
                f"{where}:{n}", f"{text!r} refers to {self.rel(target)}, which does not exist"
            )
        return 1

    # -- 4. scripts ------------------------------------------------------------
    def check_scripts(self) -> None:
        count = 0
        for path, text in self.text_files():
            first = text.split("\n", 1)[0]
            if not (path.suffix == ".sh" or first.startswith("#!")):
                continue
            where = self.rel(path)
            count += 1
            shell = "sh" if re.match(r"^#!\s*/bin/sh\b", first) else "bash"
            if shutil.which(shell) is None:
                shell = "bash"
            out = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True)
            if out.returncode != 0:
                self.fail(where, f"{shell} -n: {out.stderr.strip()}")
            if not os.access(path, os.X_OK):
                self.fail(where, "is not executable (chmod +x; Buildroot runs it directly)")
        for d in self.defconfigs():
            values, _ = self.parse_defconfig(d)
            for key in ("BR2_ROOTFS_POST_BUILD_SCRIPT", "BR2_ROOTFS_POST_IMAGE_SCRIPT"):
                for s in values.get(key, "").split():
                    m = EXT_REF.match(s)
                    if m and (m["n1"] or m["n2"] or m["n3"]) == EXT_NAME:
                        p = self.resolve_ext_path(m["rest"])
                        if p.exists() and not os.access(p, os.X_OK):
                            self.fail(self.rel(d), f"{key} {s} is not executable")
        if count:
            self.ok(f"scripts: {count} pass the shell's syntax check and are executable")

    # -- 5. the image/ contract -------------------------------------------------
    def check_image_contract(self) -> None:
        layout_file = self.repo / "image/layout.env"
        if not layout_file.is_file():
            self.fail("image/layout.env", "does not exist")
            return
        try:
            layout = self.shell_env(layout_file)
        except RuntimeError as e:
            self.fail("image/layout.env", f"cannot be sourced: {e}")
            return
        for key in ("IGLOO_ROOTFS_SIZE", "IGLOO_ROOTA_LABEL"):
            if not layout.get(key):
                self.fail("image/layout.env", f"does not set {key}")
                return
        post_image = self.ext / "board/igloo/post-image.sh"
        post_image_text = post_image.read_text() if post_image.is_file() else ""
        for d in self.defconfigs():
            self.check_defconfig_contract(d, layout, post_image_text)

    def check_defconfig_contract(
        self, d: Path, layout: dict[str, str], post_image_text: str
    ) -> None:
        where = self.rel(d)
        values, entries = self.parse_defconfig(d)
        lines = {s: n for n, s, _ in entries}
        start = len(self.problems)

        def at(sym: str) -> str:
            return f"{where}:{lines[sym]}" if sym in lines else where

        def want(sym: str, val: str, why: str) -> None:
            got = values.get(sym)
            if got != val:
                shown = "unset" if got is None else repr(got)
                self.fail(at(sym), f"{sym} must be {val!r} ({why}); it is {shown}")

        # Rootfs slot A: the genimage configs take rootfs.ext4 as slot A, the
        # same size as slot B; U-Boot and the init scripts find it by label.
        want("BR2_TARGET_ROOTFS_EXT2", "y", "the rootfs slot image is ext4")
        want("BR2_TARGET_ROOTFS_EXT2_4", "y", "the rootfs slot image is ext4")
        label = values.get("BR2_TARGET_ROOTFS_EXT2_LABEL")
        if label != layout["IGLOO_ROOTA_LABEL"]:
            self.fail(
                at("BR2_TARGET_ROOTFS_EXT2_LABEL"),
                f"rootfs label mismatch: BR2_TARGET_ROOTFS_EXT2_LABEL is {label!r} "
                f"but image/layout.env has IGLOO_ROOTA_LABEL={layout['IGLOO_ROOTA_LABEL']}",
            )
        size = values.get("BR2_TARGET_ROOTFS_EXT2_SIZE")
        if size is None or to_bytes(size) != to_bytes(layout["IGLOO_ROOTFS_SIZE"]):
            self.fail(
                at("BR2_TARGET_ROOTFS_EXT2_SIZE"),
                f"rootfs size mismatch: BR2_TARGET_ROOTFS_EXT2_SIZE is {size!r} "
                f"but image/layout.env has IGLOO_ROOTFS_SIZE={layout['IGLOO_ROOTFS_SIZE']} "
                "(both slots have that size)",
            )

        # System: the shared overlay's inittab and init scripts need BusyBox
        # init; the root stays read-only.
        want("BR2_INIT_BUSYBOX", "y", "image/overlay/etc/inittab is BusyBox init's")
        want("BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW", "n", "the rootfs slots are read-only")
        overlays = values.get("BR2_ROOTFS_OVERLAY", "").split()
        if f"$({EXT_VAR})/../image/overlay" not in overlays:
            self.fail(
                at("BR2_ROOTFS_OVERLAY"),
                f"BR2_ROOTFS_OVERLAY must include $({EXT_VAR})/../image/overlay "
                "(the shared rootfs overlay)",
            )
        want(
            "BR2_ROOTFS_POST_BUILD_SCRIPT",
            f"$({EXT_VAR})/board/igloo/post-build.sh",
            "the shared rootfs layout",
        )
        want(
            "BR2_ROOTFS_POST_IMAGE_SCRIPT",
            f"$({EXT_VAR})/board/igloo/post-image.sh",
            "the shared disk image",
        )
        for tool, sym in POST_IMAGE_HOST_TOOLS.items():
            want(sym, "y", f"post-image.sh runs {tool}")
        # The broker's accounts (image/overlay/usr/libexec/igloo/mqtt-accounts):
        # Buildroot installs mosquitto_passwd with the broker, and both it and
        # the broker's password hashing exist only when built with OpenSSL.
        want("BR2_PACKAGE_MOSQUITTO_BROKER", "y", "the image's broker and mosquitto_passwd")
        want(
            "BR2_PACKAGE_OPENSSL",
            "y",
            "Mosquitto hashes passwords and builds mosquitto_passwd only with OpenSSL",
        )

        # The board: its facts in image/boards/BOARD.conf.
        args = values.get("BR2_ROOTFS_POST_SCRIPT_ARGS", "").split()
        if not args:
            self.fail(
                at("BR2_ROOTFS_POST_SCRIPT_ARGS"),
                'BR2_ROOTFS_POST_SCRIPT_ARGS must name the board (e.g. "rpi4")',
            )
            return
        board = args[0]
        conf = self.repo / f"image/boards/{board}.conf"
        boot_cfg = self.repo / f"image/genimage/boot-{board}.cfg"
        if not conf.is_file():
            self.fail(
                at("BR2_ROOTFS_POST_SCRIPT_ARGS"),
                f"board {board!r} has no image/boards/{board}.conf",
            )
        if not boot_cfg.is_file():
            self.fail(
                at("BR2_ROOTFS_POST_SCRIPT_ARGS"),
                f"board {board!r} has no image/genimage/boot-{board}.cfg",
            )
        if not conf.is_file():
            return
        try:
            facts = self.shell_env(self.repo / "image/layout.env", conf)
        except RuntimeError as e:
            self.fail(self.rel(conf), f"cannot be sourced: {e}")
            return
        dtbs = facts.get("BOARD_DTBS", "").split()
        firmware = facts.get("BOARD_FIRMWARE", "").split()
        uboot = facts.get("BOARD_UBOOT", "")

        want(
            "BR2_TARGET_UBOOT",
            "y",
            "both the Pi and QEMU virt boot U-Boot with image/boot/boot.cmd",
        )
        if uboot:
            want(
                "BR2_TARGET_UBOOT_BOARD_DEFCONFIG",
                uboot,
                f"BOARD_UBOOT in image/boards/{board}.conf",
            )
        if dtbs:
            names = sorted(values.get("BR2_LINUX_KERNEL_INTREE_DTS_NAME", "").split())
            expect = sorted(re.sub(r"\.dtb$", "", x) for x in dtbs)
            if names != expect:
                self.fail(
                    at("BR2_LINUX_KERNEL_INTREE_DTS_NAME"),
                    f"BR2_LINUX_KERNEL_INTREE_DTS_NAME is {' '.join(names) or 'unset'!r} but "
                    f"image/boards/{board}.conf has BOARD_DTBS={' '.join(dtbs)!r}",
                )
            want("BR2_LINUX_KERNEL_DTS_SUPPORT", "y", "the board needs DTBs")
            if any("/" in x for x in dtbs):
                want(
                    "BR2_LINUX_KERNEL_DTB_KEEP_DIRNAME",
                    "y",
                    "BOARD_DTBS paths keep the vendor directory",
                )
        for fw in firmware:
            option = RPI_FIRMWARE_OPTION.get(fw)
            if option is None:
                self.fail(
                    self.rel(conf),
                    f"BOARD_FIRMWARE has {fw!r}, "
                    "which check.py cannot map to an rpi-firmware option",
                )
            else:
                want("BR2_PACKAGE_RPI_FIRMWARE", "y", f"BOARD_FIRMWARE has {fw}")
                want(option, "y", f"BOARD_FIRMWARE has {fw}")

        # The boot FAT lists exactly what post-image.sh stages for the board.
        if boot_cfg.is_file():
            staged = {"boot.scr"}
            if uboot:
                staged |= {
                    "u-boot.bin",
                    "config.txt",
                    *firmware,
                    *(os.path.basename(x) for x in dtbs),
                }
            listed: set[str] = set()
            for m in GENIMAGE_FILES.finditer(boot_cfg.read_text()):
                listed |= set(re.findall(r'"([^"]+)"', m["body"]))
            if listed != staged:
                missing = sorted(listed - staged)
                extra = sorted(staged - listed)
                detail = []
                if missing:
                    detail.append(f"listed but never staged by post-image.sh: {', '.join(missing)}")
                if extra:
                    detail.append(f"staged but not on the FAT: {', '.join(extra)}")
                self.fail(
                    self.rel(boot_cfg),
                    "boot FAT files disagree with image/boards/"
                    + f"{board}.conf: "
                    + "; ".join(detail),
                )
        if post_image_text and "$BOARD_UBOOT" not in post_image_text:
            self.fail(
                "buildroot/board/igloo/post-image.sh",
                "no longer stages files by $BOARD_UBOOT; update check.py with it",
            )

        if len(self.problems) == start:
            self.ok(
                f"{where}: board {board}: rootfs {label} {size} as in image/layout.env, "
                f"image/boards/{board}.conf and boot-{board}.cfg agree with it"
            )

    # -- 6. the igloo package ------------------------------------------------------
    def check_package(self, kconf: kconfiglib.Kconfig | None) -> None:
        mk = self.ext / "package/igloo/igloo.mk"
        if not mk.is_file():
            self.fail("buildroot/package/igloo/igloo.mk", "does not exist")
            return
        text = mk.read_text()
        start = len(self.problems)
        if "$(eval $(cargo-package))" not in text:
            self.fail(
                self.rel(mk),
                "does not use the cargo package infrastructure ($(eval $(cargo-package)))",
            )
        bins: list[str] = []
        for m in re.finditer(r"^IGLOO_BINS\s*\+?=\s*(.*)$", text, re.M):
            bins += m.group(1).split()
        if not bins:
            self.fail(self.rel(mk), "defines no IGLOO_BINS")
        if kconf is not None:
            for sym in sorted(set(re.findall(r"\bBR2_PACKAGE_IGLOO\w*", text))):
                s = kconf.syms.get(sym)
                if s is None or not s.nodes:
                    self.fail(
                        self.rel(mk),
                        f"tests {sym}, which our Kconfig does not define (make treats it as unset)",
                    )
        members = self.workspace_bins()
        if members is None:
            return
        for b in bins:
            if b not in members:
                self.fail(
                    self.rel(mk),
                    f"builds {b!r}, which is not a package of the workspace (Cargo.toml members)",
                )
            elif b not in members[b]:
                self.fail(
                    self.rel(mk),
                    f"package {b!r} has no binary named {b!r} "
                    f"(it has: {', '.join(sorted(members[b])) or 'none'})",
                )
        if len(self.problems) == start:
            self.ok(
                f"package: igloo.mk builds {', '.join(bins)}, "
                "each a workspace package with that binary"
            )

    def workspace_bins(self) -> dict[str, set[str]] | None:
        """Workspace package name -> its binaries; None when Cargo.toml cannot be read."""
        root = self.repo / "Cargo.toml"
        try:
            ws = tomllib.loads(root.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            self.fail("Cargo.toml", f"cannot be read: {e}")
            return None
        out: dict[str, set[str]] = {}
        for member in ws.get("workspace", {}).get("members", []):
            for d in sorted(self.repo.glob(member)):
                try:
                    crate = tomllib.loads((d / "Cargo.toml").read_text())
                except (OSError, tomllib.TOMLDecodeError) as e:
                    self.fail(self.rel(d / "Cargo.toml"), f"cannot be read: {e}")
                    continue
                name = crate.get("package", {}).get("name")
                if not name:
                    continue
                names: set[str] = {b.get("name") for b in crate.get("bin", [])}
                if (d / "src/main.rs").is_file() and crate.get("package", {}).get("autobins", True):
                    names.add(name)
                out[name] = names
        return out

    # -- 7. the kernel fragment ------------------------------------------------------
    def check_kernel_fragments(self) -> None:
        frags: set[Path] = set()
        for d in self.defconfigs():
            values, _ = self.parse_defconfig(d)
            for frag in values.get("BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "").split():
                m = EXT_REF.match(frag)
                if m and (m["n1"] or m["n2"] or m["n3"]) == EXT_NAME:
                    frags.add(self.resolve_ext_path(m["rest"]))
            if values.get("BR2_LINUX_KERNEL") == "y" and not values.get(
                "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"
            ):
                self.fail(
                    self.rel(d),
                    "builds a kernel without the Igloo fragment "
                    "(BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES)",
                )
        merged: dict[str, str] = {}
        for f in sorted(frags):
            if not f.is_file():
                continue  # reported by the path check
            where = self.rel(f)
            seen: dict[str, int] = {}
            for n, line in enumerate(f.read_text().splitlines(), 1):
                m = FRAGMENT_LINE.match(line) or FRAGMENT_UNSET.match(line)
                if not m:
                    if line.strip() and not line.startswith("#"):
                        self.fail(
                            f"{where}:{n}", f"not a CONFIG_X=value line or a comment: {line!r}"
                        )
                    elif re.match(r"^#\s*CONFIG_\w+", line):
                        self.fail(
                            f"{where}:{n}",
                            f"looks like a malformed '# CONFIG_... is not set' line: {line!r}",
                        )
                    continue
                sym = m["sym"]
                val = m.groupdict().get("val") or "n"
                if sym in seen:
                    self.fail(
                        f"{where}:{n}", f"CONFIG_{sym} is set again (first at line {seen[sym]})"
                    )
                seen[sym] = n
                merged[sym] = val.strip('"') if val.startswith('"') else val
            if merged.get("MODULES") == "n":
                for sym, val in merged.items():
                    if val == "m":
                        self.fail(
                            where,
                            f"CONFIG_{sym}=m, but CONFIG_MODULES is not set: "
                            "it would not be built at all",
                        )
        if not any(f.is_file() for f in frags):
            return  # a missing fragment is reported by the path check
        start = len(self.problems)
        for sym, val in REQUIRED_KERNEL.items():
            if merged.get(sym) != val:
                self.fail(
                    ", ".join(self.rel(f) for f in sorted(frags)),
                    f"CONFIG_{sym} must be {val} (the core and the image rely on it); "
                    f"it is {merged.get(sym, 'not set here')}",
                )
        lsm = merged.get("LSM", "")
        if "landlock" not in lsm.split(","):
            self.fail(
                ", ".join(self.rel(f) for f in sorted(frags)),
                "CONFIG_LSM must list landlock (built but not in the list = not active); "
                f"it is {lsm or 'not set here'!r}",
            )
        if len(self.problems) == start:
            self.ok(
                f"kernel: {len(merged)} options in the fragment, Landlock active, "
                "nftables/virtio/ext4/vfat/USB serial built in"
            )

    # -- optional: a real Buildroot tree ---------------------------------------
    def check_against_buildroot(self, br: Path) -> None:
        if not (br / "Config.in").is_file() or not (br / "support/scripts/br2-external").is_file():
            self.fail(
                str(br),
                "is not a Buildroot source tree (no Config.in / support/scripts/br2-external)",
            )
            return
        version = "unknown"
        mk = (br / "Makefile").read_text(errors="replace")
        m = re.search(r"^export BR2_VERSION\s*:=\s*(\S+)", mk, re.M)
        if m:
            version = m.group(1)
        with tempfile.TemporaryDirectory() as base:
            for item in (
                "paths",
                "menus",
                "toolchains",
                "jpeg",
                "openssl",
                "skeleton",
                "init",
                "linux",
            ):
                Path(base, f".br2-external.in.{item}").write_text("# generated by check.py\n")
            Path(base, ".br2-external.in.paths").write_text(
                f'config BR2_EXTERNAL_NAMES\n\tstring\n\tdefault "{EXT_NAME}"\n\n'
                f'config {EXT_VAR}\n\tstring\n\tdefault "{self.ext}"\n'
            )
            Path(base, ".br2-external.in.menus").write_text(
                f'menu "External options"\nsource "{self.ext}/Config.in"\nendmenu\n'
            )
            env = {
                "BR2_BASE_DIR": base,
                "BASE_DIR": base,
                "BR2_VERSION_FULL": version,
                "HOSTARCH": "x86_64",
                "HOST_GCC_VERSION": "12",
                "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "",
                EXT_VAR: str(self.ext),
                "srctree": str(br),
                "CONFIG_": "",
            }
            saved = {
                k: os.environ.get(k)
                for k in [*env, "KCONFIG_WARN_UNDEF", "KCONFIG_WARN_UNDEF_ASSIGN"]
            }
            os.environ.update(env)
            os.environ.pop("KCONFIG_WARN_UNDEF", None)
            os.environ["KCONFIG_WARN_UNDEF_ASSIGN"] = "y"
            cwd = os.getcwd()
            os.chdir(br)
            try:
                try:
                    kconf = kconfiglib.Kconfig("Config.in", warn_to_stderr=False)
                except kconfiglib.KconfigError as e:
                    self.fail(
                        f"Buildroot {version}", f"its Kconfig does not parse with our tree: {e}"
                    )
                    return
                for d in self.defconfigs():
                    self.check_defconfig_in_buildroot(kconf, d, version)
            finally:
                os.chdir(cwd)
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

    def check_defconfig_in_buildroot(
        self, kconf: kconfiglib.Kconfig, d: Path, version: str
    ) -> None:
        where = self.rel(d)
        settings = self.settings_file(d)
        start = len(self.problems)
        try:
            before = len(kconf.warnings)
            kconf.load_config(settings)
            for w in kconf.warnings[before:]:
                self.fail(f"Buildroot {version}", self.unmap(w).strip())
            _, entries = self.parse_defconfig(d)
            for n, s, v in entries:
                v = v.replace(f"$({EXT_VAR})", str(self.ext))
                sym = kconf.syms.get(s)
                if sym is None or not sym.nodes:
                    continue  # warned about above
                got = sym.str_value
                if got != v and not (v == "n" and got == ""):
                    self.fail(
                        f"{where}:{n} (Buildroot {version})",
                        f"{s}={v!r} does not stick, Kconfig makes it {got!r} (depends on: "
                        f"{kconfiglib.expr_str(sym.direct_dep)})",
                    )
        finally:
            os.unlink(settings)
        if len(self.problems) == start:
            self.ok(f"{where}: every setting is known to Buildroot {version} and keeps its value")


def to_bytes(size: str | None) -> int | None:
    """Buildroot's and genimage's sizes: a number with an optional k/M/G/T
    suffix (powers of two); Buildroot reads a bare number as KiB."""
    m = re.fullmatch(r"\s*([0-9]+)\s*([kKmMgGtT]?)\s*", size or "")
    if not m:
        return None
    mult = {"": 1024, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[m.group(2).lower()]
    return int(m.group(1)) * mult


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--repo",
        type=Path,
        default=HERE.parent.parent,
        help="repository root (default: this checkout)",
    )
    ap.add_argument(
        "--buildroot", type=Path, help="a Buildroot source tree to check the defconfigs against"
    )
    args = ap.parse_args()
    repo = args.repo.resolve()
    if not (repo / "buildroot/external.desc").is_file():
        print(f"error: {repo} has no buildroot/external.desc", file=sys.stderr)
        return 2

    c = Checker(repo)
    desc = (repo / "buildroot/external.desc").read_text()
    m = re.search(r"^name:\s*(\S+)\s*$", desc, re.M)
    if not m or m.group(1) != EXT_NAME:
        c.fail(
            "buildroot/external.desc", f"must say 'name: {EXT_NAME}' (the defconfigs use {EXT_VAR})"
        )
    kconf = c.load_kconfig()
    c.check_defconfigs(kconf)
    c.check_paths()
    c.check_scripts()
    c.check_image_contract()
    c.check_package(kconf)
    c.check_kernel_fragments()
    if args.buildroot:
        c.check_against_buildroot(args.buildroot.resolve())

    for line in c.passed:
        print(f"ok: {line}")
    if c.problems:
        for p in c.problems:
            print(f"FAIL: {p}")
        print(f"buildroot checks FAILED: {len(c.problems)} problem(s) in {repo}/buildroot")
        return 1
    print(f"buildroot checks passed ({len(c.passed)} groups)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
