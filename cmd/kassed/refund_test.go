package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/control"
	"kasse/till"
)

// Store B refunds a sale made in store A, in two parts, reading what is
// refundable from Vipps (B's journal never saw the sale); a third refund
// finds nothing left; a foreign reference is refused.
func TestCrossStoreRefund(t *testing.T) {
	a := newWorld(t, worldOpts{prefix: "OSLO1", lane: "2", spec: true, chain: []string{"BERGEN"}})
	b := newWorld(t, worldOpts{prefix: "BERGEN", lane: "7", shared: a, chain: []string{"OSLO1"}})

	a.keys("2", "0", "0", "0", "0", "pay")
	ref := a.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	a.approve(ref)
	a.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })

	// Partial refund of 50,00 at store B.
	if _, err := b.keys("refund"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ctl.Scan(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	st := b.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund == nil || st.Refund.OriginStore != "OSLO1" || st.Refund.OriginLane != "2" || st.Refund.Refundable != "200,00 kr" {
		t.Fatalf("refund screen: %+v", st.Refund)
	}
	if _, err := b.keys("2", "5", "0", "0", "1", "pay"); err == nil {
		t.Fatal("a refund above the refundable amount was accepted") // 250,01 > 200,00
	}
	b.keys("clear", "5", "0", "0", "0", "pay")
	b.supervisor()
	st = b.waitFor("the refund done", func(s till.Status) bool { return s.State == till.StateDone })
	if st.Screen != "paid" || st.LastError != "" {
		t.Fatalf("after the refund: %+v", st)
	}
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 5000 {
		t.Fatalf("refunded %d at Vipps, want 5000", p.Aggregate.Refunded.Value)
	}

	// The rest, with no amount keyed: all that is left.
	b.keys("refund")
	b.ctl.Scan(context.Background(), ref)
	st = b.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund.Refundable != "150,00 kr" {
		t.Fatalf("refundable after 50,00: %+v", st.Refund)
	}
	// A keyed 0 is an amount of zero, not "all" (issue 7, bug 7).
	if _, err := b.keys("0", "pay"); err == nil {
		t.Fatal("a keyed 0 was accepted as a refund amount")
	}
	b.keys("back")
	// Pay with nothing keyed asks first; only the second pay refunds all.
	if st, err := b.keys("pay"); err != nil || st.State != till.StateRefundAmount {
		t.Fatalf("pay with nothing keyed: %+v, %v; want a confirmation in refund-amount", st, err)
	}
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 5000 {
		t.Fatalf("refunded %d at Vipps before the confirmation, want 5000", p.Aggregate.Refunded.Value)
	}
	b.keys("pay")
	b.supervisor()
	st = b.waitFor("the second refund done", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	if st.Amount != "150,00 kr" {
		t.Errorf("status after the full refund shows %q, want the refunded 150,00 kr (issue 7, bug 9)", st.Amount)
	}
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 20000 {
		t.Fatalf("refunded %d at Vipps, want 20000", p.Aggregate.Refunded.Value)
	}

	// Nothing left.
	b.keys("refund")
	b.ctl.Scan(context.Background(), ref)
	st = b.waitFor("nothing to refund", func(s till.Status) bool { return s.Screen == "error" })
	if st.State != till.StateRefundScan || !strings.Contains(st.LastError, "nothing left") {
		t.Fatalf("third refund: %+v, want the error in refund-scan", st)
	}
	// Digits keyed after a refund error stay in the refund: never a sale
	// with a QR (issue 7, bug 7).
	if _, err := b.keys("5", "0", "0", "pay"); err == nil {
		t.Fatal("digits after a refund error were taken")
	}
	if st, err := b.ctl.Status(context.Background()); err != nil || st.State != till.StateRefundScan || st.Reference != "" {
		t.Fatalf("after digits following a refund error: %+v, %v; want refund-scan and no sale", st, err)
	}
	// The display says it in people's words, never the API's (once the
	// renderer has drawn what the till handed it).
	if err := b.reg.hw.display.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if scr := b.reg.hw.panel.Current(); strings.Contains(scr.Message, "vipps") || strings.Contains(scr.Message, ref) {
		t.Errorf("customer display after a refund error: %q", scr.Message)
	}

	// A reference of a store outside the chain.
	b.keys("clear", "refund")
	_, err := b.ctl.Scan(context.Background(), "TRONDH-1-abcd-5")
	if err == nil || !strings.Contains(err.Error(), "not in this chain") {
		t.Fatalf("foreign reference: %v", err)
	}
	if _, err := b.ctl.Scan(context.Background(), "0123"); err == nil {
		t.Fatal("a malformed reference was accepted")
	}
	// A scanner can send anything: a long code is cut and quoted, in the
	// reply and in the status (issue 7, bug 9).
	if _, err := b.ctl.Scan(context.Background(), strings.Repeat("OSLO1", 2000)); err == nil || len(err.Error()) > 300 {
		t.Fatalf("a 10000-byte scan: %d-byte error %v", len(fmt.Sprint(err)), err)
	}
	if st, _ := b.ctl.Status(context.Background()); len(st.LastError) > 300 {
		t.Fatalf("status repeats a %d-byte error", len(st.LastError))
	}

	// B's sale log carries both refunds with their origin store.
	var csv bytes.Buffer
	if err := b.ctl.Export(context.Background(), control.JournalQuery{}, "csv", &csv); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(csv.String(), ",refund,"+ref+",BERGEN,7,OSLO1,"); n != 2 {
		t.Fatalf("want 2 refund rows with origin store OSLO1 in:\n%s", csv.String())
	}
	// The refund slips were printed at B.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := b.printer.WaitCuts(ctx, 2)
	if err != nil || !doc.Contains("RETURKVITTERING") || !doc.Contains("Gjelder salg") {
		t.Fatalf("refund slips: %v", err)
	}
	a.spec.Check(t)
}

// Option A: the chain's stores have their own MSNs under partner keys. A
// refund at store B carries the MSN of store A, which made the sale; under
// B's own MSN the payment is not even visible.
func TestRefundCarriesOriginMSN(t *testing.T) {
	a := newWorld(t, worldOpts{prefix: "OSLO1", lane: "2", spec: true, msn: partnerMSN})
	b := newWorld(t, worldOpts{prefix: "BERGEN", lane: "7", shared: a, chain: []string{"OSLO1"},
		chainMSN: map[string]string{"OSLO1": partnerMSN}})
	plain := newWorld(t, worldOpts{prefix: "TROMSO", lane: "1", shared: a, chain: []string{"OSLO1"}})

	a.keys("1", "0", "0", "0", "0", "pay")
	ref := a.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	a.sim.Approve(ref) // the shopper; the test's API client holds the other MSN
	a.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })

	// Without chain.msn the register asks under its own MSN: not found.
	plain.keys("refund")
	plain.ctl.Scan(context.Background(), ref)
	st := plain.waitFor("the refusal", func(s till.Status) bool { return s.State == till.StateRefundScan && s.LastError != "" })
	if !strings.Contains(st.LastError, "has no payment") {
		t.Fatalf("refund under the wrong MSN: %+v", st)
	}

	b.keys("refund")
	b.ctl.Scan(context.Background(), ref)
	b.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	b.keys("pay", "pay")
	b.supervisor()
	b.waitFor("refunded", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 10000 {
		t.Fatalf("refunded %d, want 10000", p.Aggregate.Refunded.Value)
	}
	var refundMSN string
	for _, r := range a.sim.Requests() {
		if strings.HasSuffix(r.Path, "/"+ref+"/refund") {
			refundMSN = r.Header.Get("Merchant-Serial-Number")
		}
	}
	if refundMSN != partnerMSN {
		t.Fatalf("the refund carried MSN %q, want the origin store's %s", refundMSN, partnerMSN)
	}
	a.spec.Check(t)
}

// An eCom sale is refunded at the till too: found through /details when
// ePayment does not know the reference.
func TestRefundECommSale(t *testing.T) {
	a := newWorld(t, worldOpts{spec: true, flow: "ecom"})
	a.keys("5", "0", "0", "0", "pay")
	ref := a.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	a.sim.Approve(ref)
	a.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	a.keys("clear", "refund")
	a.ctl.Scan(context.Background(), ref)
	st := a.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund.Refundable != "50,00 kr" {
		t.Fatalf("refundable: %+v", st.Refund)
	}
	a.keys("2", "0", "0", "0", "pay")
	a.supervisor()
	a.waitFor("refunded", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 2000 {
		t.Fatalf("refunded %d, want 2000", p.Aggregate.Refunded.Value)
	}
	a.spec.Check(t)
}

// Option A with eCom (issue 7, bug 5): store B reads store A's eCom sale
// with A's MSN, as it refunds it; the simulator shows an eCom payment only
// to the MSN that initiated it.
func TestECommRefundCarriesOriginMSN(t *testing.T) {
	a := newWorld(t, worldOpts{prefix: "OSLO1", lane: "2", spec: true, msn: partnerMSN, flow: "ecom"})
	b := newWorld(t, worldOpts{prefix: "BERGEN", lane: "7", shared: a, chain: []string{"OSLO1"},
		chainMSN: map[string]string{"OSLO1": partnerMSN}})
	a.keys("6", "0", "0", "0", "pay")
	ref := a.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	a.sim.Approve(ref)
	a.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })

	b.keys("refund")
	b.ctl.Scan(context.Background(), ref)
	st := b.waitFor("the refundable amount", func(s till.Status) bool {
		return s.State == till.StateRefundAmount || s.LastError != ""
	})
	if st.State != till.StateRefundAmount || st.Refund.Refundable != "60,00 kr" {
		t.Fatalf("store B reading store A's eCom sale: %+v (refund %+v)", st, st.Refund)
	}
	b.keys("1", "0", "0", "0", "pay")
	b.supervisor()
	b.waitFor("refunded", func(s till.Status) bool { return s.State == till.StateDone && s.Screen == "paid" })
	if p, _ := a.sim.Payment(ref); p.Aggregate.Refunded.Value != 1000 {
		t.Fatalf("refunded %d, want 1000", p.Aggregate.Refunded.Value)
	}
	for _, r := range a.sim.Requests() {
		if strings.Contains(r.Path, "/ecomm/v2/payments/"+ref) && r.Header.Get("Merchant-Serial-Number") != partnerMSN {
			t.Errorf("%s %s carried MSN %q, want the origin store's %s", r.Method, r.Path, r.Header.Get("Merchant-Serial-Number"), partnerMSN)
		}
	}
	a.spec.Check(t)
}
