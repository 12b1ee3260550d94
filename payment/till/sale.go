package till

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kasse/display"
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

// startSale creates the payment: a QR (drawn or fetched) by default, or a
// push to phone (MSISDN) when the cashier keyed one.
func (t *Till) startSale(phone string) error {
	a := t.amount()
	if err := a.Check(); err != nil {
		t.state = StateDone
		t.fail("%v", err)
		t.show(display.Screen{Kind: display.Error, Title: "Check the amount", Message: sayBadAmount})
		return err
	}
	if t.cfg.Flow == apiECom && phone == "" && a.Value < 100 {
		t.state = StateDone
		err := fmt.Errorf("amount %s is below the eCom minimum of 1,00: use another payment method", a)
		t.fail("%v", err)
		t.show(display.Screen{Kind: display.Error, Title: "Check the amount", Message: sayBadAmount})
		return err
	}
	if !t.out.online {
		// Never a spinner: a wallet payment cannot be authorised offline.
		t.state = StateDone
		t.fail("Vipps MobilePay is unreachable: sale refused")
		t.show(display.Screen{Kind: display.Error, Title: "Vipps is unreachable", Amount: a.String(),
			Message: sayUnreachable})
		return fmt.Errorf("vipps MobilePay is unreachable: use another payment method")
	}
	var build error
	var sent []byte // the body that leaves, when it differs from the stored one
	sale, ids, err := t.journal.NewSale(t.cfg.Store, t.cfg.Lane, func(ref string) (store.Sale, []store.Op) {
		now := t.cfg.Now()
		s := store.Sale{Reference: ref, Store: t.cfg.Store, Lane: t.cfg.Lane, Amount: a,
			State: SaleCreated, Created: now, Updated: now}
		p := vipps.CreatePayment{
			Amount:              a,
			PaymentMethod:       vipps.PaymentMethod{Type: "WALLET"},
			Reference:           ref,
			UserFlow:            "QR",
			CustomerInteraction: "CUSTOMER_PRESENT",
			QRFormat:            &vipps.QRFormat{Format: "TEXT/TARGETURL"},
			PaymentDescription:  t.cfg.Description,
			Receipt:             t.vippsReceipt(ref, a),
		}
		switch {
		case phone != "":
			p.UserFlow, p.QRFormat, p.Customer = "PUSH_MESSAGE", nil, &vipps.Customer{PhoneNumber: phone}
		case t.cfg.Flow == "qr-image":
			p.QRFormat = &vipps.QRFormat{Format: "IMAGE/PNG", Size: max(t.cfg.QRSize, 100)}
		case t.cfg.Flow == apiECom:
			s.API = apiECom
			op, err := t.ecomInitiate(ref, a)
			build = err
			return s, []store.Op{op}
		}
		r, err := vipps.CreateRequest(p, idemKey(opCreate, ref))
		build = err
		if phone != "" && !t.cfg.KeepPhone {
			// The number is for this one request: the outbox keeps the
			// intent with the number blanked. A create is never resent
			// after a restart (the payment is read instead), so the
			// stored body never needs it.
			sent = r.Body
			p.Customer.PhoneNumber = "0000000000"
			stored, err := vipps.CreateRequest(p, r.IdempotencyKey)
			r.Body, build = stored.Body, errors.Join(build, err)
		}
		if t.cfg.KeepPhone {
			s.Phone = phone
		}
		return s, []store.Op{newOp(opCreate, ref, a.Value, r)}
	})
	if err == nil {
		err = build
	}
	if err != nil {
		return t.storeFailed(err)
	}
	t.sale, t.qr, t.qrImg, t.push = &sale, "", nil, phone != ""
	t.state, t.cancel, t.lastErr = StateCreating, false, ""
	t.show(display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: a.String()})
	t.cfg.Logf("sale %s: creating payment of %s", sale.Reference, a)
	ops := t.withIDs(ids, sale.Reference)
	for i := range ops {
		if sent != nil {
			ops[i].Body = sent // in memory only, for this run's resends
		}
	}
	t.out.add(ops...)
	t.drain()
	return nil
}

// withIDs reads back the ops just stored for ref (their IDs are in ids).
func (t *Till) withIDs(ids []uint64, ref string) []store.Op {
	ops, err := t.journal.Pending()
	if err != nil {
		t.fail("outbox: %v", err)
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

func (t *Till) storeFailed(err error) error {
	t.state = StateDone
	t.fail("sale log: %v", err)
	t.show(display.Screen{Kind: display.Error, Title: "Register fault",
		Message: "The sale log cannot be written. Use another payment method and call support."})
	return fmt.Errorf("sale log: %w", err)
}

// isCurrent reports whether ref is the sale on the till.
func (t *Till) isCurrent(ref string) bool { return t.sale != nil && t.sale.Reference == ref }

// created handles the answer to the current sale's create.
func (t *Till) created(p reply) {
	t.sale.VippsState = vipps.Created
	if t.cancel {
		t.abandon("cancelled by the cashier")
		return
	}
	push := t.push
	if t.sale.API == apiECom {
		p.RedirectURL = p.URL // the landing page, turned into a QR below
	}
	if p.RedirectURL == "" && !push {
		t.fail("create %s: the reply has no redirectUrl", t.sale.Reference)
		t.abandon("Vipps MobilePay sent no QR code")
		return
	}
	t.state, t.sale.State = StateWaiting, SaleWaiting
	switch {
	case push:
	case t.sale.API == apiECom:
		t.showECommQR(t.sale.Reference, p.RedirectURL)
	case t.cfg.Flow == "qr-image":
		t.fetchQR(t.sale.Reference, p.RedirectURL)
	default:
		t.qr = p.RedirectURL
	}
	t.waitScreen()
	t.cfg.Logf("sale %s: waiting for the shopper", t.sale.Reference)
	t.schedulePoll(t.sale.Reference)
}

// fetchQR gets Vipps's QR image (no credentials: the URL is the secret).
func (t *Till) fetchQR(ref, url string) {
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		img, err := t.pay.FetchImage(ctx, url)
		return func() {
			if !t.isCurrent(ref) || t.state != StateWaiting {
				return
			}
			if err != nil {
				t.fail("QR image for %s: %v", ref, err)
				t.abandon("the QR image could not be fetched")
				return
			}
			t.qrImg = img
			t.waitScreen()
		}
	})
}

// waitScreen shows what the shopper acts on while the payment is open.
func (t *Till) waitScreen() {
	a := t.sale.Amount.String()
	switch {
	case t.qrImg != nil:
		t.show(display.Screen{Kind: display.QR, Amount: a, QRImage: t.qrImg})
	case t.qr != "":
		t.show(display.Screen{Kind: display.QR, Amount: a, QR: t.qr})
	case (t.cfg.Flow == "qr-image" || t.cfg.Flow == apiECom) && !t.push:
		t.show(display.Screen{Kind: display.Working, Title: "Preparing the QR code…", Amount: a})
	default:
		t.show(display.Screen{Kind: display.Working, Title: "Approve in the app", Amount: a,
			Message: "The payment request is on the shopper's phone."})
	}
}

func (t *Till) schedulePoll(ref string) {
	sale := *t.sale
	t.background(func() func() {
		select {
		case <-time.After(t.cfg.PollInterval):
		case <-t.ctx.Done():
			return func() {}
		}
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.read(ctx, sale)
		return func() { t.polled(ref, p, err) }
	})
}

func (t *Till) polled(ref string, p vipps.Payment, err error) {
	if !t.isCurrent(ref) || t.state != StateWaiting {
		return
	}
	t.noteNetwork(err)
	if err != nil {
		if vipps.IsTemporary(err) {
			// The shopper's phone has its own network: keep reading, and
			// say why the QR is gone meanwhile.
			if t.shown != display.Waiting {
				t.show(display.Screen{Kind: display.Waiting, Amount: t.sale.Amount.String(),
					Message: "Waiting for network. The payment continues when Vipps MobilePay answers."})
			}
			t.fail("reading payment %s: %s", ref, explain(err))
			t.schedulePoll(ref)
			return
		}
		t.fail("reading payment %s: %s", ref, explain(err))
		t.abandon(explain(err))
		return
	}
	if t.shown == display.Waiting {
		t.lastErr = ""
		t.waitScreen()
	}
	t.sale.VippsState = p.State
	if p.State == vipps.Created {
		if t.cfg.Now().Sub(t.sale.Created) > t.cfg.PaymentLife {
			t.fail("payment %s still pending after %s: cancelling it", ref, t.cfg.PaymentLife)
			t.abandon("the payment did not end in time")
			return
		}
		t.schedulePoll(ref)
		return
	}
	// The cashier is still at the till waiting: an approval is captured.
	t.settle(t.sale, p, true)
}

func (t *Till) cancelSale() {
	switch t.state {
	case StateCreating:
		t.cancel = true // acted on when the create answer arrives
		t.show(display.Screen{Kind: display.Working, Title: "Cancelling…", Amount: t.sale.Amount.String()})
	case StateWaiting:
		t.abandon("cancelled by the cashier")
	}
}

// abandon ends the current sale without a capture: the create leaves the
// outbox and a cancel takes its place, committed before it is sent.
func (t *Till) abandon(why string) {
	s := t.sale
	t.cfg.Logf("sale %s: cancelling (%s)", s.Reference, why)
	if why != "cancelled by the cashier" {
		s.Error = why
	}
	t.state = StateCancelling
	t.show(display.Screen{Kind: display.Working, Title: "Cancelling…", Amount: s.Amount.String()})
	t.transition(s, opCancel)
}

// transition commits s with all its pending ops done and, if next is set,
// the next operation queued, then sends it.
func (t *Till) transition(s *store.Sale, next string) {
	var ops []store.Op
	switch {
	case next != "" && s.API == apiECom:
		op, err := t.ecomOp(next, s)
		if err != nil {
			t.fail("%s %s: %v", next, s.Reference, err)
			return
		}
		ops = append(ops, op)
	case next == opCancel:
		ops = append(ops, newOp(opCancel, s.Reference, 0, vipps.CancelRequest(s.Reference, idemKey(opCancel, s.Reference))))
	case next == opCapture:
		r, err := vipps.CaptureRequest(s.Reference, s.Amount, idemKey(opCapture, s.Reference))
		if err != nil {
			t.fail("capture %s: %v", s.Reference, err)
			return
		}
		ops = append(ops, newOp(opCapture, s.Reference, s.Amount.Value, r))
	}
	done := t.out.idsFor(s.Reference)
	ids, err := t.journal.Finish(*s, done, ops...)
	if err != nil {
		t.storeFailed(err)
		return
	}
	t.out.remove(done...)
	t.out.add(t.withIDs(ids, s.Reference)...)
	t.drain()
}

// settle drives a sale to where Vipps's truth p says it is; p has been
// checked to fit the sale (vipps.Payment.Fits). wantCapture is the till's
// decision: capture an approval (the cashier saw it through), or release it
// (the sale was abandoned).
func (t *Till) settle(s *store.Sale, p vipps.Payment, wantCapture bool) {
	s.VippsState = p.State
	ag := p.Aggregate
	a := s.Amount.String()
	switch {
	case p.State == vipps.Created:
		t.transition(s, opCancel) // abandoned while the QR may still be scanned
	case ag.Captured.Value > 0 && s.State != SaleAuthorized && s.State != SaleCaptured:
		// This register never decided to capture it, so the money moved
		// under an earlier use of the reference: never "paid" for this sale.
		t.referenceTaken(s, p)
	case ag.Captured.Value == s.Amount.Value:
		t.captured(s)
	case p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value:
		if wantCapture {
			t.cfg.Logf("capture %s decided", s.Reference)
			s.State, s.Authorized = SaleAuthorized, t.cfg.Now()
			if t.isCurrent(s.Reference) {
				t.state = StateCapturing
				t.show(display.Screen{Kind: display.Working, Title: "Approved – completing…", Amount: a})
			}
			t.transition(s, opCapture)
		} else {
			t.transition(s, opCancel)
		}
	case p.State == vipps.Authorized || p.State == vipps.Terminated:
		t.end(s, SaleCancelled, display.Screen{Kind: display.Cancelled, Amount: a, Message: sayCancelled})
	case p.State == vipps.Aborted:
		t.end(s, SaleAborted, display.Screen{Kind: display.Failed, Title: "Payment stopped", Amount: a, Message: sayStopped})
	case p.State == vipps.Expired:
		t.end(s, SaleExpired, display.Screen{Kind: display.Expired, Amount: a, Message: sayExpired})
	}
}

// referenceTaken handles a reference Vipps already holds from an earlier
// use: a database restored from an older copy, whose counter was used since.
// The journal records Vipps's payment as it is (no receipt: it was printed
// then), an open one is cancelled like any abandoned payment, and the
// cashier's sale starts again under a new reference.
func (t *Till) referenceTaken(s *store.Sale, p vipps.Payment) {
	keyed, current, push := s.Amount, t.isCurrent(s.Reference), t.push
	ag := p.Aggregate
	t.cfg.Logf("sale %s: Vipps MobilePay already has this reference from an earlier use (%s, %s, captured %s): "+
		"was kasse.db restored from an older copy? Recording Vipps's payment as it is", s.Reference, p.State, p.Amount, ag.Captured)
	old := *s
	old.Amount, old.VippsState = p.Amount, p.State
	old.Error = "reference used before: recorded as Vipps MobilePay holds it"
	if current {
		t.sale = nil // the cashier's sale is not this payment
	}
	open := p.State == vipps.Created || (p.State == vipps.Authorized && ag.Captured.Value+ag.Cancelled.Value < ag.Authorized.Value)
	switch {
	case ag.Captured.Value > 0 && !open:
		now := t.cfg.Now()
		old.State, old.Captured, old.Ended = SaleCaptured, now, now
		t.finishQuietly(&old)
	case open:
		t.transition(&old, opCancel)
	default:
		old.State, old.Ended = SaleCancelled, t.cfg.Now()
		t.finishQuietly(&old)
	}
	if !current {
		return
	}
	if push {
		// The shopper's number is gone (never stored): the cashier keys it again.
		t.state, t.digits = StateDone, ""
		t.fail("sale %s: reference used before; key the sale again", s.Reference)
		t.show(display.Screen{Kind: display.Error, Title: "Payment not completed", Amount: keyed.String(), Message: sayNotCompleted})
		return
	}
	t.show(display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: keyed.String(), Message: sayStartAgain})
	t.state, t.digits = StateKeying, strconv.FormatInt(keyed.Value, 10)
	_ = t.startSale("") // its own errors are on screen and in the log
}

// finishQuietly commits s with its pending operations done and no screen.
func (t *Till) finishQuietly(s *store.Sale) {
	done := t.out.idsFor(s.Reference)
	if _, err := t.journal.Finish(*s, done); err != nil {
		t.fail("sale log: %v", err)
		return
	}
	t.out.remove(done...)
}

// captured completes a sale: capture confirmed, receipt queued, one commit.
func (t *Till) captured(s *store.Sale) {
	now := t.cfg.Now()
	s.State, s.Captured, s.Ended, s.Error = SaleCaptured, now, now, ""
	body, err := json.Marshal(t.receipt(s, now))
	if err != nil {
		t.fail("receipt for %s: %v", s.Reference, err)
		return
	}
	done := t.out.idsFor(s.Reference)
	// With the printer idle the receipt goes out right after this commit,
	// so it is marked Sent here and costs no commit of its own.
	job := store.PrintJob{Reference: s.Reference, Receipt: body, Sent: t.prn.idle(now)}
	var next []store.Op
	if s.API == apiECom {
		op, err := t.ecomReceipt(s)
		if err != nil {
			t.fail("receipt for %s: %v", s.Reference, err)
		} else {
			next = append(next, op)
		}
	}
	ids, jobID, err := t.journal.FinishPrint(*s, done, job, next...)
	if err != nil {
		t.storeFailed(err)
		return
	}
	t.out.remove(done...)
	t.out.add(t.withIDs(ids, s.Reference)...)
	t.prn.queued++
	if job.Sent {
		job.ID = jobID
		t.printJob(job)
	}
	t.cfg.Logf("sale %s: captured %s", s.Reference, s.Amount)
	if t.isCurrent(s.Reference) && t.state != StateDone {
		t.state = StateDone
		t.show(display.Screen{Kind: display.Paid, Amount: s.Amount.String()})
	}
}

func (t *Till) receipt(s *store.Sale, at time.Time) receipt.Receipt {
	return receipt.Receipt{
		StoreName: t.cfg.StoreName, StoreLines: t.cfg.StoreLines, Store: s.Store, Lane: s.Lane,
		Reference: s.Reference, Time: at, Currency: s.Amount.Currency,
		Lines:         []receipt.Line{{Text: "Sale", Quantity: 1, Amount: s.Amount.Value, TaxRate: t.cfg.TaxRate}},
		Total:         s.Amount.Value,
		PaymentMethod: "Vipps MobilePay",
	}
}

// vippsReceipt is the receipt the shopper sees in the app, sent with the
// create call as the provider asks for ePayment: posId is the lane,
// receiptNumber the reference.
func (t *Till) vippsReceipt(ref string, a money.Amount) *vipps.Receipt {
	vat := money.VAT(a.Value, t.cfg.TaxRate)
	return &vipps.Receipt{
		OrderLines: []vipps.OrderLine{{Name: "Sale", ID: "1", TotalAmount: a.Value,
			TotalAmountExcludingTax: a.Value - vat, TotalTaxAmount: vat, TaxRate: t.cfg.TaxRate}},
		BottomLine: vipps.BottomLine{Currency: a.Currency, PosID: t.cfg.Lane, ReceiptNumber: ref},
	}
}

// end finishes a sale that moved no money: journal, and the result screen
// if it is the sale on the till.
func (t *Till) end(s *store.Sale, state string, scr display.Screen) {
	now := t.cfg.Now()
	s.State, s.Ended = state, now
	done := t.out.idsFor(s.Reference)
	if _, err := t.journal.Finish(*s, done); err != nil {
		t.storeFailed(err)
		return
	}
	t.out.remove(done...)
	t.cfg.Logf("sale %s: %s", s.Reference, state)
	// A result already on screen (e.g. "unreachable") stays; the outbox
	// finished the rest quietly.
	if t.isCurrent(s.Reference) && t.state != StateDone {
		t.state = StateDone
		if state == SaleFailed {
			scr = display.Screen{Kind: display.Error, Title: "Payment not completed", Amount: s.Amount.String(), Message: sayNotCompleted}
		}
		t.show(scr)
	}
}

// explain turns an error into a sentence for the cashier and the journal.
func explain(err error) string {
	var ve *vipps.Error
	if !asVipps(err, &ve) {
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
