// Package money is the register's amounts in minor units (øre, cent):
// formatted and parsed the way Nordic shops write them (125,00 kr), checked
// against the ePayment API's limits, and the VAT they include. It is a leaf:
// it imports nothing of the register, so every room may use it.
package money

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxValue is the largest amount, in minor units, that the ePayment API
// accepts in one payment (its Amount schema's maximum).
const MaxValue = 65_000_000 // 650 000,00: the ePayment Amount schema maximum

// Amount is a value in minor units and its ISO 4217 currency.
type Amount struct {
	Value    int64  `json:"value"`
	Currency string `json:"currency"`
}

// Currencies the register can take, and the symbol printed after the number.
var symbols = map[string]string{"NOK": "kr", "DKK": "kr.", "EUR": "€"}

// ValidCurrency reports whether c is NOK, DKK or EUR.
func ValidCurrency(c string) bool { _, ok := symbols[c]; return ok }

// Number formats v as "1 234,50" (space thousands, comma decimals).
func Number(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	whole := strconv.FormatInt(v/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s%s,%02d", sign, b.String(), v%100)
}

// String formats the amount as "125,00 kr".
func (a Amount) String() string {
	sym, ok := symbols[a.Currency]
	if !ok {
		sym = a.Currency
	}
	return Number(a.Value) + " " + sym
}

// Check returns an error a cashier can act on when a is not a payable amount.
func (a Amount) Check() error {
	switch {
	case !ValidCurrency(a.Currency):
		return fmt.Errorf("currency %q is not supported: use NOK, DKK or EUR", a.Currency)
	case a.Value <= 0:
		return fmt.Errorf("amount %s is zero: key an amount before Pay", a)
	case a.Value > MaxValue:
		return fmt.Errorf("amount %s is above the maximum of %s: split the sale", a, Amount{MaxValue, a.Currency})
	}
	return nil
}

// VAT is the VAT included in the gross amount at rate basis points (2500 is
// 25 %), rounded half away from zero to a minor unit. The receipt and the
// receipt lines sent to Vipps both use it, so they never disagree.
func VAT(gross int64, rate int) int64 {
	num, den := gross*int64(rate), int64(10000+rate)
	if num < 0 {
		return -((-num*2 + den) / (2 * den))
	}
	return (num*2 + den) / (2 * den)
}
