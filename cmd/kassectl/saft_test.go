package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/control"
	"kasse/journal"
	"kasse/journal/saft"
	"kasse/journal/saft/safttest"
	"kasse/money"
	"kasse/store"
)

// saftSocket serves a signed journal of sales and a refund on a control
// socket with the SAF-T export configured.
func saftSocket(t *testing.T) (sock string, keys map[string]*rsa.PublicKey) {
	t.Helper()
	s, err := journal.GenerateKey(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.Local)
	db, err := store.Open(filepath.Join(dir, "kasse.db"), store.Options{Signer: s, TaxRate: 1500,
		Now: func() time.Time { clock = clock.Add(7 * time.Minute); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var refs []string
	for _, kr := range []int64{4990, 12000, 350} {
		ref, err := db.NextReference("OSLO1", "2")
		if err != nil {
			t.Fatal(err)
		}
		sale := store.Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: kr, Currency: "NOK"},
			State: store.StateCaptured, Cashier: "3"}
		if _, _, err := db.FinishReceipt(sale, nil, store.PrintJob{Receipt: []byte("r")}); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ref)
	}
	r := store.Refund{ID: "r1", Reference: refs[1], Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 12000, Currency: "NOK"},
		State: store.RefundPending}
	if _, err := db.PutRefund(r); err != nil {
		t.Fatal(err)
	}
	r.State = store.RefundDone
	if _, err := db.FinishRefundPrint(r, nil, store.PrintJob{Receipt: []byte("s")}); err != nil {
		t.Fatal(err)
	}
	sock = filepath.Join(dir, "kassed.sock")
	l, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: control.Handler(idleTill{}, idleTill{}, db, filepath.Join(dir, "archive"),
		control.WithSAFT(saft.Company{OrgNumber: "987654325", Name: "Butikken", Store: "OSLO1", Lane: "2",
			Lines: []string{"Storgata 5, 0155 Oslo"}, Currency: "NOK"}))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	pem, err := journal.PublicPEM(s)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err = journal.PublicKeys(pem); err != nil {
		t.Fatal(err)
	}
	return sock, keys
}

func TestExportSAFT(t *testing.T) {
	sock, keys := saftSocket(t)
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"--socket", sock, "export", "saft", "--from", "2026-03-01", "--to", "2026-03-31", "-o", dir}, &out); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "SAF-T Cash Register_987654325_") ||
		!strings.HasSuffix(files[0], "_1_1.xml") {
		t.Fatalf("-o DIR wrote %v", files)
	}
	safttest.Validate(t, files[0])
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := saft.Verify(f, keys); err != nil || n != 4 {
		t.Fatalf("verified %d of 4: %v", n, err)
	}

	// To stdout, the same file but for its creation time.
	out.Reset()
	if err := run([]string{"--socket", sock, "export", "saft", "--from", "2026-03-02", "--to", "2026-03-02"}, &out); err != nil {
		t.Fatal(err)
	}
	if n, err := saft.Verify(bytes.NewReader(out.Bytes()), keys); err != nil || n != 4 {
		t.Fatalf("stdout: verified %d of 4: %v", n, err)
	}
	// -o FILE.
	file := filepath.Join(dir, "day.xml")
	if err := run([]string{"--socket", sock, "export", "saft", "--from", "2026-03-02", "--to", "2026-03-02", "-o", file}, &out); err != nil {
		t.Fatal(err)
	}
	safttest.Validate(t, file)
}

func TestExportSAFTUsage(t *testing.T) {
	for _, args := range [][]string{
		{"export"},
		{"export", "csv"},
		{"export", "saft"},
		{"export", "saft", "--from", "2026-03-01"},
		{"export", "saft", "--from", "2026-03-31", "--to", "2026-03-01"},
		{"export", "saft", "--from", "1.3.2026", "--to", "2026-03-01"},
		{"export", "saft", "--from", "2026-03-01", "--to", "2026-03-02", "extra"},
	} {
		err := run(append([]string{"--socket", filepath.Join(t.TempDir(), "none.sock")}, args...), &bytes.Buffer{})
		var u usageError
		if !errors.As(err, &u) || exitCode(err) != 2 {
			t.Errorf("kassectl %v: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}
