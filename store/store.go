// Package store is the register's bbolt database: the sales journal with its
// time index, the electronic journal, refunds, the outbox of intended Vipps requests, the
// print queue, reference counters and settings. Every write is one bbolt transaction with Sync on, so a
// power cut loses nothing that a caller was told had been stored.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options tune Open. The zero value is what kassed uses.
type Options struct {
	Now  func() time.Time // stamps Sale.Updated; default time.Now
	Rand io.Reader        // draws the instance and series tags; default crypto/rand

	// Timeout is how long Open waits for the file lock held by another
	// kassed before giving up; default 1s.
	Timeout time.Duration

	// InitialMmapSize is the first mapping of the file; default 8 MiB. On
	// 32-bit ARM the address space is 3 GiB shared with the Go heap, so a
	// big reservation can fail outright; 8 MiB holds some 23,000 sales
	// (about 360 bytes each with the journal, see BenchmarkJournal) before
	// the first remap, and bbolt grows the mapping by doubling after that.
	InitialMmapSize int

	// NoSync turns off fsync. Only for building benchmark files, never in
	// kassed: without it a power cut can lose sales the till was told were
	// stored. Close still syncs before it writes the clean-shutdown mark.
	NoSync bool

	// Signer signs the journal's cash transactions (ej.go); nil leaves
	// them unsigned, which only tests do: kassed refuses to start
	// without a signing key.
	Signer Signer
	// TaxRate is the VAT in the till's amounts, in basis points, journaled
	// with each cash transaction.
	TaxRate int

	// copyBatch overrides how many sales a migration copies per
	// transaction (tests make it small to cross batch boundaries).
	copyBatch int
}

const (
	defaultTimeout  = time.Second
	defaultMmapSize = 8 << 20
	allocStep       = 1 << 20
)

// DB is an open register database. Its methods are safe for concurrent use.
type DB struct {
	bolt    *bolt.DB
	path    string
	tag     string // the file's instance tag, drawn when it was created
	series  string // the tag of this Open's references (see SeriesTag)
	created bool
	start   StartCheck
	now     func() time.Time
	commits atomic.Uint64

	// printed are receipts the printer finished whose "printed" mark
	// waits for the next commit (see PrintDone): job ID → sale reference.
	mu      sync.Mutex
	printed map[uint64]printMark

	copyBatch int // sales per transaction when a migration copies them
	// lastWrite is when (real clock, Unix ns) this DB last wrote the file:
	// a change after it was made by someone else, and Close must not
	// vouch for it.
	lastWrite atomic.Int64
	closed    atomic.Bool

	signer  Signer
	taxRate int
}

// Open opens the database at path. Only a missing file is created (mode
// 0600, with its buckets and a new instance tag), and atomically: a power cut
// never leaves a half-made file behind. An existing file is checked first,
// read only, and refused unchanged when it is empty, truncated, damaged or
// unreadable: replacing it would lose the journal without a word. The check
// reads every page unless the file is exactly as a clean Close left it (see
// clean.go); StartCheck says which ran.
func Open(path string, o Options) (*DB, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.InitialMmapSize <= 0 {
		o.InitialMmapSize = defaultMmapSize
	}

	created := false
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if created, err = create(path, o); err != nil {
			return nil, err
		}
		fi, err = os.Stat(path)
	}
	if err != nil {
		return nil, openError(path, o.Timeout, err)
	}
	metas, err := inspect(path, fi)
	if err != nil {
		return nil, err
	}
	// Measured for the log only, so the real clock: a test's injected
	// clock would make every check take no time.
	began := time.Now()
	sc := StartCheck{Full: true, Reason: "a new file"}
	if !created {
		var clean bool
		clean, sc.Reason = closedCleanly(path, fi, metas)
		sc.Full = !clean
	}
	if sc.Full {
		err = check(context.Background(), path, o.Timeout, nil)
	} else {
		err = lightCheck(path, o.Timeout)
	}
	if err != nil {
		return nil, err
	}
	sc.Took = time.Since(began)
	if err := dropMark(path); err != nil {
		return nil, fmt.Errorf("database %s: removing its clean-shutdown mark: %w: nothing was changed; "+
			"check that kassed may write data_dir", path, err)
	}

	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.Timeout,
		InitialMmapSize: o.InitialMmapSize,
		// NoSync stays false in kassed: a sale must be on disk before the
		// HTTP request that depends on it leaves.
		NoSync: o.NoSync,
	})
	if err != nil {
		return nil, openError(path, o.Timeout, err)
	}
	// The file grows 1 MiB past its last page at a time, not bbolt's
	// 16 MiB: its size is then what it holds (16 MiB is 45,000 sales, a
	// month of a busy lane), at the cost of one ftruncate and fsync per
	// some 2,900 sales.
	bdb.AllocSize = allocStep
	db := &DB{bolt: bdb, path: path, now: o.Now, created: created, start: sc, printed: map[uint64]printMark{},
		signer: o.Signer, taxRate: o.TaxRate,
		copyBatch: o.copyBatch}
	if db.copyBatch <= 0 {
		db.copyBatch = defaultCopyBatch
	}
	db.lastWrite.Store(time.Now().UnixNano())
	if created {
		db.commits.Add(1) // the provisioning commit, made under the temporary name
	}
	if err := db.provision(); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	// A fresh series at every start: a file restored from an older copy
	// (or a copy of a copy) still has counters that were used since, so
	// the counter alone cannot make a reference unique.
	if db.series, err = newTag(o.Rand); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("database %s: drawing the series tag: %w", path, err)
	}
	return db, nil
}

// create makes a new database at path, which was missing: built complete
// under a temporary name, then linked into place, so path is either absent
// or a whole database. It reports false when another process created path
// first (that file is then opened like any existing one).
func create(path string, o Options) (bool, error) {
	tmp := path + ".new"
	// A leftover from a power cut during creation was never the database.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, createError(path, err)
	}
	bdb, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: o.Timeout, InitialMmapSize: o.InitialMmapSize})
	if err != nil {
		return false, createError(path, err)
	}
	db := &DB{bolt: bdb, path: path, now: o.Now} // path, not tmp, in messages
	err = db.createBuckets(o.Rand)
	if cerr := bdb.Close(); err == nil && cerr != nil {
		err = createError(path, cerr)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return false, err
	}
	// Link, unlike rename, never replaces a file that appeared meanwhile.
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		// A file system without hard links: rename, checking first.
		if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
			err = os.Rename(tmp, path)
		}
	}
	_ = os.Remove(tmp)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, createError(path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return false, createError(path, err)
	}
	return true, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Close commits the printed marks still waiting (Flush), releases the file
// lock, pending transactions first, and marks the file closed cleanly so
// that the next Open need not read every page.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	if err := db.Flush(); err != nil {
		_ = db.bolt.Close()
		return fmt.Errorf("%w: the last receipt may print again as COPY; the next start runs the full check", err)
	}
	// Already on disk unless NoSync; the mark must never vouch for less.
	serr := db.bolt.Sync()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("closing database %s: %w", db.path, err)
	}
	if serr != nil {
		return fmt.Errorf("closing database %s: syncing it: %w: the next start runs the full check", db.path, serr)
	}
	if fi, err := os.Stat(db.path); err == nil && changedSince(fi, time.Unix(0, db.lastWrite.Load())) {
		return fmt.Errorf("database %s was changed by another process while kassed had it open: "+
			"no clean-shutdown mark, the next start runs the full check", db.path)
	}
	if err := writeMark(db.path); err != nil {
		return fmt.Errorf("database %s closed, but its clean-shutdown mark was not written (%w): "+
			"the next start runs the full check", db.path, err)
	}
	return nil
}

// ChangedByOthers reports whether another process wrote the file since
// this DB last did: then nothing should be written to it (a damaged file
// can make bbolt loop) and Close will not vouch for it.
func (db *DB) ChangedByOthers() bool {
	fi, err := os.Stat(db.path)
	return err == nil && changedSince(fi, time.Unix(0, db.lastWrite.Load()))
}

// StartCheck says which check Open ran before it opened the file, and why.
func (db *DB) StartCheck() StartCheck { return db.start }

// Path is the database file's path as given to Open.
func (db *DB) Path() string { return db.path }

// InstanceTag is the random tag drawn when this database file was created. It
// is part of every reference, so a new file never repeats an old reference.
func (db *DB) InstanceTag() string { return db.tag }

// SeriesTag is the tag in the references this Open issues, drawn anew at
// every Open. With the counter it keeps references unique even when the
// file was restored from an older copy whose counters were used since.
func (db *DB) SeriesTag() string { return db.series }

// Created reports whether Open created this file (it was missing), so the
// caller can say that a new, empty journal begins.
func (db *DB) Created() bool { return db.created }

// Commits is the number of write transactions committed since Open, so a
// benchmark can report transactions (fsyncs) per sale.
func (db *DB) Commits() uint64 { return db.commits.Load() }

// update runs fn in one write transaction and counts it when it commits.
// The printed marks waiting for a commit ride along (applied first), so
// a receipt's "printed" costs no commit of its own while sales keep coming.
func (db *DB) update(fn func(*bolt.Tx) error) error {
	marks := db.waitingMarks()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		// First, so fn sees the file as the printer left it (Archive
		// takes a sale only once its receipt is out of the queue).
		if len(marks) > 0 {
			if err := db.applyPrinted(tx, marks, db.now()); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	if err != nil {
		return err
	}
	db.lastWrite.Store(time.Now().UnixNano())
	db.commits.Add(1)
	db.dropMarks(marks)
	return nil
}

// Size is the database file's size in bytes: bbolt maps the whole file, so
// this is what must stay well under 1 GiB on 32-bit ARM (archive old sales
// long before). It includes free pages and growth room, so it moves in steps.
func (db *DB) Size() (int64, error) {
	fi, err := os.Stat(db.path)
	if err != nil {
		return 0, fmt.Errorf("database %s: reading its size: %w", db.path, err)
	}
	return fi.Size(), nil
}
