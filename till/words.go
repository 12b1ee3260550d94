package till

import "fmt"

// What the shopper reads on the customer display: short sentences, the
// same for the same outcome in every flow. API errors, trace ids and
// references go to the log and kassectl status instead (DESIGN.md, money
// invariant 9).
const (
	sayNothingCharged = "Nothing was charged."
	sayCancelled      = "The payment was cancelled. " + sayNothingCharged
	sayStopped        = "The payment was stopped in the app. " + sayNothingCharged
	sayExpired        = "The QR code expired. The cashier can start a new payment."
	sayNotCompleted   = "The payment could not be completed. " + sayNothingCharged
	sayUnreachable    = "Vipps MobilePay is unreachable – use another payment method."
	sayBadAmount      = "This amount cannot be paid with Vipps MobilePay."
	sayClock          = "The register is setting its clock. Try again in a minute, or use another payment method."
	sayRefunded       = "The money is on its way back to the shopper."
	sayRefundRefused  = "Vipps MobilePay did not accept the refund. Nothing was refunded."
	sayRefundNoSale   = "This sale could not be found. Check the receipt."
	sayRefundNoReply  = "Vipps MobilePay does not answer. Try again in a moment."
	sayNotOurReceipt  = "This code is not a receipt from this chain."
	sayRefundedInFull = "This sale has been refunded in full."
	sayStartAgain     = "Please wait – the cashier starts the payment again."
	sayPrinter        = "The printer needs attention: check its paper and cover."
	// A remote order's: the cashier's side, nothing about the customer.
	sayRemoteWaiting = "The payment request is in the customer's app."
	sayRemoteExpired = "The customer did not approve in time. " + sayNothingCharged
	sayReserved      = "The money is reserved. It is taken when the order is sent."
	sayRemotePaid    = "The order is paid."
	sayCaptureKey    = "Key the order's reference (store: choose the store) and pay."
	sayCaptureSent   = "The receipt prints when Vipps MobilePay confirms the capture."
	sayCaptureNot    = "Nothing is reserved under this reference. Check it, or press cancel."
)

// printerBanner is the cashier's one line about the printer: what to do,
// and how many receipts wait (they print by themselves once it is fixed).
func printerBanner(state string, queued int) string {
	var say string
	switch state {
	case "", "ok":
		return ""
	case "paper_low":
		return "Printer: paper nearly out – have a new roll ready."
	case "paper_out":
		say = "Printer out of paper – load a new roll."
	case "cover_open":
		say = "Printer cover open – close it."
	case "error":
		say = "Printer error – check the printer."
	default:
		say = "Printer offline – check its cable and power."
	}
	switch queued {
	case 0:
		return say
	case 1:
		return say + " 1 receipt waits."
	}
	return fmt.Sprintf("%s %d receipts wait.", say, queued)
}
