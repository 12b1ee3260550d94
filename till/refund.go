package till

import (
	"errors"
	"fmt"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
)

// Refund states of the till.
const (
	StateRefundScan   = "refund-scan"   // waiting for the receipt's barcode
	StateRefundRead   = "refund-read"   // reading the sale from Vipps
	StateRefundAmount = "refund-amount" // the cashier keys how much
	StateRefunding    = "refunding"     // the refund is on its way
)

// refundKeys is what the cashier keyed for the refund on the till.
type refundKeys struct {
	sale       payment.Lookup // what Vipps says can be refunded
	keyed      bool           // digits were keyed (a keyed 0 is not "all")
	confirmAll bool           // pay with nothing keyed asked to refund all; pay again confirms
}

func (t *Till) startRefund() {
	t.engine.Dismiss()
	t.digits, t.lastErr, t.refund = "", "", refundKeys{}
	t.state = StateRefundScan
	t.show(display.Screen{Kind: display.Working, Title: "Refund", Message: "Scan the barcode on the sale's receipt."})
}

func (t *Till) scanned(code string) error {
	if t.state != StateRefundScan {
		return fmt.Errorf("a scanned code is only used for refunds: press refund first")
	}
	return t.engine.LookUp(code) // its outcomes move the till on
}

// refundKey handles keys during a refund.
func (t *Till) refundKey(k device.Key) error {
	if k == device.KeyCancel || (k == device.KeyClear && t.state != StateRefundAmount) {
		t.engine.Dismiss()
		t.digits, t.refund = "", refundKeys{}
		t.idle()
		return nil
	}
	if t.state != StateRefundAmount {
		return fmt.Errorf("key %q does nothing now: scan the receipt, or press cancel", k)
	}
	rk := &t.refund
	if k != device.KeyPay {
		rk.confirmAll = false
	}
	switch d, digit := k.Digit(); {
	case digit:
		t.digits, rk.keyed = trimAmount(t.digits+d), true
	case k == device.KeyBack && t.digits != "":
		t.digits = t.digits[:len(t.digits)-1]
	case k == device.KeyBack:
		rk.keyed = false
	case k == device.KeyClear:
		t.digits, rk.keyed = "", false
	case k == device.KeyPay && !rk.keyed && !rk.confirmAll:
		// Refunding everything is never one key press away.
		rk.confirmAll = true
		t.showRefund(fmt.Sprintf("Refund all %s? Press pay again to confirm, or key an amount.", rk.sale.Refundable))
		return nil
	case k == device.KeyPay:
		return t.confirmRefund()
	default:
		return fmt.Errorf("key %q is not used in a refund: key an amount, pay, or cancel", k)
	}
	t.showRefund("")
	return nil
}

func trimAmount(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

func (t *Till) refundAmount() money.Amount {
	if t.digits == "" && !t.refund.keyed {
		return t.refund.sale.Refundable
	}
	a := t.amount()
	a.Currency = t.refund.sale.Refundable.Currency
	return a
}

func (t *Till) showRefund(problem string) {
	l := t.refund.sale
	msg := fmt.Sprintf("Sale %s from store %s lane %s. Refundable %s. Key an amount, or press pay to refund all.",
		l.Reference, l.OriginStore, l.OriginLane, l.Refundable)
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Refund", Amount: t.refundAmount().String(), Message: msg})
}

// confirmRefund asks the engine for the refund; it is stored with its
// request before it is sent.
func (t *Till) confirmRefund() error {
	err := t.engine.Refund(t.refundAmount())
	if errors.Is(err, payment.ErrRefundAmount) {
		t.showRefund(fmt.Sprintf("At most %s can be refunded. Key another amount.", t.refund.sale.Refundable))
	}
	return err
}

func (t *Till) refundInfo(l *payment.Lookup) *RefundInfo {
	if l == nil {
		return nil
	}
	info := &RefundInfo{Reference: l.Reference, OriginStore: l.OriginStore, OriginLane: l.OriginLane}
	if l.Refundable.Value > 0 {
		info.Refundable, info.Amount = l.Refundable.String(), t.refundAmount().String()
	}
	return info
}
