package vippssim

import (
	"net/http"
	"strings"
	"testing"

	"kasse/payment/vipps/vippsspec"
)

func receiptJSON(total int64) map[string]any {
	return map[string]any{
		"orderLines": []any{map[string]any{
			"name": "Kaffe", "id": "1", "totalAmount": total, "totalAmountExcludingTax": total * 4 / 5,
			"totalTaxAmount": total - total*4/5, "taxRate": 2500,
		}},
		"bottomLine": map[string]any{"currency": "NOK", "posId": "lane-1", "receiptNumber": "r-1"},
	}
}

func testReceipts(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.initiate("receipt-ecom", 1000)
	path := "/order-management/v2/ECOM/receipts/receipt-ecom"
	if status, b := e.api("POST", path, "", receiptJSON(1000)); status != http.StatusCreated {
		t.Fatalf("first receipt: %d %s", status, b)
	}
	if status, b := e.api("POST", path, "", receiptJSON(1000)); status != http.StatusConflict {
		t.Errorf("second receipt: %d %s, want 409", status, b)
	}
	if status, b := e.api("GET", "/order-management/v2/ECOM/receipt-ecom", "", nil); status != http.StatusOK || !strings.Contains(string(b), `"posId":"lane-1"`) {
		t.Errorf("GET order: %d %s", status, b)
	}
	if status, _ := e.api("POST", "/order-management/v2/ECOM/receipts/nosuch", "", receiptJSON(1000)); status != http.StatusNotFound {
		t.Errorf("unknown order: %d", status)
	}
	e.initiate("receipt-bad", 1000)
	bad := receiptJSON(1000)
	bad["orderLines"].([]any)[0].(map[string]any)["totalTaxAmount"] = 1
	if status, b := e.api("POST", "/order-management/v2/ECOM/receipts/receipt-bad", "", bad); status != http.StatusBadRequest || !strings.Contains(string(b), "totalAmount") {
		t.Errorf("sums that do not add up: %d %s", status, b)
	}
	// An ePayment create's receipt counts as the payment's one receipt.
	body := createBody("receipt-epay", 1000)
	body["receipt"] = map[string]any{
		"orderLines": []any{map[string]any{"name": "Kaffe", "id": "1", "totalAmount": 1000, "totalAmountExcludingTax": 800, "totalTaxAmount": 200, "taxPercentage": 25}},
		"bottomLine": map[string]any{"currency": "NOK"},
	}
	if status, b := e.api("POST", "/epayment/v1/payments", "create-receipt", body); status != http.StatusCreated {
		t.Fatalf("create with receipt: %d %s", status, b)
	}
	if status, _ := e.api("POST", "/order-management/v2/ECOM/receipts/receipt-epay", "", receiptJSON(1000)); status != http.StatusConflict {
		t.Errorf("receipt after create with one: %d, want 409", status)
	}
	if info, _ := e.sim.Payment("receipt-epay"); !strings.Contains(string(info.Receipt), `"taxPercentage":25`) {
		t.Errorf("stored receipt %s", info.Receipt)
	}
}
