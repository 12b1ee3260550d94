package service

import (
	"testing"
	"time"
)

func TestKernelClockReads(t *testing.T) {
	st, err := KernelClock{}.State()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this machine's clock: %+v", st)
	if st.MaxError < 0 {
		t.Errorf("negative max error %v", st.MaxError)
	}
}

// A wall clock set forward by NTP shows as a jump; one that keeps pace,
// or drifts less than the tolerance, does not.
func TestJumpWatch(t *testing.T) {
	base := time.Date(1970, 1, 1, 0, 0, 12, 0, time.UTC) // a Pi before NTP
	wall, mono := base, time.Duration(0)
	w := NewJumpWatchOf(func() time.Time { return wall }, func() time.Duration { return mono })
	step := func(dWall, dMono time.Duration) time.Duration {
		wall, mono = wall.Add(dWall), mono+dMono
		return w.Check()
	}
	if d := step(2*time.Second, 2*time.Second); d != 0 {
		t.Errorf("a clock keeping pace jumped %v", d)
	}
	if d := step(1500*time.Millisecond, time.Second); d != 0 {
		t.Errorf("half a second of drift counted as a jump of %v", d)
	}
	ntp := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC).Sub(wall)
	if d := step(ntp, time.Second); d != ntp-time.Second {
		t.Errorf("NTP's step to 2026 jumped %v, want %v", d, ntp-time.Second)
	}
	if d := step(-time.Hour, time.Second); d != -time.Hour-time.Second {
		t.Errorf("a clock set back an hour jumped %v", d)
	}
}
