#!/usr/bin/env bash
# Makes a signed, plain-format RAUC bundle for a kasse register from a root
# file system image (Buildroot's images/rootfs.ext4).
#
#   buildroot/bundle.sh --cert CERT --key KEY --compatible kasse-rpi4 \
#       --version 1.4.0 [--keyring CA] ROOTFS_IMAGE OUT.raucb
#
# The key may be a file or a PKCS#11 URI; it never needs to be in this
# tree. With --keyring, rauc checks the signature against it at once.
# Plain, not verity: Debian's rauc builds and checks plain bundles in a
# container, and the registers' RAUC (1.13) installs both.
set -euo pipefail

usage() {
	echo "usage: $0 --cert CERT --key KEY --compatible NAME --version V [--keyring CA] ROOTFS_IMAGE OUT.raucb" >&2
	exit 2
}

cert="" key="" compatible="" version="" keyring=""
while [ $# -gt 0 ]; do
	case "$1" in
	--cert) cert="${2:-}"; shift 2 ;;
	--key) key="${2:-}"; shift 2 ;;
	--compatible) compatible="${2:-}"; shift 2 ;;
	--version) version="${2:-}"; shift 2 ;;
	--keyring) keyring="${2:-}"; shift 2 ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
if [ $# -ne 2 ] || [ -z "$cert" ] || [ -z "$key" ] || [ -z "$compatible" ] || [ -z "$version" ]; then
	usage
fi
image="$1" out="$2"
[ -f "$image" ] || { echo "bundle: no image $image" >&2; exit 1; }
command -v rauc >/dev/null || { echo "bundle: rauc not found (Debian: apt-get install rauc squashfs-tools; Buildroot: output/host/bin)" >&2; exit 1; }

# RAUC picks the slot update method by the file's extension (.ext4: a raw
# copy into the slot), so the image keeps its name.
case "$image" in
*.ext4 | *.squashfs | *.img) ;;
*) echo "bundle: $image: want a .ext4, .squashfs or .img image" >&2; exit 1 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/content"
name="$(basename "$image")"
cp --reflink=auto "$image" "$work/content/$name"
cat >"$work/content/manifest.raucm" <<MANIFEST
[update]
compatible=$compatible
version=$version
build=$(date -u +%Y%m%dT%H%M%SZ)

[bundle]
format=plain

[image.rootfs]
filename=$name
MANIFEST

rm -f "$out"
args=(--cert="$cert" --key="$key")
[ -n "$keyring" ] && args+=(--keyring="$keyring")
rauc bundle "${args[@]}" "$work/content" "$out"
echo "bundle: $out ($compatible $version)"
