package device

import (
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	for _, n := range Names() {
		k, err := ParseKey(strings.ToUpper(n))
		if err != nil || string(k) != n {
			t.Errorf("ParseKey(%q) = %q, %v", n, k, err)
		}
	}
	_, err := ParseKey("paz")
	if err == nil || !strings.Contains(err.Error(), `unknown key "paz"`) || !strings.Contains(err.Error(), "pay") {
		t.Fatalf("ParseKey(paz) = %v, want an error listing the keys", err)
	}
	if n := Names(); n[0] != "0" || n[len(n)-1] == "0" {
		t.Fatalf("Names() = %v, want digits first", n)
	}
}

func TestDigit(t *testing.T) {
	if d, ok := Key00.Digit(); !ok || d != "00" {
		t.Fatalf("00 = %q %v", d, ok)
	}
	if _, ok := KeyPay.Digit(); ok {
		t.Fatal("pay is a digit")
	}
}

// A name of any length is refused with a message of bounded length.
func TestUnknownLongKeyNameIsCut(t *testing.T) {
	_, err := ParseKey(strings.Repeat("x", 10000))
	if err == nil || len(err.Error()) > 400 {
		t.Fatalf("ParseKey of 10000 bytes: %d-byte error", len(err.Error()))
	}
}
