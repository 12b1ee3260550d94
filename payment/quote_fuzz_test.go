package payment

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzQuoteScan feeds scanned codes to the quoting that errors, the log
// and kassectl status use. Property: the result is bounded whatever the
// code's length, valid UTF-8 without raw control characters, and quotes
// the code itself or, for a long code, a prefix of it and its length.
func FuzzQuoteScan(f *testing.F) {
	f.Add("OSLO1-2-k7f3-17")
	f.Add("https://qr.vipps.no/28/2/01/031/4791234567?v=1")
	f.Add(strings.Repeat("ø", 100))
	f.Add(strings.Repeat("\xff", 200))
	f.Add("\x1b[2J\x1b[HOSLO1-2-k7f3-17\r\n")
	f.Fuzz(func(t *testing.T, code string) {
		q := quoteScan(code)
		// Quote writes at most 10 bytes per byte (\U0010ffff for 4).
		if len(q) > 2+10*maxShown+len("… (99999999999 bytes)") {
			t.Fatalf("%d bytes quote as %d bytes", len(code), len(q))
		}
		if !utf8.ValidString(q) || strings.ContainsFunc(q, unicode.IsControl) {
			t.Fatalf("quote %q holds invalid UTF-8 or a control character", q)
		}
		head, tail, cut := q, "", false
		if i := strings.LastIndex(q, "… ("); i >= 0 && len(code) > maxShown {
			head, tail, cut = q[:i], q[i:], true
		}
		shown, err := strconv.Unquote(head)
		if err != nil {
			t.Fatalf("quote %q is not a quoted string: %v", q, err)
		}
		switch {
		case !cut && shown != code:
			t.Fatalf("quote %q shows %q, not the code %q", q, shown, code)
		case cut && (!strings.HasPrefix(code, shown) || len(shown) > maxShown || tail != "… ("+strconv.Itoa(len(code))+" bytes)"):
			t.Fatalf("quote %q of a %d-byte code", q, len(code))
		}
	})
}
