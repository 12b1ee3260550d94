package saft_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasse/journal"
	"kasse/journal/report"
	"kasse/journal/saft"
	"kasse/journal/saft/safttest"
	"kasse/money"
	"kasse/store"
)

var company = saft.Company{OrgNumber: "987 654 325", Name: "Butikken Oslo S", Store: "OSLO1", Lane: "2",
	Lines: []string{"Jernbanetorget 1, 0154 Oslo", "Org.nr. 987 654 325 MVA"}, ArticleDesc: "Kjøp i Butikken Oslo S",
	SoftwareVersion: "test"}

// day journals, through the store as the engine does, two days of one
// register: sales, a copy, a partial and a full refund, an X report, a
// close and reopen of the store, more sales and a Z report. It returns
// the database (open) and the signer.
func day(t *testing.T) (*store.DB, *journal.Signer) {
	t.Helper()
	s, err := journal.GenerateKey(rand.Reader, 1)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local)
	path := filepath.Join(t.TempDir(), "kasse.db")
	open := func() *store.DB {
		db, err := store.Open(path, store.Options{Signer: s, TaxRate: 2500,
			Now: func() time.Time { clock = clock.Add(time.Minute); return clock }})
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	sell := func(kr int64, cashier string) string {
		ref, err := db.NextReference("OSLO1", "2")
		if err != nil {
			t.Fatal(err)
		}
		sale := store.Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: kr, Currency: "NOK"},
			State: store.StateCaptured, Cashier: cashier}
		if _, _, err := db.FinishReceipt(sale, nil, store.PrintJob{Receipt: []byte("r")}); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	refund := func(id, ref string, kr int64) {
		r := store.Refund{ID: id, Reference: ref, Store: "OSLO1", Lane: "2",
			Amount: money.Amount{Value: kr, Currency: "NOK"}, State: store.RefundPending}
		if _, err := db.PutRefund(r); err != nil {
			t.Fatal(err)
		}
		r.State = store.RefundDone
		if _, err := db.FinishRefundPrint(r, nil, store.PrintJob{Receipt: []byte("s")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Record(store.Entry{Code: store.EventLogin, Store: "OSLO1", Lane: "2", Cashier: "7"}); err != nil {
		t.Fatal(err)
	}
	a := sell(10000, "7")
	b := sell(2550, "7")
	c := sell(99, "12")
	if _, err := db.QueuePrint(store.PrintJob{Reference: a, Copy: true, Receipt: []byte("c")}); err != nil {
		t.Fatal(err)
	}
	refund("refund-1", b, 1000) // partial
	refund("refund-2", c, 99)   // full
	h := report.Header{Company: "Butikken AS", Org: "987654325", Store: "OSLO1", Lane: "2", Currency: "NOK", Cashier: "7"}
	if _, _, err := report.X(db, h, clock); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	clock = time.Date(2026, 12, 2, 8, 0, 0, 0, time.Local)
	db = open()
	t.Cleanup(func() { db.Close() })
	sell(4990, "7")
	sell(12345, "12")
	if _, _, err := report.Z(db, h); err != nil {
		t.Fatal(err)
	}
	return db, s
}

func export(t *testing.T, db *store.DB, from, to string) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	created := time.Date(2026, 12, 3, 10, 40, 0, 0, time.Local)
	n, err := saft.Write(&buf, company, saft.Options{From: from, To: to, Created: created},
		func(fn func(store.Entry) error) error { return db.Entries(0, fn) })
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), saft.FileName(company.OrgNumber, created, 1, 1))
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file, n
}

func keys(t *testing.T, s *journal.Signer) map[string]*rsa.PublicKey {
	t.Helper()
	pem, err := journal.PublicPEM(s)
	if err != nil {
		t.Fatal(err)
	}
	k, err := journal.PublicKeys(pem)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestExportValidatesAndEverySignatureVerifies(t *testing.T) {
	db, s := day(t)
	file, rows := export(t, db, "2026-12-01", "2026-12-02")
	if got, want := filepath.Base(file), "SAF-T Cash Register_987654325_20261203104000_1_1.xml"; got != want {
		t.Fatalf("file name %q, want %q", got, want)
	}
	safttest.Validate(t, file)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var journaled int
	if err := db.Entries(0, func(store.Entry) error { journaled++; return nil }); err != nil {
		t.Fatal(err)
	}
	if rows != journaled {
		t.Fatalf("%d rows exported, the journal has %d entries", rows, journaled)
	}
	var txs []saft.Transaction
	if err := saft.ReadTransactions(strings.NewReader(doc), func(tx saft.Transaction) error {
		txs = append(txs, tx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(txs) != 7 {
		t.Fatalf("read %d cash transactions, want 5 sales and 2 returns", len(txs))
	}
	n, err := saft.Verify(strings.NewReader(doc), keys(t, s))
	if err != nil || n != 7 {
		t.Fatalf("verified %d of 7: %v", n, err)
	}
	for _, want := range []string{
		"<receiptCopyNum>1</receiptCopyNum>", // the first sale's copy
		"<transAmntIn>-10.00</transAmntIn>", "<transAmntEx>-8.00</transAmntEx>", "<amntTp>D</amntTp>",
		"<lineType>RET</lineType>", "<transAmntIn>-0.99</transAmntIn>",
		"<eventType>13008</eventType>", "<eventType>13009</eventType>", "<eventType>13014</eventType>",
		"Z report 1", "<standardVatCode>3</standardVatCode>",
		"<postalCode>0154</postalCode>", "<registerID>OSLO1-2</registerID>", "<taxRegIdent>987654325MVA</taxRegIdent>",
		"<empID>12</empID>",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the export lacks %s", want)
		}
	}
	// The X and Z reports as eventReport, each figure in its element: the
	// Z of five sales (299.84 kr) and two returns (10.99 kr) made by
	// cashiers 7 and 12, the returns by nobody logged in.
	squash := regexp.MustCompile(`>\s+<`).ReplaceAllString(doc, "><")
	for _, want := range []string{
		"<reportID>1</reportID><reportType>Z report</reportType><companyIdent>987654325</companyIdent>",
		"<reportType>X report</reportType>",
		"<reportTotalCashSales><totalCashSaleAmnt>288.85</totalCashSaleAmnt></reportTotalCashSales>",
		"<reportEmpArtGroup><empID>7</empID><artGroupID>04003</artGroupID><artGroupNum>3</artGroupNum><artGroupAmnt>175.40</artGroupAmnt></reportEmpArtGroup>",
		"<reportEmpArtGroup><empID>12</empID><artGroupID>04003</artGroupID><artGroupNum>2</artGroupNum><artGroupAmnt>124.44</artGroupAmnt></reportEmpArtGroup></reportEmpArtGroups>",
		"<reportPayment><paymentType>12011</paymentType><paymentNum>7</paymentNum><paymentAmnt>288.85</paymentAmnt></reportPayment>",
		"<vatCode>3</vatCode><vatPerc>25.00</vatPerc><cashSaleAmnt>231.08</cashSaleAmnt><vatAmnt>57.77</vatAmnt>",
		"<reportReceiptNum>5</reportReceiptNum><reportOpenCashBoxNum>0</reportOpenCashBoxNum><reportReceiptCopyNum>1</reportReceiptCopyNum><reportReceiptCopyAmnt>100.00</reportReceiptCopyAmnt>",
		"<reportReturnNum>2</reportReturnNum><reportReturnAmnt>10.99</reportReturnAmnt>",
		"<reportGrandTotalSales>299.84</reportGrandTotalSales><reportGrandTotalReturn>10.99</reportGrandTotalReturn><reportGrandTotalSalesNet>288.85</reportGrandTotalSalesNet></eventReport>",
	} {
		if !strings.Contains(squash, want) {
			t.Errorf("the export's reports lack %s", want)
		}
	}
	if strings.Contains(doc, "&#34;kind&#34;") {
		t.Error("a report's JSON is in eventText although its eventReport holds it")
	}

	// Change one transAmntIn at a time: verification fails there, after
	// the ones before it verified.
	re := regexp.MustCompile(`<transAmntIn>([-0-9.]+)</transAmntIn>`)
	locs := re.FindAllStringSubmatchIndex(doc, -1)
	if len(locs) != 7 {
		t.Fatalf("%d transAmntIn, want 7", len(locs))
	}
	for i, loc := range locs {
		changed := doc[:loc[2]] + "1" + doc[loc[2]:] // 100.00 → 1100.00, -10.00 → 1-10.00 (not even a number)
		n, err := saft.Verify(strings.NewReader(changed), keys(t, s))
		if err == nil || n != i || !strings.Contains(err.Error(), "does not verify") ||
			!strings.Contains(err.Error(), "transID "+txs[i].TransID+",") {
			t.Fatalf("transAmntIn of transaction %d changed: verified %d, %v", i, n, err)
		}
	}
}

// One day of two: the other day's entries stay out.
func TestExportTakesTheDatesAsked(t *testing.T) {
	db, _ := day(t)
	file, rows := export(t, db, "2026-12-02", "2026-12-02")
	safttest.Validate(t, file)
	b, _ := os.ReadFile(file)
	var n int
	if err := saft.ReadTransactions(bytes.NewReader(b), func(tx saft.Transaction) error {
		n++
		if tx.TransDate != "2026-12-02" {
			t.Errorf("transaction %s of %s exported", tx.Nr, tx.TransDate)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 || rows != 2+1 { // two sales and the Z report (nothing printed here: no 13012)
		t.Fatalf("%d transactions, %d rows; want 2 and 3:\n%s", n, rows, b)
	}
	if strings.Contains(string(b), "<eventType>13014</eventType>") {
		t.Fatal("the first day's copy is in the second day's export")
	}
	if _, err := saft.Write(&bytes.Buffer{}, company, saft.Options{From: "2026-12-02", To: "2026-12-01"}, nil); !errors.Is(err, saft.ErrRange) {
		t.Fatalf("to before from: %v", err)
	}
}

// The provider's own example file reads with the project's reader.
func TestTheProvidersExampleReads(t *testing.T) {
	f, err := os.Open(filepath.Join(safttest.Dir(t), safttest.Example))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var txs []saft.Transaction
	if err := saft.ReadTransactions(f, func(tx saft.Transaction) error { txs = append(txs, tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(txs) != 4 {
		t.Fatalf("%d transactions, want 4", len(txs))
	}
	first := saft.Transaction{Register: "11.222-33.44.567", Nr: "1000", TransID: "1000", TransDate: "2020-01-01",
		TransTime: "09:00:00", AmountIn: "86.40", AmountEx: "75.12", KeyVersion: "1",
		Signature: txs[0].Signature}
	if txs[0] != first || !strings.HasPrefix(first.Signature, "IMVOfRnF0zS4") {
		t.Fatalf("first transaction %+v, want %+v", txs[0], first)
	}
	if ret := txs[3]; ret.AmountIn != "-16.40" || ret.AmountEx != "-14.26" {
		t.Fatalf("the return reads %+v", ret)
	}
	if got, want := first.SignedString(""), "0;2020-01-01;09:00:00;1000;86.40;75.12"; got != want {
		t.Fatalf("signed string %q, want %q", got, want)
	}
	safttest.Validate(t, f.Name())
}
