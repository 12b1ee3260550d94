// Package vippssim is a simulator of the Vipps MobilePay APIs the register
// uses (access token and ePayment v1), served as a real http.Handler. It
// keeps the provider's contract (see kasse/payment/vippsspec) and its rules:
// credentials, idempotency keys, references used once, the 10-minute life of
// an unapproved payment, and amounts that never capture or refund more than
// was authorized. Operators and tests drive the shopper's side through the
// unauthenticated /vippssim/ endpoints.
package vippssim

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Config sets the simulated merchant's credentials and behaviour.
type Config struct {
	MSN             string // Merchant-Serial-Number every call must carry
	ClientID        string
	ClientSecret    string
	SubscriptionKey string // Ocp-Apim-Subscription-Key

	Clock    Clock         // nil: the wall clock
	TokenTTL time.Duration // access token lifetime; 0: one hour, as in the test environment

	// AutoApprove, when positive, approves a QR or PUSH_MESSAGE payment
	// still in CREATED once this much clock time has passed since creation,
	// as if a shopper had paid (make demo). It is applied whenever a payment
	// is looked at and by a background ticker; Close stops the ticker.
	AutoApprove time.Duration

	// Rand supplies tokens, PSP references and trace ids; nil: crypto/rand.
	Rand io.Reader
}

// PaymentLifetime is how long a payment waits for the shopper before it
// expires: five minutes to open it and five to approve it.
const PaymentLifetime = 10 * time.Minute

// RequestLog is one request as the simulator saw it, secrets redacted.
type RequestLog struct {
	Method string
	Path   string
	Header http.Header
	Status int
	// SystemHeaders is true when all four Vipps-System-* headers were sent.
	SystemHeaders bool
}

// Server is the simulator. Create it with New.
type Server struct {
	cfg   Config
	clock Clock
	mux   *http.ServeMux

	randMu sync.Mutex // Config.Rand need not be safe for concurrent use
	rand   io.Reader

	mu       sync.Mutex
	tokens   map[string]time.Time // access token -> expiry
	payments map[string]*payment
	idem     map[idemScope]*idemEntry
	log      []RequestLog

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a simulator for cfg. Call Close when done if AutoApprove is set.
func New(cfg Config) *Server {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	s := &Server{
		cfg:      cfg,
		clock:    cfg.Clock,
		rand:     cfg.Rand,
		tokens:   map[string]time.Time{},
		payments: map[string]*payment{},
		idem:     map[idemScope]*idemEntry{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.routes()
	if cfg.AutoApprove > 0 {
		go s.ticker()
	} else {
		close(s.done)
	}
	return s
}

// Close stops the background ticker. The handler keeps working.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

// ticker lets AutoApprove happen while nobody polls, so an operator
// watching /vippssim/payments sees the shopper "pay".
func (s *Server) ticker() {
	defer close(s.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			now := s.clock.Now()
			for _, p := range s.payments {
				s.advance(p, now)
			}
			s.mu.Unlock()
		}
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /accesstoken/get", s.accessToken)

	m.HandleFunc("POST /epayment/v1/payments", s.authed(s.createPayment))
	m.HandleFunc("GET /epayment/v1/payments/{reference}", s.authed(s.getPayment))
	m.HandleFunc("GET /epayment/v1/payments/{reference}/events", s.authed(s.getEvents))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/capture", s.authed(s.modify(opCapture)))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/refund", s.authed(s.modify(opRefund)))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/cancel", s.authed(s.modify(opCancel)))
	m.HandleFunc("POST /epayment/v1/test/payments/{reference}/approve", s.authed(s.forceApprove))

	m.HandleFunc("GET /vippssim/payments", s.adminList)
	m.HandleFunc("POST /vippssim/payments/{reference}/approve", s.adminApprove)
	m.HandleFunc("POST /vippssim/payments/{reference}/reject", s.adminReject)
	m.HandleFunc("GET /vippssim/qr/{reference}", s.qrCode)
	m.HandleFunc("GET /vippssim/pay/{reference}", s.landingPage)
	s.mux = m
}

// ServeHTTP serves the simulated APIs and records each request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	s.mux.ServeHTTP(sw, r)
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	entry := RequestLog{
		Method:        r.Method,
		Path:          r.URL.Path,
		Header:        redact(r.Header),
		Status:        sw.status,
		SystemHeaders: hasSystemHeaders(r.Header),
	}
	s.mu.Lock()
	s.log = append(s.log, entry)
	s.mu.Unlock()
}

// Requests returns every request served so far, oldest first.
func (s *Server) Requests() []RequestLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RequestLog, len(s.log))
	for i, e := range s.log {
		e.Header = e.Header.Clone()
		out[i] = e
	}
	return out
}

// redact keeps secrets out of the request log (design invariant 6).
func redact(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range [...]string{"Authorization", "Client_secret", "Ocp-Apim-Subscription-Key"} {
		if _, ok := out[k]; ok {
			out[k] = []string{"[redacted]"}
		}
	}
	return out
}

func hasSystemHeaders(h http.Header) bool {
	for _, k := range [...]string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"} {
		if h.Get(k) == "" {
			return false
		}
	}
	return true
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// randomHex returns n random bytes as hex.
func (s *Server) randomHex(n int) string {
	return hex.EncodeToString(s.randomBytes(n))
}

func (s *Server) randomBytes(n int) []byte {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		// A broken entropy source must not yield guessable tokens.
		panic(fmt.Sprintf("vippssim: reading randomness: %v", err))
	}
	return b
}

// uuid formats 16 random bytes as a version-4 UUID (PSP references).
func (s *Server) uuid() string {
	b := s.randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}
