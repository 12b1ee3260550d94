// Package payment is the register's payment engine: every money-moving step
// as a durable intent in the outbox (intent, send, answer, retry, resolve),
// reconciliation after a restart or an outage, the ePayment and eCom flows,
// refunds, and the print queue that gives each sale its one original
// receipt. The till asks it to start a sale, cancel, look up a receipt and
// refund; it answers with a stream of Outcomes.
//
// The engine has no goroutine of its own: it runs on its owner's loop (the
// till's), which also runs the closures the engine's background work sends
// on Events. So no lock guards the payment state, and a slow Vipps reply
// never blocks a key press.
package payment

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Vipps is the part of the Vipps client the engine uses. Writes go through
// Do with the exact request stored in the outbox.
type Vipps interface {
	Do(ctx context.Context, r vipps.Request, out any) error
	Get(ctx context.Context, ref string) (vipps.Payment, error)
	Ping(ctx context.Context) error
	FetchImage(ctx context.Context, url string) (image.Image, error)
	// ECommDetails reads an eCom payment; msn "" is the register's own,
	// another is the origin store's under partner keys (option A).
	ECommDetails(ctx context.Context, msn, orderID string) (vipps.ECommDetails, error)
	OneTimeQR(ctx context.Context, landingURL, format string, size int) (vipps.QR, error)
}

// Printer prints receipts.
type Printer interface {
	Print(r receipt.Receipt) error
}

// Journal is the durable side of the engine (bbolt): the sale log, the
// outbox of Vipps operations, refunds and the print queue.
type Journal interface {
	NewSale(prefix, lane string, fill func(ref string) (store.Sale, []store.Op)) (store.Sale, []uint64, error)
	Finish(s store.Sale, done []uint64, next ...store.Op) ([]uint64, error)
	// FinishReceipt returns the job as stored, with its receipt number.
	FinishReceipt(s store.Sale, done []uint64, job store.PrintJob, next ...store.Op) ([]uint64, store.PrintJob, error)
	Retry(id uint64, attempts int, next time.Time, lastErr string) error
	Pending() ([]store.Op, error)
	Sale(ref string) (store.Sale, error)
	PrintJobs() ([]store.PrintJob, error)
	// PrintDone's mark rides on the next commit; Flush commits it alone.
	PrintDone(id uint64, s store.Sale) error
	Flush() error
	PrintStarted(id uint64) error
	NextReference(prefix, lane string) (string, error)
	PutRefund(r store.Refund, ops ...store.Op) ([]uint64, error)
	FinishRefund(r store.Refund, done []uint64, next ...store.Op) ([]uint64, error)
	FinishRefundPrint(r store.Refund, done []uint64, slip store.PrintJob) (uint64, error)
	SlipDone(id uint64) error
	RefundsFor(ref string) ([]store.Refund, error)
	PrintRetry(id uint64, attempts int, lastErr string, mayHavePrinted bool) error
	PrintAsCopy(id uint64) error
	QueuePrint(job store.PrintJob) (uint64, error)
	// Journal walks the sales f selects: at start, for the remote orders
	// still reserved.
	Journal(f store.Filter, fn func(store.Sale) error) error
}

// Config is the register's identity and the knobs of the payment path.
type Config struct {
	Store, Lane string // reference prefix and lane, from root-owned config
	StoreName   string
	StoreLines  []string // address
	OrgNumber   string   // the seller's organisation number, printed with MVA
	Currency    string
	Description string // paymentDescription shown in the app
	TaxRate     int    // basis points, for the receipt's VAT line
	// ChainStores are the other stores whose sales this register may
	// refund; ChainMSN their MSNs where the chain uses partner keys (A).
	ChainStores []string
	ChainMSN    map[string]string
	// Central is kassehq (option B: refund.via = "central"): other stores'
	// sales are read and refunded through it. nil: straight to Vipps.
	Central Central
	// Flow is "qr" (draw TEXT/TARGETURL), "qr-image" (fetch IMAGE/PNG of
	// QRSize pixels), "push" (pay asks for the shopper's phone number) or
	// "ecom" (eCom v2 with the QR API's one-time QR of its landing page).
	Flow string
	// ECom* are the eCom flow's merchant settings: its MSN, the callback
	// prefix and the merchant's website as fallBack.
	ECommMSN, ECommCallback, ECommFallBack string
	// ECommImage draws the QR API's image/png instead of its target URL.
	ECommImage bool
	QRSize     int
	KeepPhone  bool // store keyed numbers with the sale (GDPR: see README)
	// Remote is the shop's rule for remote orders (distance selling).
	Remote RemoteRule
	// PollInterval is the pause between two reads of a pending payment.
	PollInterval time.Duration
	// PaymentLife is how long a payment may stay CREATED before the engine
	// gives up on it (Vipps expires it after 10 minutes).
	PaymentLife time.Duration
	Now         func() time.Time
	// After waits like time.After (the default); tests pass one that
	// moves their clock, so the poll beat is checked without sleeping.
	After func(time.Duration) <-chan time.Time
	Logf  func(format string, args ...any)
	// Jitter returns a number in [0,1) to spread retries; nil: math/rand.
	Jitter func() float64
	// PrinterState reports the printer's condition for the cashier
	// (printer.State*: "ok", "paper_low", "paper_out", "cover_open",
	// "error", "offline") and what to do; nil: always "ok". The queue
	// waits while the printer cannot print and starts by itself when it
	// can again. Safe to call from the loop.
	PrinterState func() (state, detail string)
	// Crash is called at the points where a power cut hurts most
	// ("sent:create" means the create is committed and about to leave,
	// "answered:capture" that the answer arrived but is not yet stored,
	// "print:sent" that a receipt is marked sent but no byte of it written,
	// "printing" that the receipt went to the printer but is not marked
	// printed). The soak test kills the process there; nil in production.
	Crash func(point string)
}

// Phase is where the cashier's sale stands.
type Phase string

// The phases of the cashier's sale.
const (
	PhaseNone       Phase = ""           // no sale on the till
	PhaseCreating   Phase = "creating"   // asking Vipps for a payment
	PhaseWaiting    Phase = "waiting"    // the shopper acts on the QR or the push
	PhaseCancelling Phase = "cancelling" // the cashier cancelled; telling Vipps
	PhaseCapturing  Phase = "capturing"  // approved; capturing
	PhaseDone       Phase = "done"       // an outcome ended it
	PhaseRefunding  Phase = "refunding"  // the cashier's refund is on its way
)

// Status is the engine's part of kassectl status.
type Status struct {
	Sale       *store.Sale // the cashier's sale, nil when none
	Phase      Phase
	Online     bool   // the last call to Vipps got an answer
	Outbox     int    // Vipps operations not yet confirmed
	PrintQueue int    // receipts not yet printed
	Printer    string // the last printer error
	// PrinterState and PrinterDetail are the printer's condition (see
	// Config.PrinterState).
	PrinterState, PrinterDetail string
	Refund                      *Lookup
}

// Engine drives payments. Create with New; its owner calls Start on its
// loop and then runs every closure from Events there too.
type Engine struct {
	cfg     Config
	pay     Vipps
	journal Journal
	printer Printer

	events chan func() // results of background work, run on the owner's loop
	ctx    context.Context
	report func(Outcome)

	// Owned by the loop.
	cur     *store.Sale // the cashier's sale, nil when none
	phase   Phase
	cancel  bool        // the cashier asked to cancel while the create was in flight
	push    bool        // cur is a push to the shopper's phone
	qr      string      // cur's QR payload while waiting
	qrImg   image.Image // or Vipps's QR image (flow qr-image)
	netWait bool        // cur's screen says it waits for the network
	rf      *refundCtx  // the cashier's refund
	logged  failLog     // repeats of the last error, counted rather than logged
	out     outbox
	prn     printQueue
	pollAt  time.Time // the current poll's slot on the cashier's sale's beat
	cashier string    // the logged-in cashier, put on every sale and its receipt
	holds   holds     // remote orders reserved until dispatch
}

// New returns an engine; nothing happens until Start.
func New(cfg Config, p Vipps, pr Printer, j Journal) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.After == nil {
		cfg.After = time.After
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
	if cfg.PrinterState == nil {
		cfg.PrinterState = func() (string, string) { return "ok", "" }
	}
	cfg.Remote = cfg.Remote.withDefaults()
	return &Engine{cfg: cfg, pay: p, printer: pr, journal: j,
		events: make(chan func(), 16), out: newOutbox(), prn: printQueue{mine: map[uint64]bool{}}}
}

// SetCashier names the cashier of the sales the till starts from now on
// ("" when nobody is logged in). Call it on the loop.
func (e *Engine) SetCashier(id string) { e.cashier = id }

// SetCrash installs the soak test's crash hook (see Config.Crash); call it
// before Start.
func (e *Engine) SetCrash(f func(point string)) {
	if f != nil {
		e.cfg.Crash = f
	}
}

// SetClock runs the engine on now instead of Config.Now: the end-to-end
// tests hand it the simulator's clock, so a remote order's hold of days
// passes in an instant. Call it before Start.
func (e *Engine) SetClock(now func() time.Time) {
	if now != nil {
		e.cfg.Now = now
	}
}

// Events carries the results of background work; the owner runs each on
// its loop.
func (e *Engine) Events() <-chan func() { return e.events }

// Start drives whatever a crash or a power cut left unfinished to a final
// state (the outbox holds every operation not yet confirmed) and starts the
// print queue. report receives every Outcome, on the loop. Background work
// ends with ctx.
func (e *Engine) Start(ctx context.Context, report func(Outcome)) error {
	e.ctx, e.report = ctx, report
	if err := e.loadOutbox(); err != nil {
		return err
	}
	e.kickPrinter()
	e.loadHolds()
	return nil
}

// Tick sends what is due and prints what is queued; call it a few times a
// second.
func (e *Engine) Tick() {
	e.drain()
	e.watchPrinter()
	if e.prn.queued > 0 {
		e.kickPrinter()
	}
	e.flushPrinted()
	e.expireHolds()
}

// flushAfter is how long a printed mark may wait for the next sale's commit
// before it gets one of its own: a busy lane pays nothing for it, and a
// quiet one loses at most an extra COPY to a power cut in that time.
const flushAfter = 10 * time.Second

// Status is a snapshot for kassectl status; call it on the loop.
func (e *Engine) Status() Status {
	st := Status{Phase: e.phase, Online: e.out.online, Outbox: len(e.out.ops),
		PrintQueue: e.prn.queued, Printer: e.prn.lastErr}
	st.PrinterState, st.PrinterDetail = e.cfg.PrinterState()
	if e.cur != nil {
		s := *e.cur
		st.Sale = &s
	}
	if e.rf != nil {
		l := e.rf.lookup()
		st.Refund = &l
	}
	return st
}

// Online reports whether the last call to Vipps got an answer.
func (e *Engine) Online() bool { return e.out.online }

// Dismiss lets go of the cashier's sale or refund: its result was seen, or
// the cashier moves on while the network is down (the outbox finishes it).
func (e *Engine) Dismiss() {
	if e.cur != nil && e.phase != PhaseDone {
		e.cfg.Logf("sale %s: left to the outbox", e.cur.Reference)
	}
	e.cur, e.phase, e.rf = nil, PhaseNone, nil
}

// background runs work off the loop and hands its result back to it.
func (e *Engine) background(work func() func()) {
	go func() {
		done := work()
		select {
		case e.events <- done:
		case <-e.ctx.Done():
		}
	}()
}

// isCurrent reports whether ref is the cashier's sale.
func (e *Engine) isCurrent(ref string) bool { return e.cur != nil && e.cur.Reference == ref }

// tell reports an outcome about the cashier's sale.
func (e *Engine) tell(kind Kind) {
	o := Outcome{Kind: kind}
	if e.cur != nil {
		o.Sale = *e.cur
	}
	e.report(o)
}

// fail records an error for the cashier (status) and the log. The same
// error again within a minute (a payment read every second during an
// outage) is counted, and the count logged when something else happens.
func (e *Engine) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.report(Outcome{Kind: Problem, Detail: msg})
	now := e.cfg.Now()
	if msg == e.logged.msg && now.Sub(e.logged.at) < time.Minute {
		e.logged.repeats++
		return
	}
	e.flushRepeats()
	e.logged = failLog{msg: msg, at: now}
	e.cfg.Logf("error: %s", msg)
}

// failLog is the last error logged and how often it came again since.
type failLog struct {
	msg     string
	at      time.Time
	repeats int
}

func (e *Engine) flushRepeats() {
	if e.logged.repeats > 0 {
		e.cfg.Logf("error: the last error came %d more times in %s", e.logged.repeats, e.cfg.Now().Sub(e.logged.at).Round(time.Second))
	}
	e.logged = failLog{}
}

// explain turns an error into a sentence for the cashier and the journal.
func explain(err error) string {
	var ve *vipps.Error
	if !errors.As(err, &ve) {
		return err.Error()
	}
	switch {
	case ve.Status == 0:
		return "Vipps MobilePay is unreachable – use another payment method."
	case ve.Status == 429:
		return "Vipps MobilePay is busy (too many requests) – try again in a moment."
	case ve.Status >= 500:
		return fmt.Sprintf("Vipps MobilePay has a fault (%d) – use another payment method.", ve.Status)
	}
	return ve.Error()
}

// amountOf is a of the register's currency.
func (e *Engine) amountOf(v int64) money.Amount {
	return money.Amount{Value: v, Currency: e.cfg.Currency}
}
