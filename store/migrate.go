package store

import (
	"bytes"
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
		{from: 2, what: "compact records and keys in counter order", run: migrate2to3},
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
	if err := hasBuckets(tx, [][]byte{bucketMeta, bucketCounters, schema2Sales, schema2SalesByTime}); err != nil {
		return err
	}
	for _, name := range [][]byte{schema2SalesByStore, bucketRefunds, bucketRefundsByTime, bucketRefundsByRef,
		bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	byStore := tx.Bucket(schema2SalesByStore)
	byStore.FillPercent = tailFill
	return tx.Bucket(schema2Sales).ForEach(func(k, rec []byte) error {
		s, err := decodeSale(k, rec)
		if err != nil {
			return fmt.Errorf("sale %s: %w", k, err)
		}
		// Schema 2's keys: the reference's text.
		return byStore.Put(storeKey(s.Store, s.Created, []byte(s.Reference)), nil)
	})
}

// migrate2to3 writes every record in the compact format and keys
// everything that names a sale by saleKey. The sales and their indexes are
// built anew in schema 3's buckets, in time order, and the old ones are then
// dropped whole: bbolt frees a dropped bucket's pages without loading them,
// so memory holds what the transaction writes, which bbolt keeps until it
// commits (BenchmarkMigrate: 80 MiB at 100k sales, 667 MiB at 1M, too much
// for a 512 MB Pi at 1M). The small buckets are rewritten in place (see
// rewrite).
func migrate2to3(tx *bolt.Tx) error {
	old := [][]byte{schema2Sales, schema2SalesByTime, schema2SalesByStore}
	if err := hasBuckets(tx, append(old, bucketRefunds, bucketRefundsByTime, bucketRefundsByRef,
		bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings)); err != nil {
		return err
	}
	var nb [3]*bolt.Bucket
	for i, name := range [][]byte{bucketSales, bucketSalesByTime, bucketSalesByStore} {
		var err error
		if nb[i], err = tx.CreateBucket(name); err != nil {
			return fmt.Errorf("%w (creating bucket %q: %v)", ErrDamaged, name, err)
		}
	}
	sales, byTime, byStore := nb[0], nb[1], nb[2]
	sales.FillPercent, byTime.FillPercent, byStore.FillPercent = appendFill, tailFill, tailFill
	oldSales := tx.Bucket(schema2Sales)
	// moveSale stores the sale stored under schema 2's key old anew.
	moveSale := func(old, rec []byte) error {
		s, err := decodeSale(old, rec)
		if err == nil && s.Reference != string(old) {
			err = fmt.Errorf("%w (sale record %q is stored under %q)", ErrDamaged, s.Reference, old)
		}
		var nrec []byte
		if err == nil {
			nrec, err = encodeSale(s)
		}
		if err != nil {
			return fmt.Errorf("sale %s: %w", old, err)
		}
		key := saleKey(s.Reference)
		if err := sales.Put(key, nrec); err != nil {
			return err
		}
		if err := byTime.Put(timeKey(s.Created, key), nil); err != nil {
			return err
		}
		return byStore.Put(storeKey(s.Store, s.Created, key), nil)
	}
	// Through the old time index, so that new keys arrive in the order the
	// till made them and pages fill. Nothing old is written, so one cursor
	// walks it all.
	moved := 0
	c := tx.Bucket(schema2SalesByTime).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) < 8 {
			return fmt.Errorf("%w (time index key %x is too short)", ErrDamaged, k)
		}
		rec := oldSales.Get(k[8:])
		if rec == nil {
			return fmt.Errorf("%w (the time index names sale %q, which is missing)", ErrDamaged, k[8:])
		}
		if sales.Get(saleKey(string(k[8:]))) != nil {
			return fmt.Errorf("%w (the time index names sale %q twice)", ErrDamaged, k[8:])
		}
		if err := moveSale(k[8:], rec); err != nil {
			return err
		}
		moved++
	}
	// A sale the time index missed is indexed now rather than lost.
	if oldSales.Stats().KeyN != moved {
		err := oldSales.ForEach(func(k, rec []byte) error {
			if sales.Get(saleKey(string(k))) != nil {
				return nil
			}
			return moveSale(k, rec)
		})
		if err != nil {
			return err
		}
	}
	for _, name := range old {
		if err := tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	var err error
	for _, b := range []struct {
		name   []byte
		what   func(k []byte) string
		encode func(what string, rec []byte) ([]byte, error)
	}{
		{bucketRefunds, func(k []byte) string { return "refund " + string(k) }, reencode[Refund]},
		{bucketOutbox, func(k []byte) string { return fmt.Sprintf("op %d", binary.BigEndian.Uint64(k)) }, reencode[Op]},
		{bucketPrint, func(k []byte) string { return fmt.Sprintf("print job %d", binary.BigEndian.Uint64(k)) }, reencode[PrintJob]},
	} {
		err = rewrite(bucket(tx, b.name), func(k, rec []byte) ([]byte, []byte, bool, error) {
			if len(k) != 8 && !bytes.Equal(b.name, bucketRefunds) {
				return nil, nil, false, fmt.Errorf("%w (%s key %x is not 8 bytes)", ErrDamaged, b.name, k)
			}
			nrec, err := b.encode(b.what(k), rec)
			return k, nrec, true, err
		})
		if err != nil {
			return err
		}
	}
	// The by-reference indexes: text 0x00 id becomes refKey.
	for _, name := range [][]byte{bucketRefundsByRef, bucketOutboxByRef, bucketPrintByRef} {
		err = rewrite(bucket(tx, name), func(k, v []byte) ([]byte, []byte, bool, error) {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				return nil, nil, false, fmt.Errorf("%w (%s key %q has no 0x00)", ErrDamaged, name, k)
			}
			return refKey(string(k[:i]), k[i+1:]), v, true, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// reencode reads a record of any format and writes it in the compact one.
func reencode[T record](what string, rec []byte) ([]byte, error) {
	v, err := decode[T](what, rec)
	if err != nil {
		return nil, err
	}
	return encode(what, v)
}

// rewriteBatch is how many entries rewrite reads before it writes.
const rewriteBatch = 1024

// rewrite walks b in key order and replaces each entry k, v by what fn
// returns when it says so. It reads a batch of entries, then writes them,
// then seeks past the batch, because bbolt cursors do not survive writes
// to their bucket. A new key must not sort after the old one, so the walk
// never meets an entry it wrote.
func rewrite(b *bolt.Bucket, fn func(k, v []byte) (nk, nv []byte, change bool, err error)) error {
	var last []byte
	for {
		var batch [][2][]byte
		c := b.Cursor()
		k, v := c.First()
		if last != nil {
			if k, v = c.Seek(last); bytes.Equal(k, last) {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(batch) < rewriteBatch; k, v = c.Next() {
			batch = append(batch, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
		}
		for _, e := range batch {
			nk, nv, change, err := fn(e[0], e[1])
			if err != nil {
				return err
			}
			if !change {
				continue
			}
			if bytes.Compare(nk, e[0]) > 0 {
				return fmt.Errorf("rewriting %q as %q would move it ahead of the walk", e[0], nk)
			}
			if !bytes.Equal(nk, e[0]) {
				if err := b.Delete(e[0]); err != nil {
					return err
				}
			}
			if err := b.Put(nk, nv); err != nil {
				return err
			}
		}
		if len(batch) < rewriteBatch {
			return nil
		}
		last = batch[len(batch)-1][0]
	}
}
