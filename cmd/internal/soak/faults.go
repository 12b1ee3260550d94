package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"syscall"
	"time"
)

// health is whether the network between the registers and Vipps is whole,
// and for how long it has been whole in all: the timing check counts only
// the time the network was whole (with faults about half the time, it is
// never whole for a minute on end).
type health struct {
	faulty bool
	since  time.Time     // when it was last made whole
	whole  time.Duration // whole time before since
}

// wholeClock is the time the network has been whole so far; callers hold s.mu.
func (h *health) wholeClock(now time.Time) time.Duration {
	if h.faulty {
		return h.whole
	}
	return h.whole + now.Sub(h.since)
}

func (s *soak) setHealth(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	switch {
	case ok && s.health.faulty:
		s.health.faulty, s.health.since = false, now
	case !ok && !s.health.faulty:
		s.health.whole += now.Sub(s.health.since)
		s.health.faulty = true
	}
}

// killer pulls SOAK1's plug at random moments (not while its database is
// being changed: that is a technician's work with kassed stopped).
func (s *soak) killer(ctx context.Context) {
	rng := s.rng(2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(2000+rng.IntN(10000)) * time.Millisecond):
		}
		s.mu.Lock()
		if !s.quiet {
			s.a.kassed.killed = true
			s.a.kassed.cmd.Process.Signal(syscall.SIGKILL)
		}
		s.mu.Unlock()
	}
}

// faults breaks the network in episodes of 1–20 s, mostly about 2 s (and,
// with long, a few outages of 1–10 minutes that add up to at most a sixth
// of the run). Between episodes the network is whole for 0.3–2 s.
func (s *soak) faults(ctx context.Context, duration time.Duration, long bool) {
	rng := s.rng(3)
	kinds := []string{"refuse", "blackhole", "reset", "latency", "bad-reply", "bad-reply", "cut-body",
		"sim-500", "sim-503", "sim-429", "sim-drop", "sim-reset"}
	var budget time.Duration
	if long {
		budget = duration / 6
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(300+rng.IntN(1700)) * time.Millisecond):
		}
		kind := kinds[rng.IntN(len(kinds))]
		d := min(time.Second+time.Duration(rng.ExpFloat64()*float64(time.Second)), 20*time.Second)
		if budget >= time.Minute && rng.IntN(60) == 0 {
			kind, d = "outage", min(time.Duration(1+rng.IntN(10))*time.Minute, budget)
			budget -= d
		}
		s.count(s.rep.faults, kind)
		s.setHealth(false)
		switch kind {
		case "refuse", "outage":
			s.prx.set(modeRefuse, 0)
		case "blackhole":
			s.prx.set(modeBlackhole, 0)
		case "reset":
			s.prx.set(modeReset, 0)
		case "latency":
			s.prx.set(modeLatency, time.Duration(rng.IntN(5000))*time.Millisecond)
		case "bad-reply":
			s.prx.set(modeBad, 0)
		case "cut-body":
			s.prx.set(modeCut, 0)
		default:
			f := map[string]any{"kind": "status", "count": 1 + rng.IntN(8)}
			switch kind {
			case "sim-500":
				f["status"] = 500
			case "sim-503":
				f["status"] = 503
			case "sim-429":
				f["status"], f["retryAfter"] = 429, 1+rng.IntN(3)
			case "sim-drop":
				f["kind"] = "drop"
			case "sim-reset":
				f["kind"] = "reset"
			}
			s.simDo("POST", "/vippssim/faults", f)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		s.heal()
	}
}

// heal ends every fault.
func (s *soak) heal() {
	s.prx.set(modePass, 0)
	s.simDo("DELETE", "/vippssim/faults", nil)
	s.setHealth(true)
}

// simDo calls the simulator directly (its admin API), not through the proxy.
func (s *soak) simDo(method, path string, body any) (*http.Response, error) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, s.simURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}
