package report_test

import (
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/journal/report"
	"kasse/printer/escpos"
	"kasse/printer/printertest"
	"kasse/store"
)

// go test ./journal/report -run TestGolden -update (make golden) rewrites
// testdata/golden from the current layout; review the diff before committing.
var update = flag.Bool("update", false, "rewrite the golden report renderings")

func sample() report.Report {
	cet := time.FixedZone("CET", 3600)
	vipps := report.Payment{Code: store.PaymentMobileApps, Name: "Vipps MobilePay", Num: 14, Amount: 1_234_50}
	return report.Report{Kind: report.KindZ, Z: 42, Company: "Butikken Oslo S", Org: "987654325",
		Time: time.Date(2026, 3, 7, 22, 5, 0, 0, cet), Register: "OSLO1-2", Store: "OSLO1", Lane: "2", Cashier: "7",
		Currency: "NOK", From: time.Date(2026, 3, 6, 22, 1, 0, 0, cet), PreviousZ: 41, FirstSeq: 1001, LastSeq: 1040,
		TotalCashSales: 1_234_50,
		Groups:         []report.Group{{ID: "1", Name: "Kjøp i butikk", Num: 12, Amount: 1_234_50}},
		Payments:       []report.Payment{vipps},
		Cashiers: []report.Cashier{
			{ID: "7", Sales: report.Count{Num: 10, Amount: 1_100_00}, Payments: []report.Payment{{Code: 12011, Name: "Vipps MobilePay", Num: 10, Amount: 1_100_00}}},
			{ID: "", Returns: report.Count{Num: 2, Amount: 65_50}, Payments: []report.Payment{{Code: 12011, Name: "Vipps MobilePay", Num: 2, Amount: -65_50}}},
			{ID: "12", Sales: report.Count{Num: 2, Amount: 200_00}, Payments: []report.Payment{{Code: 12011, Name: "Vipps MobilePay", Num: 2, Amount: 200_00}}},
		},
		VAT:           []report.VATRate{{Rate: 2500, Gross: 1_234_50, Net: 987_60, VAT: 246_90}},
		SalesReceipts: report.Count{Num: 12, Amount: 1_300_00}, Copies: report.Count{Num: 1, Amount: 99_00},
		Returns: report.Count{Num: 2, Amount: 65_50}, Printed: 11, ReturnPrinted: 2, Unprinted: report.Count{Num: 1, Amount: 50_00},
		Grand: report.Totals{Sales: 98_765_432_10, Returns: 1_234_00, Net: 98_764_198_10}}
}

func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	x := sample()
	x.Kind, x.Z = report.KindX, 0
	empty := report.Report{Kind: report.KindZ, Z: 1, Company: "Butikken Oslo S", Org: "987654325", Register: "OSLO1-2",
		Currency: "NOK", Time: time.Date(2026, 3, 7, 22, 5, 0, 0, time.UTC), From: time.Date(2026, 3, 7, 22, 5, 0, 0, time.UTC),
		Groups: []report.Group{{ID: "1", Name: "Salg"}}}
	for name, r := range map[string]report.Report{"z": sample(), "x": x, "z-empty": empty} {
		for _, cols := range []int{32, 42, 48} {
			file := filepath.Join(dir, fmt.Sprintf("%s-nb-%d.txt", name, cols))
			got, err := report.Text(r, cols)
			if err != nil {
				t.Fatal(err)
			}
			printertest.Golden(t, file, got, *update)
		}
	}
}

// Every line fits the paper, and the words the regulation asks for are
// on it, on every width.
func TestLayoutFitsAndSaysWhatItIs(t *testing.T) {
	for _, kind := range []string{report.KindX, report.KindZ} {
		r := sample()
		r.Kind = kind
		for _, cols := range []int{24, 32, 42, 48} {
			b, err := report.Encode(r, cols)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := escpos.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range doc.Lines {
				if w := escpos.TextWidth(l.Text) * l.Width; w > cols {
					t.Errorf("%s %d columns: %q is %d wide", kind, cols, l.Text, w)
				}
			}
			want := []string{strings.ToUpper(kind + "-rapport"), "987 654 325 MVA", "OSLO1-2", "Grand total netto",
				"98 764 198,10 kr", "Vipps MobilePay", "Kopikvitteringer", "Skuffeåpninger"}
			if kind == report.KindZ {
				want = append(want, "Z-nummer")
			}
			for _, s := range want {
				if !doc.Contains(s) {
					t.Errorf("%s %d columns lacks %q:\n%s", kind, cols, s, doc.Render(cols))
				}
			}
			for _, l := range doc.Lines {
				if kind == report.KindX && strings.HasPrefix(l.Text, "Z-nummer") {
					t.Errorf("an X report shows a Z number: %q", l.Text)
				}
			}
		}
	}
	if _, err := report.Encode(report.Report{Kind: "Y"}, 42); err == nil {
		t.Error("a report of kind Y was laid out")
	}
}
