package receipt

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"kasse/printer/escpos"
)

func sample() Receipt {
	return Receipt{
		StoreName:     "Kiosken på hjørnet",
		StoreLines:    []string{"Storgata 1, 0155 Oslo"},
		OrgNumber:     "987654325",
		Number:        17,
		Store:         "OSLO1",
		Lane:          "2",
		Reference:     "OSLO1-2-000042",
		Time:          time.Date(2026, 3, 7, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
		Currency:      "NOK",
		Lines:         []Line{{Text: "Kaffe", Quantity: 2, Amount: 7000, TaxRate: 2500}, {Text: "Blåbærsyltetøy", Quantity: 1, Amount: 5500, TaxRate: 1500}},
		Total:         12500,
		PaymentMethod: "Vipps MobilePay",
		Footer:        []string{"Takk for handelen!"},
	}
}

func decode(t *testing.T, r Receipt, o Options) escpos.Document {
	t.Helper()
	b, err := Encode(r, o)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := escpos.Decode(b)
	if err != nil {
		t.Fatalf("%v\n% x", err, b)
	}
	return doc
}

func TestEncodeFullReceipt(t *testing.T) {
	r := sample()
	doc := decode(t, r, Options{})
	render := doc.Render(42)
	for _, want := range []string{
		"Kiosken på hjørnet", "Org.nr. 987 654 325 MVA", "SALGSKVITTERING", "Kvitteringsnr.", "17",
		"2 x Kaffe", "70,00", "Blåbærsyltetøy", "55,00",
		"MVA 15 % av 55,00", "7,17", "MVA 25 % av 70,00", "14,00", "Sum MVA", "21,17",
		"Totalt", "125,00 kr", "Betalt med", "Vipps MobilePay",
		"07.03.2026 14:05", "OSLO1 / 2", "Vipps-referanse", "OSLO1-2-000042", "Takk for handelen!",
	} {
		if !doc.Contains(want) {
			t.Errorf("receipt lacks %q:\n%s", want, render)
		}
	}
	if doc.Contains("KOPI") || doc.Contains("RETURKVITTERING") {
		t.Errorf("an original sale says KOPI or RETURKVITTERING:\n%s", render)
	}
	if len(doc.Barcodes) != 1 || doc.Barcodes[0].Data != r.Reference || doc.Barcodes[0].HRI != 2 {
		t.Errorf("barcodes = %+v, want one of %q with HRI below", doc.Barcodes, r.Reference)
	}
	if len(doc.Cuts) != 1 || doc.Cuts[0] != len(doc.Lines) {
		t.Errorf("cuts = %v after %d lines, want one at the end", doc.Cuts, len(doc.Lines))
	}
	head := doc.Lines[0]
	if head.Text != r.StoreName || !head.Bold || head.Align != escpos.Center {
		t.Errorf("first line = %+v, want the store name centred and bold", head)
	}
	for _, l := range doc.Lines {
		if strings.HasPrefix(l.Text, "Totalt") {
			if l.Width != 2 || l.Height != 2 || !l.Bold || l.Text != "Totalt"+strings.Repeat(" ", 21-6-9)+"125,00 kr" {
				t.Errorf("total line = %+v, want bold double size right-aligned in 21 columns", l)
			}
		}
	}
}

func TestLinesFitTheColumns(t *testing.T) {
	r := sample()
	r.Lines = append(r.Lines, Line{Text: "En svært lang varetekst som ikke får plass på én linje i det hele tatt", Amount: 100, TaxRate: 2500})
	r.Total += 100
	r.Footer = append(r.Footer, "Åpent alle dager 07–23, søndag stengt")
	for _, cols := range []int{24, 32, 42, 48, 64} {
		doc := decode(t, r, Options{Columns: cols})
		for _, l := range doc.Lines {
			if w := escpos.TextWidth(l.Text) * l.Width; w > cols {
				t.Errorf("%d columns: line %q is %d wide", cols, l.Text, w)
			}
		}
		if !doc.Contains("Totalt") || !doc.Contains("126,00 kr") {
			t.Errorf("%d columns: no total:\n%s", cols, doc.Render(cols))
		}
	}
}

func TestCopyAndRefund(t *testing.T) {
	r := sample()
	r.Copy = true
	doc := decode(t, r, Options{Columns: 32})
	var copies []int
	for i, l := range doc.Lines {
		if l.Text == "KOPI" {
			copies = append(copies, i)
			if l.Width != 2 || l.Height != 2 || !l.Bold {
				t.Errorf("KOPI line %+v is not prominent", l)
			}
		}
	}
	if len(copies) != 2 || copies[0] != 0 || copies[1] != len(doc.Lines)-1 {
		t.Errorf("KOPI at lines %v of %d, want first and last:\n%s", copies, len(doc.Lines), doc.Render(32))
	}
	if !doc.Contains("SALGSKVITTERING") || !doc.Contains("17") {
		t.Errorf("a copy must still say what it copies, with its number:\n%s", doc.Render(32))
	}

	r = sample()
	r.Refund, r.OriginStore = true, "BERG1"
	doc = decode(t, r, Options{})
	for _, want := range []string{"RETURKVITTERING", "-125,00 kr", "-70,00", "-21,17", "Tilbakebetalt til",
		"Gjelder salg", "OSLO1-2-000042", "Salgsbutikk", "BERG1"} {
		if !doc.Contains(want) {
			t.Errorf("refund lacks %q:\n%s", want, doc.Render(42))
		}
	}
}

func TestSaleWithoutLines(t *testing.T) {
	r := sample()
	r.Lines = nil
	r.Total = 5000
	r.Currency = "EUR"
	doc := decode(t, r, Options{})
	if !slices.ContainsFunc(doc.Text(), func(s string) bool { return strings.HasPrefix(s, "Salg ") && strings.HasSuffix(s, "50,00") }) {
		t.Errorf("no Salg line:\n%s", doc.Render(42))
	}
	if !doc.Contains("50,00 EUR") {
		t.Errorf("euro total not written as EUR:\n%s", doc.Render(42))
	}
	if doc.Contains("MVA ") && !doc.Contains("325 MVA") || doc.Contains("Sum MVA") {
		t.Errorf("a keyed amount has no VAT rate, yet a VAT line was printed:\n%s", doc.Render(42))
	}
}

func TestLongReferenceOnNarrowPaperIsAQRCode(t *testing.T) {
	r := sample()
	r.Reference = "OSLO1-LANE2-20260307-000000042-retry1"
	doc := decode(t, r, Options{Columns: 32})
	if len(doc.Barcodes) != 0 || len(doc.QRCodes) != 1 || doc.QRCodes[0].Data != r.Reference {
		t.Fatalf("barcodes %+v, QR %+v: want the reference as a QR code", doc.Barcodes, doc.QRCodes)
	}
	if !doc.Contains(r.Reference[:20]) {
		t.Errorf("reference text missing:\n%s", doc.Render(32))
	}
	// A short reference still fits 58 mm paper as a barcode.
	doc = decode(t, sample(), Options{Columns: 32})
	if len(doc.Barcodes) != 1 || doc.Barcodes[0].Width < 2 {
		t.Errorf("a short reference on 58 mm should be a barcode of module width ≥ 2: %+v", doc.Barcodes)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		modify func(r *Receipt, o *Options)
		want   string
	}{
		{"empty reference", func(r *Receipt, o *Options) { r.Reference = "" }, "reference"},
		{"short reference", func(r *Receipt, o *Options) { r.Reference = "ABC-12" }, "8 to 50"},
		{"reference with space", func(r *Receipt, o *Options) { r.Reference = "OSLO1 000042" }, "letters, digits"},
		{"totals mismatch", func(r *Receipt, o *Options) { r.Total = 12400 }, "add up to 125,00 but the total is 124,00"},
		{"currency", func(r *Receipt, o *Options) { r.Currency = "SEK" }, "SEK"},
		{"zero total", func(r *Receipt, o *Options) { r.Lines = nil; r.Total = 0 }, "total"},
		{"no time", func(r *Receipt, o *Options) { r.Time = time.Time{} }, "time"},
		{"no store", func(r *Receipt, o *Options) { r.StoreName = " " }, "store name"},
		{"no org number", func(r *Receipt, o *Options) { r.OrgNumber = "" }, "organisation number"},
		{"org number check digit", func(r *Receipt, o *Options) { r.OrgNumber = "987654321" }, "check digit"},
		{"no number", func(r *Receipt, o *Options) { r.Number = 0 }, "receipt number"},
		{"language", func(r *Receipt, o *Options) { o.Language = "sv" }, "printer.language"},
		{"negative quantity", func(r *Receipt, o *Options) { r.Lines[0].Quantity = -1 }, "quantity"},
		{"tax rate", func(r *Receipt, o *Options) { r.Lines[0].TaxRate = 25 * 10000 }, "VAT rate"},
		{"narrow", func(r *Receipt, o *Options) { o.Columns = 20 }, "columns"},
		{"wide", func(r *Receipt, o *Options) { o.Columns = 80 }, "columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, o := sample(), Options{}
			tt.modify(&r, &o)
			b, err := Encode(r, o)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode = %d bytes, %v; want ErrInvalid mentioning %q", len(b), err, tt.want)
			}
		})
	}
}

func BenchmarkEncodeReceipt(b *testing.B) {
	r := sample()
	for range 20 {
		r.Lines = append(r.Lines, Line{Text: "Skolebolle med vaniljekrem", Quantity: 3, Amount: 8700, TaxRate: 1500})
		r.Total += 8700
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRate(t *testing.T) {
	for bp, want := range map[int]string{2500: "25 %", 1500: "15 %", 1125: "11,25 %", 1250: "12,5 %", 0: "0 %"} {
		if got := Rate(bp); got != want {
			t.Errorf("Rate(%d) = %q, want %q", bp, got, want)
		}
	}
}

// BenchmarkTypicalReceipt encodes the receipt a sale prints (one line, one
// VAT rate, 42 columns, Norwegian) and reports its size: receipt_bytes.
func BenchmarkTypicalReceipt(b *testing.B) {
	r := kinds()["sale"]
	r.Footer = nil
	var n int
	for b.Loop() {
		out, err := Encode(r, Options{Columns: 42})
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "receipt_bytes/B")
}
