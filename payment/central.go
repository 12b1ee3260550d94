package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"kasse/hq"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/store"
)

// Option B: every store is its own sales unit, so this register holds no
// key that can read or refund another store's sale. kassehq at head office
// holds them all; a refund of another store's sale goes there, through the
// outbox like any refund (stored before it leaves, resent with its key).
const (
	apiCentral      = "kassehq"
	opCentralRefund = "hq-refund"
)

// Central is kassehq as the engine uses it (hq.Client).
type Central interface {
	Payment(ctx context.Context, ref string) (hq.Payment, error)
	// Refund sends a RefundRequest's exact bytes, as the outbox keeps them.
	Refund(ctx context.Context, body []byte) (hq.Refund, error)
}

// viaCentral reports whether ref's sale is refunded through kassehq.
func (e *Engine) viaCentral(ref store.Reference) bool {
	return e.cfg.Central != nil && ref.Prefix != e.cfg.Store
}

// lookUpCentral reads another store's sale through kassehq.
func (e *Engine) lookUpCentral(rf *refundCtx) {
	code := rf.ref.String()
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 15*time.Second)
		defer cancel()
		p, err := e.cfg.Central.Payment(ctx, code)
		return func() {
			if e.rf != rf {
				return // the cashier left this refund, or began another
			}
			rf.api = apiCentral
			if err != nil {
				kind := RefundNoReply
				var he *hq.Error
				if errors.As(err, &he) && he.Status == http.StatusNotFound {
					kind = RefundNoSale
				}
				e.fail("refund %s: %v", code, err)
				e.rf = nil
				e.report(Outcome{Kind: kind})
				return
			}
			cur := p.Amount.Currency
			e.refundRead(rf, vipps.Payment{Reference: code, State: p.State, Amount: p.Amount, Aggregate: vipps.Aggregate{
				Captured: money.Amount{Value: p.Captured.Value, Currency: cur}, Refunded: money.Amount{Value: p.Refunded.Value, Currency: cur}}}, nil)
		}
	})
}

// centralOp is the refund request for kassehq, keyed like any refund.
func (e *Engine) centralOp(rf *refundCtx) (store.Op, error) {
	ref := rf.ref.String()
	body, err := json.Marshal(hq.RefundRequest{IdempotencyKey: rf.id, Reference: ref, Amount: rf.amount,
		Store: e.cfg.Store, Lane: e.cfg.Lane, Cashier: e.cashier})
	if err != nil {
		return store.Op{}, fmt.Errorf("refund %s: %w", rf.id, err)
	}
	return store.Op{Reference: ref, Kind: opCentralRefund, API: apiCentral, IdempotencyKey: rf.id,
		Method: http.MethodPost, Path: hq.PathRefunds, Body: body, Amount: rf.amount.Value}, nil
}

// sendCentral sends a stored refund request to kassehq.
func (e *Engine) sendCentral(op store.Op) {
	if e.cfg.Central == nil {
		// refund.via was "central" when this refund was stored: it waits
		// until kassehq is configured again, never goes elsewhere.
		e.later(op, errors.New("refund.via is no longer \"central\": this refund waits for kassehq; set refund.via back"))
		return
	}
	e.out.inflight[op.ID] = true
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 30*time.Second)
		defer cancel()
		r, err := e.cfg.Central.Refund(ctx, op.Body)
		return func() {
			delete(e.out.inflight, op.ID)
			e.centralAnswered(op, r, err)
		}
	})
}

// centralAnswered records kassehq's answer. kassehq answers a retry of the
// same key with the first attempt's result, so "no answer" is always
// retried, never guessed.
func (e *Engine) centralAnswered(op store.Op, r hq.Refund, err error) {
	if _, ok := e.out.ops[op.ID]; !ok {
		return // finished meanwhile
	}
	var he *hq.Error
	switch {
	case err == nil && r.State == hq.StateDone:
		e.finishRefund(op, nil)
	case err == nil:
		e.finishRefund(op, fmt.Errorf("kassehq refused the refund: %s", r.Error))
	case errors.As(err, &he) && he.Denied() && op.Attempts == 0:
		// kassehq turned the first attempt away at the door: nothing
		// reached its journal, so nothing can have been refunded.
		e.finishRefund(op, err)
	case errors.As(err, &he) && (he.Temporary() || he.Denied()):
		// A later attempt may follow one whose answer was lost: kassehq
		// may have refunded, so the refund waits (for a new certificate)
		// rather than being recorded as failed.
		e.later(op, err)
		if o := e.out.ops[op.ID]; he.RetryAfter > 0 && o.NextAttempt.Before(e.cfg.Now().Add(he.RetryAfter)) {
			o.NextAttempt = e.cfg.Now().Add(he.RetryAfter)
			e.out.ops[op.ID] = o
		}
		e.cfg.Logf("refund %s: %v: resent with the same key", op.IdempotencyKey, err)
		if e.isRefunding(op.IdempotencyKey) {
			e.report(Outcome{Kind: RefundWaiting, Refund: store.Refund{ID: e.rf.id, Amount: e.rf.amount}})
		}
	default:
		e.finishRefund(op, err)
	}
}
