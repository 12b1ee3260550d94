package store

import (
	"errors"
	"fmt"
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

// check opens path read-only (so nothing is written, not even a freelist)
// and runs bbolt's consistency check over every page.
func check(path string, timeout time.Duration) error {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return openError(path, timeout, err)
	}
	defer bdb.Close()

	var problems []string
	n := 0
	err = bdb.View(func(tx *bolt.Tx) error {
		for cerr := range tx.Check() {
			n++
			if n <= maxReported {
				problems = append(problems, cerr.Error())
			}
		}
		return nil
	})
	if err != nil {
		return damaged(path, err.Error())
	}
	if n > 0 {
		if n > maxReported {
			problems = append(problems, fmt.Sprintf("and %d more", n-maxReported))
		}
		return damaged(path, strings.Join(problems, "; "))
	}
	return nil
}

func damaged(path, detail string) error {
	name := filepath.Base(path)
	return fmt.Errorf("database %s: %w (%s); nothing was changed: stop kassed, move %s aside, "+
		"restore the latest backup or run kassed to create a new one; "+
		"references stay unique because the instance tag changes", path, ErrDamaged, detail, name)
}

// openError turns bbolt's open errors into ones that say what to do.
func openError(path string, timeout time.Duration, err error) error {
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return fmt.Errorf("database %s: %w: another process held it for %s (is kassed already running?): "+
			"stop the other kassed or wait for it to exit: %w", path, ErrLocked, timeout, err)
	case errors.Is(err, bolt.ErrChecksum):
		return damaged(path, err.Error())
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrVersionMismatch):
		return fmt.Errorf("database %s: %w (%v): check the path (data_dir), or move the file aside "+
			"so kassed creates a new database", path, ErrNotDatabase, err)
	}
	return fmt.Errorf("database %s: %w: check that data_dir exists and kassed may write it", path, err)
}
