package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kasse/cmd/internal/config"
	"kasse/store"
)

// Each start journals itself; an update and a changed configuration are
// journaled at the start that finds them, naming what changed.
func TestJournalStartRecordsUpdatesAndConfigChanges(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "kasse.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Config{Store: config.Store{Prefix: "OSLO1", Lane: "2", Name: "Butikken"},
		Keys: config.Keys{Cashiers: []config.Cashier{{ID: "7", PINHash: "$argon2id$secret"}}}}
	next := uint64(1)
	starts := func(version string, cfg config.Config) string {
		t.Helper()
		if err := journalStart(db, cfg, version); err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := db.Entries(next, func(e store.Entry) error {
			got = append(got, strings.TrimSpace(strconv.Itoa(e.Code)+" "+e.Text))
			next = e.Seq + 1
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return strings.Join(got, "\n")
	}
	if got := starts("1.0", cfg); !strings.HasPrefix(got, "13001 kassed 1.0 started\n13999 configuration as of this start: [") {
		t.Fatalf("the first start journaled:\n%s", got)
	}
	if got := starts("1.0", cfg); got != "13001 kassed 1.0 started" {
		t.Fatalf("a start with nothing changed journaled:\n%s", got)
	}
	cfg.Store.Name = "Butikken AS"
	if got, want := starts("1.1", cfg), "13001 kassed 1.1 started\n13007 kassed updated from 1.0 to 1.1\n13999 configuration changed: [store]"; got != want {
		t.Fatalf("after an update and a new store name:\n%s\nwant\n%s", got, want)
	}
	// A new PIN is a change of [keys], journaled without the hash.
	cfg.Keys.Cashiers[0].PINHash = "$argon2id$another"
	if got, want := starts("1.1", cfg), "13001 kassed 1.1 started\n13999 configuration changed: [keys]"; got != want {
		t.Fatalf("after a new PIN:\n%s\nwant\n%s", got, want)
	}
	if v, _, _ := db.Setting(settingConfig); strings.Contains(v, "argon2id") || strings.Contains(v, "another") {
		t.Fatal("a PIN hash is kept in the database")
	}
}
