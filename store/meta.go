package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this package writes. Older files are migrated
// forward on Open (see migrate.go); newer ones are refused.
const SchemaVersion = 5

// Bucket names. One bucket per concept, so a new concept adds buckets
// without touching the others. Schema 3 keys every sale by saleKey (the
// reference with its counter in order) where schema 2 used the reference's
// text, and writes records in the compact format (record.go).
var (
	bucketMeta     = []byte("meta")
	bucketCounters = []byte("counters") // PREFIX-LANE → uint64 BE

	// Schema 3's sales (schemas 1 and 2 had them in "sales", see below).
	bucketSales       = []byte("journal")         // saleKey → record
	bucketSalesByTime = []byte("journal_by_time") // timeKey(created, saleKey) → nil

	// Added in schema 2.
	bucketRefunds       = []byte("refunds")         // refund ID → record
	bucketRefundsByTime = []byte("refunds_by_time") // timeKey(created, ID) → nil
	bucketRefundsByRef  = []byte("refunds_by_ref")  // refKey(reference, ID) → nil
	bucketOutbox        = []byte("outbox")          // op ID (uint64 BE) → record
	bucketOutboxByRef   = []byte("outbox_by_ref")   // refKey(reference, op ID) → nil
	bucketPrint         = []byte("print")           // job ID (uint64 BE) → record
	bucketPrintByRef    = []byte("print_by_ref")    // refKey(reference, job ID) → 1 original, 0 copy
	bucketSettings      = []byte("settings")        // key → value
)

// The sales buckets of schemas 1 and 2 (the store index from 2), keyed by
// the reference's text. The migration to schema 3 builds the new sales
// buckets beside them and then drops them, so it never loads their pages
// (bbolt keeps every page a transaction changes in memory until it commits).
var (
	schema2Sales        = []byte("sales")
	schema2SalesByTime  = []byte("sales_by_time")
	schema2SalesByStore = []byte("sales_by_store")
)

// schema4SalesByStore indexed sales by store (schemas 3 and 4). A
// register's sales are almost all its own store's, so the index cost a
// tenth of the file and saved no reads; schema 5 drops it and a store
// filter walks the time index.
var schema4SalesByStore = []byte("journal_by_store")

var (
	keySchema   = []byte("schema")
	keyInstance = []byte("instance")
)

// allBuckets are the buckets of SchemaVersion; a new file gets them all.
var allBuckets = [][]byte{bucketMeta, bucketCounters, bucketSales, bucketSalesByTime,
	bucketRefunds, bucketRefundsByTime, bucketRefundsByRef,
	bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings, bucketEJ}

const (
	tagLen      = 4
	tagAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// provision reads and checks the schema version and instance tag of an
// existing file, migrating an older schema forward.
func (db *DB) provision() error {
	var tag string
	var version uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("database %s: %w: it is a bbolt file without kasse's data (no meta bucket), "+
				"perhaps another program's; nothing was changed: check the path (data_dir), or move the file aside "+
				"so kassed creates a new database", db.path, ErrNotDatabase)
		}
		v, err := readSchema(meta)
		if err != nil {
			return fmt.Errorf("database %s: %w", db.path, err)
		}
		if v > SchemaVersion {
			return fmt.Errorf("database %s has schema version %d but this kassed knows only up to %d: "+
				"install the kassed that wrote it, or restore a backup made by this version", db.path, v, SchemaVersion)
		}
		if v == SchemaVersion {
			if err := hasBuckets(tx, allBuckets); err != nil {
				return fmt.Errorf("database %s: %w", db.path, err)
			}
		}
		version = v
		t := meta.Get(keyInstance)
		if !validTag(string(t)) {
			return fmt.Errorf("database %s: %w (instance tag %q is not valid): move the file aside and restore the latest backup",
				db.path, ErrDamaged, t)
		}
		tag = string(t)
		return nil
	})
	if err != nil {
		return err
	}
	db.tag = tag
	if version < SchemaVersion {
		return db.migrate(version)
	}
	return nil
}

// createBuckets fills a new file: every bucket, the schema version and a
// fresh instance tag.
func (db *DB) createBuckets(rnd io.Reader) error {
	tag, err := newTag(rnd)
	if err != nil {
		return fmt.Errorf("database %s: drawing the instance tag: %w", db.path, err)
	}
	err = db.update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
			return err
		}
		return meta.Put(keyInstance, []byte(tag))
	})
	if err != nil {
		return fmt.Errorf("database %s: creating buckets: %w: check free space in data_dir", db.path, err)
	}
	db.tag = tag
	return nil
}

// hasBuckets reports the first of names missing in tx as damage.
func hasBuckets(tx *bolt.Tx, names [][]byte) error {
	for _, name := range names {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w (bucket %q is missing): move the file aside and restore the latest backup",
				ErrDamaged, name)
		}
	}
	return nil
}

func readSchema(meta *bolt.Bucket) (uint64, error) {
	b := meta.Get(keySchema)
	if len(b) != 8 {
		return 0, fmt.Errorf("%w (schema version missing): move the file aside and restore the latest backup", ErrDamaged)
	}
	return binary.BigEndian.Uint64(b), nil
}

// newTag draws tagLen characters of [a-z0-9] without modulo bias.
func newTag(rnd io.Reader) (string, error) {
	// Bytes at or above the largest multiple of 36 are discarded.
	const limit = 256 - 256%len(tagAlphabet)
	out := make([]byte, 0, tagLen)
	buf := make([]byte, 16)
	for tries := 0; len(out) < tagLen; tries++ {
		if tries == 64 {
			return "", errors.New("random source keeps returning unusable bytes")
		}
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < tagLen {
				out = append(out, tagAlphabet[int(c)%len(tagAlphabet)])
			}
		}
	}
	return string(out), nil
}

func validTag(t string) bool {
	if len(t) != tagLen {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
