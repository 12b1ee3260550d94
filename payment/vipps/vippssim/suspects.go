package vippssim

import (
	"fmt"
	"net/http"
	"time"
)

// SuspectWindow is how close together two refunds of the same payment and
// amount under different idempotency keys must come to be flagged: the mark
// of a refund retried with a new key, which refunds twice. Vipps makes both;
// the simulator makes both too, and lists the second in Suspects so tests
// and the soak see it. A cashier who really refunds the same amount twice
// in two minutes shows up here as well: the list is a signal, not a refusal.
const SuspectWindow = 2 * time.Minute

type refundSeen struct {
	key    string
	amount int64
	at     time.Time
}

// noteRefund records a refund made and flags it when it looks like a
// retry under a new key. Callers hold s.mu.
func (s *Server) noteRefund(api, ref, key string, amount int64, now time.Time) {
	for _, r := range s.refundsSeen[ref] {
		if r.key != key && r.amount == amount && now.Sub(r.at) < SuspectWindow {
			s.suspects = append(s.suspects, fmt.Sprintf(
				"%s %s: a refund of %d under key %q came %s after one of the same amount under key %q: a retry with a new key refunds twice",
				api, ref, amount, key, now.Sub(r.at).Round(time.Millisecond), r.key))
			break
		}
	}
	s.refundsSeen[ref] = append(s.refundsSeen[ref], refundSeen{key: key, amount: amount, at: now})
}

// Suspects lists refunds that look like a retry under a new key.
func (s *Server) Suspects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.suspects...)
}

// adminSuspects serves GET /vippssim/suspects.
func (s *Server) adminSuspects(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, plainJSON, s.Suspects())
}
