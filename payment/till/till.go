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
	"image"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Payments is the part of the Vipps client the till uses. Writes go through
// Do with the exact request stored in the outbox.
type Payments interface {
	Do(ctx context.Context, r vipps.Request, out any) error
	Get(ctx context.Context, ref string) (vipps.Payment, error)
	Ping(ctx context.Context) error
	FetchImage(ctx context.Context, url string) (image.Image, error)
	// ECommDetails reads an eCom payment; msn "" is the register's own,
	// another is the origin store's under partner keys (option A).
	ECommDetails(ctx context.Context, msn, orderID string) (vipps.ECommDetails, error)
	OneTimeQR(ctx context.Context, landingURL, format string, size int) (vipps.QR, error)
}

// Screen is the customer display.
type Screen interface {
	Show(s display.Screen) error
}

// Printer prints receipts.
type Printer interface {
	Print(r receipt.Receipt) error
}

// Journal is the durable side of the till (bbolt): the sale log, the outbox
// of Vipps operations and the print queue.
type Journal interface {
	NewSale(prefix, lane string, fill func(ref string) (store.Sale, []store.Op)) (store.Sale, []uint64, error)
	Finish(s store.Sale, done []uint64, next ...store.Op) ([]uint64, error)
	FinishPrint(s store.Sale, done []uint64, job store.PrintJob, next ...store.Op) ([]uint64, uint64, error)
	Retry(id uint64, attempts int, next time.Time, lastErr string) error
	Pending() ([]store.Op, error)
	Sale(ref string) (store.Sale, error)
	PrintJobs() ([]store.PrintJob, error)
	PrintDone(id uint64, s store.Sale) error
	PrintStarted(id uint64) error
	NextReference(prefix, lane string) (string, error)
	PutRefund(r store.Refund, ops ...store.Op) ([]uint64, error)
	FinishRefund(r store.Refund, done []uint64, next ...store.Op) ([]uint64, error)
	FinishRefundPrint(r store.Refund, done []uint64, slip store.PrintJob) (uint64, error)
	SlipDone(id uint64) error
	RefundsFor(ref string) ([]store.Refund, error)
	PrintRetry(id uint64, attempts int, lastErr string) error
	QueuePrint(job store.PrintJob) (uint64, error)
}

// Config is the register's identity and the knobs of the sale path.
type Config struct {
	Store, Lane string // reference prefix and lane, from root-owned config
	StoreName   string
	StoreLines  []string
	Currency    string
	Description string // paymentDescription shown in the app
	TaxRate     int    // basis points, for the receipt's VAT line
	// ChainStores are the other stores whose sales this till may refund;
	// ChainMSN their MSNs where the chain uses partner keys (option A).
	ChainStores []string
	ChainMSN    map[string]string
	// Flow is "qr" (draw TEXT/TARGETURL), "qr-image" (fetch IMAGE/PNG of
	// QRSize pixels), "push" (pay asks for the shopper's phone number) or
	// "ecom" (eCom v2 with the QR API's one-time QR of its landing page).
	Flow string
	// ECom* are the eCom flow's merchant settings: its MSN, the callback
	// prefix and the merchant's website as fallBack.
	ECommMSN, ECommCallback, ECommFallBack string
	// ECommImage draws the QR API's image/png instead of its target URL.
	ECommImage  bool
	QRSize      int
	CountryCode string // before a keyed phone number, e.g. "47"
	KeepPhone   bool   // store keyed numbers with the sale (GDPR: see README)
	// PollInterval is the pause between two reads of a pending payment.
	PollInterval time.Duration
	// PaymentLife is how long a payment may stay CREATED before the till
	// gives up on it (Vipps expires it after 10 minutes).
	PaymentLife time.Duration
	Now         func() time.Time
	Logf        func(format string, args ...any)
	// Jitter returns a number in [0,1) to spread retries; nil: math/rand.
	Jitter func() float64
	// Crash is called at the points where a power cut hurts most
	// ("sent:create" means the create is committed and about to leave,
	// "answered:capture" that the answer arrived but is not yet stored,
	// "print:sent" that a receipt is marked sent but no byte of it written,
	// "printing" that the receipt went to the printer but is not marked
	// printed). The soak test kills the process there; nil in production.
	Crash func(point string)
}

// The till's states, as kassectl status shows them.
const (
	StateStarting   = "starting"   // finishing what the last run left
	StateIdle       = "idle"       // nothing keyed
	StateKeying     = "keying"     // the cashier is keying an amount
	StatePhone      = "phone"      // the cashier is keying the shopper's phone number
	StateCreating   = "creating"   // asking Vipps for a payment
	StateWaiting    = "waiting"    // QR shown, waiting for the shopper
	StateCancelling = "cancelling" // the cashier cancelled; telling Vipps
	StateCapturing  = "capturing"  // approved; capturing
	StateDone       = "done"       // a result screen is shown
)

// Sale states in the journal.
const (
	SaleCreated    = store.StateCreated
	SaleWaiting    = store.StateWaiting
	SaleAuthorized = store.StateAuthorized // approved; capture intended
	SaleCaptured   = store.StateCaptured
	SaleCancelled  = store.StateCancelled
	SaleExpired    = store.StateExpired
	SaleAborted    = store.StateAborted
	SaleFailed     = store.StateFailed
)

// Status is a snapshot of the till for kassectl status.
type Status struct {
	State      string      `json:"state"`
	Amount     string      `json:"amount"`
	Value      int64       `json:"value"`
	Currency   string      `json:"currency"`
	Reference  string      `json:"reference,omitempty"`
	SaleState  string      `json:"saleState,omitempty"`
	VippsState string      `json:"vippsState,omitempty"`
	Screen     string      `json:"screen"`
	LastError  string      `json:"lastError,omitempty"`
	Store      string      `json:"store"`
	Lane       string      `json:"lane"`
	Online     bool        `json:"online"`            // the last call to Vipps got an answer
	Outbox     int         `json:"outbox"`            // Vipps operations not yet confirmed
	PrintQueue int         `json:"printQueue"`        // receipts not yet printed
	Printer    string      `json:"printer,omitempty"` // the last printer error
	Refund     *RefundInfo `json:"refund,omitempty"`
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
	sale    *store.Sale // the sale on the till, nil when none
	qr      string      // its QR payload while waiting
	qrImg   image.Image // or Vipps's QR image (flow qr-image)
	cancel  bool        // the cashier asked to cancel while the create was in flight
	lastErr string
	shown   display.Kind
	ctx     context.Context
	out     outbox
	prn     printQueue
	rf      *refundCtx   // the refund on the till
	result  money.Amount // the amount of a refund's result screen, for status
	logged  failLog      // repeats of the last error, counted rather than logged
	phone   string       // digits keyed for a push payment; never logged
	push    bool         // the current sale is a push to the shopper's phone
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
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Crash == nil {
		cfg.Crash = func(string) {}
	}
	t := &Till{cfg: cfg, pay: p, screen: s, printer: pr, journal: j,
		keys: make(chan keyPress), events: make(chan func(), 16), state: StateStarting,
		out: newOutbox(), prn: printQueue{mine: map[uint64]bool{}}}
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

// onLoop runs fn on the till's goroutine and waits for its result.
func (t *Till) onLoop(ctx context.Context, fn func() error) error {
	errc := make(chan error, 1)
	select {
	case t.events <- func() { errc <- fn(); t.publish() }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-errc:
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
	// Whatever a crash or a power cut left unfinished is driven to a final
	// state first: the outbox holds every operation not yet confirmed.
	if err := t.loadOutbox(); err != nil {
		return err
	}
	t.state = StateIdle
	t.kickPrinter()
	t.publish()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case kp := <-t.keys:
			err := t.handleKey(kp.key)
			t.publish() // before the presser reads the status
			kp.done <- err
		case fn := <-t.events:
			fn()
		case <-tick.C:
			t.drain()
			if t.prn.queued > 0 {
				t.kickPrinter()
			}
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
		LastError: t.lastErr, Store: t.cfg.Store, Lane: t.cfg.Lane,
		Online: t.out.online, Outbox: len(t.out.ops), PrintQueue: t.prn.queued, Printer: t.prn.lastErr,
		Refund: t.refundInfo()}
	if t.sale != nil {
		s.Reference, s.SaleState, s.VippsState = t.sale.Reference, t.sale.State, t.sale.VippsState
		s.Value, s.Amount = t.sale.Amount.Value, t.sale.Amount.String()
	} else {
		a := t.amount()
		if t.digits == "" && t.result.Value != 0 {
			a = t.result // the result screen's amount, as the shopper sees it
		}
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

// fail records an error for the cashier (status) and the log. The same
// error again within a minute (a payment read every second during an
// outage) is counted, and the count logged when something else happens.
func (t *Till) fail(format string, args ...any) {
	t.lastErr = fmt.Sprintf(format, args...)
	now := t.cfg.Now()
	if t.lastErr == t.logged.msg && now.Sub(t.logged.at) < time.Minute {
		t.logged.repeats++
		return
	}
	t.flushRepeats()
	t.logged = failLog{msg: t.lastErr, at: now}
	t.cfg.Logf("error: %s", t.lastErr)
}

// failLog is the last error logged and how often it came again since.
type failLog struct {
	msg     string
	at      time.Time
	repeats int
}

func (t *Till) flushRepeats() {
	if t.logged.repeats > 0 {
		t.cfg.Logf("error: the last error came %d more times in %s", t.logged.repeats, t.cfg.Now().Sub(t.logged.at).Round(time.Second))
	}
	t.logged = failLog{}
}

func (t *Till) handleKey(k device.Key) error {
	t.result = money.Amount{}
	switch t.state {
	case StateIdle, StateKeying, StateDone:
		if k == device.KeyRefund {
			t.startRefund()
			return nil
		}
		return t.keyAmount(k)
	case StateRefundScan, StateRefundRead, StateRefundAmount:
		return t.refundKey(k)
	case StatePhone:
		return t.phoneKey(k)
	case StateRefunding:
		if k == device.KeyClear && !t.out.online {
			t.rf, t.state = nil, StateIdle // the outbox finishes it
			t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
			return nil
		}
		return errors.New("the refund is on its way: wait for its result")
	case StateStarting:
		return errors.New("the till is starting: try again in a moment")
	case StateCreating, StateWaiting:
		if k == device.KeyCancel {
			t.cancelSale()
			return nil
		}
	case StateCancelling, StateCapturing:
		if k == device.KeyCancel {
			return fmt.Errorf("too late to cancel: the payment is being %s", map[string]string{StateCancelling: "cancelled", StateCapturing: "captured"}[t.state])
		}
		if k == device.KeyClear && !t.out.online {
			// The network is down: the outbox finishes this sale in the
			// background (and prints its receipt); the till moves on.
			t.cfg.Logf("sale %s: left to the outbox while offline", t.sale.Reference)
			t.sale, t.state, t.digits = nil, StateIdle, ""
			t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
			return nil
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
	case k == device.KeyPay && t.cfg.Flow == "push":
		return t.askPhone()
	case k == device.KeyPay:
		return t.startSale("")
	case k == device.KeyPhone:
		return t.askPhone()
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

// SetCrash installs the soak test's crash hook (see Config.Crash); call it
// before Run.
func (t *Till) SetCrash(f func(point string)) {
	if f != nil {
		t.cfg.Crash = f
	}
}
