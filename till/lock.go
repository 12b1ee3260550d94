package till

import (
	"context"
	"errors"
	"fmt"

	"kasse/display"
)

// StateUpdating: the till takes no sale while an update is installed.
const StateUpdating = "updating"

// ErrBusy is wrapped by Lock's error when a sale or refund is in progress:
// try again when the cashier is done.
var ErrBusy = errors.New("a sale or refund is in progress")

// Lock stops the till taking sales, for an update: only between sales (idle,
// a result on screen, nobody logged in, or locked by the cashier), so no
// payment is ever interrupted. The display
// says the register is updating; keys are refused until Unlock.
func (t *Till) Lock(ctx context.Context, reason string) error {
	return t.onLoop(ctx, func() error { return t.lockForUpdate(reason) })
}

func (t *Till) lockForUpdate(reason string) error {
	switch t.state {
	case StateUpdating:
		return nil
	case StateIdle, StateDone, StateLogin, StateLocked:
	default:
		return fmt.Errorf("%w (the till is %s): try again when it is idle", ErrBusy, t.state)
	}
	if t.state == StateDone {
		t.engine.Dismiss()
	}
	t.digits, t.lastErr = "", ""
	t.beforeUpdate, t.state = t.state, StateUpdating
	t.cfg.Logf("till locked: %s", reason)
	t.show(display.Screen{Kind: display.Waiting, Title: "Updating – back soon"})
	return nil
}

// Unlock lets the till take sales again (an update that did not install).
func (t *Till) Unlock(ctx context.Context) error {
	return t.onLoop(ctx, t.unlockFromUpdate)
}

func (t *Till) unlockFromUpdate() error {
	if t.state != StateUpdating {
		return nil
	}
	t.cfg.Logf("till unlocked")
	switch t.beforeUpdate {
	case StateLogin:
		t.toLogin("")
	case StateLocked:
		t.state = StateLocked
		t.showLocked("")
	default:
		t.idle()
	}
	return nil
}
