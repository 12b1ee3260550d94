package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Journal returns the path of a database of n captured, printed sales,
// written the way the till writes them, cached in
// $TMPDIR/kasse-bench/v{schema}-{n}.db so that a run of make bench builds it
// once. Never in make test: -short skips.
//
// A stand-in, with the same signature and transactions, for the lead's
// kasse/payment/paymenttest.Journal: swap the calls when that is in main.
func Journal(tb testing.TB, n int) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds a large database; drop -short to run")
	}
	dir := filepath.Join(os.TempDir(), "kasse-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("v%d-%d.db", store.SchemaVersion, n))
	// Test binaries of several packages run at once: one builds, the
	// others wait for it.
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		return path
	} else if !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	tmp := path + ".building"
	for _, p := range []string{tmp, tmp + ".clean"} {
		os.Remove(p) // an interrupted build
	}
	began := time.Now()
	db, err := store.Open(tmp, store.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		sellOne(tb, db, int64(100+i%90000))
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	os.Remove(tmp + ".clean") // the mark is for the temporary name
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built %s: %d sales in %s", path, n, time.Since(began).Round(time.Millisecond))
	return path
}

// sellOne writes one sale as the engine does, with the real clock: the sale
// and its create intent; authorized, create done, capture intent; captured,
// capture done, receipt queued and marked sent; receipt printed.
func sellOne(tb testing.TB, db *store.DB, value int64) {
	a := money.Amount{Value: value, Currency: "NOK"}
	const prefix, lane, taxRate = "OSLO1", "2", 2500
	var build error
	s, ids, err := db.NewSale(prefix, lane, func(ref string) (store.Sale, []store.Op) {
		now := time.Now()
		vat := money.VAT(a.Value, taxRate)
		r, err := vipps.CreateRequest(vipps.CreatePayment{
			Amount: a, PaymentMethod: vipps.PaymentMethod{Type: "WALLET"}, Reference: ref,
			UserFlow: "QR", CustomerInteraction: "CUSTOMER_PRESENT",
			QRFormat:           &vipps.QRFormat{Format: "TEXT/TARGETURL"},
			PaymentDescription: "Kjøp i Butikken",
			Receipt: &vipps.Receipt{
				OrderLines: []vipps.OrderLine{{Name: "Sale", ID: "1", TotalAmount: a.Value,
					TotalAmountExcludingTax: a.Value - vat, TotalTaxAmount: vat, TaxRate: taxRate}},
				BottomLine: vipps.BottomLine{Currency: a.Currency, PosID: lane, ReceiptNumber: ref},
			},
		}, "create-"+ref)
		build = err
		return store.Sale{Reference: ref, Store: prefix, Lane: lane, Amount: a, State: store.StateCreated,
				Created: now, Updated: now},
			[]store.Op{{Reference: ref, Kind: "create", API: "epayment", IdempotencyKey: r.IdempotencyKey,
				Method: r.Method, Path: r.Path, Body: r.Body, Amount: a.Value}}
	})
	if err = errors.Join(err, build); err != nil {
		tb.Fatal(err)
	}
	s.State, s.VippsState, s.Authorized = store.StateAuthorized, "AUTHORIZED", time.Now()
	r, err := vipps.CaptureRequest(s.Reference, a, "capture-"+s.Reference)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err = db.Finish(s, ids, store.Op{Reference: s.Reference, Kind: "capture", API: "epayment",
		IdempotencyKey: r.IdempotencyKey, Method: r.Method, Path: r.Path, Body: r.Body, Amount: a.Value})
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	s.State, s.Captured, s.Ended = store.StateCaptured, now, now
	body, err := json.Marshal(receipt.Receipt{StoreName: "Butikken", StoreLines: []string{"Storgata 1, 0155 Oslo"},
		Store: prefix, Lane: lane, Reference: s.Reference, Time: now, Currency: a.Currency,
		Lines: []receipt.Line{{Text: "Sale", Quantity: 1, Amount: a.Value, TaxRate: taxRate}},
		Total: a.Value, PaymentMethod: "Vipps MobilePay"})
	if err != nil {
		tb.Fatal(err)
	}
	_, job, err := db.FinishPrint(s, ids, store.PrintJob{Reference: s.Reference, Receipt: body, Sent: true})
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.PrintDone(job, s); err != nil {
		tb.Fatal(err)
	}
}
