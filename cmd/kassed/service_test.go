package main

import (
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/service"
	"kasse/till"
)

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

// A clock that jumps goes in the event record with its size.
func TestClockJumpIsRecorded(t *testing.T) {
	var got []till.Event
	s := &supervisor{n: &service.Notifier{}, logf: t.Logf, record: func(ev till.Event) error { got = append(got, ev); return nil }}
	wall, mono := time.Date(1970, 1, 1, 0, 0, 30, 0, time.UTC), time.Duration(0)
	s.jumps = service.NewJumpWatchOf(func() time.Time { return wall }, func() time.Duration { return mono })
	wall, mono = wall.Add(time.Second), mono+time.Second
	s.check(time.Now())
	if len(got) != 0 {
		t.Fatalf("a steady clock recorded %+v", got)
	}
	wall, mono = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), mono+time.Second
	s.check(time.Now())
	if len(got) != 1 || got[0].Kind != EventClockJump || !strings.HasPrefix(got[0].Detail, "498920h") {
		t.Fatalf("NTP's step recorded as %+v", got)
	}
}
