// Package service is kassed's side of its supervisor: the systemd notify
// protocol (READY, WATCHDOG, STOPPING, STATUS) in a few lines instead of a
// dependency, and the watchdog period systemd asks for. Under BusyBox init
// or in a terminal NOTIFY_SOCKET is unset and every call is a no-op.
package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Notifier sends state changes to the service manager.
type Notifier struct {
	addr     *net.UnixAddr // nil: not run by systemd with Type=notify
	watchdog time.Duration // WatchdogSec, 0 when off
}

// FromEnv reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID, which
// must be this process when set), as sd_notify(3) and sd_watchdog_enabled(3)
// describe. getenv is os.Getenv outside tests.
func FromEnv(getenv func(string) string) (*Notifier, error) {
	n := &Notifier{}
	sock := getenv("NOTIFY_SOCKET")
	switch {
	case sock == "":
		return n, nil
	case strings.HasPrefix(sock, "@"):
		sock = "\x00" + sock[1:] // an abstract socket
	case !strings.HasPrefix(sock, "/"):
		return nil, fmt.Errorf("NOTIFY_SOCKET=%q is neither a path nor an abstract socket: run kassed from its systemd unit, or unset it", sock)
	}
	n.addr = &net.UnixAddr{Name: sock, Net: "unixgram"}
	if us := getenv("WATCHDOG_USEC"); us != "" {
		v, err := strconv.ParseUint(us, 10, 63)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number of microseconds: check WatchdogSec in kassed.service", us)
		}
		if pid := getenv("WATCHDOG_PID"); pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(v) * time.Microsecond
		}
	}
	return n, nil
}

// Enabled reports whether a service manager listens.
func (n *Notifier) Enabled() bool { return n.addr != nil }

// WatchdogEvery is how often to ping: half the watchdog period, as
// sd_watchdog_enabled(3) advises; 0 when there is no watchdog.
func (n *Notifier) WatchdogEvery() time.Duration { return n.watchdog / 2 }

// Ready says kassed is up: the till takes keys and the socket answers.
func (n *Notifier) Ready(status string) error { return n.send("READY=1", status) }

// Watchdog says the till's loop is alive; it must come from that loop, so
// that a stuck till is restarted.
func (n *Notifier) Watchdog() error { return n.send("WATCHDOG=1", "") }

// Stopping says a clean stop has begun.
func (n *Notifier) Stopping(status string) error { return n.send("STOPPING=1", status) }

// Status shows a line in systemctl status.
func (n *Notifier) Status(status string) error { return n.send("", status) }

func (n *Notifier) send(state, status string) error {
	if n.addr == nil {
		return nil
	}
	var lines []string
	if state != "" {
		lines = append(lines, state)
	}
	if status != "" {
		// One line: a newline would start another assignment.
		lines = append(lines, "STATUS="+strings.ReplaceAll(status, "\n", " "))
	}
	if len(lines) == 0 {
		return errors.New("service: nothing to notify")
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("telling systemd %s: %w: check NotifyAccess=main in kassed.service", state, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(strings.Join(lines, "\n"))); err != nil {
		return fmt.Errorf("telling systemd %s: %w", state, err)
	}
	return nil
}
