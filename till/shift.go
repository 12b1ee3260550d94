package till

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"kasse/device"
	"kasse/display"
)

// PINs checks the cashiers' PINs ([[keys.cashiers]] in the config); the
// till never sees a hash, and a PIN never leaves the till's goroutine
// except into these calls.
type PINs interface {
	// Login reports whether cashiers are configured: the till then asks
	// for a login at the start of every shift.
	Login() bool
	// Supervisors reports whether any cashier may approve refunds.
	Supervisors() bool
	// Check reports whether pin is cashier id's PIN.
	Check(id, pin string) bool
	// Supervisor returns the supervisor whose PIN pin is.
	Supervisor(pin string) (id string, ok bool)
}

// Journal keeps the till's own events (logins, logouts, locks, approved
// refunds and every refused PIN), append-only. It is a small event
// record, not the full electronic journal the law asks for.
type Journal interface {
	Record(ev Event) error
}

// Event is one line of the till's event record. It never holds a PIN.
type Event struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Cashier string    `json:"cashier,omitempty"` // who: the cashier, or the supervisor who approved
	Detail  string    `json:"detail,omitempty"`
}

// Event kinds.
const (
	EventLogin            = "login"
	EventLoginRefused     = "login-pin-refused"
	EventLogout           = "logout"
	EventLock             = "lock"
	EventUnlock           = "unlock"
	EventUnlockRefused    = "unlock-pin-refused"
	EventRefundApproved   = "refund-approved"
	EventRefundPINRefused = "refund-pin-refused"
	EventRefundsLocked    = "refunds-locked"
)

// Shift states.
const (
	StateLogin  = "login"  // nobody is logged in: cashier number, then PIN
	StateLocked = "locked" // idle too long, or the lock key: the cashier's PIN opens it
)

// maxPIN bounds what is keyed as a PIN or a cashier number.
const maxPIN = 12

func (t *Till) record(kind, who, detail string) {
	if t.cfg.Journal == nil {
		return
	}
	if err := t.cfg.Journal.Record(Event{Time: t.cfg.Now(), Kind: kind, Cashier: who, Detail: detail}); err != nil {
		t.lastErr = fmt.Sprintf("event record: %v", err)
		t.cfg.Logf("error: %s", t.lastErr)
	}
}

func (t *Till) loginRequired() bool { return t.cfg.PINs != nil && t.cfg.PINs.Login() }

// toLogin ends any shift and asks for the next cashier's number.
func (t *Till) toLogin(problem string) {
	t.state, t.cashier, t.entry, t.pin, t.pinStage, t.digits = StateLogin, "", "", "", false, ""
	t.engine.SetCashier("")
	t.showLogin(problem)
}

func (t *Till) showLogin(problem string) {
	msg := "Cashier: key your number, then pay."
	amount := t.entry
	if t.pinStage {
		msg, amount = fmt.Sprintf("Cashier %s: key your PIN, then pay.", t.entry), strings.Repeat("•", len(t.pin))
	}
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Log in", Amount: amount, Message: msg})
}

// loginKey handles keys while nobody is logged in. Errors never carry a
// keyed digit: they reach kassectl and the status.
func (t *Till) loginKey(k device.Key) error {
	field := &t.entry
	if t.pinStage {
		field = &t.pin
	}
	if edited, err := editDigits(field, k); edited {
		if err == nil {
			t.showLogin("")
		}
		return err
	}
	switch {
	case k == device.KeyClear:
		*field = ""
	case k == device.KeyCancel:
		t.entry, t.pin, t.pinStage = "", "", false
	case k == device.KeyPay && !t.pinStage:
		if t.entry == "" {
			return errors.New("key your cashier number, then pay")
		}
		t.pinStage = true
	case k == device.KeyPay:
		id, pin := t.entry, t.pin
		t.pin = ""
		if !t.cfg.PINs.Check(id, pin) {
			t.entry, t.pinStage = "", false
			t.record(EventLoginRefused, id, "")
			t.showLogin("Wrong number or PIN. Key your number again.")
			return errors.New("wrong cashier number or PIN: key your number again")
		}
		t.cashier, t.entry, t.pinStage = id, "", false
		t.engine.SetCashier(id)
		t.record(EventLogin, id, "")
		t.cfg.Logf("cashier %s logged in", id)
		t.idle()
		return nil
	default:
		return fmt.Errorf("log in first: key your cashier number, pay, your PIN and pay (key %q does nothing here)", k)
	}
	t.showLogin("")
	return nil
}

// lock hides the till until the cashier keys their PIN again. Only when
// no payment is running: a lock never stops a sale or a cancel.
func (t *Till) lock() error {
	if t.cashier == "" {
		return errors.New("nobody is logged in: there is nothing to lock")
	}
	t.engine.Dismiss()
	t.state, t.digits, t.pin = StateLocked, "", ""
	t.record(EventLock, t.cashier, "")
	t.showLocked("")
	return nil
}

func (t *Till) showLocked(problem string) {
	msg := fmt.Sprintf("Locked. Cashier %s: key your PIN, then pay; or logout.", t.cashier)
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Locked", Amount: strings.Repeat("•", len(t.pin)), Message: msg})
}

func (t *Till) unlockKey(k device.Key) error {
	if edited, err := editDigits(&t.pin, k); edited {
		if err == nil {
			t.showLocked("")
		}
		return err
	}
	switch {
	case k == device.KeyClear || k == device.KeyCancel:
		t.pin = ""
	case k == device.KeyLogout:
		return t.logout()
	case k == device.KeyPay:
		pin := t.pin
		t.pin = ""
		if !t.cfg.PINs.Check(t.cashier, pin) {
			t.record(EventUnlockRefused, t.cashier, "")
			t.showLocked("Wrong PIN. Key it again, or logout.")
			return errors.New("wrong PIN: key it again, or press logout")
		}
		t.record(EventUnlock, t.cashier, "")
		t.idle()
		return nil
	default:
		return fmt.Errorf("the till is locked: key your PIN and pay, or logout (key %q does nothing here)", k)
	}
	t.showLocked("")
	return nil
}

// logout ends the shift.
func (t *Till) logout() error {
	if !t.loginRequired() {
		return errors.New("nobody logs in on this till: no cashiers are configured ([[keys.cashiers]])")
	}
	t.engine.Dismiss()
	t.record(EventLogout, t.cashier, "")
	t.cfg.Logf("cashier %s logged out", t.cashier)
	t.toLogin("")
	return nil
}

// idleLock locks the till after LockAfter without a key, when nothing
// runs: idle, keying or a result screen.
func (t *Till) idleLock() {
	if t.cashier == "" || t.cfg.LockAfter <= 0 || t.cfg.Now().Sub(t.lastKey) < t.cfg.LockAfter {
		return
	}
	switch t.state {
	case StateIdle, StateKeying, StateDone:
		t.lock()
	}
}

// copyLast reprints the last receipt of this till, marked COPY: once per
// sale (the rules allow one copy of a sales receipt).
func (t *Till) copyLast() error {
	ref := t.lastPaid
	switch {
	case ref == "":
		return errors.New("no receipt to copy yet: the last sale on this till was not paid")
	case t.copied == ref:
		return fmt.Errorf("a copy of sale %s's receipt was printed already: one copy per sale", ref)
	}
	if err := t.engine.Reprint(ref); err != nil {
		return fmt.Errorf("copy of sale %s: %w", ref, err)
	}
	t.copied = ref
	return nil
}

// editDigits keys a digit into field (a cashier number or a PIN) or takes
// the last one back; it reports whether k was such a key.
func editDigits(field *string, k device.Key) (bool, error) {
	if d, digit := k.Digit(); digit {
		if len(*field)+len(d) > maxPIN {
			return true, errors.New("too many digits: press back or clear")
		}
		*field += d
		return true, nil
	}
	if k == device.KeyBack && *field != "" {
		*field = (*field)[:len(*field)-1]
		return true, nil
	}
	return false, nil
}
