// Package till is the cashier's state machine: keys and scans in, screens
// out, a sale started, cancelled or refunded through the payment engine.
// It holds no HTTP and no outbox: the engine (package payment) does the
// money and reports back with Outcomes, which the till turns into what the
// shopper reads. One goroutine (Run) owns the till and the engine alike;
// background work reports to it through channels, so a slow Vipps reply
// never blocks a key press and no lock guards the domain state.
package till

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
	"kasse/store"
)

// Engine is what the till asks of the payment engine; every method runs on
// the till's goroutine.
type Engine interface {
	// Start reconciles what the last run left and reports every outcome
	// from then on to report.
	Start(ctx context.Context, report func(payment.Outcome)) error
	// Events carries the results of the engine's background work.
	Events() <-chan func()
	Tick() // send what is due, print what is queued
	Sell(a money.Amount, phone string) error
	// SellRemote starts a remote order: the customer is not in the shop.
	SellRemote(a money.Amount, phone string) error
	// Capture captures a remote order reserved until dispatch.
	Capture(ref string) error
	Cancel()
	Dismiss() // the cashier moves on from the sale or refund on the till
	LookUp(code string) error
	Refund(a money.Amount) error
	Reprint(ref string) error
	Status() payment.Status
	SetCashier(id string) // put on every sale started from now on
}

// Source is key hardware (GPIO buttons, a matrix keypad, a USB keypad or
// scanner): it sends key functions and scanned codes to the till until
// ctx ends. The drivers in device/ are Sources; so is a test's fake.
type Source interface {
	Name() string
	Run(ctx context.Context, events chan<- device.Event) error
}

// Screen is the customer display.
type Screen interface {
	Show(s display.Screen) error
}

// Config is what the till shows and how the cashier keys.
type Config struct {
	Store, Lane string // for status
	StoreName   string // on the welcome screen
	Currency    string
	CountryCode string // before a keyed phone number, e.g. "47"
	// PushOnly makes pay ask for the shopper's phone number (flow "push").
	PushOnly bool
	Logf     func(format string, args ...any)

	// PINs checks cashiers' and supervisors' PINs; nil: no login, and no
	// refund (a refund needs a supervisor's PIN).
	PINs PINs
	// Journal keeps logins, locks and refused PINs; nil keeps none.
	Journal Journal
	// LockAfter locks the till after that long without a key while
	// nothing runs; 0 never.
	LockAfter time.Duration
	// Chain lists the other stores' prefixes, for the store chooser when
	// a reference is keyed (this store's own comes first).
	Chain []string
	// RefundTries wrong supervisor PINs lock refunds for RefundLockout;
	// defaults 3 and one minute.
	RefundTries   int
	RefundLockout time.Duration
	Now           func() time.Time
	// ClockSynced says whether the system clock is set (NTP); nil: it is.
	// No sale starts until it is.
	ClockSynced func() (ok bool, why string)
	// System describes the register for status; nil: nothing.
	System func() System
	// Alive is called from the till's loop a few times a second (the
	// service watchdog): when the loop is stuck, it stops.
	Alive func()
	// Reports makes X and Z reports (keys xreport and zreport); nil: none.
	Reports Reports
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
	Online     bool        `json:"online"`     // the last call to Vipps got an answer
	Outbox     int         `json:"outbox"`     // Vipps operations not yet confirmed
	PrintQueue int         `json:"printQueue"` // receipts not yet printed
	Printer    PrinterInfo `json:"printer"`
	Refund     *RefundInfo `json:"refund,omitempty"`
	Cashier    string      `json:"cashier,omitempty"` // the logged-in cashier's id
	// System is the register around the till, for fleet managers.
	System *System `json:"system,omitempty"`
	// Health is "ok", or what needs attention, in one line.
	Health string `json:"health"`
}

// System is what a fleet manager asks of a register besides its till.
type System struct {
	Version     string `json:"version"`
	Slot        string `json:"slot,omitempty"` // the A/B slot booted (RAUC), "" outside an image
	UptimeS     int64  `json:"uptimeSeconds"`
	ClockSynced bool   `json:"clockSynced"`
	Clock       string `json:"clock,omitempty"` // why the clock is not set
	Display     string `json:"display"`         // the panel kind
	Printer     string `json:"printerPort"`     // the serial port, "" for the file of --sim
	Keys        string `json:"keys"`            // where keys come from
}

// PrinterInfo is the receipt printer as the cashier should know it.
type PrinterInfo struct {
	// State is "ok", "paper_low", "paper_out", "cover_open", "error" or
	// "offline"; Detail says what is wrong and what to do.
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// Banner is the short line the till shows the cashier (never the
	// shopper's screen) while the printer needs a hand; empty when fine.
	Banner    string `json:"banner,omitempty"`
	LastError string `json:"lastError,omitempty"` // the last receipt that failed, and why
}

// RefundInfo is the refund on the till, for kassectl status.
type RefundInfo struct {
	Reference   string `json:"reference"`
	OriginStore string `json:"originStore"`
	OriginLane  string `json:"originLane"`
	Refundable  string `json:"refundable,omitempty"`
	Amount      string `json:"amount,omitempty"`
}

// Till runs the cashier's side. Create with New, then Run.
type Till struct {
	cfg    Config
	engine Engine
	screen Screen

	keys    chan keyPress
	input   chan device.Event // from the key sources
	calls   chan func()       // work from other goroutines (scan, reprint), run on the loop
	status  atomic.Pointer[Status]
	running atomic.Bool

	// Owned by the Run goroutine.
	state   string
	digits  string
	phone   string // digits keyed for a push payment; never logged
	remote  bool   // the phone number keyed is a remote order's customer's
	lastErr string
	shown   display.Kind
	result  money.Amount // the amount of a refund's result screen, for status
	refund  refundKeys

	cashier  string    // logged in; "" for nobody
	entry    string    // a cashier number being keyed
	pin      string    // a PIN being keyed; never logged, shown only as dots
	pinStage bool      // login: the number is keyed, the PIN is next
	lastKey  time.Time // for the idle lock
	lastPaid string    // the last sale paid on this till, for the copy key
	copied   string    // the sale whose copy was printed
	pinFails int       // wrong supervisor PINs in a row
	noRefund time.Time // refunds locked until then
	notice   string    // the idle screen's word on Vipps or the printer

	beforeUpdate string // the state an update's lock came from, for Unlock

	ctx context.Context // Run's, for work handed off the loop
}

type keyPress struct {
	key  device.Key
	done chan error
}

// New returns a till; nothing runs until Run.
func New(cfg Config, e Engine, s Screen) *Till {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefundTries <= 0 {
		cfg.RefundTries = 3
	}
	if cfg.RefundLockout <= 0 {
		cfg.RefundLockout = time.Minute
	}
	t := &Till{cfg: cfg, engine: e, screen: s, input: make(chan device.Event, 64),
		keys: make(chan keyPress), calls: make(chan func(), 4), state: StateStarting, ctx: context.Background()}
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

// Scan hands the till a scanned code (a receipt's barcode, from a USB
// scanner or kassectl scan) and waits until it is handled.
func (t *Till) Scan(ctx context.Context, code string) error {
	return t.onLoop(ctx, func() error { return t.scanned(code) })
}

// Reprint queues a copy of a completed sale's receipt, marked COPY.
func (t *Till) Reprint(ctx context.Context, ref string) error {
	return t.onLoop(ctx, func() error { return t.engine.Reprint(ref) })
}

// onLoop runs fn on the till's goroutine and waits for its result.
func (t *Till) onLoop(ctx context.Context, fn func() error) error {
	errc := make(chan error, 1)
	select {
	case t.calls <- func() { errc <- fn() }:
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

// Capture captures a remote order reserved until dispatch (kassectl
// capture): the order was sent.
func (t *Till) Capture(ctx context.Context, ref string) error {
	return t.onLoop(ctx, func() error { return t.engine.Capture(ref) })
}

// Input is where key sources send their events; see Source.
func (t *Till) Input() chan<- device.Event { return t.input }

// Listen runs a key source until ctx ends, logging why it stopped early.
func (t *Till) Listen(ctx context.Context, s Source) {
	if err := s.Run(ctx, t.input); err != nil && ctx.Err() == nil {
		t.cfg.Logf("keys: %s stopped: %v", s.Name(), err)
	}
}

// Status returns the latest snapshot; safe from any goroutine.
func (t *Till) Status() Status { return *t.status.Load() }

// Run owns the till and the engine until ctx ends.
func (t *Till) Run(ctx context.Context) error {
	if !t.running.CompareAndSwap(false, true) {
		return errors.New("till is already running")
	}
	t.ctx = ctx
	t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
	if err := t.engine.Start(ctx, t.outcome); err != nil {
		return err
	}
	t.lastKey = t.cfg.Now()
	if t.loginRequired() {
		t.toLogin("")
	} else {
		t.idle()
	}
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
		case ev := <-t.input:
			t.event(ev)
		case fn := <-t.calls:
			fn()
		case fn := <-t.engine.Events():
			fn()
		case <-tick.C:
			t.engine.Tick()
			if t.cfg.Alive != nil {
				t.cfg.Alive()
			}
			t.idleLock()
			t.refreshNotice()
		}
		t.publish()
	}
}

// event handles a key source's event. A refusal goes to the status only:
// never to the log, as the key may be a digit of a PIN.
func (t *Till) event(ev device.Event) {
	var err error
	if ev.Scan != "" {
		err = t.scanned(ev.Scan)
	} else {
		err = t.handleKey(ev.Key)
	}
	if err != nil {
		t.lastErr = err.Error()
	}
}

func (t *Till) amount() money.Amount {
	var v int64
	for _, c := range t.digits {
		v = v*10 + int64(c-'0')
	}
	return money.Amount{Value: v, Currency: t.cfg.Currency}
}

func (t *Till) publish() {
	var es payment.Status
	if t.running.Load() && t.state != StateStarting {
		es = t.engine.Status()
	}
	s := Status{State: t.state, Currency: t.cfg.Currency, Screen: string(t.shown),
		LastError: t.lastErr, Store: t.cfg.Store, Lane: t.cfg.Lane,
		Online: es.Online, Outbox: es.Outbox, PrintQueue: es.PrintQueue,
		Printer: PrinterInfo{State: es.PrinterState, Detail: es.PrinterDetail, LastError: es.Printer,
			Banner: printerBanner(es.PrinterState, es.PrintQueue)},
		Refund: t.refundInfo(es.Refund), Cashier: t.cashier}
	if t.cfg.System != nil {
		sys := t.cfg.System()
		s.System = &sys
	}
	s.Health = health(s)
	if sale := es.Sale; sale != nil {
		s.Reference, s.SaleState, s.VippsState = sale.Reference, sale.State, sale.VippsState
		s.Value, s.Amount = sale.Amount.Value, sale.Amount.String()
	} else {
		a := t.amount()
		switch {
		case es.Refund != nil && (t.state == StateRefundAmount || t.state == StateRefunding):
			a = t.refundAmount() // what the refund gives back, as the display shows it
		case t.digits == "" && t.result.Value != 0:
			a = t.result // the result screen's amount, as the shopper sees it
		}
		s.Value, s.Amount = a.Value, a.String()
	}
	t.status.Store(&s)
}

func (t *Till) show(s display.Screen) {
	t.shown = s.Kind
	if err := t.screen.Show(s); err != nil {
		t.lastErr = fmt.Sprintf("customer display: %v", err)
		t.cfg.Logf("error: %s", t.lastErr)
	}
}

func (t *Till) idle() {
	t.state = StateIdle
	t.notice = t.noticeNow()
	t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName, Message: t.notice})
}

// noticeNow is what the idle screen says about Vipps or the printer, so
// the cashier knows before the next sale; it never blocks a key.
func (t *Till) noticeNow() string {
	if !t.running.Load() || t.state == StateStarting {
		return ""
	}
	es := t.engine.Status()
	switch {
	case !es.Online:
		return sayUnreachable
	case es.Printer != "" || es.PrinterState != "" && es.PrinterState != "ok":
		return sayPrinter
	}
	return ""
}

// refreshNotice redraws the idle screen when its notice changed.
func (t *Till) refreshNotice() {
	if t.state == StateIdle && t.noticeNow() != t.notice {
		t.idle()
	}
}

// health says in one line what needs attention, for a fleet's dashboard.
func health(s Status) string {
	var why []string
	switch s.State {
	case StateStarting:
		why = append(why, "starting")
	case StateUpdating:
		why = append(why, "locked for an update")
	}
	if !s.Online && s.State != StateStarting {
		why = append(why, "Vipps MobilePay unreachable")
	}
	if p := s.Printer; p.State != "" && p.State != "ok" {
		why = append(why, "printer: "+cmp.Or(p.Banner, p.State))
	}
	if s.System != nil && !s.System.ClockSynced {
		why = append(why, "clock not set")
	}
	if len(why) == 0 {
		return "ok"
	}
	return strings.Join(why, "; ")
}
