package receipt

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"kasse/printer/escpos"
)

// FuzzEncode lays out receipts whose texts are arbitrary UTF-8 (a store
// name, an article, a footer from the config or the till). Properties: no
// panic; an error is ErrInvalid; a receipt encodes to a stream the strict
// decoder accepts, with one cut, no line wider than the paper, the
// reference's code, and every character of a text accounted for (no rune
// dropped: each prints as itself, a stand-in, or '?').
func FuzzEncode(f *testing.F) {
	f.Add("Kiosken på hjørnet", "Blåbærsyltetøy", "Takk – «velkommen» igjen!", uint8(32), uint8(0), false, false)
	f.Add("Ærlig Øl", "Škoda € 5 … ő \x00\x1b@", "\u200b", uint8(42), uint8(3), true, false)
	f.Add(strings.Repeat("W", 200), "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z", "", uint8(24), uint8(1), true, true)
	f.Fuzz(func(t *testing.T, name, item, footer string, cols, lang uint8, refund, copy bool) {
		r := kinds()["sale"]
		r.StoreName, r.Footer, r.Refund, r.Copy = name, []string{footer}, refund, copy
		r.Lines = []Line{{Text: item, Quantity: 1, Amount: r.Total, TaxRate: 2500}}
		o := Options{Columns: MinColumns + int(cols)%(MaxColumns-MinColumns+1), Language: Languages[int(lang)%len(Languages)]}
		b, err := Encode(r, o)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		doc, err := escpos.Decode(b)
		if err != nil {
			t.Fatalf("the encoder wrote a stream the decoder refuses: %v", err)
		}
		if len(doc.Cuts) != 1 || len(doc.Barcodes)+len(doc.QRCodes) != 1 {
			t.Fatalf("cuts %v, codes %d+%d", doc.Cuts, len(doc.Barcodes), len(doc.QRCodes))
		}
		for _, l := range doc.Lines {
			if w := escpos.TextWidth(l.Text) * l.Width; w > o.Columns {
				t.Fatalf("line %q is %d columns on %d-column paper", l.Text, w, o.Columns)
			}
		}
		// The footer is printed wrapped: its runes, spaces aside, all come
		// out (as themselves or stand-ins, at least one byte each).
		in := 0
		for _, w := range strings.Fields(footer) {
			in += len(escpos.EncodeText(w))
		}
		if in < utf8.RuneCountInString(strings.Join(strings.Fields(footer), "")) {
			t.Fatalf("EncodeText dropped characters of %q", footer)
		}
	})
}
