package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/config"
	"kasse/device/evdev"
	"kasse/device/evdev/evdevtest"
	"kasse/store"
	"kasse/till"
)

// keyRef keys a reference after its store prefix, character by character,
// as a cashier does from the receipt's text when the barcode is torn.
func keyRef(ref string) []string {
	_, rest, _ := strings.Cut(ref, "-")
	var keys []string
	for _, c := range rest {
		keys = append(keys, string(c))
	}
	return append(keys, "pay")
}

// Store B refunds store A's sale by a keyed reference (no scanner): the
// store chooser picks OSLO1, the rest is keyed; a wrong supervisor PIN is
// refused and journaled, the right one refunds. A's sale carries its
// cashier in the journal.
func TestCrossStoreRefundByKeyedReference(t *testing.T) {
	a := newWorld(t, worldOpts{prefix: "OSLO1", lane: "2", spec: true, chain: []string{"BERGEN"}})
	bdir := t.TempDir()
	b := newWorld(t, worldOpts{prefix: "BERGEN", lane: "7", shared: a, chain: []string{"OSLO1"}, dir: bdir})

	a.keys("2", "0", "0", "0", "0", "pay")
	ref := a.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	a.approve(ref)
	a.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	if s, err := a.reg.db.Sale(ref); err != nil || s.Cashier != testCashier {
		t.Fatalf("sale %s in the journal: cashier %q, %v; want %s", ref, s.Cashier, err, testCashier)
	}

	if _, err := b.keys("refund", "store"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.keys(keyRef(ref)...); err != nil {
		t.Fatal(err)
	}
	st := b.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund == nil || st.Refund.Reference != ref || st.Refund.OriginStore != "OSLO1" || st.Refund.Refundable != "200,00 kr" {
		t.Fatalf("refund screen: %+v", st.Refund)
	}
	if st, err := b.keys("7", "5", "0", "0", "pay"); err != nil || st.State != till.StateRefundPIN {
		t.Fatalf("amount: %+v %v", st, err)
	}
	if _, err := b.keys("1", "2", "3", "4", "pay"); err == nil || !strings.Contains(err.Error(), "2 tries left") {
		t.Fatalf("a wrong supervisor PIN: %v", err)
	}
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 0 {
		t.Fatalf("refunded %d before a supervisor approved", p.Aggregate.Refunded.Value)
	}
	b.supervisor()
	st = b.waitFor("the refund done", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "paid" || st.Amount != "75,00 kr" {
		t.Fatalf("after the refund: %+v", st)
	}
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 7500 {
		t.Fatalf("refunded %d at Vipps, want 7500", p.Aggregate.Refunded.Value)
	}
	// The electronic journal has the login, the refused and the approved
	// PIN, and the signed return with the cashier who made it, and never a
	// PIN.
	var journal []string
	if err := b.reg.db.Entries(0, func(e store.Entry) error {
		journal = append(journal, fmt.Sprintf("%d cashier=%s %s nr=%d amount=%d signed=%t", e.Code, e.Cashier, e.Text, e.Nr, e.Amount, e.Signature != ""))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(journal, "\n")
	for _, want := range []string{"13003 cashier=7", "13999 cashier=7 refund-pin-refused", "13999 cashier=7 refund-approved",
		"11006 cashier=7 refund of a sale made by OSLO1 lane 2 nr=1 amount=-7500 signed=true"} {
		if !strings.Contains(all, want) {
			t.Errorf("the journal lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, testPIN) || strings.Contains(all, "1234") {
		t.Errorf("a PIN in the journal:\n%s", all)
	}
	a.spec.Check(t)
}

// scannerWorld is a register with a USB scanner set to the Norwegian
// layout, read through the evdev driver from a fake device (a real pipe).
func scannerWorld(t testing.TB, o worldOpts) (*world, *evdevtest.Device) {
	dev := evdevtest.NewDevice()
	o.sources = []string{"socket", "evdev"}
	o.evdev = []config.EvdevKeys{{Path: "/dev/input/by-id/usb-Test_Scanner-event-kbd", Role: "scanner", Layout: "no"}}
	o.inputs = func(in *inputs) { in.openEvdev = dev.Open }
	w := newWorld(t, o)
	if !dev.Opened(10 * time.Second) {
		t.Fatal("kassed did not open the scanner")
	}
	return w, dev
}

// A receipt scanned at rest starts its refund (the scanner's keystrokes
// through the Norwegian layout, Enter-terminated); the supervisor approves.
func TestScannerRefund(t *testing.T) {
	w, dev := scannerWorld(t, worldOpts{spec: true})
	w.keys("3", "0", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.approve(ref)
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	evs, err := evdevtest.Typing("no", ref, time.Now(), 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Send(evdev.NativeSize, evs...); err != nil {
		t.Fatal(err)
	}
	st := w.waitFor("the refund screen", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund.Reference != ref || st.Refund.Refundable != "30,00 kr" {
		t.Fatalf("after the scan: %+v", st.Refund)
	}
	w.keys("pay", "pay")
	w.supervisor()
	w.waitFor("refunded", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	if p, _ := w.sim.Payment(ref); p.Aggregate.Refunded.Value != 3000 {
		t.Fatalf("refunded %d, want 3000", p.Aggregate.Refunded.Value)
	}
	w.spec.Check(t)
}

// scan_to_refund_screen_ms: from the scanner's Enter to the refund screen
// with the refundable amount (the sale read from the simulator on
// loopback), through the evdev reader, the till and the engine.
func BenchmarkScanToRefundScreen(b *testing.B) {
	w, dev := scannerWorld(b, worldOpts{quiet: true})
	w.keys("3", "0", "0", "0", "pay")
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.approve(ref)
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	var d []time.Duration
	for b.Loop() {
		for range 30 {
			evs, err := evdevtest.Typing("no", ref, time.Now(), time.Millisecond)
			if err != nil {
				b.Fatal(err)
			}
			enter := len(evs) - 5 // the last stroke is Enter
			dev.Send(evdev.NativeSize, evs[:enter]...)
			time.Sleep(5 * time.Millisecond)
			start := time.Now()
			dev.Send(evdev.NativeSize, evs[enter:]...)
			// Polled tighter than waitFor's 5 ms, which would blur the figure.
			for {
				if st, err := w.ctl.Status(context.Background()); err == nil && st.State == till.StateRefundAmount {
					break
				}
				if time.Since(start) > 20*time.Second {
					b.Fatal("no refund screen")
				}
				time.Sleep(100 * time.Microsecond)
			}
			d = append(d, time.Since(start))
			w.keys("cancel")
			w.waitFor("idle", func(s till.Status) bool { return s.State == till.StateIdle })
		}
	}
	b.ReportMetric(percentile(d, 0.5), "scan_to_refund_screen_ms/ms")
	b.ReportMetric(percentile(d, 0.99), "scan_to_refund_screen_p99_ms/ms")
}
