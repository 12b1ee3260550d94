package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot is a file's bytes, mode and modification time, to show that Open
// left a refused file exactly as it was.
type snapshot struct {
	data  []byte
	mode  os.FileMode
	mtime time.Time
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	// An mtime in the past, so a write during the test cannot keep it.
	old := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path) // nil for a directory or an unreadable file
	return snapshot{data, fi.Mode(), fi.ModTime()}
}

func (s snapshot) same(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("after Open: %v", err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.Equal(data, s.data) || fi.Mode() != s.mode || !fi.ModTime().Equal(s.mtime) {
		t.Errorf("Open changed the refused file: %d bytes, mode %v, mtime %v; was %d bytes, mode %v, mtime %v",
			len(data), fi.Mode(), fi.ModTime(), len(s.data), s.mode, s.mtime)
	}
}

// recovery are the words every refusal of an existing file carries.
var recovery = []string{"nothing was changed", "stop kassed", "move kasse.db aside", "restore the latest backup"}

func mentionsAll(t *testing.T, err error, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// An empty kasse.db is a database whose contents are lost (a failed copy, a
// power cut while provisioning), not a place for a new one: replacing it
// would throw the journal away without a word.
func TestEmptyFileIsRefusedAndLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := snap(t, path)
	db, err := Open(path, Options{Rand: seeded(3)})
	if err == nil {
		db.Close()
		t.Fatalf("Open of an empty file succeeded (new instance tag %q): want a refusal", db.InstanceTag())
	}
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("Open of an empty file: %v, want ErrDamaged", err)
	}
	mentionsAll(t, err, append([]string{path, "empty"}, recovery...)...)
	before.same(t, path)
}

// A database cut short (a copy that ran out of space, an SD card) is damaged,
// whatever length it was cut to: the message says so and never blames
// permissions, and the process does not crash on pages past the end.
func TestTruncatedFileIsRefusedAndLeftAlone(t *testing.T) {
	dir := t.TempDir()
	// A small file keeps its freelist in the third page: cut after the two
	// meta pages, bbolt itself faults (SIGBUS) reading it.
	for _, sales := range []int{3, 200} {
		full := filepath.Join(dir, fmt.Sprintf("full-%d.db", sales))
		writeSales(t, full, sales)
		data, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{4096, 8192, 12288, 16384} {
			path := filepath.Join(dir, "kasse.db")
			if err := os.WriteFile(path, data[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			before := snap(t, path)
			db, err := Open(path, Options{Rand: seeded(3)})
			if err == nil {
				db.Close()
				t.Errorf("%d sales cut to %d bytes: Open succeeded, want a refusal", sales, n)
				continue
			}
			if !errors.Is(err, ErrDamaged) {
				t.Errorf("%d sales cut to %d bytes: Open = %v, want ErrDamaged", sales, n, err)
			}
			mentionsAll(t, err, append([]string{path, "truncated"}, recovery...)...)
			for _, wrong := range []string{"permission", "may write", "may read"} {
				if strings.Contains(err.Error(), wrong) {
					t.Errorf("%d sales cut to %d bytes: error %q blames permissions", sales, n, err)
				}
			}
			before.same(t, path)
		}
	}
}

// A path kassed cannot read as a file is refused as it is.
func TestUnreadableFileIsRefusedAndLeftAlone(t *testing.T) {
	t.Run("directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "kasse.db")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		before := snap(t, path)
		if db, err := Open(path, Options{}); err == nil {
			db.Close()
			t.Fatal("Open of a directory succeeded")
		} else {
			mentionsAll(t, err, path, "not a regular file")
		}
		before.same(t, path)
	})
	t.Run("no read permission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		path := filepath.Join(t.TempDir(), "kasse.db")
		writeSales(t, path, 3)
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		before := snap(t, path)
		if db, err := Open(path, Options{}); err == nil {
			db.Close()
			t.Fatal("Open of an unreadable file succeeded")
		} else {
			mentionsAll(t, err, path, "chmod 600", "nothing was changed")
		}
		before.same(t, path)
	})
}

// A missing file is the one case Open creates a database, and it says so.
func TestMissingFileIsCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db := openT(t, path, Options{})
	if !db.Created() {
		t.Error("Created() = false for a new file")
	}
	db.Close()
	db = openT(t, path, Options{})
	if db.Created() {
		t.Error("Created() = true for an existing file")
	}
}
