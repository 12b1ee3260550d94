package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kasse/till"
)

// The cashier keys the shopper's phone number: the payment goes to their
// app as a push, and the number is used for that request only: not in the
// database file, the log, the status or the journal.
func TestPushToPhone(t *testing.T) {
	logs := &logLines{}
	w := newWorld(t, worldOpts{spec: true, logs: logs})
	if _, err := w.keys("8", "9", "0", "0", "phone", "9", "1", "2", "3", "4", "5", "6", "7"); err != nil {
		t.Fatal(err)
	}
	st, err := w.keys("pay")
	if err != nil {
		t.Fatal(err)
	}
	st = w.waitFor("the push screen", func(s till.Status) bool { return s.State == till.StateWaiting })
	ref := st.Reference
	info, _ := w.sim.Payment(ref)
	if info.UserFlow != "PUSH_MESSAGE" {
		t.Fatalf("user flow %q, want PUSH_MESSAGE", info.UserFlow)
	}
	var phoneSeen bool
	for _, r := range w.sim.Requests() {
		phoneSeen = phoneSeen || (r.Method == "POST" && r.Path == "/epayment/v1/payments")
	}
	if !phoneSeen {
		t.Fatal("no create reached the simulator")
	}
	w.approve(ref)
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })

	const number = "4791234567"
	db, _ := os.ReadFile(filepath.Join(w.reg.cfg.DataDir, "kasse.db"))
	sales, _ := w.ctl.Journal(context.Background())
	status, _ := w.ctl.Status(context.Background())
	for what, text := range map[string]string{
		"the database file": string(db), "the log": logs.String(),
		"the journal": strings.ReplaceAll(strings.Join(func() []string {
			var s []string
			for _, x := range sales {
				s = append(s, x.Reference+x.Phone+x.Error)
			}
			return s
		}(), " "), " ", ""),
		"the status":  status.LastError + status.Amount,
		"the receipt": string(w.printer.Bytes()),
	} {
		if strings.Contains(text, number) || strings.Contains(text, "91234567") {
			t.Errorf("the phone number is in %s", what)
		}
	}
	w.spec.Check(t)
}

// A number that is not a mobile number is refused before anything leaves.
func TestPushRefusesBadNumber(t *testing.T) {
	w := newWorld(t, worldOpts{flow: "push"})
	w.keys("5", "0", "0", "pay", "1", "2", "3") // flow push: pay asks for the number
	if _, err := w.keys("pay"); err == nil || !strings.Contains(err.Error(), "not a mobile number") {
		t.Fatalf("short number: %v", err)
	}
	if len(w.simPayments()) != 0 {
		t.Fatal("a payment was created for a bad number")
	}
}

// flow qr-image: Vipps draws the QR (IMAGE/PNG at the panel's QR size); the
// register fetches it and shows it 1:1, and a phone can scan it.
func TestQRImageFlow(t *testing.T) {
	w := newWorld(t, worldOpts{spec: true, flow: "qr-image"})
	w.keys("1", "9", "9", "0", "0", "pay")
	st := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" })
	if got := w.screenQR(); !strings.Contains(got, st.Reference) {
		t.Fatalf("the QR on the display reads %q, want the payment's link for %s", got, st.Reference)
	}
	w.approve(st.Reference)
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	w.spec.Check(t)
}
