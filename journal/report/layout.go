package report

import (
	"fmt"
	"slices"
	"strings"

	"kasse/money"
	"kasse/printer/escpos"
	"kasse/printer/receipt"
)

// The words of the printed report, in Norwegian (bokmål) only: the report
// is for the Tax Administration and the bookkeeper, and the words "X-rapport"
// and "Z-rapport" are the regulation's (§ 2-8-2 a, § 2-8-3).
const timeFormat = "02.01.2006 15:04"

// Encode lays r out for a receipt printer of cols columns (0: 42); every
// field of r is on paper, the zeros of what this register cannot do too,
// so the reader sees they were counted.
func Encode(r Report, cols int) ([]byte, error) {
	if cols == 0 {
		cols = receipt.DefaultColumns
	}
	if cols < receipt.MinColumns || cols > receipt.MaxColumns {
		return nil, fmt.Errorf("%d columns is outside %d..%d: set printer.columns to 32 for 58 mm paper or 42/48 for 80 mm",
			cols, receipt.MinColumns, receipt.MaxColumns)
	}
	if r.Kind != KindX && r.Kind != KindZ {
		return nil, fmt.Errorf("report kind %q: want X or Z", r.Kind)
	}
	l := &layout{cols: cols}
	b := &l.b
	b.Init()
	b.CodePage()
	b.Align(escpos.Center)
	b.Bold(true)
	b.Size(1, 2)
	l.wrapped(r.Company)
	b.Size(1, 1)
	b.Bold(false)
	l.wrapped("Org.nr. " + receipt.FormatOrgNumber(r.Org))
	b.Line("")
	l.banner(strings.ToUpper(r.Kind + "-rapport"))
	b.Align(escpos.Left)
	if r.Kind == KindZ {
		l.row("Z-nummer", fmt.Sprint(r.Z))
	}
	l.row("Dato", r.Time.Format(timeFormat))
	l.row("Kassepunkt", r.Register)
	if r.Cashier != "" {
		l.row("Tatt ut av kasserer", r.Cashier)
	}
	l.row("Periode fra", r.From.Format(timeFormat))
	l.row("Periode til", r.Time.Format(timeFormat))
	if r.PreviousZ != 0 {
		l.row("Forrige Z-nummer", fmt.Sprint(r.PreviousZ))
	}
	if r.FirstSeq != 0 {
		l.row("Journal", fmt.Sprintf("%d-%d", r.FirstSeq, r.LastSeq))
	}
	l.rule()

	b.Bold(true)
	l.row("Totalt kontantsalg", l.amount(r.TotalCashSales, r.Currency))
	b.Bold(false)
	l.rule()

	l.heading("Hovedgrupper")
	for _, g := range r.Groups {
		l.count(g.ID+" "+g.Name, g.Num, g.Amount)
	}
	l.heading("Betalingsmidler")
	if len(r.Payments) == 0 {
		l.count(PaymentName(store12011), 0, 0)
	}
	for _, p := range r.Payments {
		l.count(p.Name, p.Num, p.Amount)
	}
	l.heading("Merverdiavgift")
	if len(r.VAT) == 0 {
		l.row("Ingen salg", "0,00")
	}
	for _, v := range r.VAT {
		l.row("MVA "+receipt.Rate(v.Rate)+" grunnlag", money.Number(v.Net))
		l.row("MVA "+receipt.Rate(v.Rate), money.Number(v.VAT))
		l.row("Sum "+receipt.Rate(v.Rate)+" inkl. MVA", money.Number(v.Gross))
	}
	l.heading("Kasserere")
	if len(r.Cashiers) == 0 {
		l.row("Ingen salg", "")
	}
	for _, c := range r.Cashiers {
		name := "Kasserer " + c.ID
		if c.ID == "" {
			name = "Uten kasserer"
		}
		b.Bold(true)
		l.wrapped(name)
		b.Bold(false)
		l.count("  Salg", c.Sales.Num, c.Sales.Amount)
		l.count("  Returer", c.Returns.Num, -c.Returns.Amount)
		for _, p := range c.Payments {
			l.count("  "+p.Name, p.Num, p.Amount)
		}
	}
	l.rule()

	l.count("Salgskvitteringer", r.SalesReceipts.Num, r.SalesReceipts.Amount)
	l.row("  Skrevet ut", fmt.Sprint(r.Printed))
	l.count("  Ikke skrevet ut", r.Unprinted.Num, r.Unprinted.Amount)
	l.count("Kopikvitteringer", r.Copies.Num, r.Copies.Amount)
	l.count("Returer", r.Returns.Num, -r.Returns.Amount)
	l.row("  Returkvitteringer skrevet ut", fmt.Sprint(r.ReturnPrinted))
	l.count("Rabatter", r.Discounts.Num, r.Discounts.Amount)
	l.count("Foreløpige kvitteringer", r.Provisional.Num, r.Provisional.Amount)
	l.count("Annullerte salg", r.Voids.Num, r.Voids.Amount)
	l.count("Linjekorreksjoner", r.LineCorr.Num, r.LineCorr.Amount)
	l.count("Prisforespørsler", r.PriceInquiries.Num, r.PriceInquiries.Amount)
	l.count("Andre korreksjoner", r.OtherCorr.Num, r.OtherCorr.Amount)
	l.count("Utleveringskvitteringer", r.Deliveries.Num, r.Deliveries.Amount)
	l.count("Treningskvitteringer", r.Training.Num, r.Training.Amount)
	l.count("Kredittsalg", r.CreditSales.Num, r.CreditSales.Amount)
	l.count("Kreditnotaer", r.CreditMemos.Num, r.CreditMemos.Amount)
	l.count("Innbetalinger", r.PayIns.Num, r.PayIns.Amount)
	l.count("Utbetalinger", r.PayOuts.Num, r.PayOuts.Amount)
	l.count("Tips", r.Tips.Num, r.Tips.Amount)
	l.row("Skuffeåpninger", fmt.Sprint(r.DrawerOpenings))
	l.row("Inngående veksel", money.Number(r.OpeningFloat))
	l.rule()

	b.Bold(true)
	l.row("Grand total salg", l.amount(r.Grand.Sales, r.Currency))
	l.row("Grand total retur", l.amount(-r.Grand.Returns, r.Currency))
	l.row("Grand total netto", l.amount(r.Grand.Net, r.Currency))
	b.Bold(false)
	b.Line("")
	b.Align(escpos.Center)
	l.banner(strings.ToUpper(r.Kind + "-rapport"))
	b.Feed(2)
	b.Cut()
	return slices.Clone(b.Bytes()), nil
}

// store12011 is the payment a register without sales still lists.
const store12011 = 12011

type layout struct {
	b    escpos.Builder
	cols int
}

// The line layout is the receipt's (escpos Banner, Rule, Wrapped, Row).
func (l *layout) banner(s string)        { l.b.Banner(l.cols, s); l.b.Align(escpos.Left) }
func (l *layout) rule()                  { l.b.Rule(l.cols) }
func (l *layout) wrapped(s string)       { l.b.Wrapped(l.cols, s) }
func (l *layout) row(left, right string) { l.b.Row(l.cols, left, right) }

func (l *layout) amount(v int64, currency string) string {
	return money.Amount{Value: v, Currency: currency}.String()
}

func (l *layout) heading(s string) {
	l.b.Bold(true)
	l.wrapped(s)
	l.b.Bold(false)
}

// count is a row of a number of things and their amount.
func (l *layout) count(label string, n int, amount int64) {
	pad := 0 // amounts in a column where the paper has room for one
	if l.cols >= 40 {
		pad = 12
	}
	l.row(label, fmt.Sprintf("%d stk %*s", n, pad, money.Number(amount)))
}

// Text is the report as the printer prints it, as plain text of cols
// columns (kassectl report without --json).
func Text(r Report, cols int) (string, error) {
	if cols == 0 {
		cols = receipt.DefaultColumns
	}
	b, err := Encode(r, cols)
	if err != nil {
		return "", err
	}
	doc, err := escpos.Decode(b)
	if err != nil {
		return "", err
	}
	return doc.Render(cols), nil
}
