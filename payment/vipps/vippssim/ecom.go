package vippssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"kasse/money"
)

// LandingLifetime is how long an eCom landing page (and so its QR) waits
// to be opened before the payment times out.
const LandingLifetime = 5 * time.Minute

// eCom operations (TransactionLogHistory.operation) and the simulator's
// eCom states, named like the deprecated /status endpoint's statuses.
const (
	ecomInitiate = "INITIATE"
	ecomReserve  = "RESERVE"
	ecomCapture  = "CAPTURE"
	ecomRefund   = "REFUND"
	ecomCancel   = "CANCEL"
	ecomFailed   = "FAILED"   // the issuer refused the reservation
	ecomRejected = "REJECTED" // the shopper did not act in time

	// ecomJSON is the content type ecom-v2.yaml declares everywhere.
	ecomJSON = "application/json;charset=UTF-8"
	// landingPath is the provider's landing-page path, served on the
	// simulator's host so that a QR of it can be scanned and opened.
	landingPath = "/dwo-api-application/v1/deeplink/vippsgateway"
)

type ecomPayment struct {
	msn                      string // the sales unit that initiated it: only it sees the payment
	orderID, text            string
	amount                   int64 // øre
	callbackPrefix, fallBack string
	isApp                    bool
	token, url               string
	created                  time.Time
	opened                   bool
	state                    string
	// Money in øre: reserved by the shopper, then captured, refunded and
	// released by cancel.
	reserved, captured, refunded, cancelled int64
	pendingUntil                            time.Time // unknown-result test amount
	log                                     []ecomLog
	receipt                                 json.RawMessage
}

type ecomLog struct {
	op, requestID, text, txID string
	amount                    int64
	success                   bool
	at                        time.Time
}

func (p *ecomPayment) add(s *Server, op string, amount int64, success bool, requestID, text string, at time.Time) ecomLog {
	l := ecomLog{op: op, amount: amount, success: success, requestID: requestID, text: text, txID: s.digits(10), at: at}
	p.log = append(p.log, l)
	return l
}

func (p *ecomPayment) nok(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }

// ecomError answers eCom's error format: an array of errors.
func (s *Server) ecomError(w http.ResponseWriter, status int, group, code, message string) {
	writeJSON(w, status, ecomJSON, []ecomErrorJSON{{
		ErrorGroup: group, ErrorCode: code, ErrorMessage: message, ContextID: s.uuid(),
	}})
}

type ecomErrorJSON struct {
	ErrorGroup   string `json:"errorGroup"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
	ContextID    string `json:"contextId,omitempty"`
}

// azureError is ecom-v2.yaml's ErrorFromAzure: the API gateway's answer.
type azureError struct {
	ResponseInfo azureInfo   `json:"responseInfo"`
	Result       azureResult `json:"result"`
}

type azureInfo struct {
	ResponseCode    int    `json:"responseCode"`
	ResponseMessage string `json:"responseMessage"`
}

type azureResult struct {
	Message string `json:"message"`
}

// eCom error groups (ecom-v2.yaml, Error.errorGroup).
const (
	groupInvalid  = "InvalidRequest"
	groupPayment  = "Payment"
	groupMerchant = "Merchant"
	groupVipps    = "VippsError"
)

// ecomGroupFor picks the group of an error that is not an operation's own.
func ecomGroupFor(status int) string {
	switch {
	case status >= 500:
		return groupVipps
	case status == http.StatusTooManyRequests:
		return groupMerchant
	}
	return groupInvalid
}

type ecomInitiateRequest struct {
	CustomerInfo *struct {
		MobileNumber string `json:"mobileNumber"`
	} `json:"customerInfo"`
	MerchantInfo *struct {
		MerchantSerialNumber string `json:"merchantSerialNumber"`
		CallbackPrefix       string `json:"callbackPrefix"`
		FallBack             string `json:"fallBack"`
		IsApp                bool   `json:"isApp"`
		PaymentType          string `json:"paymentType"`
	} `json:"merchantInfo"`
	Transaction *struct {
		OrderID         string `json:"orderId"`
		Amount          *int64 `json:"amount"`
		TransactionText string `json:"transactionText"`
		SkipLandingPage bool   `json:"skipLandingPage"`
	} `json:"transaction"`
}

// initiateECom serves POST /ecomm/v2/payments. It is not idempotent: an
// orderId can be initiated once, and a resend is refused.
func (s *Server) initiateECom(w http.ResponseWriter, r *http.Request) {
	var req ecomInitiateRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", "the body is not a valid InitiatePaymentCommand: "+err.Error())
		return
	}
	if msg := s.validateInitiate(&req, s.unitOf(r)); msg != "" {
		s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", msg)
		return
	}
	tx, mi := req.Transaction, req.MerchantInfo

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.referenceTaken(tx.OrderID) {
		s.ecomError(w, http.StatusBadRequest, groupPayment, "35",
			fmt.Sprintf("Requested Order Id %q is already in use: read GET /ecomm/v2/payments/%s/details, never initiate an orderId twice", tx.OrderID, tx.OrderID))
		return
	}
	now := s.clock.Now()
	p := &ecomPayment{
		msn:            mi.MerchantSerialNumber,
		orderID:        tx.OrderID,
		text:           tx.TransactionText,
		amount:         *tx.Amount,
		callbackPrefix: mi.CallbackPrefix,
		fallBack:       mi.FallBack,
		isApp:          mi.IsApp,
		token:          s.randomHex(24),
		created:        now,
		state:          ecomInitiate,
	}
	p.url = baseURL(r) + landingPath + "?v=2&token=" + p.token
	p.add(s, ecomInitiate, p.amount, true, "", p.text, now)
	s.ecom[p.orderID] = p
	s.landing[p.token] = p.orderID
	writeJSON(w, http.StatusOK, ecomJSON, map[string]string{"orderId": p.orderID, "url": p.url})
}

func (s *Server) validateInitiate(req *ecomInitiateRequest, unit SalesUnit) string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	mi, tx := req.MerchantInfo, req.Transaction
	if mi == nil {
		add("merchantInfo is required")
	} else {
		if !unit.knows(mi.MerchantSerialNumber) {
			add("merchantInfo.merchantSerialNumber %q is not a sales unit these API keys may act for", mi.MerchantSerialNumber)
		}
		for name, u := range map[string]string{"callbackPrefix": mi.CallbackPrefix, "fallBack": mi.FallBack} {
			if mi.IsApp && name == "fallBack" {
				continue // an app's deeplink scheme need not be https
			}
			if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || pu.Host == "" || len(u) > 255 {
				add("merchantInfo.%s %q must be an https URL of at most 255 characters", name, u)
			}
		}
		if t := mi.PaymentType; t != "" && t != "eComm Regular Payment" {
			add("merchantInfo.paymentType %q is not simulated: use eComm Regular Payment", t)
		}
	}
	if tx == nil {
		add("transaction is required")
	} else {
		if !validOrderID(tx.OrderID) {
			add("transaction.orderId %q must match ^[a-zA-Z0-9-]{1,50}$", tx.OrderID)
		}
		if tx.Amount == nil || *tx.Amount < 100 {
			add("transaction.amount must be at least 100 øre (1 NOK)")
		} else if *tx.Amount > maxAmount {
			add("transaction.amount %d is above the maximum of %d øre", *tx.Amount, maxAmount)
		}
		if n := utf8.RuneCountInString(tx.TransactionText); n == 0 || n > 100 {
			add("transaction.transactionText must have 1 to 100 characters, not %d", n)
		}
		if tx.SkipLandingPage {
			add("transaction.skipLandingPage is not enabled for this sales unit: send false and show the QR of the landing page")
		}
	}
	if c := req.CustomerInfo; c != nil && c.MobileNumber != "" && !validDigits(c.MobileNumber, 8, 8) {
		add("customerInfo.mobileNumber %q must be 8 digits without country code", c.MobileNumber)
	}
	slices.Sort(bad) // map order must not change the message
	return strings.Join(bad, "; ")
}

func validOrderID(id string) bool {
	if len(id) < 1 || len(id) > 50 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validDigits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// advanceECom applies what the clock decided: the shopper approving
// (AutoApprove), the issuer's late answer, or the 5 + 5 minute timeouts.
// Callers hold s.mu.
func (s *Server) advanceECom(p *ecomPayment, now time.Time) {
	if p.state != ecomInitiate {
		return
	}
	if d := s.cfg.AutoApprove; d > 0 && p.pendingUntil.IsZero() {
		at := p.created.Add(d)
		if !now.Before(at) && at.Before(p.created.Add(PaymentLifetime)) && (p.opened || at.Before(p.created.Add(LandingLifetime))) {
			p.opened = true
			s.settleECom(p, at)
		}
	}
	if !p.pendingUntil.IsZero() {
		if p.state == ecomInitiate && !now.Before(p.pendingUntil) {
			p.reserve(s, p.pendingUntil)
		}
		return
	}
	if p.state != ecomInitiate {
		return
	}
	var deadline time.Time
	var why string
	switch {
	case !p.opened && !now.Before(p.created.Add(LandingLifetime)):
		deadline, why = p.created.Add(LandingLifetime), "the landing page was not opened within 5 minutes"
	case !now.Before(p.created.Add(PaymentLifetime)):
		deadline, why = p.created.Add(PaymentLifetime), "the shopper did not approve within 10 minutes"
	default:
		return
	}
	p.state = ecomRejected
	p.cancelled = p.amount
	p.add(s, ecomCancel, p.amount, true, "", "Payment timed out: "+why, deadline)
}

// settleECom is the shopper approving: the issuer reserves, refuses (a
// failed RESERVE) or keeps the result unknown for an hour.
func (s *Server) settleECom(p *ecomPayment, at time.Time) {
	switch out, reason := testAmountOutcome(p.nok(p.amount)); out {
	case outcomeDeclined:
		p.state = ecomFailed
		p.add(s, ecomReserve, p.amount, false, "", reason, at)
	case outcomeUnknown:
		p.pendingUntil = at.Add(UnknownResultDelay)
	default:
		p.reserve(s, at)
	}
}

func (p *ecomPayment) reserve(s *Server, at time.Time) {
	p.state = ecomReserve
	p.reserved = p.amount
	p.add(s, ecomReserve, p.amount, true, "", p.text, at)
}

// approveECom is the shopper paying in the app. Callers hold s.mu and have
// advanced p.
func (s *Server) approveECom(p *ecomPayment) error {
	switch {
	case p.state == ecomInitiate:
		p.opened = true
		if p.pendingUntil.IsZero() {
			s.settleECom(p, s.clock.Now())
		}
		return nil
	case p.reserved > 0:
		return nil
	}
	return fmt.Errorf("payment %s is %s and can no longer be approved", p.orderID, p.state)
}

// rejectECom is the shopper declining in the app: the payment is cancelled.
func (s *Server) rejectECom(p *ecomPayment) error {
	if p.state != ecomInitiate {
		return fmt.Errorf("payment %s is %s and can no longer be rejected", p.orderID, p.state)
	}
	p.state = ecomCancel
	p.cancelled = p.amount
	p.add(s, ecomCancel, p.amount, true, "", "Cancelled by the shopper in the app", s.clock.Now())
	return nil
}

// lookupECom finds an eCom payment and brings it up to date, answering
// 404 in eCom's format when there is none. Callers hold s.mu.
func (s *Server) lookupECom(w http.ResponseWriter, r *http.Request) *ecomPayment {
	id := r.PathValue("orderId")
	p := s.ecom[id]
	// Like ePayment: a payment is visible only under the MSN that made it
	// (partner keys, option A), so a read under another store's MSN fails.
	if p == nil || p.msn != r.Header.Get("Merchant-Serial-Number") {
		s.ecomError(w, http.StatusNotFound, groupInvalid, "101", fmt.Sprintf("no eCom payment with orderId %q for this sales unit", id))
		return nil
	}
	s.advanceECom(p, s.clock.Now())
	return p
}

type ecomSummary struct {
	CapturedAmount           int64 `json:"capturedAmount"`
	RefundedAmount           int64 `json:"refundedAmount"`
	RemainingAmountToCapture int64 `json:"remainingAmountToCapture"`
	RemainingAmountToRefund  int64 `json:"remainingAmountToRefund"`
}

func (p *ecomPayment) summary() ecomSummary {
	return ecomSummary{
		CapturedAmount:           p.captured,
		RefundedAmount:           p.refunded,
		RemainingAmountToCapture: max(p.reserved-p.captured-p.cancelled, 0),
		RemainingAmountToRefund:  p.captured - p.refunded,
	}
}

type ecomLogJSON struct {
	Amount           int64  `json:"amount"`
	Operation        string `json:"operation"`
	OperationSuccess bool   `json:"operationSuccess"`
	RequestID        string `json:"requestId,omitempty"`
	TimeStamp        string `json:"timeStamp"`
	TransactionID    string `json:"transactionId"`
	TransactionText  string `json:"transactionText"`
}

// ecomDetails serves GET /ecomm/v2/payments/{orderId}/details.
func (s *Server) ecomDetails(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookupECom(w, r)
	if p == nil {
		return
	}
	hist := make([]ecomLogJSON, 0, len(p.log))
	for i := len(p.log) - 1; i >= 0; i-- { // newest first, as the spec says
		l := p.log[i]
		hist = append(hist, ecomLogJSON{
			Amount: l.amount, Operation: l.op, OperationSuccess: l.success, RequestID: l.requestID,
			TimeStamp: l.at.UTC().Format(ecomTime), TransactionID: l.txID, TransactionText: l.text,
		})
	}
	writeJSON(w, http.StatusOK, ecomJSON, struct {
		OrderID               string        `json:"orderId"`
		TransactionLogHistory []ecomLogJSON `json:"transactionLogHistory"`
		TransactionSummary    ecomSummary   `json:"transactionSummary"`
	}{p.orderID, hist, p.summary()})
}

// ecomTime is ISO 8601 with milliseconds, as in the spec's examples.
const ecomTime = "2006-01-02T15:04:05.000Z07:00"

// ecomForceApprove serves POST /ecomm/v2/integration-test/payments/{orderId}/approve.
func (s *Server) ecomForceApprove(w http.ResponseWriter, r *http.Request) {
	raw, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	if raw != nil {
		var body struct {
			CustomerPhoneNumber string `json:"customerPhoneNumber"`
			Token               string `json:"token"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", "the body does not fit ForceApproveRequest: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookupECom(w, r)
	if p == nil {
		return
	}
	if err := s.approveECom(p); err != nil {
		s.ecomError(w, http.StatusBadRequest, groupPayment, "61", err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// ecomLanding is the landing page the eCom url points at: opening it stops
// the 5-minute clock and shows the payment with approve and reject buttons.
func (s *Server) ecomLanding(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := s.landing[r.URL.Query().Get("token")]
	p := s.ecom[id]
	if p != nil {
		s.advanceECom(p, s.clock.Now())
		if p.state == ecomInitiate {
			p.opened = true
		}
	}
	s.mu.Unlock()
	if p == nil {
		http.Error(w, "unknown or expired payment link", http.StatusNotFound)
		return
	}
	info, _ := s.Payment(id)
	s.renderLanding(w, info)
}

func (p *ecomPayment) info() PaymentInfo {
	return PaymentInfo{
		API:       "ecom",
		Reference: p.orderID,
		State:     p.state,
		Amount:    p.nok(p.amount),
		Aggregate: Aggregate{
			Authorized: p.nok(p.reserved),
			Cancelled:  p.nok(p.cancelled),
			Captured:   p.nok(p.captured),
			Refunded:   p.nok(p.refunded),
		},
		CreatedAt:   p.created,
		ExpiresAt:   p.created.Add(PaymentLifetime),
		RedirectURL: p.url,
		Description: p.text,
		Receipt:     p.receipt,
	}
}
