// Command mkschema2 wrote testdata/schema2.db with kasse at commit 7331dd1
// (schema 2, format 1 records), through the store's public methods, so the
// migration test reads a file the old code really wrote. It is kept for the
// record; it does not build against the current store. To redo it:
//
//	git archive 7331dd1 | tar -x -C /tmp/old
//	mkdir /tmp/old/cmd/mkschema2 && cp main.go /tmp/old/cmd/mkschema2/
//	cd /tmp/old && go run ./cmd/mkschema2 /path/to/store/testdata/schema2.db
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"time"

	"kasse/money"
	"kasse/store"
)

func main() {
	path := os.Args[1]
	zone := time.FixedZone("CET", 3600)
	now := time.Date(2025, 3, 30, 1, 59, 50, 123456789, zone)
	clock := func() time.Time { now = now.Add(1234567891 * time.Nanosecond); return now }
	db, err := store.Open(path, store.Options{Now: clock, InitialMmapSize: 1 << 15})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	nok := func(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }
	body := func(n int) []byte { return bytes.Repeat([]byte("{\"x\":1}"), n) }
	newSale := func(v int64) (store.Sale, uint64) {
		s, ids, err := db.NewSale("OSLO1", "2", func(ref string) (store.Sale, []store.Op) {
			s := store.Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: nok(v), State: store.StateCreated}
			return s, []store.Op{{Reference: ref, Kind: "create", API: "epayment", IdempotencyKey: "create-" + ref,
				Method: "POST", Path: "/epayment/v1/payments", Body: body(50), Amount: v}}
		})
		check(err)
		return s, ids[0]
	}
	capture := func(s store.Sale) store.Op {
		return store.Op{Reference: s.Reference, Kind: "capture", API: "epayment", IdempotencyKey: "capture-" + s.Reference,
			Method: "POST", Path: "/epayment/v1/payments/" + s.Reference + "/capture", Body: body(5), Amount: s.Amount.Value}
	}
	// Twelve sales taken to the end, the way the till does.
	var done []store.Sale
	for i := range 12 {
		s, create := newSale(int64(1000 + 137*i))
		s.State, s.VippsState, s.Authorized = store.StateAuthorized, "AUTHORIZED", clock()
		caps, err := db.Finish(s, []uint64{create}, capture(s))
		check(err)
		s.State, s.Captured, s.Ended = store.StateCaptured, clock(), clock()
		_, job, err := db.FinishPrint(s, caps, store.PrintJob{Receipt: body(80), Sent: true})
		check(err)
		check(db.PrintDone(job, s))
		done = append(done, s)
	}
	// One waiting for the shopper, its create retried once.
	w, create := newSale(4200)
	w.State, w.VippsState = store.StateWaiting, "CREATED"
	_, err = db.Finish(w, nil)
	check(err)
	check(db.Retry(create, 2, clock().Add(3*time.Second), "Vipps answered 503"))
	// One authorized, its capture pending.
	a, create := newSale(999)
	a.State, a.VippsState, a.Authorized = store.StateAuthorized, "AUTHORIZED", clock()
	_, err = db.Finish(a, []uint64{create}, capture(a))
	check(err)
	// One captured whose receipt failed to print; a copy queued of another.
	c, create := newSale(12345)
	c.State, c.Captured, c.Ended = store.StateCaptured, clock(), clock()
	_, job, err := db.FinishPrint(c, []uint64{create}, store.PrintJob{Receipt: body(80)})
	check(err)
	check(db.PrintStarted(job))
	check(db.PrintRetry(job, 1, "paper out", false))
	_, err = db.QueuePrint(store.PrintJob{Reference: done[0].Reference, Copy: true, Receipt: body(80)})
	check(err)
	// One cancelled with an error, one failed.
	x, create := newSale(500)
	x.State, x.VippsState, x.Ended, x.Error = store.StateCancelled, "ABORTED", clock(), "cancelled by the cashier"
	_, err = db.Finish(x, []uint64{create})
	check(err)
	f, create := newSale(151)
	f.State, f.Ended, f.Error, f.API = store.StateFailed, clock(), "insufficient funds", "ecom"
	_, err = db.Finish(f, []uint64{create})
	check(err)
	// Sales from other paths: another store's sale, a reference of another shape.
	check(db.PutSale(store.Sale{Reference: "BERG1-1-ab12-7", Store: "BERG1", Lane: "1", Amount: money.Amount{Value: 700, Currency: "DKK"},
		State: store.StateCaptured, Printed: true, Created: time.Date(2025, 3, 29, 12, 0, 0, 5, time.UTC), Phone: "4712345678"}))
	check(db.PutSale(store.Sale{Reference: "ORDER-0000123", Store: "OSLO1", Lane: "2", Amount: nok(2500),
		State: store.StateExpired, VippsState: "EXPIRED", Created: time.Date(2025, 3, 29, 12, 0, 0, 5, time.UTC)}))
	// Refunds: one done with its slip queued, one pending with its op, one
	// of another store's sale.
	r1 := store.Refund{ID: "rf-" + done[1].Reference, Reference: done[1].Reference, Store: "OSLO1", Lane: "2",
		Amount: nok(500), State: store.RefundPending}
	ids, err := db.PutRefund(r1, store.Op{Reference: r1.Reference, Kind: "refund", API: "epayment", IdempotencyKey: r1.ID,
		Method: "POST", Path: "/epayment/v1/payments/" + r1.Reference + "/refund", Body: body(5), Amount: 500})
	check(err)
	r1.State = store.RefundDone
	_, err = db.FinishRefundPrint(r1, ids, store.PrintJob{Receipt: body(40)})
	check(err)
	r2 := store.Refund{ID: "rf-" + done[2].Reference, Reference: done[2].Reference, Store: "OSLO1", Lane: "2",
		Amount: nok(100), State: store.RefundPending}
	_, err = db.PutRefund(r2, store.Op{Reference: r2.Reference, Kind: "refund", API: "epayment", IdempotencyKey: r2.ID,
		Method: "POST", Path: "/epayment/v1/payments/" + r2.Reference + "/refund", Body: body(5), Amount: 100, MSN: "654321"})
	check(err)
	_, err = db.PutRefund(store.Refund{ID: "rf-berg", Reference: "BERG1-1-ab12-7", Store: "OSLO1", Lane: "2",
		Amount: money.Amount{Value: 700, Currency: "DKK"}, State: store.RefundFailed, Error: "refused"})
	check(err)
	check(db.SetSetting("printer.paper", "80mm"))
	fmt.Println("wrote", path)
}
