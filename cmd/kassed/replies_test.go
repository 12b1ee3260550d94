package main

import (
	"context"
	"strings"
	"testing"

	"kasse/payment/till"
	"kasse/payment/vippssim"
)

// Trust no reply blindly (issue 7, bug 2): replies about another payment, in
// a state the API does not document, or with inflated amounts are no answer.
// The sale is captured exactly once, and "paid" is never shown before Vipps
// holds the capture.
func TestWrongRepliesAreNoAnswer(t *testing.T) {
	for _, lie := range []string{vippssim.LieReference, vippssim.LieState, vippssim.LieAmount} {
		t.Run(lie, func(t *testing.T) {
			t.Parallel()
			logs := &logLines{}
			w := newWorld(t, worldOpts{logs: logs})
			w.keys("3", "3", "0", "0", "pay")
			ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
			path := "/epayment/v1/payments/" + ref
			// The reads after the approval lie, then the capture's replies.
			for _, f := range []vippssim.Fault{
				{Kind: vippssim.FaultLie, Lie: lie, Path: path, Method: "GET", Count: 2},
				{Kind: vippssim.FaultLie, Lie: lie, Path: path + "/capture", Method: "POST", Count: 2},
			} {
				if err := w.sim.InjectFault(f); err != nil {
					t.Fatal(err)
				}
			}
			w.approve(ref)
			st := w.waitFor("paid or a result", func(s till.Status) bool {
				if s.Screen == "paid" {
					if p, _ := w.sim.Payment(ref); p.Aggregate.Captured.Value != 3300 {
						t.Errorf("the till shows paid while Vipps holds %d captured", p.Aggregate.Captured.Value)
					}
				}
				return s.State == till.StateDone
			})
			if st.Screen != "paid" || st.SaleState != till.SaleCaptured {
				t.Fatalf("after lying replies: %+v", st)
			}
			w.waitFor("the outbox empty", func(s till.Status) bool { return s.Outbox == 0 })
			events, err := w.vipps.Events(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			captures := 0
			for _, e := range events {
				if e.Name == "CAPTURED" && e.Success {
					captures++
				}
			}
			if p, _ := w.sim.Payment(ref); captures != 1 || p.Aggregate.Captured.Value != 3300 {
				t.Fatalf("%d captures at Vipps, %d captured; want one of 3300", captures, p.Aggregate.Captured.Value)
			}
			if left := w.sim.Faults(); len(left) != 0 {
				t.Fatalf("the lies were not all told: %+v", left)
			}
			if !strings.Contains(logs.String(), "does not fit") {
				t.Errorf("no log line says a reply did not fit:\n%s", logs)
			}
		})
	}
}
