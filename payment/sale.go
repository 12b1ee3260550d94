package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Idempotency keys are derived from the reference and the operation, so
// the key of an intent is known before it is stored (Vipps allows 50
// characters; references are at most 40 here).
func idemKey(op, ref string) string { return op + "-" + ref }

// Operation kinds in the outbox.
const (
	opCreate  = "create"
	opCapture = "capture"
	opCancel  = "cancel"
)

func newOp(kind, ref string, amount int64, r vipps.Request) store.Op {
	return store.Op{Reference: ref, Kind: kind, API: "epayment", IdempotencyKey: r.IdempotencyKey,
		Method: r.Method, Path: r.Path, Body: r.Body, Amount: amount}
}

// Why Sell refuses a sale.
var (
	ErrBelowMinimum = errors.New("below the eCom minimum of 1,00: use another payment method")
	ErrUnreachable  = errors.New("vipps MobilePay is unreachable: use another payment method")
	ErrJournal      = errors.New("the sale log cannot be written")
)

// Sell creates a payment of a: a QR (drawn or fetched) by default, or a
// push to phone (country code and number) when the cashier keyed one. The
// sale and its create intent are committed before the request leaves.
func (e *Engine) Sell(a money.Amount, phone string) error { return e.sell(a, phone, false) }

// sell starts the cashier's sale; remote is a distance sale (SellRemote).
func (e *Engine) sell(a money.Amount, phone string, remote bool) error {
	if e.cfg.Flow == apiECom && phone == "" && a.Value < 100 {
		err := fmt.Errorf("amount %s is %w", a, ErrBelowMinimum)
		e.fail("%v", err)
		return err
	}
	if !e.out.online {
		// Never a spinner: a wallet payment cannot be authorised offline.
		e.fail("Vipps MobilePay is unreachable: sale refused")
		return ErrUnreachable
	}
	var build error
	var sent []byte // the body that leaves, when it differs from the stored one
	sale, ids, err := e.journal.NewSale(e.cfg.Store, e.cfg.Lane, func(ref string) (store.Sale, []store.Op) {
		now := e.cfg.Now()
		s := store.Sale{Reference: ref, Store: e.cfg.Store, Lane: e.cfg.Lane, Amount: a,
			State: store.StateCreated, Created: now, Updated: now, Cashier: e.cashier, Remote: remote}
		p := vipps.CreatePayment{
			Amount:              a,
			PaymentMethod:       vipps.PaymentMethod{Type: "WALLET"},
			Reference:           ref,
			UserFlow:            "QR",
			CustomerInteraction: "CUSTOMER_PRESENT",
			QRFormat:            &vipps.QRFormat{Format: "TEXT/TARGETURL"},
			PaymentDescription:  e.cfg.Description,
			Receipt:             e.vippsReceipt(ref, a),
		}
		if remote {
			p.CustomerInteraction, p.PaymentDescription = "CUSTOMER_NOT_PRESENT", e.remoteDescription(ref)
		}
		switch {
		case phone != "":
			p.UserFlow, p.QRFormat, p.Customer = "PUSH_MESSAGE", nil, &vipps.Customer{PhoneNumber: phone}
		case e.cfg.Flow == "qr-image":
			p.QRFormat = &vipps.QRFormat{Format: "IMAGE/PNG", Size: max(e.cfg.QRSize, 100)}
		case e.cfg.Flow == apiECom:
			s.API = apiECom
			op, err := e.ecomInitiate(ref, a)
			build = err
			return s, []store.Op{op}
		}
		r, err := vipps.CreateRequest(p, idemKey(opCreate, ref))
		build = err
		if phone != "" && !e.cfg.KeepPhone {
			// The number is for this one request: the outbox keeps the
			// intent with the number blanked. A create is never resent
			// after a restart (the payment is read instead), so the
			// stored body never needs it.
			sent = r.Body
			p.Customer.PhoneNumber = "0000000000"
			stored, err := vipps.CreateRequest(p, r.IdempotencyKey)
			r.Body, build = stored.Body, errors.Join(build, err)
		}
		if e.cfg.KeepPhone {
			s.Phone = phone
		}
		return s, []store.Op{newOp(opCreate, ref, a.Value, r)}
	})
	if err == nil {
		err = build
	}
	if err != nil {
		return e.storeFailed(err)
	}
	e.cur, e.phase, e.qr, e.qrImg, e.push = &sale, PhaseCreating, "", nil, phone != ""
	e.pollAt = time.Time{}
	e.cancel, e.netWait = false, false
	e.tell(Creating)
	e.cfg.Logf("sale %s: creating payment of %s", sale.Reference, a)
	ops := e.withIDs(ids, sale.Reference)
	for i := range ops {
		if sent != nil {
			ops[i].Body = sent // in memory only, for this run's resends
		}
	}
	e.out.add(ops...)
	e.drain()
	return nil
}

// withIDs reads back the ops just stored for ref (their IDs are in ids).
func (e *Engine) withIDs(ids []uint64, ref string) []store.Op {
	ops, err := e.journal.Pending()
	if err != nil {
		e.fail("outbox: %v", err)
		return nil
	}
	want := map[uint64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []store.Op
	for _, op := range ops {
		if want[op.ID] && op.Reference == ref {
			out = append(out, op)
		}
	}
	return out
}

func (e *Engine) storeFailed(err error) error {
	e.fail("sale log: %v", err)
	e.phase = PhaseDone
	e.tell(RegisterFault)
	return fmt.Errorf("%w: %w", ErrJournal, err)
}

// created handles the answer to the cashier's sale's create.
func (e *Engine) created(p reply) {
	e.cur.VippsState = vipps.Created
	if e.cancel {
		e.abandon("cancelled by the cashier")
		return
	}
	if e.cur.API == apiECom {
		p.RedirectURL = p.URL // the landing page, turned into a QR below
	}
	if p.RedirectURL == "" && !e.push {
		e.fail("create %s: the reply has no redirectUrl", e.cur.Reference)
		e.abandon("Vipps MobilePay sent no QR code")
		return
	}
	e.phase, e.cur.State = PhaseWaiting, store.StateWaiting
	switch {
	case e.push:
	case e.cur.API == apiECom:
		e.showECommQR(e.cur.Reference, p.RedirectURL)
	case e.cfg.Flow == "qr-image":
		e.fetchQR(e.cur.Reference, p.RedirectURL)
	default:
		e.qr = p.RedirectURL
	}
	e.waiting()
	e.cfg.Logf("sale %s: waiting for the shopper", e.cur.Reference)
	e.schedulePoll(e.cur.Reference)
}

// fetchQR gets Vipps's QR image (no credentials: the URL is the secret).
func (e *Engine) fetchQR(ref, url string) {
	e.background(func() func() {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		img, err := e.pay.FetchImage(ctx, url)
		return func() {
			if !e.isCurrent(ref) || e.phase != PhaseWaiting {
				return
			}
			if err != nil {
				e.fail("QR image for %s: %v", ref, err)
				e.abandon("the QR image could not be fetched")
				return
			}
			e.qrImg = img
			e.waiting()
		}
	})
}

// waiting tells what the shopper acts on while the payment is open.
func (e *Engine) waiting() {
	e.netWait = false
	o := Outcome{Kind: ShowQR, Sale: *e.cur, QR: e.qr, QRImage: e.qrImg}
	switch {
	case e.qrImg != nil || e.qr != "":
	case (e.cfg.Flow == "qr-image" || e.cfg.Flow == apiECom) && !e.push:
		o.Kind = Preparing
	default:
		o.Kind = PushSent
	}
	e.report(o)
}

// schedulePoll reads the cashier's payment at the next beat of a fixed
// period that starts with the first poll: a slow reply does not stretch the
// period, a slot missed while a reply was late is skipped (never made up in
// a burst), and the next GET leaves only after the last one was answered.
func (e *Engine) schedulePoll(ref string) {
	sale := *e.cur
	now, every := e.cfg.Now(), e.cfg.PollInterval
	if e.pollAt.IsZero() {
		e.pollAt = now.Add(every) // the first poll: one period after the QR
	} else if !e.pollAt.After(now) {
		missed := now.Sub(e.pollAt)/every + 1
		e.pollAt = e.pollAt.Add(missed * every)
	}
	wait := e.pollAt.Sub(now)
	e.background(func() func() {
		select {
		case <-e.cfg.After(wait):
		case <-e.ctx.Done():
			return func() {}
		}
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		p, err := e.read(ctx, sale)
		return func() { e.polled(ref, p, err) }
	})
}

func (e *Engine) polled(ref string, p vipps.Payment, err error) {
	if !e.isCurrent(ref) || e.phase != PhaseWaiting {
		return
	}
	e.noteNetwork(err)
	e.logUnusable(err)
	if err != nil {
		if vipps.IsTemporary(err) {
			// The shopper's phone has its own network: keep reading, and
			// say why the QR is gone meanwhile.
			if !e.netWait {
				e.netWait = true
				e.tell(NetworkDown)
			}
			e.fail("reading payment %s: %s", ref, explain(err))
			e.schedulePoll(ref)
			return
		}
		e.fail("reading payment %s: %s", ref, explain(err))
		e.abandon(explain(err))
		return
	}
	if e.netWait {
		e.waiting()
	}
	e.cur.VippsState = p.State
	if p.State == vipps.Created {
		if e.cfg.Now().Sub(e.cur.Created) > e.cfg.PaymentLife {
			e.fail("payment %s still pending after %s: cancelling it", ref, e.cfg.PaymentLife)
			e.abandon("the payment did not end in time")
			return
		}
		e.schedulePoll(ref)
		return
	}
	// The cashier is still at the till waiting: an approval is captured.
	e.settle(e.cur, p, true)
}

// Cancel cancels the cashier's sale: at once while its QR is shown, or as
// soon as the create's answer arrives.
func (e *Engine) Cancel() {
	switch e.phase {
	case PhaseCreating:
		e.cancel = true // acted on when the create answer arrives
		e.tell(Cancelling)
	case PhaseWaiting:
		e.abandon("cancelled by the cashier")
	}
}

// abandon ends the cashier's sale without a capture: the create leaves the
// outbox and a cancel takes its place, committed before it is sent.
func (e *Engine) abandon(why string) {
	s := e.cur
	e.cfg.Logf("sale %s: cancelling (%s)", s.Reference, why)
	if why != "cancelled by the cashier" {
		s.Error = why
	}
	e.phase = PhaseCancelling
	e.tell(Cancelling)
	e.transition(s, opCancel)
}

// transition commits s with all its pending ops done and, if next is set,
// the next operation queued, then sends it.
func (e *Engine) transition(s *store.Sale, next string) {
	var ops []store.Op
	switch {
	case next != "" && s.API == apiECom:
		op, err := e.ecomOp(next, s)
		if err != nil {
			e.fail("%s %s: %v", next, s.Reference, err)
			return
		}
		ops = append(ops, op)
	case next == opCancel:
		ops = append(ops, newOp(opCancel, s.Reference, 0, vipps.CancelRequest(s.Reference, idemKey(opCancel, s.Reference))))
	case next == opCapture:
		r, err := vipps.CaptureRequest(s.Reference, s.Amount, idemKey(opCapture, s.Reference))
		if err != nil {
			e.fail("capture %s: %v", s.Reference, err)
			return
		}
		ops = append(ops, newOp(opCapture, s.Reference, s.Amount.Value, r))
	}
	done := e.out.idsFor(s.Reference)
	ids, err := e.journal.Finish(*s, done, ops...)
	if err != nil {
		e.storeFailed(err)
		return
	}
	e.out.remove(done...)
	e.out.add(e.withIDs(ids, s.Reference)...)
	e.drain()
}

// settle drives a sale to where Vipps's truth p says it is; p has been
// checked to fit the sale (vipps.Payment.Fits). wantCapture is the engine's
// decision: capture an approval (the cashier saw it through), or release it
// (the sale was abandoned).
func (e *Engine) settle(s *store.Sale, p vipps.Payment, wantCapture bool) {
	s.VippsState = p.State
	ag := p.Aggregate
	switch {
	case p.State == vipps.Created:
		e.transition(s, opCancel) // abandoned while the QR may still be scanned
	case ag.Captured.Value > 0 && s.State != store.StateAuthorized && s.State != store.StateCaptured:
		// This register never decided to capture it, so the money moved
		// under an earlier use of the reference: never "paid" for this sale.
		e.referenceTaken(s, p)
	case ag.Captured.Value == s.Amount.Value:
		e.captured(s)
	case p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value:
		if wantCapture && e.waitsForDispatch(s) {
			e.reserve(s)
			return
		}
		if wantCapture {
			e.cfg.Logf("capture %s decided", s.Reference)
			s.State, s.Authorized = store.StateAuthorized, e.cfg.Now()
			current := e.isCurrent(s.Reference)
			if current {
				e.phase = PhaseCapturing
			}
			// The capture leaves first; the screen is drawn while it is
			// on its way.
			e.transition(s, opCapture)
			if current && e.phase == PhaseCapturing {
				e.tell(Approved)
			}
		} else {
			e.transition(s, opCancel)
		}
	case p.State == vipps.Authorized || p.State == vipps.Terminated:
		e.end(s, store.StateCancelled, Cancelled)
	case p.State == vipps.Aborted:
		e.end(s, store.StateAborted, Stopped)
	case p.State == vipps.Expired:
		e.end(s, store.StateExpired, Expired)
	}
}

// referenceTaken handles a reference Vipps already holds from an earlier
// use: a database restored from an older copy, whose counter was used since.
// The journal records Vipps's payment as it is (no receipt: it was printed
// then), an open one is cancelled like any abandoned payment, and the
// cashier's sale starts again under a new reference.
func (e *Engine) referenceTaken(s *store.Sale, p vipps.Payment) {
	keyed, current, push := s.Amount, e.isCurrent(s.Reference), e.push
	ag := p.Aggregate
	e.cfg.Logf("sale %s: Vipps MobilePay already has this reference from an earlier use (%s, %s, captured %s): "+
		"was kasse.db restored from an older copy? Recording Vipps's payment as it is", s.Reference, p.State, p.Amount, ag.Captured)
	old := *s
	old.Amount, old.VippsState = p.Amount, p.State
	old.Error = "reference used before: recorded as Vipps MobilePay holds it"
	if current {
		e.cur = nil // the cashier's sale is not this payment
	}
	open := p.State == vipps.Created || (p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value)
	switch {
	case ag.Captured.Value > 0 && !open:
		now := e.cfg.Now()
		old.State, old.Captured, old.Ended = store.StateCaptured, now, now
		e.finishQuietly(&old)
	case open:
		e.transition(&old, opCancel)
	default:
		old.State, old.Ended = store.StateCancelled, e.cfg.Now()
		e.finishQuietly(&old)
	}
	if !current {
		return
	}
	if push {
		// The shopper's number is gone (never stored): the cashier keys it again.
		e.phase = PhaseDone
		e.fail("sale %s: reference used before; key the sale again", s.Reference)
		e.report(Outcome{Kind: NotCompleted, Sale: store.Sale{Amount: keyed}})
		return
	}
	e.report(Outcome{Kind: Restarting, Sale: store.Sale{Amount: keyed}})
	_ = e.Sell(keyed, "") // its own errors are reported
}

// finishQuietly commits s with its pending operations done and no outcome.
func (e *Engine) finishQuietly(s *store.Sale) {
	done := e.out.idsFor(s.Reference)
	if _, err := e.journal.Finish(*s, done); err != nil {
		e.fail("sale log: %v", err)
		return
	}
	e.out.remove(done...)
}

// captured completes a sale: capture confirmed, "paid" shown, then the
// receipt queued in one commit.
func (e *Engine) captured(s *store.Sale) {
	now := e.cfg.Now()
	s.State, s.Captured, s.Ended, s.Error = store.StateCaptured, now, now, ""
	// Vipps confirmed the capture, so the money moved: the cashier sees
	// "paid" before the commit that records it. A crash before that commit
	// resends the capture under its key, gets the same answer, and prints
	// the original then; the intent was committed before the capture left.
	if e.isCurrent(s.Reference) && e.phase != PhaseDone {
		e.phase = PhaseDone
		e.tell(Paid)
	}
	body, err := json.Marshal(e.receipt(s, now))
	if err != nil {
		e.fail("receipt for %s: %v", s.Reference, err)
		return
	}
	done := e.out.idsFor(s.Reference)
	// With the printer idle the receipt goes out right after this commit,
	// so it is marked Sent here and costs no commit of its own.
	e.watchPrinter()
	job := store.PrintJob{Reference: s.Reference, Receipt: body, Sent: e.prn.idle(now)}
	var next []store.Op
	if s.API == apiECom {
		op, err := e.ecomReceipt(s)
		if err != nil {
			e.fail("receipt for %s: %v", s.Reference, err)
		} else {
			next = append(next, op)
		}
	}
	ids, job, err := e.journal.FinishReceipt(*s, done, job, next...)
	if err != nil {
		e.storeFailed(err)
		return
	}
	s.Receipt = job.Number
	e.out.remove(done...)
	e.out.add(e.withIDs(ids, s.Reference)...)
	e.prn.queued++
	if job.Sent {
		e.printJob(job)
	}
	e.cfg.Logf("sale %s: captured %s", s.Reference, s.Amount)
}

func (e *Engine) receipt(s *store.Sale, at time.Time) receipt.Receipt {
	return receipt.Receipt{
		StoreName: e.cfg.StoreName, StoreLines: e.cfg.StoreLines, OrgNumber: e.cfg.OrgNumber,
		Store: s.Store, Lane: s.Lane, Reference: s.Reference, Time: at, Currency: s.Amount.Currency,
		// What was sold: the description the sale was keyed under (the
		// till keys amounts, not articles), as in the app.
		Lines:         []receipt.Line{{Text: e.cfg.Description, Quantity: 1, Amount: s.Amount.Value, TaxRate: e.cfg.TaxRate}},
		Total:         s.Amount.Value,
		PaymentMethod: "Vipps MobilePay",
		Cashier:       s.Cashier,
	}
}

// vippsReceipt is the receipt the shopper sees in the app, sent with the
// create call as the provider asks for ePayment: posId is the lane,
// receiptNumber the reference.
func (e *Engine) vippsReceipt(ref string, a money.Amount) *vipps.Receipt {
	vat := money.VAT(a.Value, e.cfg.TaxRate)
	return &vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Sale", ID: "1", TotalAmount: a.Value,
			TotalAmountExcludingTax: a.Value - vat, TotalTaxAmount: vat, TaxRate: e.cfg.TaxRate}},
		BottomLine: vipps.BottomLine{Currency: a.Currency, PosID: e.cfg.Lane, ReceiptNumber: ref},
	}
}

// end finishes a sale that moved no money, and tells its outcome if it is
// the cashier's.
func (e *Engine) end(s *store.Sale, state string, kind Kind) {
	now := e.cfg.Now()
	s.State, s.Ended = state, now
	done := e.out.idsFor(s.Reference)
	if _, err := e.journal.Finish(*s, done); err != nil {
		e.storeFailed(err)
		return
	}
	e.out.remove(done...)
	e.cfg.Logf("sale %s: %s", s.Reference, state)
	// An outcome already told (e.g. "unreachable") stays; the outbox
	// finished the rest quietly.
	if e.isCurrent(s.Reference) && e.phase != PhaseDone {
		e.phase = PhaseDone
		e.tell(kind)
	}
}
