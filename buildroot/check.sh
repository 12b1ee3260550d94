#!/usr/bin/env bash
# Checks the BR2_EXTERNAL tree against a Buildroot checkout, without
# downloading anything: Buildroot's own utils/check-package over every file,
# and for each defconfig a load → savedefconfig round trip. Kconfig drops
# unknown or unmet symbols silently, so only the round trip shows them.
#
#   buildroot/check.sh BUILDROOT_DIR      (or: make buildroot-check BUILDROOT=dir)
set -euo pipefail

br="${1:?usage: $0 BUILDROOT_DIR}"
br="$(cd "$br" && pwd)"
ext="$(cd "$(dirname "$0")" && pwd)"
[ -x "$br/utils/check-package" ] || { echo "check: $br is not a Buildroot checkout" >&2; exit 2; }

# check-package needs python3-magic and shellcheck (and flake8 for Python):
# installed from Debian when missing, as the Makefile does for qemu.
python=""
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import magic' 2>/dev/null; then python="$p"; break; fi
done
if [ -z "$python" ] || ! command -v shellcheck >/dev/null; then
	echo "check: installing python3-magic, shellcheck, flake8 from Debian"
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo sh -c 'apt-get update -qq && apt-get install -y -qq python3-magic shellcheck flake8' >/dev/null
	python=/usr/bin/python3
fi

status=0

echo "== check-package ($(sed -n 's/^export BR2_VERSION := //p' "$br/Makefile"))"
# Every file of the tree except the READMEs and this script's own
# companions (check-package skips files it has no rules for anyway).
mapfile -t files < <(cd "$ext" && find . -type f ! -name '*.md' ! -path './ansible/*' ! -path './bundletest/*' | sed 's|^\./||' | sort)
if (cd "$ext" && "$python" "$br/utils/check-package" --br2-external "${files[@]}"); then
	echo "check-package: ok (${#files[@]} files)"
else
	echo "check-package: FAILED" >&2
	status=1
fi

# Each defconfig: load it (make X_defconfig), save it back (savedefconfig,
# into a scratch file: by default it overwrites the defconfig itself), and
# compare, order ignored. Then every symbol we set must be set so in the
# full .config, which catches a value equal to its default as well.
for defconfig in "$ext"/configs/*_defconfig; do
	name="$(basename "$defconfig")"
	out="$(mktemp -d)"
	echo "== $name"
	if ! make -s -C "$br" O="$out" BR2_EXTERNAL="$ext" "$name" >"$out/log" 2>&1 ||
		! make -s -C "$br" O="$out" BR2_DEFCONFIG="$out/saved_defconfig" savedefconfig >>"$out/log" 2>&1; then
		cat "$out/log" >&2
		echo "$name: make failed" >&2
		status=1
		rm -rf "$out"
		continue
	fi
	# Our comments are not Kconfig's: compare symbol lines only.
	grep -E '^(BR2_|# BR2_.* is not set$)' "$defconfig" | sort >"$out/want"
	sort "$out/saved_defconfig" >"$out/got"
	if diff -u "$out/want" "$out/got" >"$out/diff"; then
		echo "$name: savedefconfig round trip identical ($(wc -l <"$out/want") lines)"
	else
		echo "$name: savedefconfig differs (- ours, + Buildroot's):" >&2
		cat "$out/diff" >&2
		status=1
	fi
	missing=0
	while IFS= read -r line; do
		case "$line" in
		"# "*" is not set")
			sym="${line#\# }"; sym="${sym% is not set}"
			grep -q "^$sym=" "$out/.config" && { echo "$name: $sym is set, wanted unset" >&2; missing=1; } ;;
		BR2_*)
			grep -qxF "$line" "$out/.config" || { echo "$name: dropped: $line" >&2; missing=1; } ;;
		esac
	done <"$defconfig"
	[ "$missing" -eq 0 ] && echo "$name: every symbol we set is in .config" || status=1
	rm -rf "$out"
done

[ "$status" -eq 0 ] && echo "buildroot check: ok" || echo "buildroot check: FAILED" >&2
exit "$status"
