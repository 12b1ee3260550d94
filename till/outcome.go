package till

import (
	"time"

	"kasse/display"
	"kasse/payment"
)

// qrLife is how long a payment waits to be opened (the provider's 5 of its
// 10 minutes); the QR screen counts it down.
const qrLife = 5 * time.Minute

// outcome moves the till on with what the engine reports, and shows the
// shopper what it means in people's words.
func (t *Till) outcome(o payment.Outcome) {
	a := o.Sale.Amount.String()
	switch o.Kind {
	case payment.Problem:
		t.lastErr = o.Detail
	case payment.Creating:
		t.state, t.lastErr = StateCreating, ""
		t.show(display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: a})
	case payment.Restarting:
		t.show(display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: a, Message: sayStartAgain})
	case payment.Preparing, payment.ShowQR, payment.PushSent:
		if t.shown == display.Waiting {
			t.lastErr = "" // the network is back
		}
		t.state = StateWaiting
		switch o.Kind {
		case payment.ShowQR:
			// The QR opens the payment for 5 minutes from its creation.
			t.show(display.Screen{Kind: display.QR, Amount: a, QR: o.QR, QRImage: o.QRImage,
				Deadline: o.Sale.Created.Add(qrLife)})
		case payment.Preparing:
			t.show(display.Screen{Kind: display.Working, Title: "Preparing the QR code…", Amount: a})
		case payment.PushSent:
			if !o.Sale.Remote {
				t.show(display.Screen{Kind: display.Working, Title: "Approve in the app", Amount: a,
					Message: "The payment request is on the shopper's phone."})
				break
			}
			// The cashier's side only: the customer is elsewhere, and
			// whoever stands at the till need not read about it.
			t.show(display.Screen{Kind: display.Working, Title: "Waiting for the customer", Amount: a,
				Message: sayRemoteWaiting})
		}
	case payment.NetworkDown:
		t.show(display.Screen{Kind: display.Waiting, Amount: a,
			Message: "Waiting for network. The payment continues when Vipps MobilePay answers."})
	case payment.Cancelling:
		t.state = StateCancelling
		t.show(display.Screen{Kind: display.Working, Title: "Cancelling…", Amount: a})
	case payment.Approved:
		t.state = StateCapturing
		t.show(display.Screen{Kind: display.Working, Title: "Approved – completing…", Amount: a})
	case payment.CaptureWaiting:
		t.show(display.Screen{Kind: display.Waiting, Title: "Approved – waiting for network", Amount: a,
			Message: "The payment is approved and completes when Vipps MobilePay answers."})
	case payment.Paid:
		t.lastPaid = o.Sale.Reference
		if o.Sale.Remote {
			t.done(display.Screen{Kind: display.Paid, Title: "Order paid", Amount: a, Message: sayRemotePaid})
			break
		}
		t.done(display.Screen{Kind: display.Paid, Amount: a})
	case payment.Reserved:
		t.done(display.Screen{Kind: display.Paid, Title: "Order reserved", Amount: a, Message: sayReserved})
	case payment.Cancelled:
		t.done(display.Screen{Kind: display.Cancelled, Amount: a, Message: sayCancelled})
	case payment.Stopped:
		t.done(display.Screen{Kind: display.Failed, Title: "Payment stopped", Amount: a, Message: sayStopped})
	case payment.Expired:
		msg := sayExpired
		if o.Sale.Remote {
			msg = sayRemoteExpired
		}
		t.done(display.Screen{Kind: display.Expired, Amount: a, Message: msg})
	case payment.NotCompleted:
		t.done(display.Screen{Kind: display.Error, Title: "Payment not completed", Amount: a, Message: sayNotCompleted})
	case payment.Unreachable:
		t.done(display.Screen{Kind: display.Error, Title: "Vipps is unreachable", Amount: a, Message: sayUnreachable})
	case payment.RegisterFault:
		t.done(display.Screen{Kind: display.Error, Title: "Register fault",
			Message: "The sale log cannot be written. Use another payment method and call support."})

	case payment.RefundReading:
		t.state = StateRefundRead
		t.show(display.Screen{Kind: display.Working, Title: "Refund", Message: "Reading the sale from Vipps MobilePay…"})
	case payment.RefundReadable:
		t.state, t.digits, t.refund = StateRefundAmount, "", refundKeys{sale: o.Lookup}
		t.showRefund("")
	case payment.RefundNoSale, payment.RefundNoReply, payment.RefundNotOurs:
		// Still in the refund: scan again, or cancel. Digits keyed now
		// must not start a sale.
		t.state = StateRefundScan
		t.show(display.Screen{Kind: display.Error, Title: "Refund not possible", Message: map[payment.Kind]string{
			payment.RefundNoSale: sayRefundNoSale, payment.RefundNoReply: sayRefundNoReply, payment.RefundNotOurs: sayNotOurReceipt}[o.Kind]})
	case payment.RefundedInFull, payment.NeverPaid:
		t.state = StateRefundScan
		msg := sayRefundedInFull
		if o.Kind == payment.NeverPaid {
			msg = "This sale was never paid: there is nothing to refund."
		}
		t.show(display.Screen{Kind: display.Error, Title: "Nothing to refund", Message: msg})
	case payment.Refunding:
		t.state, t.lastErr = StateRefunding, ""
		t.show(display.Screen{Kind: display.Working, Title: "Refunding…", Amount: o.Refund.Amount.String()})
	case payment.RefundWaiting:
		t.show(display.Screen{Kind: display.Waiting, Title: "Refund waiting for network", Amount: o.Refund.Amount.String(),
			Message: "The refund is stored and goes through when Vipps MobilePay answers."})
	case payment.Refunded:
		t.result = o.Refund.Amount
		t.done(display.Screen{Kind: display.Paid, Title: "Refunded", Amount: o.Refund.Amount.String(), Message: sayRefunded})
	case payment.RefundRefused:
		// Still in the refund: digits keyed now must not start a sale.
		t.state, t.digits, t.result = StateRefundScan, "", o.Refund.Amount
		t.show(display.Screen{Kind: display.Error, Title: "Refund refused", Amount: o.Refund.Amount.String(), Message: sayRefundRefused})
	}
}

// done shows a result; it stays until the cashier presses a key.
func (t *Till) done(s display.Screen) {
	t.state = StateDone
	t.show(s)
}
