package store

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func refs(t *testing.T, db *DB, f Filter) []string {
	t.Helper()
	var out []string
	if err := db.Journal(f, func(s Sale) error { out = append(out, s.Reference); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJournalFilters(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	// Two stores interleaved in time, enough to cross read batches.
	const n = salesBatch + 40
	for i := range n {
		store := []string{"OSLO1", "BERG1"}[i%2]
		s := sale(fmt.Sprintf("%s-1-abcd-%d", store, i+1), t0.Add(time.Duration(i)*time.Minute))
		s.Store = store
		if err := db.PutSale(s); err != nil {
			t.Fatal(err)
		}
	}
	if got := refs(t, db, Filter{}); len(got) != n {
		t.Errorf("Journal{} returned %d sales, want %d", len(got), n)
	}
	berg := refs(t, db, Filter{Store: "BERG1"})
	if len(berg) != n/2 || berg[0] != "BERG1-1-abcd-2" || berg[len(berg)-1] != fmt.Sprintf("BERG1-1-abcd-%d", n) {
		t.Errorf("Journal(BERG1): %d sales from %v", len(berg), berg[:1])
	}
	// [Since, Until): minutes 10..19 → 10 sales, 5 of OSLO1.
	f := Filter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)}
	if got := refs(t, db, f); len(got) != 10 || got[0] != "OSLO1-1-abcd-11" || got[9] != "BERG1-1-abcd-20" {
		t.Errorf("Journal(%v..%v) = %v", f.Since, f.Until, got)
	}
	f.Store = "OSLO1"
	if got := refs(t, db, f); len(got) != 5 || got[0] != "OSLO1-1-abcd-11" || got[4] != "OSLO1-1-abcd-19" {
		t.Errorf("Journal(OSLO1, %v..%v) = %v", f.Since, f.Until, got)
	}
	// A store whose name is a prefix of another sees only its own sales.
	if got := refs(t, db, Filter{Store: "OSLO"}); len(got) != 0 {
		t.Errorf("Journal(OSLO) = %v", got)
	}
	// Moving a sale to another store moves it in the index.
	s, _ := db.Sale("OSLO1-1-abcd-1")
	s.Store = "TRD1"
	if err := db.PutSale(s); err != nil {
		t.Fatal(err)
	}
	if got := refs(t, db, Filter{Store: "TRD1"}); len(got) != 1 {
		t.Errorf("Journal(TRD1) = %v", got)
	}
	if got := refs(t, db, Filter{Store: "OSLO1"}); len(got) != n/2-1 {
		t.Errorf("Journal(OSLO1) after the move has %d sales, want %d", len(got), n/2-1)
	}
}

func refund(id, ref, store string, created time.Time, value int64) Refund {
	return Refund{ID: id, Reference: ref, Store: store, Lane: "1", State: RefundDone, Created: created,
		Amount: money.Amount{Value: value, Currency: "NOK"}}
}

func TestRefunds(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{Now: newClock().Now})
	s := sale("OSLO1-2-abcd-1", t0)
	s.State = StateCaptured
	if err := db.PutSale(s); err != nil {
		t.Fatal(err)
	}
	// A cross-store refund, with its intent in the outbox.
	r := refund("rf-1", s.Reference, "BERG1", t0.Add(time.Hour), 5000)
	r.State, r.OriginStore = RefundPending, "WRONG"
	op := Op{Reference: s.Reference, Kind: "refund", API: "epayment", IdempotencyKey: r.ID, Body: []byte(`{}`)}
	ids, err := db.PutRefund(r, op)
	if err != nil || len(ids) != 1 {
		t.Fatalf("PutRefund: %v, %v", ids, err)
	}
	r.State = RefundDone
	if _, err := db.FinishRefund(r, ids); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutRefund(refund("rf-2", s.Reference, "OSLO1", t0.Add(2*time.Hour), 2500)); err != nil {
		t.Fatal(err)
	}
	got, err := db.RefundsFor(s.Reference)
	if err != nil || len(got) != 2 {
		t.Fatalf("RefundsFor: %+v, %v", got, err)
	}
	if g := got[0]; g.OriginStore != "OSLO1" || g.OriginLane != "2" || g.Store != "BERG1" || g.State != RefundDone ||
		!g.Created.Equal(t0.Add(time.Hour)) || g.Updated.IsZero() {
		t.Errorf("refund rf-1 stored as %+v", g)
	}
	if ops, _ := db.Pending(); len(ops) != 0 {
		t.Errorf("FinishRefund left ops %+v", ops)
	}
	count := func(f Filter) int {
		n := 0
		if err := db.Refunds(f, func(Refund) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		f    Filter
		want int
	}{
		{Filter{}, 2},
		{Filter{Store: "BERG1"}, 1}, // the refunding register's store
		{Filter{Store: "OSLO1"}, 2}, // the origin store sees both
		{Filter{Store: "TRD1"}, 0},
		{Filter{Since: t0.Add(90 * time.Minute)}, 1},
		{Filter{Until: t0.Add(time.Hour)}, 0}, // Until is exclusive
	} {
		if got := count(c.f); got != c.want {
			t.Errorf("Refunds(%+v) = %d, want %d", c.f, got, c.want)
		}
	}
	// An idempotency key is one refund: reusing it for another sale is refused.
	if _, err := db.PutRefund(refund("rf-1", "OSLO1-2-abcd-2", "OSLO1", t0, 1)); err == nil {
		t.Error("PutRefund reused an ID for another sale")
	}
	bad := refund("rf-3", s.Reference, "OSLO1", t0, 1)
	bad.State = "maybe"
	if _, err := db.PutRefund(bad); err == nil {
		t.Error("PutRefund accepted state maybe")
	}
	if _, err := db.PutRefund(refund("rf-4", "not-a-reference", "OSLO1", t0, 1)); err == nil {
		t.Error("PutRefund accepted a reference it cannot parse")
	}
}

// fixture stores sales of two stores and a cross-store refund, and returns
// the captured sale that was refunded.
func fixture(t *testing.T, db *DB) Sale {
	t.Helper()
	a := sale("OSLO1-2-abcd-1", t0)
	a.State, a.VippsState, a.Printed = StateCaptured, "AUTHORIZED", true
	b := sale("BERG1-1-abcd-1", t0.Add(time.Minute))
	b.Store, b.Lane, b.State = "BERG1", "1", StateCancelled
	c := sale("OSLO1-2-abcd-2", t0.Add(3*time.Minute))
	for _, s := range []Sale{a, b, c} {
		if err := db.PutSale(s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.PutRefund(refund("rf-1", a.Reference, "BERG1", t0.Add(2*time.Minute), 4550)); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestExportCSVAndJSON(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	fixture(t, db)

	var buf bytes.Buffer
	n, err := db.Export(Filter{}, "csv", &buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		exportColumns(),
		{"2025-03-01T09:00:00Z", "sale", "OSLO1-2-abcd-1", "OSLO1", "2", "OSLO1", "125.00", "NOK", "captured", "AUTHORIZED", "true", "CUSTOMER_PRESENT", "captured"},
		{"2025-03-01T09:01:00Z", "sale", "BERG1-1-abcd-1", "BERG1", "1", "BERG1", "125.00", "NOK", "cancelled", "", "false", "CUSTOMER_PRESENT", "none"},
		{"2025-03-01T09:02:00Z", "refund", "OSLO1-2-abcd-1", "BERG1", "1", "OSLO1", "45.50", "NOK", "done", "", "", "", ""},
		{"2025-03-01T09:03:00Z", "sale", "OSLO1-2-abcd-2", "OSLO1", "2", "OSLO1", "125.00", "NOK", "waiting", "", "false", "CUSTOMER_PRESENT", "none"},
	}
	if n != len(want)-1 || fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("CSV export (%d rows):\n%v\nwant\n%v", n, rows, want)
	}

	// BERG1's log: its own sale and the refund it made of an OSLO1 sale.
	buf.Reset()
	n, err = db.Export(Filter{Store: "BERG1"}, "json", &buf)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var got []map[string]any
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if n != 2 || len(got) != 2 || got[0]["type"] != "sale" || got[0]["printed"] != false ||
		got[1]["type"] != "refund" || got[1]["origin_store"] != "OSLO1" || got[1]["amount"] != "45.50" {
		t.Errorf("JSON export for BERG1 (%d rows): %v", n, got)
	}
	if _, err := db.Export(Filter{}, "xml", io.Discard); err == nil || !strings.Contains(err.Error(), "json or csv") {
		t.Errorf("Export as xml: %v", err)
	}
	for v, want := range map[int64]string{0: "0.00", 5: "0.05", -150: "-1.50", 65_000_000: "650000.00"} {
		if got := decimal(v); got != want {
			t.Errorf("decimal(%d) = %q, want %q", v, got, want)
		}
	}
}

// failWriter fails after n bytes, like a full disk.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("no space left on device")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestArchive(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, filepath.Join(dir, "kasse.db"), Options{})
	a := fixture(t, db) // a (captured, refunded) and b (cancelled) are final; c is waiting
	// d is final but its receipt is still queued; e is final with a pending capture.
	d := sale("OSLO1-2-abcd-3", t0.Add(4*time.Minute))
	d.State = StateCaptured
	if _, _, err := db.FinishPrint(d, nil, PrintJob{}); err != nil {
		t.Fatal(err)
	}
	e := sale("OSLO1-2-abcd-4", t0.Add(5*time.Minute))
	e.State = StateCaptured
	if _, err := db.Begin(e, captureOp(e.Reference)); err != nil {
		t.Fatal(err)
	}
	late := sale("OSLO1-2-abcd-5", t0.Add(48*time.Hour))
	late.State = StateCaptured
	if err := db.PutSale(late); err != nil {
		t.Fatal(err)
	}
	before := t0.Add(24 * time.Hour)

	// A failing writer deletes nothing.
	if _, err := db.Archive(before, &failWriter{n: 30}); err == nil || !strings.Contains(err.Error(), "nothing was deleted") {
		t.Fatalf("Archive to a failing writer: %v", err)
	}
	if got := refs(t, db, Filter{}); len(got) != 6 {
		t.Fatalf("after a failed archive %d sales remain, want 6", len(got))
	}

	path := filepath.Join(dir, "2025-03.jsonl.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Archive(before, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("archived %d sales, want 2 (a and b)", n)
	}
	if got := refs(t, db, Filter{}); fmt.Sprint(got) != fmt.Sprint([]string{"OSLO1-2-abcd-2", d.Reference, e.Reference, late.Reference}) {
		t.Errorf("left in the database: %v", got)
	}
	if got := refs(t, db, Filter{Store: "BERG1"}); len(got) != 0 {
		t.Errorf("store index still names %v", got)
	}
	if rs, _ := db.RefundsFor(a.Reference); len(rs) != 0 {
		t.Errorf("archived sale's refunds remain: %+v", rs)
	}
	if _, err := db.Sale(a.Reference); !errors.Is(err, ErrNotFound) {
		t.Errorf("archived sale still readable: %v", err)
	}

	read := func(f Filter) []string {
		af, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer af.Close()
		var out []string
		if err := ReadArchive(af, f, func(s Sale) error { out = append(out, s.Reference+" "+s.State); return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := read(Filter{}); fmt.Sprint(got) != "[OSLO1-2-abcd-1 captured BERG1-1-abcd-1 cancelled]" {
		t.Errorf("ReadArchive = %v", got)
	}
	if got := read(Filter{Store: "BERG1"}); len(got) != 1 {
		t.Errorf("ReadArchive(BERG1) = %v", got)
	}
	af, _ := os.Open(path)
	defer af.Close()
	var buf bytes.Buffer
	rows, err := ExportArchive(af, Filter{Store: "BERG1"}, "csv", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 || !strings.Contains(buf.String(), "refund,OSLO1-2-abcd-1,BERG1,1,OSLO1,45.50") {
		t.Errorf("ExportArchive(BERG1), %d rows:\n%s", rows, buf.String())
	}
	// Archiving again finds nothing more and still writes a readable archive.
	var again bytes.Buffer
	if n, err := db.Archive(before, &again); n != 0 || err != nil {
		t.Errorf("second Archive: %d, %v", n, err)
	}
	if err := ReadArchive(&again, Filter{}, func(Sale) error { return errors.New("empty archive has a sale") }); err != nil {
		t.Error(err)
	}
	// Something that is not an archive says so.
	if err := ReadArchive(strings.NewReader("hello"), Filter{}, nil); err == nil {
		t.Error("ReadArchive accepted text")
	}
	var junk bytes.Buffer
	zw := gzip.NewWriter(&junk)
	zw.Write([]byte(`{"sale":{"reference":"OSLO1-2-abcd-9"}}` + "\n{oops"))
	zw.Close()
	seen := 0
	err = ReadArchive(&junk, Filter{}, func(Sale) error { seen++; return nil })
	if err == nil || seen != 1 || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("damaged archive: %v after %d sales", err, seen)
	}
}

func TestSizeGrowsWithTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{InitialMmapSize: 64 << 10})
	before, err := db.Size()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 600 {
		if err := db.PutSale(sale(fmt.Sprintf("OSLO1-2-abcd-%d", i+1), t0.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	after, err := db.Size()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || after != fi.Size() {
		t.Errorf("Size() %d before and %d after 600 sales; the file is %d bytes", before, after, fi.Size())
	}
}

// A refund confirmed by Vipps and its slip commit together, also for a sale
// of another store that is not in this journal; the slip leaves the queue
// only through SlipDone, and never stands in for a sale's original.
func TestRefundSlipQueuedWithTheRefund(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{Now: newClock().Now})
	r := refund("rf-9", "OSLO1-2-abcd-7", "BERG1", t0, 1500) // OSLO1's sale, refunded at BERG1
	op := Op{Reference: r.Reference, Kind: "refund", API: "epayment", IdempotencyKey: r.ID, Body: []byte(`{}`)}
	ids, err := db.PutRefund(r, op)
	if err != nil {
		t.Fatal(err)
	}
	r.State = RefundDone
	id, err := db.FinishRefundPrint(r, ids, PrintJob{Receipt: []byte(`{"refund":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := db.PrintJobs()
	if err != nil || len(jobs) != 1 || jobs[0].ID != id || jobs[0].Refund != "rf-9" || jobs[0].Reference != r.Reference {
		t.Fatalf("queue after the refund: %+v, %v", jobs, err)
	}
	if pending, _ := db.Pending(); len(pending) != 0 {
		t.Fatalf("the refund's op is still pending: %+v", pending)
	}
	if err := db.PrintDone(id, sale(r.Reference, t0)); !errors.Is(err, ErrNoPrintJob) {
		t.Fatalf("PrintDone of a slip: %v, want ErrNoPrintJob", err)
	}
	if err := db.SlipDone(id); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := db.PrintJobs(); len(jobs) != 0 {
		t.Fatalf("queue after SlipDone: %+v", jobs)
	}
	if err := db.SlipDone(id); !errors.Is(err, ErrNoPrintJob) {
		t.Fatalf("second SlipDone: %v", err)
	}
}

// Archives in a directory and the live database read as one sale log:
// Write moves the final sales into a new file, Rows gives every row once in
// time order, Sales reads the archived sales back.
func TestArchivesAreOneLogWithTheDatabase(t *testing.T) {
	dir := t.TempDir()
	db := openT(t, filepath.Join(dir, "kasse.db"), Options{})
	fixture(t, db) // a (captured, refunded) and b (cancelled) are final; c is waiting
	rows := func() []string {
		t.Helper()
		var got []string
		err := Archives{Dir: filepath.Join(dir, "archive")}.Rows(db, Filter{}, func(r Row) error {
			got = append(got, r.Type+" "+r.Reference)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	before := rows()
	a := Archives{Dir: filepath.Join(dir, "archive")}
	n, file, err := a.Write(db, t0.Add(24*time.Hour))
	if err != nil || n != 2 || !strings.HasPrefix(filepath.Base(file), "journal-") {
		t.Fatalf("Write: %d sales to %q, %v; want 2 in a journal-*.jsonl.gz", n, file, err)
	}
	if files, _ := a.Files(); len(files) != 1 || files[0] != file {
		t.Fatalf("Files() = %v, want [%s]", files, file)
	}
	if after := rows(); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("rows after archiving:\n%v\nbefore:\n%v", after, before)
	}
	var archived []string
	if err := a.Sales(Filter{}, func(s Sale) error { archived = append(archived, s.Reference); return nil }); err != nil || len(archived) != 2 {
		t.Fatalf("archived sales %v, %v", archived, err)
	}
	if n, file, err := a.Write(db, t0.Add(24*time.Hour)); err != nil || n != 0 || file != "" {
		t.Fatalf("a second Write with nothing to archive: %d, %q, %v", n, file, err)
	}
}

// A remote order carries its payment situation and where its money stands,
// in the last columns (readers by position keep working).
func TestExportRemoteOrder(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	r := sale("OSLO1-2-abcd-9", t0)
	r.Remote, r.State, r.Authorized = true, StateAuthorized, t0.Add(time.Minute)
	gone := sale("OSLO1-2-abcd-10", t0.Add(time.Minute))
	gone.Remote, gone.State, gone.Authorized = true, StateCancelled, t0.Add(2*time.Minute)
	for _, s := range []Sale{r, gone} {
		if err := db.PutSale(s); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := db.Export(Filter{}, "csv", &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	if head[len(head)-2] != "customer_interaction" || head[len(head)-1] != "capture_state" || head[10] != "printed" {
		t.Fatalf("header %v", head)
	}
	for i, want := range [][2]string{{"CUSTOMER_NOT_PRESENT", "reserved"}, {"CUSTOMER_NOT_PRESENT", "released"}} {
		row := rows[i+1]
		if got := [2]string{row[11], row[12]}; got != want {
			t.Errorf("row %d: %v, want %v", i+1, row, want)
		}
	}
}

// A store with few sales in a large file: the filter reads the time index
// in several read transactions (salesScan keys each) and still finds every
// one, in creation order.
func TestJournalStoreFilterAcrossScans(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{NoSync: true})
	n := 2*salesScan + 10
	var want []string
	err := db.update(func(tx *bolt.Tx) error {
		for i := range n {
			store := "OSLO1"
			if i == 0 || i == salesScan || i == n-1 { // first, at a scan's edge, last
				store = "TRD1"
			}
			s := sale(fmt.Sprintf("%s-1-abcd-%d", store, i+1), t0.Add(time.Duration(i)*time.Second))
			s.Store = store
			if store == "TRD1" {
				want = append(want, s.Reference)
			}
			if _, err := putSale(tx, s, t0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := refs(t, db, Filter{Store: "TRD1"}); !slices.Equal(got, want) {
		t.Errorf("Journal(TRD1) = %v, want %v", got, want)
	}
	if got := refs(t, db, Filter{Store: "OSLO1"}); len(got) != n-3 {
		t.Errorf("Journal(OSLO1) has %d sales, want %d", len(got), n-3)
	}
	if got := refs(t, db, Filter{Store: "TRD1", Since: t0.Add(time.Second)}); !slices.Equal(got, want[1:]) {
		t.Errorf("Journal(TRD1 from 1 s) = %v, want %v", got, want[1:])
	}
}
