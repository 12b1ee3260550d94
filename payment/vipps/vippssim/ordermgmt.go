package vippssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// receiptBody is what the simulator checks of an Order management receipt.
type receiptBody struct {
	OrderLines []struct {
		Name                    *string `json:"name"`
		ID                      *string `json:"id"`
		TotalAmount             *int64  `json:"totalAmount"`
		TotalAmountExcludingTax *int64  `json:"totalAmountExcludingTax"`
		TotalTaxAmount          *int64  `json:"totalTaxAmount"`
		TaxRate                 *int    `json:"taxRate"`
		TaxPercentage           *int    `json:"taxPercentage"`
	} `json:"orderLines"`
	BottomLine *struct {
		Currency string `json:"currency"`
	} `json:"bottomLine"`
}

func (b *receiptBody) problems() []string {
	var bad []string
	if len(b.OrderLines) == 0 {
		bad = append(bad, "orderLines needs at least one line")
	}
	for i, l := range b.OrderLines {
		at := fmt.Sprintf("orderLines[%d]", i)
		if l.Name == nil || l.ID == nil || l.TotalAmount == nil || l.TotalAmountExcludingTax == nil || l.TotalTaxAmount == nil {
			bad = append(bad, at+": name, id, totalAmount, totalAmountExcludingTax and totalTaxAmount are required")
			continue
		}
		if *l.TotalAmount != *l.TotalAmountExcludingTax+*l.TotalTaxAmount {
			bad = append(bad, fmt.Sprintf("%s: totalAmount %d is not totalAmountExcludingTax %d + totalTaxAmount %d",
				at, *l.TotalAmount, *l.TotalAmountExcludingTax, *l.TotalTaxAmount))
		}
		switch {
		case l.TaxRate == nil && l.TaxPercentage == nil:
			bad = append(bad, at+": set taxRate (0–10000, 2500 is 25 %)")
		case l.TaxRate != nil && (*l.TaxRate < 0 || *l.TaxRate > 10000):
			bad = append(bad, fmt.Sprintf("%s: taxRate %d must be 0–10000", at, *l.TaxRate))
		case l.TaxPercentage != nil && (*l.TaxPercentage < 0 || *l.TaxPercentage > 100):
			bad = append(bad, fmt.Sprintf("%s: taxPercentage %d must be 0–100", at, *l.TaxPercentage))
		}
	}
	if b.BottomLine == nil {
		bad = append(bad, "bottomLine is required")
	} else if c := b.BottomLine.Currency; c != "NOK" && c != "DKK" && c != "EUR" {
		bad = append(bad, fmt.Sprintf("bottomLine.currency %q must be NOK, DKK or EUR", c))
	}
	return bad
}

// receiptSlot finds where a payment's receipt is kept, for ePayment and eCom
// payments alike (both are paymentType ECOM). Callers hold s.mu.
func (s *Server) receiptSlot(orderID string) *json.RawMessage {
	if p := s.payments[orderID]; p != nil {
		return &p.receipt
	}
	if p := s.ecom[orderID]; p != nil {
		return &p.receipt
	}
	return nil
}

func (s *Server) orderFor(w http.ResponseWriter, r *http.Request) *json.RawMessage {
	if t := r.PathValue("paymentType"); t != "ECOM" {
		s.titled(w, http.StatusNotFound, "Not Found", fmt.Sprintf("paymentType %q is not simulated: use ECOM for ePayment and eCom payments", t))
		return nil
	}
	id := r.PathValue("orderId")
	slot := s.receiptSlot(id)
	if slot == nil {
		s.titled(w, http.StatusNotFound, "Not Found", fmt.Sprintf("no payment with orderId %q for this sales unit", id))
	}
	return slot
}

// postReceipt serves POST /order-management/v2/{paymentType}/receipts/{orderId}.
// A payment has one receipt: the second is refused with 409.
func (s *Server) postReceipt(w http.ResponseWriter, r *http.Request) {
	raw, _, ok := s.readJSON(w, r)
	if !ok {
		return
	}
	var b receiptBody
	if raw == nil || json.Unmarshal(raw, &b) != nil {
		s.titled(w, http.StatusBadRequest, "Validation error", "the body must be a Receipt: {orderLines, bottomLine}")
		return
	}
	if bad := b.problems(); len(bad) > 0 {
		s.titled(w, http.StatusBadRequest, "Validation error", strings.Join(bad, "; "))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := s.orderFor(w, r)
	if slot == nil {
		return
	}
	if len(*slot) > 0 {
		s.titled(w, http.StatusConflict, "Conflict", "this payment already has a receipt: a receipt is sent once")
		return
	}
	*slot = canonicalJSON(raw)
	writeJSON(w, http.StatusCreated, plainJSON, s.uuid())
}

// getOrder serves GET /order-management/v2/{paymentType}/{orderId}.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot := s.orderFor(w, r)
	if slot == nil {
		return
	}
	out := map[string]json.RawMessage{}
	if len(*slot) > 0 {
		out["receipt"] = *slot
	}
	writeJSON(w, http.StatusOK, plainJSON, out)
}
