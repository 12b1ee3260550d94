// Package receipt lays out a sale or refund receipt as ESC/POS commands.
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
	StoreLines []string // address, organisation number
	Store      string   // store prefix, e.g. OSLO1
	Lane       string
	// Reference is the Vipps reference, printed as text and as a CODE128
	// barcode so any store of the chain can find the sale again.
	Reference     string
	Time          time.Time // printed in its own location
	Currency      string
	Lines         []Line
	Total         int64 // minor units, positive also for a refund
	PaymentMethod string
	Copy          bool // a reprint: "COPY" at top and bottom
	Refund        bool // a refund slip: "REFUND" headline, amounts printed negative
	Footer        []string
	Cashier       string // the logged-in cashier's id; empty prints no line
}

// Options fit the layout to the paper.
type Options struct {
	// Columns of normal-size characters per line: 32 for 58 mm paper, 42 or
	// 48 for 80 mm. Zero means 42.
	Columns int
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

// checkReference applies the ePayment rule (vippsid.ReferencePattern).
func checkReference(ref string) error {
	if !vippsid.Reference(ref) {
		return fmt.Errorf("reference %q must be 8 to 50 letters, digits and '-' (%s)", ref, vippsid.ReferencePattern)
	}
	return nil
}

// Encode validates r and lays it out for a printer with o.Columns columns:
// header, lines, VAT summary, total, payment, time, store and lane, the
// reference as text and barcode, footer and a cut.
func Encode(r Receipt, o Options) ([]byte, error) {
	cols, err := o.columns()
	if err != nil {
		return nil, err
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	l := &layout{cols: cols}
	b := &l.b
	b.Init()
	b.CodePage()
	if r.Copy {
		l.banner("COPY")
	}

	b.Align(escpos.Center)
	b.Bold(true)
	b.Size(1, 2)
	l.wrapped(r.StoreName)
	b.Size(1, 1)
	b.Bold(false)
	for _, s := range r.StoreLines {
		l.wrapped(s)
	}
	b.Line("")
	if r.Refund {
		l.banner("REFUND")
	}
	b.Align(escpos.Left)

	sign := int64(1)
	if r.Refund {
		sign = -1
	}
	if len(r.Lines) == 0 {
		l.row("Sale", money.Number(sign*r.Total))
	}
	for _, line := range r.Lines {
		text := line.Text
		if line.Quantity > 1 {
			text = fmt.Sprintf("%d x %s", line.Quantity, text)
		}
		l.row(text, money.Number(sign*line.Amount))
	}
	l.rule()
	if len(r.Lines) > 0 {
		l.vat(r.Lines, sign)
		l.rule()
	}

	total := money.Amount{Value: sign * r.Total, Currency: r.Currency}.String()
	b.Bold(true)
	if escpos.TextWidth("TOTAL "+total)*2 <= cols {
		b.Size(2, 2)
		l.rowIn(cols/2, "TOTAL", total)
	} else {
		b.Size(1, 2)
		l.row("TOTAL", total)
	}
	b.Size(1, 1)
	b.Bold(false)
	b.Line("")

	if r.PaymentMethod != "" {
		label := "Paid with"
		if r.Refund {
			label = "Refunded to"
		}
		l.row(label, r.PaymentMethod)
	}
	l.row("Date", r.Time.Format("02.01.2006 15:04"))
	if r.Store != "" {
		l.row("Store", r.Store)
	}
	if r.Lane != "" {
		l.row("Lane", r.Lane)
	}
	if r.Cashier != "" {
		l.row("Cashier", r.Cashier)
	}
	l.row("Reference", r.Reference)
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
		l.banner("COPY")
	}
	b.Cut()
	return slices.Clone(b.Bytes()), nil
}

type layout struct {
	b    escpos.Builder
	cols int
}

// banner prints s centred at double width and height, as the copy and refund
// marks must not be missed.
func (l *layout) banner(s string) {
	l.b.Align(escpos.Center)
	l.b.Bold(true)
	l.b.Size(2, 2)
	l.b.Line(s)
	l.b.Size(1, 1)
	l.b.Bold(false)
}

func (l *layout) rule() { l.b.Line(strings.Repeat("-", l.cols)) }

func (l *layout) wrapped(s string) {
	for _, w := range wrap(s, l.cols) {
		l.b.Line(w)
	}
}

func (l *layout) row(left, right string) { l.rowIn(l.cols, left, right) }

// rowIn prints left and right on one line of cols columns, wrapping left onto
// lines of its own when both do not fit.
func (l *layout) rowIn(cols int, left, right string) {
	rw := escpos.TextWidth(right)
	if rw >= cols {
		for _, w := range wrap(left, cols) {
			l.b.Line(w)
		}
		l.b.Line(right)
		return
	}
	parts := wrap(left, cols-rw-1)
	for _, w := range parts[:len(parts)-1] {
		l.b.Line(w)
	}
	last := parts[len(parts)-1]
	l.b.Line(last + strings.Repeat(" ", cols-escpos.TextWidth(last)-rw) + right)
}

// vat prints one line per VAT rate. Prices include VAT, so the VAT part of a
// gross amount g at rate r (basis points) is g*r/(10000+r), computed on the
// sum per rate to round once.
func (l *layout) vat(lines []Line, sign int64) {
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
		l.row(fmt.Sprintf("VAT %s of %s", Rate(rate), money.Number(sign*g)), money.Number(sign*v))
	}
	if len(rates) > 1 {
		l.row("VAT total", money.Number(sign*sum))
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

// wrap breaks s into lines of at most width columns at spaces, splitting words
// longer than a line. It returns at least one line.
func wrap(s string, width int) []string {
	width = max(width, 1)
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for escpos.TextWidth(word) > width {
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
			head, rest := splitWidth(word, width)
			out = append(out, head)
			word = rest
		}
		switch {
		case cur == "":
			cur = word
		case escpos.TextWidth(cur)+1+escpos.TextWidth(word) <= width:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	if cur != "" || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// splitWidth cuts s after as many runes as fit in width columns.
func splitWidth(s string, width int) (string, string) {
	w := 0
	for i, r := range s {
		rw := escpos.TextWidth(string(r))
		if w+rw > width {
			if i == 0 { // a rune wider than the line ("EUR" in 1..2 columns)
				return s[:len(string(r))], s[len(string(r)):]
			}
			return s[:i], s[i:]
		}
		w += rw
	}
	return s, ""
}
