package vippssim

// eCom's capture, refund and cancel: X-Request-Id keyed, each a line in
// the payment's transaction log.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"
)

type ecomActionRequest struct {
	MerchantInfo *struct {
		MerchantSerialNumber string `json:"merchantSerialNumber"`
	} `json:"merchantInfo"`
	Transaction *struct {
		Amount          *int64 `json:"amount"`
		TransactionText string `json:"transactionText"`
	} `json:"transaction"`
	ShouldReleaseRemainingFunds bool `json:"shouldReleaseRemainingFunds"`
}

type ecomTxInfo struct {
	Amount          int64  `json:"amount"`
	Status          string `json:"status"`
	TimeStamp       string `json:"timeStamp"`
	TransactionID   string `json:"transactionId"`
	TransactionText string `json:"transactionText"`
}

// ecomAction serves capture, refund and cancel. X-Request-Id makes a
// resend safe: the same id and body give the stored answer again.
func (s *Server) ecomAction(op string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := r.Header.Get("X-Request-Id")
		if len(reqID) > 40 {
			s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", "X-Request-Id is longer than 40 characters")
			return
		}
		if reqID == "" && op != opCancel {
			s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest",
				"X-Request-Id is required: send a unique id per "+op+" and reuse it only to retry")
			return
		}
		raw, canon, ok := s.readJSON(w, r)
		if !ok {
			return
		}
		var req ecomActionRequest
		if raw != nil {
			if err := json.Unmarshal(raw, &req); err != nil {
				s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", "the body does not fit the request: "+err.Error())
				return
			}
		}
		switch {
		case req.MerchantInfo == nil || req.MerchantInfo.MerchantSerialNumber != r.Header.Get("Merchant-Serial-Number"):
			s.ecomError(w, http.StatusBadRequest, groupMerchant, "InvalidRequest", "merchantInfo.merchantSerialNumber must be the MSN of the sales unit in the Merchant-Serial-Number header")
			return
		case req.Transaction == nil || req.Transaction.TransactionText == "" || utf8.RuneCountInString(req.Transaction.TransactionText) > 100:
			s.ecomError(w, http.StatusBadRequest, groupInvalid, "InvalidRequest", "transaction.transactionText is required (1 to 100 characters)")
			return
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		p := s.lookupECom(w, r)
		if p == nil {
			return
		}
		scope := idemScope{msn: r.Header.Get("Merchant-Serial-Number"), op: "ecom-" + op, reference: p.orderID, key: reqID}
		if reqID != "" {
			if e := s.idem[scope]; e != nil {
				if e.body != canon {
					s.ecomError(w, http.StatusConflict, groupInvalid, "InvalidRequest",
						fmt.Sprintf("X-Request-Id %q was already used for a different %s of this order: reuse an id only to retry the identical request", reqID, op))
					return
				}
				w.Header().Set("Content-Type", e.contentType)
				w.WriteHeader(e.status)
				w.Write(e.response)
				return
			}
		}
		now := s.clock.Now()
		var amount int64
		if req.Transaction.Amount != nil {
			amount = *req.Transaction.Amount
		}
		var (
			l      ecomLog
			status string
			msg    string
		)
		switch op {
		case opCapture:
			l, msg = s.ecomCapture(p, amount, reqID, req.Transaction.TransactionText, now)
			status = "Captured"
		case opRefund:
			l, msg = s.ecomRefund(p, amount, reqID, req.Transaction.TransactionText, now)
			status = "Refund"
		case opCancel:
			l, msg = s.ecomCancelOp(p, req.ShouldReleaseRemainingFunds, reqID, req.Transaction.TransactionText, now)
			status = "Cancelled"
		}
		if msg != "" {
			s.ecomError(w, http.StatusBadRequest, groupPayment, "61", msg)
			return
		}
		info := ecomTxInfo{Amount: l.amount, Status: status, TimeStamp: l.at.UTC().Format(ecomTime), TransactionID: l.txID, TransactionText: l.text}
		var resp any
		if op == opRefund {
			resp = struct {
				OrderID            string      `json:"orderId"`
				Transaction        ecomTxInfo  `json:"transaction"`
				TransactionSummary ecomSummary `json:"transactionSummary"`
			}{p.orderID, info, p.summary()}
		} else {
			resp = struct {
				OrderID            string      `json:"orderId"`
				TransactionInfo    ecomTxInfo  `json:"transactionInfo"`
				TransactionSummary ecomSummary `json:"transactionSummary"`
			}{p.orderID, info, p.summary()}
		}
		if reqID == "" {
			writeJSON(w, http.StatusOK, ecomJSON, resp)
			return
		}
		s.succeed(w, scope, canon, http.StatusOK, ecomJSON, resp)
	}
}

// ecomCapture takes amount (0: all that is left) of a reservation.
func (s *Server) ecomCapture(p *ecomPayment, amount int64, reqID, text string, now time.Time) (ecomLog, string) {
	if p.reserved == 0 {
		return ecomLog{}, fmt.Sprintf("cannot capture order %s in state %s: the shopper has not approved it", p.orderID, p.state)
	}
	left := p.reserved - p.captured - p.cancelled
	if amount == 0 {
		amount = left
	}
	switch {
	case left == 0:
		return ecomLog{}, fmt.Sprintf("nothing left to capture on order %s: captured %s, cancelled %s", p.orderID, p.nok(p.captured), p.nok(p.cancelled))
	case amount < 100:
		return ecomLog{}, "transaction.amount must be at least 100 øre, or left out to capture all that is reserved"
	case amount > left:
		return ecomLog{}, fmt.Sprintf("capture of %s exceeds the %s left to capture", p.nok(amount), p.nok(left))
	}
	p.captured += amount
	p.state = ecomCapture
	return p.add(s, ecomCapture, amount, true, reqID, text, now), ""
}

// ecomRefund returns amount (0: all captured and not refunded).
func (s *Server) ecomRefund(p *ecomPayment, amount int64, reqID, text string, now time.Time) (ecomLog, string) {
	left := p.captured - p.refunded
	if amount == 0 {
		amount = left
	}
	switch {
	case left == 0:
		return ecomLog{}, fmt.Sprintf("nothing to refund on order %s: captured %s, refunded %s", p.orderID, p.nok(p.captured), p.nok(p.refunded))
	case amount < 100:
		return ecomLog{}, "transaction.amount must be at least 100 øre, or left out to refund all that is captured"
	case amount > left:
		return ecomLog{}, fmt.Sprintf("refund of %s exceeds the %s captured and not yet refunded", p.nok(amount), p.nok(left))
	}
	p.refunded += amount
	p.state = ecomRefund
	s.noteRefund("ecom", p.orderID, reqID, amount, now)
	return p.add(s, ecomRefund, amount, true, reqID, text, now), ""
}

// ecomCancelOp stops an unapproved payment or releases what is reserved
// and not captured; after a partial capture only with
// shouldReleaseRemainingFunds, as the spec says.
func (s *Server) ecomCancelOp(p *ecomPayment, release bool, reqID, text string, now time.Time) (ecomLog, string) {
	switch {
	case p.state == ecomInitiate:
		p.state = ecomCancel
		p.cancelled = p.amount
		p.pendingUntil = time.Time{}
		return p.add(s, ecomCancel, p.amount, true, reqID, text, now), ""
	case p.reserved == 0:
		return ecomLog{}, fmt.Sprintf("cannot cancel order %s: it is already %s", p.orderID, p.state)
	}
	left := p.reserved - p.captured - p.cancelled
	switch {
	case left == 0:
		return ecomLog{}, fmt.Sprintf("nothing left to cancel on order %s: captured %s; refund instead", p.orderID, p.nok(p.captured))
	case p.captured > 0 && !release:
		return ecomLog{}, "the order is partly captured: set shouldReleaseRemainingFunds to release the rest"
	}
	p.cancelled += left
	p.state = ecomCancel
	return p.add(s, ecomCancel, left, true, reqID, text, now), ""
}
