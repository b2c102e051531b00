#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT) of every Igloo
# board. Arguments: BINARIES_DIR BOARD (BR2_ROOTFS_POST_SCRIPT_ARGS).
#
# Builds the disk image exactly as scripts/build-image does, from the same
# files: the boot script from image/boot/boot.cmd, the partition layout and
# labels from image/layout.env, the board's facts from
# image/boards/BOARD.conf and the genimage configs in image/genimage/. Only
# the inputs differ: Buildroot's rootfs.ext4 (slot A), U-Boot and the Pi
# firmware instead of Debian's.
#
# Output: BINARIES_DIR/igloo-BOARD.img (QEMU virt also needs u-boot.bin from
# BINARIES_DIR as its -bios).
set -euo pipefail

images=${1:?usage: post-image.sh BINARIES_DIR BOARD}
board=${2:?usage: post-image.sh BINARIES_DIR BOARD (set BR2_ROOTFS_POST_SCRIPT_ARGS)}

ext=${BR2_EXTERNAL_IGLOO_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}
repo=$(cd "$ext/.." && pwd)

board_conf="$repo/image/boards/$board.conf"
[ -f "$board_conf" ] || { echo "post-image: unknown board \"$board\" (no $board_conf)" >&2; exit 1; }
# genimage reads the layout and the board's facts from the environment.
set -a
# shellcheck source=image/layout.env
. "$repo/image/layout.env"
# shellcheck source=/dev/null
. "$board_conf"
export IGLOO_BOARD=$board
set +a

need() { # need FILE: fails naming a missing input
    [ -f "$1" ] || { echo "post-image: $1 is missing (is its package enabled in the defconfig?)" >&2; exit 1; }
}

# genimage's inputs, flat (file names only), as its configs list them.
work="$images/igloo-genimage"
input="$work/input"
rm -rf "$work"
mkdir -p "$input" "$work/root"

need "$images/rootfs.ext4"
cp "$images/rootfs.ext4" "$input/rootfs.ext4"
# shellcheck source=image/boot/boot-state.sh
. "$repo/image/boot/boot-state.sh"
boot_state_check "$repo/image/boot/boot.cmd"
mkimage -A arm64 -T script -C none -n "igloo boot" \
    -d "$repo/image/boot/boot.cmd" "$input/boot.scr" >/dev/null
boot_state_image "$input/uboot-env.img"

if [ -n "$BOARD_UBOOT" ]; then
    # Raspberry Pi: the firmware starts U-Boot (kernel=u-boot.bin in
    # config.txt) with the DTB it picked for the board.
    need "$images/u-boot.bin"
    cp "$images/u-boot.bin" "$input/u-boot.bin"
    cp "$repo/image/boot/config.txt" "$input/config.txt"
    for fw in $BOARD_FIRMWARE; do
        need "$images/rpi-firmware/$fw"
        cp "$images/rpi-firmware/$fw" "$input/$fw"
    done
    for dtb in $BOARD_DTBS; do
        need "$images/$dtb"
        cp "$images/$dtb" "$input/$(basename "$dtb")"
    done
fi

# genimage wants a tmppath it may wipe, and a rootpath even when no image is
# made from it. The config is named relative to its directory: genimage 16
# looks the --config file up in every --includepath (prefixing even an
# absolute path, which then fails), newer releases open it from the current
# directory; from image/genimage both find it.
tmp="$work/tmp"
(
    cd "$repo/image/genimage"
    genimage \
        --config igloo.cfg \
        --includepath "$repo/image/genimage" \
        --inputpath "$input" \
        --outputpath "$work" \
        --rootpath "$work/root" \
        --tmppath "$tmp"
)
rm -rf "$tmp"

mv "$work/igloo.img" "$images/igloo-$board.img"
echo "post-image: $images/igloo-$board.img ($BOARD_DESC, $IGLOO_PARTITION_TABLE)"
