package main

import (
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// notifySocket is systemd's end of the notify protocol.
func notifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan string, 100)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := c.Read(b)
			if err != nil {
				return
			}
			msgs <- string(b[:n])
		}
	}()
	t.Cleanup(func() { c.Close() })
	return path, msgs
}

// next returns the next message that starts with prefix within d.
func next(msgs <-chan string, prefix string, d time.Duration) (string, bool) {
	deadline := time.After(d)
	for {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, prefix) {
				return m, true
			}
		case <-deadline:
			return "", false
		}
	}
}

// kassed under systemd: READY once the till runs, WATCHDOG pings from the
// till's loop, STOPPING at a clean stop; a till that hangs stops pinging,
// so systemd's WatchdogSec restarts it.
func TestServiceNotifyAndWatchdog(t *testing.T) {
	r := newRig(t)
	sock, msgs := notifySocket(t)
	env := []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=1000000"}
	cmd, died := r.kassed(env...)
	if m, ok := next(msgs, "READY=1", 10*time.Second); !ok || !strings.Contains(m, "STATUS=ready: store BERGEN lane 7") {
		t.Fatalf("no READY with a status line: %q", m)
	}
	for i := range 3 {
		if _, ok := next(msgs, "WATCHDOG=1", 2*time.Second); !ok {
			t.Fatalf("watchdog ping %d missing (WatchdogSec=1s: one every 0.5 s)", i+1)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := next(msgs, "STOPPING=1", 10*time.Second); !ok {
		t.Fatal("no STOPPING at a clean stop")
	}
	<-died

	// The till's loop hangs while sending a create: the pings stop.
	r2 := newRig(t)
	sock2, msgs2 := notifySocket(t)
	cmd2, _ := r2.kassed("NOTIFY_SOCKET="+sock2, "WATCHDOG_USEC=1000000", "KASSE_CRASHPOINTS=hang:sent:create=1")
	defer cmd2.Process.Kill() // a hung till does not stop on SIGTERM: what the watchdog is for
	if _, ok := next(msgs2, "WATCHDOG=1", 5*time.Second); !ok {
		t.Fatal("no watchdog ping before the hang")
	}
	go ctl(t, r2.bin.kassectl, r2.data, "key", "1", "0", "0", "pay")
	// Pings go on until the loop reaches the hang; then none for 3 s.
	for start := time.Now(); ; {
		if _, ok := next(msgs2, "WATCHDOG=1", 3*time.Second); !ok {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatal("a hung till still pings the watchdog")
		}
	}
}
