// Package receipt lays out a sale receipt or a refund slip as ESC/POS
// commands, with the words and numbers Norwegian bookkeeping rules ask for
// (README: "Receipt rules").
package receipt

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"kasse/money"
	"kasse/printer/escpos"
	"kasse/vippsid"
)

// Line is one article or service on the receipt.
type Line struct {
	Text     string
	Quantity int   // 0 or 1 print no quantity
	Amount   int64 // line total in minor units, VAT included; negative for a discount
	TaxRate  int   // basis points: 2500 is 25 %
}

// Receipt is everything printed for one completed sale or refund.
type Receipt struct {
	StoreName  string
	StoreLines []string // address
	// OrgNumber is the seller's organisation number, 9 digits; printed
	// with "MVA" (bokføringsforskriften § 5-1-2).
	OrgNumber string
	Store     string // store prefix, e.g. OSLO1
	Lane      string
	// Number is the receipt number from the register's gap-free sequence
	// (sales and refunds numbered apart); a copy keeps the original's.
	Number uint64
	// Reference is the Vipps reference, printed as text and as a CODE128
	// barcode so any store of the chain can find the sale again. A refund
	// slip's is the sale's.
	Reference     string
	Time          time.Time // printed in its own location
	Currency      string
	Lines         []Line
	Total         int64 // minor units, positive also for a refund
	PaymentMethod string
	Copy          bool // a reprint: "Kopi" at top and bottom
	Refund        bool // a refund slip: "Returkvittering", amounts negative
	// OriginStore is the store that made the refunded sale (a slip only).
	OriginStore string
	Footer      []string
	Cashier     string // the logged-in cashier's id; empty prints no line
}

// Options fit the layout to the paper and the reader.
type Options struct {
	// Columns of normal-size characters per line: 32 for 58 mm paper, 42 or
	// 48 for 80 mm. Zero means 42.
	Columns int
	// Language of the labels: "nb" (default), "da", "fi" or "en".
	Language string
}

// Column limits Encode accepts.
const (
	DefaultColumns = 42
	MinColumns     = 24
	MaxColumns     = 64
)

// ErrInvalid is wrapped by every validation error of Encode.
var ErrInvalid = errors.New("invalid receipt")

func (o Options) columns() (int, error) {
	switch {
	case o.Columns == 0:
		return DefaultColumns, nil
	case o.Columns < MinColumns || o.Columns > MaxColumns:
		return 0, fmt.Errorf("%w: %d columns is outside %d..%d: set printer.columns to 32 for 58 mm paper or 42/48 for 80 mm",
			ErrInvalid, o.Columns, MinColumns, MaxColumns)
	}
	return o.Columns, nil
}

// Validate reports the first reason r cannot be printed.
func (r Receipt) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if strings.TrimSpace(r.StoreName) == "" {
		return bad("store name is empty: set store.name in the config")
	}
	if err := CheckOrgNumber(r.OrgNumber); err != nil {
		return bad("%v", err)
	}
	if r.Number == 0 {
		return bad("receipt of %s has no receipt number", r.Reference)
	}
	if err := checkReference(r.Reference); err != nil {
		return bad("%v", err)
	}
	if !money.ValidCurrency(r.Currency) {
		return bad("currency %q is not supported: use NOK, DKK or EUR", r.Currency)
	}
	if r.Time.IsZero() {
		return bad("sale %s has no time", r.Reference)
	}
	if r.Total <= 0 || r.Total > money.MaxValue {
		return bad("total %s of sale %s is outside 0,01..%s (a refund's total is positive too)",
			money.Number(r.Total), r.Reference, money.Number(money.MaxValue))
	}
	var sum int64
	for i, l := range r.Lines {
		switch {
		case l.Quantity < 0:
			return bad("line %d %q has quantity %d: quantities are 0 or more, put returns on a refund", i+1, l.Text, l.Quantity)
		case l.TaxRate < 0 || l.TaxRate > 10000:
			return bad("line %d %q has VAT rate %d basis points: use 0..10000 (2500 is 25 %%)", i+1, l.Text, l.TaxRate)
		case l.Amount < -money.MaxValue || l.Amount > money.MaxValue:
			return bad("line %d %q amount %s is beyond the largest payment", i+1, l.Text, money.Number(l.Amount))
		}
		sum += l.Amount
	}
	if len(r.Lines) > 0 && sum != r.Total {
		return bad("lines of sale %s add up to %s but the total is %s", r.Reference, money.Number(sum), money.Number(r.Total))
	}
	return nil
}

// CheckOrgNumber checks a Norwegian organisation number: 9 digits (spaces
// allowed) whose last is the modulus 11 check digit of the first 8 with
// weights 3 2 7 6 5 4 3 2, as Brønnøysundregistrene assigns them.
func CheckOrgNumber(s string) error {
	d := strings.ReplaceAll(s, " ", "")
	if len(d) != 9 || strings.Trim(d, "0123456789") != "" {
		return fmt.Errorf("organisation number %q must be 9 digits: set store.org_number to the number in Enhetsregisteret, e.g. \"987 654 325\"", s)
	}
	sum := 0
	for i, w := range []int{3, 2, 7, 6, 5, 4, 3, 2} {
		sum += int(d[i]-'0') * w
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 || int(d[8]-'0') != check {
		return fmt.Errorf("organisation number %q fails its check digit: check store.org_number for a typing error", s)
	}
	return nil
}

// FormatOrgNumber writes an organisation number as "987 654 325 MVA":
// bokføringsforskriften § 5-1-2 asks for "MVA" after the number of a seller
// in the VAT register.
func FormatOrgNumber(s string) string {
	d := strings.ReplaceAll(s, " ", "")
	if len(d) != 9 {
		return s + " MVA"
	}
	return d[:3] + " " + d[3:6] + " " + d[6:] + " MVA"
}

// checkReference applies the ePayment rule (vippsid.ReferencePattern).
func checkReference(ref string) error {
	if !vippsid.Reference(ref) {
		return fmt.Errorf("reference %q must be 8 to 50 letters, digits and '-' (%s)", ref, vippsid.ReferencePattern)
	}
	return nil
}

// Encode validates r and lays it out for a printer with o.Columns columns.
func Encode(r Receipt, o Options) ([]byte, error) {
	cols, err := o.columns()
	if err != nil {
		return nil, err
	}
	w, err := wordsFor(o.Language)
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r = r.quoted()
	l := &layout{cols: cols}
	b := &l.b
	b.Init()
	b.CodePage()
	if r.Copy { // kassasystemforskriften § 2-8-6: a copy is marked "Kopi"
		l.banner(strings.ToUpper(w.copy))
	}

	// The seller: bokføringsforskriften § 5-1-1 (2) and § 5-1-2.
	b.Align(escpos.Center)
	b.Bold(true)
	b.Size(1, 2)
	l.wrapped(r.StoreName)
	b.Size(1, 1)
	b.Bold(false)
	for _, s := range r.StoreLines {
		l.wrapped(s)
	}
	l.wrapped(w.org + " " + FormatOrgNumber(r.OrgNumber))
	b.Line("")

	// What it is: kassasystemforskriften § 2-8-1 (Salgskvittering) and
	// § 2-8-2 (Returkvittering), in letters the reader cannot miss.
	kind := w.sale
	if r.Refund {
		kind = w.refund
	}
	l.banner(strings.ToUpper(kind))
	b.Align(escpos.Left)
	// Number and date: bokføringsforskriften § 5-1-1 (1).
	l.row(w.number, fmt.Sprint(r.Number))
	l.row(w.date, r.Time.Format(w.timeFormat))
	if r.Store != "" || r.Lane != "" {
		l.row(w.register, strings.Trim(r.Store+" / "+r.Lane, " /"))
	}
	if r.Cashier != "" {
		l.row(w.cashier, r.Cashier)
	}
	l.rule()

	// What was sold: bokføringsforskriften § 5-1-1 (3).
	sign := int64(1)
	if r.Refund {
		sign = -1
	}
	if len(r.Lines) == 0 {
		l.row(w.goods, money.Number(sign*r.Total))
	}
	for _, line := range r.Lines {
		text := line.Text
		if line.Quantity > 1 {
			text = fmt.Sprintf("%d x %s", line.Quantity, text)
		}
		l.row(text, money.Number(sign*line.Amount))
	}
	l.rule()
	// VAT per rate: bokføringsforskriften § 5-1-1 (6), rates summed apart.
	if len(r.Lines) > 0 {
		l.vat(r.Lines, sign, w)
		l.rule()
	}

	total := money.Amount{Value: sign * r.Total, Currency: r.Currency}.String()
	b.Bold(true)
	if escpos.TextWidth(w.total+" "+total)*2 <= cols {
		b.Size(2, 2)
		l.rowIn(cols/2, w.total, total)
	} else {
		b.Size(1, 2)
		l.row(w.total, total)
	}
	b.Size(1, 1)
	b.Bold(false)
	b.Line("")

	if r.PaymentMethod != "" {
		label := w.paid
		if r.Refund {
			label = w.refunded
		}
		l.row(label, r.PaymentMethod)
	}
	if r.Refund {
		// The slip names the sale it gives money back for.
		l.row(w.origin, r.Reference)
		if r.OriginStore != "" {
			l.row(w.originStore, r.OriginStore)
		}
	} else {
		l.row(w.reference, r.Reference)
	}
	b.Align(escpos.Center)
	if err := l.referenceCode(r.Reference); err != nil {
		return nil, err
	}
	b.Feed(1)
	for _, s := range r.Footer {
		l.wrapped(s)
	}
	if r.Copy {
		b.Line("")
		l.banner(strings.ToUpper(w.copy))
	}
	b.Cut()
	return slices.Clone(b.Bytes()), nil
}

type layout struct {
	b    escpos.Builder
	cols int
}

// The line layout is escpos's (Banner, Rule, Wrapped, Row), on this paper.
func (l *layout) banner(s string)                    { l.b.Banner(l.cols, s) }
func (l *layout) rule()                              { l.b.Rule(l.cols) }
func (l *layout) wrapped(s string)                   { l.b.Wrapped(l.cols, s) }
func (l *layout) row(left, right string)             { l.b.Row(l.cols, left, right) }
func (l *layout) rowIn(cols int, left, right string) { l.b.Row(cols, left, right) }

// vat prints one line per VAT rate. Prices include VAT, so the VAT part of a
// gross amount g at rate r (basis points) is g*r/(10000+r), computed on the
// sum per rate to round once.
func (l *layout) vat(lines []Line, sign int64, w words) {
	gross := map[int]int64{}
	var rates []int
	for _, line := range lines {
		if _, ok := gross[line.TaxRate]; !ok {
			rates = append(rates, line.TaxRate)
		}
		gross[line.TaxRate] += line.Amount
	}
	slices.Sort(rates)
	var sum int64
	for _, rate := range rates {
		g := gross[rate]
		v := money.VAT(g, rate)
		sum += v
		l.row(fmt.Sprintf(w.vat, Rate(rate), money.Number(sign*g)), money.Number(sign*v))
	}
	if len(rates) > 1 {
		l.row(w.vatTotal, money.Number(sign*sum))
	}
}

// Rate formats basis points as a percentage: 2500 is "25 %", 1125 is "11,25 %".
func Rate(bp int) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d %%", bp/100)
	}
	return strings.TrimRight(fmt.Sprintf("%d,%02d", bp/100, bp%100), "0") + " %"
}

// Barcode geometry. A printer line has about 12 dots per column (font A);
// module widths below 2 dots are neither supported everywhere nor scannable.
const (
	dotsPerColumn = 12
	barHeight     = 64
	minBarWidth   = 2
	maxBarWidth   = 3
	qrModule      = 4
)

// referenceCode prints ref as a CODE128 barcode in code set B if it fits the
// paper at a readable module width, and as a QR code otherwise (a long
// reference on 58 mm paper), so a scanner can always read it back.
func (l *layout) referenceCode(ref string) error {
	modules := 11*(len(ref)+2) + 13 // start, data, check, stop
	width := min(l.cols*dotsPerColumn/modules, maxBarWidth)
	if width >= minBarWidth {
		return l.b.Code128(ref, barHeight, width)
	}
	return l.b.QR(ref, qrModule)
}

// quotes: PC865 has « but not », so a pair of them prints as a pair of ".
var quotes = strings.NewReplacer("«", "\"", "»", "\"")

// quoted is r with its free texts' guillemets made printable as a pair.
func (r Receipt) quoted() Receipt {
	r.StoreName = quotes.Replace(r.StoreName)
	r.StoreLines = replaceAll(r.StoreLines)
	r.Footer = replaceAll(r.Footer)
	lines := slices.Clone(r.Lines)
	for i := range lines {
		lines[i].Text = quotes.Replace(lines[i].Text)
	}
	r.Lines = lines
	return r
}

func replaceAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quotes.Replace(s)
	}
	return out
}
