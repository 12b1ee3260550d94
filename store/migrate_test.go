package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeV1 builds a schema 1 file the way the first release did: four
// buckets, a schema of 1, and sales indexed by time only.
func writeV1(t *testing.T, path string, sales []Sale, extra func(tx *bolt.Tx) error) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketCounters, schema2Sales, schema2SalesByTime} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		if err := meta.Put(keyInstance, []byte("k7f3")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCounters).Put([]byte("OSLO1-2"), binary.BigEndian.AppendUint64(nil, 3)); err != nil {
			return err
		}
		for _, s := range sales {
			if err := tx.Bucket(schema2Sales).Put([]byte(s.Reference), encodeV1(t, s)); err != nil {
				return err
			}
			if err := tx.Bucket(schema2SalesByTime).Put(timeKey(s.Created, []byte(s.Reference)), nil); err != nil {
				return err
			}
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func schemaOf(t *testing.T, path string) uint64 {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var v uint64
	err = bdb.View(func(tx *bolt.Tx) error {
		var err error
		v, err = readSchema(tx.Bucket(bucketMeta))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func v1Sales() []Sale {
	base := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	a, b, c := sale("OSLO1-2-k7f3-1", base), sale("OSLO1-2-k7f3-2", base.Add(time.Minute)), sale("BERG1-1-k7f3-1", base.Add(2*time.Minute))
	a.State, a.Printed = StateCaptured, true
	c.Store, c.Lane = "BERG1", "1"
	return []Sale{a, b, c}
}

func TestMigrateV1KeepsSales(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	old := v1Sales()
	writeV1(t, path, old, nil)

	db := openT(t, path, Options{Now: newClock().Now})
	// The sales are copied in batches (here one), then one transaction
	// makes the copy the truth.
	if db.Commits() != 3 {
		t.Errorf("migration took %d commits, want 3 (new buckets, one batch of sales, the switch)", db.Commits())
	}
	if db.InstanceTag() != "k7f3" {
		t.Errorf("tag %q, want k7f3", db.InstanceTag())
	}
	var got []Sale
	if err := db.Sales(func(s Sale) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(old) {
		t.Fatalf("after migration %d sales, want %d", len(got), len(old))
	}
	for i := range old {
		if got[i].Reference != old[i].Reference || got[i].State != old[i].State || got[i].Printed != old[i].Printed ||
			!got[i].Created.Equal(old[i].Created) || got[i].Amount != old[i].Amount {
			t.Errorf("sale %d: got %+v, want %+v", i, got[i], old[i])
		}
	}
	// The store index was built from the old sales.
	var berg []string
	if err := db.Journal(Filter{Store: "BERG1"}, func(s Sale) error { berg = append(berg, s.Reference); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(berg) != 1 || berg[0] != "BERG1-1-k7f3-1" {
		t.Errorf("Journal(store BERG1) = %v after migration", berg)
	}
	// Counters carry on; the new buckets work.
	if ref, err := db.NextReference("OSLO1", "2"); err != nil || ref != "OSLO1-2-"+db.SeriesTag()+"-4" {
		t.Errorf("NextReference after migration = %q, %v", ref, err)
	}
	if _, err := db.Begin(old[1], Op{Reference: old[1].Reference, Kind: "capture"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if v := schemaOf(t, path); v != SchemaVersion {
		t.Errorf("schema after migration %d, want %d", v, SchemaVersion)
	}
	if db := openT(t, path, Options{}); db.Commits() != 0 {
		t.Errorf("second open of a migrated file committed %d times", db.Commits())
	}
}

func TestFailedMigrationChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeV1(t, path, v1Sales(), func(tx *bolt.Tx) error {
		return tx.Bucket(schema2Sales).Put([]byte("OSLO1-2-k7f3-3"), []byte{1, '{'}) // a record that does not decode
	})
	before, _ := os.ReadFile(path)
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open with a broken v1 record: %v, want ErrDamaged", err)
	}
	t.Log(err)
	if v := schemaOf(t, path); v != 1 {
		t.Errorf("schema after a failed migration %d, want 1", v)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox) != nil {
			t.Error("a failed migration left the outbox bucket behind")
		}
		return nil
	})
	if after, _ := os.ReadFile(path); len(after) != len(before) {
		t.Errorf("file grew from %d to %d bytes", len(before), len(after))
	}
}

func TestUnknownOldSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeV1(t, path, nil, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, 0))
	})
	if _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open of schema 0: %v, want ErrDamaged", err)
	}
}

// schema2File copies testdata/schema2.db.gz, a file kasse wrote at commit
// 7331dd1 (schema 2, format 1 records; see testdata/mkschema2), to a
// temporary path.
// old2 are the sales buckets of schema 2, which schema 3 replaces.
var old2 = [][]byte{schema2Sales, schema2SalesByTime, schema2SalesByStore}

func schema2File(t *testing.T) string {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "schema2.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kasse.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// oldContents is what a schema 2 file holds, read the way schema 2 did.
type oldContents struct {
	sales    []Sale // in time order
	refunds  map[string]Refund
	ops      []Op
	jobs     []PrintJob
	original map[string]bool // the sales with an original receipt queued
}

func readSchema2(t *testing.T, path string) oldContents {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	c := oldContents{refunds: map[string]Refund{}, original: map[string]bool{}}
	err = bdb.View(func(tx *bolt.Tx) error {
		if v, _ := readSchema(tx.Bucket(bucketMeta)); v != 2 {
			t.Fatalf("fixture has schema %d, want 2", v)
		}
		err := tx.Bucket(schema2SalesByTime).ForEach(func(k, _ []byte) error {
			rec := tx.Bucket(schema2Sales).Get(k[8:])
			if rec[0] != recordJSON {
				t.Fatalf("fixture sale %s has format %d", k[8:], rec[0])
			}
			s, err := decodeSale(k[8:], rec)
			c.sales = append(c.sales, s)
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketRefunds).ForEach(func(k, rec []byte) error {
			r, err := decode[Refund]("refund", rec)
			c.refunds[r.ID] = r
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketOutbox).ForEach(func(k, rec []byte) error {
			op, err := decode[Op]("op", rec)
			c.ops = append(c.ops, op)
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketPrintByRef).ForEach(func(k, v []byte) error {
			if v[0] == 1 {
				c.original[string(k[:bytes.IndexByte(k, 0)])] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPrint).ForEach(func(k, rec []byte) error {
			j, err := decode[PrintJob]("print job", rec)
			c.jobs = append(c.jobs, j)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.sales) < 15 || len(c.refunds) != 3 || len(c.ops) != 3 || len(c.jobs) != 3 {
		t.Fatalf("fixture holds %d sales, %d refunds, %d ops, %d jobs", len(c.sales), len(c.refunds), len(c.ops), len(c.jobs))
	}
	return c
}

func TestMigrateRealSchema2File(t *testing.T) {
	path := schema2File(t)
	old := readSchema2(t, path)

	db := openT(t, path, Options{})
	// The sales are copied in batches (here one), then one transaction
	// makes the copy the truth.
	if db.Commits() != 3 {
		t.Errorf("migration took %d commits, want 3 (new buckets, one batch of sales, the switch)", db.Commits())
	}
	// Every sale reads back the same (times to the second but Created), by
	// reference and in the journal's order.
	var journal []Sale
	if err := db.Sales(func(s Sale) error { journal = append(journal, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(journal) != len(old.sales) {
		t.Fatalf("journal has %d sales after migration, want %d", len(journal), len(old.sales))
	}
	for i, want := range old.sales {
		want = rounded(want)
		if !same(journal[i], want) {
			t.Errorf("journal entry %d:\n got %+v\nwant %+v", i, journal[i], want)
		}
		got, err := db.Sale(want.Reference)
		if err != nil || !same(got, want) {
			t.Errorf("Sale(%s) = %+v, %v", want.Reference, got, err)
		}
		refunds, err := db.RefundsFor(want.Reference)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refunds {
			if !same(r, rounded(old.refunds[r.ID])) {
				t.Errorf("refund %s:\n got %+v\nwant %+v", r.ID, r, old.refunds[r.ID])
			}
			delete(old.refunds, r.ID)
		}
	}
	if len(old.refunds) != 0 {
		t.Errorf("refunds not found by their sale after migration: %v", old.refunds)
	}
	var berg []string
	if err := db.Journal(Filter{Store: "BERG1"}, func(s Sale) error { berg = append(berg, s.Reference); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(berg) != 1 || berg[0] != "BERG1-1-ab12-7" {
		t.Errorf("Journal(store BERG1) = %v after migration", berg)
	}
	ops, err := db.Pending()
	if err != nil || len(ops) != len(old.ops) {
		t.Fatalf("Pending() = %d ops, %v; want %d", len(ops), err, len(old.ops))
	}
	for i := range ops {
		if !same(ops[i], rounded(old.ops[i])) {
			t.Errorf("op %d:\n got %+v\nwant %+v", i, ops[i], old.ops[i])
		}
		mine, err := db.PendingFor(ops[i].Reference)
		if err != nil || len(mine) == 0 {
			t.Errorf("PendingFor(%s) = %v, %v", ops[i].Reference, mine, err)
		}
	}
	jobs, err := db.PrintJobs()
	if err != nil || len(jobs) != len(old.jobs) {
		t.Fatalf("PrintJobs() = %d, %v; want %d", len(jobs), err, len(old.jobs))
	}
	for i := range jobs {
		if !same(jobs[i], rounded(old.jobs[i])) {
			t.Errorf("print job %d:\n got %+v\nwant %+v", i, jobs[i], old.jobs[i])
		}
	}
	if v, ok, err := db.Setting("printer.paper"); v != "80mm" || !ok || err != nil {
		t.Errorf("setting after migration: %q %v %v", v, ok, err)
	}

	// The migrated file works: the counter carries on, a queued original
	// still blocks a second one, the pending capture and receipt finish.
	if ref, err := db.NextReference("OSLO1", "2"); err != nil || ref != "OSLO1-2-"+db.SeriesTag()+"-18" {
		t.Errorf("NextReference after migration = %q, %v", ref, err)
	}
	for ref := range old.original {
		if _, err := db.QueuePrint(PrintJob{Reference: ref, Receipt: []byte("again")}); !errors.Is(err, ErrAlreadyPrinted) {
			t.Errorf("a second original for %s after migration: %v", ref, err)
		}
	}
	for _, op := range ops {
		if op.Kind != "capture" {
			continue
		}
		s, err := db.Sale(op.Reference)
		if err != nil {
			t.Fatal(err)
		}
		s.State = StateCaptured
		if _, _, err := db.FinishPrint(s, []uint64{op.ID}, PrintJob{Receipt: []byte("r")}); err != nil {
			t.Errorf("finishing the migrated capture of %s: %v", s.Reference, err)
		}
	}
	db.Close()
	if v := schemaOf(t, path); v != SchemaVersion {
		t.Errorf("schema after migration %d, want %d", v, SchemaVersion)
	}
	// Nothing of format 1 is left, and every key that names a sale is a saleKey.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketSales, bucketRefunds, bucketOutbox, bucketPrint} {
			_ = tx.Bucket(name).ForEach(func(k, rec []byte) error {
				if rec[0] != recordCompact {
					t.Errorf("%s %q is still format %d", name, k, rec[0])
				}
				return nil
			})
		}
		for _, name := range old2 {
			if tx.Bucket(name) != nil {
				t.Errorf("bucket %s is still there", name)
			}
		}
		return tx.Bucket(bucketSales).ForEach(func(k, _ []byte) error {
			if _, _, _, err := refOfKey(k); err != nil {
				t.Errorf("sale key %q: %v", k, err)
			}
			return nil
		})
	})
}

func TestFailedSchema2MigrationChangesNothing(t *testing.T) {
	path := schema2File(t)
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketPrint).Cursor()
		k, _ := c.Last()
		return tx.Bucket(bucketPrint).Put(k, []byte("\x01{\"id\":")) // a print job that does not decode
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open with a broken print job: %v, want ErrDamaged", err)
	}
	mentionsAll(t, err, "schema 2→3", "changed nothing", "restore the latest backup")
	t.Log(err)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a failed migration changed the file")
	}
	if v := schemaOf(t, path); v != 2 {
		t.Errorf("schema after a failed migration %d, want 2", v)
	}
}

// manyV1Sales are n sales a second apart, OSLO1 lane 2.
func manyV1Sales(n int) []Sale {
	base := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	out := make([]Sale, n)
	for i := range out {
		out[i] = sale(fmt.Sprintf("OSLO1-2-k7f3-%d", i+1), base.Add(time.Duration(i)*time.Second))
		out[i].State, out[i].Printed = StateCaptured, true
	}
	return out
}

func sameSales(t *testing.T, db *DB, want []Sale) {
	t.Helper()
	var got []Sale
	if err := db.Sales(func(s Sale) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d sales after the migration, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Reference != want[i].Reference || !got[i].Created.Equal(want[i].Created) || got[i].State != want[i].State {
			t.Fatalf("sale %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A big file's sales are copied in several transactions (a 512 MB register
// cannot hold a million sales' pages in one), then one switches schema.
func TestMigrationCopiesInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	old := manyV1Sales(250)
	writeV1(t, path, old, nil)
	db := openT(t, path, Options{Now: newClock().Now, copyBatch: 100})
	// New buckets, three batches (100, 100, 50), the switch.
	if db.Commits() != 5 {
		t.Errorf("migration took %d commits, want 5", db.Commits())
	}
	sameSales(t, db, old)
	if v := db.bolt.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyCopy3) != nil || tx.Bucket(schema2Sales) != nil {
			return errors.New("the copy's mark or the old sales are left")
		}
		return nil
	}); v != nil {
		t.Error(v)
	}
}

// A copy that an older kassed wrote after (a downgrade between two starts)
// is stale: the switch copies again rather than lose the newer sale. And a
// copy cut off midway is thrown away and made anew.
func TestStaleOrCutCopyIsRedone(t *testing.T) {
	for _, cut := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "kasse.db")
		old := manyV1Sales(30)
		writeV1(t, path, old, nil)
		bdb, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db := &DB{bolt: bdb, path: path, now: time.Now, copyBatch: 10, printed: map[uint64]printMark{}}
		if err := db.copySales(); err != nil {
			t.Fatal(err)
		}
		late := sale("OSLO1-2-k7f3-31", old[len(old)-1].Created.Add(time.Minute))
		err = bdb.Update(func(tx *bolt.Tx) error {
			if cut {
				// As if the power went after the first batch: the mark is
				// not there yet and the copy is short.
				if err := tx.Bucket(bucketMeta).Delete(keyCopy3); err != nil {
					return err
				}
				return tx.Bucket(bucketSales).Delete(saleKey(old[len(old)-1].Reference))
			}
			// An older kassed keys one more sale into the old buckets.
			if err := tx.Bucket(schema2Sales).Put([]byte(late.Reference), encodeV1(t, late)); err != nil {
				return err
			}
			return tx.Bucket(schema2SalesByTime).Put(timeKey(late.Created, []byte(late.Reference)), nil)
		})
		bdb.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := old
		if !cut {
			want = append(slices.Clone(old), late)
		}
		got := openT(t, path, Options{Now: newClock().Now, copyBatch: 10})
		sameSales(t, got, want)
	}
}

// A schema 4 file (schema 5 with the store index) loses the index and
// nothing else: its sales, journal and filters are as they were.
func TestMigrate4to5DropsStoreIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{})
	var want []string
	for i, store := range []string{"OSLO1", "BERG1", "OSLO1"} {
		s := sale(fmt.Sprintf("%s-1-abcd-%d", store, i+1), t0.Add(time.Duration(i)*time.Minute))
		s.Store = store
		if err := db.PutSale(s); err != nil {
			t.Fatal(err)
		}
		if store == "OSLO1" {
			want = append(want, s.Reference)
		}
	}
	if _, err := db.Record(Entry{Code: EventStart, Store: "OSLO1", Lane: "1", Text: "kassed 1.0"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Make it schema 4: the store index as schema 4 wrote it.
	b, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		idx, err := tx.CreateBucket(schema4SalesByStore)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketSalesByTime).ForEach(func(k, _ []byte) error {
			s, err := decodeSale(k[8:], tx.Bucket(bucketSales).Get(k[8:]))
			if err != nil {
				return err
			}
			return idx.Put(storeKey(s.Store, s.Created, k[8:]), nil)
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, 0, 0, 0, 0, 4})
	})
	b.Close()
	if err != nil {
		t.Fatal(err)
	}

	db = openT(t, path, Options{})
	if got := refs(t, db, Filter{Store: "OSLO1"}); !slices.Equal(got, want) {
		t.Errorf("Journal(OSLO1) after migration = %v, want %v", got, want)
	}
	n := 0
	if err := db.Entries(0, func(e Entry) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("journal after migration: %d entries, %v", n, err)
	}
	db.Close()
	if v := schemaOf(t, path); v != SchemaVersion {
		t.Errorf("schema after migration %d, want %d", v, SchemaVersion)
	}
	b, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.View(func(tx *bolt.Tx) error {
		if tx.Bucket(schema4SalesByStore) != nil {
			t.Error("the store index is still there after the migration to schema 5")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
