package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
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
		for _, name := range [][]byte{bucketMeta, bucketCounters, bucketSales, bucketSalesByTime} {
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
			if err := tx.Bucket(bucketSales).Put([]byte(s.Reference), encodeV1(t, s)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketSalesByTime).Put(timeKey(s.Created, []byte(s.Reference)), nil); err != nil {
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
	if db.Commits() != 1 {
		t.Errorf("migration took %d commits, want 1", db.Commits())
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
		return tx.Bucket(bucketSales).Put([]byte("OSLO1-2-k7f3-3"), []byte{1, '{'}) // a record that does not decode
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
