package payment_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kasse/payment"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippstest"
	"kasse/store"
)

// slowReads answers every GET of a payment late, on the test's clock, and
// notes when each left and how many were in flight.
type slowReads struct {
	payment.Vipps
	clock interface {
		Now() time.Time
		Advance(time.Duration)
	}
	delay time.Duration

	mu       sync.Mutex
	starts   []time.Time
	inflight int
	overlap  bool
}

func (s *slowReads) Get(ctx context.Context, ref string) (vipps.Payment, error) {
	s.mu.Lock()
	s.starts = append(s.starts, s.clock.Now())
	s.inflight++
	s.overlap = s.overlap || s.inflight > 1
	s.mu.Unlock()
	p, err := s.Vipps.Get(ctx, ref)
	s.clock.Advance(s.delay)
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
	return p, err
}

// Polling keeps a fixed 1 s beat from the first poll: a reply that takes
// 1.3 s skips one slot instead of pushing every later poll back, and a GET
// never leaves while another is out.
func TestPollingKeepsItsBeat(t *testing.T) {
	r := &rig{t: t, vt: vippstest.New(t, vippstest.Options{}), paper: &paper{}}
	db, err := store.Open(filepath.Join(t.TempDir(), "kasse.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	clk := r.vt.Clock
	slow := &slowReads{clock: clk, delay: 1300 * time.Millisecond}
	r.wrap = func(v payment.Vipps) payment.Vipps { slow.Vipps = v; return slow }
	r.tweak = func(c *payment.Config) {
		c.PollInterval = time.Second
		c.PaymentLife = time.Hour
		// A wait moves the test's clock instead of sleeping.
		c.After = func(d time.Duration) <-chan time.Time {
			clk.Advance(d)
			ch := make(chan time.Time, 1)
			ch <- clk.Now()
			return ch
		}
	}
	r.start()
	if err := r.engine.Sell(nok(4200), ""); err != nil {
		t.Fatal(err)
	}
	r.until(payment.ShowQR)
	t0 := clk.Now()
	for {
		select {
		case fn := <-r.engine.Events():
			fn()
		case <-time.After(20 * time.Second):
			t.Fatal("the polls stopped")
		}
		slow.mu.Lock()
		n := len(slow.starts)
		slow.mu.Unlock()
		if n >= 6 {
			break
		}
	}
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.overlap {
		t.Error("a GET left while another was in flight")
	}
	// Slots are 1 s apart from the first poll; each 1.3 s reply skips one.
	first := slow.starts[0]
	if d := first.Sub(t0); d < 0 || d > time.Second {
		t.Errorf("first poll %v after the QR, want within one period", d)
	}
	for i, at := range slow.starts {
		off := at.Sub(first)
		if off%time.Second != 0 {
			t.Errorf("poll %d left %v after the first: off the 1 s beat", i, off)
		}
		if i > 0 {
			if gap := at.Sub(slow.starts[i-1]); gap != 2*time.Second {
				t.Errorf("poll %d came %v after the one before, want 2 s (one slot skipped while the reply was late)", i, gap)
			}
		}
	}
}
