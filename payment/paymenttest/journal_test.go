package paymenttest

import (
	"crypto/rsa"
	"path/filepath"
	"testing"
	"time"

	"kasse/journal"
	"kasse/store"
)

// Build leaves what the till leaves after a day of sales: every sale
// captured and printed once, nothing pending.
func TestBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	const n = 300
	start := time.Now()
	if err := Build(path, n); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d sales in %v", n, time.Since(start))
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := 0
	var prev time.Time
	err = db.Sales(func(s store.Sale) error {
		seen++
		if s.State != store.StateCaptured || !s.Printed || s.VippsState != "AUTHORIZED" || s.Amount.Value < 100 {
			t.Errorf("sale %+v", s)
		}
		if s.Created.Before(prev) {
			t.Errorf("sale %s created before the one before it", s.Reference)
		}
		prev = s.Created
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("%d sales, %v; want %d", seen, err, n)
	}
	if ops, _ := db.Pending(); len(ops) != 0 {
		t.Errorf("outbox: %d ops", len(ops))
	}
	if jobs, _ := db.PrintJobs(); len(jobs) != 0 {
		t.Errorf("print queue: %d jobs", len(jobs))
	}
}

// BuildSigned journals every sale signed and chained, as kassed's store
// does: the chain verifies with the public key.
func TestBuildSigned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	s, err := journal.GenerateKey(nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	if err := BuildSigned(path, n, s); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v := journal.NewVerifier(map[string]*rsa.PublicKey{"1": s.Public()})
	if err := db.Entries(0, func(e store.Entry) error {
		if e.IsTransaction() && (e.TaxRate != 2500 || e.VAT == 0) {
			t.Errorf("transaction %d journaled with rate %d, VAT %d", e.Nr, e.TaxRate, e.VAT)
		}
		return v.Check(e)
	}); err != nil {
		t.Fatal(err)
	}
	if v.Checked != n {
		t.Fatalf("verified %d transactions, want %d", v.Checked, n)
	}
}
