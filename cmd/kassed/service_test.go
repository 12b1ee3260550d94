package main

import "testing"

// RAUC names the booted slot on the kernel command line.
func TestBootedSlot(t *testing.T) {
	for cmdline, want := range map[string]string{
		"console=serial0,115200 root=/dev/mmcblk0p2 rauc.slot=B rootwait": "B",
		"rauc.slot=A":                 "A",
		"console=tty1 root=/dev/sda1": "",
	} {
		if got := bootedSlot(cmdline); got != want {
			t.Errorf("bootedSlot(%q) = %q, want %q", cmdline, got, want)
		}
	}
}
