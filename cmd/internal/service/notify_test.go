package service

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen is systemd's end: a datagram socket at a path.
func listen(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return path, c
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 4096)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[:n])
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestNotifyProtocol(t *testing.T) {
	path, c := listen(t)
	n, err := FromEnv(env(map[string]string{"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000",
		"WATCHDOG_PID": strconv.Itoa(os.Getpid())}))
	if err != nil {
		t.Fatal(err)
	}
	if !n.Enabled() || n.WatchdogEvery() != 5*time.Second {
		t.Fatalf("enabled %v, ping every %v; want on, 5s", n.Enabled(), n.WatchdogEvery())
	}
	for _, tc := range []struct {
		send func() error
		want string
	}{
		{func() error { return n.Ready("ready: store OSLO1 lane 2") }, "READY=1\nSTATUS=ready: store OSLO1 lane 2"},
		{n.Watchdog, "WATCHDOG=1"},
		{func() error { return n.Status("two\nlines") }, "STATUS=two lines"},
		{func() error { return n.Stopping("") }, "STOPPING=1"},
	} {
		if err := tc.send(); err != nil {
			t.Fatal(err)
		}
		if got := read(t, c); got != tc.want {
			t.Errorf("sent %q, want %q", got, tc.want)
		}
	}
}

func TestNotifyOffAndBadEnv(t *testing.T) {
	n, err := FromEnv(env(nil))
	if err != nil || n.Enabled() || n.WatchdogEvery() != 0 || n.Ready("x") != nil || n.Watchdog() != nil {
		t.Fatalf("without NOTIFY_SOCKET: %+v, %v; want a silent no-op", n, err)
	}
	// Another process's watchdog is not ours to ping.
	n, err = FromEnv(env(map[string]string{"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}))
	if err != nil || n.WatchdogEvery() != 0 {
		t.Errorf("WATCHDOG_PID of another process: every %v, %v", n.WatchdogEvery(), err)
	}
	for _, bad := range []map[string]string{
		{"NOTIFY_SOCKET": "relative/path"},
		{"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "ten"},
		{"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "0"},
	} {
		if _, err := FromEnv(env(bad)); err == nil {
			t.Errorf("FromEnv(%v) was accepted", bad)
		}
	}
	// A socket nobody listens on is an error the caller can log.
	n, _ = FromEnv(env(map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "gone")}))
	if err := n.Ready(""); err == nil {
		t.Error("READY to a missing socket reported no error")
	}
}
