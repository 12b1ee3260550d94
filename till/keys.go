package till

import (
	"errors"
	"fmt"
	"strings"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
)

func (t *Till) handleKey(k device.Key) error {
	t.result = money.Amount{}
	t.lastKey = t.cfg.Now()
	switch t.state {
	case StateLogin:
		return t.loginKey(k)
	case StateLocked:
		return t.unlockKey(k)
	case StateIdle, StateKeying, StateDone:
		switch k {
		case device.KeyRefund:
			return t.startRefund()
		case device.KeyLogout:
			return t.logout()
		case device.KeyLock:
			return t.lock()
		case device.KeyCopy:
			return t.copyLast()
		case device.KeyCapture:
			return t.startCapture()
		case device.KeyXReport:
			return t.startReport(ReportX)
		case device.KeyZReport:
			return t.startReport(ReportZ)
		}
		return t.keyAmount(k)
	case StateRefundScan, StateRefundRead, StateRefundAmount:
		return t.refundKey(k)
	case StateRefundPIN:
		return t.refundPINKey(k)
	case StateReportPIN:
		return t.reportPINKey(k)
	case StateReporting:
		return errors.New("the report is being made and printed: wait for it")
	case StateCaptureRef:
		return t.captureKey(k)
	case StatePhone:
		return t.phoneKey(k)
	case StateRefunding:
		if k == device.KeyClear && !t.engine.Status().Online {
			t.engine.Dismiss() // the outbox finishes it
			t.idle()
			return nil
		}
		return errors.New("the refund is on its way: wait for its result")
	case StateStarting:
		return errors.New("the till is starting: try again in a moment")
	case StateUpdating:
		return errors.New("the register is being updated: it takes keys again after the restart")
	case StateCreating, StateWaiting:
		if k == device.KeyCancel {
			t.engine.Cancel()
			return nil
		}
	case StateCancelling, StateCapturing:
		if k == device.KeyCancel {
			return fmt.Errorf("too late to cancel: the payment is being %s", map[string]string{StateCancelling: "cancelled", StateCapturing: "captured"}[t.state])
		}
		if k == device.KeyClear && !t.engine.Status().Online {
			// The network is down: the outbox finishes this sale in the
			// background (and prints its receipt); the till moves on.
			t.engine.Dismiss()
			t.digits = ""
			t.idle()
			return nil
		}
	}
	return fmt.Errorf("key %q does nothing while the till is %s: press cancel to stop the payment", k, t.state)
}

// keyAmount handles keys while no payment is running.
func (t *Till) keyAmount(k device.Key) error {
	if t.state == StateDone {
		// A result screen stays until the cashier starts the next sale.
		t.engine.Dismiss()
		t.digits, t.lastErr = "", ""
		t.state = StateIdle
		if _, digit := k.Digit(); !digit {
			t.idle()
			return nil
		}
	}
	switch d, digit := k.Digit(); {
	case digit:
		next := strings.TrimLeft(t.digits+d, "0")
		if len(next) > 12 {
			return errors.New("amount has too many digits: press clear and key it again")
		}
		t.digits = next
	case k == device.KeyBack:
		if t.digits != "" {
			t.digits = t.digits[:len(t.digits)-1]
		}
	case k == device.KeyClear:
		t.digits, t.lastErr = "", ""
	case k == device.KeyPay && t.cfg.PushOnly:
		return t.askPhone()
	case k == device.KeyPay:
		return t.startSale("")
	case k == device.KeyPhone:
		return t.askPhone()
	case k == device.KeyRemote:
		return t.askRemote()
	case k == device.KeyCancel:
		t.digits = ""
	default:
		return fmt.Errorf("key %q is not used here", k)
	}
	if t.digits == "" {
		t.idle()
	} else {
		t.state = StateKeying
		t.show(display.Screen{Kind: display.Amount, Amount: t.amount().String()})
	}
	return nil
}

// startSale asks the engine for a payment of the keyed amount: a QR, or a
// push to phone when the cashier keyed one. Its outcomes move the till on.
func (t *Till) startSale(phone string) error { return t.begin(phone, false) }

// begin starts the cashier's sale; remote is a remote order (phone set).
func (t *Till) begin(phone string, remote bool) error {
	a := t.amount()
	if err := a.Check(); err != nil {
		t.state, t.lastErr = StateDone, err.Error()
		t.show(display.Screen{Kind: display.Error, Title: "Check the amount", Message: sayBadAmount})
		return err
	}
	if t.cfg.ClockSynced != nil {
		// Receipt times, token expiry and TLS need the right time: a Pi
		// without a real-time clock boots in 1970 until NTP answers.
		if ok, why := t.cfg.ClockSynced(); !ok {
			t.state, t.lastErr = StateDone, "no sale until the clock is set: "+why
			t.show(display.Screen{Kind: display.Error, Title: "Waiting for the clock", Amount: a.String(), Message: sayClock})
			return errors.New(t.lastErr)
		}
	}
	sell := t.engine.Sell
	if remote {
		sell = t.engine.SellRemote
	}
	err := sell(a, phone)
	switch {
	case errors.Is(err, payment.ErrBelowMinimum):
		t.state = StateDone
		t.show(display.Screen{Kind: display.Error, Title: "Check the amount", Message: sayBadAmount})
	case errors.Is(err, payment.ErrUnreachable):
		t.state = StateDone
		t.show(display.Screen{Kind: display.Error, Title: "Vipps is unreachable", Amount: a.String(), Message: sayUnreachable})
	}
	return err
}
