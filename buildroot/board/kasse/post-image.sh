#!/usr/bin/env bash
# Buildroot post-image script: writes genimage.cfg's boot file list and
# makes sdcard.img (boot, rootfs A, rootfs B, data).
set -euo pipefail

BOARD_DIR="$(dirname "$0")"
: "${BINARIES_DIR:?run by Buildroot (BINARIES_DIR unset)}"
: "${BUILD_DIR:?run by Buildroot (BUILD_DIR unset)}"

# The boot partition: firmware, device trees, overlays, config.txt,
# U-Boot and boot.scr. The kernel is in each rootfs slot, so an update
# replaces kernel and modules together.
files=()
for f in "$BINARIES_DIR"/*.dtb "$BINARIES_DIR"/rpi-firmware/* \
	"$BINARIES_DIR/u-boot.bin" "$BINARIES_DIR/boot.scr"; do
	[ -e "$f" ] || { echo "post-image: missing $f" >&2; exit 1; }
	files+=("${f#"$BINARIES_DIR"/}")
done
list="$(printf '\t\t\t"%s",\\n' "${files[@]}")"
sed "s|#BOOT_FILES#|${list}|" "$BOARD_DIR/genimage.cfg" >"$BINARIES_DIR/genimage.cfg"

# An empty root path: every file system image is already built.
rootpath="$(mktemp -d)"
trap 'rm -rf "$rootpath"' EXIT
rm -rf "$BUILD_DIR/genimage.tmp"
genimage \
	--rootpath "$rootpath" \
	--tmppath "$BUILD_DIR/genimage.tmp" \
	--inputpath "$BINARIES_DIR" \
	--outputpath "$BINARIES_DIR" \
	--config "$BINARIES_DIR/genimage.cfg"
