package till

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
	"kasse/store"
)

// The remote key: amount, the customer's number, pay starts a remote order
// (not a sale in the shop); cancel on the number goes back to the amount
// and forgets that it was remote.
func TestRemoteOrderKeys(t *testing.T) {
	tl, e, s := tillIn(StateKeying, true) // 125,00 keyed
	if err := tl.handleKey(device.KeyRemote); err != nil {
		t.Fatal(err)
	}
	if tl.state != StatePhone || s.last.Title != "Remote order: customer's phone" {
		t.Fatalf("after remote: state %s, screen %+v", tl.state, s.last)
	}
	for _, k := range []device.Key{device.Key9, device.Key1, device.Key2, device.Key3, device.Key4, device.Key5, device.Key6, device.Key7} {
		if err := tl.handleKey(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := tl.handleKey(device.KeyPay); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.calls, []string{"remote 12500 4791234567"}) {
		t.Fatalf("engine calls %q, want one remote order", e.calls)
	}
	if tl.phone != "" || tl.remote {
		t.Fatalf("the number (%q) or the remote mark (%v) outlived the request", tl.phone, tl.remote)
	}

	// Cancel on the number: back to the amount; the phone key then sells
	// in the shop.
	tl, e, _ = tillIn(StateKeying, true)
	tl.handleKey(device.KeyRemote)
	tl.handleKey(device.KeyCancel)
	if tl.state != StateKeying || tl.remote {
		t.Fatalf("after cancel: state %s, remote %v", tl.state, tl.remote)
	}
	tl.handleKey(device.KeyPhone)
	for _, k := range []device.Key{device.Key9, device.Key1, device.Key2, device.Key3, device.Key4, device.Key5, device.Key6, device.Key7, device.KeyPay} {
		tl.handleKey(k)
	}
	if !slices.Equal(e.calls, []string{"sell 12500 4791234567"}) {
		t.Fatalf("engine calls %q, want a push sale in the shop", e.calls)
	}

	// No amount: remote is refused like pay.
	tl, e, _ = tillIn(StateIdle, true)
	if err := tl.handleKey(device.KeyRemote); err == nil || tl.state == StatePhone {
		t.Fatalf("remote with no amount: %v, state %s", err, tl.state)
	}
}

// The display shows the cashier's side of a remote order: no QR, and
// never the customer's number once the request is sent; a reservation is a
// result of its own.
func TestRemoteOrderScreens(t *testing.T) {
	tl, _, s := tillIn(StateCreating, true)
	sale := store.Sale{Reference: "OSLO1-2-k7f3-17", Amount: money.Amount{Value: 12500, Currency: "NOK"}, Remote: true}
	tl.outcome(payment.Outcome{Kind: payment.PushSent, Sale: sale})
	if tl.state != StateWaiting || s.last.Kind == display.QR || s.last.QR != "" || s.last.Title != "Waiting for the customer" {
		t.Fatalf("waiting: state %s, screen %+v", tl.state, s.last)
	}
	if strings.ContainsAny(s.last.Message, "0123456789") {
		t.Fatalf("the waiting screen shows digits: %q", s.last.Message)
	}
	tl.outcome(payment.Outcome{Kind: payment.Reserved, Sale: sale})
	if tl.state != StateDone || s.last.Title != "Order reserved" || s.last.Message != sayReserved {
		t.Fatalf("reserved: state %s, screen %+v", tl.state, s.last)
	}
	tl.outcome(payment.Outcome{Kind: payment.Expired, Sale: sale})
	if s.last.Kind != display.Expired || s.last.Message != sayRemoteExpired {
		t.Fatalf("expired: %+v", s.last)
	}
	tl.outcome(payment.Outcome{Kind: payment.Paid, Sale: sale})
	if s.last.Kind != display.Paid || s.last.Title != "Order paid" || tl.lastPaid != sale.Reference {
		t.Fatalf("paid: %+v", s.last)
	}
	// A sale in the shop keeps its words.
	sale.Remote = false
	tl.outcome(payment.Outcome{Kind: payment.PushSent, Sale: sale})
	if s.last.Title != "Approve in the app" {
		t.Fatalf("push in the shop: %+v", s.last)
	}
}

// The capture key: the order's reference keyed as a refund's is (or
// scanned), pay asks the engine to capture it; a refusal stays on the till
// with the engine's reason in the status only.
func TestCaptureKey(t *testing.T) {
	tl, e, s := tillIn(StateIdle, true)
	keys := []device.Key{device.KeyCapture, device.Key2, device.KeyDash, "k", device.Key7, "f", device.Key3, device.KeyDash, device.Key1, device.Key7, device.KeyPay}
	for _, k := range keys {
		if err := tl.handleKey(k); err != nil {
			t.Fatalf("key %s: %v", k, err)
		}
	}
	if !slices.Equal(e.calls, []string{"dismiss", "capture OSLO1-2-k7f3-17"}) {
		t.Fatalf("engine calls %q", e.calls)
	}
	if tl.state != StateDone || s.last.Title != "Capture sent" {
		t.Fatalf("after pay: %s, %+v", tl.state, s.last)
	}

	tl, e, s = tillIn(StateIdle, true)
	e.captureErr = errors.New("order OSLO1-2-k7f3-17 is cancelled: nothing is reserved to capture")
	tl.handleKey(device.KeyCapture)
	if err := tl.scanned("OSLO1-2-k7f3-17"); err == nil {
		t.Fatal("a refused capture reported no error")
	}
	if tl.state != StateCaptureRef || s.last.Title != "Capture not possible" || strings.Contains(s.last.Message, "cancelled") {
		t.Fatalf("refused: %s, %+v", tl.state, s.last)
	}
	tl.handleKey(device.KeyCancel)
	if tl.state != StateIdle {
		t.Fatalf("cancel: %s", tl.state)
	}
}
