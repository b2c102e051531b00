# shellcheck shell=bash
# Board facts that end up in the rootfs's files, for both image builders
# (scripts/build-image and buildroot/board/igloo/post-build.sh). Source it
# after image/boards/BOARD.conf.

# board_igloo_toml TOML: adds the board's own settings to the image's default
# igloo.toml (copied from image/overlay): [watchdog] when BOARD_WATCHDOG names
# the board's watchdog device, with BOARD_WATCHDOG_HARDWARE_TIMEOUT as its
# hardware_timeout_s when set.
board_igloo_toml() {
    local toml=$1
    if [ -n "${BOARD_WATCHDOG:-}" ]; then
        printf '\n[watchdog]                     # a hung core reboots the board (docs/image.md)\ndevice = "%s"\n' \
            "$BOARD_WATCHDOG" >>"$toml"
        if [ -n "${BOARD_WATCHDOG_HARDWARE_TIMEOUT:-}" ]; then
            printf 'hardware_timeout_s = %s          # the most the hardware takes (image/boards)\n' \
                "$BOARD_WATCHDOG_HARDWARE_TIMEOUT" >>"$toml"
        fi
    fi
}
