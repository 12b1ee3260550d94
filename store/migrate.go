package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

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
		{from: 3, what: "adding the electronic journal", run: migrate3to4},
		{from: 4, what: "dropping the store index", run: migrate4to5},
	}
}

// migrate runs every step from version up to SchemaVersion in ONE write
// transaction: a crash or a failing step leaves the file at its version, so
// the next Open tries again from there. Before it, copySales builds schema
// 3's sales in batches of transactions beside the old ones (which stay the
// file's truth until that one transaction drops them).
func (db *DB) migrate(version uint64) error {
	if version < 3 {
		// Read every record first: a damaged file is refused unchanged,
		// before the copy writes anything.
		if err := db.bolt.View(checkOldRecords); err != nil {
			return fmt.Errorf("database %s: migrating from schema version %d failed and changed nothing: "+
				"schema %d→3 (reading every record first): %w", db.path, version, version, err)
		}
		if err := db.copySales(); err != nil {
			return fmt.Errorf("database %s: migrating from schema version %d failed; the file keeps schema %d "+
				"(if data_dir is full, free space and start again): %w", db.path, version, version, err)
		}
	}
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
// built anew in schema 3's buckets, in time order, by copySales before this
// step (in batches of transactions, so memory stays small at 1M sales); this
// step, in migrate's one transaction, checks that copy is still the file's
// latest write, copies whatever it missed, drops the old buckets whole
// (bbolt frees a dropped bucket's pages without loading them) and rewrites
// the small buckets in place (see rewrite). Without a current copy (a small
// file in a test, or an older kassed wrote after it) it copies everything
// here, in this transaction.
func migrate2to3(tx *bolt.Tx) error {
	old := [][]byte{schema2Sales, schema2SalesByTime, schema2SalesByStore}
	if err := hasBuckets(tx, append(old, bucketRefunds, bucketRefundsByTime, bucketRefundsByRef,
		bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings)); err != nil {
		return err
	}
	meta := tx.Bucket(bucketMeta)
	mark := meta.Get(keyCopy3)
	current := len(mark) == 16 && binary.BigEndian.Uint64(mark)+1 == uint64(tx.ID())
	moved := 0
	if current {
		moved = int(binary.BigEndian.Uint64(mark[8:]))
	} else {
		if err := newSalesBuckets(tx); err != nil {
			return err
		}
		var err error
		if moved, _, err = copySalesBatch(tx, nil, -1); err != nil {
			return err
		}
	}
	if err := meta.Delete(keyCopy3); err != nil {
		return err
	}
	// A sale the time index missed is indexed now rather than lost.
	oldSales := tx.Bucket(schema2Sales)
	if oldSales.Stats().KeyN != moved {
		sales := tx.Bucket(bucketSales)
		err := oldSales.ForEach(func(k, rec []byte) error {
			if sales.Get(saleKey(string(k))) != nil {
				return nil
			}
			return moveSale(tx, k, rec)
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

// keyCopy3 in the meta bucket marks schema 3's sales as copied by
// copySales: the transaction ID that finished the copy and how many sales
// it moved. It is valid only for the very next write transaction.
var keyCopy3 = []byte("copy3")

// defaultCopyBatch is how many sales one transaction of copySales moves: bbolt
// keeps every page a transaction writes until it commits, and a 512 MB
// register must not hold a million sales' pages at once.
const defaultCopyBatch = 20_000

// copySales builds schema 3's sales buckets from a schema 1 or 2 file's
// sales in transactions of db.copyBatch sales, and marks the copy done in the
// last one. The old buckets stay as they are, so a crash or an error leaves
// the file at its old schema: the next Open throws the partial copy away and
// starts again.
func (db *DB) copySales() error {
	err := db.update(func(tx *bolt.Tx) error {
		if err := hasBuckets(tx, [][]byte{schema2Sales, schema2SalesByTime}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketMeta).Delete(keyCopy3); err != nil {
			return err
		}
		return newSalesBuckets(tx)
	})
	moved, next := 0, []byte(nil)
	for err == nil {
		done := false
		err = db.update(func(tx *bolt.Tx) error {
			n, last, err := copySalesBatch(tx, next, db.copyBatch)
			if err != nil {
				return err
			}
			moved += n
			if n < db.copyBatch {
				done = true
				mark := binary.BigEndian.AppendUint64(nil, uint64(tx.ID()))
				return tx.Bucket(bucketMeta).Put(keyCopy3, binary.BigEndian.AppendUint64(mark, uint64(moved)))
			}
			next = last
			return nil
		})
		if done {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("copying the sales to schema 3 (after %d): %w", moved, err)
	}
	return nil
}

// newSalesBuckets makes the sales buckets empty, dropping those of an
// interrupted copy (an older kassed's copy also made a store index).
func newSalesBuckets(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketSales, bucketSalesByTime, schema4SalesByStore} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
	}
	for _, name := range [][]byte{bucketSales, bucketSalesByTime} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("%w (creating bucket %q: %v)", ErrDamaged, name, err)
		}
	}
	return nil
}

// copySalesBatch moves up to limit sales (all when limit < 0) that follow
// the old time index key after, through that index, so that new keys arrive
// in the order the till made them and pages fill. It returns how many it
// moved and the index key of the last.
func copySalesBatch(tx *bolt.Tx, after []byte, limit int) (int, []byte, error) {
	oldSales, sales := tx.Bucket(schema2Sales), tx.Bucket(bucketSales)
	c := tx.Bucket(schema2SalesByTime).Cursor()
	k, _ := c.First()
	if after != nil {
		if k, _ = c.Seek(after); bytes.Equal(k, after) {
			k, _ = c.Next()
		}
	}
	n, last := 0, []byte(nil)
	for ; k != nil && (limit < 0 || n < limit); k, _ = c.Next() {
		if len(k) < 8 {
			return n, nil, fmt.Errorf("%w (time index key %x is too short)", ErrDamaged, k)
		}
		rec := oldSales.Get(k[8:])
		if rec == nil {
			return n, nil, fmt.Errorf("%w (the time index names sale %q, which is missing)", ErrDamaged, k[8:])
		}
		if sales.Get(saleKey(string(k[8:]))) != nil {
			return n, nil, fmt.Errorf("%w (the time index names sale %q twice)", ErrDamaged, k[8:])
		}
		if err := moveSale(tx, k[8:], rec); err != nil {
			return n, nil, err
		}
		n, last = n+1, k
	}
	return n, bytes.Clone(last), nil
}

// moveSale stores the sale stored under schema 2's key old in schema 3's
// buckets.
func moveSale(tx *bolt.Tx, old, rec []byte) error {
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
	if err := bucket(tx, bucketSales).Put(key, nrec); err != nil {
		return err
	}
	return bucket(tx, bucketSalesByTime).Put(timeKey(s.Created, key), nil)
}

// checkOldRecords decodes every record of a schema 1 or 2 file, so that the
// migration meets no damage after it has begun writing.
func checkOldRecords(tx *bolt.Tx) error {
	if err := hasBuckets(tx, [][]byte{schema2Sales, schema2SalesByTime}); err != nil {
		return err
	}
	err := tx.Bucket(schema2Sales).ForEach(func(k, rec []byte) error {
		if _, err := decodeSale(k, rec); err != nil {
			return fmt.Errorf("sale %s: %w", k, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range []struct {
		name  []byte
		check func(k, rec []byte) error
	}{
		{bucketRefunds, func(k, rec []byte) error { _, err := reencode[Refund]("refund "+string(k), rec); return err }},
		{bucketOutbox, func(k, rec []byte) error { _, err := reencode[Op](fmt.Sprintf("op %x", k), rec); return err }},
		{bucketPrint, func(k, rec []byte) error {
			_, err := reencode[PrintJob](fmt.Sprintf("print job %x", k), rec)
			return err
		}},
	} {
		if bk := tx.Bucket(b.name); bk != nil {
			if err := bk.ForEach(b.check); err != nil {
				return err
			}
		}
	}
	return nil
}

// seqName names an entry keyed by a sequence number, as messages do.
func seqName(k []byte) string {
	if len(k) == 8 {
		return fmt.Sprint(binary.BigEndian.Uint64(k))
	}
	return fmt.Sprintf("%q", k)
}

// migrate3to4 adds the electronic journal's buckets. The sales before it
// were never signed and are not journaled now: signing history later
// would vouch for what no signature saw (the journal starts at the update,
// which kassed journals as event 13007).
func migrate3to4(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketEJ} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	return nil
}

// migrate4to5 drops the store index (see schema4SalesByStore); bbolt
// frees its pages without reading them, and the sales that follow reuse
// them.
func migrate4to5(tx *bolt.Tx) error {
	if tx.Bucket(schema4SalesByStore) == nil {
		return nil
	}
	return tx.DeleteBucket(schema4SalesByStore)
}

// storeKey is a key of the store indexes of schemas 2 to 4: store, 0x00,
// timeKey.
func storeKey(store string, t time.Time, key []byte) []byte {
	k := append(make([]byte, 0, len(store)+1+8+len(key)), store...)
	return append(append(k, 0), timeKey(t, key)...)
}
