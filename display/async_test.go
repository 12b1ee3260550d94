package display_test

import (
	"context"
	"image"
	"sync"
	"testing"
	"time"

	"kasse/display"
	"kasse/display/displaytest"
)

// slowDrawer holds every Draw until released, like a long SPI transfer.
type slowDrawer struct {
	*displaytest.Framebuffer
	gate chan struct{}
	mu   sync.Mutex
	n    int
}

func (s *slowDrawer) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	<-s.gate
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
	return s.Framebuffer.Draw(r, src, sp)
}

// The till never waits for the bus, and a screen overtaken by a newer one
// is dropped, never queued: the glass ends on the latest.
func TestAsyncNeverWaitsAndKeepsOnlyTheLatest(t *testing.T) {
	d := &slowDrawer{Framebuffer: displaytest.NewFramebuffer(240, 320), gate: make(chan struct{})}
	p, err := display.NewPanel(d)
	if err != nil {
		t.Fatal(err)
	}
	a := display.NewAsync(p, t.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx, nil)

	if err := a.Show(display.Screen{Kind: display.Idle, Title: "Butikken"}); err != nil {
		t.Fatal(err)
	}
	// The renderer is now stuck in Draw; these must all return at once.
	amounts := []string{"0,01 kr", "0,12 kr", "1,25 kr", "12,50 kr", "125,00 kr"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, am := range amounts {
			if err := a.Show(display.Screen{Kind: display.Amount, Amount: am}); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Show waited for the display")
	}
	close(d.gate) // the bus is free again
	ctx2, cancel2 := context.WithTimeout(ctx, 10*time.Second)
	defer cancel2()
	for n := uint64(0); p.Current().Amount != "125,00 kr"; {
		if n, err = p.Wait(ctx2, n); err != nil {
			t.Fatalf("the latest screen never came: %v (showing %+v)", err, p.Current())
		}
	}
	// Idle, then at most one amount in between (taken before the rest came), then the last.
	if f := p.Frames(); f > 3 {
		t.Errorf("%d frames drawn for 6 screens; older pending screens should be dropped", f)
	}
	if a.Dropped() < 3 {
		t.Errorf("dropped %d screens, want at least 3", a.Dropped())
	}
}

func TestAsyncRefusesBadScreensAtOnce(t *testing.T) {
	p, _ := newPanel(t, 240, 320)
	a := display.NewAsync(p, t.Logf)
	if err := a.Show(display.Screen{Kind: display.QR}); err == nil {
		t.Fatal("a QR screen without a link was taken")
	}
	if err := a.Show(display.Screen{Kind: "party"}); err == nil {
		t.Fatal("an unknown kind was taken")
	}
}
