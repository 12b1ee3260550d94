package payment

import (
	"image"

	"kasse/money"
	"kasse/store"
)

// Kind says what happened to the cashier's sale or refund.
type Kind string

// The outcomes. Those about a sale carry it in Outcome.Sale.
const (
	Creating       Kind = "creating"        // the payment is being created
	Restarting     Kind = "restarting"      // its reference was used before: created again under a new one
	Preparing      Kind = "preparing"       // the QR image is on its way
	ShowQR         Kind = "qr"              // Outcome.QR or QRImage is what the shopper scans
	PushSent       Kind = "push"            // the request is on the shopper's phone
	NetworkDown    Kind = "network-down"    // the payment waits for the network
	Cancelling     Kind = "cancelling"      // telling Vipps the payment is cancelled
	Approved       Kind = "approved"        // the shopper approved; capturing
	CaptureWaiting Kind = "capture-waiting" // approved, the capture waits for the network
	Paid           Kind = "paid"            // captured: the sale is complete
	Reserved       Kind = "reserved"        // a remote order approved; captured at dispatch
	Cancelled      Kind = "cancelled"       // nothing was charged
	Stopped        Kind = "stopped"         // the shopper stopped it in the app
	Expired        Kind = "expired"         // the shopper did not approve in time
	NotCompleted   Kind = "not-completed"   // Vipps refused it, or it never reached Vipps
	Unreachable    Kind = "unreachable"     // Vipps does not answer; the outbox cleans up

	RefundReading  Kind = "refund-reading"  // reading a scanned receipt's sale from Vipps
	RefundReadable Kind = "refund-readable" // Outcome.Lookup says what can be refunded
	RefundNoSale   Kind = "refund-no-sale"  // Vipps has no such payment
	RefundNoReply  Kind = "refund-no-reply" // Vipps did not answer the read
	RefundNotOurs  Kind = "refund-not-ours" // the code is not a receipt of this chain
	RefundedInFull Kind = "refunded-in-full"
	NeverPaid      Kind = "never-paid"
	Refunding      Kind = "refunding"      // the refund is on its way
	RefundWaiting  Kind = "refund-waiting" // the refund waits for the network
	Refunded       Kind = "refunded"       // Outcome.Refund is done
	RefundRefused  Kind = "refund-refused" // Vipps refused it: nothing was refunded

	Problem       Kind = "problem"        // Outcome.Detail is for the cashier (status) and the log
	RegisterFault Kind = "register-fault" // the sale log cannot be written
)

// Outcome is one thing the engine reports to the till, on the loop.
type Outcome struct {
	Kind    Kind
	Sale    store.Sale   // the cashier's sale, for the sale outcomes
	QR      string       // ShowQR: the link to draw
	QRImage image.Image  // ShowQR: or Vipps's ready-made image
	Refund  store.Refund // Refunded, RefundRefused, Refunding, RefundWaiting
	Lookup  Lookup       // RefundReadable
	Detail  string       // Problem
}

// Lookup is the sale behind a scanned receipt, as Vipps holds it.
type Lookup struct {
	Reference   string
	OriginStore string
	OriginLane  string
	Refundable  money.Amount // captured and not yet refunded; zero until read
}
