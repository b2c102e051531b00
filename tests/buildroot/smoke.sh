#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../..
# Runs buildroot/board/igloo/post-build.sh and post-image.sh the way
# Buildroot does, on a stand-in Buildroot output (placeholder kernel,
# DTBs, U-Boot and Pi firmware; the real image/overlay; a real ext4 rootfs
# made as BR2_TARGET_ROOTFS_EXT2 would), with the real image/ files,
# mkimage and genimage, and checks the disk image that comes out.
#
# usage: tests/buildroot/smoke.sh [BOARD...]   (default: every board of a defconfig)
# Needs: genimage, mkimage (u-boot-tools), mkfs.ext4 / e2label / debugfs
# (e2fsprogs), mkfs.vfat (dosfstools), mcopy / mdir (mtools), sfdisk (fdisk).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
ext="$repo/buildroot"

missing=()
for pair in genimage:genimage mkimage:u-boot-tools mkfs.ext4:e2fsprogs e2label:e2fsprogs \
    debugfs:e2fsprogs mkfs.vfat:dosfstools mcopy:mtools mdir:mtools sfdisk:fdisk; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "smoke: missing tools; install them with: apt-get install $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
    exit 2
fi

# setting DEFCONFIG SYMBOL: the unquoted value of a BR2_ setting
setting() {
    sed -n "s/^$2=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$1" | head -n 1
}

declare -A defconfig_of=()
for d in "$ext"/configs/*_defconfig; do
    b=$(setting "$d" BR2_ROOTFS_POST_SCRIPT_ARGS)
    b=${b%% *}
    [ -n "$b" ] && defconfig_of[$b]=$d
done
boards=("$@")
[ ${#boards[@]} -gt 0 ] || mapfile -t boards < <(printf '%s\n' "${!defconfig_of[@]}" | sort)

fail() {
    echo "smoke: $board: $*" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for board in "${boards[@]}"; do
    defconfig=${defconfig_of[$board]:-}
    [ -n "$defconfig" ] || fail "no defconfig has BR2_ROOTFS_POST_SCRIPT_ARGS=\"$board\""
    # The board's facts, as the scripts read them.
    (
        set -a
        # shellcheck source=image/layout.env
        . "$repo/image/layout.env"
        # shellcheck source=/dev/null
        . "$repo/image/boards/$board.conf"
        set +a

        target="$work/$board/target"
        images="$work/$board/images"
        mkdir -p "$target"/{etc/init.d,usr/bin,usr/libexec/igloo} "$target/var/lib" "$images/rpi-firmware"

        # What the packages and Buildroot's skeleton leave in the target.
        ln -s ../tmp "$target/var/log"
        ln -s ../run "$target/var/run"
        printf '#!/bin/sh\n' >"$target/etc/init.d/S50mosquitto"
        printf '#!/bin/sh\n' >"$target/etc/init.d/S01syslogd"
        for b in igloo igloo-mqtt igloo-esphome igloo-serial; do
            printf 'placeholder %s\n' "$b" >"$target/usr/libexec/igloo/$b"
        done
        ln -s ../libexec/igloo/igloo "$target/usr/bin/igloo"
        # Buildroot copies BR2_ROOTFS_OVERLAY before the post-build script.
        cp -a "$repo/image/overlay/." "$target/"

        # What the kernel, U-Boot and rpi-firmware packages leave in BINARIES_DIR.
        printf 'placeholder kernel\n' >"$images/Image"
        for dtb in $BOARD_DTBS; do
            mkdir -p "$images/$(dirname "$dtb")"
            printf 'placeholder %s\n' "$dtb" >"$images/$dtb"
        done
        printf 'placeholder u-boot\n' >"$images/u-boot.bin"
        for fw in $BOARD_FIRMWARE; do
            printf 'placeholder %s\n' "$fw" >"$images/rpi-firmware/$fw"
        done

        echo "smoke: $board: post-build.sh"
        BINARIES_DIR="$images" BR2_EXTERNAL_IGLOO_PATH="$ext" \
            "$ext/board/igloo/post-build.sh" "$target" "$board"

        [ -f "$target/boot/Image" ] || fail "no /boot/Image"
        for dtb in $BOARD_DTBS; do
            [ -f "$target/boot/dtbs/$dtb" ] || fail "no /boot/dtbs/$dtb"
        done
        for dir in boot/firmware data; do
            [ -d "$target/$dir" ] || fail "no /$dir mount point"
        done
        [ -x "$target/usr/libexec/igloo/start-core" ] || fail "the overlay's /usr/libexec/igloo/start-core is missing"
        conf="$target/etc/rauc/system.conf"
        grep -qx "compatible=igloo-$board" "$conf" || fail "system.conf: no compatible=igloo-$board"
        grep -qx "device=${BOARD_DISK}${BOARD_PART_PREFIX}2" "$conf" || fail "system.conf: slot A is not ${BOARD_DISK}${BOARD_PART_PREFIX}2"
        grep -qx "device=${BOARD_DISK}${BOARD_PART_PREFIX}3" "$conf" || fail "system.conf: slot B is not ${BOARD_DISK}${BOARD_PART_PREFIX}3"
        ! grep -q '@[A-Z_]*@' "$conf" || fail "system.conf has unfilled placeholders"
        [ ! -e "$target/etc/init.d/S50mosquitto" ] || fail "Buildroot's S50mosquitto is still there (a second broker)"
        [ -e "$target/etc/init.d/S01syslogd" ] || fail "post-build removed an unrelated init script"
        grep -qx "IGLOO_BOARD=$board" "$target/etc/igloo-release" || fail "no IGLOO_BOARD in /etc/igloo-release"

        # BR2_TARGET_ROOTFS_EXT2 with the defconfig's label, size and options.
        label=$(setting "$defconfig" BR2_TARGET_ROOTFS_EXT2_LABEL)
        size=$(setting "$defconfig" BR2_TARGET_ROOTFS_EXT2_SIZE)
        read -r -a opts <<<"$(setting "$defconfig" BR2_TARGET_ROOTFS_EXT2_MKFS_OPTIONS)"
        mkfs.ext4 -q -F -L "$label" "${opts[@]}" -d "$target" "$images/rootfs.ext2" "$size"
        ln -s rootfs.ext2 "$images/rootfs.ext4"

        echo "smoke: $board: post-image.sh"
        BR2_EXTERNAL_IGLOO_PATH="$ext" "$ext/board/igloo/post-image.sh" "$images" "$board"

        img="$images/igloo-$board.img"
        [ -f "$img" ] || fail "post-image.sh made no $img"
        table=$(sfdisk --json "$img")
        want_label=$([ "$IGLOO_PARTITION_TABLE" = gpt ] && echo gpt || echo dos)
        grep -q "\"label\": *\"$want_label\"" <<<"$table" || fail "partition table is not $want_label: $table"
        parts=$(sfdisk -d "$img" | grep -c '^/')
        [ "$parts" -eq 4 ] || fail "$parts partitions, want 4 (boot, rootfs A, rootfs B, data)"
        # Partition N's start and size in bytes.
        part() { sfdisk -d "$img" | awk -v n="$1" '/^\// { i++; if (i == n) { gsub(/[=,]/, " "); for (f = 1; f <= NF; f++) { if ($f == "start") s = $(f + 1); if ($f == "size") z = $(f + 1) } print s * 512, z * 512 } }'; }
        read -r boot_off _ < <(part 1)
        read -r a_off a_size < <(part 2)
        want_size=$(numfmt --from=iec "$IGLOO_ROOTFS_SIZE")
        [ "$a_size" -eq "$want_size" ] || fail "slot A is $a_size bytes, want $IGLOO_ROOTFS_SIZE"
        # The boot FAT has what boot-$board.cfg lists.
        fat=$(mdir -b -i "$img@@$boot_off" ::/ 2>&1) || fail "the boot partition is not a FAT: $fat"
        want_files="boot.scr"
        [ -z "$BOARD_UBOOT" ] || want_files="$want_files u-boot.bin config.txt $BOARD_FIRMWARE"
        for dtb in $BOARD_DTBS; do
            [ -z "$BOARD_UBOOT" ] || want_files="$want_files $(basename "$dtb")"
        done
        for f in $want_files; do
            grep -qi "/$f\$" <<<"$fat" || fail "boot FAT has no $f (it has: $(tr '\n' ' ' <<<"$fat"))"
        done
        # Slot A is the Buildroot rootfs, with the shared layout.
        dd if="$img" of="$work/$board/slotA.ext4" bs=1M iflag=skip_bytes,count_bytes \
            skip="$a_off" count="$a_size" status=none
        [ "$(e2label "$work/$board/slotA.ext4")" = "$IGLOO_ROOTA_LABEL" ] || fail "slot A's label is not $IGLOO_ROOTA_LABEL"
        debugfs -R "stat /boot/Image" "$work/$board/slotA.ext4" >/dev/null 2>&1 || fail "slot A has no /boot/Image"
        debugfs -R "stat /etc/rauc/system.conf" "$work/$board/slotA.ext4" >/dev/null 2>&1 || fail "slot A has no /etc/rauc/system.conf"
        echo "smoke: $board: ok ($IGLOO_PARTITION_TABLE, 4 partitions, slot A $IGLOO_ROOTFS_SIZE labelled $IGLOO_ROOTA_LABEL, boot FAT: $want_files)"
    )
done
echo "smoke: passed for ${boards[*]}"
