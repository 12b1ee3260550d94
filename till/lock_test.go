package till

import (
	"errors"
	"strings"
	"testing"

	"kasse/device"
)

// An update locks the till only between sales; a locked till takes no key
// and moves no money.
func TestLockOnlyBetweenSales(t *testing.T) {
	for _, state := range allStates {
		tl, e, s := tillIn(state, true)
		err := tl.lockForUpdate("update to 1.2.3")
		switch state {
		case StateIdle, StateDone, StateLogin, StateLocked, StateUpdating:
			if err != nil {
				t.Errorf("lock while %s: %v", state, err)
				continue
			}
		default:
			if !errors.Is(err, ErrBusy) || tl.state != state {
				t.Errorf("lock while %s: %v, state %s; want ErrBusy and nothing changed", state, err, tl.state)
			}
			continue
		}
		if tl.state != StateUpdating || (state != StateUpdating && s.last.Title != "Updating – back soon") {
			t.Errorf("locked from %s: state %s, screen %+v", state, tl.state, s.last)
		}
		before := len(e.calls)
		for _, k := range []device.Key{device.Key1, device.KeyPay, device.KeyRefund, device.KeyClear, device.KeyCancel} {
			if err := tl.handleKey(k); err == nil {
				t.Errorf("locked till took key %s", k)
			}
		}
		if len(e.calls) != before || tl.state != StateUpdating {
			t.Errorf("keys on a locked till: engine calls %v, state %s", e.calls[before:], tl.state)
		}
		if err := tl.unlockFromUpdate(); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{StateLogin: StateLogin, StateLocked: StateLocked}[state]
		if want == "" {
			want = StateIdle
		}
		if state != StateUpdating && tl.state != want {
			t.Errorf("unlocked after a lock from %s: state %s, want %s", state, tl.state, want)
		}
	}
}

// No sale starts before the clock is set; once it is, the same keys sell.
func TestNoSaleBeforeTheClockIsSet(t *testing.T) {
	tl, e, s := tillIn(StateKeying, true)
	synced := false
	tl.cfg.ClockSynced = func() (bool, string) { return synced, "NTP has not answered yet" }
	if err := tl.handleKey(device.KeyPay); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("pay before the clock is set: %v", err)
	}
	if len(e.calls) != 0 || s.last.Title != "Waiting for the clock" || !strings.Contains(tl.lastErr, "NTP") {
		t.Fatalf("engine calls %v, screen %+v, last error %q", e.calls, s.last, tl.lastErr)
	}
	synced = true
	tl.handleKey(device.Key1) // the next sale starts from a fresh amount
	if err := tl.handleKey(device.KeyPay); err != nil || len(e.calls) == 0 || !strings.HasPrefix(e.calls[len(e.calls)-1], "sell 1") {
		t.Fatalf("pay once the clock is set: %v, calls %v", err, e.calls)
	}
}
