package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/creack/pty"
)

func processExit(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// kassectl check: through kassed while it runs, read only when it does
// not; 0 for a whole file, 1 for a damaged one, with what to do. A start
// after a clean stop runs the light check and says so in the log.
func TestCheckCommand(t *testing.T) {
	r := newRig(t)
	db := filepath.Join(r.data, "kasse.db")
	cmd, died := r.kassed()
	out, err := ctl(t, r.bin.kassectl, r.data, "check")
	if processExit(err) != 0 || !strings.Contains(out, "whole") || !strings.Contains(out, "by kassed") {
		t.Fatalf("kassectl check through kassed: exit %d, output %q; want 0 and whole", processExit(err), out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-died
	out, err = ctl(t, r.bin.kassectl, r.data, "check")
	if processExit(err) != 0 || !strings.Contains(out, "whole") || !strings.Contains(out, "read only") {
		t.Fatalf("kassectl check without kassed: exit %d, output %q; want 0 and whole", processExit(err), out)
	}
	// kassed's log says which check a start ran: light after a clean stop,
	// full after a SIGKILL. Each run is stopped by stop; want is what its
	// start logged after the run before.
	for _, c := range []struct {
		stop syscall.Signal
		want string
	}{{syscall.SIGTERM, "light check"}, {syscall.SIGKILL, "light check"}, {syscall.SIGTERM, "full check of every page"}} {
		var log strings.Builder
		k := exec.Command(r.bin.kassed, "--config", r.cfg, "--sim")
		k.Stderr = &log
		if err := k.Start(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "kassed to start", func() bool { _, err := ctl(t, r.bin.kassectl, r.data, "status"); return err == nil })
		k.Process.Signal(c.stop)
		k.Wait()
		if !strings.Contains(log.String(), c.want) {
			t.Fatalf("kassed's log: %q; want %q", log.String(), c.want)
		}
	}

	// Junk over every page but the meta pages, while kassed runs: its check
	// finds it, and its clean stop does not vouch for the file.
	cmd, died = r.kassed()
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := make([]byte, fi.Size()-2*4096)
	for i := range junk {
		junk[i] = 0xA5
	}
	f.WriteAt(junk, 2*4096)
	f.Close()
	out, err = ctl(t, r.bin.kassectl, r.data, "check")
	if processExit(err) != 1 || !strings.Contains(out, "damaged") || !strings.Contains(out, db) || !strings.Contains(out, "restore the latest backup") {
		t.Fatalf("kassectl check of a damaged file through kassed: exit %d, output %q; want 1, the file and what to do", processExit(err), out)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-died
	if _, err := os.Stat(db + ".clean"); err == nil {
		t.Error("kassed marked a file changed behind its back as closed cleanly")
	}
	before, _ := os.ReadFile(db)
	out, err = ctl(t, r.bin.kassectl, r.data, "check")
	if processExit(err) != 1 || !strings.Contains(out, "damaged") || !strings.Contains(out, db) || !strings.Contains(out, "restore the latest backup") {
		t.Fatalf("kassectl check of a damaged file: exit %d, output %q; want 1, the file and what to do", processExit(err), out)
	}
	if after, _ := os.ReadFile(db); string(before) != string(after) {
		t.Error("kassectl check changed the file")
	}
}

// On a terminal, kassectl check shows how far it has read; into a pipe
// (the tests above) it shows nothing but the verdict.
func TestCheckShowsProgressOnATerminal(t *testing.T) {
	bin := build(t)
	data := filepath.Join(t.TempDir(), "data")
	if out, err := ctl(t, bin.kassectl, data, "init"); err != nil {
		t.Fatalf("kassectl init: %v\n%s", err, out)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer ptmx.Close()
	cmd := exec.Command(bin.kassectl, "--data", data, "check")
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, tty
	err = cmd.Run()
	tty.Close()
	term, _ := io.ReadAll(ptmx) // EIO once the last writer is gone
	if err != nil || !strings.Contains(stdout.String(), "whole") {
		t.Fatalf("kassectl check: %v, stdout %q", err, stdout.String())
	}
	if !strings.Contains(string(term), "checking "+filepath.Join(data, "kasse.db")+": 100%") {
		t.Errorf("the terminal shows %q, want the progress up to 100%%", term)
	}
}
