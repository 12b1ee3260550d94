package clock

import (
	"testing"
	"time"
)

func TestManual(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := NewManual(t0)
	if c.Now() != t0 || c.Now() != t0 {
		t.Fatal("a manual clock moved by itself")
	}
	c.Advance(time.Minute)
	if got := c.Now(); got != t0.Add(time.Minute) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(t0)
	c.Step(time.Second)
	if a, b := c.Now(), c.Now(); a != t0.Add(time.Second) || b != t0.Add(2*time.Second) {
		t.Fatalf("stepping clock read %v then %v", a, b)
	}
	var _ Clock = System{}
	var _ Clock = c
}
