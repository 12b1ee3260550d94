// Package clock is the module's one clock interface and its one manual
// clock: production code takes a Clock (or its Now), tests inject a Manual
// so that expiries, backoffs and timestamps happen when the test says so.
// It is a leaf, like money, so every room and every test may use it.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the wall clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// Manual is a clock that moves only when told, or by Step at every
// reading. It is safe for concurrent use.
type Manual struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

// NewManual returns a clock stopped at t.
func NewManual(t time.Time) *Manual { return &Manual{t: t} }

// Now returns the clock's time, then moves it on by the step (if any), so
// successive readings differ when a test needs them to.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// Peek returns the last reading (the time now, for a clock without a
// step) without moving the clock.
func (c *Manual) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Manual) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set moves the clock to t.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Step makes every reading advance the clock by d first.
func (c *Manual) Step(d time.Duration) *Manual {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.step = d
	return c
}
