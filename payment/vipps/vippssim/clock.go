package vippssim

import (
	"time"

	"kasse/clock"
)

// Clock tells the simulator the time; tests inject a ManualClock so that
// token and payment expiry happen when the test says so. Both are the
// module's one clock (package clock).
type (
	Clock       = clock.Clock
	SystemClock = clock.System
	ManualClock = clock.Manual
)

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return clock.NewManual(t) }
