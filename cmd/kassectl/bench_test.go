package main

// Process benchmarks of issue 9, on a database of KASSE_BENCH_SALES sales
// (1,000,000 unless set; built once and cached, see Journal):
//
//	ready_1M_warm ms, ready_1M_cold ms   exec of kassed --sim to its control
//	                                     socket answering status, median
//	ready_1M_rss MiB                     kassed's VmRSS then
//	journal_1M_kassed_peak_rss MiB       peaks of a full kassectl journal
//	journal_1M_kassectl_peak_rss MiB     (table) to /dev/null
//
// go test -run '^$' -bench . -benchtime 1x ./cmd/kassectl/

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/payment/paymenttest"
)

// benchSales is KASSE_BENCH_SALES, 1,000,000 by default, and its label in
// the figures' names, as store's BenchmarkJournal spells it.
func benchSales(b *testing.B) (int, string) {
	n := 1_000_000
	if v := os.Getenv("KASSE_BENCH_SALES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("KASSE_BENCH_SALES=%q: want a positive number of sales", v)
		}
	}
	label := fmt.Sprintf("%dk", n/1000)
	if n%1_000_000 == 0 {
		label = fmt.Sprintf("%dM", n/1_000_000)
	}
	return n, label
}

// benchShop is vippssim and a kassed config whose kasse.db is the cached
// journal (a symbolic link: nothing is copied, and kassed writes nothing
// when it only starts, serves the journal and stops).
type benchShop struct {
	b         *testing.B
	bin       binaries
	cfg, data string
	db        string // the cached file
}

func newBenchShop(b *testing.B, n int) *benchShop {
	return newBenchShopAs(b, n, config.Store{Prefix: "BERGEN", Lane: "7", Name: "Butikken Bergen", OrgNumber: "987654325"})
}

// newBenchShopAs is newBenchShop with kassed configured as register st.
func newBenchShopAs(b *testing.B, n int, st config.Store) *benchShop {
	db := paymenttest.Journal(b, n)
	bin := build(b)
	addr := freePort(b)
	start(b, bin.vippssim, "--listen", addr, "--msn", "123456", "--client-id", clientID,
		"--client-secret", "s3cret-value", "--subscription-key", "sub-key")
	cfg, data := shopAs(b, addr, 0o600, "123456", st)
	if err := control.MakeDataDir(data); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(db, filepath.Join(data, "kasse.db")); err != nil {
		b.Fatal(err)
	}
	s := &benchShop{b: b, bin: bin, cfg: cfg, data: data, db: db}
	// One start and clean stop first: the cached file was last closed
	// under its build name, so this start runs the full check, and its
	// stop leaves the clean-shutdown mark the measured starts use.
	k, _ := s.ready()
	k.stop()
	return s
}

// kassed is a running kassed of the bench.
type kassed struct {
	cmd *exec.Cmd
	log *strings.Builder
	b   *testing.B
}

func (k *kassed) stop() {
	k.cmd.Process.Signal(syscall.SIGTERM)
	if err := k.cmd.Wait(); err != nil {
		k.b.Fatalf("kassed: %v\n%s", err, k.log)
	}
}

// ready starts kassed and returns when its control socket answers status,
// as a fleet manager's kassectl status would see it, and how long that took.
func (s *benchShop) ready() (*kassed, time.Duration) {
	k := &kassed{cmd: exec.Command(s.bin.kassed, "--config", s.cfg, "--sim"), log: &strings.Builder{}, b: s.b}
	k.cmd.Stderr = k.log
	c := control.NewClient(filepath.Join(s.data, "kassed.sock"))
	began := time.Now()
	if err := k.cmd.Start(); err != nil {
		s.b.Fatal(err)
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Status(ctx)
		cancel()
		if err == nil {
			return k, time.Since(began)
		}
		if time.Since(began) > 5*time.Minute {
			k.cmd.Process.Kill()
			s.b.Fatalf("kassed not ready after 5 minutes: %v\n%s", err, k.log)
		}
		time.Sleep(time.Millisecond)
	}
}

// dropCache drops path's pages from the page cache, as after a reboot.
func dropCache(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		b.Fatal(err)
	}
}

// procKiB reads a "VmRSS:    1234 kB" line of /proc/PID/status.
func procKiB(b *testing.B, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatalf("/proc/%d/status %s: %v", pid, field, err)
			}
			return kib
		}
	}
	b.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// hwm reads a running process's VmHWM in KiB; false once it has exited.
// waitPeak waits for the started cmd and returns its peak RSS in KiB,
// sampled from its VmHWM while it runs: the rusage Maxrss that wait4
// reports also counts the test binary's peak, because Go starts a child
// with vfork (CLONE_VM) and the kernel records the parent's high-water
// mark at exec.
func waitPeak(cmd *exec.Cmd) (peak float64, err error) {
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return peak, err
		case <-tick.C:
			if v, ok := hwm(cmd.Process.Pid); ok {
				peak = max(peak, v)
			}
		}
	}
}

func hwm(pid int) (float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kib, err == nil
		}
	}
	return 0, false
}

func median(d []float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkReady(b *testing.B) {
	n, label := benchSales(b)
	s := newBenchShop(b, n)
	const runs = 5
	for range b.N {
		for _, cold := range []bool{false, true} {
			var ms, rss []float64
			for range runs {
				if cold {
					dropCache(b, s.db)
					dropCache(b, s.bin.kassed)
				}
				k, took := s.ready()
				rss = append(rss, procKiB(b, k.cmd.Process.Pid, "VmRSS")/1024)
				k.stop()
				if !strings.Contains(k.log.String(), "light check") {
					b.Errorf("kassed ran the full check on a cleanly closed file:\n%s", k.log)
				}
				ms = append(ms, float64(took.Microseconds())/1000)
			}
			if cold {
				b.ReportMetric(median(ms), "ready_"+label+"_cold/ms")
			} else {
				b.ReportMetric(median(ms), "ready_"+label+"_warm/ms")
				b.ReportMetric(median(rss), "ready_"+label+"_rss/MiB")
			}
		}
	}
}

func BenchmarkJournalPeakRSS(b *testing.B) {
	n, label := benchSales(b)
	s := newBenchShop(b, n)
	for range b.N {
		k, _ := s.ready()
		pid := k.cmd.Process.Pid
		// Writing 5 to clear_refs resets VmHWM to the current RSS, so the
		// peak is the journal's; where it cannot, the peak since start.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Logf("cannot reset kassed's VmHWM (%v): its peak since start is reported", err)
		}
		ctlCmd := exec.Command(s.bin.kassectl, "--data", s.data, "journal")
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		var stderr strings.Builder
		ctlCmd.Stdout, ctlCmd.Stderr = devnull, &stderr
		if err := ctlCmd.Start(); err != nil {
			b.Fatal(err)
		}
		ctlPeak, err := waitPeak(ctlCmd)
		devnull.Close()
		if err != nil {
			b.Fatalf("kassectl journal: %v\n%s", err, stderr.String())
		}
		kassedPeak := procKiB(b, pid, "VmHWM") / 1024
		k.stop()
		ctlPeak /= 1024
		b.ReportMetric(kassedPeak, "journal_"+label+"_kassed_peak_rss/MiB")
		b.ReportMetric(ctlPeak, "journal_"+label+"_kassectl_peak_rss/MiB")
	}
}
