package receipt

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/printer/escpos"
	"kasse/printer/printertest"
)

// go test ./printer/receipt -run TestGolden -update (make golden) rewrites
// testdata/golden from the current layout; review the diff before committing.
var update = flag.Bool("update", false, "rewrite the golden receipt renderings")

// kinds are the receipts the register prints: a sale's original, its one
// copy, and a refund slip (which has no copy).
func kinds() map[string]Receipt {
	sale := Receipt{
		StoreName: "Kiosken på hjørnet", StoreLines: []string{"Storgata 1, 0155 Oslo"}, OrgNumber: "987654325",
		Store: "OSLO1", Lane: "2", Number: 1042, Reference: "OSLO1-2-k7f3-1042",
		Time:     time.Date(2026, 3, 7, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
		Currency: "NOK", Lines: []Line{{Text: "Kjøp i butikk", Quantity: 1, Amount: 12500, TaxRate: 2500}},
		Total: 12500, PaymentMethod: "Vipps MobilePay", Footer: []string{"Takk for handelen – «velkommen» tilbake!"},
	}
	cp := sale
	cp.Copy = true
	refund := sale
	refund.Refund, refund.Number, refund.Total, refund.OriginStore = true, 7, 5000, "BERG1"
	refund.Store, refund.Lines = "OSLO1", []Line{{Text: "Kjøp i butikk", Quantity: 1, Amount: 5000, TaxRate: 2500}}
	refund.Reference = "BERG1-1-zz9q-88"
	return map[string]Receipt{"sale": sale, "copy": cp, "refund": refund}
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	for name, r := range kinds() {
		for _, lang := range []string{"nb", "en"} {
			for _, cols := range []int{32, 42, 48} {
				file := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.txt", name, lang, cols))
				doc := decode(t, r, Options{Columns: cols, Language: lang})
				got := doc.Render(cols)
				printertest.Golden(t, file, got, *update)
			}
		}
	}
}

// Labels are never split mid-word, on any paper, in any language; the
// required words stand on every receipt.
func TestWordsStayWhole(t *testing.T) {
	for _, lang := range Languages {
		w := languages[lang]
		for name, r := range kinds() {
			for _, cols := range []int{24, 32, 42, 48} {
				doc := decode(t, r, Options{Columns: cols, Language: lang})
				var tokens []string
				for _, l := range doc.Lines {
					tokens = append(tokens, strings.Fields(l.Text)...)
				}
				have := map[string]bool{}
				for _, tok := range tokens {
					have[tok] = true
				}
				labels := []string{w.number, w.date, w.register, w.total, w.org}
				if r.Refund {
					labels = append(labels, w.refunded, w.origin, w.originStore, strings.ToUpper(w.refund))
				} else {
					labels = append(labels, w.paid, w.reference, strings.ToUpper(w.sale))
				}
				if r.Copy {
					labels = append(labels, strings.ToUpper(w.copy))
				}
				for _, label := range labels {
					for _, word := range strings.Fields(label) {
						if !have[word] {
							t.Errorf("%s %s %d columns: %q of %q is not a whole word:\n%s", name, lang, cols, word, label, doc.Render(cols))
						}
					}
				}
				if !doc.Contains("987 654 325 MVA") {
					t.Errorf("%s %s %d: no organisation number with MVA", name, lang, cols)
				}
			}
		}
	}
}

// Nordic letters print in PC865; what it lacks becomes a close character,
// never nothing.
func TestNordicText(t *testing.T) {
	r := kinds()["sale"]
	r.StoreName = "Ærlig Øl & Å – «Smørbrød»"
	r.Footer = []string{"Tervetuloa äiti! Škoda € 5 … ő"}
	doc := decode(t, r, Options{Columns: 42})
	for _, want := range []string{"Ærlig Øl & Å - \"Smørbrød\"", "Tervetuloa äiti! Skoda EUR 5 ... o"} {
		if !doc.Contains(want) {
			t.Errorf("lacks %q:\n%s", want, doc.Render(42))
		}
	}
	if got := escpos.EncodeText("a\x00b\u200bc"); string(got) != "a?b?c" {
		t.Errorf("EncodeText kept or dropped control/zero-width characters: %q", got)
	}
}
