package till

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
func (t *Till) ecomInitiate(ref string, a money.Amount) (store.Op, error) {
	r, err := vipps.ECommInitiateRequest(t.cfg.ECommMSN, vipps.ECommPayment{
		OrderID: ref, Amount: a.Value, TransactionText: t.cfg.Description,
		CallbackPrefix: t.cfg.ECommCallback, FallBack: t.cfg.ECommFallBack,
	})
	op := newOp(opInitiate, ref, a.Value, r)
	op.API = apiECom
	return op, err
}

// ecomOp builds a capture or cancel of an eCom payment.
func (t *Till) ecomOp(kind string, s *store.Sale) (store.Op, error) {
	amount := s.Amount.Value
	r, err := vipps.ECommActionRequest(t.cfg.ECommMSN, kind, s.Reference, ecomKey(kind, s.Reference), amount)
	r.IdempotencyKey = "" // eCom carries its key as X-Request-Id
	op := newOp(kind, s.Reference, amount, r)
	op.API, op.IdempotencyKey = apiECom, ecomKey(kind, s.Reference)
	return op, err
}

// ecomReceipt is the receipt for Order management, sent once after capture.
func (t *Till) ecomReceipt(s *store.Sale) (store.Op, error) {
	r, err := vipps.ReceiptRequest(s.Reference, *t.vippsReceipt(s.Reference, s.Amount))
	op := newOp(opReceipt, s.Reference, 0, r)
	op.API = apiECom
	return op, err
}

// readECom reads /details and states it the way ePayment would, so one
// settle serves both APIs.
func (t *Till) readECom(ctx context.Context, s store.Sale, msn string) (vipps.Payment, error) {
	d, err := t.pay.ECommDetails(ctx, msn, s.Reference)
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
		if t.cfg.Now().Sub(s.Created) >= 5*time.Minute {
			p.State = vipps.Expired
		}
	}
	return p, nil
}

// read gets a payment's truth from whichever API holds it, checked to fit
// the sale: a reply about another payment, or one that does not add up, is
// no answer (DESIGN.md, money invariant 8).
func (t *Till) read(ctx context.Context, s store.Sale) (vipps.Payment, error) {
	var p vipps.Payment
	var err error
	if s.API == apiECom {
		p, err = t.readECom(ctx, s, "")
	} else {
		p, err = t.pay.Get(ctx, s.Reference)
	}
	if err == nil {
		err = p.Fits("read "+s.Reference, s.Reference, s.Amount)
	}
	return p, err
}

// showECommQR turns the landing page into a one-time QR (drawn from the
// target URL, or the QR API's image).
func (t *Till) showECommQR(ref, landing string) {
	format := vipps.QRTargetURL
	if t.cfg.ECommImage {
		format = vipps.QRPNG
	}
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		qr, err := t.pay.OneTimeQR(ctx, landing, format, max(t.cfg.QRSize, 100))
		return func() {
			if !t.isCurrent(ref) || t.state != StateWaiting {
				return
			}
			if err != nil {
				t.fail("QR for %s: %s", ref, explain(err))
				t.abandon("the QR code could not be made")
				return
			}
			if format == vipps.QRPNG {
				t.fetchQR(ref, qr.URL)
				return
			}
			t.qr = qr.URL
			t.waitScreen()
		}
	})
}

// initiateUnclear handles an initiate with no clear answer. It is not
// idempotent, so it is never resent blindly: /details says whether it
// arrived. Unknown there: it may go again. Known: the payment exists but
// its landing page is lost, so it is cancelled.
func (t *Till) initiateUnclear(op store.Op, s *store.Sale, cause error) {
	t.out.inflight[op.ID] = true
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		_, err := t.pay.ECommDetails(ctx, "", op.Reference)
		return func() {
			delete(t.out.inflight, op.ID)
			t.noteNetwork(err)
			switch {
			case !t.isCurrent(op.Reference) || t.state != StateCreating:
			case vipps.StatusOf(err) == 404:
				t.later(op, cause) // never arrived: the drain may send it again
				if t.out.ops[op.ID].Attempts >= 3 {
					t.unreachable(s, cause)
				}
			case err != nil:
				t.later(op, cause)
				t.unreachable(s, cause)
			default:
				t.abandon("the payment started but its answer was lost")
			}
		}
	})
}
