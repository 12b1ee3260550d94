// Package till is the cashier's state machine: keys in, a Vipps MobilePay
// payment out, the customer display and the receipt kept in step with the
// payment's true state. One goroutine (Run) owns all of it; the network and
// the printer report back to it through a channel, so a slow Vipps reply never
// blocks a key press and no lock guards the domain state.
package till

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/payment/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Payments is the part of the Vipps client the till uses.
type Payments interface {
	Create(ctx context.Context, p vipps.CreatePayment, idemKey string) (vipps.CreatedPayment, error)
	Get(ctx context.Context, ref string) (vipps.Payment, error)
	Capture(ctx context.Context, ref string, amount money.Amount, idemKey string) (vipps.Payment, error)
	Cancel(ctx context.Context, ref string, idemKey string) (vipps.Payment, error)
}

// Screen is the customer display.
type Screen interface {
	Show(s display.Screen) error
}

// Printer prints receipts.
type Printer interface {
	Print(r receipt.Receipt) error
}

// Journal is the sale log and reference counter (bbolt).
type Journal interface {
	NextReference(prefix, lane string) (string, error)
	PutSale(s store.Sale) error
}

// Config is the register's identity and the knobs of the sale path.
type Config struct {
	Store, Lane string // reference prefix and lane, from root-owned config
	StoreName   string
	StoreLines  []string
	Currency    string
	Description string // paymentDescription shown in the app
	TaxRate     int    // basis points, for the receipt's VAT line
	// PollInterval is the pause between two reads of a pending payment.
	PollInterval time.Duration
	// PaymentLife is how long a payment may stay CREATED before the till
	// gives up on it (Vipps expires it after 10 minutes).
	PaymentLife time.Duration
	Now         func() time.Time
	Logf        func(format string, args ...any)
}

// The till's states, as kassectl status shows them.
const (
	StateIdle       = "idle"       // nothing keyed
	StateKeying     = "keying"     // the cashier is keying an amount
	StateCreating   = "creating"   // asking Vipps for a payment
	StateWaiting    = "waiting"    // QR shown, waiting for the shopper
	StateCancelling = "cancelling" // the cashier cancelled; telling Vipps
	StateCapturing  = "capturing"  // approved; capturing
	StateDone       = "done"       // a result screen is shown
)

// Sale states in the journal.
const (
	SaleCreated   = "created"
	SaleWaiting   = "waiting"
	SaleCaptured  = "captured"
	SaleCancelled = "cancelled"
	SaleExpired   = "expired"
	SaleAborted   = "aborted"
	SaleFailed    = "failed"
)

// Status is a snapshot of the till for kassectl status.
type Status struct {
	State      string `json:"state"`
	Amount     string `json:"amount"`
	Value      int64  `json:"value"`
	Currency   string `json:"currency"`
	Reference  string `json:"reference,omitempty"`
	SaleState  string `json:"saleState,omitempty"`
	VippsState string `json:"vippsState,omitempty"`
	Screen     string `json:"screen"`
	LastError  string `json:"lastError,omitempty"`
	Store      string `json:"store"`
	Lane       string `json:"lane"`
}

// Till runs the sale path. Create with New, then Run.
type Till struct {
	cfg     Config
	pay     Payments
	screen  Screen
	printer Printer
	journal Journal

	keys    chan keyPress
	events  chan func() // results of background work, run on the loop
	status  atomic.Pointer[Status]
	running atomic.Bool

	// Owned by the Run goroutine.
	state   string
	digits  string
	sale    *store.Sale
	cancel  bool // the cashier asked to cancel while a request was in flight
	polling bool
	lastErr string
	shown   display.Kind
	ctx     context.Context
}

type keyPress struct {
	key  device.Key
	done chan error
}

// New returns a till; nothing runs until Run.
func New(cfg Config, p Payments, s Screen, pr Printer, j Journal) *Till {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.PaymentLife <= 0 {
		cfg.PaymentLife = 10*time.Minute + 30*time.Second
	}
	if cfg.Description == "" {
		cfg.Description = "Purchase"
	}
	t := &Till{cfg: cfg, pay: p, screen: s, printer: pr, journal: j,
		keys: make(chan keyPress), events: make(chan func(), 16), state: StateIdle}
	t.publish()
	return t
}

// Press hands one key to the till and waits until it has been handled, so a
// status read afterwards sees its effect. It fails if the till is not running.
func (t *Till) Press(ctx context.Context, k device.Key) error {
	kp := keyPress{key: k, done: make(chan error, 1)}
	select {
	case t.keys <- kp:
	case <-ctx.Done():
		return fmt.Errorf("the till did not take key %q: %w", k, ctx.Err())
	}
	select {
	case err := <-kp.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status returns the latest snapshot; safe from any goroutine.
func (t *Till) Status() Status { return *t.status.Load() }

// Run owns the till until ctx ends.
func (t *Till) Run(ctx context.Context) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("till is already running")
	}
	t.ctx = ctx
	t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
	for {
		select {
		case <-ctx.Done():
			return nil
		case kp := <-t.keys:
			kp.done <- t.handleKey(kp.key)
		case fn := <-t.events:
			fn()
		}
		t.publish()
	}
}

// background runs work off the loop and hands its result back to it.
func (t *Till) background(work func() func()) {
	go func() {
		done := work()
		select {
		case t.events <- done:
		case <-t.ctx.Done():
		}
	}()
}

func (t *Till) amount() money.Amount {
	var v int64
	for _, c := range t.digits {
		v = v*10 + int64(c-'0')
	}
	return money.Amount{Value: v, Currency: t.cfg.Currency}
}

func (t *Till) publish() {
	s := Status{State: t.state, Currency: t.cfg.Currency, Screen: string(t.shown),
		LastError: t.lastErr, Store: t.cfg.Store, Lane: t.cfg.Lane}
	if t.sale != nil {
		s.Reference, s.SaleState, s.VippsState = t.sale.Reference, t.sale.State, t.sale.VippsState
		s.Value, s.Amount = t.sale.Amount.Value, t.sale.Amount.String()
	} else {
		a := t.amount()
		s.Value, s.Amount = a.Value, a.String()
	}
	t.status.Store(&s)
}

func (t *Till) show(s display.Screen) {
	t.shown = s.Kind
	if err := t.screen.Show(s); err != nil {
		t.fail("customer display: %v", err)
	}
}

// fail records an error for the cashier (status) and the log.
func (t *Till) fail(format string, args ...any) {
	t.lastErr = fmt.Sprintf(format, args...)
	t.cfg.Logf("error: %s", t.lastErr)
}

func (t *Till) handleKey(k device.Key) error {
	switch t.state {
	case StateIdle, StateKeying, StateDone:
		return t.keyAmount(k)
	case StateCreating, StateWaiting:
		if k == device.KeyCancel {
			t.cancelSale()
			return nil
		}
	case StateCancelling, StateCapturing:
		if k == device.KeyCancel {
			return fmt.Errorf("too late to cancel: the payment is being %s", map[string]string{StateCancelling: "cancelled", StateCapturing: "captured"}[t.state])
		}
	}
	return fmt.Errorf("key %q does nothing while the till is %s: press cancel to stop the payment", k, t.state)
}

// keyAmount handles keys while no payment is running.
func (t *Till) keyAmount(k device.Key) error {
	if t.state == StateDone {
		// A result screen stays until the cashier starts the next sale.
		t.sale, t.digits, t.lastErr = nil, "", ""
		t.state = StateIdle
		if _, digit := k.Digit(); !digit {
			t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
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
	case k == device.KeyPay:
		return t.startSale()
	case k == device.KeyCancel:
		t.digits = ""
	default:
		return fmt.Errorf("key %q is not used here", k)
	}
	if t.digits == "" {
		t.state = StateIdle
		t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
	} else {
		t.state = StateKeying
		t.show(display.Screen{Kind: display.Amount, Amount: t.amount().String()})
	}
	return nil
}
