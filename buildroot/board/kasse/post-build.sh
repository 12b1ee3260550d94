#!/usr/bin/env bash
# Buildroot post-build script for the kasse images: runs after every
# package is installed in TARGET_DIR and the overlay is copied, before the
# root file system image is made. Safe to run again on the same tree.
set -euo pipefail

TARGET_DIR="${1:?usage: post-build.sh TARGET_DIR}"
: "${BR2_CONFIG:?run by Buildroot (BR2_CONFIG unset)}"
: "${BINARIES_DIR:?run by Buildroot (BINARIES_DIR unset)}"

# A string option from .config, without its quotes. Not by sourcing the
# file: some values hold $(...) make calls.
config_value() {
	sed -n "s/^$1=\"\(.*\)\"\$/\1/p" "$BR2_CONFIG"
}

# --- Mounts: the data partition (mmcblk0p4) survives every update. ---
# /var/lib/kasse is bound to /data/kasse once kasse-data.service has made
# the directories; the boot partition is mounted only when needed
# (editing config.txt), so a power cut cannot damage it.
mkdir -p "$TARGET_DIR/data" "$TARGET_DIR/boot/firmware"
sed -i '/# kasse-begin/,/# kasse-end/d' "$TARGET_DIR/etc/fstab"
cat >>"$TARGET_DIR/etc/fstab" <<'FSTAB'
# kasse-begin (board/kasse/post-build.sh)
/dev/mmcblk0p4	/data	ext4	rw,noatime,nosuid,nodev	0	2
/data/kasse	/var/lib/kasse	none	bind,x-systemd.requires=kasse-data.service	0	0
/dev/mmcblk0p1	/boot/firmware	vfat	noauto,noatime,nosuid,nodev,noexec	0	0
# kasse-end
FSTAB

# --- The register's own config lives on the data partition (the rootfs is
# read-only and replaced by updates); /etc/kasse keeps the usual paths.
mkdir -p "$TARGET_DIR/etc/kasse"
ln -snf /data/config/kassed.toml "$TARGET_DIR/etc/kasse/kassed.toml"
ln -snf /data/config/secrets.toml "$TARGET_DIR/etc/kasse/secrets.toml"
# The journal's signing key: made once per register at provisioning with
# "kassectl keygen --key /data/config/signing-key.pem" (README "Provisioning").
ln -snf /data/config/signing-key.pem "$TARGET_DIR/etc/kasse/signing-key.pem"

# --- SSH: Dropbear keeps host keys in /etc/dropbear; Buildroot points that
# at /var/run (new keys every boot, so every register "changes" its key).
ln -snf /data/ssh "$TARGET_DIR/etc/dropbear"
keys="$(config_value BR2_KASSE_AUTHORIZED_KEYS)"
if [ -n "$keys" ]; then
	install -D -m 0600 "$keys" "$TARGET_DIR/root/.ssh/authorized_keys"
	chmod 0700 "$TARGET_DIR/root/.ssh"
else
	echo "post-build: BR2_KASSE_AUTHORIZED_KEYS is empty: no SSH login (keys only)" >&2
fi

# --- RAUC: the board's compatible and the keyring (a certificate only). ---
compatible="$(config_value BR2_KASSE_RAUC_COMPATIBLE)"
if [ -z "$compatible" ]; then
	echo "post-build: BR2_KASSE_RAUC_COMPATIBLE is empty" >&2
	exit 1
fi
sed -i "s/^compatible=.*/compatible=$compatible/" "$TARGET_DIR/etc/rauc/system.conf"
keyring="$(config_value BR2_KASSE_RAUC_KEYRING)"
if [ -n "$keyring" ]; then
	if grep -q 'PRIVATE KEY' "$keyring"; then
		echo "post-build: $keyring holds a private key; give the certificate only" >&2
		exit 1
	fi
	install -D -m 0644 "$keyring" "$TARGET_DIR/etc/rauc/keyring.pem"
else
	rm -f "$TARGET_DIR/etc/rauc/keyring.pem"
	echo "post-build: BR2_KASSE_RAUC_KEYRING is empty: this image refuses every update bundle" >&2
fi

# --- config.txt: U-Boot instead of the kernel (it picks the slot), SPI for
# the customer display, the PL011 UART for the console.
config_txt="$BINARIES_DIR/rpi-firmware/config.txt"
if [ -f "$config_txt" ]; then
	sed -i 's/^kernel=.*/kernel=u-boot.bin/' "$config_txt"
	for line in dtparam=spi=on enable_uart=1; do
		grep -qx "$line" "$config_txt" || echo "$line" >>"$config_txt"
	done
fi

# --- systemd: enable our units (the preset file does the same for
# preset-all), and mask RAUC's own mark-good unit, which would mark a slot
# good on any boot, healthy or not.
if [ -d "$TARGET_DIR/usr/lib/systemd/system" ]; then
	wants="$TARGET_DIR/etc/systemd/system/multi-user.target.wants"
	mkdir -p "$wants"
	for unit in kassed.service kasse-mark-good.service; do
		ln -snf "/usr/lib/systemd/system/$unit" "$wants/$unit"
	done
	ln -snf /dev/null "$TARGET_DIR/etc/systemd/system/rauc-mark-good.service"
	# The SysV script is for BusyBox init only.
	rm -f "$TARGET_DIR/etc/init.d/S90kassed"
fi
