# Igloo boot script (U-Boot hush), the same for QEMU virt and the Raspberry Pi
# 3/4. Compiled to boot.scr with: mkimage -A arm64 -T script -C none -d boot.cmd boot.scr
#
# A/B slots with boot counting, as in RAUC's documented U-Boot integration
# (https://rauc.readthedocs.io/en/latest/integration.html#u-boot):
#   BOOT_ORDER   slots to try, first = preferred ("A B")
#   BOOT_A_LEFT / BOOT_B_LEFT   tries left per slot (3); a try is used up here
#   and given back by marking the slot good once the system is healthy.
# Partitions (image/genimage/disk-*.cfg): 1 boot FAT, 2 slot A, 3 slot B, 4 data.
# Each slot holds its own kernel (/boot/Image.gz or /boot/Image), initramfs (/boot/initrd.img,
# optional) and, on the Pi, DTBs (/boot/dtbs/${fdtfile}); QEMU's DTB comes from
# QEMU itself (${fdtcontroladdr}).
#
# The boot state (docs/adr/0005-boot-state.md) is not U-Boot's own saved
# environment (pflash on QEMU, which Linux cannot reach there): it is two
# copies of a redundant U-Boot environment in the disk's gap before partition
# 1, in the format libubootenv (fw_setenv, RAUC) reads and writes through
# /etc/fw_env.config: per copy a CRC-32 of the data (4 bytes, little endian),
# a flag byte that counts writes (the higher, modulo 256, is the newer copy)
# and the data ("name=value\0...\0\0"). Copy 0 at byte 524288 (block 0x400),
# copy 1 at 540672 (block 0x420), 16384 bytes (0x20 blocks) each; the
# numbers are image/layout.env's IGLOO_ENV_OFFSET and IGLOO_ENV_SIZE, and
# the image builders check that they agree. A write goes to the older copy,
# so a power cut while saving leaves the newer one intact. (setexpr numbers
# are hex: "% 100" is modulo 256.)

setenv igloo_state_vars "BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT"
setenv igloo_env_blk0 0x400
setenv igloo_env_blk1 0x420
setenv igloo_env_blks 0x20

# The device this script was loaded from (set by U-Boot's distro boot scan).
test -n "${devtype}" || setenv devtype mmc
test -n "${devnum}" || setenv devnum 0
${devtype} dev ${devnum}

# Scratch memory below where the kernel is loaded later: a copy as stored
# (crc, flag, data) at igloo_raw, as `env import/export -c` wants it (crc,
# data) at igloo_buf.
setexpr igloo_raw ${kernel_addr_r} + 0
setexpr igloo_raw_flag ${igloo_raw} + 4
setexpr igloo_raw_data ${igloo_raw} + 5
setexpr igloo_buf ${kernel_addr_r} + 0x10000
setexpr igloo_buf_data ${igloo_buf} + 4
# igloo_load: reads copy ${igloo_c} into igloo_buf; igloo_check: is its CRC right?
setenv igloo_load 'if test "${igloo_c}" = 0; then setenv igloo_blk ${igloo_env_blk0}; else setenv igloo_blk ${igloo_env_blk1}; fi; ${devtype} read ${igloo_raw} ${igloo_blk} ${igloo_env_blks} && cp.b ${igloo_raw} ${igloo_buf} 4 && cp.b ${igloo_raw_data} ${igloo_buf_data} 0x3ffb'
# igloo_save: writes the boot state to the older copy with the next flag.
setenv igloo_save 'if test "${igloo_cur}" = 0; then setenv igloo_c 1; setenv igloo_blk ${igloo_env_blk1}; setexpr igloo_flag ${igloo_flag_0} + 1; else setenv igloo_c 0; setenv igloo_blk ${igloo_env_blk0}; setexpr igloo_flag ${igloo_flag_1} + 1; fi; setexpr igloo_flag ${igloo_flag} % 100; env export -c -s 0x3fff ${igloo_buf} ${igloo_state_vars} && cp.b ${igloo_buf} ${igloo_raw} 4 && mw.b ${igloo_raw_flag} ${igloo_flag} && cp.b ${igloo_buf_data} ${igloo_raw_data} 0x3ffb && ${devtype} write ${igloo_raw} ${igloo_blk} ${igloo_env_blks} && echo "igloo: boot state saved (copy ${igloo_c}, flag ${igloo_flag})"; setenv igloo_cur ${igloo_c}; setenv igloo_flag_${igloo_c} ${igloo_flag}'

setenv igloo_ok_0 0
setenv igloo_ok_1 0
for igloo_c in 0 1; do
	if run igloo_load && env import -c ${igloo_buf} 0x3fff igloo_none; then
		setenv igloo_ok_${igloo_c} 1
		setexpr.b igloo_flag_${igloo_c} *${igloo_raw_flag}
	fi
done
# The newer valid copy: its flag is the other's plus one (modulo 256), else
# the higher flag, as libubootenv decides.
setenv igloo_cur
if test "${igloo_ok_0}${igloo_ok_1}" = 11; then
	setexpr igloo_after0 ${igloo_flag_0} + 1
	setexpr igloo_after0 ${igloo_after0} % 100
	setexpr igloo_after1 ${igloo_flag_1} + 1
	setexpr igloo_after1 ${igloo_after1} % 100
	if test "${igloo_flag_1}" = "${igloo_after0}"; then
		setenv igloo_cur 1
	elif test "${igloo_flag_0}" = "${igloo_after1}"; then
		setenv igloo_cur 0
	elif itest ${igloo_flag_1} -gt ${igloo_flag_0}; then
		setenv igloo_cur 1
	else
		setenv igloo_cur 0
	fi
elif test "${igloo_ok_0}" = 1; then
	setenv igloo_cur 0
elif test "${igloo_ok_1}" = 1; then
	setenv igloo_cur 1
fi
if test -n "${igloo_cur}"; then
	setenv igloo_c ${igloo_cur}
	run igloo_load
	env import -c ${igloo_buf} 0x3fff ${igloo_state_vars}
	echo "igloo: boot state from copy ${igloo_cur}: BOOT_ORDER=${BOOT_ORDER} A=${BOOT_A_LEFT} B=${BOOT_B_LEFT}"
else
	echo "igloo: no valid boot state on the disk; starting with slot A"
	setenv igloo_cur 1
	setenv igloo_flag_1 0
	setenv BOOT_ORDER
	setenv BOOT_A_LEFT
	setenv BOOT_B_LEFT
fi

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv igloo_slot
for BOOT_SLOT in "${BOOT_ORDER}"; do
	if test -n "${igloo_slot}"; then
		# a slot was already chosen
	elif test "x${BOOT_SLOT}" = "xA"; then
		if test ${BOOT_A_LEFT} -gt 0; then
			setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
			echo "igloo: slot A, ${BOOT_A_LEFT} tries left after this one"
			setenv igloo_slot A
			setenv igloo_part 2
		fi
	elif test "x${BOOT_SLOT}" = "xB"; then
		if test ${BOOT_B_LEFT} -gt 0; then
			setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
			echo "igloo: slot B, ${BOOT_B_LEFT} tries left after this one"
			setenv igloo_slot B
			setenv igloo_part 3
		fi
	fi
done

if test -z "${igloo_slot}"; then
	echo "igloo: no slot has tries left; giving both 3 again"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
	run igloo_save
	reset
fi
run igloo_save

# The owner's extra kernel arguments: the line "cmdline=ARGS" of
# igloo-boot.txt on the boot partition (docs/image.md), e.g.
# "cmdline=igloo.watchdog=off"; only that name is imported (-r: CRLF
# line ends too). Loaded into the scratch buffer before the kernel, which
# goes to the same place.
setenv cmdline
if load ${devtype} ${devnum}:1 ${igloo_buf} igloo-boot.txt; then
	env import -t -r ${igloo_buf} ${filesize} cmdline
	echo "igloo: extra kernel arguments from igloo-boot.txt: ${cmdline}"
fi

# Console: the Pi's GPIO serial is the mini UART (ttyS1) with upstream DTBs;
# QEMU virt's is the PL011 (ttyAMA0). The last console= gets init's output.
if test "${board}" = "rpi"; then
	setenv igloo_console "console=tty1 console=ttyS1,115200"
else
	setenv igloo_console "console=ttyAMA0,115200"
fi

# Room for the unpacked kernel: Debian's 6.12 arm64 Image spans ~45 MiB
# (with its BSS) from the 2 MiB-aligned address booti moves it to, more
# than the Pi U-Boot's default gap (kernel_addr_r 0x80000, fdt_addr_r
# 0x2600000, ramdisk_addr_r 0x2700000): the DTB and the initramfs go 64 MiB
# above kernel_addr_r, the compressed kernel 96 MiB above it.
setexpr fdt_addr_r ${kernel_addr_r} + 0x4000000
setexpr ramdisk_addr_r ${kernel_addr_r} + 0x4200000
# The kernel: /boot/Image.gz (gzip; booti moves it to kernel_comp_addr_r and
# decompresses it to kernel_addr_r) or a plain /boot/Image.
setenv igloo_kernel
if load ${devtype} ${devnum}:${igloo_part} ${kernel_addr_r} /boot/Image.gz; then
	setenv kernel_comp_size ${filesize}
	setexpr kernel_comp_addr_r ${kernel_addr_r} + 0x6000000
	setenv igloo_kernel Image.gz
elif load ${devtype} ${devnum}:${igloo_part} ${kernel_addr_r} /boot/Image; then
	setenv igloo_kernel Image
fi
if test -n "${igloo_kernel}"; then
	if test -n "${fdtfile}" && load ${devtype} ${devnum}:${igloo_part} ${fdt_addr_r} /boot/dtbs/${fdtfile}; then
		setenv igloo_fdt ${fdt_addr_r}
	else
		setenv igloo_fdt ${fdtcontroladdr}
	fi
	# root=PARTUUID= is resolved by the kernel itself (a Buildroot kernel has
	# its drivers built in); the Debian image's initramfs finds the slot by
	# its label from rauc.slot instead.
	part uuid ${devtype} ${devnum}:${igloo_part} igloo_uuid
	setenv bootargs "${igloo_console} root=PARTUUID=${igloo_uuid} rootfstype=ext4 ro rootwait rauc.slot=${igloo_slot} panic=10 quiet ${cmdline}"
	if load ${devtype} ${devnum}:${igloo_part} ${ramdisk_addr_r} /boot/initrd.img; then
		booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${igloo_fdt}
	else
		booti ${kernel_addr_r} - ${igloo_fdt}
	fi
fi

# The slot has no kernel (an empty slot B) or it did not start: use up its
# tries so the next boot takes the other slot.
echo "igloo: slot ${igloo_slot} cannot be booted; trying the other slot"
setenv BOOT_${igloo_slot}_LEFT 0
run igloo_save
reset
