// Package report makes the X and Z reports of kassasystemforskriften
// §§ 2-8-2 and 2-8-3 from the electronic journal, and lays them out for
// the receipt printer. A report is built from journal entries only: an
// archived sale leaves the sales table, never the journal.
//
// The Z report closes the register's period (store.DB.CloseDay) and is
// numbered gap-free; the X report has the same sums of the open period
// and closes nothing. Both are journaled (events 13008 and 13009) with
// the Report as JSON in the entry's Body, so either can be printed again.
package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"kasse/store"
)

// Kinds of report.
const (
	KindX = "X"
	KindZ = "Z"
)

// Count is a number of things and their amount in minor units (øre).
type Count struct {
	Num    int   `json:"num"`
	Amount int64 `json:"amount"`
}

func (c *Count) add(amount int64) { c.Num++; c.Amount += amount }

// Group is the cash sales of one main group (hovudgruppe, § 2-8-2 f): sales
// less returns.
type Group struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Num    int    `json:"num"`    // sales
	Amount int64  `json:"amount"` // sales less returns, VAT included
}

// Payment is the money taken by one means of payment (§ 2-8-2 g): Num
// cash transactions (sales and returns), Amount their sum (returns
// negative).
type Payment struct {
	Code   int    `json:"code"` // SAF-T PredefinedBasicID-12, e.g. 12011
	Name   string `json:"name"`
	Num    int    `json:"num"`
	Amount int64  `json:"amount"`
}

// VATRate is the cash sales at one VAT rate (§ 2-8-2 j), returns
// subtracted: Gross = Net + VAT.
type VATRate struct {
	Rate  int   `json:"rate"` // basis points: 2500 is 25 %
	Gross int64 `json:"gross"`
	Net   int64 `json:"net"`
	VAT   int64 `json:"vat"`
}

// Cashier is one cashier's part (§ 2-8-2 h): sales and returns, per
// means of payment. Returns made with no cashier logged in have ID "".
type Cashier struct {
	ID       string    `json:"id"`
	Sales    Count     `json:"sales"`
	Returns  Count     `json:"returns"` // amount as a positive number
	Payments []Payment `json:"payments"`
}

// Totals are the grand totals since the register's first sale (§ 2-8-2
// x): sales, returns (positive) and their difference.
type Totals struct {
	Sales   int64 `json:"sales"`
	Returns int64 `json:"returns"`
	Net     int64 `json:"net"`
}

// Report is an X or Z report. Amounts are minor units of Currency, VAT
// included unless named net; returns are positive amounts, subtracted
// where a total is net. The comments give § 2-8-2's letters.
type Report struct {
	Kind     string    `json:"kind"`        // a: "X" or "Z" (printed "X-rapport", "Z-rapport")
	Z        uint64    `json:"z,omitempty"` // § 2-8-3: the Z number, gap-free per register
	Company  string    `json:"company"`     // b
	Org      string    `json:"orgNumber"`   // b
	Time     time.Time `json:"time"`        // c
	Register string    `json:"register"`    // d: PREFIX-LANE
	Store    string    `json:"store"`
	Lane     string    `json:"lane"`
	Cashier  string    `json:"cashier,omitempty"` // who took the report
	Currency string    `json:"currency"`

	// The period: from the previous Z report's time (or the register's
	// first entry) to Time; its journal entries are FirstSeq..LastSeq.
	From      time.Time `json:"from"`
	PreviousZ uint64    `json:"previousZ,omitempty"`
	FirstSeq  uint64    `json:"firstSeq,omitempty"`
	LastSeq   uint64    `json:"lastSeq,omitempty"`

	TotalCashSales int64     `json:"totalCashSales"`   // e: sales less returns
	Groups         []Group   `json:"groups"`           // f
	Payments       []Payment `json:"payments"`         // g
	Cashiers       []Cashier `json:"cashiers"`         // h
	Tips           Count     `json:"tips"`             // i: none (no tips on this register)
	VAT            []VATRate `json:"vat"`              // j
	OpeningFloat   int64     `json:"openingFloat"`     // k: 0 (no cash, no change float)
	SalesReceipts  Count     `json:"salesReceipts"`    // l: sales (cash transactions 11001), each with a receipt number
	DrawerOpenings int       `json:"drawerOpenings"`   // m: 0 (no cash drawer)
	Copies         Count     `json:"copies"`           // n: copy receipts (13014), the copied sales' amount
	Provisional    Count     `json:"provisional"`      // o: 0 (no provisional receipts)
	Returns        Count     `json:"returns"`          // p: returns (11006), amount positive
	Discounts      Count     `json:"discounts"`        // q: 0 (no discounts)
	Voids          Count     `json:"voids"`            // r: 0 (no voided sales)
	LineCorr       Count     `json:"lineCorrections"`  // s: 0 (one line a sale)
	PriceInquiries Count     `json:"priceInquiries"`   // t: 0
	OtherCorr      Count     `json:"otherCorrections"` // u: 0
	Deliveries     Count     `json:"deliveries"`       // v: 0 (no delivery receipts)
	Training       Count     `json:"training"`         // w: 0 (no training mode)
	CreditSales    Count     `json:"creditSales"`      // SAF-T: 0
	CreditMemos    Count     `json:"creditMemos"`      // SAF-T: 0
	PayIns         Count     `json:"payIns"`           // SAF-T: 0 (no cash)
	PayOuts        Count     `json:"payOuts"`          // SAF-T: 0 (no cash)

	// Receipts printed and not: sales receipts printed (13012), return
	// receipts printed (13013), sales concluded without a printed receipt
	// (13030, with the sales' amount).
	Printed       int   `json:"printed"`
	ReturnPrinted int   `json:"returnPrinted"`
	Unprinted     Count `json:"unprinted"`

	Grand Totals `json:"grandTotal"` // x
}

// Header is what the journal does not say: who the seller is and who
// asks.
type Header struct {
	Company, Org string
	Store, Lane  string
	Currency     string
	// Group names the register's one main group of goods (its ID is "1").
	Group   string
	Cashier string
}

// Payment names, by SAF-T code.
var paymentNames = map[int]string{store.PaymentMobileApps: "Vipps MobilePay"}

// PaymentName is the name printed for a SAF-T payment code.
func PaymentName(code int) string {
	if n, ok := paymentNames[code]; ok {
		return n
	}
	return fmt.Sprintf("Betalingsmiddel %d", code)
}

// ErrNoReport is wrapped when the journal has no report of that number.
var ErrNoReport = errors.New("no such report")

// FindZ returns Z report number n of register store-lane from the journal.
func FindZ(db *store.DB, storeID, lane string, n uint64) (Report, store.Entry, error) {
	var found store.Entry
	stop := errors.New("found")
	err := db.Entries(0, func(e store.Entry) error {
		if e.Code == store.EventZReport && e.Z == n && e.Store == storeID && e.Lane == lane {
			found = e
			return stop
		}
		return nil
	})
	if err != nil && err != stop {
		return Report{}, found, err
	}
	if found.Seq == 0 {
		return Report{}, found, fmt.Errorf("%w: register %s-%s has no Z report %d in its journal", ErrNoReport, storeID, lane, n)
	}
	r, err := Decode(found)
	return r, found, err
}

// ErrBody is wrapped when a journaled report's Body cannot be read.
var ErrBody = errors.New("report body")

// Decode reads a journaled report (an X or Z entry's Body).
func Decode(e store.Entry) (Report, error) {
	var r Report
	if err := json.Unmarshal(e.Body, &r); err != nil {
		return r, fmt.Errorf("%w of journal entry %d: %w", ErrBody, e.Seq, err)
	}
	return r, nil
}

// Build sums the period p of h's register into a report of kind made at
// now (a Z report's number is set by the caller: CloseDay draws it).
func Build(kind string, h Header, now time.Time, p store.PeriodView) (Report, error) {
	r := Report{Kind: kind, Company: h.Company, Org: h.Org, Time: now, Store: h.Store, Lane: h.Lane,
		Register: h.Store + "-" + h.Lane, Cashier: h.Cashier, Currency: h.Currency,
		Groups: []Group{{ID: "1", Name: cmp.Or(h.Group, "Salg")}}}
	if p.LastZ.Seq != 0 {
		prev, err := Decode(p.LastZ)
		if err != nil {
			return r, fmt.Errorf("the previous Z report: %w", err)
		}
		r.Grand, r.PreviousZ, r.From = prev.Grand, p.LastZ.Z, p.LastZ.Time
	}
	payments := map[int]*Payment{}
	cashiers := map[string]*Cashier{}
	vat := map[int]*VATRate{}
	// amountOf is the sale a receipt event is about; its Seq may be
	// older than the period (a copy of yesterday's receipt).
	amounts := map[uint64]int64{}
	amountOf := func(e store.Entry) (int64, error) {
		if a, ok := amounts[e.Trans]; ok {
			return a, nil
		}
		if e.Trans == 0 {
			return 0, fmt.Errorf("journal entry %d (event %d) names no transaction", e.Seq, e.Code)
		}
		t, err := p.Entry(e.Trans)
		if err != nil {
			return 0, fmt.Errorf("journal entry %d (event %d): its transaction: %w", e.Seq, e.Code, err)
		}
		return t.Amount, nil
	}
	err := p.Walk(func(e store.Entry) error {
		if r.FirstSeq == 0 {
			r.FirstSeq = e.Seq
			if r.PreviousZ == 0 {
				r.From = e.Time
			}
		}
		r.LastSeq = e.Seq
		switch e.Code {
		case store.TransCashSale, store.TransReturn:
			amounts[e.Seq] = e.Amount
			pay := payments[e.Payment]
			if pay == nil {
				pay = &Payment{Code: e.Payment, Name: PaymentName(e.Payment)}
				payments[e.Payment] = pay
			}
			pay.Num++
			pay.Amount += e.Amount
			c := cashiers[e.Cashier]
			if c == nil {
				c = &Cashier{ID: e.Cashier}
				cashiers[e.Cashier] = c
			}
			v := vat[e.TaxRate]
			if v == nil {
				v = &VATRate{Rate: e.TaxRate}
				vat[e.TaxRate] = v
			}
			v.Gross += e.Amount
			v.VAT += e.VAT
			v.Net += e.Net()
			r.TotalCashSales += e.Amount
			r.Groups[0].Amount += e.Amount
			cp := c.payment(e.Payment)
			cp.Num++
			cp.Amount += e.Amount
			if e.Code == store.TransCashSale {
				r.SalesReceipts.add(e.Amount)
				r.Groups[0].Num++
				c.Sales.add(e.Amount)
				r.Grand.Sales += e.Amount
			} else {
				r.Returns.add(-e.Amount)
				c.Returns.add(-e.Amount)
				r.Grand.Returns -= e.Amount
			}
		case store.EventCopyReceipt:
			a, err := amountOf(e)
			if err != nil {
				return err
			}
			r.Copies.add(a)
		case store.EventUnprinted:
			a, err := amountOf(e)
			if err != nil {
				return err
			}
			r.Unprinted.add(a)
		case store.EventSalesReceipt:
			r.Printed++
		case store.EventReturnReceipt:
			r.ReturnPrinted++
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if r.From.IsZero() {
		r.From = now // the register's first report, nothing journaled before it
	}
	r.Grand.Net = r.Grand.Sales - r.Grand.Returns
	r.Payments = sorted(payments, func(a, b *Payment) int { return a.Code - b.Code })
	r.VAT = sorted(vat, func(a, b *VATRate) int { return b.Rate - a.Rate })
	r.Cashiers = sorted(cashiers, func(a, b *Cashier) int {
		return cmp.Or(cmp.Compare(len(a.ID), len(b.ID)), cmp.Compare(a.ID, b.ID))
	})
	for i := range r.Cashiers {
		slices.SortFunc(r.Cashiers[i].Payments, func(a, b Payment) int { return a.Code - b.Code })
	}
	if r.Payments == nil {
		r.Payments = []Payment{} // JSON: an empty list, not null
	}
	if r.VAT == nil {
		r.VAT = []VATRate{}
	}
	if r.Cashiers == nil {
		r.Cashiers = []Cashier{}
	}
	return r, nil
}

func (c *Cashier) payment(code int) *Payment {
	for i := range c.Payments {
		if c.Payments[i].Code == code {
			return &c.Payments[i]
		}
	}
	c.Payments = append(c.Payments, Payment{Code: code, Name: PaymentName(code)})
	return &c.Payments[len(c.Payments)-1]
}

func sorted[K comparable, V any](m map[K]*V, by func(a, b *V) int) []V {
	ps := make([]*V, 0, len(m))
	for _, v := range m {
		ps = append(ps, v)
	}
	slices.SortFunc(ps, by)
	var out []V
	for _, v := range ps {
		out = append(out, *v)
	}
	return out
}

// Z builds and journals a Z report of h's register in one commit: the
// sums and the close of the period cannot be split by a sale.
func Z(db *store.DB, h Header) (Report, store.Entry, error) {
	var r Report
	e, err := db.CloseDay(store.Entry{Store: h.Store, Lane: h.Lane, Cashier: h.Cashier, Text: "Z-rapport"},
		func(z store.Entry, p store.PeriodView) ([]byte, error) {
			var err error
			if r, err = Build(KindZ, h, z.Time, p); err != nil {
				return nil, err
			}
			r.Z = z.Z
			return json.Marshal(r)
		})
	return r, e, err
}

// X builds and journals an X report of h's register made at now: the
// open period's sums, closing nothing.
func X(db *store.DB, h Header, now time.Time) (Report, store.Entry, error) {
	var r Report
	err := db.ReadPeriod(h.Store, h.Lane, func(p store.PeriodView) error {
		var err error
		r, err = Build(KindX, h, now, p)
		return err
	})
	if err != nil {
		return r, store.Entry{}, fmt.Errorf("X report: %w", err)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return r, store.Entry{}, err
	}
	e, err := db.Record(store.Entry{Time: now, Code: store.EventXReport, Store: h.Store, Lane: h.Lane,
		Cashier: h.Cashier, Text: "X-rapport", Body: body})
	return r, e, err
}
