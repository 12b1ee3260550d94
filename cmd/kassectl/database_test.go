package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fileState is a file's bytes and modification time.
type fileState struct {
	data  []byte
	mtime time.Time
}

func stateOf(t *testing.T, path string) fileState {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileState{data, fi.ModTime()}
}

// emptyDatabase puts a 0-byte kasse.db in data, with an mtime in the past so
// any write shows.
func emptyDatabase(t *testing.T, data string) (string, fileState) {
	t.Helper()
	if err := os.MkdirAll(data, 0o750); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(data, "kasse.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(db, old, old); err != nil {
		t.Fatal(err)
	}
	return db, stateOf(t, db)
}

func sameFile(t *testing.T, path string, before fileState) {
	t.Helper()
	after := stateOf(t, path)
	if !bytes.Equal(after.data, before.data) || !after.mtime.Equal(before.mtime) {
		t.Errorf("%s was changed: %d bytes, mtime %v; was %d bytes, mtime %v",
			path, len(after.data), after.mtime, len(before.data), before.mtime)
	}
}

// A 0-byte kasse.db (a failed copy, a power cut) is a lost journal: neither
// kassed nor kassectl init may replace it with a fresh database.
func TestEmptyDatabaseIsRefused(t *testing.T) {
	bin := build(t)
	t.Run("kassed", func(t *testing.T) {
		cfg, data := shop(t, freePort(t), 0o600, "123456")
		db, before := emptyDatabase(t, data)
		// Today's kassed starts on it and runs: the timeout ends that.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin.kassed, "--config", cfg, "--sim").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "empty") || !strings.Contains(string(out), "restore the latest backup") {
			t.Errorf("kassed on an empty kasse.db: err %v, output %q; want a refusal saying it is empty and what to do", err, out)
		}
		sameFile(t, db, before)
	})
	t.Run("kassectl init", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		db, before := emptyDatabase(t, data)
		out, err := ctl(t, bin.kassectl, data, "init")
		if err == nil || strings.Contains(out, "checked") || !strings.Contains(out, "empty") {
			t.Errorf("kassectl init on an empty kasse.db: err %v, output %q; want a refusal saying it is empty", err, out)
		}
		sameFile(t, db, before)
	})
}

// kassectl init creates a missing database, and a second run checks it.
func TestInitCreatesThenChecks(t *testing.T) {
	bin := build(t)
	data := filepath.Join(t.TempDir(), "data")
	out, err := ctl(t, bin.kassectl, data, "init")
	tag := regexp.MustCompile(`instance tag ([a-z0-9]{4})`)
	m := tag.FindStringSubmatch(out)
	if err != nil || !strings.HasPrefix(out, "created ") || m == nil {
		t.Fatalf("first kassectl init: err %v, output %q", err, out)
	}
	out, err = ctl(t, bin.kassectl, data, "init")
	if m2 := tag.FindStringSubmatch(out); err != nil || !strings.HasPrefix(out, "checked ") || m2 == nil || m2[1] != m[1] {
		t.Fatalf("second kassectl init: err %v, output %q; want checked, tag %s", err, out, m[1])
	}
}
