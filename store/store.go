// Package store is the register's bbolt database: the sales journal with its
// time and store indexes, refunds, the outbox of intended Vipps requests, the
// print queue, reference counters and settings. Every write is one bbolt transaction with Sync on, so a
// power cut loses nothing that a caller was told had been stored.
package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	// big reservation can fail outright; 8 MiB holds some 15,000 sales
	// (about 540 bytes each, see BenchmarkJournal) before the first remap,
	// and bbolt grows the mapping by doubling after that.
	InitialMmapSize int

	// NoSync turns off fsync. Only for building benchmark files, never in
	// kassed: without it a power cut can lose sales the till was told were
	// stored. Close still syncs before it writes the clean-shutdown mark.
	NoSync bool
}

const (
	defaultTimeout  = time.Second
	defaultMmapSize = 8 << 20
)

// DB is an open register database. Its methods are safe for concurrent use.
type DB struct {
	bolt    *bolt.DB
	path    string
	tag     string // the file's instance tag, drawn when it was created
	series  string // the tag of this Open's references (see SeriesTag)
	created bool
	now     func() time.Time
	commits atomic.Uint64
}

// Open opens the database at path. Only a missing file is created (mode
// 0600, with its buckets and a new instance tag), and atomically: a power cut
// never leaves a half-made file behind. An existing file is checked first,
// read only, and refused unchanged when it is empty, truncated, damaged or
// unreadable: replacing it would lose the journal without a word.
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
	if err := inspect(path, fi); err != nil {
		return nil, err
	}
	if err := check(path, o.Timeout); err != nil {
		return nil, err
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
	db := &DB{bolt: bdb, path: path, now: o.Now, created: created}
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

// Close releases the file lock. Pending transactions finish first.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("closing database %s: %w", db.path, err)
	}
	return nil
}

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
func (db *DB) update(fn func(*bolt.Tx) error) error {
	if err := db.bolt.Update(fn); err != nil {
		return err
	}
	db.commits.Add(1)
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
