package payment

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

const opRefund = "refund"

// refundCtx is the cashier's refund: the scanned receipt's sale as Vipps
// holds it, and the refund once asked for.
type refundCtx struct {
	ref        store.Reference
	msn        string // option A: the origin store's MSN
	api        string // "" (ePayment) or apiECom, where the sale's payment lives
	refundable money.Amount
	amount     money.Amount
	id         string
}

func (rf *refundCtx) lookup() Lookup {
	return Lookup{Reference: rf.ref.String(), OriginStore: rf.ref.Prefix, OriginLane: rf.ref.Lane, Refundable: rf.refundable}
}

// LookUp reads the sale behind a scanned receipt from Vipps, not from this
// register's journal (which may not have it): the outcome says what can be
// refunded. A code that is no reference of this chain is refused at once.
func (e *Engine) LookUp(code string) error {
	ref, err := store.ParseReference(code)
	if err != nil {
		// The parser's message would repeat the whole code: a scanner
		// sends anything, at any length.
		err = fmt.Errorf("scanned code %s is not a receipt reference of the form PREFIX-LANE-TAG-N (e.g. OSLO1-2-k7f3-17)", quoteScan(code))
		e.fail("refund: %v", err)
		e.report(Outcome{Kind: RefundNotOurs})
		return err
	}
	if ref.Prefix != e.cfg.Store && !slices.Contains(e.cfg.ChainStores, ref.Prefix) {
		err := fmt.Errorf("reference %s belongs to store %s, which is not in this chain: check chain.stores in the config", code, ref.Prefix)
		e.fail("refund: %v", err)
		e.report(Outcome{Kind: RefundNotOurs})
		return err
	}
	rf := &refundCtx{ref: ref, msn: e.cfg.ChainMSN[ref.Prefix]}
	e.rf, e.cur, e.phase = rf, nil, PhaseNone
	e.report(Outcome{Kind: RefundReading, Lookup: rf.lookup()})
	if e.viaCentral(ref) {
		e.lookUpCentral(rf)
		return nil
	}
	r := vipps.Request{Method: http.MethodGet, Path: "/epayment/v1/payments/" + code}
	if rf.msn != "" {
		r.Header = http.Header{"Merchant-Serial-Number": {rf.msn}}
	}
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		var p vipps.Payment
		err := e.pay.Do(ctx, r, &p)
		if err == nil {
			err = p.Fits("GET "+code, code, money.Amount{})
		}
		api := ""
		if vipps.StatusOf(err) == 404 {
			// Not an ePayment payment: perhaps the eCom flow's, read with
			// the origin store's MSN as its refund will be (option A).
			sale := store.Sale{Reference: code, Amount: e.amountOf(0), API: apiECom}
			// rf, not e.rf: the loop owns e.rf, and a cancel clears it.
			ep, eerr := e.readECom(ctx, sale, rf.msn)
			if eerr == nil {
				eerr = ep.Fits("details "+code, code, money.Amount{})
			}
			if eerr == nil {
				p, err, api = ep, nil, apiECom
			}
		}
		return func() {
			if e.rf != rf {
				return // the cashier left this refund, or began another
			}
			rf.api = api
			e.noteNetwork(err)
			e.logUnusable(err)
			e.refundRead(rf, p, err)
		}
	})
	return nil
}

// refundRead tells what can be refunded: what Vipps says was captured and
// not yet refunded, whichever register did either.
func (e *Engine) refundRead(rf *refundCtx, p vipps.Payment, err error) {
	code := rf.ref.String()
	if err != nil {
		kind, msg := RefundNoReply, explain(err)
		if vipps.StatusOf(err) == 404 {
			kind, msg = RefundNoSale, fmt.Sprintf("Vipps MobilePay has no payment %s: check the receipt", code)
		}
		e.fail("refund %s: %s", code, msg)
		e.rf = nil
		e.report(Outcome{Kind: kind})
		return
	}
	ag := p.Aggregate
	rf.refundable = money.Amount{Value: ag.Captured.Value - ag.Refunded.Value, Currency: p.Amount.Currency}
	if rf.refundable.Value <= 0 {
		e.fail("refund %s: nothing left to refund (captured %s, refunded %s)", code, ag.Captured, ag.Refunded)
		e.rf = nil
		kind := RefundedInFull
		if ag.Captured.Value == 0 {
			kind = NeverPaid
		}
		e.report(Outcome{Kind: kind})
		return
	}
	e.report(Outcome{Kind: RefundReadable, Lookup: rf.lookup()})
}

// ErrRefundAmount is wrapped when a refund asks for more than is left.
var ErrRefundAmount = fmt.Errorf("refund amount not possible")

// Refund gives a back on the looked-up sale: stored with its request
// before it is sent. a must be positive and at most what is refundable.
func (e *Engine) Refund(a money.Amount) error {
	rf := e.rf
	if rf == nil || rf.refundable.Value <= 0 {
		return fmt.Errorf("no sale to refund: scan the receipt first")
	}
	if a.Value <= 0 || a.Value > rf.refundable.Value {
		err := fmt.Errorf("refund of %s is %w: at most %s is left on %s", a, ErrRefundAmount, rf.refundable, rf.ref)
		e.fail("%v", err)
		return err
	}
	// A reference of this register's own series keys the refund: unique
	// forever, and fixed before the request exists so a retry reuses it.
	id, err := e.journal.NextReference(e.cfg.Store, e.cfg.Lane)
	if err != nil {
		return e.storeFailed(err)
	}
	ref := rf.ref.String()
	var op store.Op
	if rf.api == apiCentral {
		rf.amount, rf.id = a, "refund-"+id
		if op, err = e.centralOp(rf); err != nil {
			return err
		}
	} else if rf.api == apiECom {
		msn := cmp.Or(rf.msn, e.cfg.ECommMSN)
		rf.amount, rf.id = a, "ref-"+id // an X-Request-Id: at most 40 characters
		r, err := vipps.ECommActionRequest(msn, opRefund, ref, rf.id, a.Value)
		if err != nil {
			return err
		}
		op = newOp(opRefund, ref, a.Value, r)
		op.API, op.IdempotencyKey = apiECom, rf.id
	} else {
		rf.amount, rf.id = a, "refund-"+id
		r, err := vipps.RefundRequest(ref, a, rf.id)
		if err != nil {
			return err
		}
		op = newOp(opRefund, ref, a.Value, r)
	}
	op.MSN = rf.msn
	r := store.Refund{ID: rf.id, Reference: ref, Store: e.cfg.Store, Lane: e.cfg.Lane, Amount: a, State: store.RefundPending,
		Cashier: e.cashier}
	ids, err := e.journal.PutRefund(r, op)
	if err != nil {
		return e.storeFailed(err)
	}
	e.phase = PhaseRefunding
	e.report(Outcome{Kind: Refunding, Refund: r})
	e.cfg.Logf("refund %s: %s of sale %s (store %s)", rf.id, a, ref, rf.ref.Prefix)
	e.out.add(e.withIDs(ids, ref)...)
	e.drain()
	return nil
}

// isRefunding reports whether the cashier waits for refund id.
func (e *Engine) isRefunding(id string) bool {
	return e.phase == PhaseRefunding && e.rf != nil && e.rf.id == id
}

// refundAnswered handles Vipps's answer to a refund, whether the cashier
// still waits for it or it was left to the outbox.
func (e *Engine) refundAnswered(op store.Op, err error) {
	if err != nil && vipps.IsTemporary(err) {
		e.later(op, err)
		if e.isRefunding(op.IdempotencyKey) {
			e.report(Outcome{Kind: RefundWaiting, Refund: store.Refund{ID: e.rf.id, Amount: e.rf.amount}})
		}
		return
	}
	if err != nil && op.API != apiECom && !e.out.inflight[op.ID] {
		// Refused for good, says Vipps; but an earlier attempt of the same
		// key may have gone through with its answer lost. The event log
		// knows: check it before recording a failure.
		e.out.inflight[op.ID] = true
		r := vipps.Request{Method: http.MethodGet, Path: "/epayment/v1/payments/" + op.Reference + "/events"}
		if op.MSN != "" {
			r.Header = http.Header{"Merchant-Serial-Number": {op.MSN}}
		}
		e.background(func() func() {
			ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
			defer cancel()
			var events []vipps.Event
			gerr := e.pay.Do(ctx, r, &events)
			return func() {
				delete(e.out.inflight, op.ID)
				switch {
				case gerr != nil:
					e.later(op, gerr) // ask again later; the refund stays pending
				case slices.ContainsFunc(events, func(ev vipps.Event) bool {
					return ev.Name == "REFUNDED" && ev.Success && ev.IdempotencyKey == op.IdempotencyKey
				}):
					e.finishRefund(op, nil)
				default:
					e.finishRefund(op, err)
				}
			}
		})
		return
	}
	e.finishRefund(op, err)
}

// finishRefund records the refund's outcome with its op done, and tells
// the cashier if it is the refund on the till.
func (e *Engine) finishRefund(op store.Op, err error) {
	if _, ok := e.out.ops[op.ID]; !ok {
		return
	}
	current := e.isRefunding(op.IdempotencyKey)
	refunds, rerr := e.journal.RefundsFor(op.Reference)
	if rerr != nil {
		e.fail("refund: %v", rerr)
		return
	}
	i := slices.IndexFunc(refunds, func(r store.Refund) bool { return r.ID == op.IdempotencyKey })
	if i < 0 {
		e.fail("refund %s: no record of it", op.IdempotencyKey)
		return
	}
	r := refunds[i]
	r.State = store.RefundDone
	if err != nil {
		r.State, r.Error = store.RefundFailed, explain(err)
	}
	var ferr error
	if r.State == store.RefundDone {
		// The slip is queued in the same commit: a refund Vipps made
		// always gets its slip, whatever power cut comes next.
		var body []byte
		if body, ferr = json.Marshal(e.slip(r)); ferr == nil {
			_, ferr = e.journal.FinishRefundPrint(r, []uint64{op.ID}, store.PrintJob{Receipt: body})
		}
	} else {
		_, ferr = e.journal.FinishRefund(r, []uint64{op.ID})
	}
	if ferr != nil {
		e.storeFailed(ferr)
		return
	}
	e.out.remove(op.ID)
	e.cfg.Logf("refund %s: %s", r.ID, r.State)
	if r.State == store.RefundDone {
		e.prn.queued++
		e.kickPrinter()
	}
	if !current {
		return
	}
	e.rf, e.phase = nil, PhaseDone
	if err != nil {
		e.fail("refund %s: %s", r.ID, r.Error)
		e.report(Outcome{Kind: RefundRefused, Refund: r})
		return
	}
	e.report(Outcome{Kind: Refunded, Refund: r})
}

// slip is the refund slip for r, printed through the durable print queue.
func (e *Engine) slip(r store.Refund) receipt.Receipt {
	return receipt.Receipt{
		StoreName: e.cfg.StoreName, StoreLines: e.cfg.StoreLines, OrgNumber: e.cfg.OrgNumber,
		Store: e.cfg.Store, Lane: e.cfg.Lane, Reference: r.Reference, OriginStore: r.OriginStore,
		Time: e.cfg.Now(), Currency: r.Amount.Currency,
		Lines: []receipt.Line{{Text: e.cfg.Description, Quantity: 1, Amount: r.Amount.Value, TaxRate: e.cfg.TaxRate}},
		Total: r.Amount.Value, PaymentMethod: "Vipps MobilePay", Refund: true, Cashier: r.Cashier,
	}
}
