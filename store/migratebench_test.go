//go:build linux

package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

// writeSchema2 writes a schema 2 file of n captured, printed sales as the
// old code laid them out (format 1 records under the reference's text, both
// indexes), in large transactions so that it takes seconds.
func writeSchema2(tb testing.TB, path string, n int) {
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	base := time.Now().Add(-time.Duration(n) * time.Minute)
	const batch = 20_000
	for done := 0; done < n; {
		err := bdb.Update(func(tx *bolt.Tx) error {
			if done == 0 {
				for _, name := range append(old2, bucketMeta, bucketCounters, bucketRefunds, bucketRefundsByTime,
					bucketRefundsByRef, bucketOutbox, bucketOutboxByRef, bucketPrint, bucketPrintByRef, bucketSettings) {
					if _, err := tx.CreateBucket(name); err != nil {
						return err
					}
				}
				meta := tx.Bucket(bucketMeta)
				if err := meta.Put(keySchema, binary.BigEndian.AppendUint64(nil, 2)); err != nil {
					return err
				}
				if err := meta.Put(keyInstance, []byte("k7f3")); err != nil {
					return err
				}
			}
			sales, byTime, byStore := tx.Bucket(schema2Sales), tx.Bucket(schema2SalesByTime), tx.Bucket(schema2SalesByStore)
			sales.FillPercent, byTime.FillPercent, byStore.FillPercent = appendFill, appendFill, appendFill
			for i := 0; i < batch && done < n; i++ {
				done++
				ref := Reference{Prefix: "OSLO1", Lane: "2", Tag: "k7f3", N: uint64(done)}.String()
				at := base.Add(time.Duration(done)*time.Minute + time.Duration(done%1e9))
				s := Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: int64(100 + done%5000), Currency: "NOK"},
					State: StateCaptured, VippsState: "AUTHORIZED", Created: at, Updated: at.Add(12 * time.Second),
					Authorized: at.Add(9 * time.Second), Captured: at.Add(11 * time.Second), Ended: at.Add(11 * time.Second), Printed: true}
				if err := sales.Put([]byte(ref), encodeV1(tb, s)); err != nil {
					return err
				}
				if err := byTime.Put(timeKey(at, []byte(ref)), nil); err != nil {
					return err
				}
				if err := byStore.Put(storeKey("OSLO1", at, []byte(ref)), nil); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketCounters).Put([]byte("OSLO1-2"), binary.BigEndian.AppendUint64(nil, uint64(done)))
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkMigrate times the 2→3 migration of a file of KASSE_BENCH_SALES
// sales (default 1,000,000) and its peak memory, in a process of its own
// (TestMigrateChild) so that building the file does not count.
func BenchmarkMigrate(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a large database; drop -short to run")
	}
	n := benchSales(b)
	label := fmt.Sprintf("%dk", n/1000)
	if n%1_000_000 == 0 {
		label = fmt.Sprintf("%dM", n/1_000_000)
	}
	path := filepath.Join(b.TempDir(), "kasse.db")
	writeSchema2(b, path, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrateChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "KASSE_MIGRATE_FILE="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("migrating: %v\n%s", err, out)
	}
	b.StopTimer()
	after, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", out)
	b.Logf("file %d MiB before, %d MiB after", fi.Size()>>20, after.Size()>>20)
	b.ReportMetric(float64(b.Elapsed().Milliseconds()), "migrate_"+label+"/ms")
	b.ReportMetric(float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, "migrate_"+label+"_peak_rss/MiB")
	m := regexp.MustCompile(`peak_anon_kib=(\d+)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("the child did not say its peak: %s", out)
	}
	kib, _ := strconv.Atoi(string(m[1]))
	b.ReportMetric(float64(kib)/1024, "migrate_"+label+"_peak_anon/MiB")
}

// TestMigrateChild opens KASSE_MIGRATE_FILE, migrating it, for
// BenchmarkMigrate; without it set it has nothing to do.
func TestMigrateChild(t *testing.T) {
	path := os.Getenv("KASSE_MIGRATE_FILE")
	if path == "" {
		t.Skip("run by BenchmarkMigrate")
	}
	// Peak RSS counts the file's pages the kernel mapped in, which it can
	// drop again; the anonymous part is what a 512 MB Pi must have.
	stop := make(chan struct{})
	peak := make(chan int64)
	go func() {
		var max int64
		for {
			if kb := rssAnon(t); kb > max {
				max = kb
			}
			select {
			case <-stop:
				peak <- max
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	db, err := Open(path, Options{})
	took := time.Since(start)
	close(stop)
	anon := <-peak
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak_anon_kib=%d", anon)
	n := 0
	if err := db.Sales(func(Sale) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Open with migration: %v; %d sales read back", took.Round(time.Millisecond), n)
}

// rssAnon is the process's anonymous resident memory in KiB.
func rssAnon(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`RssAnon:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no RssAnon in /proc/self/status")
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb
}
