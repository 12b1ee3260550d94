// Package paymenttest builds register databases the way the till writes
// them, for benchmarks: the real payment engine sells one sale after another
// into a real bbolt file, against an in-process Vipps that approves every
// payment at its first read and a printer that takes every receipt. So the
// file has the engine's own transactions, keys, records and timestamps; only
// fsync is off while building, which leaves the layout as it is.
package paymenttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kasse/journal"
	"kasse/money"
	"kasse/payment"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Journal returns the path of a database holding n captured, printed sales,
// built once per schema version and n and kept in the temp dir
// (kasse-bench/engine-v<schema>-signed-<n>.db), since 1M sales take
// minutes. Its cash transactions are signed as kassed signs them, with a
// key made for the file; the public key is beside it (PublicKeyFile). It
// is shared between runs: copy it or link it, never change it. Never in
// make test: -short skips.
func Journal(tb testing.TB, n int) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("builds a large database; drop -short to run")
	}
	dir := filepath.Join(os.TempDir(), "kasse-bench")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("engine-v%d-signed-%d.db", store.SchemaVersion, n))
	// The test binaries of several packages run at once: one builds, the
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
	}
	tmp := path + ".building"
	for _, p := range []string{tmp, tmp + ".clean"} {
		_ = os.Remove(p) // an interrupted build
	}
	start := time.Now()
	signer, err := journal.GenerateKey(nil, 1)
	if err != nil {
		tb.Fatal(err)
	}
	pub, err := journal.PublicPEM(signer)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(PublicKeyFile(path), pub, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := BuildSigned(tmp, n, signer); err != nil {
		_ = os.Remove(tmp)
		tb.Fatalf("building a journal of %d sales: %v", n, err)
	}
	_ = os.Remove(tmp + ".clean") // the clean-shutdown mark names the temporary file
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built %s: %d sales in %v", path, n, time.Since(start).Round(time.Millisecond))
	return path
}

// PublicKeyFile is where Journal keeps the public key (PEM, with its
// version) that verifies the journal at path.
func PublicKeyFile(path string) string { return path + ".pub.pem" }

// Build sells n sales through the payment engine into a new database at
// path: amounts from 1,00 to 999,99 kr, one after another on the real clock.
// The journal's cash transactions are not signed (BuildSigned signs them).
func Build(path string, n int) error { return BuildSigned(path, n, nil) }

// BuildSigned is Build with the store signing each cash transaction with
// signer, as kassed's store does, and journaling the 25 % VAT rate.
func BuildSigned(path string, n int, signer store.Signer) error {
	db, err := store.Open(path, store.Options{NoSync: true, Signer: signer, TaxRate: 2500})
	if err != nil {
		return err
	}
	defer db.Close()
	v := &Instant{}
	e := payment.New(payment.Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken Oslo S", OrgNumber: "987654325",
		StoreLines: []string{"Jernbanetorget 1, 0154 Oslo", "Org.nr. 999 999 999 MVA"}, Currency: "NOK",
		Description: "Kjøp i Butikken Oslo S", TaxRate: 2500, Flow: "qr",
		// Polls wait for nothing: the instant Vipps has approved already.
		After: func(time.Duration) <-chan time.Time {
			ch := make(chan time.Time, 1)
			ch <- time.Now()
			return ch
		}}, v, Paper{}, db)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last payment.Outcome
	if err := e.Start(ctx, func(o payment.Outcome) { last = o }); err != nil {
		return err
	}
	// A shop with cashiers: every sale carries the logged-in cashier's
	// id, as the till's sales do (and they cost bytes).
	e.SetCashier("1042")
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range n {
		last = payment.Outcome{}
		if err := e.Sell(money.Amount{Value: 100 + rnd.Int64N(99900), Currency: "NOK"}, ""); err != nil {
			return fmt.Errorf("sale %d: %w", i+1, err)
		}
		for last.Kind != payment.Paid || e.Status().PrintQueue > 0 || e.Status().Outbox > 0 {
			switch last.Kind {
			case payment.RegisterFault, payment.NotCompleted, payment.Unreachable:
				return fmt.Errorf("sale %d: %s", i+1, last.Kind)
			}
			select {
			case fn := <-e.Events():
				fn()
			case <-time.After(10 * time.Second):
				return fmt.Errorf("sale %d: the engine stopped (%+v)", i+1, e.Status())
			}
		}
		e.Dismiss()
	}
	return nil
}

// Paper is a printer that takes every receipt at once.
type Paper struct{}

// Print takes r.
func (Paper) Print(receipt.Receipt) error { return nil }

// Instant is an ePayment Vipps in memory: a created payment is AUTHORIZED
// at its first read, a capture takes the whole amount. It answers like the
// API (so the engine's reply checks pass) without HTTP.
type Instant struct {
	mu       sync.Mutex
	payments map[string]*vipps.Payment
}

// Do answers a create or a capture.
func (v *Instant) Do(_ context.Context, r vipps.Request, out any) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.payments == nil {
		v.payments = map[string]*vipps.Payment{}
	}
	var reply any
	switch {
	case r.Method == "POST" && r.Path == "/epayment/v1/payments":
		var c vipps.CreatePayment
		if err := json.Unmarshal(r.Body, &c); err != nil {
			return err
		}
		v.payments[c.Reference] = &vipps.Payment{Reference: c.Reference, State: vipps.Created, Amount: c.Amount,
			PSPRef: "psp-" + c.Reference}
		reply = map[string]string{"reference": c.Reference, "redirectUrl": "https://qr.vipps.no/p/" + c.Reference}
	case r.Method == "POST" && strings.HasSuffix(r.Path, "/capture"):
		ref := strings.TrimSuffix(strings.TrimPrefix(r.Path, "/epayment/v1/payments/"), "/capture")
		p, ok := v.payments[ref]
		if !ok || p.State != vipps.Authorized {
			return fmt.Errorf("capture of %s: not authorized", ref)
		}
		p.Aggregate.Captured = p.Amount
		reply = *p
		delete(v.payments, ref) // done: keeps memory flat over a million sales
	default:
		return fmt.Errorf("instant Vipps: %s %s is not simulated", r.Method, r.Path)
	}
	b, err := json.Marshal(reply)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Get reads a payment, approving it on the first read.
func (v *Instant) Get(_ context.Context, ref string) (vipps.Payment, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.payments[ref]
	if !ok {
		return vipps.Payment{}, fmt.Errorf("instant Vipps: no payment %s", ref)
	}
	if p.State == vipps.Created {
		p.State = vipps.Authorized
		p.Aggregate = vipps.Aggregate{Authorized: p.Amount, Cancelled: money.Amount{Currency: p.Amount.Currency},
			Captured: money.Amount{Currency: p.Amount.Currency}, Refunded: money.Amount{Currency: p.Amount.Currency}}
	}
	return *p, nil
}

var errNotSimulated = errors.New("instant Vipps: not simulated")

// Ping answers.
func (v *Instant) Ping(context.Context) error { return nil }

// FetchImage is not simulated.
func (v *Instant) FetchImage(context.Context, string) (image.Image, error) {
	return nil, errNotSimulated
}

// ECommDetails is not simulated.
func (v *Instant) ECommDetails(context.Context, string, string) (vipps.ECommDetails, error) {
	return vipps.ECommDetails{}, errNotSimulated
}

// OneTimeQR is not simulated.
func (v *Instant) OneTimeQR(context.Context, string, string, int) (vipps.QR, error) {
	return vipps.QR{}, errNotSimulated
}
