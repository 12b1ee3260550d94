package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"kasse/cmd/internal/control"
	"kasse/journal/report"
	"kasse/store"
	"kasse/till"
)

// sellKeyed sells the keyed amount on the till, approved by the shopper, and returns its
// reference.
func (w *world) sellKeyed(digits ...string) string {
	w.t.Helper()
	if _, err := w.keys(append(digits, "pay")...); err != nil {
		w.t.Fatal(err)
	}
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	w.approve(ref)
	w.waitFor("paid", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	return ref
}

// refundOnTill refunds digits (none: all) of sale ref with the supervisor's PIN.
func (w *world) refundOnTill(ref string, digits ...string) {
	w.t.Helper()
	w.keys("clear", "refund")
	if _, err := w.ctl.Scan(context.Background(), ref); err != nil {
		w.t.Fatal(err)
	}
	w.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if len(digits) == 0 {
		digits = []string{"pay"} // pay twice: all
	}
	if _, err := w.keys(append(digits, "pay")...); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.supervisor(); err != nil {
		w.t.Fatal(err)
	}
	w.waitFor("the refund done", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
}

// The Z report of a day on a real kassed against the simulator: its
// totals are what Vipps captured less what it refunded; the Z taken on
// the till's key (with the supervisor's PIN) and through the socket are
// numbered 1 and 2; the X report closes nothing; all print.
func TestZReportEqualsWhatVippsMoved(t *testing.T) {
	w := newWorld(t, worldOpts{})
	ctx := context.Background()
	a := w.sellKeyed("1", "2", "5", "0", "0")
	b := w.sellKeyed("4", "9", "9", "0")
	w.keys("copy")
	w.sellKeyed("2", "0", "0", "0", "0", "0")
	w.refundOnTill(a, "2", "5", "0", "0")
	w.refundOnTill(b)
	w.restart()
	w.sellKeyed("9", "9")

	var captured, refunded int64
	for _, p := range w.simPayments() {
		captured += p.Aggregate.Captured.Value
		refunded += p.Aggregate.Refunded.Value
	}
	if captured == 0 || refunded == 0 {
		t.Fatalf("the simulator captured %d and refunded %d", captured, refunded)
	}

	// X on the key: printed, the period stays open.
	w.keys("clear", "xreport")
	st := w.waitFor("the X report", func(s till.Status) bool { return s.State == till.StateDone })
	if st.LastError != "" {
		t.Fatalf("X report on the till: %s", st.LastError)
	}
	x, err := w.ctl.Report(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, r report.Report) {
		t.Helper()
		if r.TotalCashSales != captured-refunded || r.SalesReceipts.Amount != captured || r.Returns.Amount != refunded ||
			r.SalesReceipts.Num != 4 || r.Returns.Num != 2 || r.Copies.Num != 1 || r.Copies.Amount != 4990 {
			t.Fatalf("%s: total %d, sales %+v, returns %+v, copies %+v; Vipps captured %d and refunded %d",
				what, r.TotalCashSales, r.SalesReceipts, r.Returns, r.Copies, captured, refunded)
		}
		var vat int64
		for _, v := range r.VAT {
			vat += v.VAT
		}
		if r.VAT[0].Rate != 2500 || vat == 0 || r.Register != "OSLO1-2" || r.Org != "987654325" {
			t.Fatalf("%s: VAT %+v, register %s, org %s", what, r.VAT, r.Register, r.Org)
		}
	}
	check("X", x.Report)
	if !x.Printed || x.Report.Kind != report.KindX {
		t.Fatalf("X through the socket: %+v", x)
	}

	// Z on the key, with the supervisor's PIN.
	w.keys("clear", "zreport")
	if _, err := w.supervisor(); err != nil {
		t.Fatal(err)
	}
	st = w.waitFor("the Z report", func(s till.Status) bool { return s.State == till.StateDone })
	if st.LastError != "" {
		t.Fatalf("Z report on the till: %s", st.LastError)
	}
	z1, err := w.ctl.PrintReport(ctx, 1) // and once more, from the journal
	if err != nil {
		t.Fatal(err)
	}
	check("Z 1", z1.Report)
	if z1.Report.Z != 1 || z1.Report.Cashier != testCashier || !z1.Printed || z1.Report.Grand.Net != captured-refunded {
		t.Fatalf("Z 1: %+v", z1)
	}
	// The reprint is journaled as another report (13018) naming Z 1 in
	// its text: not through Trans, which SAF-T writes as a transID and
	// which names cash transactions only.
	var reprints []store.Entry
	if err := w.reg.db.Entries(0, func(e store.Entry) error {
		if e.Code == store.EventOtherReport {
			reprints = append(reprints, e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(reprints) != 1 || reprints[0].Trans != 0 || !strings.Contains(reprints[0].Text, "Z-rapport nr 1") {
		t.Fatalf("the reprint journaled as %+v", reprints)
	}
	printed := string(w.printer.Printed())
	if strings.Count(printed, "Z-RAPPORT") < 4 || !strings.Contains(printed, "X-RAPPORT") {
		t.Fatalf("the printer printed %d Z report banners (want the report and its reprint, 2 each)", strings.Count(printed, "Z-RAPPORT"))
	}

	// Z 2 through the socket: an empty day, the same grand totals.
	z2, err := w.ctl.Report(ctx, "z")
	if err != nil {
		t.Fatal(err)
	}
	if r := z2.Report; r.Z != 2 || r.TotalCashSales != 0 || r.SalesReceipts.Num != 0 || r.Grand != z1.Report.Grand || !z2.Printed {
		t.Fatalf("Z 2 right after Z 1: %+v", z2)
	}
	if _, err := w.ctl.PrintReport(ctx, 3); err == nil {
		t.Fatal("Z report 3 printed before it was made")
	} else if re := (*control.ReplyError)(nil); !errors.As(err, &re) || re.Status != 404 {
		t.Fatalf("Z report 3: %v", err)
	}
	// After the day closes, a sale counts in the next period only.
	w.sellKeyed("1", "0", "0", "0", "0")
	x2, err := w.ctl.Report(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if r := x2.Report; r.TotalCashSales != 10000 || r.PreviousZ != 2 || r.Grand.Net != captured-refunded+10000 {
		t.Fatalf("X after the Zs: %+v", r)
	}
}
