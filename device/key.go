// Package device is where the register's input hardware lives. Today it
// holds the cashier's keys as names and functions only: they arrive through
// the control socket (kassectl key, and scans through kassectl scan). The
// drivers for GPIO buttons, a matrix keypad and USB keypads and scanners
// (evdev) are still to come (issue 12); each will turn its hardware's events
// into these Keys.
package device

import (
	"fmt"
	"sort"
	"strings"
)

// Key is one key of the cashier's keyboard, named as kassectl names it.
type Key string

// The register's keys. Digits key the amount in øre as on a classic register:
// 1 2 5 0 0 is 125,00.
const (
	Key0      Key = "0"
	Key1      Key = "1"
	Key2      Key = "2"
	Key3      Key = "3"
	Key4      Key = "4"
	Key5      Key = "5"
	Key6      Key = "6"
	Key7      Key = "7"
	Key8      Key = "8"
	Key9      Key = "9"
	Key00     Key = "00"     // two zeros at once
	KeyBack   Key = "back"   // delete the last digit
	KeyClear  Key = "clear"  // clear the amount, or dismiss a result screen
	KeyPay    Key = "pay"    // start a Vipps MobilePay payment for the keyed amount
	KeyCancel Key = "cancel" // cancel the payment in progress
	KeyRefund Key = "refund" // refund a sale: scan its receipt, key the amount, press pay
	KeyPhone  Key = "phone"  // key the shopper's phone number for a push payment
)

var keys = map[Key]string{
	Key0: "digit", Key1: "digit", Key2: "digit", Key3: "digit", Key4: "digit",
	Key5: "digit", Key6: "digit", Key7: "digit", Key8: "digit", Key9: "digit",
	Key00:     "two zeros",
	KeyBack:   "delete the last digit",
	KeyClear:  "clear the amount or dismiss the result screen",
	KeyPay:    "start a Vipps MobilePay payment for the keyed amount",
	KeyCancel: "cancel the payment in progress",
	KeyRefund: "refund a sale: scan its receipt, key the amount and press pay (or press pay twice for all)",
	KeyPhone:  "after the amount: key the shopper's phone number, then pay sends the request to their app",
}

// ParseKey returns the key called name, or an error listing the known names.
func ParseKey(name string) (Key, error) {
	k := Key(strings.ToLower(strings.TrimSpace(name)))
	if _, ok := keys[k]; ok {
		return k, nil
	}
	shown := name
	if len(shown) > 40 { // a name comes from a socket or a keypad map: never echo it whole
		shown = shown[:40] + "…"
	}
	return "", fmt.Errorf("unknown key %q: use one of %s", shown, strings.Join(Names(), " "))
}

// Names lists every key name, digits first.
func Names() []string {
	var n []string
	for k := range keys {
		n = append(n, string(k))
	}
	sort.Slice(n, func(i, j int) bool {
		di, dj := n[i][0] >= '0' && n[i][0] <= '9', n[j][0] >= '0' && n[j][0] <= '9'
		if di != dj {
			return di
		}
		return n[i] < n[j]
	})
	return n
}

// Digit reports whether k keys digits, and which.
func (k Key) Digit() (string, bool) {
	if keys[k] == "digit" || k == Key00 {
		return string(k), true
	}
	return "", false
}
