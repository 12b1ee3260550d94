package vippssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// The provider's rate limits, per endpoint and payment reference (eCom:
// orderId): five captures and five refunds of one payment in a minute are
// both allowed.
const (
	ModifyLimit = 5   // create, capture, cancel and refund per window
	GetLimit    = 120 // GET requests per window
	LimitWindow = time.Minute
)

type limitClass int

const (
	limitModify limitClass = iota
	limitGet
)

func (c limitClass) max() int {
	if c == limitGet {
		return GetLimit
	}
	return ModifyLimit
}

// limitKey counts per endpoint (the route's pattern) and reference.
type limitKey struct {
	route string
	ref   string
}

// allow admits a request into a sliding window on the injected clock, or
// says how long until the oldest counted request leaves it. Refused
// requests do not count. Callers hold s.mu.
func (s *Server) allow(k limitKey, class limitClass, now time.Time) (time.Duration, bool) {
	from := now.Add(-LimitWindow)
	hits := s.limits[k]
	i := 0
	for i < len(hits) && !hits[i].After(from) {
		i++
	}
	hits = hits[i:]
	if len(hits) >= class.max() {
		s.limits[k] = hits
		return hits[0].Sub(from), false
	}
	s.limits[k] = append(hits, now)
	return 0, true
}

// limit applies the rate limit of class to the reference key finds. A
// request whose reference cannot be read is let through for the handler
// to refuse with a proper validation error.
func (s *Server) limit(class limitClass, key func(*http.Request) string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.NoRateLimits {
			next(w, r)
			return
		}
		ref := key(r)
		if ref == "" {
			next(w, r)
			return
		}
		s.mu.Lock()
		wait, ok := s.allow(limitKey{route: r.Pattern, ref: ref}, class, s.clock.Now())
		s.mu.Unlock()
		if !ok {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			s.apiError(w, r, http.StatusTooManyRequests, probRateLimit,
				fmt.Sprintf("more than %d such requests for %q within %s: wait %d s; poll at most once a second", class.max(), ref, LimitWindow, secs))
			return
		}
		next(w, r)
	}
}

func pathKey(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.PathValue(name) }
}

// bodyKey reads the reference from the JSON body and puts the body back
// for the handler.
func bodyKey(pick func([]byte) string) func(*http.Request) string {
	return func(r *http.Request) string {
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(raw))
		if err != nil {
			return ""
		}
		return pick(raw)
	}
}

func epaymentReference(raw []byte) string {
	var b struct {
		Reference string `json:"reference"`
	}
	json.Unmarshal(raw, &b)
	return b.Reference
}

func ecomOrderID(raw []byte) string {
	var b struct {
		Transaction struct {
			OrderID string `json:"orderId"`
		} `json:"transaction"`
	}
	json.Unmarshal(raw, &b)
	return b.Transaction.OrderID
}
