#!/usr/bin/env bash
# Checks the example playbook with ansible-playbook --syntax-check,
# installing Debian's ansible when missing; skips (exit 0, saying so) where
# it cannot be installed.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v ansible-playbook >/dev/null; then
	echo "ansible check: installing Debian's ansible"
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo -n"; fi
	if ! $sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible' >/dev/null 2>&1; then
		echo "ansible check: SKIPPED (ansible is not installed and apt-get could not install it)"
		exit 0
	fi
fi
ansible-playbook --version | sed -n 1p
ansible-playbook --syntax-check -i inventory.example.ini update.yml \
	-e kasse_bundle=/dev/null -e kasse_version=0.0.0
echo "ansible check: ok"
