package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkFsyncsPerSale counts the syscalls that force kasse.db to the
// card while a real kassed makes sales one after another (keyed through
// kassectl, approved by vippssim, printed): strace attached to every thread
// of the running kassed, from the end of a first sale to the end of the
// last, so each counted sale also carries the printed mark of the one
// before it. Counted, not assumed: whatever bbolt or the Go runtime does.
func BenchmarkFsyncsPerSale(b *testing.B) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		b.Fatal("strace is missing: make bench installs it (apt-get install strace)")
	}
	bin := build(b)
	addr := freePort(b)
	start(b, bin.vippssim, "--listen", addr, "--msn", "123456", "--client-id", clientID,
		"--client-secret", "s3cret-value", "--subscription-key", "sub-key", "--auto-approve", "200ms")
	cfg, data := shop(b, addr, 0o600, "123456")
	kassed := start(b, bin.kassed, "--config", cfg, "--sim")
	sale := func() {
		if out, err := ctl(b, bin.kassectl, data, "key", "1", "2", "5", "0", "0", "pay"); err != nil {
			b.Fatalf("kassectl key: %v: %s", err, out)
		}
		eventually(b, "the paid screen and an empty print queue", func() bool {
			out, err := ctl(b, bin.kassectl, data, "status", "--json")
			return err == nil && strings.Contains(out, `"screen": "paid"`) && strings.Contains(out, `"printQueue": 0`)
		})
		if out, err := ctl(b, bin.kassectl, data, "key", "clear"); err != nil {
			b.Fatalf("kassectl key clear: %v: %s", err, out)
		}
	}
	eventually(b, "kassed to start", func() bool {
		_, err := ctl(b, bin.kassectl, data, "status")
		return err == nil
	})
	sale() // the one whose printed mark the first counted sale carries

	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", kassed.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "strace.txt")
	args := []string{"-f", "-qq", "-c", "-o", out, "-e", "trace=fsync,fdatasync,sync_file_range,msync,syncfs,sync"}
	for _, t := range tasks {
		args = append(args, "-p", t.Name())
	}
	tracer := exec.Command(strace, args...)
	if err := tracer.Start(); err != nil {
		b.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // strace attaches to every thread
	n := envCount("KASSE_BENCH_FSYNC_SALES", 20)
	b.ResetTimer()
	for range b.N {
		for range n {
			sale()
		}
	}
	b.StopTimer()
	// SIGINT makes strace detach, write its summary and die of the signal.
	tracer.Process.Signal(syscall.SIGINT)
	if err := tracer.Wait(); err != nil && !strings.Contains(err.Error(), "interrupt") {
		b.Fatalf("strace: %v", err)
	}
	calls, err := syncCalls(out)
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for name, c := range calls {
		total += c
		b.Logf("%s: %d", name, c)
	}
	b.ReportMetric(float64(total)/float64(n*b.N), "fsyncs_per_sale/n")
}

// syncCalls reads strace -c's table: calls per syscall name.
func syncCalls(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	calls := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// % time, seconds, usecs/call, calls, [errors,] syscall
		if len(fields) < 5 || fields[len(fields)-1] == "total" {
			continue
		}
		name := fields[len(fields)-1]
		if c, err := strconv.Atoi(fields[3]); err == nil && strings.Contains(name, "sync") {
			calls[name] = c
		}
	}
	return calls, sc.Err()
}

func envCount(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
