package payment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

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

// loadOutbox mirrors the journal's pending operations, due at once: what
// a crash or a power cut left unfinished is reconciled first.
func (e *Engine) loadOutbox() error {
	ops, err := e.journal.Pending()
	if err != nil {
		return err
	}
	for _, op := range ops {
		op.NextAttempt = time.Time{} // reconcile now, whatever the old backoff said
		e.out.add(op)
	}
	if len(ops) > 0 {
		e.cfg.Logf("reconciling %d unfinished Vipps operations", len(ops))
	}
	return nil
}

// drain starts every operation that is due: it resends captures, cancels and
// refunds with their stored key and body, and resolves creates whose sale is
// no longer on the till by reading the payment from Vipps.
func (e *Engine) drain() {
	now := e.cfg.Now()
	if !e.out.online {
		e.probe(now)
	}
	ids := make([]uint64, 0, len(e.out.ops))
	for id := range e.out.ops {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		op := e.out.ops[id]
		if e.out.inflight[id] || op.NextAttempt.After(now) {
			continue
		}
		switch {
		case op.Kind != opCreate && op.Kind != opInitiate:
			e.send(op)
		case e.isCurrent(op.Reference) && e.phase == PhaseCreating:
			e.send(op)
		case !e.isCurrent(op.Reference):
			e.resolve(op)
		}
	}
}

// probe checks, at most every 2 s, whether Vipps answers again.
func (e *Engine) probe(now time.Time) {
	if e.out.probing || now.Sub(e.out.lastProbe) < 2*time.Second {
		return
	}
	e.out.probing, e.out.lastProbe = true, now
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		defer cancel()
		err := e.pay.Ping(ctx)
		return func() {
			e.out.probing = false
			e.noteNetwork(err)
		}
	})
}

func (e *Engine) noteNetwork(err error) {
	wasOnline := e.out.online
	if e.out.note(err) {
		e.flushRepeats()
		e.cfg.Logf("Vipps MobilePay answers again after %s: draining %d operations",
			e.cfg.Now().Sub(e.out.downSince).Round(time.Second), len(e.out.ops))
		for id, op := range e.out.ops {
			op.NextAttempt = time.Time{}
			e.out.ops[id] = op
		}
	}
	if wasOnline && !e.out.online {
		e.out.downSince = e.cfg.Now()
		e.cfg.Logf("Vipps MobilePay does not answer (%v): new sales are refused; retrying until it does", err)
	}
}

// reply is any answer to a write: ePayment's payment, or eCom's landing url.
type reply struct {
	vipps.Payment
	OrderID string `json:"orderId"`
	URL     string `json:"url"`
}

func (e *Engine) send(op store.Op) {
	if op.API == apiCentral {
		e.sendCentral(op)
		return
	}
	e.out.inflight[op.ID] = true
	e.cfg.Crash("sent:" + op.Kind)
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
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
		defer cancel()
		var p reply
		var out any = &p
		if op.Kind == opReceipt {
			out = nil // Order management answers with a bare JSON string
		}
		err := e.pay.Do(ctx, r, out)
		return func() { e.answered(op, p, err) }
	})
}

// errAwaitingCustomer is a remote order's create whose customer has not
// answered yet: not a fault, a reason to read again.
var errAwaitingCustomer = errors.New("the customer has not approved the remote order yet")

// resolve reads the payment of a create whose answer the till no longer
// waits for, and settles it: an abandoned payment is cancelled.
func (e *Engine) resolve(op store.Op) {
	s, ok := e.saleFor(op.Reference)
	if !ok {
		return
	}
	e.out.inflight[op.ID] = true
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		p, err := e.read(ctx, *s)
		return func() {
			delete(e.out.inflight, op.ID)
			e.noteNetwork(err)
			if _, ok := e.out.ops[op.ID]; !ok || e.isCurrent(op.Reference) {
				return
			}
			switch {
			case vipps.StatusOf(err) == 404:
				s.Error = "the payment never reached Vipps MobilePay"
				e.end(s, store.StateFailed, NotCompleted)
			case err != nil:
				e.later(op, err)
			case s.Remote && p.State == vipps.Created && e.cfg.Now().Sub(s.Created) < e.cfg.PaymentLife:
				// A remote customer approves away from the till, also
				// after a restart or once the cashier moved on: keep
				// reading (the outbox's backoff, at most every 10 s)
				// until the payment ends or its life runs out.
				e.later(op, errAwaitingCustomer)
			default:
				// An approval nobody saw through is released, unless it
				// is a remote order: the customer approved it away from
				// the till, so the shop's rule for those holds.
				e.settle(s, p, s.Remote)
			}
		}
	})
}

// saleFor returns the sale on the till if it is ref, or reads it.
func (e *Engine) saleFor(ref string) (*store.Sale, bool) {
	if e.isCurrent(ref) {
		return e.cur, true
	}
	s, err := e.journal.Sale(ref)
	if err != nil {
		e.fail("outbox: %v", err)
		return nil, false
	}
	return &s, true
}

// answered handles Vipps's answer (or its absence) to a sent operation.
func (e *Engine) answered(op store.Op, rp reply, err error) {
	p := rp.Payment
	delete(e.out.inflight, op.ID)
	e.cfg.Crash("answered:" + op.Kind)
	e.noteNetwork(err)
	if _, ok := e.out.ops[op.ID]; !ok {
		return // finished meanwhile
	}
	if op.Kind == opRefund {
		if err == nil && op.API != apiECom {
			err = rp.Payment.Fits(op.Method+" "+op.Path, op.Reference, money.Amount{})
		}
		e.logUnusable(err)
		e.refundAnswered(op, err) // the sale may be in another store's journal
		return
	}
	s, ok := e.saleFor(op.Reference)
	if !ok {
		return
	}
	current := e.isCurrent(op.Reference)
	if op.Kind == opReceipt {
		e.receiptAnswered(op, s, err)
		return
	}
	if err == nil {
		err = fits(op, rp, s)
	}
	e.logUnusable(err)
	switch {
	case vipps.StatusOf(err) == http.StatusConflict && op.Kind == opCreate:
		// The reference is taken at Vipps: read what holds it.
		e.createConflict(op, s)
	case err != nil && vipps.IsTemporary(err) && op.Kind == opInitiate:
		if current && e.phase == PhaseCreating {
			e.initiateUnclear(op, s, err)
		} else {
			e.later(op, err)
		}
	case err != nil && vipps.IsTemporary(err):
		e.later(op, err)
		if !current {
			return
		}
		switch {
		case op.Kind == opCreate && e.out.ops[op.ID].Attempts >= 3:
			e.unreachable(s, err)
		case op.Kind == opCapture && !e.netWait:
			e.netWait = true
			e.tell(CaptureWaiting)
		}
	case err != nil:
		e.fail("%s %s: %s", op.Kind, op.Reference, explain(err))
		switch {
		case op.Kind == opCreate || op.Kind == opInitiate:
			s.Error = explain(err)
			e.end(s, store.StateFailed, NotCompleted)
		case vipps.StatusOf(err) == 404:
			s.Error = "the payment never reached Vipps MobilePay"
			e.end(s, store.StateFailed, NotCompleted)
		default:
			// Refused for good (already final, nothing left): read the
			// truth and release whatever is still reserved.
			if op.Kind == opCapture {
				s.Error = explain(err)
			}
			e.out.remove(op.ID)
			e.readAndSettle(s.Reference, op)
		}
	case op.Kind == opCreate || op.Kind == opInitiate:
		if current && e.phase == PhaseCreating {
			e.created(rp)
		}
	case op.API == apiECom:
		// eCom answers with a summary, not a state: read the truth.
		e.reread(s, op.Kind == opCapture)
	default:
		e.settle(s, p, op.Kind == opCapture)
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
func (e *Engine) logUnusable(err error) {
	if vipps.IsUnusable(err) {
		e.cfg.Logf("ignored a reply that does not fit: %v", err)
	}
}

// createConflict resolves a 409 on create by reading the payment, never by
// guessing: the reference is held by an earlier use of it.
func (e *Engine) createConflict(op store.Op, s *store.Sale) {
	e.out.inflight[op.ID] = true
	ref := op.Reference
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		p, err := e.pay.Get(ctx, ref)
		if err == nil {
			err = p.Fits("GET "+ref, ref, money.Amount{}) // its amount is not ours to know
		}
		return func() {
			delete(e.out.inflight, op.ID)
			e.noteNetwork(err)
			e.logUnusable(err)
			s, ok := e.saleFor(ref)
			switch {
			case !ok:
			case err != nil:
				e.fail("create %s: the reference is taken and reading it failed: %s", ref, explain(err))
				e.later(op, err)
			default:
				e.referenceTaken(s, p)
			}
		}
	})
}

// unreachable ends the sale on the till when Vipps does not answer its
// create: the cashier is not kept waiting; the outbox cancels whatever may
// exist at Vipps.
func (e *Engine) unreachable(s *store.Sale, err error) {
	s.Error = explain(err)
	e.fail("sale %s: %s", s.Reference, s.Error)
	e.phase = PhaseDone
	e.tell(Unreachable)
	e.transition(s, opCancel)
}

// reread settles a sale from a fresh read of its payment.
func (e *Engine) reread(s *store.Sale, wantCapture bool) {
	ref := s.Reference
	sale := *s
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		p, err := e.read(ctx, sale)
		return func() {
			e.noteNetwork(err)
			s, ok := e.saleFor(ref)
			if !ok {
				return
			}
			if err != nil {
				e.fail("reading %s: %s", ref, explain(err))
				for _, id := range e.out.idsFor(ref) {
					e.later(e.out.ops[id], err) // the ops go again, then the read
				}
				return
			}
			e.settle(s, p, wantCapture)
		}
	})
}

// receiptAnswered finishes the eCom receipt: sent once; a 409 means Order
// management has it already.
func (e *Engine) receiptAnswered(op store.Op, s *store.Sale, err error) {
	switch {
	case err != nil && vipps.IsTemporary(err):
		e.later(op, err)
		return
	case err != nil && vipps.StatusOf(err) != 409:
		e.fail("receipt of %s to Vipps: %s", s.Reference, explain(err))
	}
	if _, ferr := e.journal.Finish(*s, []uint64{op.ID}); ferr != nil {
		e.fail("outbox: %v", ferr)
		return
	}
	e.out.remove(op.ID)
}

// readAndSettle settles a sale from a fresh read after a refused operation,
// keeping the op's ID done in the journal when the sale is committed.
func (e *Engine) readAndSettle(ref string, op store.Op) {
	e.out.add(op) // still pending in the journal until the sale commits
	e.out.inflight[op.ID] = true
	cur, ok := e.saleFor(ref)
	if !ok {
		return
	}
	sale := *cur
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		p, err := e.read(ctx, sale)
		return func() {
			delete(e.out.inflight, op.ID)
			e.noteNetwork(err)
			s, ok := e.saleFor(ref)
			if !ok {
				return
			}
			if err != nil {
				e.later(op, err)
				return
			}
			ag := p.Aggregate
			open := p.State == vipps.Created || (p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value)
			if op.Kind == opCancel && open && ag.Captured.Value < s.Amount.Value {
				// Vipps refused the cancel yet the money is still
				// reserved: try again later rather than in a loop.
				e.later(op, fmt.Errorf("cancel refused while the payment is %s", p.State))
				return
			}
			e.settle(s, p, false)
		}
	})
}

// later records a failed attempt and when to try again: exponential backoff
// with jitter, at most 10 s (so an approval never stays reserved long after
// the network is back), and never sooner than Retry-After.
func (e *Engine) later(op store.Op, err error) {
	op.Attempts++
	d := time.Duration(float64(500*time.Millisecond) * math.Pow(2, float64(min(op.Attempts-1, 5))))
	d = min(d, 10*time.Second)
	d = time.Duration(float64(d) * (0.8 + 0.4*e.cfg.Jitter()))
	var ve *vipps.Error
	if errors.As(err, &ve) && ve.RetryAfter > d {
		d = ve.RetryAfter
	}
	op.NextAttempt, op.LastError = e.cfg.Now().Add(d), explain(err)
	e.out.ops[op.ID] = op
	if rerr := e.journal.Retry(op.ID, op.Attempts, op.NextAttempt, op.LastError); rerr != nil && !errors.Is(rerr, store.ErrNoOp) {
		e.fail("outbox: %v", rerr)
	}
}
