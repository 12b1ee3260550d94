package payment_test

import (
	"testing"
	"time"

	"kasse/payment"
	"kasse/store"
)

// printErr is a print failure that says whether anything reached the paper.
type printErr struct{ unsent bool }

func (e printErr) Error() string        { return "printer trouble" }
func (e printErr) NothingPrinted() bool { return e.unsent }

// sell runs a sale to "paid" and returns its reference.
func (r *rig) sell(v int64) string {
	r.t.Helper()
	if err := r.engine.Sell(nok(v), ""); err != nil {
		r.t.Fatal(err)
	}
	ref := r.until(payment.ShowQR).Sale.Reference
	if err := r.vt.Sim.Approve(ref); err != nil {
		r.t.Fatal(err)
	}
	r.until(payment.Paid)
	return ref
}

// loop runs the engine's loop for d of wall time.
func (r *rig) loop(d time.Duration) {
	end := time.After(d)
	for {
		select {
		case fn := <-r.engine.Events():
			fn()
		case <-time.After(20 * time.Millisecond):
			r.engine.Tick()
		case <-end:
			return
		}
	}
}

// A printer out of paper holds the queue: the sale is paid, its receipt
// waits, the cashier sees why; refilled, the one original prints by itself.
func TestQueueWaitsForThePrinter(t *testing.T) {
	r := newRig(t, nil, "")
	r.paper.setState("paper_out")
	ref := r.sell(12500)
	r.loop(300 * time.Millisecond)
	st := r.engine.Status()
	if st.PrintQueue != 1 || st.PrinterState != "paper_out" || st.PrinterDetail == "" || len(r.paper.printed()) != 0 {
		t.Fatalf("status %+v, printed %d; want the receipt waiting and paper_out", st, len(r.paper.printed()))
	}
	r.paper.setState("ok")
	r.idle()
	if got := r.paper.printed(); len(got) != 1 || got[0].Reference != ref || got[0].Copy {
		t.Fatalf("printed %+v, want one original of %s", got, ref)
	}
}

// A failure before any byte left keeps the original; one that may have put
// some of it on paper makes the next attempt a copy: never two originals.
func TestPrintFailures(t *testing.T) {
	for _, c := range []struct {
		unsent bool
		copy   bool
	}{{true, false}, {false, true}} {
		r := newRig(t, nil, "")
		r.paper.fail = []error{printErr{unsent: c.unsent}}
		ref := r.sell(5000)
		r.loop(100 * time.Millisecond)
		jobs, err := r.db.PrintJobs()
		if err != nil || len(jobs) != 1 || jobs[0].Sent == c.unsent {
			t.Fatalf("unsent %v: queue %+v, %v", c.unsent, jobs, err)
		}
		r.vt.Clock.Advance(6 * time.Second) // the retry's pause
		r.idle()
		got := r.paper.printed()
		if len(got) != 1 || got[0].Reference != ref || got[0].Copy != c.copy {
			t.Fatalf("unsent %v: printed %+v, want one with Copy %v", c.unsent, got, c.copy)
		}
		if s, err := r.db.Sale(ref); err != nil || !s.Printed || s.State != store.StateCaptured {
			t.Fatalf("sale %+v, %v", s, err)
		}
	}
}
