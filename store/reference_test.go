package store

import (
	"os"
	"path/filepath"
	"testing"
)

// A database restored from an older copy has counters that were used
// since the copy was made. References drawn after the restore must still be
// new (issue 7, bug 1: a restored kasse.db re-used -29 and -30).
func TestRestoredCopyNeverRepeatsReferences(t *testing.T) {
	dir := t.TempDir()
	path, backup := filepath.Join(dir, "kasse.db"), filepath.Join(dir, "backup.db")
	issued := map[string]bool{}
	draw := func(n int) {
		t.Helper()
		db, err := Open(path, Options{}) // as kassed opens it: crypto/rand
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for range n {
			ref, err := db.NextReference("OSLO1", "2")
			if err != nil {
				t.Fatal(err)
			}
			if issued[ref] {
				t.Fatalf("reference %s issued twice", ref)
			}
			issued[ref] = true
		}
	}
	draw(3)
	copyFile(t, path, backup)
	draw(2) // the sales made after the backup
	for range 5 {
		copyFile(t, backup, path) // the backup put back, again and again
		draw(2)
	}
	draw(1) // and a plain restart
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
