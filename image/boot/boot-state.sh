# shellcheck shell=bash
# The boot state's parts for both image builders (scripts/build-image and
# buildroot/board/igloo/post-*.sh), from image/layout.env's IGLOO_ENV_OFFSET
# and IGLOO_ENV_SIZE (docs/adr/0005-boot-state.md). Source it after layout.env.

# boot_state_check BOOT_CMD: fails unless boot.cmd reads and writes the copies
# where layout.env puts them (its block numbers, 512-byte blocks).
boot_state_check() {
    local cmd=$1 want
    for want in \
        "setenv igloo_env_blk0 $(printf '0x%x' $((IGLOO_ENV_OFFSET / 512)))" \
        "setenv igloo_env_blk1 $(printf '0x%x' $(((IGLOO_ENV_OFFSET + IGLOO_ENV_SIZE) / 512)))" \
        "setenv igloo_env_blks $(printf '0x%x' $((IGLOO_ENV_SIZE / 512)))" \
        "0x$(printf '%x' $((IGLOO_ENV_SIZE - 1)))"; do
        grep -qF -- "$want" "$cmd" || {
            echo "error: $cmd does not have \"$want\" (image/layout.env IGLOO_ENV_OFFSET=$IGLOO_ENV_OFFSET IGLOO_ENV_SIZE=$IGLOO_ENV_SIZE)" >&2
            return 1
        }
    done
}

# boot_state_image OUT: the first boot state, both copies (copy 0 valid with
# flag 1, copy 1 empty), for genimage to place at IGLOO_ENV_OFFSET.
boot_state_image() {
    local out=$1 txt
    txt=$(mktemp)
    printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$txt"
    mkenvimage -r -s "$IGLOO_ENV_SIZE" -o "$out" "$txt"
    rm -f "$txt"
    truncate -s $((2 * IGLOO_ENV_SIZE)) "$out"
}

# boot_state_fw_env DISK: /etc/fw_env.config for libubootenv (fw_setenv,
# fw_printenv, RAUC's U-Boot backend): both copies on the whole disk DISK.
boot_state_fw_env() {
    printf '# The boot state: two copies of a redundant U-Boot environment before\n'
    printf '# partition 1 (image/layout.env, docs/adr/0005-boot-state.md).\n'
    printf '%s 0x%x 0x%x\n' "$1" "$IGLOO_ENV_OFFSET" "$IGLOO_ENV_SIZE"
    printf '%s 0x%x 0x%x\n' "$1" $((IGLOO_ENV_OFFSET + IGLOO_ENV_SIZE)) "$IGLOO_ENV_SIZE"
}
