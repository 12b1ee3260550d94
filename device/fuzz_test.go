package device_test

import (
	"slices"
	"strings"
	"testing"

	"kasse/device"
)

// FuzzParseKey feeds key names as kassectl and the control socket pass
// them. Property: an accepted name is a known key, the one its trimmed,
// lower-case spelling names, and parses to itself again; digits are
// exactly the digit keys; a refusal lists every key name.
func FuzzParseKey(f *testing.F) {
	for _, n := range device.Names() {
		f.Add(n)
	}
	f.Add(" PAY\n")
	f.Add("Refund")
	f.Add("000")
	f.Add("1 2")
	f.Add("pay\x00")
	f.Fuzz(func(t *testing.T, name string) {
		k, err := device.ParseKey(name)
		if err != nil {
			msg := err.Error()
			for _, n := range device.Names() {
				if !strings.Contains(msg, " "+n) {
					t.Fatalf("refusal %q does not list key %q", msg, n)
				}
			}
			return
		}
		if !slices.Contains(device.Names(), string(k)) || string(k) != strings.ToLower(strings.TrimSpace(name)) {
			t.Fatalf("%q parsed to %q", name, k)
		}
		if again, err := device.ParseKey(string(k)); err != nil || again != k {
			t.Fatalf("%q parses to %q, %v", k, again, err)
		}
		d, digit := k.Digit()
		isDigit := len(k) >= 1 && strings.Trim(string(k), "0123456789") == ""
		if digit != isDigit || (digit && d != string(k)) {
			t.Fatalf("key %q: digit %q %v", k, d, digit)
		}
	})
}
