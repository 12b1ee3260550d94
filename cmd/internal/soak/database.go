package main

import (
	"crypto/rsa"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"

	"kasse/journal"
	"kasse/store"
)

// maintain stops SOAK1 while it is idle and changes its database the way a
// technician might: a backup copy, the file lost, or an older copy put back.
// The journal of the database that goes away is kept for the checks.
func (s *soak) maintain(r *reg, op string, rng *rand.Rand) {
	s.mu.Lock()
	s.quiet = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.quiet = false
		s.mu.Unlock()
	}()
	s.stopKassed(r)
	db := filepath.Join(r.data, "kasse.db")
	switch op {
	case "backup-db":
		to := filepath.Join(r.dir, fmt.Sprintf("backup-%d.db", len(r.backups)))
		if err := copyFile(db, to); err == nil {
			r.backups = append(r.backups, to)
		}
	case "lose-db":
		s.closeGeneration(r)
		os.Remove(db)
	case "restore-db":
		s.closeGeneration(r)
		if err := copyFile(r.backups[rng.IntN(len(r.backups))], db); err != nil {
			s.bad("%s: putting a backup back: %v", r.prefix, err)
		}
	}
	s.count(s.rep.ops, op)
	s.startKassed(r)
}

// generation is the journal of one database file.
type generation struct {
	sales   []store.Sale
	refunds []store.Refund
	journal []store.Entry // the electronic journal's cash transactions
}

// closeGeneration reads the journal of r's database (kassed stopped) from
// a copy, so that nothing the soak does can change the file.
func (s *soak) closeGeneration(r *reg) {
	db := filepath.Join(r.data, "kasse.db")
	tmp := filepath.Join(r.dir, "read.db")
	if err := copyFile(db, tmp); err != nil {
		if !os.IsNotExist(err) {
			s.bad("%s: copying kasse.db to read it: %v", r.prefix, err)
		}
		return
	}
	defer os.Remove(tmp)
	defer os.Remove(tmp + ".clean") // the clean-shutdown mark d.Close writes
	d, err := store.Open(tmp, store.Options{})
	if err != nil {
		s.bad("%s: reading kasse.db: %v", r.prefix, err)
		return
	}
	defer d.Close()
	var g generation
	if err := d.Sales(func(x store.Sale) error { g.sales = append(g.sales, x); return nil }); err != nil {
		s.bad("%s: reading the sales: %v", r.prefix, err)
	}
	if err := d.Refunds(store.Filter{}, func(x store.Refund) error { g.refunds = append(g.refunds, x); return nil }); err != nil {
		s.bad("%s: reading the refunds: %v", r.prefix, err)
	}
	// The journal's chain verifies with the register's key, in every
	// database the register had.
	v := journal.NewVerifier(map[string]*rsa.PublicKey{r.signer.KeyVersion(): r.signer.Public()})
	if err := d.Entries(0, func(e store.Entry) error {
		if e.IsTransaction() {
			g.journal = append(g.journal, e)
		}
		return v.Check(e)
	}); err != nil {
		s.bad("%s: the electronic journal: %v", r.prefix, err)
	}
	r.gens = append(r.gens, g)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
