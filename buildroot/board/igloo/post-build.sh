#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# Buildroot post-build script (BR2_ROOTFS_POST_BUILD_SCRIPT) of every Igloo
# board. Runs after the image/overlay copy, before the rootfs slot image is
# made. Arguments: TARGET_DIR BOARD (BR2_ROOTFS_POST_SCRIPT_ARGS).
#
# It gives the rootfs the layout scripts/build-image gives the Debian-based
# image, from the same image/ files:
#   /boot/Image, /boot/dtbs/<BOARD_DTBS>   kernel and DTBs, one set per slot
#   /boot/firmware, /data                  mount points (boot FAT, data)
#   /etc/rauc/system.conf                  from image/rauc/system.conf.in
#   /etc/igloo-release                     what was built
# /var keeps Buildroot's layout for a read-only root (log, run, tmp, cache,
# spool in the tmpfs mounts; /var/lib read-only, with the packages' own links
# into /tmp): what must survive a reboot lives under /data by explicit path.
# Buildroot exports BINARIES_DIR (kernel, DTBs) and BR2_EXTERNAL_IGLOO_PATH.
set -euo pipefail

target=${1:?usage: post-build.sh TARGET_DIR BOARD}
board=${2:?usage: post-build.sh TARGET_DIR BOARD (set BR2_ROOTFS_POST_SCRIPT_ARGS)}
binaries=${BINARIES_DIR:?BINARIES_DIR is not set (run by Buildroot)}

ext=${BR2_EXTERNAL_IGLOO_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
repo=$(cd "$ext/.." && pwd)

board_conf="$repo/image/boards/$board.conf"
[ -f "$board_conf" ] || { echo "post-build: unknown board \"$board\" (no $board_conf)" >&2; exit 1; }
# shellcheck source=image/layout.env
. "$repo/image/layout.env"
# shellcheck source=/dev/null
. "$board_conf"

# Kernel and DTBs inside the slot: U-Boot's boot script (image/boot/boot.cmd)
# loads /boot/Image and /boot/dtbs/${fdtfile} from the slot it boots.
install -D -m 0644 "$binaries/Image" "$target/boot/Image"
rm -rf "$target/boot/dtbs"
mkdir -p "$target/boot/dtbs"
for dtb in $BOARD_DTBS; do
    # BR2_LINUX_KERNEL_DTB_KEEP_DIRNAME keeps the vendor directory (broadcom/).
    install -D -m 0644 "$binaries/$dtb" "$target/boot/dtbs/$dtb"
done
mkdir -p "$target/boot/firmware" "$target/data"

# RAUC: the slots are partitions 2 and 3 of the board's disk.
mkdir -p "$target/etc/rauc"
sed -e "s|@COMPATIBLE@|igloo-$board|" \
    -e "s|@ROOTA_DEV@|${BOARD_DISK}${BOARD_PART_PREFIX}2|" \
    -e "s|@ROOTB_DEV@|${BOARD_DISK}${BOARD_PART_PREFIX}3|" \
    "$repo/image/rauc/system.conf.in" >"$target/etc/rauc/system.conf"
if grep -q '@[A-Z_]*@' "$target/etc/rauc/system.conf"; then
    echo "post-build: image/rauc/system.conf.in has placeholders this script does not fill:" >&2
    grep -n '@[A-Z_]*@' "$target/etc/rauc/system.conf" >&2
    exit 1
fi
# The bundle-signing CA: development keys are made at build time and never
# committed, so the keyring comes from outside (IGLOO_RAUC_KEYRING=PATH).
if [ -n "${IGLOO_RAUC_KEYRING:-}" ]; then
    install -D -m 0644 "$IGLOO_RAUC_KEYRING" "$target/etc/rauc/keyring.pem"
elif [ ! -f "$target/etc/rauc/keyring.pem" ]; then
    echo "post-build: WARNING: no RAUC keyring (set IGLOO_RAUC_KEYRING=ca.cert.pem); this image will refuse every update bundle" >&2
fi
# fw_setenv/fw_printenv (libubootenv), which RAUC's U-Boot backend runs, find
# the boot state through /etc/fw_env.config (image/boot/boot-state.sh).
# shellcheck source=image/boot/boot-state.sh
. "$repo/image/boot/boot-state.sh"
# The board's own settings in the default igloo.toml (the overlay is copied).
# shellcheck source=image/boards/board-config.sh
. "$repo/image/boards/board-config.sh"
board_igloo_toml "$target/etc/igloo/igloo.toml"
boot_state_fw_env "$BOARD_DISK" >"$target/etc/fw_env.config"

# The shared inittab (image/overlay/etc/inittab) runs Mosquitto, chronyd, the
# D-Bus system bus and RAUC's service itself and restarts them; Buildroot's init
# scripts would start second copies. RAUC's own D-Bus policy lets every user
# install bundles: image/overlay's igloo-rauc.conf allows root only.
rm -f "$target/etc/init.d/S50mosquitto" "$target/etc/init.d/S30dbus" "$target/etc/init.d/S49chrony" \
    "$target"/etc/init.d/S*rauc-hawkbit-updater* \
    "$target/usr/share/dbus-1/system.d/de.pengutronix.rauc.conf" \
    "$target/etc/dbus-1/system.d/de.pengutronix.rauc.conf"
# rauc-hawkbit-updater's example config (started by /etc/init.d/S60hawkbit
# once the user puts a config on /data).
sed -e "s|@BOARD@|$board|g" "$repo/image/hawkbit/config.conf.in" \
    >"$target/etc/igloo/rauc-hawkbit-updater.conf.example"

kernel=unknown
if [ -n "${BUILD_DIR:-}" ]; then
    release=$(cat "$BUILD_DIR"/linux-*/include/config/kernel.release 2>/dev/null | head -n 1 || true)
    kernel=${release:-unknown}
fi
version=$(env -u GIT_DIR -u GIT_WORK_TREE git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
cat >"$target/etc/igloo-release" <<EOF
IGLOO_VERSION=$version
IGLOO_BOARD=$board
IGLOO_BOARD_DESC="$BOARD_DESC"
IGLOO_KERNEL=$kernel
IGLOO_BUILDER=buildroot
EOF
echo "post-build: $BOARD_DESC rootfs ready (kernel $kernel, igloo $version)"
