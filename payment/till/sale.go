package till

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kasse/display"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Idempotency keys are derived from the reference, so a retry after a crash
// can rebuild the same key (Vipps allows 50 characters; references ≤ 40).
func idemKey(op, ref string) string { return op + "-" + ref }

func (t *Till) startSale() error {
	a := t.amount()
	if err := a.Check(); err != nil {
		t.state = StateDone
		t.fail("%v", err)
		t.show(display.Screen{Kind: display.Error, Title: "Check the amount", Message: err.Error()})
		return err
	}
	ref, err := t.journal.NextReference(t.cfg.Store, t.cfg.Lane)
	if err != nil {
		return t.storeFailed(err)
	}
	now := t.cfg.Now()
	t.sale = &store.Sale{Reference: ref, Store: t.cfg.Store, Lane: t.cfg.Lane, Amount: a,
		State: SaleCreated, Created: now, Updated: now}
	// The sale is in the journal before the payment exists at Vipps.
	if err := t.journal.PutSale(*t.sale); err != nil {
		return t.storeFailed(err)
	}
	t.state, t.cancel, t.lastErr = StateCreating, false, ""
	t.show(display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: a.String()})
	t.cfg.Logf("sale %s: creating payment of %s", ref, a)
	req := vipps.CreatePayment{
		Amount:              a,
		PaymentMethod:       vipps.PaymentMethod{Type: "WALLET"},
		Reference:           ref,
		UserFlow:            "QR",
		CustomerInteraction: "CUSTOMER_PRESENT",
		QRFormat:            &vipps.QRFormat{Format: "TEXT/TARGETURL"},
		PaymentDescription:  t.cfg.Description,
	}
	t.background(func() func() {
		var res vipps.CreatedPayment
		err := t.retry(func(ctx context.Context) (err error) {
			res, err = t.pay.Create(ctx, req, idemKey("create", ref))
			return err
		}, 4)
		return func() { t.created(ref, res, err) }
	})
	return nil
}

func (t *Till) storeFailed(err error) error {
	t.state = StateDone
	t.fail("sale log: %v", err)
	t.show(display.Screen{Kind: display.Error, Title: "Register fault",
		Message: "The sale log cannot be written. Use another payment method and call support."})
	return fmt.Errorf("sale log: %w", err)
}

// current reports whether ref is the sale the till is working on, so a late
// answer about an earlier sale is dropped.
func (t *Till) current(ref string, states ...string) bool {
	if t.sale == nil || t.sale.Reference != ref {
		return false
	}
	for _, s := range states {
		if t.state == s {
			return true
		}
	}
	return false
}

func (t *Till) created(ref string, res vipps.CreatedPayment, err error) {
	if !t.current(ref, StateCreating) {
		return
	}
	if err != nil {
		t.end(SaleFailed, display.Screen{Kind: display.Error, Title: "Payment not started",
			Amount: t.sale.Amount.String(), Message: explain(err)}, err)
		return
	}
	t.sale.VippsState = vipps.Created
	if t.cancel {
		t.startCancel()
		return
	}
	if res.RedirectURL == "" {
		t.end(SaleFailed, display.Screen{Kind: display.Error, Title: "Payment not started",
			Message: "Vipps MobilePay sent no QR code. Use another payment method."}, fmt.Errorf("create %s: reply has no redirectUrl", ref))
		return
	}
	t.state, t.sale.State = StateWaiting, SaleWaiting
	t.show(display.Screen{Kind: display.QR, Amount: t.sale.Amount.String(), QR: res.RedirectURL})
	t.cfg.Logf("sale %s: QR shown, waiting for the shopper", ref)
	t.schedulePoll(ref)
}

func (t *Till) schedulePoll(ref string) {
	t.background(func() func() {
		select {
		case <-time.After(t.cfg.PollInterval):
		case <-t.ctx.Done():
			return func() {}
		}
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		p, err := t.pay.Get(ctx, ref)
		return func() { t.polled(ref, p, err) }
	})
}

func (t *Till) polled(ref string, p vipps.Payment, err error) {
	if !t.current(ref, StateWaiting) {
		return
	}
	if err != nil {
		t.fail("reading payment %s: %s", ref, explain(err))
		if vipps.IsTemporary(err) {
			t.schedulePoll(ref) // the QR stays up: the shopper may still approve
			return
		}
		t.startCancel()
		return
	}
	t.lastErr = ""
	t.sale.VippsState = p.State
	switch p.State {
	case vipps.Created:
		if t.cfg.Now().Sub(t.sale.Created) > t.cfg.PaymentLife {
			t.fail("payment %s still pending after %s: cancelling it", ref, t.cfg.PaymentLife)
			t.startCancel()
			return
		}
		t.schedulePoll(ref)
	case vipps.Authorized:
		t.startCapture()
	case vipps.Aborted:
		t.end(SaleAborted, display.Screen{Kind: display.Failed, Title: "Payment stopped",
			Amount: t.sale.Amount.String(), Message: "The payment was stopped in the app. Nothing was charged."}, nil)
	case vipps.Expired:
		t.end(SaleExpired, display.Screen{Kind: display.Expired, Amount: t.sale.Amount.String(),
			Message: "The QR code expired. The cashier can start a new payment."}, nil)
	case vipps.Terminated:
		t.end(SaleCancelled, display.Screen{Kind: display.Cancelled, Amount: t.sale.Amount.String()}, nil)
	default:
		t.fail("payment %s is in unknown state %q", ref, p.State)
		t.schedulePoll(ref)
	}
}

func (t *Till) cancelSale() {
	switch t.state {
	case StateCreating:
		t.cancel = true // acted on when the create answer arrives
		t.show(display.Screen{Kind: display.Working, Title: "Cancelling…", Amount: t.sale.Amount.String()})
	case StateWaiting:
		t.startCancel()
	}
}

func (t *Till) startCancel() {
	ref, amount := t.sale.Reference, t.sale.Amount
	t.state = StateCancelling
	t.show(display.Screen{Kind: display.Working, Title: "Cancelling…", Amount: amount.String()})
	t.cfg.Logf("sale %s: cancelling", ref)
	t.background(func() func() {
		var p vipps.Payment
		err := t.retry(func(ctx context.Context) (err error) {
			p, err = t.pay.Cancel(ctx, ref, idemKey("cancel", ref))
			return err
		}, 8)
		if err != nil {
			// The cancel was refused: read what really happened (expired,
			// aborted, or already final) so the screen shows the truth.
			ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
			defer cancel()
			if got, gerr := t.pay.Get(ctx, ref); gerr == nil {
				p, err = got, nil
			}
		}
		return func() { t.cancelled(ref, p, err) }
	})
}

func (t *Till) cancelled(ref string, p vipps.Payment, err error) {
	if !t.current(ref, StateCancelling) {
		return
	}
	amount := t.sale.Amount.String()
	if err != nil {
		t.end(SaleFailed, display.Screen{Kind: display.Error, Title: "Cancel not confirmed", Amount: amount,
			Message: "Vipps MobilePay did not confirm the cancel. Do not hand over the goods; the payment will be cancelled when the network is back."}, err)
		return
	}
	t.sale.VippsState = p.State
	switch {
	case p.State == vipps.Expired:
		t.end(SaleExpired, display.Screen{Kind: display.Expired, Amount: amount}, nil)
	case p.State == vipps.Aborted:
		t.end(SaleAborted, display.Screen{Kind: display.Failed, Title: "Payment stopped", Amount: amount,
			Message: "The payment was stopped in the app. Nothing was charged."}, nil)
	case p.Aggregate.Captured.Value > 0:
		// Cannot happen from this till (it cancels only uncaptured
		// payments), but if it did the money moved: say so.
		t.end(SaleCaptured, display.Screen{Kind: display.Paid, Amount: amount}, nil)
	default:
		t.end(SaleCancelled, display.Screen{Kind: display.Cancelled, Amount: amount,
			Message: "The payment was cancelled. Nothing was charged."}, nil)
	}
}

func (t *Till) startCapture() {
	ref, amount := t.sale.Reference, t.sale.Amount
	t.state = StateCapturing
	t.sale.Authorized = t.cfg.Now()
	t.show(display.Screen{Kind: display.Working, Title: "Approved – completing…", Amount: amount.String()})
	t.background(func() func() {
		var p vipps.Payment
		err := t.retry(func(ctx context.Context) (err error) {
			p, err = t.pay.Capture(ctx, ref, amount, idemKey("capture", ref))
			return err
		}, 0)
		return func() { t.captured(ref, p, err) }
	})
}

func (t *Till) captured(ref string, p vipps.Payment, err error) {
	if !t.current(ref, StateCapturing) {
		return
	}
	if err != nil {
		// Do not keep the shopper's money reserved for a sale we cannot
		// complete.
		t.fail("capture %s: %s", ref, explain(err))
		t.startCancel()
		return
	}
	now := t.cfg.Now()
	t.sale.VippsState, t.sale.Captured = p.State, now
	r := t.receipt(now)
	t.end(SaleCaptured, display.Screen{Kind: display.Paid, Amount: t.sale.Amount.String()}, nil)
	t.cfg.Logf("sale %s: captured %s", ref, t.sale.Amount)
	t.background(func() func() {
		err := t.printer.Print(r)
		return func() { t.printed(ref, err) }
	})
}

func (t *Till) receipt(at time.Time) receipt.Receipt {
	s := t.sale
	return receipt.Receipt{
		StoreName: t.cfg.StoreName, StoreLines: t.cfg.StoreLines, Store: s.Store, Lane: s.Lane,
		Reference: s.Reference, Time: at, Currency: s.Amount.Currency,
		Lines:         []receipt.Line{{Text: "Sale", Quantity: 1, Amount: s.Amount.Value, TaxRate: t.cfg.TaxRate}},
		Total:         s.Amount.Value,
		PaymentMethod: "Vipps MobilePay",
	}
}

func (t *Till) printed(ref string, err error) {
	if t.sale == nil || t.sale.Reference != ref {
		return // the next sale started; its own record is current
	}
	if err != nil {
		t.fail("receipt for %s not printed: %v", ref, err)
		return
	}
	t.sale.Printed = true
	t.sale.Updated = t.cfg.Now()
	if err := t.journal.PutSale(*t.sale); err != nil {
		t.fail("sale log: %v", err)
	}
}

// end finishes the sale: journal, result screen, state.
func (t *Till) end(state string, s display.Screen, err error) {
	now := t.cfg.Now()
	t.sale.State, t.sale.Updated, t.sale.Ended = state, now, now
	if err != nil {
		t.sale.Error = explain(err)
		t.fail("sale %s: %s", t.sale.Reference, t.sale.Error)
	}
	if jerr := t.journal.PutSale(*t.sale); jerr != nil {
		t.fail("sale log: %v", jerr)
	}
	t.state = StateDone
	t.show(s)
	t.cfg.Logf("sale %s: %s", t.sale.Reference, state)
}

// retry runs op until it succeeds, fails for good, or tries run out
// (0 = until the till stops). It reuses the caller's idempotency key, so a
// resend cannot move money twice; it waits as Retry-After asks.
func (t *Till) retry(op func(context.Context) error, tries int) error {
	wait := 250 * time.Millisecond
	for i := 1; ; i++ {
		ctx, cancel := context.WithTimeout(t.ctx, 15*time.Second)
		err := op(ctx)
		cancel()
		if err == nil || !vipps.IsTemporary(err) || (tries > 0 && i >= tries) {
			return err
		}
		var ve *vipps.Error
		d := wait
		if errors.As(err, &ve) && ve.RetryAfter > d {
			d = ve.RetryAfter
		}
		select {
		case <-time.After(d):
		case <-t.ctx.Done():
			return err
		}
		if wait < 8*time.Second {
			wait *= 2
		}
	}
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
