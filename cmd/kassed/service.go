package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"kasse/cmd/internal/service"
	"kasse/till"
)

// supervisor ties kassed to its service manager and to the clock: READY
// once the till's loop runs, WATCHDOG pings from that loop (a stuck till
// stops them and systemd restarts kassed), STOPPING at the end; and whether
// the clock is set, read from the kernel once a second.
type supervisor struct {
	n     *service.Notifier
	logf  func(string, ...any)
	ready string // READY's status line; sent once

	clock   func() (service.ClockState, error) // nil: taken as set (--sim)
	record  func(till.Event) error             // the event record; nil keeps none
	jumps   *service.JumpWatch
	pinged  time.Time
	checked time.Time

	mu     sync.Mutex
	synced bool
	why    string
}

func newSupervisor(n *service.Notifier, clock func() (service.ClockState, error), logf func(string, ...any)) *supervisor {
	s := &supervisor{n: n, logf: logf, clock: clock, jumps: service.NewJumpWatch(), synced: clock == nil}
	s.check(time.Now())
	return s
}

// alive runs on the till's loop, a few times a second.
func (s *supervisor) alive() {
	now := time.Now()
	if s.ready != "" {
		if err := s.n.Ready(s.ready); err != nil {
			s.logf("%v", err)
		}
		s.ready = ""
	}
	if every := s.n.WatchdogEvery(); every > 0 && now.Sub(s.pinged) >= every {
		if err := s.n.Watchdog(); err != nil {
			s.logf("%v", err)
		}
		s.pinged = now
	}
	if now.Sub(s.checked) >= time.Second {
		s.check(now)
	}
}

// check reads the clock's state and notices jumps.
func (s *supervisor) check(now time.Time) {
	s.checked = now
	if d := s.jumps.Check(); d != 0 {
		// Receipt and journal times around it are suspect: it goes in
		// the event record, beside logins and refunds.
		s.logf("the clock jumped by %v (NTP set it, or someone did): times around %s are suspect", d, now.Format(time.RFC3339))
		if s.record != nil {
			if err := s.record(till.Event{Time: now, Kind: EventClockJump, Detail: d.String()}); err != nil {
				s.logf("%v", err)
			}
		}
	}
	if s.clock == nil {
		return
	}
	st, err := s.clock()
	synced, why := st.Synced, "the kernel says the clock is not synchronised (is the NTP client running and online?)"
	if err != nil {
		synced, why = false, err.Error()
	}
	s.mu.Lock()
	was, first := s.synced, s.why == ""
	s.synced, s.why = synced, why
	s.mu.Unlock()
	switch {
	case synced && !was:
		s.logf("the clock is synchronised (max error %v): sales can start", st.MaxError)
	case !synced && (was || first):
		s.logf("no sales until the clock is set: %s", why)
	}
}

// clockSynced is the till's ClockSynced.
func (s *supervisor) clockSynced() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.synced, s.why
}

func (s *supervisor) stopping() {
	if err := s.n.Stopping("stopping: the till takes no more keys"); err != nil {
		s.logf("%v", err)
	}
}

// EventClockJump is the event record's kind for a clock that jumped; Detail
// is by how much (Go's duration, e.g. "-1h0m2s").
const EventClockJump = "clock-jump"

// readyLine is READY's status, as systemctl status shows it.
func readyLine(store, lane string) string { return fmt.Sprintf("ready: store %s lane %s", store, lane) }

// bootedSlot is the RAUC slot the bootloader started ("rauc.slot=A" on the
// kernel command line), "" when kassed does not run from an A/B image.
func bootedSlot(cmdline string) string {
	for _, f := range strings.Fields(cmdline) {
		if v, ok := strings.CutPrefix(f, "rauc.slot="); ok {
			return v
		}
	}
	return ""
}

// systemInfo returns what kassectl status shows of the register around the
// till; the fixed parts are read once.
func systemInfo(version, display, printerPort, keys string, sup *supervisor) func() till.System {
	cmdline, _ := os.ReadFile("/proc/cmdline")
	slot, start := bootedSlot(string(cmdline)), time.Now()
	return func() till.System {
		ok, why := sup.clockSynced()
		if ok {
			why = ""
		}
		return till.System{Version: version, Slot: slot, UptimeS: int64(time.Since(start).Seconds()),
			ClockSynced: ok, Clock: why, Display: display, Printer: printerPort, Keys: keys}
	}
}
