package till

import (
	"testing"
	"time"

	"kasse/device"
)

// A torn receipt on a numeric keypad: the abc key makes digits 2–9 type
// letters, tapping as on a phone, so the whole reference can be keyed.
func TestKeyAReferenceWithLettersOnANumericKeypad(t *testing.T) {
	tl, e, _ := tillIn(StateIdle, true)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tl.cfg.Now = func() time.Time { return now }
	tl.cfg.PINs = &fakePINs{}
	tl.cashier = "1"
	if err := tl.startRefund(); err != nil {
		t.Fatal(err)
	}
	press := func(keys ...device.Key) {
		t.Helper()
		for _, k := range keys {
			if err := tl.handleKey(k); err != nil {
				t.Fatalf("key %s: %v", k, err)
			}
			now = now.Add(200 * time.Millisecond)
		}
	}
	// OSLO1-2-k7f3-17: lane 2, tag k7f3 (k = 5 5; f = 3 3 3), number 17.
	press(device.Key2, device.KeyDash, device.KeyABC, device.Key5, device.Key5, device.KeyABC, device.Key7,
		device.KeyABC, device.Key3, device.Key3, device.Key3, device.KeyABC, device.Key3, device.KeyDash, device.Key1, device.Key7)
	if got := tl.refund.typed; got != "2-k7f3-17" {
		t.Fatalf("typed %q, want 2-k7f3-17", got)
	}
	// Two taps a second apart are two letters: "aa", not "b".
	press(device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack, device.KeyBack)
	press(device.KeyABC, device.Key2)
	now = now.Add(tapWindow)
	press(device.Key2)
	if got := tl.refund.typed; got != "aa" {
		t.Fatalf("slow taps typed %q, want aa", got)
	}
	press(device.KeyClear, device.Key2, device.KeyDash, device.KeyABC, device.Key5, device.Key5, device.KeyABC, device.Key7,
		device.KeyABC, device.Key3, device.Key3, device.Key3, device.KeyABC, device.Key3, device.KeyDash, device.Key1, device.Key7, device.KeyPay)
	if last := e.calls[len(e.calls)-1]; last != "lookup OSLO1-2-k7f3-17" {
		t.Fatalf("engine calls %v, want a lookup of OSLO1-2-k7f3-17", e.calls)
	}
}
