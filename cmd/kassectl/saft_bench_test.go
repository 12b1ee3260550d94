package main

// The SAF-T export of a journal of 100,000 sales, the size the issue
// names (fewer when KASSE_BENCH_SALES is smaller), built by the payment engine and signed as the product
// signs it (paymenttest.Journal), through a real kassed and kassectl:
//
//	saft_export_rows_per_s rows/s        events and cash transactions
//	                                     written per second, wall clock
//	                                     of kassectl export saft
//	saft_export_peak_rss MiB             kassectl's peak (VmHWM, sampled)
//	saft_export_kassed_peak_rss MiB      kassed's peak during the export
//	                                     (VmHWM reset first where allowed)
//
// go test -run '^$' -bench SAFT -benchtime 1x ./cmd/kassectl/

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/config"
	"kasse/journal"
	"kasse/journal/saft"
	"kasse/payment/paymenttest"
)

var wroteRows = regexp.MustCompile(`: (\d+) events and cash transactions`)

func BenchmarkSAFTExport(b *testing.B) {
	n, _ := benchSales(b)
	n = min(n, 100_000)
	// The register paymenttest's journal is of.
	s := newBenchShopAs(b, n, config.Store{Prefix: "OSLO1", Lane: "2", Name: "Butikken Oslo S", OrgNumber: "987654325",
		Lines: []string{"Jernbanetorget 1, 0154 Oslo"}, TaxRate: 2500})
	for range b.N {
		k, _ := s.ready()
		pid := k.cmd.Process.Pid
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Logf("cannot reset kassed's VmHWM (%v): its peak since start is reported", err)
		}
		out := b.TempDir()
		ctl := exec.Command(s.bin.kassectl, "--data", s.data, "export", "saft", "--from", "2000-01-01",
			"--to", time.Now().Format(time.DateOnly), "-o", out)
		var stderr strings.Builder
		ctl.Stderr = &stderr
		began := time.Now()
		if err := ctl.Start(); err != nil {
			b.Fatal(err)
		}
		peak, err := waitPeak(ctl)
		took := time.Since(began)
		if err != nil {
			b.Fatalf("kassectl export saft: %v\n%s", err, stderr.String())
		}
		kassedPeak := procKiB(b, pid, "VmHWM") / 1024
		k.stop()
		m := wroteRows.FindStringSubmatch(stderr.String())
		if m == nil {
			b.Fatalf("kassectl export saft said %q", stderr.String())
		}
		rows, _ := strconv.Atoi(m[1])
		if rows < n {
			b.Fatalf("%d rows exported from a journal of %d sales", rows, n)
		}
		// The file is the product's: every signature verifies.
		files, _ := filepath.Glob(filepath.Join(out, "SAF-T Cash Register_*.xml"))
		if len(files) != 1 {
			b.Fatalf("export wrote %v", files)
		}
		verify(b, files[0], paymenttest.PublicKeyFile(s.db), n)
		b.ReportMetric(float64(rows)/took.Seconds(), "saft_export_rows_per_s/rows/s")
		b.ReportMetric(peak/1024, "saft_export_peak_rss/MiB")
		b.ReportMetric(kassedPeak, "saft_export_kassed_peak_rss/MiB")
	}
}

func verify(b *testing.B, file, pubFile string, n int) {
	pem, err := os.ReadFile(pubFile)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := journal.PublicKeys(pem)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if got, err := saft.Verify(f, keys); err != nil || got != n {
		b.Fatalf("verified %d of %d transactions: %v", got, n, err)
	}
}
