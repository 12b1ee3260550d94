// Package device is where the register's input hardware lives: the
// cashier's keys as functions (Key), the events every key source sends
// (Event), and the key map from physical keys to functions. The drivers
// are sub-packages, each with a fake beside it: button (GPIO buttons),
// matrix (a scanned keypad) and evdev (USB keypads and barcode scanners).
// The control socket (kassectl key, kassectl scan) sends the same Keys.
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
	Key0       Key = "0"
	Key1       Key = "1"
	Key2       Key = "2"
	Key3       Key = "3"
	Key4       Key = "4"
	Key5       Key = "5"
	Key6       Key = "6"
	Key7       Key = "7"
	Key8       Key = "8"
	Key9       Key = "9"
	Key00      Key = "00"      // two zeros at once
	KeyBack    Key = "back"    // delete the last digit
	KeyClear   Key = "clear"   // clear the amount, or dismiss a result screen
	KeyPay     Key = "pay"     // start a Vipps MobilePay payment for the keyed amount
	KeyCancel  Key = "cancel"  // cancel the payment in progress
	KeyRefund  Key = "refund"  // refund a sale: scan its receipt, key the amount, press pay
	KeyPhone   Key = "phone"   // key the shopper's phone number for a push payment
	KeyLogout  Key = "logout"  // end the cashier's shift
	KeyLock    Key = "lock"    // lock the till now; the cashier's PIN opens it
	KeyCopy    Key = "copy"    // reprint the last receipt, marked COPY
	KeyStore   Key = "store"   // keying a reference: the next store of the chain
	KeyDash    Key = "-"       // keying a reference: the dash between its parts
	KeyABC     Key = "abc"     // keying a reference on a numeric keypad: digits 2–9 type letters, as on a phone
	KeyRemote  Key = "remote"  // a remote order: the customer is not in the shop; key their phone number
	KeyCapture Key = "capture" // capture a remote order at dispatch: key its reference, then pay
	KeyXReport Key = "xreport" // print an X report: the day's sums so far
	KeyZReport Key = "zreport" // print the Z report: close the day (a supervisor's PIN)
)

var keys = withLetters(map[Key]string{
	Key0: "digit", Key1: "digit", Key2: "digit", Key3: "digit", Key4: "digit",
	Key5: "digit", Key6: "digit", Key7: "digit", Key8: "digit", Key9: "digit",
	Key00:      "two zeros",
	KeyBack:    "delete the last digit",
	KeyClear:   "clear the amount or dismiss the result screen",
	KeyPay:     "start a Vipps MobilePay payment for the keyed amount",
	KeyCancel:  "cancel the payment in progress",
	KeyRefund:  "refund a sale: scan its receipt, key the amount and press pay (or press pay twice for all)",
	KeyPhone:   "after the amount: key the shopper's phone number, then pay sends the request to their app",
	KeyLogout:  "end the shift: the next cashier logs in with their number and PIN",
	KeyLock:    "lock the till; the cashier's PIN opens it again",
	KeyCopy:    "reprint the last receipt, marked COPY (once per sale)",
	KeyStore:   "keying a receipt's reference: choose the next store of the chain",
	KeyDash:    "keying a receipt's reference: the dash between its parts",
	KeyCapture: "capture a remote order reserved until dispatch: key (or scan) its reference, then pay",
	KeyRemote:  "after the amount: a remote order (the customer is not in the shop): key their phone number, then pay sends the request to their app",
	KeyXReport: "print an X report: the sums since the last Z report, closing nothing (a logged-in cashier)",
	KeyZReport: "print the Z report and close the day; a supervisor keys their PIN and pay when cashiers log in",
	KeyABC:     "keying a receipt's reference: switch digits 2–9 to letters (press again to go back); press a digit again within a second for its next letter, as on a phone",
})

// withLetters adds a to z: they key the series tag of a reference (k7f3 in
// OSLO1-2-k7f3-17) from a USB keyboard or kassectl when a receipt's barcode
// will not scan.
func withLetters(m map[Key]string) map[Key]string {
	for c := 'a'; c <= 'z'; c++ {
		m[Key(string(c))] = "letter"
	}
	return m
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

// Char reports the character k keys into a reference: a digit, a letter
// or the dash.
func (k Key) Char() (byte, bool) {
	switch keys[k] {
	case "digit", "letter":
		return k[0], true
	}
	return '-', k == KeyDash
}

// Digit reports whether k keys digits, and which.
func (k Key) Digit() (string, bool) {
	if keys[k] == "digit" || k == Key00 {
		return string(k), true
	}
	return "", false
}
