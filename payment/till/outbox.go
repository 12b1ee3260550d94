package till

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"kasse/display"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/store"
)

// outbox mirrors the journal's pending Vipps operations in memory so the
// loop can decide what to send without reading bbolt on every tick.
type outbox struct {
	ops       map[uint64]store.Op
	inflight  map[uint64]bool
	online    bool
	probing   bool
	lastProbe time.Time
	downSince time.Time // when the last outage began
}

func newOutbox() outbox {
	return outbox{ops: map[uint64]store.Op{}, inflight: map[uint64]bool{}, online: true}
}

func (o *outbox) add(ops ...store.Op) {
	for _, op := range ops {
		o.ops[op.ID] = op
	}
}

func (o *outbox) remove(ids ...uint64) {
	for _, id := range ids {
		delete(o.ops, id)
	}
}

func (o *outbox) idsFor(ref string) []uint64 {
	var ids []uint64
	for id, op := range o.ops {
		if op.Reference == ref {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// note records what a call says about the network and reports whether
// Vipps just became reachable again.
func (o *outbox) note(err error) (back bool) {
	switch {
	case err == nil, vipps.StatusOf(err) > 0 && vipps.StatusOf(err) < 500:
		back = !o.online
		o.online = true
	case vipps.StatusOf(err) == 0 && !errors.Is(err, context.Canceled):
		o.online = false
	}
	return back
}

func (t *Till) loadOutbox() error {
	ops, err := t.journal.Pending()
	if err != nil {
		return err
	}
	for _, op := range ops {
		op.NextAttempt = time.Time{} // reconcile now, whatever the old backoff said
		t.out.add(op)
	}
	if len(ops) > 0 {
		t.cfg.Logf("reconciling %d unfinished Vipps operations", len(ops))
	}
	return nil
}

// drain starts every operation that is due: it resends captures, cancels and
// refunds with their stored key and body, and resolves creates whose sale is
// no longer on the till by reading the payment from Vipps.
func (t *Till) drain() {
	now := t.cfg.Now()
	if !t.out.online {
		t.probe(now)
	}
	ids := make([]uint64, 0, len(t.out.ops))
	for id := range t.out.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		op := t.out.ops[id]
		if t.out.inflight[id] || op.NextAttempt.After(now) {
			continue
		}
		switch {
		case op.Kind != opCreate && op.Kind != opInitiate:
			t.send(op)
		case t.isCurrent(op.Reference) && t.state == StateCreating:
			t.send(op)
		case !t.isCurrent(op.Reference):
			t.resolve(op)
		}
	}
}

// probe checks, at most every 2 s, whether Vipps answers again.
func (t *Till) probe(now time.Time) {
	if t.out.probing || now.Sub(t.out.lastProbe) < 2*time.Second {
		return
	}
	t.out.probing, t.out.lastProbe = true, now
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 5*time.Second)
		defer cancel()
		err := t.pay.Ping(ctx)
		return func() {
			t.out.probing = false
			t.noteNetwork(err)
		}
	})
}

func (t *Till) noteNetwork(err error) {
	wasOnline := t.out.online
	if t.out.note(err) {
		t.flushRepeats()
		t.cfg.Logf("Vipps MobilePay answers again after %s: draining %d operations",
			t.cfg.Now().Sub(t.out.downSince).Round(time.Second), len(t.out.ops))
		for id, op := range t.out.ops {
			op.NextAttempt = time.Time{}
			t.out.ops[id] = op
		}
	}
	if wasOnline && !t.out.online {
		t.out.downSince = t.cfg.Now()
		t.cfg.Logf("Vipps MobilePay does not answer (%v): new sales are refused; retrying until it does", err)
	}
}

// reply is any answer to a write: ePayment's payment, or eCom's landing url.
type reply struct {
	vipps.Payment
	OrderID string `json:"orderId"`
	URL     string `json:"url"`
}

func (t *Till) send(op store.Op) {
	t.out.inflight[op.ID] = true
	t.cfg.Crash("sent:" + op.Kind)
	r := vipps.Request{Method: op.Method, Path: op.Path, IdempotencyKey: op.IdempotencyKey, Body: op.Body, Header: http.Header{}}
	if op.MSN != "" {
		r.Header.Set("Merchant-Serial-Number", op.MSN)
	}
	if op.API == apiECom {
		// eCom keys a resend with X-Request-Id and wants its charset.
		r.IdempotencyKey = ""
		r.Header.Set("Content-Type", "application/json;charset=UTF-8")
		if op.Kind != opInitiate && op.Kind != opReceipt {
			r.Header.Set("X-Request-Id", op.IdempotencyKey)
		}
	}
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 15*time.Second)
		defer cancel()
		var p reply
		var out any = &p
		if op.Kind == opReceipt {
			out = nil // Order management answers with a bare JSON string
		}
		err := t.pay.Do(ctx, r, out)
		return func() { t.answered(op, p, err) }
	})
}

// resolve reads the payment of a create whose answer the till no longer
// waits for, and settles it: an abandoned payment is cancelled.
func (t *Till) resolve(op store.Op) {
	s, ok := t.saleFor(op.Reference)
	if !ok {
		return
	}
	t.out.inflight[op.ID] = true
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.read(ctx, *s)
		return func() {
			delete(t.out.inflight, op.ID)
			t.noteNetwork(err)
			if _, ok := t.out.ops[op.ID]; !ok || t.isCurrent(op.Reference) {
				return
			}
			switch {
			case vipps.StatusOf(err) == 404:
				s.Error = "the payment never reached Vipps MobilePay"
				t.end(s, SaleFailed, display.Screen{})
			case err != nil:
				t.later(op, err)
			default:
				t.settle(s, p, false)
			}
		}
	})
}

// saleFor returns the sale on the till if it is ref, or reads it.
func (t *Till) saleFor(ref string) (*store.Sale, bool) {
	if t.isCurrent(ref) {
		return t.sale, true
	}
	s, err := t.journal.Sale(ref)
	if err != nil {
		t.fail("outbox: %v", err)
		return nil, false
	}
	return &s, true
}

// answered handles Vipps's answer (or its absence) to a sent operation.
func (t *Till) answered(op store.Op, rp reply, err error) {
	p := rp.Payment
	delete(t.out.inflight, op.ID)
	t.cfg.Crash("answered:" + op.Kind)
	t.noteNetwork(err)
	if _, ok := t.out.ops[op.ID]; !ok {
		return // finished meanwhile
	}
	if op.Kind == opRefund {
		if err == nil && op.API != apiECom {
			err = rp.Payment.Fits(op.Method+" "+op.Path, op.Reference, money.Amount{})
		}
		t.logUnusable(err)
		t.refundAnswered(op, err) // the sale may be in another store's journal
		return
	}
	s, ok := t.saleFor(op.Reference)
	if !ok {
		return
	}
	current := t.isCurrent(op.Reference)
	if op.Kind == opReceipt {
		t.receiptAnswered(op, s, err)
		return
	}
	if err == nil {
		err = fits(op, rp, s)
	}
	t.logUnusable(err)
	switch {
	case vipps.StatusOf(err) == http.StatusConflict && op.Kind == opCreate:
		// The reference is taken at Vipps: read what holds it.
		t.createConflict(op, s)
	case err != nil && vipps.IsTemporary(err) && op.Kind == opInitiate:
		if current && t.state == StateCreating {
			t.initiateUnclear(op, s, err)
		} else {
			t.later(op, err)
		}
	case err != nil && vipps.IsTemporary(err):
		t.later(op, err)
		if !current {
			return
		}
		switch {
		case op.Kind == opCreate && t.out.ops[op.ID].Attempts >= 3:
			t.unreachable(s, err)
		case op.Kind == opCapture && t.shown != display.Waiting:
			t.show(display.Screen{Kind: display.Waiting, Title: "Approved – waiting for network", Amount: s.Amount.String(),
				Message: "The payment is approved and completes when Vipps MobilePay answers."})
		}
	case err != nil:
		t.fail("%s %s: %s", op.Kind, op.Reference, explain(err))
		switch {
		case op.Kind == opCreate || op.Kind == opInitiate:
			s.Error = explain(err)
			t.end(s, SaleFailed, display.Screen{})
		case vipps.StatusOf(err) == 404:
			s.Error = "the payment never reached Vipps MobilePay"
			t.end(s, SaleFailed, display.Screen{})
		default:
			// Refused for good (already final, nothing left): read the
			// truth and release whatever is still reserved.
			if op.Kind == opCapture {
				s.Error = explain(err)
			}
			t.out.remove(op.ID)
			t.readAndSettle(s.Reference, op)
		}
	case op.Kind == opCreate || op.Kind == opInitiate:
		if current && t.state == StateCreating {
			t.created(rp)
		}
	case op.API == apiECom:
		// eCom answers with a summary, not a state: read the truth.
		t.reread(s, op.Kind == opCapture)
	default:
		t.settle(s, p, op.Kind == opCapture)
	}
}

// fits checks that a write's reply is about the operation's payment
// (DESIGN.md, money invariant 8); a reply that is not is no answer.
func fits(op store.Op, rp reply, s *store.Sale) error {
	name := op.Method + " " + op.Path
	switch {
	case op.Kind == opCreate && rp.Reference != op.Reference:
		return vipps.Unusable(name, http.StatusCreated, "the reply is about reference %q, not %q", rp.Reference, op.Reference)
	case op.Kind == opInitiate && rp.OrderID != op.Reference:
		return vipps.Unusable(name, http.StatusOK, "the reply is about order %q, not %q", rp.OrderID, op.Reference)
	case op.API != apiECom && (op.Kind == opCapture || op.Kind == opCancel):
		return rp.Payment.Fits(name, op.Reference, s.Amount)
	}
	return nil
}

// logUnusable logs what was wrong with a reply that did not fit; it is
// retried as no answer.
func (t *Till) logUnusable(err error) {
	if vipps.IsUnusable(err) {
		t.cfg.Logf("ignored a reply that does not fit: %v", err)
	}
}

// createConflict resolves a 409 on create by reading the payment, never by
// guessing: the reference is held by an earlier use of it.
func (t *Till) createConflict(op store.Op, s *store.Sale) {
	t.out.inflight[op.ID] = true
	ref := op.Reference
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.pay.Get(ctx, ref)
		if err == nil {
			err = p.Fits("GET "+ref, ref, money.Amount{}) // its amount is not ours to know
		}
		return func() {
			delete(t.out.inflight, op.ID)
			t.noteNetwork(err)
			t.logUnusable(err)
			s, ok := t.saleFor(ref)
			switch {
			case !ok:
			case err != nil:
				t.fail("create %s: the reference is taken and reading it failed: %s", ref, explain(err))
				t.later(op, err)
			default:
				t.referenceTaken(s, p)
			}
		}
	})
}

// unreachable ends the sale on the till when Vipps does not answer its
// create: the cashier is not kept waiting; the outbox cancels whatever may
// exist at Vipps.
func (t *Till) unreachable(s *store.Sale, err error) {
	s.Error = explain(err)
	t.fail("sale %s: %s", s.Reference, s.Error)
	t.state = StateDone
	t.show(display.Screen{Kind: display.Error, Title: "Vipps is unreachable", Amount: s.Amount.String(),
		Message: "Vipps MobilePay is unreachable – use another payment method."})
	t.transition(s, opCancel)
}

// reread settles a sale from a fresh read of its payment.
func (t *Till) reread(s *store.Sale, wantCapture bool) {
	ref := s.Reference
	sale := *s
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.read(ctx, sale)
		return func() {
			t.noteNetwork(err)
			s, ok := t.saleFor(ref)
			if !ok {
				return
			}
			if err != nil {
				t.fail("reading %s: %s", ref, explain(err))
				for _, id := range t.out.idsFor(ref) {
					t.later(t.out.ops[id], err) // the ops go again, then the read
				}
				return
			}
			t.settle(s, p, wantCapture)
		}
	})
}

// receiptAnswered finishes the eCom receipt: sent once; a 409 means Order
// management has it already.
func (t *Till) receiptAnswered(op store.Op, s *store.Sale, err error) {
	switch {
	case err != nil && vipps.IsTemporary(err):
		t.later(op, err)
		return
	case err != nil && vipps.StatusOf(err) != 409:
		t.fail("receipt of %s to Vipps: %s", s.Reference, explain(err))
	}
	if _, ferr := t.journal.Finish(*s, []uint64{op.ID}); ferr != nil {
		t.fail("outbox: %v", ferr)
		return
	}
	t.out.remove(op.ID)
}

// readAndSettle settles a sale from a fresh read after a refused operation,
// keeping the op's ID done in the journal when the sale is committed.
func (t *Till) readAndSettle(ref string, op store.Op) {
	t.out.add(op) // still pending in the journal until the sale commits
	t.out.inflight[op.ID] = true
	cur, ok := t.saleFor(ref)
	if !ok {
		return
	}
	sale := *cur
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.read(ctx, sale)
		return func() {
			delete(t.out.inflight, op.ID)
			t.noteNetwork(err)
			s, ok := t.saleFor(ref)
			if !ok {
				return
			}
			if err != nil {
				t.later(op, err)
				return
			}
			ag := p.Aggregate
			open := p.State == vipps.Created || (p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value)
			if op.Kind == opCancel && open && ag.Captured.Value < s.Amount.Value {
				// Vipps refused the cancel yet the money is still
				// reserved: try again later rather than in a loop.
				t.later(op, fmt.Errorf("cancel refused while the payment is %s", p.State))
				return
			}
			t.settle(s, p, false)
		}
	})
}

// later records a failed attempt and when to try again: exponential backoff
// with jitter, at most 10 s (so an approval never stays reserved long after
// the network is back), and never sooner than Retry-After.
func (t *Till) later(op store.Op, err error) {
	op.Attempts++
	d := time.Duration(float64(500*time.Millisecond) * math.Pow(2, float64(min(op.Attempts-1, 5))))
	d = min(d, 10*time.Second)
	d = time.Duration(float64(d) * (0.8 + 0.4*t.cfg.Jitter()))
	var ve *vipps.Error
	if asVipps(err, &ve) && ve.RetryAfter > d {
		d = ve.RetryAfter
	}
	op.NextAttempt, op.LastError = t.cfg.Now().Add(d), explain(err)
	t.out.ops[op.ID] = op
	if rerr := t.journal.Retry(op.ID, op.Attempts, op.NextAttempt, op.LastError); rerr != nil && !errors.Is(rerr, store.ErrNoOp) {
		t.fail("outbox: %v", rerr)
	}
}

func asVipps(err error, target **vipps.Error) bool { return errors.As(err, target) }
