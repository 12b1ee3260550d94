package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/payment/vipps/vippssim"
	"kasse/store"
	"kasse/till"
)

// remoteOrder keys a remote order of 125,00 to +47 91234567 and returns
// its reference once the request is on the customer's phone.
func (w *world) remoteOrder() string {
	w.t.Helper()
	if _, err := w.keys("1", "2", "5", "0", "0", "remote", "9", "1", "2", "3", "4", "5", "6", "7", "pay"); err != nil {
		w.t.Fatal(err)
	}
	st := w.waitFor("the request on the customer's phone", func(s till.Status) bool {
		return s.State == till.StateWaiting && s.Reference != ""
	})
	if st.Screen == "qr" {
		w.t.Errorf("a remote order shows a QR: %+v", st)
	}
	return st.Reference
}

// checkRemoteCreate checks what Vipps got: a push with CUSTOMER_NOT_PRESENT,
// a description naming the shop and the order, and the receipt.
func (w *world) checkRemoteCreate(ref string) vippssim.PaymentInfo {
	w.t.Helper()
	p, ok := w.sim.Payment(ref)
	if !ok {
		w.t.Fatalf("the simulator has no payment %s", ref)
	}
	if p.UserFlow != "PUSH_MESSAGE" || p.Interaction != "CUSTOMER_NOT_PRESENT" {
		w.t.Errorf("created %s as %s, %s; want PUSH_MESSAGE, CUSTOMER_NOT_PRESENT", ref, p.UserFlow, p.Interaction)
	}
	if !strings.Contains(p.Description, "Butikken Oslo S") || !strings.Contains(p.Description, ref) {
		w.t.Errorf("paymentDescription %q does not name the shop and the order", p.Description)
	}
	if !contains(p.Receipt, `"orderLines"`) || !contains(p.Receipt, `"taxRate":2500`) || !contains(p.Receipt, ref) {
		w.t.Errorf("the receipt sent with the create: %s", p.Receipt)
	}
	return p
}

// sale reads ref from the journal through the control socket.
func (w *world) sale(ref string) store.Sale {
	w.t.Helper()
	sales, err := w.ctl.Journal(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range sales {
		if s.Reference == ref {
			return s
		}
	}
	w.t.Fatalf("the journal has no sale %s", ref)
	return store.Sale{}
}

// rows reads the sale log's rows (what --format json and csv carry).
func (w *world) rows(q control.JournalQuery) []store.Row {
	w.t.Helper()
	var rows []store.Row
	if err := w.ctl.Rows(context.Background(), q, func(r store.Row) error { rows = append(rows, r); return nil }); err != nil {
		w.t.Fatal(err)
	}
	return rows
}

// eventually polls cond until it holds; 20 s is a hang, not a speed check.
func (w *world) eventually(what string, cond func() bool) {
	w.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	w.t.Fatalf("waiting for %s", what)
}

// A remote order under the dispatch rule: the approval stays reserved (no
// capture, listed by journal --open) until kassectl capture, which captures
// it through the outbox and prints the receipt.
func TestRemoteOrderCapturedAtDispatch(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, remote: config.Remote{Capture: "dispatch"}})
	ref := w.remoteOrder()
	w.checkRemoteCreate(ref)
	w.approve(ref)
	st := w.waitFor("the reservation", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "paid" || st.SaleState != till.SaleAuthorized {
		t.Fatalf("after the approval: %+v; want the reserved screen and the sale authorized", st)
	}
	// Nothing captured: the order is not sent yet.
	time.Sleep(300 * time.Millisecond)
	if p, _ := w.sim.Payment(ref); p.State != "AUTHORIZED" || p.Aggregate.Captured.Value != 0 {
		t.Fatalf("at Vipps before dispatch: %s, captured %d", p.State, p.Aggregate.Captured.Value)
	}
	open := w.rows(control.JournalQuery{Open: true})
	if len(open) != 1 || open[0].Reference != ref || open[0].Interaction != store.CustomerNotPresent || open[0].Capture != store.CaptureReserved {
		t.Fatalf("journal --open: %+v; want the one reserved remote order", open)
	}
	if s := w.sale(ref); !s.Remote || s.Phone != "" || s.Printed {
		t.Fatalf("journal: %+v; want a remote sale, no phone number kept, no receipt yet", s)
	}

	// Dispatch.
	if err := w.ctl.Capture(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	w.eventually("the capture", func() bool { return w.sale(ref).State == store.StateCaptured })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Captured.Value != 12500 {
		t.Fatalf("captured %d at Vipps, want 12500", p.Aggregate.Captured.Value)
	}
	w.eventually("the receipt printed", func() bool { return w.sale(ref).Printed })
	if open := w.rows(control.JournalQuery{Open: true}); len(open) != 0 {
		t.Fatalf("journal --open after the capture: %+v", open)
	}
	var row store.Row
	for _, r := range w.rows(control.JournalQuery{}) {
		if r.Reference == ref {
			row = r
		}
	}
	if row.Interaction != store.CustomerNotPresent || row.Capture != store.CaptureCaptured || row.State != store.StateCaptured {
		t.Fatalf("journal row: %+v", row)
	}

	// Twice, or an unknown order: refused with what to do.
	if err := w.ctl.Capture(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "already captured") {
		t.Errorf("a second capture: %v", err)
	}
	if err := w.ctl.Capture(context.Background(), "OSLO1-2-zzzz-999"); err == nil || !strings.Contains(err.Error(), "journal --open") {
		t.Errorf("an unknown order: %v", err)
	}
	w.spec.Check(t)
}

// A sale in the shop is no remote order: capture refuses it.
func TestCaptureRefusesShopSale(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.keys("5", "0", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.approve(ref)
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	if err := w.ctl.Capture(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "not a remote order") {
		t.Errorf("capture of a shop sale: %v", err)
	}
	var row store.Row
	for _, r := range w.rows(control.JournalQuery{}) {
		if r.Reference == ref {
			row = r
		}
	}
	if row.Interaction != store.CustomerPresent || row.Capture != store.CaptureCaptured {
		t.Errorf("journal row of a shop sale: %+v", row)
	}
}

// Digital goods: capture = "now" captures at approval, as in the shop.
func TestRemoteOrderCapturedNow(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, remote: config.Remote{Capture: "now"}})
	ref := w.remoteOrder()
	w.checkRemoteCreate(ref)
	w.approve(ref)
	st := w.waitFor("paid", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "paid" || st.SaleState != till.SaleCaptured {
		t.Fatalf("after the approval: %+v; want paid and captured", st)
	}
	if p, _ := w.sim.Payment(ref); p.Aggregate.Captured.Value != 12500 {
		t.Fatalf("captured %d at Vipps, want 12500", p.Aggregate.Captured.Value)
	}
	if open := w.rows(control.JournalQuery{Open: true}); len(open) != 0 {
		t.Fatalf("journal --open: %+v; nothing is reserved", open)
	}
	w.spec.Check(t)
}

// A reservation nobody dispatches is cancelled when its hold runs out,
// through the outbox, not before.
func TestRemoteOrderHoldExpires(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, simClock: true,
		remote: config.Remote{Capture: "dispatch", Hold: config.Duration{Duration: 72 * time.Hour}}})
	ref := w.remoteOrder()
	w.approve(ref)
	w.waitFor("the reservation", func(s till.Status) bool { return s.SaleState == till.SaleAuthorized })
	w.keys("clear") // the cashier moves on

	w.clock.Advance(71 * time.Hour)
	time.Sleep(500 * time.Millisecond) // a few of the engine's ticks
	if p, _ := w.sim.Payment(ref); p.State != "AUTHORIZED" || p.Aggregate.Cancelled.Value != 0 {
		t.Fatalf("after 71 h: %s, cancelled %d; want still reserved", p.State, p.Aggregate.Cancelled.Value)
	}
	w.clock.Advance(2 * time.Hour)
	w.eventually("the reservation cancelled", func() bool { return w.sale(ref).State == store.StateCancelled })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Cancelled.Value != 12500 || p.Aggregate.Captured.Value != 0 {
		t.Fatalf("at Vipps after the hold: cancelled %d, captured %d", p.Aggregate.Cancelled.Value, p.Aggregate.Captured.Value)
	}
	if s := w.sale(ref); !strings.Contains(s.Error, "not dispatched") || s.CaptureState() != store.CaptureReleased {
		t.Errorf("journal: %+v", s)
	}
	if err := w.ctl.Capture(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "nothing is reserved") {
		t.Errorf("capture after the hold: %v", err)
	}
	w.spec.Check(t)
}

// A restart while a remote order is reserved does not cancel it (an
// abandoned approval in the shop is released; a remote one waits for
// dispatch), and the restarted register still captures it (here with the
// till's capture key) and still expires it.
func TestRemoteReservationSurvivesRestart(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, simClock: true, remote: config.Remote{Capture: "dispatch"}})
	ref := w.remoteOrder()
	w.approve(ref)
	w.waitFor("the reservation", func(s till.Status) bool { return s.SaleState == till.SaleAuthorized })

	w.restart()
	time.Sleep(500 * time.Millisecond) // reconciliation and a few ticks
	if p, _ := w.sim.Payment(ref); p.State != "AUTHORIZED" || p.Aggregate.Cancelled.Value != 0 {
		t.Fatalf("after the restart: %s, cancelled %d; want still reserved", p.State, p.Aggregate.Cancelled.Value)
	}
	if open := w.rows(control.JournalQuery{Open: true}); len(open) != 1 || open[0].Reference != ref {
		t.Fatalf("journal --open after the restart: %+v", open)
	}
	// Dispatch, at the till: the capture key and the order's reference
	// keyed as printed (this store's prefix is the chooser's first).
	keys := []string{"capture"}
	for _, c := range strings.TrimPrefix(ref, "OSLO1-") {
		keys = append(keys, string(c))
	}
	if _, err := w.keys(append(keys, "pay")...); err != nil {
		t.Fatal(err)
	}
	w.eventually("the capture", func() bool { return w.sale(ref).State == store.StateCaptured })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Captured.Value != 12500 {
		t.Fatalf("captured %d", p.Aggregate.Captured.Value)
	}

	// A second order, reserved across a restart, still expires after it.
	w.keys("clear")
	ref2 := w.remoteOrder()
	w.approve(ref2)
	w.waitFor("the second reservation", func(s till.Status) bool { return s.Reference == ref2 && s.SaleState == till.SaleAuthorized })
	w.restart()
	w.clock.Advance(73 * time.Hour)
	w.eventually("the second reservation cancelled", func() bool { return w.sale(ref2).State == store.StateCancelled })
	w.spec.Check(t)
}

// A restart between the approval and its record (the create still in the
// outbox) follows the dispatch rule: reserved, not released.
func TestRemoteApprovalReconciledAfterRestart(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, remote: config.Remote{Capture: "dispatch"}})
	ref := w.remoteOrder()
	w.stop() // kassed goes down while the customer approves
	if err := <-w.stopped; err != nil {
		t.Fatal(err)
	}
	w.reg.close()
	w.approve(ref)
	w.start()
	w.eventually("the reservation recorded", func() bool { return w.sale(ref).State == store.StateAuthorized })
	time.Sleep(300 * time.Millisecond)
	if p, _ := w.sim.Payment(ref); p.State != "AUTHORIZED" || p.Aggregate.Cancelled.Value != 0 || p.Aggregate.Captured.Value != 0 {
		t.Fatalf("after the restart: %s %+v; want reserved", p.State, p.Aggregate)
	}
	w.spec.Check(t)
}

// A remote order still waiting for the customer when kassed restarts is
// followed in the background: the customer approves after the restart and
// the reservation is kept for dispatch, never cancelled.
func TestRemoteOrderWaitingSurvivesRestart(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, remote: config.Remote{Capture: "dispatch"}})
	ref := w.remoteOrder()
	w.stop()
	if err := <-w.stopped; err != nil {
		t.Fatal(err)
	}
	w.reg.close()
	w.start()
	time.Sleep(1500 * time.Millisecond) // the restart has read the payment: still CREATED
	if p, _ := w.sim.Payment(ref); p.State != "CREATED" {
		t.Fatalf("after the restart the waiting order is %s, want still CREATED", p.State)
	}
	w.approve(ref)
	w.eventually("the reservation recorded", func() bool { return w.sale(ref).State == store.StateAuthorized })
	if p, _ := w.sim.Payment(ref); p.State != "AUTHORIZED" || p.Aggregate.Cancelled.Value != 0 || p.Aggregate.Captured.Value != 0 {
		t.Fatalf("after the approval: %s %+v; want reserved", p.State, p.Aggregate)
	}
	w.spec.Check(t)
}
