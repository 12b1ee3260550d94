package journal_test

import (
	"crypto/rand"
	"crypto/rsa"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/journal"
	"kasse/money"
	"kasse/store"
)

// The guidance's own example string, with "0" before a register's first
// transaction.
func TestSignedStringIsTheGuidancesFormat(t *testing.T) {
	at := time.Date(2014, 1, 24, 23, 59, 59, 0, time.UTC)
	e := store.Entry{Time: at, Nr: 123456789, Amount: 125000, VAT: 25000}
	if got, want := store.SignedString("", e), "0;2014-01-24;23:59:59;123456789;1250.00;1000.00"; got != want {
		t.Fatalf("signed string %q, want %q", got, want)
	}
	e.Amount, e.VAT = -5, -1
	if got, want := store.SignedString("abc=", e), "abc=;2014-01-24;23:59:59;123456789;-0.05;-0.04"; got != want {
		t.Fatalf("a return's signed string %q, want %q", got, want)
	}
}

// day sells, copies and refunds through the store as the engine does and
// returns the journal.
func day(t *testing.T, s *journal.Signer) []store.Entry {
	t.Helper()
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local)
	db, err := store.Open(filepath.Join(t.TempDir(), "kasse.db"), store.Options{Signer: s, TaxRate: 2500,
		Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var refs []string
	for i, kr := range []int64{10000, 2550, 99} {
		ref, err := db.NextReference("OSLO1", "2")
		if err != nil {
			t.Fatal(err)
		}
		sale := store.Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: kr, Currency: "NOK"},
			State: store.StateCaptured, Cashier: "7"}
		if _, _, err := db.FinishReceipt(sale, nil, store.PrintJob{Receipt: []byte("r")}); err != nil {
			t.Fatalf("sale %d: %v", i, err)
		}
		refs = append(refs, ref)
	}
	if _, err := db.QueuePrint(store.PrintJob{Reference: refs[0], Copy: true, Receipt: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	r := store.Refund{ID: "refund-1", Reference: refs[1], Store: "OSLO1", Lane: "2",
		Amount: money.Amount{Value: 1000, Currency: "NOK"}, State: store.RefundDone}
	if _, err := db.PutRefund(store.Refund{ID: r.ID, Reference: r.Reference, Store: "OSLO1", Lane: "2",
		Amount: r.Amount, State: store.RefundPending}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FinishRefundPrint(r, nil, store.PrintJob{Receipt: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	var out []store.Entry
	if err := db.Entries(0, func(e store.Entry) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJournalSignaturesVerifyAndBreakWhereChanged(t *testing.T) {
	s, err := journal.GenerateKey(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	entries := day(t, s)
	var codes []int
	for _, e := range entries {
		codes = append(codes, e.Code)
	}
	want := []int{store.TransCashSale, store.TransCashSale, store.TransCashSale, store.EventCopyReceipt, store.TransReturn}
	if len(codes) != len(want) {
		t.Fatalf("journal codes %v, want %v", codes, want)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("journal codes %v, want %v", codes, want)
		}
	}
	if ret := entries[4]; ret.Amount != -1000 || ret.VAT != -200 || ret.Nr != 1 {
		t.Fatalf("the return is journaled %+v: want -10.00 with -2.00 VAT, slip 1", ret)
	}
	if cp := entries[3]; cp.Trans != entries[0].Seq {
		t.Fatalf("the copy names transaction %d, want the first sale's %d", cp.Trans, entries[0].Seq)
	}
	pem, err := journal.PublicPEM(s)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := journal.PublicKeys(pem)
	if err != nil {
		t.Fatal(err)
	}
	v := journal.NewVerifier(keys)
	for _, e := range entries {
		if err := v.Check(e); err != nil {
			t.Fatal(err)
		}
	}
	if v.Checked != 4 {
		t.Fatalf("verified %d transactions, want 4", v.Checked)
	}

	// Change one field of one transaction at a time: verification fails
	// at that transaction, not before.
	for _, change := range []struct {
		name string
		fn   func(*store.Entry)
	}{
		{"amount", func(e *store.Entry) { e.Amount++ }},
		{"vat", func(e *store.Entry) { e.VAT-- }},
		{"number", func(e *store.Entry) { e.Nr = 9 }},
		{"time", func(e *store.Entry) { e.Time = e.Time.Add(time.Second) }},
	} {
		for at := range entries {
			if !entries[at].IsTransaction() {
				continue
			}
			v := journal.NewVerifier(keys)
			var failed = -1
			for i, e := range entries {
				if i == at {
					change.fn(&e)
				}
				if err := v.Check(e); err != nil {
					failed = i
					if !strings.Contains(err.Error(), "does not verify") {
						t.Fatalf("%s changed at %d: %v", change.name, at, err)
					}
					break
				}
			}
			if failed != at {
				t.Fatalf("%s changed at entry %d: verification failed at %d", change.name, at, failed)
			}
		}
	}

	// Another key does not verify the journal.
	other, err := journal.GenerateKey(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := journal.NewVerifier(map[string]*rsa.PublicKey{"1": other.Public()}).Check(entries[0]); err == nil {
		t.Fatal("another key verified the first transaction")
	}
}
