package control

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"kasse/store"
)

// ArchiveReply is the answer to POST /v1/journal/archive.
type ArchiveReply struct {
	Archived int    `json:"archived"`
	File     string `json:"file,omitempty"`
}

func filter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	since, err := parseTime(q.Get("since"))
	if err != nil {
		return store.Filter{}, err
	}
	if st := q.Get("store"); st != "" {
		if err := store.CheckPrefix(st); err != nil {
			return store.Filter{}, err
		}
	}
	return store.Filter{Since: since, Store: q.Get("store")}, nil
}

// parseTime takes a date (local midnight) or an RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: use 2026-01-31 or 2026-01-31T15:04:05+01:00", s)
	}
	return t, nil
}

// archives are the compressed journal files `kassectl journal archive`
// writes, oldest first by name.
type archives struct{ dir string }

func (a archives) files() ([]string, error) {
	if a.dir == "" {
		return nil, nil
	}
	m, err := filepath.Glob(filepath.Join(a.dir, "journal-*.jsonl.gz"))
	sort.Strings(m)
	return m, err
}

func (a archives) read(f store.Filter, fn func(store.Sale) error) error {
	files, err := a.files()
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := withFile(name, func(r io.Reader) error { return store.ReadArchive(r, f, fn) }); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// rows calls fn for every row of the archives and the live journal j that
// f selects, merged into one time order.
func (a archives) rows(j Journal, f store.Filter, fn func(store.Row) error) error {
	files, err := a.files()
	if err != nil {
		return err
	}
	var sources []func(func(store.Row) error) error
	for _, name := range files {
		sources = append(sources, func(fn func(store.Row) error) error {
			return withFile(name, func(r io.Reader) error { return store.ArchiveRows(r, f, fn) })
		})
	}
	sources = append(sources, func(fn func(store.Row) error) error { return j.Rows(f, fn) })
	return store.MergeRows(sources, fn)
}

func withFile(name string, fn func(io.Reader) error) error {
	fh, err := os.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	return fn(fh)
}

// write archives the final sales created before `before` into a new file,
// made durable (file and directory synced) before the sales leave bbolt.
func (a archives) write(j Journal, before time.Time) (int, string, error) {
	if a.dir == "" {
		return 0, "", errors.New("no archive directory configured")
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return 0, "", err
	}
	name := filepath.Join(a.dir, fmt.Sprintf("journal-%s-%d.jsonl.gz", before.Format("20060102"), time.Now().UnixNano()))
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
	if d, derr := os.Open(a.dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return n, name, nil
}
