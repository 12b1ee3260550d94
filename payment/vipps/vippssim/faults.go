package vippssim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault kinds.
const (
	// FaultLatency delays the request by Latency (wall-clock time, as
	// network delay is) and then serves it. A client that gives up first
	// does not stop the operation: it happens, its answer is lost.
	FaultLatency = "latency"
	// FaultStatus answers Status in the API's error format, touching no state.
	FaultStatus = "status"
	// FaultDrop closes the connection without a reply, touching no state.
	FaultDrop = "drop"
	// FaultReset performs the operation and then closes the connection
	// without a reply: the client sees an error, but the state changed.
	FaultReset = "reset"
	// FaultLie performs the operation and answers with a well-formed reply
	// that is wrong (Lie says how): a register must take it for no answer.
	FaultLie = "lie"
)

// The lies of FaultLie.
const (
	LieReference = "reference" // the reply is about another payment
	LieState     = "state"     // a state the API does not document
	LieAmount    = "amount"    // captured and authorized amounts inflated
)

// Fault makes the simulator misbehave for matching requests. It applies
// before authentication and never to the /vippssim/ admin paths.
type Fault struct {
	Path   string // path prefix; "" matches every API path
	Method string // "" matches every method
	Kind   string // FaultLatency, FaultStatus, FaultDrop or FaultReset

	Status     int           // FaultStatus: 429, 500, 503, …
	RetryAfter int           // FaultStatus: Retry-After seconds, if positive
	Latency    time.Duration // FaultLatency
	Lie        string        // FaultLie: LieReference, LieState or LieAmount

	// Count limits the fault to the next Count matching requests; For to
	// this much simulated time from injection. Either, both (whichever
	// ends first) or neither (until ClearFaults).
	Count int
	For   time.Duration
}

type activeFault struct {
	Fault
	left  int       // requests left when Count > 0
	until time.Time // end when For > 0
}

func (f Fault) validate() error {
	switch f.Kind {
	case FaultLatency:
		if f.Latency <= 0 {
			return errors.New(`a latency fault needs a positive "latency", like "2s"`)
		}
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf(`a status fault needs an error "status" (400–599), not %d`, f.Status)
		}
	case FaultDrop, FaultReset:
	case FaultLie:
		if f.Lie != LieReference && f.Lie != LieState && f.Lie != LieAmount {
			return fmt.Errorf(`a lie fault needs "lie": "reference", "state" or "amount", not %q`, f.Lie)
		}
	default:
		return fmt.Errorf(`fault kind %q: use "latency", "status", "drop", "reset" or "lie"`, f.Kind)
	}
	if f.Count < 0 || f.For < 0 || f.RetryAfter < 0 {
		return errors.New(`"count", "until" and "retryAfter" cannot be negative`)
	}
	if strings.HasPrefix(f.Path, "/vippssim/") {
		return errors.New("faults never apply to the simulator's own /vippssim/ paths")
	}
	return nil
}

// InjectFault adds a fault; earlier faults take precedence when several
// match a request.
func (s *Server) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("vippssim: %w", err)
	}
	f.Method = strings.ToUpper(f.Method)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &activeFault{Fault: f, left: f.Count}
	if f.For > 0 {
		a.until = s.clock.Now().Add(f.For)
	}
	s.faults = append(s.faults, a)
	return nil
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the faults still active.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneFaults(s.clock.Now())
	out := make([]Fault, len(s.faults))
	for i, a := range s.faults {
		out[i] = a.Fault
		if a.Count > 0 {
			out[i].Count = a.left
		}
	}
	return out
}

// pruneFaults drops spent and expired faults. Callers hold s.mu.
func (s *Server) pruneFaults(now time.Time) {
	kept := s.faults[:0]
	for _, a := range s.faults {
		if (a.Count > 0 && a.left <= 0) || (a.For > 0 && !now.Before(a.until)) {
			continue
		}
		kept = append(kept, a)
	}
	clear(s.faults[len(kept):])
	s.faults = kept
}

// takeFault returns the first fault matching r and uses up one of its
// requests, or nil.
func (s *Server) takeFault(r *http.Request) *Fault {
	if strings.HasPrefix(r.URL.Path, "/vippssim/") {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneFaults(s.clock.Now())
	for _, a := range s.faults {
		if !strings.HasPrefix(r.URL.Path, a.Path) || (a.Method != "" && a.Method != r.Method) {
			continue
		}
		if a.Count > 0 {
			a.left--
		}
		f := a.Fault
		return &f
	}
	return nil
}

// wait sleeps for d or until the client goes away.
func wait(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// abort closes the connection without a reply: by hijacking it where the
// writer allows, otherwise (behind a middleware that hides the connection)
// with the panic net/http reserves for exactly this.
func abort(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// discardWriter swallows the reply of a reset request.
type discardWriter struct{ header http.Header }

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// faultJSON is the admin endpoint's form of a Fault, durations as text.
type faultJSON struct {
	Path       string `json:"path"`
	Method     string `json:"method"`
	Kind       string `json:"kind"`
	Status     int    `json:"status,omitempty"`
	Latency    string `json:"latency,omitempty"`
	Count      int    `json:"count,omitempty"`
	Until      string `json:"until,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty"`
	Lie        string `json:"lie,omitempty"`
}

func (j faultJSON) fault() (Fault, error) {
	f := Fault{Path: j.Path, Method: j.Method, Kind: j.Kind, Status: j.Status, Count: j.Count, RetryAfter: j.RetryAfter, Lie: j.Lie}
	var err error
	if j.Latency != "" {
		if f.Latency, err = time.ParseDuration(j.Latency); err != nil {
			return f, fmt.Errorf(`"latency" %q is not a duration like "2s"`, j.Latency)
		}
	}
	if j.Until != "" {
		if f.For, err = time.ParseDuration(j.Until); err != nil {
			return f, fmt.Errorf(`"until" %q is not a duration like "5m"`, j.Until)
		}
	}
	return f, nil
}

func toFaultJSON(f Fault) faultJSON {
	j := faultJSON{Path: f.Path, Method: f.Method, Kind: f.Kind, Status: f.Status, Count: f.Count, RetryAfter: f.RetryAfter, Lie: f.Lie}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	if f.For > 0 {
		j.Until = f.For.String()
	}
	return j
}

// adminInjectFault serves POST /vippssim/faults.
func (s *Server) adminInjectFault(w http.ResponseWriter, r *http.Request) {
	var j faultJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "the fault is not valid JSON: "+err.Error())
		return
	}
	f, err := j.fault()
	if err == nil {
		err = s.InjectFault(f)
	}
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, plainJSON, toFaultJSON(f))
}

// adminListFaults serves GET /vippssim/faults.
func (s *Server) adminListFaults(w http.ResponseWriter, r *http.Request) {
	fs := s.Faults()
	out := make([]faultJSON, len(fs))
	for i, f := range fs {
		out[i] = toFaultJSON(f)
	}
	writeJSON(w, http.StatusOK, plainJSON, out)
}

// adminClearFaults serves DELETE /vippssim/faults.
func (s *Server) adminClearFaults(w http.ResponseWriter, r *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

// lie serves r and rewrites its JSON reply the way f.Lie says: the state
// changes as usual, only the answer is wrong.
func (s *Server) lie(w http.ResponseWriter, r *http.Request, f *Fault) int {
	rec := &recordWriter{header: w.Header(), status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	var body map[string]any
	if rec.status/100 == 2 && json.Unmarshal(rec.body.Bytes(), &body) == nil {
		tell(body, f.Lie)
		b, _ := json.Marshal(body)
		rec.body.Reset()
		rec.body.Write(b)
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.status)
	w.Write(rec.body.Bytes())
	return rec.status
}

// tell rewrites one ePayment or eCom reply object.
func tell(body map[string]any, lie string) {
	switch lie {
	case LieReference:
		for _, k := range []string{"reference", "orderId"} {
			if v, ok := body[k].(string); ok {
				body[k] = v + "-other"
			}
		}
	case LieState:
		if _, ok := body["state"]; ok {
			body["state"] = "SETTLED"
		}
	case LieAmount:
		for _, k := range []string{"aggregate", "transactionSummary"} {
			if m, ok := body[k].(map[string]any); ok {
				for name, v := range m {
					switch a := v.(type) {
					case map[string]any: // ePayment: {value, currency}
						if n, ok := a["value"].(float64); ok {
							a["value"] = n*2 + 100
						}
					case float64: // eCom: øre
						m[name] = a*2 + 100
					}
				}
			}
		}
	}
}

// recordWriter keeps a reply so it can be rewritten.
type recordWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recordWriter) Header() http.Header         { return r.header }
func (r *recordWriter) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recordWriter) WriteHeader(code int)        { r.status = code }
