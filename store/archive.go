package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// archived is one line of an archive: a final sale and its refunds.
type archived struct {
	Sale    Sale     `json:"sale"`
	Refunds []Refund `json:"refunds,omitempty"`
}

// final reports whether a sale in state can no longer change at Vipps.
func final(state string) bool {
	switch state {
	case StateCaptured, StateCancelled, StateExpired, StateAborted, StateFailed:
		return true
	}
	return false
}

// Archive moves every final sale (captured, cancelled, expired, aborted,
// failed) created before before, with its refunds, out of the database: it
// writes them to w as gzip-compressed JSON lines and deletes them in the same
// write transaction, only after w took every byte. A sale with pending ops,
// queued receipts or a pending refund stays. If writing fails, nothing is
// deleted.
//
// The deletion commits when Archive returns, so the archive must be durable
// first: pass an *os.File (Archive calls its Sync) or make sure yourself that
// w's bytes reach the disk before this call returns (a bufio.Writer is
// flushed, nothing more). Other writes wait while w is written, so run it
// when the till is idle. It returns how many sales it archived.
func (db *DB) Archive(before time.Time, w io.Writer) (n int, err error) {
	err = db.update(func(tx *bolt.Tx) error {
		zw := gzip.NewWriter(w)
		enc := json.NewEncoder(zw)
		var gone []archived
		limit := timeKey(before, nil)
		c := tx.Bucket(bucketSalesByTime).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
			ref, _, _, err := refOfKey(k[8:])
			if err != nil {
				return err
			}
			a, ok, err := archivable(tx, ref)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := enc.Encode(a); err != nil {
				return fmt.Errorf("writing the archive: %w", err)
			}
			// Keep only the keys: a big archive must not hold every record in RAM.
			g := archived{Sale: Sale{Reference: a.Sale.Reference, Store: a.Sale.Store, Created: a.Sale.Created}}
			for _, r := range a.Refunds {
				g.Refunds = append(g.Refunds, Refund{ID: r.ID, Reference: r.Reference, Created: r.Created})
			}
			gone = append(gone, g)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("writing the archive: %w", err)
		}
		if fl, ok := w.(interface{ Flush() error }); ok {
			if err := fl.Flush(); err != nil {
				return fmt.Errorf("flushing the archive: %w", err)
			}
		}
		if sy, ok := w.(interface{ Sync() error }); ok {
			if err := sy.Sync(); err != nil {
				return fmt.Errorf("syncing the archive: %w", err)
			}
		}
		for _, a := range gone {
			if err := deleteSale(tx, a); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("database %s: archiving sales before %s: %w: nothing was deleted; "+
			"check free space for the archive file and try again", db.path, before.Format(time.RFC3339), err)
	}
	return n, nil
}

// archivable reads the sale ref and its refunds, and reports whether they
// are all final with no work left in the outbox or the print queue.
func archivable(tx *bolt.Tx, ref string) (archived, bool, error) {
	s, ok, err := getSale(tx, ref)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%w (index names sale %s, which is missing)", ErrDamaged, ref)
		}
		return archived{}, false, err
	}
	if !final(s.State) {
		return archived{}, false, nil
	}
	for _, b := range [][]byte{bucketOutboxByRef, bucketPrintByRef} {
		ids, err := idsFor(tx, b, ref)
		if err != nil || len(ids) > 0 {
			return archived{}, false, err
		}
	}
	refunds, err := refundsFor(tx, ref)
	if err != nil {
		return archived{}, false, err
	}
	for _, r := range refunds {
		if r.State == RefundPending {
			return archived{}, false, nil
		}
	}
	return archived{Sale: s, Refunds: refunds}, true, nil
}

func deleteSale(tx *bolt.Tx, a archived) error {
	s := a.Sale
	key := saleKey(s.Reference)
	if err := bucket(tx, bucketSales).Delete(key); err != nil {
		return err
	}
	if err := bucket(tx, bucketSalesByTime).Delete(timeKey(s.Created, key)); err != nil {
		return err
	}
	for _, r := range a.Refunds {
		id := []byte(r.ID)
		if err := bucket(tx, bucketRefunds).Delete(id); err != nil {
			return err
		}
		if err := bucket(tx, bucketRefundsByTime).Delete(timeKey(r.Created, id)); err != nil {
			return err
		}
		if err := bucket(tx, bucketRefundsByRef).Delete(refKey(r.Reference, id)); err != nil {
			return err
		}
	}
	return nil
}

// ReadArchive calls fn for every sale in an archive written by Archive that
// f selects, in the archive's order, stopping at fn's first error. Archives
// joined with cat read as one.
func ReadArchive(r io.Reader, f Filter, fn func(Sale) error) error {
	return readArchive(r, func(a archived) error {
		if !f.match(a.Sale.Created, a.Sale.Store) {
			return nil
		}
		return fn(a.Sale)
	})
}

func readArchive(r io.Reader, fn func(archived) error) error {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("reading archive: %w: is it a file written by kassectl journal archive?", err)
	}
	defer zr.Close()
	dec := json.NewDecoder(zr)
	for line := 1; ; line++ {
		var a archived
		if err := dec.Decode(&a); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reading archive, entry %d: %w: the file is damaged or not an archive; "+
				"entries before it were read", line, err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
}

// Archives are the compressed journal files `kassectl journal archive`
// writes into Dir, read back oldest first by name. With the live database
// they are one sale log.
type Archives struct{ Dir string }

// RowSource is the live journal's rows in time order (DB.Rows).
type RowSource interface {
	Rows(f Filter, fn func(Row) error) error
}

// Archiver moves final sales into an archive file (DB.Archive).
type Archiver interface {
	Archive(before time.Time, w io.Writer) (int, error)
}

// Files lists the archive files, oldest first.
func (a Archives) Files() ([]string, error) {
	if a.Dir == "" {
		return nil, nil
	}
	m, err := filepath.Glob(filepath.Join(a.Dir, "journal-*.jsonl.gz"))
	sort.Strings(m)
	return m, err
}

// Sales calls fn for every archived sale f selects.
func (a Archives) Sales(f Filter, fn func(Sale) error) error {
	files, err := a.Files()
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := withFile(name, func(r io.Reader) error { return ReadArchive(r, f, fn) }); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// Rows calls fn for every row of the archives and the live journal that f
// selects, merged into one time order.
func (a Archives) Rows(live RowSource, f Filter, fn func(Row) error) error {
	files, err := a.Files()
	if err != nil {
		return err
	}
	var sources []func(func(Row) error) error
	for _, name := range files {
		sources = append(sources, func(fn func(Row) error) error {
			return withFile(name, func(r io.Reader) error { return ArchiveRows(r, f, fn) })
		})
	}
	sources = append(sources, func(fn func(Row) error) error { return live.Rows(f, fn) })
	return MergeRows(sources, fn)
}

func withFile(name string, fn func(io.Reader) error) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fn(fh)
}

// Write archives the final sales created before `before` into a new file,
// made durable (file and directory synced) before the sales leave bbolt.
// It returns how many were archived and the file's name.
func (a Archives) Write(j Archiver, before time.Time) (int, string, error) {
	if a.Dir == "" {
		return 0, "", errors.New("no archive directory configured")
	}
	if err := os.MkdirAll(a.Dir, 0o700); err != nil {
		return 0, "", err
	}
	name := filepath.Join(a.Dir, fmt.Sprintf("journal-%s-%d.jsonl.gz", before.Format("20060102"), time.Now().UnixNano()))
	fh, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, "", err
	}
	n, err := j.Archive(before, fh) // it syncs fh before deleting
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil && n == 0 {
		os.Remove(name)
		return 0, "", nil
	}
	if err != nil {
		os.Remove(name)
		return 0, "", err
	}
	if d, derr := os.Open(a.Dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return n, name, nil
}
