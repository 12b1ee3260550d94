package payment_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"kasse/money"
	"kasse/payment"
	"kasse/payment/vipps/vippsspec"
	"kasse/payment/vipps/vippstest"
	"kasse/printer/receipt"
	"kasse/store"
)

// paper is a printer that keeps what it printed; fail are the errors of
// its next attempts, and state its condition.
type paper struct {
	mu       sync.Mutex
	receipts []receipt.Receipt
	fail     []error
	state    string
}

func (p *paper) Print(r receipt.Receipt) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fail) > 0 {
		err := p.fail[0]
		p.fail = p.fail[1:]
		return err
	}
	p.receipts = append(p.receipts, r)
	return nil
}

func (p *paper) setState(s string) {
	p.mu.Lock()
	p.state = s
	p.mu.Unlock()
}

func (p *paper) condition() (string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == "" {
		return "ok", ""
	}
	return p.state, "the printer says " + p.state
}

func (p *paper) printed() []receipt.Receipt {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.receipts)
}

// rig is an engine on a real bbolt file against the simulator behind the
// contract check, run by the test as the till's loop would run it.
type rig struct {
	t        *testing.T
	tweak    func(*payment.Config)             // before start, when set
	wrap     func(payment.Vipps) payment.Vipps // around the client, when set
	vt       *vippstest.Env
	db       *store.DB
	paper    *paper
	engine   *payment.Engine
	outcomes []payment.Outcome
	at       map[payment.Kind]uint64 // the database's commits when each kind was last told
	ctx      context.Context
}

func newRig(t *testing.T, spec *vippsspec.Validator, path string) *rig {
	t.Helper()
	r := &rig{t: t, vt: vippstest.New(t, vippstest.Options{Spec: spec}), paper: &paper{}}
	if path == "" {
		path = filepath.Join(t.TempDir(), "kasse.db")
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	r.start()
	return r
}

// start runs a fresh engine on the rig's database, as kassed's start does.
func (r *rig) start() {
	r.t.Helper()
	cfg := payment.Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken", OrgNumber: "987654325", Currency: "NOK",
		Description: "Kjøp i butikk", TaxRate: 2500, Flow: "qr", QRSize: 212, PollInterval: 10 * time.Millisecond,
		Now: r.vt.Clock.Now, Logf: r.t.Logf, PrinterState: r.paper.condition}
	var v payment.Vipps = r.vt.Client(r.t, "", nil)
	if r.tweak != nil {
		r.tweak(&cfg)
	}
	if r.wrap != nil {
		v = r.wrap(v)
	}
	r.engine = payment.New(cfg, v, r.paper, r.db)
	ctx, cancel := context.WithCancel(context.Background())
	r.t.Cleanup(cancel)
	r.ctx = ctx
	r.at = map[payment.Kind]uint64{}
	report := func(o payment.Outcome) {
		r.outcomes = append(r.outcomes, o)
		r.at[o.Kind] = r.db.Commits()
	}
	if err := r.engine.Start(ctx, report); err != nil {
		r.t.Fatal(err)
	}
}

// until runs the engine's loop until an outcome of kind is reported (a
// hang fails after 20 s; no test waits on the clock for correctness).
func (r *rig) until(kind payment.Kind) payment.Outcome {
	r.t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	seen := 0
	for {
		for ; seen < len(r.outcomes); seen++ {
			if r.outcomes[seen].Kind == kind {
				o := r.outcomes[seen]
				r.outcomes = r.outcomes[seen+1:]
				return o
			}
		}
		select {
		case fn := <-r.engine.Events():
			fn()
		case <-tick.C:
			r.engine.Tick()
		case <-deadline:
			r.t.Fatalf("no %s outcome; saw %v", kind, kinds(r.outcomes))
		}
	}
}

// idle runs the loop until the outbox and the print queue are empty.
func (r *rig) idle() {
	r.t.Helper()
	deadline := time.After(20 * time.Second)
	for st := r.engine.Status(); st.Outbox > 0 || st.PrintQueue > 0; st = r.engine.Status() {
		select {
		case fn := <-r.engine.Events():
			fn()
		case <-time.After(20 * time.Millisecond):
			r.engine.Tick()
		case <-deadline:
			r.t.Fatalf("never idle: %+v", st)
		}
	}
}

func kinds(os []payment.Outcome) []payment.Kind {
	var k []payment.Kind
	for _, o := range os {
		k = append(k, o.Kind)
	}
	return k
}

func nok(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }

// A sale from the create to the receipt: the QR, the shopper's approval,
// one capture, one original receipt, the journal, an empty outbox.
func TestSale(t *testing.T) {
	r := newRig(t, vippsspec.Open(t), "")
	before := r.db.Commits()
	if err := r.engine.Sell(nok(12500), ""); err != nil {
		t.Fatal(err)
	}
	qr := r.until(payment.ShowQR)
	ref := qr.Sale.Reference
	if qr.QR == "" || qr.Sale.Amount != nok(12500) {
		t.Fatalf("QR outcome %+v", qr)
	}
	if err := r.vt.Sim.Approve(ref); err != nil {
		t.Fatal(err)
	}
	r.until(payment.Approved)
	paid := r.until(payment.Paid)
	// The shopper approves while the QR shows: every commit from the QR to
	// "paid" lies between seeing AUTHORIZED and the paid screen.
	if n := r.at[payment.Paid] - r.at[payment.ShowQR]; n != 1 {
		t.Errorf("%d commits between the QR and the paid screen, want 1 (the capture's intent)", n)
	}
	r.idle()
	if n := r.db.Commits() - before; n != 3 {
		t.Errorf("the sale took %d commits, want 3 (sale, capture intent, captured with its receipt)", n)
	}
	if p, _ := r.vt.Sim.Payment(ref); p.Aggregate.Captured.Value != 12500 || paid.Sale.Reference != ref {
		t.Fatalf("captured %d of %s, paid %+v", p.Aggregate.Captured.Value, ref, paid.Sale)
	}
	if got := r.paper.printed(); len(got) != 1 || got[0].Reference != ref || got[0].Copy {
		t.Fatalf("printed %+v, want one original for %s", got, ref)
	}
	if s, err := r.db.Sale(ref); err != nil || s.State != store.StateCaptured || !s.Printed {
		t.Fatalf("journal: %+v, %v", s, err)
	}
}

// The cashier cancels while the QR is shown: nothing is charged.
func TestCancel(t *testing.T) {
	r := newRig(t, vippsspec.Open(t), "")
	r.engine.Sell(nok(5000), "")
	ref := r.until(payment.ShowQR).Sale.Reference
	r.engine.Cancel()
	r.until(payment.Cancelling)
	r.until(payment.Cancelled)
	r.idle()
	if p, _ := r.vt.Sim.Payment(ref); p.State != "TERMINATED" || p.Aggregate.Captured.Value != 0 {
		t.Fatalf("Vipps has %+v", p)
	}
}

// A restart after the shopper approved a sale the engine never saw through:
// the reservation is released in full, never captured, never left open.
func TestStartReleasesAnApprovalNobodyCaptured(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	r := newRig(t, nil, path)
	r.engine.Sell(nok(7700), "")
	ref := r.until(payment.ShowQR).Sale.Reference
	if err := r.vt.Sim.Approve(ref); err != nil {
		t.Fatal(err)
	}
	r.start() // the power went: a new engine on the same file
	r.idle()
	if p, _ := r.vt.Sim.Payment(ref); p.Aggregate.Captured.Value != 0 || p.Aggregate.Cancelled.Value != 7700 {
		t.Fatalf("Vipps has %+v, want all 7700 cancelled", p.Aggregate)
	}
	if s, _ := r.db.Sale(ref); s.State != store.StateCancelled {
		t.Fatalf("journal says %s", s.State)
	}
}

// A refund of a captured sale: looked up at Vipps, refunded once, its slip
// printed through the queue.
func TestRefund(t *testing.T) {
	r := newRig(t, vippsspec.Open(t), "")
	r.engine.SetCashier("7")
	r.engine.Sell(nok(20000), "")
	ref := r.until(payment.ShowQR).Sale.Reference
	r.vt.Sim.Approve(ref)
	r.until(payment.Paid)
	r.engine.Dismiss()
	if err := r.engine.LookUp(ref); err != nil {
		t.Fatal(err)
	}
	l := r.until(payment.RefundReadable).Lookup
	if l.Refundable != nok(20000) || l.OriginStore != "OSLO1" {
		t.Fatalf("lookup %+v", l)
	}
	if err := r.engine.Refund(nok(20001)); err == nil {
		t.Fatal("a refund above what was captured was accepted")
	}
	r.engine.SetCashier("12") // another cashier takes the till and refunds
	if err := r.engine.Refund(nok(5000)); err != nil {
		t.Fatal(err)
	}
	r.until(payment.Refunded)
	r.idle()
	if p, _ := r.vt.Sim.Payment(ref); p.Aggregate.Refunded.Value != 5000 {
		t.Fatalf("refunded %d", p.Aggregate.Refunded.Value)
	}
	got := r.paper.printed()
	if len(got) != 2 || !got[1].Refund || got[1].Total != 5000 || got[1].Cashier != "12" {
		t.Fatalf("printed %+v, want the receipt and a 50,00 slip naming cashier 12", got)
	}
	// The journal's sale and return each name who was at the till
	// (SAF-T empID).
	who := map[int]string{}
	if err := r.db.Entries(0, func(e store.Entry) error {
		if e.IsTransaction() {
			who[e.Code] = e.Cashier
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if who[store.TransCashSale] != "7" || who[store.TransReturn] != "12" {
		t.Errorf("journal names cashiers %v, want sale 7 and return 12", who)
	}
}

// Codes that are not receipts of the chain are refused before any request.
func TestLookUpRefusesForeignCodes(t *testing.T) {
	r := newRig(t, nil, "")
	for _, code := range []string{"", "0123", "TRONDH-1-abcd-5", "OSLO1-2-k7f3-017"} {
		if err := r.engine.LookUp(code); err == nil {
			t.Errorf("LookUp(%q) was accepted", code)
		}
	}
	if n := len(r.vt.Sim.Requests()); n != 0 {
		t.Fatalf("%d requests reached Vipps", n)
	}
}
