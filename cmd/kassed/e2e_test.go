package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasse/till"
)

var referencePattern = regexp.MustCompile(`^[a-zA-Z0-9-]{8,50}$`)

// A whole sale, as a cashier and a shopper make it: keys, QR, approval in
// the app, capture, receipt, journal; every byte on the wire checked against
// the provider's OpenAPI documents.
func TestSaleEndToEnd(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})

	st, err := w.keys("1", "2", "5", "0", "0")
	if err != nil {
		t.Fatal(err)
	}
	if st.State != till.StateKeying || st.Value != 12500 || st.Amount != "125,00 kr" {
		t.Fatalf("after keying 1 2 5 0 0: %+v, want keying 125,00 kr", st)
	}
	if _, err := w.keys("pay"); err != nil {
		t.Fatal(err)
	}
	st = w.waitFor("the QR", func(st till.Status) bool { return st.Screen == "qr" })
	ref := st.Reference
	if !referencePattern.MatchString(ref) || !strings.HasPrefix(ref, "OSLO1-2-") {
		t.Fatalf("reference %q is not an OSLO1 lane 2 reference matching %s", ref, referencePattern)
	}
	sp := w.simPayment(ref)
	if sp.State != "CREATED" || sp.Amount.Value != 12500 || sp.Amount.Currency != "NOK" {
		t.Fatalf("simulator has %+v, want CREATED 12500 NOK", sp)
	}
	if got := w.screenQR(); got != sp.RedirectURL || got == "" {
		t.Fatalf("QR on the display reads %q, want the simulator's redirect URL %q", got, sp.RedirectURL)
	}

	// The receipt went to Vipps with the create: lane as posId, the
	// reference as receipt number.
	if info, _ := w.sim.Payment(ref); !strings.Contains(string(info.Receipt), `"receiptNumber":"`+ref+`"`) ||
		!strings.Contains(string(info.Receipt), `"posId":"2"`) {
		t.Fatalf("receipt at Vipps: %s", info.Receipt)
	}

	w.approve(ref)
	st = w.waitFor("the paid screen", func(st till.Status) bool { return st.Screen == "paid" })
	if st.SaleState != till.SaleCaptured || st.LastError != "" {
		t.Fatalf("after approval: %+v", st)
	}
	sp = w.simPayment(ref)
	if sp.Aggregate.Captured.Value != 12500 || sp.Aggregate.Authorized.Value != 12500 || sp.State != "AUTHORIZED" {
		t.Fatalf("simulator after capture: %+v, want AUTHORIZED with 12500 captured", sp)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	doc, err := w.printer.WaitCuts(ctx, 1)
	if err != nil {
		t.Fatalf("no receipt printed: %v", err)
	}
	raw := w.printer.Bytes()
	if !contains(raw, "125,00") || !contains(raw, ref) {
		t.Fatalf("receipt bytes lack the amount 125,00 or the reference %s:\n%q", ref, raw)
	}
	if len(doc.Barcodes) != 1 || doc.Barcodes[0].Data != ref {
		t.Fatalf("receipt barcodes %+v, want the reference %s", doc.Barcodes, ref)
	}

	// The journal shows the sale captured and printed (the print result is
	// recorded after the printer took the bytes).
	var sale struct{ ok bool }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !sale.ok; time.Sleep(10 * time.Millisecond) {
		sales, err := w.ctl.Journal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sales {
			if s.Reference == ref && s.State == till.SaleCaptured && s.Printed && s.Amount.Value == 12500 &&
				!s.Created.IsZero() && !s.Captured.IsZero() {
				sale.ok = true
			}
		}
	}
	if !sale.ok {
		t.Fatalf("journal has no captured, printed sale %s", ref)
	}

	// Every call carried the Vipps-System headers.
	for _, r := range w.sim.Requests() {
		if strings.HasPrefix(r.Path, "/vippssim/") || strings.Contains(r.Path, "/test/") {
			continue
		}
		if !r.SystemHeaders {
			t.Errorf("%s %s lacks the Vipps-System-* headers", r.Method, r.Path)
		}
		if k := r.Header.Get("Idempotency-Key"); r.Method == "POST" && r.Path != "/accesstoken/get" && k == "" {
			t.Errorf("%s %s has no Idempotency-Key", r.Method, r.Path)
		}
	}
	if w.spec.Count() < 5 {
		t.Fatalf("only %d exchanges validated against the OpenAPI documents", w.spec.Count())
	}
	w.spec.Check(t)
}

func TestCancelWhileWaiting(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	if _, err := w.keys("4", "9", "9", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	st := w.waitFor("the QR", func(st till.Status) bool { return st.Screen == "qr" })
	if _, err := w.keys("cancel"); err != nil {
		t.Fatal(err)
	}
	st = w.waitFor("the cancelled screen", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "cancelled" || st.SaleState != till.SaleCancelled {
		t.Fatalf("after cancel: %+v, want the cancelled screen", st)
	}
	if sp := w.simPayment(st.Reference); sp.State != "TERMINATED" || sp.Aggregate.Captured.Value != 0 {
		t.Fatalf("simulator after cancel: %+v, want TERMINATED and nothing captured", sp)
	}
	// The next key starts a new sale with a new reference.
	if _, err := w.keys("1", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	next := w.waitFor("the second QR", func(s till.Status) bool { return s.Screen == "qr" })
	if next.Reference == st.Reference {
		t.Fatalf("a new sale reused reference %s", st.Reference)
	}
	w.spec.Check(t)
}

func TestPaymentExpires(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	if _, err := w.keys("2", "0", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	st := w.waitFor("the QR", func(st till.Status) bool { return st.Screen == "qr" })
	w.clock.Advance(9*time.Minute + 50*time.Second)
	// Still pending just before the ten minutes are up.
	time.Sleep(200 * time.Millisecond)
	if s, _ := w.ctl.Status(context.Background()); s.Screen != "qr" {
		t.Fatalf("payment ended before 10 minutes: %+v", s)
	}
	w.clock.Advance(15 * time.Second)
	st = w.waitFor("the expired screen", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "expired" || st.SaleState != till.SaleExpired {
		t.Fatalf("after 10 minutes: %+v, want the expired screen", st)
	}
	if sp := w.simPayment(st.Reference); sp.State != "EXPIRED" {
		t.Fatalf("simulator: %+v, want EXPIRED", sp)
	}
	w.spec.Check(t)
}

func TestBadAmountsAreRefused(t *testing.T) {
	w := newWorld(t, worldOpts{})
	for _, keys := range [][]string{{"pay"}, {"0", "0", "pay"}, {"6", "5", "0", "0", "0", "0", "0", "1", "pay"}} {
		_, err := w.keys(keys...)
		if err == nil {
			t.Fatalf("keys %v: accepted, want a clear refusal", keys)
		}
		st := w.waitFor("the error screen", func(s till.Status) bool { return s.State == till.StateDone })
		if st.Screen != "error" || st.LastError == "" || !strings.Contains(err.Error(), "amount") {
			t.Fatalf("keys %v: status %+v, error %v", keys, st, err)
		}
		if _, err := w.keys("clear"); err != nil {
			t.Fatal(err)
		}
	}
	if ps := w.simPayments(); len(ps) != 0 {
		t.Fatalf("bad amounts reached Vipps: %+v", ps)
	}
	// The till still works.
	if _, err := w.keys("1", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the QR", func(st till.Status) bool { return st.Screen == "qr" })
}

func TestUnknownKeyPressesNothing(t *testing.T) {
	w := newWorld(t, worldOpts{})
	_, err := w.keys("1", "2", "paz")
	if err == nil || !strings.Contains(err.Error(), `unknown key "paz"`) {
		t.Fatalf("err = %v, want unknown key", err)
	}
	if st, _ := w.ctl.Status(context.Background()); st.State != till.StateIdle || st.Value != 0 {
		t.Fatalf("a rejected key list pressed keys: %+v", st)
	}
}

// The cashier cancels in the moment the shopper approves: whichever the
// till saw first, Vipps and the screen agree and nothing stays reserved.
func TestCancelApproveRace(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	w.keys("3", "3", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	if err := w.sim.Approve(ref); err != nil {
		t.Fatal(err)
	}
	w.keys("cancel") // the till has not polled yet: it decides to cancel
	st := w.waitFor("a result", func(s till.Status) bool { return s.State == till.StateDone })
	p, _ := w.sim.Payment(ref)
	ag := p.Aggregate
	if st.Screen != "cancelled" || st.SaleState != till.SaleCancelled ||
		ag.Captured.Value != 0 || ag.Cancelled.Value != ag.Authorized.Value || ag.Authorized.Value != 3300 {
		t.Fatalf("screen %s, sale %s; Vipps %s %+v: want cancelled everywhere, nothing reserved", st.Screen, st.SaleState, p.State, ag)
	}
	w.spec.Check(t)
}

// The provider's test amounts end as refused payments with their own
// screen, and the till can start the next sale.
func TestRefusedTestAmount(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true})
	w.keys("1", "5", "1", "pay") // 1,51 kr: insufficient funds
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.sim.Approve(ref)
	st := w.waitFor("a result", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "failed" || st.SaleState != till.SaleAborted {
		t.Fatalf("after a refused card: %+v", st)
	}
	if _, err := w.keys("1", "0", "0", "pay"); err != nil {
		t.Fatal(err)
	}
	if next := w.waitFor("the next QR", func(s till.Status) bool { return s.Screen == "qr" }); next.Reference == ref {
		t.Fatal("reference reused")
	}
	w.spec.Check(t)
}
