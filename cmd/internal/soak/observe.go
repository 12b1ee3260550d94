package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kasse/till"
)

// observations is what the soak saw while it ran, beyond the journals:
// the amounts it keyed, the "paid" screens, the captures the till said it
// decided, how long payments stayed authorized, the tokens on the wire.
type observations struct {
	tokens    map[string]string // first 16 characters → access token
	keyed     map[string]keyedSale
	paid      map[string]paidScreen
	decided   map[string]bool          // reference → must end captured (false: excused, see readLog)
	openSince map[string]time.Duration // on the health's whole clock
	flagged   map[string]bool          // timing discrepancies already reported
	leaks     map[string]bool          // secret leaks already reported, by where
	scanned   int                      // bytes of logs and status scanned for secrets
	scans     int
}

type keyedSale struct {
	amount int64
	at     time.Time
	flow   string
}

type paidScreen struct {
	value int64
	at    time.Time
}

func newObservations() observations {
	return observations{tokens: map[string]string{}, keyed: map[string]keyedSale{}, paid: map[string]paidScreen{},
		decided: map[string]bool{}, openSince: map[string]time.Duration{}, flagged: map[string]bool{}, leaks: map[string]bool{}}
}

func (s *soak) addToken(t string) {
	if len(t) < 16 {
		return
	}
	s.mu.Lock()
	s.obs.tokens[t[:16]] = t
	s.mu.Unlock()
}

// keyedAs records that the sale the soak keyed at for amount got ref. A
// reference given to a second keyed sale is reused.
func (s *soak) keyedAs(ref string, amount int64, flow string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, seen := s.obs.keyed[ref]; seen {
		s.discrepancy(fmt.Sprintf(
			"reference %s given to two sales the soak keyed: %d øre at %s and %d øre at %s",
			ref, k.amount, k.at.Format("15:04:05.000"), amount, at.Format("15:04:05.000")))
		return
	}
	s.obs.keyed[ref] = keyedSale{amount: amount, at: at, flow: flow}
}

// seeStatus notes a "paid" screen of a sale.
func (s *soak) seeStatus(who string, st till.Status) {
	if who != s.a.prefix || st.Reference == "" || st.Screen != "paid" {
		return
	}
	s.mu.Lock()
	if _, ok := s.obs.paid[st.Reference]; !ok {
		s.obs.paid[st.Reference] = paidScreen{value: st.Value, at: time.Now()}
	}
	s.mu.Unlock()
}

// scanSecrets reports a secret value (client_secret, subscription key, an
// access token) in text, once per place.
func (s *soak) scanSecrets(where, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.obs.scanned += len(text)
	s.obs.scans++
	found := ""
	switch {
	case strings.Contains(text, s.secret):
		found = "client_secret"
	case strings.Contains(text, s.subKey):
		found = "subscription key"
	default:
		for i := 0; i+16 <= len(text); i++ {
			if t, ok := s.obs.tokens[text[i:i+16]]; ok && strings.HasPrefix(text[i:], t) {
				found = "access token"
				break
			}
		}
	}
	if found == "" || s.obs.leaks[where+found] {
		return
	}
	s.obs.leaks[where+found] = true
	s.discrepancy(fmt.Sprintf("secret: the %s appears in %s", found, where))
}

// readLog reads a finished kassed run's output: secrets, and the captures
// the till decided ("capture REF decided"). Such a sale must end captured,
// unless the run was killed at random right after that line (the last one
// it wrote): then the decision may not have reached the disk.
func (s *soak) readLog(r *reg, out string, randomKill bool) {
	s.scanSecrets(r.prefix+"'s kassed log", out)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range lines {
		j := strings.Index(l, "capture ")
		if j < 0 || !strings.HasSuffix(l, " decided") {
			continue
		}
		ref := strings.TrimSuffix(l[j+len("capture "):], " decided")
		excused := randomKill && i == len(lines)-1
		if !excused {
			s.obs.decided[ref] = true
		} else if _, ok := s.obs.decided[ref]; !ok {
			s.obs.decided[ref] = false
		}
	}
}

// sample reads Vipps's state every 3 s while the soak runs, and prints the
// figures so far every 5 minutes.
func (s *soak) sample(ctx context.Context) {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(3 * time.Second):
		}
		s.sampleOnce(time.Now())
		if i%100 == 0 {
			s.mu.Lock()
			fmt.Printf("soak: %s: operations %d, crash points %d, fault episodes %d, discrepancies so far %d\n",
				time.Since(start).Round(time.Minute), sum(s.rep.ops), sum(s.rep.crashes), sum(s.rep.faults), len(s.rep.discrepancies))
			s.mu.Unlock()
		}
	}
}

// sampleOnce flags a payment authorized and neither captured nor cancelled
// while the network was whole for more than 60 s in all.
func (s *soak) sampleOnce(now time.Time) {
	list, err := s.simPayments()
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	clock := s.health.wholeClock(now)
	open := map[string]bool{}
	for _, p := range list {
		ag := p.Aggregate
		if ag.Authorized.Value-ag.Captured.Value-ag.Cancelled.Value <= 0 {
			continue
		}
		open[p.Reference] = true
		since, ok := s.obs.openSince[p.Reference]
		if !ok {
			since = clock
			s.obs.openSince[p.Reference] = clock
		}
		if d := clock - since; d > 60*time.Second && !s.obs.flagged[p.Reference] {
			s.obs.flagged[p.Reference] = true
			s.discrepancy(fmt.Sprintf(
				"timing: %s (%s) authorized %s and left open for %.0f s of whole network (captured %s, cancelled %s)",
				p.Reference, p.API, ag.Authorized, d.Seconds(), ag.Captured, ag.Cancelled))
		}
	}
	for ref := range s.obs.openSince {
		if !open[ref] {
			delete(s.obs.openSince, ref)
		}
	}
}
