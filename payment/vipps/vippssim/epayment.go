package vippssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"kasse/money"
	"kasse/vippsid"
)

// Payment states and event names of the ePayment API.
const (
	StateCreated    = "CREATED"
	StateAuthorized = "AUTHORIZED"
	StateAborted    = "ABORTED"
	StateExpired    = "EXPIRED"
	StateTerminated = "TERMINATED"

	eventCaptured  = "CAPTURED"
	eventRefunded  = "REFUNDED"
	eventCancelled = "CANCELLED"

	flowQR   = "QR"
	flowPush = "PUSH_MESSAGE"

	qrText = "TEXT/TARGETURL"
	qrSVG  = "IMAGE/SVG+XML"
	qrPNG  = "IMAGE/PNG"

	opCreate  = "create"
	opCapture = "capture"
	opRefund  = "refund"
	opCancel  = "cancel"

	// maxAmount is the Amount schema's maximum in epayment-v1.yaml.
	maxAmount = 65_000_000
	// maxBody bounds what the simulator reads from a request.
	maxBody    = 1 << 20
	timeFormat = time.RFC3339Nano
)

type payment struct {
	reference, psp string
	msn            string // the merchant that created it
	amount         money.Amount
	state          string
	// Aggregate amounts in minor units.
	authorized, cancelled, captured, refunded int64

	userFlow, qrFormat string
	qrSize             int
	description        string
	interaction        string // customerInteraction, as sent
	metadata           map[string]string
	created, expires   time.Time
	redirectURL        string
	events             []event
	// pendingUntil is set when the shopper approved the "unknown result"
	// test amount: the payment stays CREATED until then.
	pendingUntil time.Time
	receipt      json.RawMessage // sent in create or to Order management
}

type event struct {
	name    string
	amount  int64
	at      time.Time
	key     string // Idempotency-Key of the request that caused it; "" for the shopper's or the clock's
	success bool
}

func (p *payment) record(name string, amount int64, at time.Time, key string) {
	p.events = append(p.events, event{name: name, amount: amount, at: at, key: key, success: true})
}

func (p *payment) of(v int64) money.Amount {
	return money.Amount{Value: v, Currency: p.amount.Currency}
}

// advance applies what the clock has decided since the payment was last
// looked at: the shopper approving (AutoApprove) or the payment expiring.
// Callers hold s.mu.
func (s *Server) advance(p *payment, now time.Time) {
	if p.state != StateCreated {
		return
	}
	if d := s.cfg.AutoApprove; d > 0 && p.pendingUntil.IsZero() && (p.userFlow == flowQR || p.userFlow == flowPush) {
		if at := p.created.Add(d); !now.Before(at) && at.Before(p.expires) {
			p.settle(at)
		}
	}
	if !p.pendingUntil.IsZero() {
		// An approved payment waiting for the issuer does not expire.
		if p.state == StateCreated && !now.Before(p.pendingUntil) {
			p.authorize(p.pendingUntil)
		}
		return
	}
	if p.state == StateCreated && !now.Before(p.expires) {
		p.state = StateExpired
		p.record(StateExpired, p.amount.Value, p.expires, "")
	}
}

// settle is the shopper approving at a given time: the issuer authorizes,
// refuses (a test amount: ABORTED, with a failed AUTHORIZED event first so
// the log says why), or keeps the result unknown for an hour.
func (p *payment) settle(at time.Time) {
	switch out, _ := testAmountOutcome(p.amount); out {
	case outcomeDeclined:
		p.events = append(p.events, event{name: StateAuthorized, amount: p.amount.Value, at: at})
		p.state = StateAborted
		p.record(StateAborted, p.amount.Value, at, "")
	case outcomeUnknown:
		p.pendingUntil = at.Add(UnknownResultDelay)
	default:
		p.authorize(at)
	}
}

func (p *payment) authorize(at time.Time) {
	p.state = StateAuthorized
	p.authorized = p.amount.Value
	p.record(StateAuthorized, p.amount.Value, at, "")
}

type createRequest struct {
	Amount   *money.Amount `json:"amount"`
	Customer *struct {
		PhoneNumber   string `json:"phoneNumber"`
		PersonalQr    string `json:"personalQr"`
		CustomerToken string `json:"customerToken"`
	} `json:"customer"`
	CustomerInteraction string `json:"customerInteraction"`
	PaymentMethod       *struct {
		Type string `json:"type"`
	} `json:"paymentMethod"`
	Reference string `json:"reference"`
	UserFlow  string `json:"userFlow"`
	QRFormat  *struct {
		Format string `json:"format"`
		Size   *int   `json:"size"`
	} `json:"qrFormat"`
	PaymentDescription *string           `json:"paymentDescription"`
	ExpiresAt          *string           `json:"expiresAt"`
	Receipt            json.RawMessage   `json:"receipt"`
	Metadata           map[string]string `json:"metadata"`
}

type createResponse struct {
	Reference   string `json:"reference"`
	RedirectURL string `json:"redirectUrl,omitempty"`
}

// createPayment serves POST /epayment/v1/payments.
func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	key, ok := s.idempotencyKey(w, r)
	if !ok {
		return
	}
	raw, canon, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	if raw == nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "missing request body: send a CreatePaymentRequest")
		return
	}
	var req createRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "the request body does not fit CreatePaymentRequest: "+err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	scope := idemScope{msn: r.Header.Get("Merchant-Serial-Number"), op: opCreate, key: key}
	if s.replay(w, r, scope, canon) {
		return
	}
	now := s.clock.Now()
	expires, extras := validateCreate(&req, now)
	if len(extras) > 0 {
		reasons := make([]string, len(extras))
		for i, e := range extras {
			reasons[i] = e.Name + ": " + e.Reason
		}
		s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", strings.Join(reasons, "; "), extras...)
		return
	}
	if s.referenceTaken(req.Reference) {
		s.problem(w, r, http.StatusConflict, probConflict, "Conflict",
			fmt.Sprintf("reference %q is already used by another payment (created with another Idempotency-Key): never reuse a reference, add a suffix", req.Reference))
		return
	}

	p := &payment{
		msn:         r.Header.Get("Merchant-Serial-Number"),
		reference:   req.Reference,
		psp:         s.uuid(),
		amount:      *req.Amount,
		state:       StateCreated,
		userFlow:    req.UserFlow,
		interaction: req.CustomerInteraction,
		metadata:    req.Metadata,
		created:     now,
		expires:     expires,
	}
	if req.PaymentDescription != nil {
		p.description = *req.PaymentDescription
	}
	if len(req.Receipt) > 0 && string(req.Receipt) != "null" {
		p.receipt = canonicalJSON(req.Receipt)
	}
	if p.userFlow == flowQR {
		p.qrFormat, p.qrSize = qrSVG, 1024 // the spec's defaults
		if f := req.QRFormat; f != nil {
			p.qrFormat = f.Format
			if f.Size != nil {
				p.qrSize = *f.Size
			}
		}
		p.redirectURL = baseURL(r) + "/vippssim/qr/" + p.reference
	}
	p.record(StateCreated, p.amount.Value, now, key)
	s.payments[p.reference] = p
	// PUSH_MESSAGE returns no redirectUrl, as the spec says.
	s.succeed(w, scope, canon, http.StatusCreated, plainJSON, createResponse{Reference: p.reference, RedirectURL: p.redirectURL})
}

// referenceTaken reports whether an ePayment reference or eCom orderId is
// in use: both APIs share one namespace per sales unit. Callers hold s.mu.
func (s *Server) referenceTaken(ref string) bool {
	_, p := s.payments[ref]
	_, e := s.ecom[ref]
	return p || e
}

// validateCreate applies the rules of CreatePaymentRequest that the
// simulator enforces, and returns when the payment expires.
func validateCreate(req *createRequest, now time.Time) (time.Time, []extraDetail) {
	var bad []extraDetail
	add := func(name, format string, args ...any) {
		bad = append(bad, extraDetail{Name: name, Reason: fmt.Sprintf(format, args...)})
	}
	if !vippsid.Reference(req.Reference) {
		add("reference", "%q must match ^[a-zA-Z0-9-]{8,50}$ (8 to 50 letters, digits or dashes)", req.Reference)
	}
	switch a := req.Amount; {
	case a == nil:
		add("amount", "is required: {\"value\": minor units, \"currency\": \"NOK\"}")
	case !money.ValidCurrency(a.Currency):
		add("amount.currency", "%q is not supported: use NOK, DKK or EUR", a.Currency)
	case a.Value <= 0:
		add("amount.value", "%d must be positive, in minor units (1000 is 10,00)", a.Value)
	case a.Value > maxAmount:
		add("amount.value", "%d is above the maximum of %d minor units", a.Value, maxAmount)
	}
	if req.PaymentMethod == nil {
		add("paymentMethod", "is required: {\"type\": \"WALLET\"}")
	} else if req.PaymentMethod.Type != "WALLET" {
		add("paymentMethod.type", "%q is not simulated: use WALLET", req.PaymentMethod.Type)
	}
	switch req.UserFlow {
	case flowQR:
		if f := req.QRFormat; f != nil {
			switch f.Format {
			case qrText, qrSVG, qrPNG:
			default:
				add("qrFormat.format", "%q must be TEXT/TARGETURL, IMAGE/SVG+XML or IMAGE/PNG", f.Format)
			}
			if f.Size != nil && (*f.Size < 100 || *f.Size > 2000) {
				add("qrFormat.size", "%d must be between 100 and 2000 pixels", *f.Size)
			}
		}
	case flowPush:
		if req.Customer == nil || req.Customer.PhoneNumber == "" {
			add("customer.phoneNumber", "is required when userFlow is PUSH_MESSAGE")
		}
	case "":
		add("userFlow", "is required: QR or PUSH_MESSAGE")
	default:
		add("userFlow", "%q is not simulated: use QR or PUSH_MESSAGE", req.UserFlow)
	}
	if c := req.Customer; c != nil {
		n := 0
		for _, v := range []string{c.PhoneNumber, c.PersonalQr, c.CustomerToken} {
			if v != "" {
				n++
			}
		}
		if n > 1 {
			add("customer", "give only one of phoneNumber, personalQr and customerToken")
		}
		if c.PhoneNumber != "" && !validPhone(c.PhoneNumber) {
			add("customer.phoneNumber", "%q must be 10 to 15 digits with country code and no +, like 4791234567", c.PhoneNumber)
		}
	}
	switch req.CustomerInteraction {
	case "", "CUSTOMER_PRESENT", "CUSTOMER_NOT_PRESENT":
	default:
		add("customerInteraction", "%q must be CUSTOMER_PRESENT or CUSTOMER_NOT_PRESENT", req.CustomerInteraction)
	}
	if d := req.PaymentDescription; d != nil {
		if n := utf8.RuneCountInString(*d); n < 3 || n > 100 {
			add("paymentDescription", "has %d characters; it must have 3 to 100", n)
		}
	}
	if len(req.Metadata) > 5 {
		add("metadata", "has %d entries; at most 5", len(req.Metadata))
	}
	for k, v := range req.Metadata {
		if len(k) > 100 || len(v) > 500 {
			add("metadata", "key %q: keys are at most 100 and values at most 500 characters", k)
		}
	}
	expires := now.Add(PaymentLifetime)
	if e := req.ExpiresAt; e != nil && *e != "" {
		t, err := time.Parse(time.RFC3339, *e)
		switch {
		case err != nil:
			add("expiresAt", "%q is not an RFC 3339 time", *e)
		case !t.After(now.Add(PaymentLifetime)) || !t.Before(now.Add(28*24*time.Hour)):
			add("expiresAt", "must be more than 10 minutes and less than 28 days ahead")
		case len(req.Receipt) == 0 || string(req.Receipt) == "null":
			add("receipt", "is required when expiresAt is set")
		default:
			expires = t
		}
	}
	return expires, bad
}

func validPhone(n string) bool {
	if len(n) < 10 || len(n) > 15 {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// lookup finds a payment and brings it up to date, answering 404 when it
// does not exist. Callers hold s.mu.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *payment {
	ref := r.PathValue("reference")
	p := s.payments[ref]
	if p == nil || (p.msn != "" && p.msn != r.Header.Get("Merchant-Serial-Number")) {
		s.problem(w, r, http.StatusNotFound, probNotFound, "Not Found",
			fmt.Sprintf("no payment with reference %q for this merchant", ref))
		return nil
	}
	s.advance(p, s.clock.Now())
	return p
}

func (p *payment) aggregate() Aggregate {
	return Aggregate{
		Authorized: p.of(p.authorized),
		Cancelled:  p.of(p.cancelled),
		Captured:   p.of(p.captured),
		Refunded:   p.of(p.refunded),
	}
}

type getPaymentResponse struct {
	Aggregate     Aggregate    `json:"aggregate"`
	Amount        money.Amount `json:"amount"`
	State         string       `json:"state"`
	PaymentMethod struct {
		Type string `json:"type"`
	} `json:"paymentMethod"`
	Profile      struct{}          `json:"profile"` // required; no scope is ever asked for
	PSPReference string            `json:"pspReference"`
	Reference    string            `json:"reference"`
	RedirectURL  string            `json:"redirectUrl,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// getPayment serves GET /epayment/v1/payments/{reference}.
func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	resp := getPaymentResponse{
		Aggregate:    p.aggregate(),
		Amount:       p.amount,
		State:        p.state,
		PSPReference: p.psp,
		Reference:    p.reference,
		RedirectURL:  p.redirectURL,
		Metadata:     p.metadata,
	}
	resp.PaymentMethod.Type = "WALLET"
	writeJSON(w, http.StatusOK, plainJSON, resp)
}

type eventJSON struct {
	Reference    string `json:"reference"`
	PSPReference string `json:"pspReference"`
	Name         string `json:"name"`
	// PaymentAction is listed as required by PaymentEvent in
	// epayment-v1.yaml although the schema never defines it; it carries
	// the same value as name so that both readings of the spec hold.
	PaymentAction  string       `json:"paymentAction"`
	Amount         money.Amount `json:"amount"`
	Timestamp      string       `json:"timestamp"`
	IdempotencyKey *string      `json:"idempotencyKey"`
	Success        bool         `json:"success"`
}

// getEvents serves GET /epayment/v1/payments/{reference}/events.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	out := make([]eventJSON, len(p.events))
	for i, e := range p.events {
		out[i] = eventJSON{
			Reference:     p.reference,
			PSPReference:  p.psp,
			Name:          e.name,
			PaymentAction: e.name,
			Amount:        p.of(e.amount),
			Timestamp:     e.at.UTC().Format(timeFormat),
			Success:       e.success,
		}
		if e.key != "" {
			out[i].IdempotencyKey = &e.key
		}
	}
	writeJSON(w, http.StatusOK, plainJSON, out)
}
