package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"kasse/payment/vipps/vippssim"
	"kasse/till"
)

// With Vipps unreachable, a new sale is refused at once with a clear
// screen, never a spinner; when Vipps answers again the till takes sales.
func TestNetworkDownRefusesNewSales(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	if err := w.sim.InjectFault(vippssim.Fault{Kind: vippssim.FaultDrop}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.keys("1", "0", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	st := w.waitFor("the unreachable screen", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "error" || st.Online || !strings.Contains(st.LastError, "unreachable") {
		t.Fatalf("after a create that got no answer: %+v", st)
	}
	// Now known offline: the next sale is refused at once.
	w.keys("clear")
	_, err := w.keys("2", "0", "0", "pay")
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("pay while offline: %v, want a refusal at once", err)
	}
	if ps := w.simPayments(); len(ps) != 0 {
		t.Fatalf("payments reached Vipps through a dead network: %+v", ps)
	}
	w.sim.ClearFaults()
	w.waitFor("Vipps to answer again", func(s till.Status) bool { return s.Online && s.Outbox == 0 })
	w.keys("clear")
	if _, err := w.keys("3", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" })
	w.spec.Check(t)
}

// The network drops after the shopper approved: the till says it waits for
// the network, and captures once when Vipps answers again.
func TestCaptureWaitsForNetwork(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	if _, err := w.keys("7", "7", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	st := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" })
	ref := st.Reference
	if err := w.sim.InjectFault(vippssim.Fault{Kind: vippssim.FaultStatus, Status: 503, Path: "/epayment/v1/payments/" + ref + "/capture"}); err != nil {
		t.Fatal(err)
	}
	if err := w.sim.Approve(ref); err != nil {
		t.Fatal(err)
	}
	st = w.waitFor("the waiting-for-network screen", func(s till.Status) bool { return s.Screen == "waiting" })
	if st.State != till.StateCapturing {
		t.Fatalf("while the capture fails: %+v", st)
	}
	if _, err := w.keys("cancel"); err == nil {
		t.Fatal("cancel after approval was accepted; the till already decided to capture")
	}
	w.sim.ClearFaults()
	w.waitFor("the paid screen", func(s till.Status) bool { return s.Screen == "paid" })
	p, _ := w.sim.Payment(ref)
	if p.Aggregate.Captured.Value != 7700 {
		t.Fatalf("captured %d, want 7700 once", p.Aggregate.Captured.Value)
	}
	w.spec.Check(t)
}

// A reset after Vipps took the capture: the client cannot know it worked;
// the retry with the same idempotency key must not capture twice.
func TestCaptureReplyLost(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	w.keys("4", "2", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.sim.InjectFault(vippssim.Fault{Kind: vippssim.FaultReset, Count: 2, Path: "/epayment/v1/payments/" + ref + "/capture"})
	w.sim.Approve(ref)
	w.waitFor("the paid screen", func(s till.Status) bool { return s.Screen == "paid" })
	p, _ := w.sim.Payment(ref)
	if p.Aggregate.Captured.Value != 4200 {
		t.Fatalf("captured %d, want 4200 exactly", p.Aggregate.Captured.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	doc, err := w.printer.WaitCuts(ctx, 1)
	if err != nil || len(doc.Barcodes) != 1 {
		t.Fatalf("receipt: %v %+v", err, doc.Barcodes)
	}
	w.spec.Check(t)
}

// The network drops while the QR is shown: the display says so, and the
// sale resumes by itself when Vipps answers again.
func TestWaitingForNetworkResumes(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	w.keys("6", "6", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.sim.InjectFault(vippssim.Fault{Kind: vippssim.FaultDrop, Method: "GET"})
	st := w.waitFor("waiting for network", func(s till.Status) bool { return s.Screen == "waiting" })
	if st.State != till.StateWaiting || !strings.Contains(st.LastError, "unreachable") {
		t.Fatalf("during the outage: %+v", st)
	}
	w.sim.Approve(ref) // the shopper's phone has its own network
	w.sim.ClearFaults()
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Captured.Value != 6600 {
		t.Fatalf("captured %d", p.Aggregate.Captured.Value)
	}
	w.spec.Check(t)
}

// The refund twin of TestCaptureReplyLost: the refund is made at Vipps but
// its answers are lost twice. The retries reuse the key, so the shopper gets
// the money back once, and the simulator sees no refund under a new key.
func TestRefundReplyLost(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	w.keys("4", "2", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.sim.Approve(ref)
	w.waitFor("the paid screen", func(s till.Status) bool { return s.Screen == "paid" })
	w.sim.InjectFault(vippssim.Fault{Kind: vippssim.FaultReset, Count: 2, Path: "/epayment/v1/payments/" + ref + "/refund"})
	w.keys("clear", "refund")
	w.ctl.Scan(context.Background(), ref)
	w.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	w.keys("1", "5", "0", "0", "pay")
	w.supervisor()
	w.waitFor("refunded", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	w.waitFor("the outbox empty", func(s till.Status) bool { return s.Outbox == 0 })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Refunded.Value != 1500 {
		t.Fatalf("refunded %d at Vipps, want 1500 exactly", p.Aggregate.Refunded.Value)
	}
	events, err := w.vipps.Events(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, e := range events {
		if e.Name == "REFUNDED" && e.Success {
			keys[e.IdempotencyKey] = true
		}
	}
	if len(keys) != 1 {
		t.Fatalf("refunds under %d keys at Vipps, want 1: %v", len(keys), keys)
	}
	if s := w.sim.Suspects(); len(s) != 0 {
		t.Fatalf("the simulator flags: %v", s)
	}
	if faults := w.sim.Faults(); len(faults) != 0 {
		t.Fatalf("the lost answers were not all lost: %+v", faults)
	}
	w.spec.Check(t)
}
