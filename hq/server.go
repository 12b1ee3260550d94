package hq

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxBody bounds a request: a refund request is a few hundred bytes.
const maxBody = 64 << 10

// Handler serves the registers' API. It must sit behind ServerTLS: the
// verified client certificate says which register and store asks. revoked
// checks it again at every request (PKI.CheckRevoked): a connection kept
// alive from before a revoke must not outlive it.
func Handler(svc *Service, revoked func(*x509.Certificate) error) http.Handler {
	identify := func(w http.ResponseWriter, r *http.Request) (Identity, bool) {
		who, ok := identify(w, r)
		if ok {
			if err := revoked(r.TLS.VerifiedChains[0][0]); err != nil {
				svc.logf("refused a request: %v", err)
				writeProblem(w, problem(http.StatusForbidden, "%v", err))
				return Identity{}, false
			}
		}
		return who, ok
	}
	m := http.NewServeMux()
	m.HandleFunc("POST "+PathRefunds, func(w http.ResponseWriter, r *http.Request) {
		who, ok := identify(w, r)
		if !ok {
			return
		}
		var req RefundRequest
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeProblem(w, problem(http.StatusBadRequest, "the body is not a refund request (%v): send reference, amount, store, lane, cashier and idempotencyKey as JSON", err))
			return
		}
		rec, err := svc.Refund(r.Context(), who, req)
		if err != nil {
			writeProblem(w, err)
			return
		}
		rec.Vipps = nil // kassehq's own request; the register needs the outcome
		answer(w, http.StatusOK, rec)
	})
	m.HandleFunc("GET "+PathPayments+"{reference}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := identify(w, r); !ok {
			return
		}
		p, err := svc.LookUp(r.Context(), r.PathValue("reference"))
		if err != nil {
			writeProblem(w, err)
			return
		}
		answer(w, http.StatusOK, p)
	})
	return m
}

// identify reads the register from its verified client certificate.
func identify(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		writeProblem(w, problem(http.StatusUnauthorized, "no verified client certificate: connect over HTTPS with the certificate kassehq register issued"))
		return Identity{}, false
	}
	who, err := IdentityOf(r.TLS.VerifiedChains[0][0])
	if err != nil {
		writeProblem(w, problem(http.StatusForbidden, "%v", err))
		return Identity{}, false
	}
	return who, true
}

func writeProblem(w http.ResponseWriter, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = problem(http.StatusInternalServerError, "%v", err)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	b, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	w.Write(b)
}

func answer(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// JournalHandler serves GET /journal?format=csv|json on kassehq's local
// socket, so kassehq journal can export while kassehq serve holds the file.
func JournalHandler(j *Journal) http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /journal", func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		if format != "csv" && format != "json" {
			http.Error(w, "format must be csv or json", http.StatusBadRequest)
			return
		}
		ct := map[string]string{"csv": "text/csv", "json": "application/json"}[format]
		w.Header().Set("Content-Type", ct)
		if err := j.Export(w, format); err != nil {
			// The status is sent; the broken-off stream says enough to
			// a reader, and the log says why.
			io.WriteString(w, "\nexport broken off: "+strings.ReplaceAll(err.Error(), "\n", " "))
		}
	})
	return m
}
