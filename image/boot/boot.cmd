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

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

# The device this script was loaded from (set by U-Boot's distro boot scan).
test -n "${devtype}" || setenv devtype mmc
test -n "${devnum}" || setenv devnum 0

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
	saveenv
	reset
fi
saveenv

# Console: the Pi's GPIO serial is the mini UART (ttyS1) with upstream DTBs;
# QEMU virt's is the PL011 (ttyAMA0). The last console= gets init's output.
if test "${board}" = "rpi"; then
	setenv igloo_console "console=tty1 console=ttyS1,115200"
else
	setenv igloo_console "console=ttyAMA0,115200"
fi

# The kernel: /boot/Image.gz (gzip; booti decompresses it to
# kernel_comp_addr_r, 64 MiB above kernel_addr_r) or a plain /boot/Image.
setenv igloo_kernel
if load ${devtype} ${devnum}:${igloo_part} ${kernel_addr_r} /boot/Image.gz; then
	setenv kernel_comp_size ${filesize}
	setexpr kernel_comp_addr_r ${kernel_addr_r} + 0x4000000
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
	setenv bootargs "${igloo_console} root=PARTUUID=${igloo_uuid} rootfstype=ext4 ro rootwait rauc.slot=${igloo_slot} panic=10 quiet"
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
saveenv
reset
