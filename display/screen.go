// Package display renders the register's customer-facing screens (welcome,
// amount, payment QR, result) and shows them on a periph display.Drawer such
// as the SPI colour TFT facing the shopper.
package display

import (
	"image"
	"time"
)

// Kind says which of the register's screens to show.
type Kind string

// The screens the till shows the shopper.
const (
	Idle      Kind = "idle"      // welcome: shop name (Title) and a "Vipps MobilePay" hint
	Amount    Kind = "amount"    // the cashier is keying: big Amount
	Working   Kind = "working"   // e.g. "Creating payment…" with Amount
	QR        Kind = "qr"        // the one-time payment QR, Amount and "Scan with Vipps MobilePay"
	Waiting   Kind = "waiting"   // e.g. "Waiting for network" with Message
	Paid      Kind = "paid"      // Amount, a green check mark, "Paid – thank you"
	Cancelled Kind = "cancelled" // the payment was cancelled
	Expired   Kind = "expired"   // the shopper did not pay in time
	Failed    Kind = "failed"    // refused or aborted by the shopper or the bank: Message
	Error     Kind = "error"     // something went wrong: Message says what and what to do
)

// Screen is everything shown at once on the customer display.
type Screen struct {
	Kind    Kind
	Title   string      // optional headline; empty means the Kind's default
	Amount  string      // preformatted, e.g. "125,00 kr"; may be empty
	QR      string      // Kind QR: the text to encode (the payment's redirect URL)
	QRImage image.Image // Kind QR: a ready-made QR image drawn 1:1, thresholded to black/white; wins over QR
	Message string      // optional sentences, word-wrapped to the panel width
	// Deadline, on a QR screen, shows the time left as a countdown that
	// redraws only its own digits; zero shows none.
	Deadline time.Time
}

// look is how a Kind is dressed when the caller leaves the details out.
type look struct {
	title    string
	hint     string
	accent   paint // the bar at the top and the icon
	titleInk paint
	icon     icon
}

func lookOf(k Kind) (look, bool) {
	switch k {
	case Idle:
		return look{title: "Welcome", hint: "Vipps MobilePay", accent: orange, titleInk: ink}, true
	case Amount:
		return look{title: "Amount to pay", accent: orange, titleInk: ink}, true
	case Working:
		return look{title: "Creating payment…", accent: orange, titleInk: ink, icon: iconDots}, true
	case QR:
		return look{title: "Scan to pay", hint: "Scan with Vipps MobilePay", accent: orange, titleInk: ink}, true
	case Waiting:
		return look{title: "Waiting for network", accent: orange, titleInk: ink, icon: iconDots}, true
	case Paid:
		return look{title: "Paid – thank you", accent: green, titleInk: green, icon: iconCheck}, true
	case Cancelled:
		return look{title: "Payment cancelled", accent: grey, titleInk: ink, icon: iconCross}, true
	case Expired:
		return look{title: "Payment expired", accent: grey, titleInk: ink, icon: iconCross}, true
	case Failed:
		return look{title: "Payment not completed", accent: red, titleInk: red, icon: iconCross}, true
	case Error:
		return look{title: "Something went wrong", accent: red, titleInk: red, icon: iconBang}, true
	}
	return look{}, false
}
