package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startCheck opens path and reports which check Open ran.
func startCheck(t *testing.T, path string) StartCheck {
	t.Helper()
	db, err := Open(path, Options{Rand: seeded(2), Now: newClock().Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	sc := db.StartCheck()
	if _, err := os.Stat(markPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the clean-shutdown mark is still there while the file is open for writing (%v)", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return sc
}

func wantCheck(t *testing.T, sc StartCheck, full bool, reason string) {
	t.Helper()
	if sc.Full != full || !strings.Contains(sc.Reason, reason) {
		t.Errorf("start check %q (full %v), want full %v because %q", sc, sc.Full, full, reason)
	}
}

// After a clean Close the next Open reads only what a start needs; a new
// file was checked whole (it is tiny).
func TestCleanCloseSkipsTheFullCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	db, err := Open(path, Options{Rand: seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	wantCheck(t, db.StartCheck(), true, "new file")
	db.Close()
	writeSales(t, path, 40)
	wantCheck(t, startCheck(t, path), false, "as the last clean stop left it")
	wantCheck(t, startCheck(t, path), false, "as the last clean stop left it")
}

// A crash leaves no mark (Open removed it before writing), so the next
// Open reads every page.
func TestCrashLeadsToAFullCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 10)
	db, err := Open(path, Options{Rand: seeded(2)})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := db.NextReference("OSLO1", "2")
	if err := db.PutSale(sale(ref, time.Now())); err != nil {
		t.Fatal(err)
	}
	db.bolt.Close() // the process dies: the lock goes, no mark is written
	wantCheck(t, startCheck(t, path), true, "did not stop cleanly")
	wantCheck(t, startCheck(t, path), false, "clean stop")
}

// Anything done to the file after a clean stop, even writing back the
// same bytes, makes the mark stale: full check.
func TestFileChangedAfterCleanCloseIsCheckedFully(t *testing.T) {
	for name, change := range map[string]func(t *testing.T, path string){
		"same bytes written back": func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"mtime changed": func(t *testing.T, path string) {
			old := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
			os.Chtimes(path, old, old)
		},
		"restored from a copy": func(t *testing.T, path string) {
			b, _ := os.ReadFile(path)
			os.WriteFile(path+".bak", b, 0o600)
			if err := os.Rename(path+".bak", path); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kasse.db")
			writeSales(t, path, 10)
			change(t, path)
			wantCheck(t, startCheck(t, path), true, "does not match")
		})
	}
}

// A mark that is junk, or the mark of another file, is no mark.
func TestJunkOrForeignMarkLeadsToAFullCheck(t *testing.T) {
	dir := t.TempDir()
	path, other := filepath.Join(dir, "kasse.db"), filepath.Join(dir, "other.db")
	writeSales(t, path, 10)
	writeSales(t, other, 10)
	for name, mark := range map[string][]byte{
		"junk":           bytes.Repeat([]byte{0xA5}, 5000),
		"empty":          nil,
		"another file's": func() []byte { b, _ := os.ReadFile(markPath(other)); return b }(),
	} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(markPath(path), mark, 0o600); err != nil {
				t.Fatal(err)
			}
			wantCheck(t, startCheck(t, path), true, "does not match")
		})
	}
}

// damageSalesRoot writes junk over the sales bucket's root page.
func damageSalesRoot(t *testing.T, path string) {
	t.Helper()
	page, size := salesRootPage(t, path)
	garbage := make([]byte, size)
	_, _ = seeded(7).Read(garbage)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(garbage, int64(page)*int64(size)); err != nil {
		t.Fatal(err)
	}
}

// Junk written into a cleanly closed file: the full check finds it, and
// the file is refused unchanged.
func TestDamageAfterCleanCloseIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 40)
	damageSalesRoot(t, path)
	before := snap(t, path)
	db, err := Open(path, Options{Rand: seeded(2)})
	if err == nil {
		db.Close()
		t.Fatal("Open of a damaged file succeeded")
	}
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v, want ErrDamaged", err)
	}
	mentionsAll(t, err, append([]string{path, "damaged"}, recovery...)...)
	before.same(t, path)
}

// Damage the mark cannot see (bit rot under an unchanged mark, forged
// here) in a page every start reads: the light check refuses the file,
// unchanged, even though bbolt panics on such a page.
func TestLightCheckRefusesADamagedStartPage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 40)
	damageSalesRoot(t, path)
	if err := writeMark(path); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	db, err := Open(path, Options{Rand: seeded(2)})
	if err == nil {
		db.Close()
		t.Fatal("Open of a damaged file succeeded")
	}
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v, want ErrDamaged", err)
	}
	// The light check's words: the full check would say "panic: …".
	mentionsAll(t, err, append([]string{path, "damaged", "reading it failed"}, recovery...)...)
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Open changed the damaged file")
	}
}

// Check reads the whole file with progress, and finds what Open finds.
func TestCheckOnDemand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 200)
	var last, total int64
	calls := 0
	err := Check(context.Background(), path, func(done, of int64) { last, total = done, of; calls++ })
	if err != nil || calls == 0 || last != total || total == 0 {
		t.Fatalf("Check of a good file: %v after %d progress calls, %d of %d bytes", err, calls, last, total)
	}

	db := openT(t, path, Options{})
	calls = 0
	if err := db.Check(context.Background(), func(done, of int64) { calls++ }); err != nil || calls == 0 {
		t.Fatalf("DB.Check of a good file: %v after %d progress calls", err, calls)
	}
	// Locked by the open DB: Check says so instead of waiting.
	if err := Check(context.Background(), path, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("Check of a file kassed holds: %v, want ErrLocked", err)
	}
	db.Close()

	damageSalesRoot(t, path)
	before := snap(t, path)
	if err := Check(context.Background(), path, nil); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
		t.Errorf("Check of a damaged file: %v, want ErrDamaged naming the file", err)
	}
	before.same(t, path)
}

// A change by another process while the file is open (a tool, junk
// written into it) is not vouched for at Close: no mark, full check.
func TestChangeWhileOpenGetsNoMark(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kasse.db")
	writeSales(t, path, 10)
	db, err := Open(path, Options{Rand: seeded(2)})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := db.NextReference("OSLO1", "2")
	if err := db.PutSale(sale(ref, time.Now())); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)             // past the kernel's coarse clock tick
	if err := os.Chmod(path, 0o600); err != nil { // changes nothing but the change time
		t.Fatal(err)
	}
	if err := db.Close(); err == nil || !strings.Contains(err.Error(), "changed by another process") {
		t.Errorf("Close after an outside change: %v, want it said", err)
	}
	if _, err := os.Stat(markPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a clean-shutdown mark was written over an outside change (%v)", err)
	}
	wantCheck(t, startCheck(t, path), true, "did not stop cleanly")
}
