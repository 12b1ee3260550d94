package store

import bolt "go.etcd.io/bbolt"

// releaseRows is how many rows a long read hands out between releases of
// the mapped pages. Each random read maps not one page but the kernel's
// fault-around window (64 KiB), so the rows between releases must be few:
// 256 rows, one batch of Journal, keep the peak near 16 MiB.
const releaseRows = 256

// mappedRelease keeps a long read's footprint in kassed's RSS small: bbolt
// maps the whole file, and every page a read touches counts in the
// process's RSS until it is unmapped (2.4 GB for a journal of 1M sales,
// on a Pi with 512 MB of RAM). Every releaseRows rows it drops the mapped
// pages (releaseMapped); they stay in the page cache.
type mappedRelease struct {
	db *bolt.DB
	n  int
}

func (db *DB) newRelease() *mappedRelease { return &mappedRelease{db: db.bolt} }

// tick counts a row. It must not run inside a transaction of this
// goroutine (it opens one, and bbolt's read lock does not nest safely).
func (r *mappedRelease) tick() {
	if r.n++; r.n%releaseRows == 0 {
		r.now()
	}
}

// now releases in a read transaction of its own: that holds bbolt's mmap
// lock, so the mapping cannot move under the release, and the
// transaction's size (its high-water mark) lies inside the mapping.
func (r *mappedRelease) now() {
	_ = r.db.View(func(tx *bolt.Tx) error {
		releaseMapped(r.db.Info().Data, tx.Size())
		return nil
	})
}
