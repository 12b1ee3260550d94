package vippssim

// Request plumbing shared by the ePayment, eCom and Order management
// handlers: idempotency records and replays, the Idempotency-Key header,
// JSON bodies compared in canonical form, and the base URL of replies.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// idemScope is where an Idempotency-Key is remembered: per merchant and
// operation, and for adjustments per payment.
type idemScope struct{ msn, op, reference, key string }

// idemEntry is a remembered success. Failures are not remembered, so a
// retry with the same key may succeed once its cause is gone (a capture
// refused before the shopper approved, say).
type idemEntry struct {
	body        string // canonical JSON of the request
	status      int
	contentType string
	response    []byte
}

// replay answers a repeated key: the stored answer for the same body, a
// conflict for another. It reports whether it answered. Callers hold s.mu.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, scope idemScope, body string) bool {
	e := s.idem[scope]
	if e == nil {
		return false
	}
	if e.body != body {
		s.problem(w, r, http.StatusConflict, probIdempotency, "Idempotency conflict",
			fmt.Sprintf("Idempotency-Key %q was already used for a different %s request: reuse a key only to retry the identical request", scope.key, scope.op))
		return true
	}
	w.Header().Set("Content-Type", e.contentType)
	w.WriteHeader(e.status)
	w.Write(e.response)
	return true
}

// succeed writes a success and remembers it under scope. Callers hold s.mu.
func (s *Server) succeed(w http.ResponseWriter, scope idemScope, body string, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.idem[scope] = &idemEntry{body: body, status: status, contentType: contentType, response: b}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

// idempotencyKey returns the request's key, or answers 400 without one.
func (s *Server) idempotencyKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.Header.Get("Idempotency-Key")
	switch {
	case key == "":
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request",
			"missing Idempotency-Key header: send a unique key per operation and reuse it only to retry",
			extraDetail{"Idempotency-Key", "required"})
		return "", false
	case len(key) > 50:
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request",
			"Idempotency-Key is longer than 50 characters", extraDetail{"Idempotency-Key", "at most 50 characters"})
		return "", false
	}
	return key, true
}

// readJSON reads the body and returns it in canonical form (sorted keys, no
// spacing) so that a retry compares equal however it was formatted.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request) (raw []byte, canonical string, ok bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "reading the request body: "+err.Error())
		return nil, "", false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, "", true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "the request body is not valid JSON: "+err.Error())
		return nil, "", false
	}
	b, _ := json.Marshal(v)
	return raw, string(b), true
}

// canonicalJSON re-encodes valid JSON compactly with sorted keys.
func canonicalJSON(raw []byte) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
