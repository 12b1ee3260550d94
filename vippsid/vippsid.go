// Package vippsid is the rules of the identifiers the Vipps MobilePay APIs
// define, written once: a payment's reference and a merchant serial number.
// It is a leaf, like money, so the store, the printer, the client and the
// simulator all check the same rule.
package vippsid

// The patterns as the OpenAPI documents give them, for messages.
const (
	ReferencePattern = `^[a-zA-Z0-9-]{8,50}$`
	MSNPattern       = `^[0-9]{4,6}$`
)

// Reference reports whether ref is a valid payment reference (ePayment;
// eCom's orderId takes the same characters).
func Reference(ref string) bool {
	if len(ref) < 8 || len(ref) > 50 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// MSN reports whether s is a merchant serial number: 4 to 6 digits.
func MSN(s string) bool {
	if len(s) < 4 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
