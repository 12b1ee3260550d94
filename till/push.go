package till

import (
	"fmt"
	"regexp"

	"kasse/device"
	"kasse/display"
)

// The ePayment phone number: country code and subscriber number, digits only.
var msisdn = regexp.MustCompile(`^\d{10,15}$`)

// askPhone moves from the amount to the shopper's phone number.
func (t *Till) askPhone() error {
	if err := t.amount().Check(); err != nil {
		return t.startSale("") // the same refusal as Pay
	}
	t.state, t.phone = StatePhone, ""
	t.showPhone()
	return nil
}

// showPhone shows the number as the cashier keys it, on the customer
// display only (the shopper checks it); it never reaches logs or status.
func (t *Till) showPhone() {
	t.show(display.Screen{Kind: display.Amount, Title: "Phone number", Amount: t.amount().String(),
		Message: fmt.Sprintf("+%s %s", t.cfg.CountryCode, t.phone)})
}

func (t *Till) phoneKey(k device.Key) error {
	switch d, digit := k.Digit(); {
	case digit:
		if len(t.phone)+len(d) > 12 {
			return fmt.Errorf("the phone number is too long: press back or clear")
		}
		t.phone += d
	case k == device.KeyBack && t.phone != "":
		t.phone = t.phone[:len(t.phone)-1]
	case k == device.KeyClear:
		t.phone = ""
	case k == device.KeyCancel:
		t.phone, t.state = "", StateKeying
		t.show(display.Screen{Kind: display.Amount, Amount: t.amount().String()})
		return nil
	case k == device.KeyPay:
		number := t.cfg.CountryCode + t.phone
		if !msisdn.MatchString(number) {
			return fmt.Errorf("+%s %s is not a mobile number: key it without the country code", t.cfg.CountryCode, t.phone)
		}
		t.phone = ""
		return t.startSale(number)
	default:
		return fmt.Errorf("key %q does nothing here: key the phone number, then pay", k)
	}
	t.showPhone()
	return nil
}
