package service

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// A Pi has no real-time clock: it boots in 1970 (or at the last saved time)
// until NTP answers, and TLS, token expiry, receipt times and the journal
// all depend on the clock. kassed takes no sale until the kernel says the
// clock is synchronised.

// ClockState is what the kernel says of the system clock.
type ClockState struct {
	Synced   bool          // an NTP client disciplines it (STA_UNSYNC clear)
	MaxError time.Duration // the kernel's bound on its error
}

// KernelClock reads the clock's state with adjtimex(2), which every NTP
// client (systemd-timesyncd, chrony, ntpd, BusyBox ntpd) keeps up to date.
type KernelClock struct{}

// State reads adjtimex without changing anything (modes 0).
func (KernelClock) State() (ClockState, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return ClockState{}, fmt.Errorf("reading the clock's state (adjtimex): %w", err)
	}
	return ClockState{
		Synced:   state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0,
		MaxError: time.Duration(tx.Maxerror) * time.Microsecond,
	}, nil
}

// JumpWatch notices the wall clock moving against the monotonic one: NTP
// stepping a clock that booted wrong, or someone setting it by hand. Each
// such jump goes in the journal, since receipt times around it are suspect.
type JumpWatch struct {
	wall      func() time.Time     // the wall clock
	elapsed   func() time.Duration // a monotonic clock
	lastWall  time.Time
	lastMono  time.Duration
	Tolerance time.Duration // drift between two checks that is not a jump
}

// NewJumpWatch starts watching the system clock.
func NewJumpWatch() *JumpWatch {
	start := time.Now()
	return NewJumpWatchOf(func() time.Time { return time.Now().Round(0) }, func() time.Duration { return time.Since(start) })
}

// NewJumpWatchOf watches the given wall and monotonic clocks (tests).
func NewJumpWatchOf(wall func() time.Time, elapsed func() time.Duration) *JumpWatch {
	return &JumpWatch{wall: wall, elapsed: elapsed, lastWall: wall(), lastMono: elapsed(), Tolerance: time.Second}
}

// Check returns how far the wall clock jumped since the last check (0 when
// it kept pace with the monotonic clock within Tolerance).
func (w *JumpWatch) Check() time.Duration {
	wall, mono := w.wall(), w.elapsed()
	d := wall.Sub(w.lastWall) - (mono - w.lastMono)
	w.lastWall, w.lastMono = wall, mono
	if d > w.Tolerance || d < -w.Tolerance {
		return d
	}
	return 0
}
