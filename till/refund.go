package till

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

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
	StateRefundPIN    = "refund-pin"    // a supervisor keys their PIN to approve it
	StateRefunding    = "refunding"     // the refund is on its way
)

// refundKeys is what the cashier keyed for the refund on the till.
type refundKeys struct {
	sale       payment.Lookup // what Vipps says can be refunded
	keyed      bool           // digits were keyed (a keyed 0 is not "all")
	confirmAll bool           // pay with nothing keyed asked to refund all; pay again confirms
	amount     money.Amount   // what the supervisor approves
	typed      string         // a reference keyed after the store's prefix
	store      int            // the chosen store: 0 this one, then Config.Chain
	letters    bool           // digits 2–9 type letters (the abc key)
	tapKey     device.Key     // the digit last tapped for a letter
	tapAt      time.Time      // when, for the next tap's letter
}

// phoneLetters are the letters on a phone's digits: a numeric keypad keys
// a reference's tag (a-z, 0-9) by tapping, the way a phone does.
var phoneLetters = map[device.Key]string{
	device.Key2: "abc", device.Key3: "def", device.Key4: "ghi", device.Key5: "jkl",
	device.Key6: "mno", device.Key7: "pqrs", device.Key8: "tuv", device.Key9: "wxyz",
}

// tapWindow is how soon a second tap on the same digit gives its next
// letter instead of a new one.
const tapWindow = time.Second

// tap types a letter for k in letter mode: a new letter, or the next
// letter of k when k was tapped a moment ago.
func (rk *refundKeys) tap(k device.Key, now time.Time) (string, bool) {
	group, ok := phoneLetters[k]
	if !rk.letters || !ok {
		return "", false
	}
	if rk.tapKey == k && now.Sub(rk.tapAt) < tapWindow && rk.typed != "" {
		last := rk.typed[len(rk.typed)-1]
		if i := strings.IndexByte(group, last); i >= 0 {
			rk.typed = rk.typed[:len(rk.typed)-1]
			rk.tapAt = now
			return string(group[(i+1)%len(group)]), true
		}
	}
	rk.tapKey, rk.tapAt = k, now
	return group[:1], true
}

// startRefund waits for the receipt: scanned, or its reference keyed.
func (t *Till) startRefund() error {
	if err := t.refundsAllowed(); err != nil {
		t.digits = ""
		t.done(display.Screen{Kind: display.Error, Title: "Refund not possible", Message: err.Error()})
		return err
	}
	t.engine.Dismiss()
	t.digits, t.lastErr, t.refund = "", "", refundKeys{}
	t.state = StateRefundScan
	t.showRefundScan()
	return nil
}

// refundsAllowed: a refund needs a supervisor's PIN, and none is taken
// for a minute after three wrong ones.
func (t *Till) refundsAllowed() error {
	if t.cfg.PINs == nil || !t.cfg.PINs.Supervisors() {
		return errors.New("Refunds need a supervisor's PIN, and none is configured: add a cashier with supervisor = true to [[keys.cashiers]].")
	}
	if left := t.noRefund.Sub(t.cfg.Now()); left > 0 {
		return fmt.Errorf("Refunds are locked for %d s after %d wrong supervisor PINs.", int(left.Seconds()+0.999), t.cfg.RefundTries)
	}
	return nil
}

// prefixes are the stores a keyed reference may belong to, this one first.
func (t *Till) prefixes() []string {
	p := []string{t.cfg.Store}
	for _, s := range t.cfg.Chain {
		if !slices.Contains(p, s) {
			p = append(p, s)
		}
	}
	return p
}

func (t *Till) showRefundScan() {
	title, msg := "Refund", "Scan the barcode on the sale's receipt, or key its reference (store: choose the store) and pay."
	if t.state == StateCaptureRef {
		title, msg = "Capture an order", sayCaptureKey
	}
	ref := ""
	if t.refund.typed != "" || t.refund.store != 0 {
		ref = t.prefixes()[t.refund.store] + "-" + t.refund.typed
		msg = "Key the reference as printed on the receipt, then pay. Store: the next store."
		if t.refund.letters {
			msg = "Letters: tap 2–9 as on a phone (abc: back to digits), then pay."
		}
	}
	t.show(display.Screen{Kind: display.Working, Title: title, Amount: ref, Message: msg})
}

func (t *Till) scanned(code string) error {
	switch t.state {
	case StateIdle, StateDone:
		// A receipt scanned at rest starts its refund: one step less.
		if err := t.startRefund(); err != nil {
			return err
		}
	case StateRefundScan:
	case StateCaptureRef:
		return t.captureRef(code)
	default:
		return fmt.Errorf("a scanned code is only used for refunds and captures: finish or cancel what is on the till, then scan")
	}
	t.refund.typed, t.refund.store = "", 0
	return t.engine.LookUp(code) // its outcomes move the till on
}

// referenceKey keys a receipt's reference when its barcode will not scan:
// the store from the chooser, then lane, tag and number as printed.
func (t *Till) referenceKey(k device.Key) error {
	rk := &t.refund
	if k != rk.tapKey {
		rk.tapKey = "" // another key ends the tapping on a digit
	}
	if letter, ok := rk.tap(k, t.cfg.Now()); ok {
		if len(rk.typed)+1 > 40 {
			return errors.New("the reference is too long: press back or clear")
		}
		rk.typed += letter
		t.showRefundScan()
		return nil
	}
	switch c, char := k.Char(); {
	case k == device.KeyABC:
		rk.letters, rk.tapKey = !rk.letters, ""
	case k == device.Key00 || char:
		add := string(k)
		if k != device.Key00 {
			add = string(c)
		}
		if len(rk.typed)+len(add) > 40 {
			return errors.New("the reference is too long: press back or clear")
		}
		rk.typed += add
	case k == device.KeyStore:
		rk.store = (rk.store + 1) % len(t.prefixes())
	case k == device.KeyBack && rk.typed != "":
		rk.typed = rk.typed[:len(rk.typed)-1]
	case k == device.KeyClear && (rk.typed != "" || rk.store != 0):
		rk.typed, rk.store, rk.letters = "", 0, false
	case k == device.KeyPay && rk.typed != "":
		code := t.prefixes()[rk.store] + "-" + rk.typed
		rk.typed, rk.store, rk.letters = "", 0, false
		if t.state == StateCaptureRef {
			return t.captureRef(code)
		}
		return t.engine.LookUp(code)
	case k == device.KeyPay:
		return errors.New("key the receipt's reference first, or scan it")
	default:
		return fmt.Errorf("key %q does nothing now: scan the receipt or key its reference, or press cancel", k)
	}
	t.showRefundScan()
	return nil
}

// refundKey handles keys during a refund.
func (t *Till) refundKey(k device.Key) error {
	typing := t.state == StateRefundScan && (t.refund.typed != "" || t.refund.store != 0)
	if k == device.KeyCancel || (k == device.KeyClear && t.state != StateRefundAmount && !typing) {
		t.engine.Dismiss()
		t.digits, t.refund = "", refundKeys{}
		t.idle()
		return nil
	}
	if t.state == StateRefundScan {
		return t.referenceKey(k)
	}
	if t.state != StateRefundAmount {
		return fmt.Errorf("key %q does nothing now: wait for the sale to be read, or press cancel", k)
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

// confirmRefund checks the amount and asks for a supervisor's PIN.
func (t *Till) confirmRefund() error {
	a, left := t.refundAmount(), t.refund.sale.Refundable
	switch {
	case a.Value <= 0:
		t.showRefund("Key an amount above zero, or clear and pay to refund all.")
		return fmt.Errorf("a refund of %s is nothing: key an amount above zero", a)
	case a.Value > left.Value:
		t.showRefund(fmt.Sprintf("At most %s can be refunded. Key another amount.", left))
		return fmt.Errorf("refund of %s is %w: at most %s is left", a, payment.ErrRefundAmount, left)
	}
	t.refund.amount, t.pin = a, ""
	t.state = StateRefundPIN
	t.showRefundPIN("")
	return nil
}

func (t *Till) showRefundPIN(problem string) {
	msg := fmt.Sprintf("Refund %s. Supervisor: key your PIN, then pay.", t.refund.amount)
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Supervisor PIN", Amount: strings.Repeat("•", len(t.pin)), Message: msg})
}

// refundPINKey takes the supervisor's PIN; a right one sends the refund
// (stored with its request before it leaves). Errors never carry a digit.
func (t *Till) refundPINKey(k device.Key) error {
	return t.supervisorKey(k, supervisorAsk{
		show:    t.showRefundPIN,
		refused: EventRefundPINRefused,
		what:    "refund of " + t.refund.sale.Reference,
		usage:   "a supervisor keys their PIN and pay, or cancel goes back to the amount",
		cancel: func() {
			t.state = StateRefundAmount // back to the amount
			t.showRefund("")
		},
		approve: func(who string) error {
			a := t.refund.amount
			t.record(EventRefundApproved, who, fmt.Sprintf("%s of %s, at the till of cashier %s", a, t.refund.sale.Reference, t.cashier))
			err := t.engine.Refund(a)
			if err != nil && t.state == StateRefundPIN {
				t.state = StateRefundAmount
				if errors.Is(err, payment.ErrRefundAmount) {
					t.showRefund(fmt.Sprintf("At most %s can be refunded. Key another amount.", t.refund.sale.Refundable))
				} else {
					t.showRefund("The refund could not be stored. Try again, or call support.")
				}
			}
			return err
		},
		locked: func() (string, string) {
			t.engine.Dismiss()
			t.digits, t.refund = "", refundKeys{}
			return "Refunds locked", fmt.Sprintf("Refunds are locked for %v after %d wrong supervisor PINs.", t.cfg.RefundLockout, t.cfg.RefundTries)
		},
	})
}

// supervisorAsk is one use of the supervisor's PIN. Refunds and Z
// reports share the PIN, the tries and the lockout.
type supervisorAsk struct {
	show    func(problem string) // the prompt, with a problem or none
	refused string               // the event kind of a wrong PIN
	what    string               // journaled with a wrong PIN
	usage   string               // the error for a key that does nothing here
	cancel  func()
	approve func(who string) error // a right PIN, with its supervisor
	// locked leaves the flow when the last try failed, returning the
	// screen's title and message.
	locked func() (title, msg string)
}

// supervisorKey takes one key of a supervisor's PIN. Errors never carry a
// digit.
func (t *Till) supervisorKey(k device.Key, a supervisorAsk) error {
	if edited, err := editDigits(&t.pin, k); edited {
		if err == nil {
			a.show("")
		}
		return err
	}
	switch {
	case k == device.KeyClear:
		t.pin = ""
	case k == device.KeyCancel:
		t.pin = ""
		a.cancel()
		return nil
	case k == device.KeyPay:
		pin := t.pin
		t.pin = ""
		who, ok := t.cfg.PINs.Supervisor(pin)
		if !ok {
			return t.wrongSupervisorPIN(a)
		}
		t.pinFails = 0
		return a.approve(who)
	default:
		return fmt.Errorf("%s (key %q does nothing here)", a.usage, k)
	}
	a.show("")
	return nil
}

// wrongSupervisorPIN journals the refusal; the last allowed try locks
// supervisor PINs and leaves the flow.
func (t *Till) wrongSupervisorPIN(a supervisorAsk) error {
	t.pinFails++
	t.record(a.refused, t.cashier, fmt.Sprintf("try %d of %d, %s", t.pinFails, t.cfg.RefundTries, a.what))
	if left := t.cfg.RefundTries - t.pinFails; left > 0 {
		a.show(fmt.Sprintf("Wrong PIN. %d tries left.", left))
		return fmt.Errorf("wrong supervisor PIN: %d tries left", left)
	}
	t.pinFails = 0
	t.noRefund = t.cfg.Now().Add(t.cfg.RefundLockout)
	t.record(EventRefundsLocked, t.cashier, fmt.Sprintf("for %v", t.cfg.RefundLockout))
	title, msg := a.locked()
	t.done(display.Screen{Kind: display.Error, Title: title, Message: msg})
	return errors.New(strings.TrimSuffix(msg, "."))
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
