package store

import (
	bolt "go.etcd.io/bbolt"

	"bytes"
	"errors"
	"fmt"
	"path/filepath"

	"kasse/money"
	"testing"
	"time"
)

// createOp is the create request a till would store for ref.
func createOp(ref string) Op {
	return Op{Reference: ref, Kind: "create", API: "epayment", IdempotencyKey: ref + "-c",
		Method: "POST", Path: "/epayment/v1/payments", Amount: 12500,
		Body: []byte(`{"reference":"` + ref + `","amount":{"currency":"NOK","value":12500}}`)}
}

func captureOp(ref string) Op {
	return Op{Reference: ref, Kind: "capture", API: "epayment", IdempotencyKey: ref + "-cap",
		Method: "POST", Path: "/epayment/v1/payments/" + ref + "/capture", Amount: 12500,
		Body: []byte(`{"modificationAmount":{"currency":"NOK","value":12500}}`)}
}

// newSale starts a sale on OSLO1 lane 2 with its create op.
func newSale(t testing.TB, db *DB) (Sale, uint64) {
	t.Helper()
	s, ids, err := db.NewSale("OSLO1", "2", func(ref string) (Sale, []Op) {
		return sale(ref, time.Time{}), []Op{createOp(ref)}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("NewSale returned op IDs %v, want one", ids)
	}
	return s, ids[0]
}

// lifeOfSale runs a captured sale from start to printed receipt, the way the
// till does, and returns it.
func lifeOfSale(t testing.TB, db *DB) Sale {
	s, create := newSale(t, db)
	s.State, s.VippsState = StateAuthorized, "AUTHORIZED"
	capIDs, err := db.Finish(s, []uint64{create}, captureOp(s.Reference))
	if err != nil {
		t.Fatal(err)
	}
	s.State = StateCaptured
	_, job, err := db.FinishPrint(s, capIDs, PrintJob{Receipt: []byte("receipt " + s.Reference)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PrintDone(job, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaleLifeCommitsAndLeavesNothingPending(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{Now: newClock().Now})
	before := db.Commits()
	s := lifeOfSale(t, db)
	if got := db.Commits() - before; got != 3 {
		t.Errorf("a captured, printed sale took %d commits, want 3 (the printed mark waits for the next)", got)
	}
	check := func(when string) {
		t.Helper()
		got, err := db.Sale(s.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateCaptured || !got.Printed || got.VippsState != "AUTHORIZED" {
			t.Errorf("%s: sale %+v", when, got)
		}
		var seen []Sale
		if err := db.Sales(func(s Sale) error { seen = append(seen, s); return nil }); err != nil || len(seen) == 0 || !seen[0].Printed {
			t.Errorf("%s: journal %+v, %v", when, seen, err)
		}
		if ops, _ := db.PendingFor(s.Reference); len(ops) != 0 {
			t.Errorf("%s: outbox %+v", when, ops)
		}
		if jobs, _ := db.PrintJobs(); len(jobs) != 0 {
			t.Errorf("%s: print queue %+v", when, jobs)
		}
	}
	check("printed, mark not committed")
	stored := func() (queued int, printed bool) {
		db.bolt.View(func(tx *bolt.Tx) error {
			queued = tx.Bucket(bucketPrint).Stats().KeyN
			got, _, _ := getSale(tx, s.Reference)
			printed = got.Printed
			return nil
		})
		return
	}
	if q, p := stored(); q != 1 || p {
		t.Errorf("before the next commit the file holds %d jobs, printed %v; want the job still queued (Sent)", q, p)
	}
	// The next sale's first commit carries the mark.
	mid := db.Commits()
	newSale(t, db)
	if got := db.Commits() - mid; got != 1 {
		t.Errorf("the next sale's first step took %d commits, want 1", got)
	}
	if q, p := stored(); q != 0 || !p {
		t.Errorf("after the next commit the file holds %d jobs, printed %v; want none and printed", q, p)
	}
	check("mark committed")
	if err := db.Flush(); err != nil || db.Commits() != mid+1 {
		t.Errorf("Flush with nothing waiting: %v, %d commits (want none)", err, db.Commits()-mid-1)
	}
}

// A receipt printed while the till then stays idle: Flush (kassed calls it
// when idle) or Close commits the mark, so a restart prints no copy.
func TestFlushAndCloseStorePrintedMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{Now: newClock().Now})
	s := lifeOfSale(t, db)
	c := db.Commits()
	if err := db.Flush(); err != nil || db.Commits() != c+1 {
		t.Fatalf("Flush: %v, %d commits", err, db.Commits()-c)
	}
	s2 := lifeOfSale(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openT(t, path, Options{Now: newClock().Now})
	for _, ref := range []string{s.Reference, s2.Reference} {
		if got, err := db.Sale(ref); err != nil || !got.Printed {
			t.Errorf("after a clean close, sale %s: %+v, %v", ref, got, err)
		}
	}
	if jobs, _ := db.PrintJobs(); len(jobs) != 0 {
		t.Errorf("after a clean close the queue holds %+v", jobs)
	}
}

func TestNewSaleIsOneCommitAndRollsBack(t *testing.T) {
	clk := newClock()
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{Now: clk.Now})
	before := db.Commits()
	s, id := newSale(t, db)
	if db.Commits()-before != 1 {
		t.Errorf("NewSale took %d commits, want 1", db.Commits()-before)
	}
	if want := "OSLO1-2-" + db.SeriesTag() + "-1"; s.Reference != want || s.Created.IsZero() || s.Updated.IsZero() {
		t.Errorf("NewSale returned %+v, want reference %s with times set", s, want)
	}
	ops, err := db.PendingFor(s.Reference)
	if err != nil || len(ops) != 1 || ops[0].ID != id || ops[0].Kind != "create" || !ops[0].Created.Equal(clk.Peek()) {
		t.Fatalf("PendingFor after NewSale: %+v, %v", ops, err)
	}

	// A bad sale from fill commits nothing, not even the counter.
	_, _, err = db.NewSale("OSLO1", "2", func(ref string) (Sale, []Op) {
		bad := sale(ref, time.Time{})
		bad.State = "paid"
		return bad, []Op{createOp(ref)}
	})
	if err == nil {
		t.Fatal("NewSale stored a sale in state paid")
	}
	_, _, err = db.NewSale("OSLO1", "2", func(ref string) (Sale, []Op) {
		return sale("OSLO1-2-abcd-999", time.Time{}), nil
	})
	if err == nil {
		t.Fatal("NewSale stored a sale under another reference than it drew")
	}
	s2, _ := newSale(t, db)
	if want := "OSLO1-2-" + db.SeriesTag() + "-2"; s2.Reference != want {
		t.Errorf("after two refused NewSale calls the reference is %s, want %s", s2.Reference, want)
	}
	if _, _, err := db.NewSale("1X", "2", nil); err == nil {
		t.Error("NewSale accepted prefix 1X")
	}
}

func TestOutboxKeepsIntentAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{Now: newClock().Now})
	a, aCreate := newSale(t, db)
	b, bCreate := newSale(t, db)
	a.State = StateAuthorized
	aCap, err := db.Finish(a, []uint64{aCreate}, captureOp(a.Reference), Op{Reference: a.Reference, Kind: "receipt", API: "ecom"})
	if err != nil {
		t.Fatal(err)
	}
	if len(aCap) != 2 || aCap[0] <= bCreate || aCap[1] <= aCap[0] {
		t.Fatalf("op IDs %v after %d: want two increasing IDs", aCap, bCreate)
	}
	next := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := db.Retry(aCap[0], 3, next, "connection refused"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openT(t, path, Options{})
	ops, err := db.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 3 || ops[0].ID != bCreate || ops[1].ID != aCap[0] || ops[2].ID != aCap[1] {
		t.Fatalf("Pending after reopen: %+v, want b's create then a's capture and receipt", ops)
	}
	want := captureOp(a.Reference)
	got := ops[1]
	if !bytes.Equal(got.Body, want.Body) || got.IdempotencyKey != want.IdempotencyKey || got.Path != want.Path ||
		got.Method != want.Method || got.Amount != want.Amount {
		t.Errorf("stored capture %+v differs from the intent %+v", got, want)
	}
	if got.Attempts != 3 || !got.NextAttempt.Equal(next) || got.LastError != "connection refused" {
		t.Errorf("retry not recorded: %+v", got)
	}
	forB, _ := db.PendingFor(b.Reference)
	if len(forB) != 1 || forB[0].ID != bCreate {
		t.Errorf("PendingFor(%s) = %+v", b.Reference, forB)
	}
	// A reference that is a prefix of another must not see its ops.
	if ops, _ := db.PendingFor(b.Reference[:len(b.Reference)-1]); len(ops) != 0 {
		t.Errorf("PendingFor of a prefix returned %+v", ops)
	}
}

func TestFinishRefusesForeignOrFinishedOps(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	a, aCreate := newSale(t, db)
	b, bCreate := newSale(t, db)

	a.State = StateCancelled
	before := db.Commits()
	if _, err := db.Finish(a, []uint64{bCreate}); !errors.Is(err, ErrNoOp) {
		t.Errorf("Finish of a with b's op: %v, want ErrNoOp", err)
	}
	if _, err := db.Finish(a, []uint64{aCreate}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Finish(a, []uint64{aCreate}, captureOp(a.Reference)); !errors.Is(err, ErrNoOp) {
		t.Errorf("finishing op %d twice: %v, want ErrNoOp", aCreate, err)
	}
	if db.Commits()-before != 1 {
		t.Errorf("refused Finish calls committed: %d commits, want 1", db.Commits()-before)
	}
	if ops, _ := db.PendingFor(a.Reference); len(ops) != 0 {
		t.Errorf("a refused Finish left ops %+v", ops)
	}
	if got, _ := db.Sale(b.Reference); got.State != StateWaiting {
		t.Errorf("sale b changed: %+v", got)
	}
	if err := db.Retry(aCreate, 1, time.Time{}, "x"); !errors.Is(err, ErrNoOp) {
		t.Errorf("Retry of a finished op: %v, want ErrNoOp", err)
	}
	if _, err := db.Begin(a, Op{Reference: a.Reference}); err == nil {
		t.Error("Begin stored an op without a kind")
	}
	long := captureOp(a.Reference)
	long.IdempotencyKey = fmt.Sprintf("%051d", 1)
	if _, err := db.Begin(a, long); err == nil {
		t.Error("Begin stored a 51-character idempotency key")
	}
}

func TestExactlyOneOriginalReceipt(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	s, create := newSale(t, db)
	s.State = StateCaptured
	_, orig, err := db.FinishPrint(s, []uint64{create}, PrintJob{Receipt: []byte{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	// A second original while the first is queued: refused, and nothing of
	// that call is stored (the op stays pending).
	s2 := s
	s2.Error = "should not be stored"
	capIDs, err := db.Begin(s, captureOp(s.Reference))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.FinishPrint(s2, capIDs, PrintJob{}); !errors.Is(err, ErrAlreadyPrinted) {
		t.Fatalf("second original while queued: %v, want ErrAlreadyPrinted", err)
	}
	if got, _ := db.Sale(s.Reference); got.Error != "" {
		t.Error("a refused FinishPrint stored the sale")
	}
	if ops, _ := db.PendingFor(s.Reference); len(ops) != 1 {
		t.Errorf("a refused FinishPrint finished ops: %+v", ops)
	}
	cp, err := db.QueuePrint(PrintJob{Reference: s.Reference, Copy: true, Receipt: []byte{3}})
	if err != nil {
		t.Fatal(err)
	}
	jobs, _ := db.PrintJobs()
	if len(jobs) != 2 || jobs[0].ID != orig || jobs[0].Copy || jobs[1].ID != cp || !jobs[1].Copy ||
		!bytes.Equal(jobs[0].Receipt, []byte{1, 2}) {
		t.Fatalf("print queue %+v", jobs)
	}
	if err := db.PrintRetry(orig, 1, "paper out", false); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := db.PrintJobs(); jobs[0].Attempts != 1 || jobs[0].LastError != "paper out" {
		t.Errorf("PrintRetry not stored: %+v", jobs[0])
	}
	if err := db.PrintDone(orig, s); err != nil {
		t.Fatal(err)
	}
	if err := db.PrintDone(orig, s); !errors.Is(err, ErrNoPrintJob) {
		t.Errorf("PrintDone twice: %v, want ErrNoPrintJob", err)
	}
	// Printed: a stale sale (Printed false) cannot undo it, so no second original.
	if err := db.PutSale(s); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Sale(s.Reference); !got.Printed {
		t.Error("PutSale of a stale sale cleared Printed")
	}
	if _, err := db.QueuePrint(PrintJob{Reference: s.Reference}); !errors.Is(err, ErrAlreadyPrinted) {
		t.Errorf("original after printing: %v, want ErrAlreadyPrinted", err)
	}
	// kassasystemforskriften § 2-6 (4): one copy per sale, with the
	// original's number.
	if _, err := db.QueuePrint(PrintJob{Reference: s.Reference, Copy: true}); !errors.Is(err, ErrCopyPrinted) {
		t.Errorf("second copy: %v, want ErrCopyPrinted", err)
	}
	if jobs, _ := db.PrintJobs(); len(jobs) != 1 || jobs[0].Number != 1 || !jobs[0].Copy {
		t.Errorf("the copy: %+v, want receipt number 1", jobs)
	}
	if got, _ := db.Sale(s.Reference); got.Receipt != 1 || !got.Copied {
		t.Errorf("sale %+v, want receipt 1 and copied", got)
	}
	if _, err := db.QueuePrint(PrintJob{Reference: "OSLO1-2-abcd-77"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("receipt for a missing sale: %v, want ErrNotFound", err)
	}
	other, _ := newSale(t, db)
	if err := db.PrintDone(cp, other); !errors.Is(err, ErrNoPrintJob) {
		t.Errorf("PrintDone with another sale: %v, want ErrNoPrintJob", err)
	}
}

func TestSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{})
	if _, ok, err := db.Setting("last_reconcile"); ok || err != nil {
		t.Fatalf("unset setting: ok %v err %v", ok, err)
	}
	if err := db.SetSetting("last_reconcile", "2025-03-01T09:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting("empty", ""); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting("", "x"); err == nil {
		t.Error("SetSetting accepted an empty key")
	}
	db.Close()
	db = openT(t, path, Options{})
	if v, ok, err := db.Setting("last_reconcile"); v != "2025-03-01T09:00:00Z" || !ok || err != nil {
		t.Errorf("Setting after reopen = %q, %v, %v", v, ok, err)
	}
	if v, ok, _ := db.Setting("empty"); v != "" || !ok {
		t.Errorf("empty setting = %q, %v; want stored", v, ok)
	}
}

// Receipt numbers: each register numbers its sales' receipts and its refund
// slips in two gap-free sequences, assigned in the commit that queues the
// receipt; a copy keeps its original's number; a repeated refund commit
// keeps its slip's.
func TestReceiptNumbers(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	var refs []string
	for i := range 3 {
		s, id := newSale(t, db)
		s.State = StateCaptured
		_, job, err := db.FinishPrint(s, []uint64{id}, PrintJob{Receipt: []byte{1}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := db.Sale(s.Reference)
		jobs, _ := db.PrintJobs()
		if got.Receipt != uint64(i+1) || jobs[len(jobs)-1].ID != job || jobs[len(jobs)-1].Number != uint64(i+1) {
			t.Fatalf("sale %d: receipt %d, job %+v", i+1, got.Receipt, jobs[len(jobs)-1])
		}
		refs = append(refs, s.Reference)
	}
	for i, id := range []string{"rf-a", "rf-b", "rf-a"} {
		r := Refund{ID: id, Reference: refs[0], Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 100, Currency: "NOK"}, State: RefundDone}
		if _, err := db.FinishRefundPrint(r, nil, PrintJob{Receipt: []byte{2}}); err != nil {
			t.Fatal(err)
		}
		want := []uint64{1, 2, 1}[i]
		got, _ := db.RefundsFor(refs[0])
		for _, g := range got {
			if g.ID == id && g.Receipt != want {
				t.Errorf("refund %s: receipt number %d, want %d", id, g.Receipt, want)
			}
		}
	}
	sale, refund, err := db.ReceiptNumbers("OSLO1", "2")
	if err != nil || sale != 3 || refund != 2 {
		t.Fatalf("ReceiptNumbers = %d, %d, %v; want 3 sales, 2 refunds", sale, refund, err)
	}
	cp, err := db.QueuePrint(PrintJob{Reference: refs[1], Copy: true, Receipt: []byte{3}})
	if err != nil {
		t.Fatal(err)
	}
	jobs, _ := db.PrintJobs()
	for _, j := range jobs {
		if j.ID == cp && j.Number != 2 {
			t.Errorf("the copy of receipt 2 has number %d", j.Number)
		}
	}
}
