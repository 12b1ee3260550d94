package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// migration moves a file from schema from to from+1 inside the caller's
// write transaction.
type migration struct {
	from uint64
	what string // for the error message
	run  func(tx *bolt.Tx) error
}

// migrations is the table Open runs in order. It is a function, not a
// package variable, so nothing can change it at run time.
func migrations() []migration {
	return []migration{
		{from: 1, what: "adding refunds, outbox, print queue, settings and the store index", run: migrate1to2},
	}
}

// migrate runs every step from version up to SchemaVersion in ONE write
// transaction: a crash or a failing step leaves the file as it was, so the
// next Open tries again from the same version.
func (db *DB) migrate(version uint64) error {
	err := db.update(func(tx *bolt.Tx) error {
		v := version
		for _, m := range migrations() {
			if m.from != v {
				continue
			}
			if err := m.run(tx); err != nil {
				return fmt.Errorf("schema %d→%d (%s): %w", m.from, m.from+1, m.what, err)
			}
			v = m.from + 1
		}
		if v != SchemaVersion {
			return fmt.Errorf("%w (no migration from schema version %d): restore the latest backup", ErrDamaged, v)
		}
		if err := hasBuckets(tx, allBuckets); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion))
	})
	if err != nil {
		return fmt.Errorf("database %s: migrating from schema version %d failed and changed nothing "+
			"(if data_dir is full, free space and start again): %w", db.path, version, err)
	}
	return nil
}

// migrate1to2 creates the schema 2 buckets and indexes every existing sale
// by store.
func migrate1to2(tx *bolt.Tx) error {
	if err := hasBuckets(tx, [][]byte{bucketMeta, bucketCounters, bucketSales, bucketSalesByTime}); err != nil {
		return err
	}
	for _, name := range [][]byte{bucketSalesByStore, bucketRefunds, bucketRefundsByTime, bucketRefundsByRef,
		bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	byStore := tx.Bucket(bucketSalesByStore)
	byStore.FillPercent = appendFill
	return tx.Bucket(bucketSales).ForEach(func(k, rec []byte) error {
		s, err := decodeSale(rec)
		if err != nil {
			return fmt.Errorf("sale %s: %w", k, err)
		}
		return byStore.Put(storeKey(s.Store, s.Created, s.Reference), nil)
	})
}
