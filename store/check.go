package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged is wrapped by Open's error when the file fails bbolt's
// consistency check.
var ErrDamaged = errors.New("file is damaged")

// ErrLocked is wrapped by Open's error when another process holds the file.
var ErrLocked = errors.New("file is locked")

// ErrNotDatabase is wrapped by Open's error when the file is not a bbolt file.
var ErrNotDatabase = errors.New("not a bbolt database file")

// maxReported bounds how many consistency errors go into the message; the
// first few say enough and a wrecked file can produce thousands.
const maxReported = 3

// Progress is told how far a full check has read: done of total bytes.
type Progress func(done, total int64)

// check opens path read-only (so nothing is written, not even a freelist)
// and runs bbolt's consistency check over every page.
func check(ctx context.Context, path string, timeout time.Duration, progress Progress) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return openError(path, timeout, err)
	}
	defer bdb.Close()
	return bdb.View(func(tx *bolt.Tx) error { return checkTx(ctx, path, tx, progress) })
}

// Check runs the full consistency check of the database file at path, read
// only, as Open does after an unclean stop: kassectl check while kassed is
// not running. It wraps ErrDamaged when the file fails, ErrLocked when kassed
// holds it (ask kassed instead, DB.Check). progress may be nil.
func Check(ctx context.Context, path string, progress Progress) error {
	fi, err := os.Stat(path)
	if err != nil {
		return openError(path, 0, err)
	}
	if _, err := inspect(path, fi); err != nil {
		return err
	}
	return check(ctx, path, 100*time.Millisecond, progress)
}

// Check runs the full consistency check in one read transaction of the
// open database, beside the till's writes: kassectl check while kassed runs.
func (db *DB) Check(ctx context.Context, progress Progress) error {
	defer db.newRelease().now() // Tx.Check touched every page
	return db.bolt.View(func(tx *bolt.Tx) error { return checkTx(ctx, db.path, tx, progress) })
}

// readChunk is how much of the file a full check reads at a time.
const readChunk = 1 << 20

// checkTx checks every page that tx sees. bbolt's Tx.Check gives the
// verdict but no progress, and walks the B+trees in key order, so on a cold
// SD card it faults pages in one at a time all over the file. Reading the
// file from start to end first costs little when warm, turns the cold case
// into one sequential read (with readahead), and is progress that can be
// told exactly: bytes read of the high-water mark.
func checkTx(ctx context.Context, path string, tx *bolt.Tx, progress Progress) error {
	total := tx.Size()
	f, err := os.Open(path)
	if err != nil {
		return openError(path, 0, err)
	}
	defer f.Close()
	adviseSequential(f, total)
	buf := make([]byte, readChunk)
	for done := int64(0); done < total; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := f.ReadAt(buf[:min(int64(len(buf)), total-done)], done)
		done += int64(n)
		if err != nil {
			return damaged(path, fmt.Sprintf("reading it failed at byte %d: %v", done, err))
		}
		if progress != nil {
			progress(done, total)
		}
	}

	var problems []string
	n := 0
	for cerr := range tx.Check() {
		n++
		if n <= maxReported {
			problems = append(problems, cerr.Error())
		}
	}
	if n > 0 {
		if n > maxReported {
			problems = append(problems, fmt.Sprintf("and %d more", n-maxReported))
		}
		return damaged(path, strings.Join(problems, "; "))
	}
	return nil
}

// lightCheck reads what a start needs, read only: the freelist and, in
// every bucket, the root and the pages down to its first and last keys
// (where the counters, the outbox and the print queue are read from). bbolt
// panics on a junk page rather than returning an error, so a panic here is
// damage, reported as such, with the file unchanged.
func lightCheck(path string, timeout time.Duration) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, fmt.Sprintf("reading it failed: %v", r))
		}
	}()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout, PreLoadFreelist: true})
	if err != nil {
		return openError(path, timeout, err)
	}
	defer bdb.Close()
	return bdb.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			c := b.Cursor()
			c.First()
			c.Last()
			return nil
		})
	})
}

// inspect refuses an existing file that cannot be a whole database, before
// bbolt maps it: bbolt would initialise an empty file as a new database (a
// new tag, the journal gone), and it faults (SIGBUS, killing the process)
// reading pages past the end of a truncated one.
//
// It returns the file's valid meta pages, which the clean-shutdown mark
// compares.
func inspect(path string, fi fs.FileInfo) ([]bboltMeta, error) {
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("database %s: %w: it is not a regular file (mode %v); %s",
			path, ErrNotDatabase, fi.Mode(), steps(path))
	}
	size := fi.Size()
	if size == 0 {
		return nil, damaged(path, "the file is empty (0 bytes): its contents were lost, e.g. by a copy that failed or a power cut")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, openError(path, 0, err)
	}
	defer f.Close()
	metas, err := readMetas(f, size)
	if err != nil {
		return nil, damaged(path, "reading it failed: "+err.Error())
	}
	var need int64
	for _, m := range metas {
		need = max(need, 2*m.pageSize, m.pages*m.pageSize)
	}
	if size < need {
		return nil, damaged(path, fmt.Sprintf("truncated: the file is %d bytes but its pages reach %d bytes", size, need))
	}
	return metas, nil // no valid meta page: bbolt says what the file is
}

// bboltMeta is what inspect and the clean-shutdown mark need of a bbolt
// meta page.
type bboltMeta struct {
	pageSize int64
	pages    int64 // the high-water mark: pages in use, freed ones included
	txid     uint64
	checksum uint64
}

// bbolt's file format (go.etcd.io/bbolt/internal/common): each of the first
// two pages holds a 16-byte page header, then the meta: magic, version,
// page size, flags (4 bytes each), root bucket (16), freelist page, page
// count, txid (8 each), and an FNV-64a checksum of the 56 bytes before it,
// all in the machine's byte order.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	pageHeaderSize = 16
	metaSize       = 56 + 8
)

// readMetas returns the valid meta pages of a bbolt file: the first at
// offset 0 and the second one page later, the page size read from the
// first, or tried like bbolt does when the first is bad.
func readMetas(f *os.File, size int64) ([]bboltMeta, error) {
	var out []bboltMeta
	first, ok, err := readMeta(f, 0, size)
	if err != nil {
		return nil, err
	}
	if ok {
		out = append(out, first)
		second, ok, err := readMeta(f, first.pageSize, size)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, second)
		}
		return out, nil
	}
	for i := 0; i <= 14; i++ {
		m, ok, err := readMeta(f, 1024<<i, size)
		if err != nil {
			return nil, err
		}
		if ok {
			return append(out, m), nil
		}
	}
	return out, nil
}

func readMeta(f *os.File, off, size int64) (bboltMeta, bool, error) {
	if off+pageHeaderSize+metaSize > size {
		return bboltMeta{}, false, nil
	}
	b := make([]byte, metaSize)
	if _, err := f.ReadAt(b, off+pageHeaderSize); err != nil {
		return bboltMeta{}, false, err
	}
	e := binary.NativeEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if e.Uint32(b[0:]) != boltMagic || e.Uint32(b[4:]) != boltVersion || e.Uint64(b[56:]) != h.Sum64() {
		return bboltMeta{}, false, nil
	}
	m := bboltMeta{pageSize: int64(e.Uint32(b[8:])), pages: int64(e.Uint64(b[40:])),
		txid: e.Uint64(b[48:]), checksum: e.Uint64(b[56:])}
	if m.pageSize < 1024 || m.pages < 0 || m.pages > math.MaxInt64/m.pageSize {
		return bboltMeta{}, false, nil
	}
	return m, true, nil
}

// steps is what to do about an existing database file kassed refuses.
func steps(path string) string {
	return fmt.Sprintf("nothing was changed: stop kassed, move %s aside, "+
		"restore the latest backup or run kassed to create a new one; "+
		"references stay unique because the instance tag changes", filepath.Base(path))
}

func damaged(path, detail string) error {
	return fmt.Errorf("database %s: %w (%s); %s", path, ErrDamaged, detail, steps(path))
}

// openError turns errors opening an existing file into ones that say what to
// do.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return fmt.Errorf("database %s: %w: another process held it for %s (is kassed already running?): "+
			"stop the other kassed or wait for it to exit: %w", path, ErrLocked, timeout, err)
	case errors.Is(err, bolt.ErrChecksum):
		return damaged(path, err.Error())
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch):
		return fmt.Errorf("database %s: %w (%v); nothing was changed: check the path (data_dir), or move the file aside "+
			"so kassed creates a new database", path, ErrNotDatabase, err)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("database %s: kassed may not open it (%v); nothing was changed: "+
			"give it to the user kassed runs as, e.g. \"chown kasse %s && chmod 600 %s\"", path, err, path, path)
	}
	return fmt.Errorf("database %s: %w; %s", path, err, steps(path))
}

// createError says what to do when a new database cannot be made.
func createError(path string, err error) error {
	return fmt.Errorf("database %s: creating it: %w: check that data_dir exists, that kassed may write it, "+
		"and that it has free space", path, err)
}
