package store

// Benchmarks print the figures issue 4 asks for:
//
//	go test -run '^$' -bench . -benchtime 1x ./store/
//
// BenchmarkJournal builds a database of 1,000,000 sales once per run (set
// KASSE_BENCH_SALES to use another count, e.g. 100000 on a slow disk) the
// way the till writes them (see buildJournal), and measures lookup by
// reference, Open (with Tx.Check), bytes per sale and export speed on it.
// -short skips it.

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
		logLayout(b, db, n)
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
