package vippssim

// ePayment's capture, refund and cancel, and the test environment's
// force-approve: the state changes after a payment exists.

import (
	"encoding/json"
	"fmt"
	"kasse/money"
	"net/http"
	"time"
)

type modificationRequest struct {
	ModificationAmount *money.Amount `json:"modificationAmount"`
}

type modificationResponse struct {
	Amount       money.Amount `json:"amount"`
	State        string       `json:"state"`
	Aggregate    Aggregate    `json:"aggregate"`
	PSPReference string       `json:"pspReference"`
	Reference    string       `json:"reference"`
}

// modify serves capture, refund and cancel.
func (s *Server) modify(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := s.idempotencyKey(w, r)
		if !ok {
			return
		}
		raw, canon, ok := s.readJSON(w, r)
		if !ok {
			return
		}
		var req modificationRequest
		if op != opCancel {
			if raw != nil {
				if err := json.Unmarshal(raw, &req); err != nil {
					s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request",
						"the request body does not fit the modification request: "+err.Error())
					return
				}
			}
			if req.ModificationAmount == nil {
				s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request",
					"modificationAmount is required: {\"modificationAmount\": {\"value\": 1000, \"currency\": \"NOK\"}}",
					extraDetail{"modificationAmount", "required"})
				return
			}
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.lookup(w, r)
		if p == nil {
			return
		}
		scope := idemScope{msn: r.Header.Get("Merchant-Serial-Number"), op: op, reference: p.reference, key: key}
		if s.replay(w, r, scope, canon) {
			return
		}
		now := s.clock.Now()
		var fail func()
		switch op {
		case opCancel:
			fail = s.cancel(w, r, p, now, key)
		default:
			fail = s.adjust(w, r, op, p, *req.ModificationAmount, now, key)
		}
		if fail != nil {
			fail()
			return
		}
		// AdjustResponse is declared as application/problem+json in
		// epayment-v1.yaml, even for 200; the simulator follows the document.
		s.succeed(w, scope, canon, http.StatusOK, problemJSON, modificationResponse{
			Amount:       p.amount,
			State:        p.state,
			Aggregate:    p.aggregate(),
			PSPReference: p.psp,
			Reference:    p.reference,
		})
	}
}

// adjust applies a capture or refund, or returns the answer to a refusal.
func (s *Server) adjust(w http.ResponseWriter, r *http.Request, op string, p *payment, a money.Amount, now time.Time, key string) func() {
	refuse := func(status int, kind, detail string) func() {
		return func() { s.problem(w, r, status, kind, http.StatusText(status), detail) }
	}
	if p.state != StateAuthorized {
		return refuse(http.StatusConflict, probInvalidState,
			fmt.Sprintf("cannot %s a payment in state %s: only AUTHORIZED payments can be captured or refunded", op, p.state))
	}
	if a.Currency != p.amount.Currency {
		return refuse(http.StatusBadRequest, probValidation,
			fmt.Sprintf("modificationAmount.currency %q differs from the payment's %s", a.Currency, p.amount.Currency))
	}
	if a.Value <= 0 {
		return refuse(http.StatusBadRequest, probValidation, "modificationAmount.value must be positive, in minor units")
	}
	switch op {
	case opCapture:
		left := p.authorized - p.captured - p.cancelled
		if a.Value > left {
			return refuse(http.StatusBadRequest, probValidation,
				fmt.Sprintf("capture of %s exceeds the %s still authorized (authorized %s, captured %s, cancelled %s)",
					a, p.of(left), p.of(p.authorized), p.of(p.captured), p.of(p.cancelled)))
		}
		p.captured += a.Value
		p.record(eventCaptured, a.Value, now, key)
	case opRefund:
		left := p.captured - p.refunded
		if a.Value > left {
			return refuse(http.StatusBadRequest, probValidation,
				fmt.Sprintf("refund of %s exceeds the %s captured and not yet refunded", a, p.of(left)))
		}
		p.refunded += a.Value
		p.record(eventRefunded, a.Value, now, key)
		s.noteRefund("epayment", p.reference, key, a.Value, now)
	}
	return nil
}

// cancel follows the provider's API guide: before authorization the
// payment becomes TERMINATED with its whole amount shown as cancelled; after
// authorization the state stays AUTHORIZED (a final state) and the part not
// yet captured is released, which the aggregate shows as cancelledAmount.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, p *payment, now time.Time, key string) func() {
	switch p.state {
	case StateCreated:
		p.state = StateTerminated
		p.cancelled = p.amount.Value
		p.record(StateTerminated, p.amount.Value, now, key)
		return nil
	case StateAuthorized:
		left := p.authorized - p.captured - p.cancelled
		if left == 0 {
			return func() {
				s.problem(w, r, http.StatusConflict, probInvalidState, "Conflict",
					fmt.Sprintf("nothing left to cancel: %s captured and %s already cancelled of %s authorized; refund instead",
						p.of(p.captured), p.of(p.cancelled), p.of(p.authorized)))
			}
		}
		p.cancelled += left
		p.record(eventCancelled, left, now, key)
		return nil
	default:
		return func() {
			s.problem(w, r, http.StatusConflict, probInvalidState, "Conflict",
				fmt.Sprintf("cannot cancel a payment in state %s: it is already final", p.state))
		}
	}
}

// forceApprove serves POST /epayment/v1/test/payments/{reference}/approve.
func (s *Server) forceApprove(w http.ResponseWriter, r *http.Request) {
	raw, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	if raw != nil {
		var body struct {
			Customer *struct {
				PhoneNumber string `json:"phoneNumber"`
			} `json:"customer"`
			Token string `json:"token"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			s.problem(w, r, http.StatusBadRequest, probValidation, "Bad Request", "the request body does not fit ForceApprove: "+err.Error())
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.lookup(w, r)
	if p == nil {
		return
	}
	if err := s.approve(p); err != nil {
		s.problem(w, r, http.StatusConflict, probInvalidState, "Conflict", err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// approve is the shopper paying. Approving twice is harmless. Callers hold
// s.mu and have advanced p.
func (s *Server) approve(p *payment) error {
	switch p.state {
	case StateCreated:
		if p.pendingUntil.IsZero() {
			p.settle(s.clock.Now())
		}
		return nil
	case StateAuthorized:
		return nil
	default:
		return fmt.Errorf("payment %s is %s and can no longer be approved", p.reference, p.state)
	}
}

// reject is the shopper declining in the app. Callers hold s.mu.
func (s *Server) reject(p *payment) error {
	if p.state != StateCreated {
		return fmt.Errorf("payment %s is %s and can no longer be rejected", p.reference, p.state)
	}
	p.state = StateAborted
	p.record(StateAborted, p.amount.Value, s.clock.Now(), "")
	return nil
}
