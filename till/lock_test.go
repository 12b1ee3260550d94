package till

import (
	"errors"
	"testing"

	"kasse/device"
	"kasse/display"
)

// An update locks the till only between sales; a locked till takes no key
// and moves no money.
func TestLockOnlyBetweenSales(t *testing.T) {
	for _, state := range allStates {
		tl, e, s := tillIn(state, true)
		err := tl.lock("update to 1.2.3")
		switch state {
		case StateIdle, StateDone, StateLocked:
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
		if tl.state != StateLocked || (state != StateLocked && s.last.Title != "Updating – back soon") {
			t.Errorf("locked from %s: state %s, screen %+v", state, tl.state, s.last)
		}
		before := len(e.calls)
		for _, k := range []device.Key{device.Key1, device.KeyPay, device.KeyRefund, device.KeyClear, device.KeyCancel} {
			if err := tl.handleKey(k); err == nil {
				t.Errorf("locked till took key %s", k)
			}
		}
		if len(e.calls) != before || tl.state != StateLocked {
			t.Errorf("keys on a locked till: engine calls %v, state %s", e.calls[before:], tl.state)
		}
		tl.state = StateLocked // Unlock's work, without the loop
		tl.idle()
		if tl.state != StateIdle || s.last.Kind != display.Idle {
			t.Errorf("unlocked: state %s, screen %+v", tl.state, s.last)
		}
	}
}
