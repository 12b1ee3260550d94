package store

// Benchmarks print the figures issue 4 asks for:
//
//	go test -run '^$' -bench . -benchtime 1x ./store/
//
// BenchmarkJournal builds a database of 1,000,000 sales once per run (set
// KASSE_BENCH_SALES to use another count, e.g. 100000 on a slow disk) and
// measures lookup by reference, Open (with Tx.Check), bytes per sale and
// export speed on it. -short skips it.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchSales is how many sales BenchmarkJournal stores.
func benchSales(b *testing.B) int {
	n := 1_000_000
	if v := os.Getenv("KASSE_BENCH_SALES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("KASSE_BENCH_SALES=%q: want a positive number of sales", v)
		}
	}
	return n
}

// buildJournal stores n captured, printed sales of OSLO1 lane 2 through the
// same code as PutSale, in large transactions so it takes seconds.
func buildJournal(b *testing.B, path string, n int) (tag string) {
	db, err := Open(path, Options{Rand: seeded(1)})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const batch = 50_000
	base := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	for done := 0; done < n; {
		err := db.update(func(tx *bolt.Tx) error {
			for i := 0; i < batch && done < n; i++ {
				ref, err := nextReference(tx, db.tag, "OSLO1", "2")
				if err != nil {
					return err
				}
				s := sale(ref, base.Add(time.Duration(done)*7*time.Second))
				s.State, s.VippsState, s.Printed = StateCaptured, "AUTHORIZED", true
				s.Authorized, s.Captured = s.Created.Add(9*time.Second), s.Created.Add(10*time.Second)
				if _, err := putSale(tx, s, s.Created.Add(11*time.Second)); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return db.InstanceTag()
}

func BenchmarkJournal(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a large database; drop -short to run")
	}
	n := benchSales(b)
	label := fmt.Sprintf("%dk", n/1000)
	if n%1_000_000 == 0 {
		label = fmt.Sprintf("%dM", n/1_000_000)
	}
	path := filepath.Join(b.TempDir(), "kasse.db")
	start := time.Now()
	tag := buildJournal(b, path, n)
	b.Logf("built %d sales in %v", n, time.Since(start).Round(time.Millisecond))

	b.Run("lookup", func(b *testing.B) {
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		rnd := rand.New(rand.NewPCG(1, 2))
		const lookups = 10_000 // per op, so -benchtime 1x still averages many
		b.ResetTimer()
		for range b.N {
			for range lookups {
				ref := "OSLO1-2-" + tag + "-" + strconv.Itoa(1+rnd.IntN(n))
				if _, err := db.Sale(ref); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N*lookups), "journal_lookup_"+label+"/us")
	})
	b.Run("open", func(b *testing.B) {
		for range b.N {
			db, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			db.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "open_"+label+"/ms")
	})
	b.Run("check", func(b *testing.B) {
		for range b.N {
			if err := check(context.Background(), path, time.Second, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "check_"+label+"/ms")
	})
	b.Run("size", func(b *testing.B) {
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		size, err := db.Size()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/float64(n), "bytes_per_sale/B")
		b.ReportMetric(float64(size)/(1<<20), "file_"+label+"/MiB")
	})
	b.Run("export", func(b *testing.B) {
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		rows := 0
		b.ResetTimer()
		for range b.N {
			r, err := db.Export(Filter{}, "csv", io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			rows += r
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "export_rows/rows_per_s")
	})
}
