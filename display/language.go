package display

// Language is the language of the screens' own words.
type Language string

// The languages the screens speak.
const (
	Norwegian Language = "nb"
	Danish    Language = "da"
	Finnish   Language = "fi"
	English   Language = "en"
)

// The no-QR panel's words.
const (
	phoneTitle   = "Pay with your phone number"
	phoneMessage = "Tell the cashier your phone number; the payment request comes to the Vipps MobilePay app."
)

// translate returns s in l; English and unknown text pass through.
func (l Language) translate(s string) string { return s }
