// Package vippssim is a simulator of the Vipps MobilePay APIs the register
// uses (access token, ePayment v1, eCom v2, the QR API's one-time payment QR
// and Order management receipts), served as a real http.Handler. It
// keeps the provider's contract (see kasse/payment/vipps/vippsspec) and its rules:
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config sets the simulated merchant's credentials and behaviour.
type Config struct {
	MSN string // Merchant-Serial-Number every call must carry
	// PartnerMSNs are further merchants the keys may act for (partner
	// keys, option A): a call may carry any of them, and a payment is
	// visible only under the MSN that created it.
	PartnerMSNs     []string
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

	// Units are further sales units (option B: each store its own), each
	// with its own keys and MSN. A token works only for the unit whose keys
	// fetched it, and a payment is visible only under the MSN that made it,
	// so one unit's keys never see or refund another's payments.
	Units []SalesUnit

	// Rand supplies tokens, PSP references and trace ids; nil: crypto/rand.
	Rand io.Reader

	// NoRateLimits turns off the provider's rate limits (429), for load
	// benchmarks. It is a negative so that the zero Config is faithful.
	NoRateLimits bool
}

// SalesUnit is one merchant's API keys and MSN in the merchant portal.
type SalesUnit struct {
	MSN             string
	ClientID        string
	ClientSecret    string
	SubscriptionKey string
	// PartnerMSNs are further MSNs these keys may act for (option A).
	PartnerMSNs []string
}

// knows reports whether these keys may act for msn.
func (u SalesUnit) knows(msn string) bool {
	return msn != "" && (msn == u.MSN || slices.Contains(u.PartnerMSNs, msn))
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
	// Fault is the kind of injected fault applied to the request, if any.
	// A dropped or reset request has Status 0: no reply left the server.
	Fault string
}

// Server is the simulator. Create it with New.
type Server struct {
	cfg   Config
	clock Clock
	mux   *http.ServeMux

	randMu sync.Mutex // Config.Rand need not be safe for concurrent use
	rand   io.Reader

	units []SalesUnit // the Config's own keys first, then Config.Units

	mu       sync.Mutex
	tokens   map[string]grant // access token -> its unit and expiry
	payments map[string]*payment
	ecom     map[string]*ecomPayment
	landing  map[string]string // landing-page token -> eCom orderId
	qrLinks  map[string]qrLink // QR API short id -> what it shows
	idem     map[idemScope]*idemEntry
	limits   map[limitKey][]time.Time
	faults   []*activeFault
	log      []RequestLog

	refundsSeen map[string][]refundSeen // reference -> refunds made
	suspects    []string                // refunds that look retried under a new key

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
		tokens:   map[string]grant{},
		payments: map[string]*payment{},
		ecom:     map[string]*ecomPayment{},
		landing:  map[string]string{},
		qrLinks:  map[string]qrLink{},
		idem:     map[idemScope]*idemEntry{},
		limits:   map[limitKey][]time.Time{},

		refundsSeen: map[string][]refundSeen{},
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	s.units = append([]SalesUnit{{MSN: cfg.MSN, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		SubscriptionKey: cfg.SubscriptionKey, PartnerMSNs: cfg.PartnerMSNs}}, cfg.Units...)
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

// grant is what an access token was issued for.
type grant struct {
	unit    int // index in s.units
	expires time.Time
}

// unitOf is the sales unit whose token authorised r; only for requests
// that passed authed.
func (s *Server) unitOf(r *http.Request) SalesUnit {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g := s.tokens[token]
	s.mu.Unlock()
	return s.units[g.unit]
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
			for _, p := range s.ecom {
				s.advanceECom(p, now)
			}
			s.mu.Unlock()
		}
	}
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("POST /accesstoken/get", s.accessToken)

	// Rate limits count per reference, so they sit inside authentication:
	// a request without a valid token never uses up a payment's allowance.
	ref, order := pathKey("reference"), pathKey("orderId")
	m.HandleFunc("POST /epayment/v1/payments", s.authed(s.limit(limitModify, bodyKey(epaymentReference), s.createPayment)))
	m.HandleFunc("GET /epayment/v1/payments/{reference}", s.authed(s.limit(limitGet, ref, s.getPayment)))
	m.HandleFunc("GET /epayment/v1/payments/{reference}/events", s.authed(s.limit(limitGet, ref, s.getEvents)))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/capture", s.authed(s.limit(limitModify, ref, s.modify(opCapture))))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/refund", s.authed(s.limit(limitModify, ref, s.modify(opRefund))))
	m.HandleFunc("POST /epayment/v1/payments/{reference}/cancel", s.authed(s.limit(limitModify, ref, s.modify(opCancel))))
	m.HandleFunc("POST /epayment/v1/test/payments/{reference}/approve", s.authed(s.forceApprove))

	m.HandleFunc("POST /ecomm/v2/payments", s.authed(s.limit(limitModify, bodyKey(ecomOrderID), s.initiateECom)))
	m.HandleFunc("GET /ecomm/v2/payments/{orderId}/details", s.authed(s.limit(limitGet, order, s.ecomDetails)))
	m.HandleFunc("POST /ecomm/v2/payments/{orderId}/capture", s.authed(s.limit(limitModify, order, s.ecomAction(opCapture))))
	m.HandleFunc("POST /ecomm/v2/payments/{orderId}/refund", s.authed(s.limit(limitModify, order, s.ecomAction(opRefund))))
	m.HandleFunc("PUT /ecomm/v2/payments/{orderId}/cancel", s.authed(s.limit(limitModify, order, s.ecomAction(opCancel))))
	m.HandleFunc("POST /ecomm/v2/integration-test/payments/{orderId}/approve", s.authed(s.ecomForceApprove))
	m.HandleFunc("GET "+landingPath, s.ecomLanding)

	m.HandleFunc("POST /qr/v1", s.authed(s.oneTimeQR))
	m.HandleFunc("GET /vippssim/s/{id}", s.qrShort)
	m.HandleFunc("GET /vippssim/qrimg/{id}", s.qrImage)

	m.HandleFunc("POST /order-management/v2/{paymentType}/receipts/{orderId}", s.authed(s.postReceipt))
	m.HandleFunc("GET /order-management/v2/{paymentType}/{orderId}", s.authed(s.getOrder))

	m.HandleFunc("POST /vippssim/faults", s.adminInjectFault)
	m.HandleFunc("GET /vippssim/faults", s.adminListFaults)
	m.HandleFunc("GET /vippssim/suspects", s.adminSuspects)
	m.HandleFunc("DELETE /vippssim/faults", s.adminClearFaults)

	m.HandleFunc("GET /vippssim/payments", s.adminList)
	m.HandleFunc("POST /vippssim/payments/{reference}/approve", s.adminApprove)
	m.HandleFunc("POST /vippssim/payments/{reference}/reject", s.adminReject)
	m.HandleFunc("GET /vippssim/qr/{reference}", s.qrCode)
	m.HandleFunc("GET /vippssim/pay/{reference}", s.landingPage)
	s.mux = m
}

// ServeHTTP serves the simulated APIs and records each request. Injected
// faults act here, before authentication and before any state is touched.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	f := s.takeFault(r)
	kind := ""
	if f != nil {
		kind = f.Kind
	}
	switch kind {
	case FaultLatency:
		wait(r, f.Latency)
		s.mux.ServeHTTP(sw, r)
	case FaultStatus:
		if f.RetryAfter > 0 {
			sw.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		}
		s.apiError(sw, r, f.Status, probFault, "injected fault: the simulator was told to fail this request")
	case FaultDrop:
		s.record(r, 0, kind)
		abort(sw)
		return
	case FaultLie:
		sw.status = s.lie(sw, r, f)
	case FaultReset:
		// The operation happens; only its answer is lost.
		s.mux.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		s.record(r, 0, kind)
		abort(sw)
		return
	default:
		s.mux.ServeHTTP(sw, r)
	}
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	s.record(r, sw.status, kind)
}

func (s *Server) record(r *http.Request, status int, fault string) {
	entry := RequestLog{
		Method:        r.Method,
		Path:          r.URL.Path,
		Header:        redact(r.Header),
		Status:        status,
		SystemHeaders: hasSystemHeaders(r.Header),
		Fault:         fault,
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

// Unwrap lets http.ResponseController reach the connection (FaultDrop).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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

// digits returns n random decimal digits (eCom transaction ids).
func (s *Server) digits(n int) string {
	b := s.randomBytes(n)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '5'
	}
	return string(b)
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
