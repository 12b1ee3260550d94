package vippssim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kasse/payment/vipps/vippsspec"
)

// TestNewAPIs covers eCom, the QR API, Order management, test amounts,
// rate limits and faults at the HTTP level; payment/vipps tests them
// again through the register's client.
func TestNewAPIs(t *testing.T) {
	spec := vippsspec.Open(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *vippsspec.Validator)
	}{
		{"ECommFlow", testECommFlow},
		{"ECommErrors", testECommErrors},
		{"ECommTimeouts", testECommTimeouts},
		{"QR", testQR},
		{"Receipts", testReceipts},
		{"TestAmountsAutoApprove", testTestAmountsAutoApprove},
		{"RateLimits", testRateLimits},
		{"FaultAdmin", testFaultAdmin},
		{"AdminListsBothAPIs", testAdminListsBothAPIs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, spec)
		})
	}
}

func (e *env) ecomHeaders(requestID string) http.Header {
	h := e.apiHeaders("")
	if requestID != "" {
		h.Set("X-Request-Id", requestID)
	}
	return h
}

// ecom calls the eCom API with its content type.
func (e *env) ecom(method, path, requestID string, body any) (int, []byte) {
	e.t.Helper()
	h := e.ecomHeaders(requestID)
	if body != nil {
		h.Set("Content-Type", "application/json;charset=UTF-8")
	}
	status, rh, b := e.call(method, path, h, body)
	if status >= 400 && status != http.StatusUnauthorized && status != http.StatusForbidden {
		var errs []map[string]string
		if rh.Get("Content-Type") != "application/json;charset=UTF-8" || json.Unmarshal(b, &errs) != nil || len(errs) == 0 || errs[0]["errorMessage"] == "" {
			e.t.Errorf("%s %s: %d is not an eCom error array: %s", method, path, status, b)
		}
	}
	return status, b
}

func initiateBody(orderID string, amount int64) map[string]any {
	return map[string]any{
		"customerInfo": map[string]any{},
		"merchantInfo": map[string]any{
			"merchantSerialNumber": testMSN, "callbackPrefix": "https://shop.example.com/cb",
			"fallBack": "https://shop.example.com", "isApp": false,
		},
		"transaction": map[string]any{"orderId": orderID, "amount": amount, "transactionText": "Kasse 1", "skipLandingPage": false},
	}
}

func actionBody(amount int64) map[string]any {
	tx := map[string]any{"transactionText": "at the register"}
	if amount > 0 {
		tx["amount"] = amount
	}
	return map[string]any{"merchantInfo": map[string]any{"merchantSerialNumber": testMSN}, "transaction": tx}
}

func (e *env) initiate(orderID string, amount int64) string {
	e.t.Helper()
	status, b := e.ecom("POST", "/ecomm/v2/payments", "", initiateBody(orderID, amount))
	var r struct{ OrderID, URL string }
	if status != http.StatusOK || json.Unmarshal(b, &r) != nil || r.OrderID != orderID {
		e.t.Fatalf("initiate %s: %d %s", orderID, status, b)
	}
	return r.URL
}

type detailsView struct {
	TransactionLogHistory []struct {
		Operation        string
		Amount           int64
		OperationSuccess bool
		RequestID        string
	}
	TransactionSummary struct {
		CapturedAmount, RefundedAmount, RemainingAmountToCapture, RemainingAmountToRefund int64
	}
}

// ops lists the log oldest first.
func (d detailsView) ops() string {
	var s []string
	for i := len(d.TransactionLogHistory) - 1; i >= 0; i-- {
		l := d.TransactionLogHistory[i]
		op := l.Operation
		if !l.OperationSuccess {
			op += "!"
		}
		s = append(s, op)
	}
	return strings.Join(s, " ")
}

func (e *env) details(orderID string) detailsView {
	e.t.Helper()
	status, b := e.ecom("GET", "/ecomm/v2/payments/"+orderID+"/details", "", nil)
	var d detailsView
	if status != http.StatusOK || json.Unmarshal(b, &d) != nil {
		e.t.Fatalf("details %s: %d %s", orderID, status, b)
	}
	return d
}

func testECommFlow(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.initiate("flow-1", 1000)
	if status, b := e.ecom("POST", "/ecomm/v2/payments/flow-1/capture", "c0", actionBody(0)); status != http.StatusBadRequest {
		t.Errorf("capture before approval: %d %s", status, b)
	}
	if status, b := e.ecom("POST", "/ecomm/v2/integration-test/payments/flow-1/approve", "", map[string]any{}); status != http.StatusOK {
		t.Fatalf("approve: %d %s", status, b)
	}
	if status, b := e.ecom("POST", "/ecomm/v2/payments/flow-1/capture", "c1", actionBody(300)); status != http.StatusOK || !strings.Contains(string(b), `"status":"Captured"`) {
		t.Errorf("capture 300: %d %s", status, b)
	}
	// Same X-Request-Id, other body: refused; same body: the stored answer.
	if status, _ := e.ecom("POST", "/ecomm/v2/payments/flow-1/capture", "c1", actionBody(400)); status != http.StatusConflict {
		t.Errorf("reused X-Request-Id with another amount: %d", status)
	}
	e.ecom("POST", "/ecomm/v2/payments/flow-1/capture", "c1", actionBody(300))
	if status, b := e.ecom("PUT", "/ecomm/v2/payments/flow-1/cancel", "x1", actionBody(0)); status != http.StatusBadRequest || !strings.Contains(string(b), "shouldReleaseRemainingFunds") {
		t.Errorf("cancel after partial capture without release: %d %s", status, b)
	}
	if status, b := e.ecom("POST", "/ecomm/v2/payments/flow-1/refund", "r1", actionBody(0)); status != http.StatusOK || !strings.Contains(string(b), `"status":"Refund"`) {
		t.Errorf("full refund: %d %s", status, b)
	}
	d := e.details("flow-1")
	if got := d.ops(); got != "INITIATE RESERVE CAPTURE REFUND" {
		t.Errorf("log %q", got)
	}
	if s := d.TransactionSummary; s.CapturedAmount != 300 || s.RefundedAmount != 300 || s.RemainingAmountToCapture != 700 || s.RemainingAmountToRefund != 0 {
		t.Errorf("summary %+v", s)
	}
	if status, _ := e.ecom("POST", "/ecomm/v2/payments/flow-1/refund", "r2", actionBody(100)); status != http.StatusBadRequest {
		t.Errorf("refund beyond captured: %d", status)
	}
}

func testECommErrors(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.initiate("errors-1", 1000)
	e.takeViolations()
	if status, b := e.ecom("POST", "/ecomm/v2/payments", "", initiateBody("errors-1", 1000)); status != http.StatusBadRequest || !strings.Contains(string(b), "already in use") {
		t.Errorf("second initiate: %d %s", status, b)
	}
	if _, resp := e.takeViolations(); len(resp) > 0 {
		t.Errorf("the error array breaks the contract: %v", resp)
	}
	for name, mutate := range map[string]func(map[string]any){
		"http fallBack": func(b map[string]any) { b["merchantInfo"].(map[string]any)["fallBack"] = "http://shop.example.com" },
		"other MSN":     func(b map[string]any) { b["merchantInfo"].(map[string]any)["merchantSerialNumber"] = "654321" },
		"skip landing":  func(b map[string]any) { b["transaction"].(map[string]any)["skipLandingPage"] = true },
	} {
		body := initiateBody("errors-2", 1000)
		mutate(body)
		if status, b := e.ecom("POST", "/ecomm/v2/payments", "", body); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, status, b)
		}
	}
	if status, _ := e.ecom("GET", "/ecomm/v2/payments/nosuch/details", "", nil); status != http.StatusNotFound {
		t.Errorf("unknown order: %d", status)
	}
	if status, b := e.ecom("POST", "/ecomm/v2/payments/errors-1/capture", "", actionBody(0)); status != http.StatusBadRequest || !strings.Contains(string(b), "X-Request-Id") {
		t.Errorf("capture without X-Request-Id: %d %s", status, b)
	}
	if _, resp := e.takeViolations(); len(resp) > 0 {
		t.Errorf("answers break the contract: %v", resp)
	}
	// The gateway's 401 is Azure's object, which the document allows too.
	h := e.ecomHeaders("")
	h.Set("Authorization", "Bearer bm9wZQ==")
	status, _, b := e.call("GET", "/ecomm/v2/payments/errors-1/details", h, nil)
	if status != http.StatusUnauthorized || !strings.Contains(string(b), `"responseInfo"`) {
		t.Errorf("bad token: %d %s", status, b)
	}
	if len(e.sim.Payments()) != 1 {
		t.Errorf("invalid initiates created payments: %+v", e.sim.Payments())
	}
}

func testECommTimeouts(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.initiate("unopened-1", 1000)
	landing := e.initiate("opened-1", 1000)
	e.clock.Advance(time.Minute)
	// Opening the landing page stops the 5-minute clock.
	u, _ := url.Parse(landing)
	if status, _, b := e.call("GET", u.RequestURI(), nil, nil); status != http.StatusOK || !strings.Contains(string(b), "opened-1") {
		t.Fatalf("landing page: %d %s", status, b)
	}
	e.clock.Advance(4 * time.Minute)
	if got := e.details("unopened-1").ops(); got != "INITIATE CANCEL" {
		t.Errorf("unopened after 5 min: %q", got)
	}
	if got := e.details("opened-1").ops(); got != "INITIATE" {
		t.Errorf("opened after 5 min: %q", got)
	}
	e.clock.Advance(5 * time.Minute)
	if got := e.details("opened-1").ops(); got != "INITIATE CANCEL" {
		t.Errorf("opened, unapproved after 10 min: %q", got)
	}
	if info, _ := e.sim.Payment("opened-1"); info.State != ecomRejected {
		t.Errorf("state %s, want %s", info.State, ecomRejected)
	}
	if status, _ := e.ecom("POST", "/ecomm/v2/integration-test/payments/opened-1/approve", "", map[string]any{}); status != http.StatusBadRequest {
		t.Errorf("approve after timeout: %d", status)
	}
}

func testTestAmountsAutoApprove(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, func(c *Config) { c.AutoApprove = 30 * time.Second; c.TokenTTL = 24 * time.Hour })
	e.login()
	e.create("auto-declined", 183)
	e.initiate("auto-declined-ecom", 183)
	e.create("auto-unknown", 201)
	e.clock.Advance(time.Minute)
	if p := e.get("auto-declined"); p.State != StateAborted {
		t.Errorf("auto-approved 1.83: %s, want ABORTED", p.State)
	}
	if got := e.details("auto-declined-ecom").ops(); got != "INITIATE RESERVE!" {
		t.Errorf("auto-approved eCom 1.83: %q", got)
	}
	e.clock.Advance(30 * time.Minute)
	if p := e.get("auto-unknown"); p.State != StateCreated {
		t.Errorf("2.01 after 31 min: %s, want CREATED", p.State)
	}
	e.clock.Advance(30 * time.Minute)
	if p := e.get("auto-unknown"); p.State != StateAuthorized {
		t.Errorf("2.01 after an hour and a half minute: %s, want AUTHORIZED", p.State)
	}
}

func testAdminListsBothAPIs(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("listed-epay", 1000)
	e.clock.Advance(time.Second)
	e.initiate("listed-ecom", 2000)
	status, _, b := e.call("GET", "/vippssim/payments", nil, nil)
	var list []PaymentInfo
	if status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list) != 2 {
		t.Fatalf("listing: %d %s", status, b)
	}
	if list[0].API != "epayment" || list[1].API != "ecom" || list[1].Reference != "listed-ecom" || list[1].State != ecomInitiate || list[1].Amount.Value != 2000 {
		t.Errorf("listing %+v", list)
	}
	// The admin endpoints play the shopper for eCom too.
	if status, _, b := e.call("POST", "/vippssim/payments/listed-ecom/approve", nil, nil); status != http.StatusOK {
		t.Fatalf("admin approve: %d %s", status, b)
	}
	if info, _ := e.sim.Payment("listed-ecom"); info.State != ecomReserve || info.Aggregate.Authorized.Value != 2000 {
		t.Errorf("after admin approve: %+v", info)
	}
}
