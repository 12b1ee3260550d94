package display

import (
	"context"
	"sync"
	"time"
)

// Async puts a renderer goroutine in front of a Panel: Show checks the
// screen, leaves it for the renderer and returns, so the till never waits
// for the bus. Only the latest screen matters to the shopper: one handed
// over while an older one is still pending replaces it; none is queued.
type Async struct {
	p    *Panel
	logf func(format string, args ...any)

	mu      sync.Mutex
	pending *Screen       // guarded by mu
	dropped uint64        // guarded by mu: screens replaced before they were drawn
	handed  uint64        // guarded by mu: screens taken by Show
	settled uint64        // guarded by mu: of those, drawn or dropped
	drawn   chan struct{} // guarded by mu; closed and replaced when settled moves
	wake    chan struct{}
}

// NewAsync returns an Async for p; nothing is drawn until Run. Drawing
// errors go to logf (the till hears of bad screens from Show itself).
func NewAsync(p *Panel, logf func(format string, args ...any)) *Async {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Async{p: p, logf: logf, wake: make(chan struct{}, 1), drawn: make(chan struct{})}
}

// Show hands s to the renderer. It returns at once: with an error only if
// s cannot be shown at all (an unknown kind, a QR that does not fit).
func (a *Async) Show(s Screen) error {
	if err := a.p.Check(s); err != nil {
		return err
	}
	a.mu.Lock()
	if a.pending != nil {
		a.dropped++
	}
	a.pending = &s
	a.handed++
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default: // the renderer is already woken and will take the latest
	}
	return nil
}

// Dropped counts screens replaced by a newer one before they were drawn.
func (a *Async) Dropped() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.dropped
}

// Run draws screens as they come, and redraws the countdown at every tick
// (a quarter second keeps it within that of the true time), until ctx ends.
func (a *Async) Run(ctx context.Context, ticks <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
			a.mu.Lock()
			s, upTo := a.pending, a.handed
			a.pending = nil
			a.mu.Unlock()
			if s == nil {
				continue
			}
			if err := a.p.Show(*s); err != nil {
				a.logf("error: customer display: %v", err)
			}
			a.mu.Lock()
			a.settled = upTo
			close(a.drawn)
			a.drawn = make(chan struct{})
			a.mu.Unlock()
		case <-ticks:
			if err := a.p.Tick(); err != nil {
				a.logf("error: customer display: %v", err)
			}
		}
	}
}

// Sync waits until every screen handed over so far is drawn (or was
// dropped for a newer one), for tests and for shutting down cleanly.
func (a *Async) Sync(ctx context.Context) error {
	for {
		a.mu.Lock()
		done, ch := a.settled == a.handed, a.drawn
		a.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Panel is the panel this Async draws on.
func (a *Async) Panel() *Panel { return a.p }
