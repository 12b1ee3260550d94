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
	t.state, t.phone, t.remote = StatePhone, "", false
	t.showPhone()
	return nil
}

// askRemote moves from the amount to a remote order's customer's phone
// number: the customer is not in the shop, and approves in their app.
func (t *Till) askRemote() error {
	if err := t.amount().Check(); err != nil {
		return t.startSale("") // the same refusal as Pay
	}
	t.state, t.phone, t.remote = StatePhone, "", true
	t.showPhone()
	return nil
}

// showPhone shows the number as the cashier keys it, on the customer
// display only (the shopper checks it); it never reaches logs or status.
func (t *Till) showPhone() {
	title := "Phone number"
	if t.remote {
		title = "Remote order: customer's phone"
	}
	t.show(display.Screen{Kind: display.Amount, Title: title, Amount: t.amount().String(),
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
		t.phone, t.state, t.remote = "", StateKeying, false
		t.show(display.Screen{Kind: display.Amount, Amount: t.amount().String()})
		return nil
	case k == device.KeyPay:
		number := t.cfg.CountryCode + t.phone
		if !msisdn.MatchString(number) {
			return fmt.Errorf("+%s %s is not a mobile number: key it without the country code", t.cfg.CountryCode, t.phone)
		}
		remote := t.remote
		t.phone, t.remote = "", false
		return t.begin(number, remote)
	default:
		return fmt.Errorf("key %q does nothing here: key the phone number, then pay", k)
	}
	t.showPhone()
	return nil
}
