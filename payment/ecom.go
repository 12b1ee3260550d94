package payment

import (
	"context"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/store"
)

// The eCom v2 flow, as the provider's POS guidance describes it: initiate a
// payment with its landing page, show a one-time QR of that page (QR API),
// follow /details, capture, and send the receipt to Order management. It
// shares the till's outbox and its decisions with ePayment; the differences
// are here: how requests are built, and how /details maps to a state.

const (
	opInitiate = "ecom-initiate"
	opReceipt  = "receipt"
	apiECom    = "ecom"
)

// ecomKey is an X-Request-Id (at most 40 characters).
func ecomKey(op, ref string) string { return op[:3] + "-" + ref }

// ecomInitiate is the first intent of an eCom sale.
func (e *Engine) ecomInitiate(ref string, a money.Amount) (store.Op, error) {
	r, err := vipps.ECommInitiateRequest(e.cfg.ECommMSN, vipps.ECommPayment{
		OrderID: ref, Amount: a.Value, TransactionText: e.cfg.Description,
		CallbackPrefix: e.cfg.ECommCallback, FallBack: e.cfg.ECommFallBack,
	})
	op := newOp(opInitiate, ref, a.Value, r)
	op.API = apiECom
	return op, err
}

// ecomOp builds a capture or cancel of an eCom payment.
func (e *Engine) ecomOp(kind string, s *store.Sale) (store.Op, error) {
	amount := s.Amount.Value
	r, err := vipps.ECommActionRequest(e.cfg.ECommMSN, kind, s.Reference, ecomKey(kind, s.Reference), amount)
	r.IdempotencyKey = "" // eCom carries its key as X-Request-Id
	op := newOp(kind, s.Reference, amount, r)
	op.API, op.IdempotencyKey = apiECom, ecomKey(kind, s.Reference)
	return op, err
}

// ecomReceipt is the receipt for Order management, sent once after capture.
func (e *Engine) ecomReceipt(s *store.Sale) (store.Op, error) {
	r, err := vipps.ReceiptRequest(s.Reference, *e.vippsReceipt(s.Reference, s.Amount))
	op := newOp(opReceipt, s.Reference, 0, r)
	op.API = apiECom
	return op, err
}

// readECom reads /details and states it the way ePayment would, so one
// settle serves both APIs.
func (e *Engine) readECom(ctx context.Context, s store.Sale, msn string) (vipps.Payment, error) {
	d, err := e.pay.ECommDetails(ctx, msn, s.Reference)
	if err != nil {
		return vipps.Payment{}, err
	}
	of := func(v int64) money.Amount { return money.Amount{Value: v, Currency: s.Amount.Currency} }
	amount := s.Amount
	if amount.Value == 0 {
		amount.Value = d.Reserved // a scanned receipt's sale: as much as was approved
	}
	p := vipps.Payment{Reference: d.OrderID, Amount: amount, Aggregate: vipps.Aggregate{
		Authorized: of(d.Reserved), Captured: of(d.Captured), Refunded: of(d.Refunded), Cancelled: of(d.Cancelled)}}
	switch d.Status {
	case vipps.ECommPending:
		p.State = vipps.Created
	case vipps.ECommReserved:
		p.State = vipps.Authorized
	case vipps.ECommFailed:
		p.State = vipps.Aborted
	default:
		// Cancelled: by us, or by the provider's 5 + 5 minute timeout.
		p.State = vipps.Terminated
		if e.cfg.Now().Sub(s.Created) >= 5*time.Minute {
			p.State = vipps.Expired
		}
	}
	return p, nil
}

// read gets a payment's truth from whichever API holds it, checked to fit
// the sale: a reply about another payment, or one that does not add up, is
// no answer (DESIGN.md, money invariant 8).
func (e *Engine) read(ctx context.Context, s store.Sale) (vipps.Payment, error) {
	var p vipps.Payment
	var err error
	if s.API == apiECom {
		p, err = e.readECom(ctx, s, "")
	} else {
		p, err = e.pay.Get(ctx, s.Reference)
	}
	if err == nil {
		err = p.Fits("read "+s.Reference, s.Reference, s.Amount)
	}
	return p, err
}

// showECommQR turns the landing page into a one-time QR (drawn from the
// target URL, or the QR API's image).
func (e *Engine) showECommQR(ref, landing string) {
	format := vipps.QRTargetURL
	if e.cfg.ECommImage {
		format = vipps.QRPNG
	}
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		qr, err := e.pay.OneTimeQR(ctx, landing, format, max(e.cfg.QRSize, 100))
		return func() {
			if !e.isCurrent(ref) || e.phase != PhaseWaiting {
				return
			}
			if err != nil {
				e.fail("QR for %s: %s", ref, explain(err))
				e.abandon("the QR code could not be made")
				return
			}
			if format == vipps.QRPNG {
				e.fetchQR(ref, qr.URL)
				return
			}
			e.qr = qr.URL
			e.waiting()
		}
	})
}

// initiateUnclear handles an initiate with no clear answer. It is not
// idempotent, so it is never resent blindly: /details says whether it
// arrived. Unknown there: it may go again. Known: the payment exists but
// its landing page is lost, so it is cancelled.
func (e *Engine) initiateUnclear(op store.Op, s *store.Sale, cause error) {
	e.out.inflight[op.ID] = true
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		_, err := e.pay.ECommDetails(ctx, "", op.Reference)
		return func() {
			delete(e.out.inflight, op.ID)
			e.noteNetwork(err)
			switch {
			case !e.isCurrent(op.Reference) || e.phase != PhaseCreating:
			case vipps.StatusOf(err) == 404:
				e.later(op, cause) // never arrived: the drain may send it again
				if e.out.ops[op.ID].Attempts >= 3 {
					e.unreachable(s, cause)
				}
			case err != nil:
				e.later(op, cause)
				e.unreachable(s, cause)
			default:
				e.abandon("the payment started but its answer was lost")
			}
		}
	})
}
