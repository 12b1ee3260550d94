package vippssim

import (
	"time"

	"kasse/money"
)

// UnknownResultDelay is how long a payment of the "unknown result" test
// amount (2.01 NOK) stays unresolved after approval before it is authorized.
const UnknownResultDelay = time.Hour

// outcome is what the issuer says when the shopper approves.
type outcome int

const (
	outcomeAuthorized outcome = iota
	outcomeDeclined
	outcomeUnknown
)

// testAmountOutcome applies the amounts with a fixed outcome in the
// provider's test environment (NOK): the card is refused for a reason, or
// the result stays unknown for an hour. Any other amount is authorized.
// The reason doubles as the eCom errorMessage, hence the provider's wording.
func testAmountOutcome(a money.Amount) (outcome, string) {
	if a.Currency != "NOK" {
		return outcomeAuthorized, ""
	}
	switch a.Value {
	case 151:
		return outcomeDeclined, "Refused by issuer because of insufficient funds"
	case 182:
		return outcomeDeclined, "Refused by issuer"
	case 183:
		return outcomeDeclined, "Refused by issuer because of suspected fraud"
	case 186:
		return outcomeDeclined, "Refused by issuer because of expired card"
	case 201:
		return outcomeUnknown, ""
	}
	return outcomeAuthorized, ""
}
