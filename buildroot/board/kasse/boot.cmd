# kasse: U-Boot boot script for RAUC's "uboot" backend (A/B root file
# systems on mmcblk0p2 and mmcblk0p3). Compiled to boot.scr by
# host-uboot-tools; U-Boot's distro boot finds it on the boot partition.
#
# RAUC keeps BOOT_ORDER (the slot to try first) and resets a slot's
# BOOT_x_LEFT when userspace marks it good (kasse-mark-good.service, after
# kassed's health check). Every boot spends one try of the slot it starts,
# so a new image that never becomes healthy is left after three boots and
# the other slot, the last good one, boots again.

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3
test -n "${devtype}" || setenv devtype mmc
test -n "${devnum}" || setenv devnum 0

setenv rauc_slot
for slot in "${BOOT_ORDER}"; do
	if test -n "${rauc_slot}"; then
		true
	elif test "${slot}" = "A" && test ${BOOT_A_LEFT} -gt 0; then
		setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
		setenv rauc_slot A
		setenv rootpart 2
	elif test "${slot}" = "B" && test ${BOOT_B_LEFT} -gt 0; then
		setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
		setenv rauc_slot B
		setenv rootpart 3
	fi
done

if test -z "${rauc_slot}"; then
	# Both slots used up their tries: start over rather than stop a shop.
	echo "kasse: no slot has tries left; resetting and rebooting"
	setenv BOOT_A_LEFT 3
	setenv BOOT_B_LEFT 3
	saveenv
	reset
fi

# The try must be on the card before the kernel runs, or a crash would not count.
saveenv

# The firmware has loaded the device tree with config.txt's overlays
# (dtparam=spi=on) applied; boot the kernel of the chosen slot with it.
setenv bootargs "console=tty1 console=ttyAMA0,115200 root=/dev/mmcblk0p${rootpart} rootfstype=ext4 rootwait ro rauc.slot=${rauc_slot}"
echo "kasse: booting slot ${rauc_slot} (mmcblk0p${rootpart})"
if load ${devtype} ${devnum}:${rootpart} ${kernel_addr_r} /boot/Image; then
	booti ${kernel_addr_r} - ${fdt_addr}
elif load ${devtype} ${devnum}:${rootpart} ${kernel_addr_r} /boot/zImage; then
	bootz ${kernel_addr_r} - ${fdt_addr}
fi

# No kernel in this slot: the try is already spent, so rebooting moves on.
echo "kasse: slot ${rauc_slot} has no kernel; rebooting"
reset
