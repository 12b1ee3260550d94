package report_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"kasse/journal/report"
	"kasse/money"
	"kasse/store"
)

// register is a store the way the payment engine writes it: sales with
// receipts (printed or not), copies and refunds, on a clock a minute a step.
type register struct {
	t     *testing.T
	path  string
	db    *store.DB
	clock time.Time
	rng   *rand.Rand
	sales []sold
	nref  int
	// What the test did, summed apart from the journal.
	sold, refunded int64
	nSales, nRet   int
	copies         report.Count
	unprinted      report.Count
	printed        int
}

type sold struct {
	ref    string
	amount int64
	left   int64
}

var header = report.Header{Company: "Butikken Oslo S", Org: "987654325", Store: "OSLO1", Lane: "2",
	Currency: "NOK", Group: "Kjøp i butikk", Cashier: "7"}

func newRegister(t *testing.T, seed uint64) *register {
	r := &register{t: t, path: filepath.Join(t.TempDir(), "kasse.db"),
		clock: time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local), rng: rand.New(rand.NewPCG(seed, 1))}
	r.open()
	t.Cleanup(func() { r.db.Close() })
	return r
}

func (r *register) open() {
	db, err := store.Open(r.path, store.Options{TaxRate: 2500,
		Now: func() time.Time { r.clock = r.clock.Add(time.Minute); return r.clock }})
	if err != nil {
		r.t.Fatal(err)
	}
	r.db = db
}

// reopen closes the store and opens it again, as a restart does.
func (r *register) reopen() {
	if err := r.db.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.open()
}

func (r *register) sell(amount int64, cashier string) {
	t := r.t
	ref, err := r.db.NextReference("OSLO1", "2")
	if err != nil {
		t.Fatal(err)
	}
	s := store.Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: amount, Currency: "NOK"},
		State: store.StateCaptured, Cashier: cashier}
	_, job, err := r.db.FinishReceipt(s, nil, store.PrintJob{Receipt: []byte("r")})
	if err != nil {
		t.Fatal(err)
	}
	// Most receipts print; some fail first (13030), some wait.
	switch n := r.rng.IntN(10); {
	case n < 7:
		if err := r.db.PrintDone(job.ID, s); err != nil {
			t.Fatal(err)
		}
		r.printed++
	case n < 9:
		if err := r.db.PrintRetry(job.ID, 1, "paper out", false); err != nil {
			t.Fatal(err)
		}
		r.unprinted.Num++
		r.unprinted.Amount += amount
	}
	r.sales = append(r.sales, sold{ref: ref, amount: amount, left: amount})
	r.sold += amount
	r.nSales++
}

func (r *register) refund(i int, amount int64) {
	t := r.t
	r.nref++
	s := &r.sales[i]
	rf := store.Refund{ID: fmt.Sprintf("refund-%d", r.nref), Reference: s.ref, Store: "OSLO1", Lane: "2",
		Amount: money.Amount{Value: amount, Currency: "NOK"}, State: store.RefundPending}
	if _, err := r.db.PutRefund(rf); err != nil {
		t.Fatal(err)
	}
	rf.State = store.RefundDone
	if _, err := r.db.FinishRefundPrint(rf, nil, store.PrintJob{Receipt: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	s.left -= amount
	r.refunded += amount
	r.nRet++
}

func (r *register) copyOf(i int) {
	if _, err := r.db.QueuePrint(store.PrintJob{Reference: r.sales[i].ref, Copy: true, Receipt: []byte("c")}); err != nil {
		r.t.Fatal(err)
	}
	r.copies.Num++
	r.copies.Amount += r.sales[i].amount
}

// day sells n times with random amounts and cashiers, refunds some sales
// in part and some in full, copies one receipt, and reopens the store
// half way.
func (r *register) day(n int) {
	first := len(r.sales)
	for i := range n {
		r.sell(100+r.rng.Int64N(500_000), []string{"7", "12", "3"}[r.rng.IntN(3)])
		if i == n/2 {
			r.reopen()
		}
	}
	for i := first; i < len(r.sales); i++ {
		switch r.rng.IntN(6) {
		case 0: // in full
			r.refund(i, r.sales[i].left)
		case 1: // in part, maybe twice
			r.refund(i, 1+r.rng.Int64N(r.sales[i].left-1))
			if r.rng.IntN(2) == 0 && r.sales[i].left > 0 {
				r.refund(i, r.sales[i].left)
			}
		}
	}
	r.copyOf(first + r.rng.IntN(n))
}

// journalSums sums the journal's transactions with Seq in [from, to].
func (r *register) journalSums(from, to uint64) (sales, returns, vat int64, perCashier map[string]int64) {
	perCashier = map[string]int64{}
	err := r.db.Entries(from, func(e store.Entry) error {
		if e.Seq > to {
			return nil
		}
		switch e.Code {
		case store.TransCashSale:
			sales += e.Amount
		case store.TransReturn:
			returns -= e.Amount
		}
		vat += e.VAT
		perCashier[e.Cashier] += e.Amount
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return sales, returns, vat, perCashier
}

func (r *register) z() (report.Report, store.Entry) {
	r.t.Helper()
	rep, e, err := report.Z(r.db, header)
	if err != nil {
		r.t.Fatal(err)
	}
	back, err := report.Decode(e)
	if err != nil {
		r.t.Fatal(err)
	}
	if !reflect.DeepEqual(back, roundTrip(r.t, rep)) {
		r.t.Fatalf("the journaled body differs from the report returned:\n%+v\n%+v", back, rep)
	}
	return rep, e
}

func roundTrip(t *testing.T, rep report.Report) report.Report {
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var out report.Report
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// check compares a report with what the test did and with the journal.
func (r *register) check(rep report.Report, what string) {
	t := r.t
	t.Helper()
	sales, returns, vat, perCashier := r.journalSums(rep.FirstSeq, rep.LastSeq)
	if rep.SalesReceipts != (report.Count{Num: r.nSales, Amount: r.sold}) || sales != r.sold {
		t.Errorf("%s: sales %+v, the journal %d, the test sold %d in %d sales", what, rep.SalesReceipts, sales, r.sold, r.nSales)
	}
	if rep.Returns != (report.Count{Num: r.nRet, Amount: r.refunded}) || returns != r.refunded {
		t.Errorf("%s: returns %+v, the journal %d, the test refunded %d in %d", what, rep.Returns, returns, r.refunded, r.nRet)
	}
	if net := r.sold - r.refunded; rep.TotalCashSales != net || rep.Groups[0].Amount != net {
		t.Errorf("%s: total cash sales %d (group %d), want %d", what, rep.TotalCashSales, rep.Groups[0].Amount, net)
	}
	if rep.Groups[0].Num != r.nSales {
		t.Errorf("%s: group counts %d sales, want %d", what, rep.Groups[0].Num, r.nSales)
	}
	if r.nSales+r.nRet == 0 {
		if len(rep.Payments) != 0 {
			t.Errorf("%s: payments %+v in an empty period", what, rep.Payments)
		}
	} else if len(rep.Payments) != 1 || rep.Payments[0] != (report.Payment{Code: store.PaymentMobileApps, Name: "Vipps MobilePay",
		Num: r.nSales + r.nRet, Amount: r.sold - r.refunded}) {
		t.Errorf("%s: payments %+v", what, rep.Payments)
	}
	var gross, v, net int64
	for _, x := range rep.VAT {
		gross, v, net = gross+x.Gross, v+x.VAT, net+x.Net
		if x.Gross != x.Net+x.VAT {
			t.Errorf("%s: VAT rate %d: %d gross is not %d net + %d VAT", what, x.Rate, x.Gross, x.Net, x.VAT)
		}
	}
	if gross != r.sold-r.refunded || v != vat || net != gross-vat {
		t.Errorf("%s: VAT lines sum to %d gross %d VAT, the journal %d VAT of %d", what, gross, v, vat, r.sold-r.refunded)
	}
	got := map[string]int64{}
	for _, c := range rep.Cashiers {
		got[c.ID] = c.Sales.Amount - c.Returns.Amount
		var p int64
		for _, x := range c.Payments {
			p += x.Amount
		}
		if p != got[c.ID] {
			t.Errorf("%s: cashier %q's payments %d, sales less returns %d", what, c.ID, p, got[c.ID])
		}
	}
	if !reflect.DeepEqual(got, perCashier) {
		t.Errorf("%s: per cashier %v, the journal %v", what, got, perCashier)
	}
	if rep.Copies != r.copies || rep.Unprinted != r.unprinted || rep.Printed != r.printed {
		t.Errorf("%s: copies %+v unprinted %+v printed %d; the test made %+v, %+v, %d",
			what, rep.Copies, rep.Unprinted, rep.Printed, r.copies, r.unprinted, r.printed)
	}
	if rep.ReturnPrinted != 0 {
		// The return slips are queued, not printed, in this test.
		t.Errorf("%s: %d return receipts printed", what, rep.ReturnPrinted)
	}
}

// reset starts the test's own sums for the next period.
func (r *register) reset() {
	r.sold, r.refunded, r.nSales, r.nRet, r.printed = 0, 0, 0, 0, 0
	r.copies, r.unprinted = report.Count{}, report.Count{}
}

func TestZEqualsTheJournalAndCloses(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := newRegister(t, seed)
			r.day(40)

			// X: the sums, closing nothing; twice the same.
			x1, xe, err := report.X(r.db, header, r.clock)
			if err != nil {
				t.Fatal(err)
			}
			if xe.Code != store.EventXReport || x1.Kind != report.KindX || x1.Z != 0 {
				t.Fatalf("X report journaled as %d, kind %s, Z %d", xe.Code, x1.Kind, x1.Z)
			}
			r.check(x1, "X")
			x2, _, err := report.X(r.db, header, r.clock)
			if err != nil {
				t.Fatal(err)
			}
			r.check(x2, "second X")

			z1, e1 := r.z()
			r.check(z1, "Z 1")
			if z1.Z != 1 || e1.Z != 1 || e1.Code != store.EventZReport || z1.PreviousZ != 0 {
				t.Fatalf("first Z: number %d (entry %d, code %d), previous %d", z1.Z, e1.Z, e1.Code, z1.PreviousZ)
			}
			if want := (report.Totals{Sales: r.sold, Returns: r.refunded, Net: r.sold - r.refunded}); z1.Grand != want {
				t.Fatalf("grand totals after the first Z %+v, want %+v", z1.Grand, want)
			}
			if z1.From.After(z1.Time) || z1.FirstSeq != 1 {
				t.Fatalf("first Z's period from %v (entry %d) to %v", z1.From, z1.FirstSeq, z1.Time)
			}
			first := z1

			// A second Z right away: an empty period, the next number,
			// the same grand totals.
			r.reset()
			r.reopen()
			z2, _ := r.z()
			r.check(z2, "Z 2")
			if z2.Z != 2 || z2.PreviousZ != 1 || z2.FirstSeq != 0 || z2.TotalCashSales != 0 || z2.Grand != first.Grand ||
				!z2.From.Equal(e1.Time) || len(z2.Payments) != 0 {
				t.Fatalf("second Z right after the first: %+v", z2)
			}

			// Another day, with a copy of a receipt of the first period.
			r.day(25)
			r.copyOf(0)
			z3, _ := r.z()
			r.check(z3, "Z 3")
			if z3.Z != 3 {
				t.Fatalf("third Z is number %d", z3.Z)
			}
			all, ret, _, _ := r.journalSums(0, z3.LastSeq)
			if want := (report.Totals{Sales: all, Returns: ret, Net: all - ret}); z3.Grand != want {
				t.Fatalf("grand totals after three Zs %+v, the whole journal %+v", z3.Grand, want)
			}
			// The numbers in the journal: 1, 2, 3, no gap.
			var zs []uint64
			r.db.Entries(0, func(e store.Entry) error {
				if e.Code == store.EventZReport {
					zs = append(zs, e.Z)
				}
				return nil
			})
			if !reflect.DeepEqual(zs, []uint64{1, 2, 3}) {
				t.Fatalf("Z numbers in the journal %v", zs)
			}
			// After the Z, an X sees an empty period.
			x3, _, err := report.X(r.db, header, r.clock)
			if err != nil {
				t.Fatal(err)
			}
			if x3.TotalCashSales != 0 || x3.SalesReceipts.Num != 0 || x3.Grand != z3.Grand || x3.PreviousZ != 3 {
				t.Fatalf("X after the third Z: %+v", x3)
			}
		})
	}
}

// Another register's entries in the same database are not this
// register's: each register has its own period and Z numbers.
func TestZPerRegister(t *testing.T) {
	r := newRegister(t, 9)
	r.sell(10000, "7")
	ref, err := r.db.NextReference("OSLO1", "3")
	if err != nil {
		t.Fatal(err)
	}
	other := store.Sale{Reference: ref, Store: "OSLO1", Lane: "3", Amount: money.Amount{Value: 777, Currency: "NOK"}, State: store.StateCaptured}
	if _, _, err := r.db.FinishReceipt(other, nil, store.PrintJob{Receipt: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	z, _ := r.z()
	if z.TotalCashSales != 10000 || z.Z != 1 {
		t.Fatalf("lane 2's Z: %+v", z)
	}
	h := header
	h.Lane = "3"
	z3, _, err := report.Z(r.db, h)
	if err != nil {
		t.Fatal(err)
	}
	if z3.TotalCashSales != 777 || z3.Z != 1 || z3.Register != "OSLO1-3" {
		t.Fatalf("lane 3's Z: %+v", z3)
	}
}
