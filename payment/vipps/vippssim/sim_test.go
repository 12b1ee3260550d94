package vippssim

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"kasse/payment/vipps/vippsspec"
)

// TestSimulator runs every scenario against one loaded contract; each gets
// its own simulator, server and record of violations.
func TestSimulator(t *testing.T) {
	spec := vippsspec.Open(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *vippsspec.Validator)
	}{
		{"AccessToken", testAccessToken},
		{"AccessTokenBadCredentials", testAccessTokenBadCredentials},
		{"AuthOnEPayment", testAuthOnEPayment},
		{"CreateApproveCaptureFull", testCreateApproveCaptureFull},
		{"PartialCaptureRefundAndLimits", testPartialCaptureRefundAndLimits},
		{"Cancel", testCancel},
		{"IdempotentReplay", testIdempotentReplay},
		{"Expiry", testExpiry},
		{"RejectAborts", testRejectAborts},
		{"AutoApprove", testAutoApprove},
		{"InvalidCreate", testInvalidCreate},
		{"PushMessage", testPushMessage},
		{"AdminListsTruth", testAdminListsTruth},
		{"QRImage", testQRImage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, spec)
		})
	}
}

func testAccessToken(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, func(c *Config) { c.TokenTTL = 30 * time.Minute })
	status, h, body := e.call("POST", "/accesstoken/get", e.tokenHeaders(), nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
		t.Errorf("content type %q", ct)
	}
	var tok map[string]any
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"token_type", "expires_in", "ext_expires_in", "expires_on", "not_before", "resource", "access_token"} {
		if _, ok := tok[k].(string); !ok {
			t.Errorf("%s = %#v, want a string", k, tok[k])
		}
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] != "1800" {
		t.Errorf("token_type %v expires_in %v", tok["token_type"], tok["expires_in"])
	}
	now := e.clock.Now().Unix()
	if tok["not_before"] != itoa(now) || tok["expires_on"] != itoa(now+1800) {
		t.Errorf("not_before %v expires_on %v, want %d and %d", tok["not_before"], tok["expires_on"], now, now+1800)
	}
	e.token = tok["access_token"].(string)

	// The token works until its TTL on the injected clock, then not.
	e.create("tokentest-1", 1000)
	e.clock.Advance(30*time.Minute - time.Second)
	e.get("tokentest-1")
	e.clock.Advance(time.Second)
	status, h, body = e.call("GET", "/epayment/v1/payments/tokentest-1", e.apiHeaders(""), nil)
	if p := decodeProblem(t, h, body); status != http.StatusUnauthorized || !strings.Contains(p.Detail, "expired") {
		t.Errorf("expired token: status %d detail %q", status, p.Detail)
	}
}

func testAccessTokenBadCredentials(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	for _, wrong := range []string{"client_id", "client_secret", "Ocp-Apim-Subscription-Key", "Merchant-Serial-Number"} {
		h := e.tokenHeaders()
		h.Set(wrong, "9999")
		status, rh, body := e.call("POST", "/accesstoken/get", h, nil)
		p := decodeProblem(t, rh, body)
		if status != http.StatusUnauthorized || !strings.Contains(p.Detail, wrong) {
			t.Errorf("wrong %s: status %d detail %q", wrong, status, p.Detail)
		}
	}
	for _, r := range e.sim.Requests() {
		for k, v := range r.Header {
			if slices.Contains(v, testSecret) || slices.Contains(v, testSubKey) {
				t.Errorf("request log keeps a secret in %s", k)
			}
		}
	}
}

func testAuthOnEPayment(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("authtest-1", 1000)
	cases := []struct {
		name, header, value string
		status              int
		detail              string
	}{
		{"unknown token", "Authorization", "Bearer bm90LWEtdG9rZW4=", http.StatusUnauthorized, "access token"},
		{"wrong MSN", "Merchant-Serial-Number", "654321", http.StatusForbidden, "Merchant-Serial-Number"},
		{"wrong subscription key", "Ocp-Apim-Subscription-Key", "other", http.StatusForbidden, "Ocp-Apim-Subscription-Key"},
	}
	for _, c := range cases {
		h := e.apiHeaders("")
		h.Set(c.header, c.value)
		status, rh, body := e.call("GET", "/epayment/v1/payments/authtest-1", h, nil)
		p := decodeProblem(t, rh, body)
		if status != c.status || !strings.Contains(p.Detail, c.detail) {
			t.Errorf("%s: status %d detail %q, want %d mentioning %s", c.name, status, p.Detail, c.status, c.detail)
		}
	}
	reqs := e.sim.Requests()
	last := reqs[len(reqs)-1]
	if !last.SystemHeaders || last.Header.Get("Authorization") != "[redacted]" || last.Status != http.StatusForbidden {
		t.Errorf("request log entry %+v", last)
	}
	if reqs[0].SystemHeaders {
		t.Error("the token request carried no Vipps-System-* headers but was logged as if it did")
	}
}

func testCreateApproveCaptureFull(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	status, b := e.api("POST", "/epayment/v1/payments", "k-create", createBody("kasse1-0001", 12500))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	var created createResponse
	json.Unmarshal(b, &created)
	if want := e.srv.URL + "/vippssim/qr/kasse1-0001"; created.Reference != "kasse1-0001" || created.RedirectURL != want {
		t.Errorf("create reply %+v, want redirectUrl %s", created, want)
	}
	if p := e.get("kasse1-0001"); p.State != StateCreated || p.agg() != [4]int64{} {
		t.Errorf("after create: %+v", p)
	}
	e.approve("kasse1-0001")
	if p := e.get("kasse1-0001"); p.State != StateAuthorized || p.agg() != [4]int64{12500, 0, 0, 0} {
		t.Errorf("after approve: %+v", p)
	}
	status, b = e.api("POST", "/epayment/v1/payments/kasse1-0001/capture", "k-cap", amount(12500))
	if status != http.StatusOK {
		t.Fatalf("capture: %d %s", status, b)
	}
	var mod modificationResponse
	json.Unmarshal(b, &mod)
	if mod.State != StateAuthorized || mod.Aggregate.Captured.Value != 12500 {
		t.Errorf("capture reply %+v", mod)
	}
	if p := e.get("kasse1-0001"); p.agg() != [4]int64{12500, 0, 12500, 0} {
		t.Errorf("after capture: %+v", p)
	}
	status, b = e.api("GET", "/epayment/v1/payments/kasse1-0001/events", "", nil)
	var events []struct {
		Name           string
		Amount         struct{ Value int64 }
		IdempotencyKey *string
		Success        bool
	}
	if err := json.Unmarshal(b, &events); err != nil || status != http.StatusOK {
		t.Fatalf("events: %d %s", status, b)
	}
	var names []string
	for _, ev := range events {
		names = append(names, ev.Name)
	}
	if !slices.Equal(names, []string{"CREATED", "AUTHORIZED", "CAPTURED"}) {
		t.Errorf("events %v", names)
	}
	if k := events[2].IdempotencyKey; k == nil || *k != "k-cap" || events[2].Amount.Value != 12500 || !events[2].Success {
		t.Errorf("capture event %+v", events[2])
	}
	if events[1].IdempotencyKey != nil {
		t.Errorf("the shopper's approval has idempotency key %q", *events[1].IdempotencyKey)
	}
}

func testPartialCaptureRefundAndLimits(t *testing.T, spec *vippsspec.Validator) {
	// Seven captures of one reference in a frozen minute would meet the
	// provider's rate limit, which testRateLimits covers.
	e := newEnv(t, spec, func(c *Config) { c.NoRateLimits = true })
	e.login()
	e.create("partial-0001", 1000)
	// Nothing can be captured before the shopper approves.
	if status, b := e.api("POST", "/epayment/v1/payments/partial-0001/capture", "c0", amount(100)); status != http.StatusConflict {
		t.Errorf("capture before approval: %d %s", status, b)
	}
	e.approve("partial-0001")
	steps := []struct {
		op     string
		value  int64
		status int
		agg    [4]int64
	}{
		{"capture", 1001, http.StatusBadRequest, [4]int64{1000, 0, 0, 0}},
		{"refund", 1, http.StatusBadRequest, [4]int64{1000, 0, 0, 0}},
		{"capture", 400, http.StatusOK, [4]int64{1000, 0, 400, 0}},
		{"capture", 300, http.StatusOK, [4]int64{1000, 0, 700, 0}},
		{"capture", 301, http.StatusBadRequest, [4]int64{1000, 0, 700, 0}},
		{"refund", 200, http.StatusOK, [4]int64{1000, 0, 700, 200}},
		{"refund", 501, http.StatusBadRequest, [4]int64{1000, 0, 700, 200}},
		{"refund", 500, http.StatusOK, [4]int64{1000, 0, 700, 700}},
		{"capture", 300, http.StatusOK, [4]int64{1000, 0, 1000, 700}},
	}
	for i, s := range steps {
		status, b := e.api("POST", "/epayment/v1/payments/partial-0001/"+s.op, "step-"+itoa(int64(i)), amount(s.value))
		if status != s.status {
			t.Errorf("step %d %s %d: status %d, want %d: %s", i, s.op, s.value, status, s.status, b)
		}
		if got := e.get("partial-0001").agg(); got != s.agg {
			t.Errorf("step %d %s %d: aggregate %v, want %v", i, s.op, s.value, got, s.agg)
		}
	}
	// A refusal says why, with the numbers.
	status, h, b := e.call("POST", "/epayment/v1/payments/partial-0001/capture", e.apiHeaders("over"), amount(1))
	if p := decodeProblem(t, h, b); status != http.StatusBadRequest || !strings.Contains(p.Detail, "exceeds") {
		t.Errorf("over-capture: %d %q", status, p.Detail)
	}
}

func testCancel(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()

	e.create("cancel-created", 1000)
	status, b := e.api("POST", "/epayment/v1/payments/cancel-created/cancel", "x1", nil)
	var mod modificationResponse
	json.Unmarshal(b, &mod)
	if status != http.StatusOK || mod.State != StateTerminated {
		t.Fatalf("cancel CREATED: %d %s", status, b)
	}
	if p := e.get("cancel-created"); p.State != StateTerminated || p.agg() != [4]int64{0, 1000, 0, 0} {
		t.Errorf("after cancel of CREATED: %+v", p)
	}
	if status, b := e.api("POST", "/epayment/v1/test/payments/cancel-created/approve", "", nil); status != http.StatusConflict {
		t.Errorf("approve after cancel: %d %s", status, b)
	}

	e.create("cancel-authorized", 1000)
	e.approve("cancel-authorized")
	if status, b := e.api("POST", "/epayment/v1/payments/cancel-authorized/cancel", "x2", nil); status != http.StatusOK {
		t.Fatalf("cancel AUTHORIZED: %d %s", status, b)
	}
	if p := e.get("cancel-authorized"); p.State != StateAuthorized || p.agg() != [4]int64{1000, 1000, 0, 0} {
		t.Errorf("after cancel of AUTHORIZED: %+v", p)
	}
	if status, b := e.api("POST", "/epayment/v1/payments/cancel-authorized/capture", "x3", amount(1)); status != http.StatusBadRequest {
		t.Errorf("capture after cancel: %d %s", status, b)
	}

	// After a partial capture, cancel releases only the rest.
	e.create("cancel-partial", 1000)
	e.approve("cancel-partial")
	e.api("POST", "/epayment/v1/payments/cancel-partial/capture", "x4", amount(600))
	e.api("POST", "/epayment/v1/payments/cancel-partial/cancel", "x5", nil)
	if p := e.get("cancel-partial"); p.State != StateAuthorized || p.agg() != [4]int64{1000, 400, 600, 0} {
		t.Errorf("after cancel of a partly captured payment: %+v", p)
	}
	if status, b := e.api("POST", "/epayment/v1/payments/cancel-partial/cancel", "x6", nil); status != http.StatusConflict {
		t.Errorf("second cancel with a new key: %d %s", status, b)
	}
}

func testIdempotentReplay(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	body := createBody("idem-00001", 5000)
	s1, b1 := e.api("POST", "/epayment/v1/payments", "same-key", body)
	// Same JSON, other spacing: still the same request.
	raw, _ := json.MarshalIndent(body, "", "   ")
	s2, b2 := e.api("POST", "/epayment/v1/payments", "same-key", string(raw))
	if s1 != http.StatusCreated || s2 != s1 || !bytes.Equal(b1, b2) {
		t.Errorf("replayed create: %d %s then %d %s", s1, b1, s2, b2)
	}
	if n := len(e.sim.Payments()); n != 1 {
		t.Errorf("%d payments after a replayed create", n)
	}

	e.approve("idem-00001")
	c1, r1 := e.api("POST", "/epayment/v1/payments/idem-00001/capture", "cap-key", amount(2000))
	c2, r2 := e.api("POST", "/epayment/v1/payments/idem-00001/capture", "cap-key", amount(2000))
	if c1 != http.StatusOK || c2 != c1 || !bytes.Equal(r1, r2) {
		t.Errorf("replayed capture: %d %s then %d %s", c1, r1, c2, r2)
	}
	if p := e.get("idem-00001"); p.agg() != [4]int64{5000, 0, 2000, 0} {
		t.Errorf("a replayed capture moved money twice: %+v", p)
	}

	// Same key, other body: conflict, and nothing moves.
	status, h, b := e.call("POST", "/epayment/v1/payments/idem-00001/capture", e.apiHeaders("cap-key"), amount(3000))
	if p := decodeProblem(t, h, b); status != http.StatusConflict || !strings.Contains(p.Detail, "cap-key") {
		t.Errorf("capture key reuse with another body: %d %q", status, p.Detail)
	}
	other := createBody("idem-00002", 5000)
	if status, b := e.api("POST", "/epayment/v1/payments", "same-key", other); status != http.StatusConflict {
		t.Errorf("create key reuse with another body: %d %s", status, b)
	}
	if _, ok := e.sim.Payment("idem-00002"); ok {
		t.Error("a conflicting create made a payment")
	}
	// Same reference, new key: conflict, the reference is never reused.
	status, h, b = e.call("POST", "/epayment/v1/payments", e.apiHeaders("new-key"), body)
	if p := decodeProblem(t, h, b); status != http.StatusConflict || !strings.Contains(p.Detail, "idem-00001") {
		t.Errorf("reference reuse: %d %q", status, p.Detail)
	}
	if p := e.get("idem-00001"); p.agg() != [4]int64{5000, 0, 2000, 0} {
		t.Errorf("after conflicts: %+v", p)
	}
}

func testExpiry(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("expire-0001", 1000)
	e.create("expire-0002", 1000)
	e.clock.Advance(PaymentLifetime - time.Second)
	if p := e.get("expire-0001"); p.State != StateCreated {
		t.Fatalf("at 9:59: %s", p.State)
	}
	e.approve("expire-0002") // still payable at 9:59
	e.clock.Advance(time.Second)
	if p := e.get("expire-0001"); p.State != StateExpired {
		t.Errorf("at 10:00: %s", p.State)
	}
	if p := e.get("expire-0002"); p.State != StateAuthorized {
		t.Errorf("an authorized payment expired: %s", p.State)
	}
	if status, b := e.api("POST", "/epayment/v1/test/payments/expire-0001/approve", "", nil); status != http.StatusConflict {
		t.Errorf("approve after expiry: %d %s", status, b)
	}
	_, b := e.api("GET", "/epayment/v1/payments/expire-0001/events", "", nil)
	if !strings.Contains(string(b), `"name":"EXPIRED"`) || !strings.Contains(string(b), "12:10:00Z") {
		t.Errorf("events lack EXPIRED at 12:10: %s", b)
	}
}

func testRejectAborts(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("reject-0001", 1000)
	status, _, b := e.call("POST", "/vippssim/payments/reject-0001/reject", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("reject: %d %s", status, b)
	}
	if p := e.get("reject-0001"); p.State != StateAborted {
		t.Errorf("after reject: %s", p.State)
	}
	if status, _, _ := e.call("POST", "/vippssim/payments/reject-0001/approve", nil, nil); status != http.StatusConflict {
		t.Errorf("approve after reject: %d", status)
	}
	if status, _, _ := e.call("POST", "/vippssim/payments/nosuchpayment/reject", nil, nil); status != http.StatusNotFound {
		t.Errorf("reject unknown: %d", status)
	}
}

func testAutoApprove(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, func(c *Config) { c.AutoApprove = 5 * time.Second })
	e.login()
	e.create("auto-00001", 1000)
	e.clock.Advance(4 * time.Second)
	if p := e.get("auto-00001"); p.State != StateCreated {
		t.Fatalf("after 4 s: %s", p.State)
	}
	e.clock.Advance(time.Second)
	if p := e.get("auto-00001"); p.State != StateAuthorized || p.agg() != [4]int64{1000, 0, 0, 0} {
		t.Errorf("after 5 s: %+v", p)
	}

	// The ticker approves without anyone looking. Peek at the state
	// directly, since every public read would approve lazily.
	e.create("auto-00002", 1000)
	e.clock.Advance(5 * time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.sim.mu.Lock()
		state := e.sim.payments["auto-00002"].state
		e.sim.mu.Unlock()
		if state == StateAuthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticker never approved: %s", state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// violationsOnly returns the validator's findings split by side, and resets it.
func (e *env) takeViolations() (request, response []string) {
	for _, v := range e.spec.Violations() {
		if strings.Contains(v, ": response: ") {
			response = append(response, v)
		} else {
			request = append(request, v)
		}
	}
	e.spec.Reset()
	return request, response
}

func testInvalidCreate(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.takeViolations()
	cases := []struct {
		name     string
		mutate   func(map[string]any)
		field    string
		schemaOK bool // the document itself allows it; only the simulator refuses
	}{
		{"short reference", func(b map[string]any) { b["reference"] = "x" }, "reference", false},
		{"missing amount", func(b map[string]any) { delete(b, "amount") }, "amount", false},
		{"zero amount", func(b map[string]any) { b["amount"] = map[string]any{"value": 0, "currency": "NOK"} }, "amount.value", true},
		{"bad currency", func(b map[string]any) { b["amount"] = map[string]any{"value": 100, "currency": "SEK"} }, "amount.currency", false},
		{"push without phone", func(b map[string]any) { b["userFlow"] = "PUSH_MESSAGE"; delete(b, "qrFormat") }, "customer.phoneNumber", true},
		{"web redirect", func(b map[string]any) { b["userFlow"] = "WEB_REDIRECT" }, "userFlow", true},
		{"short description", func(b map[string]any) { b["paymentDescription"] = "ab" }, "paymentDescription", false},
		{"png too small", func(b map[string]any) { b["qrFormat"] = map[string]any{"format": "IMAGE/PNG", "size": 50} }, "qrFormat.size", false},
	}
	for i, c := range cases {
		body := createBody("invalid-"+itoa(int64(1000+i)), 1000)
		c.mutate(body)
		status, h, b := e.call("POST", "/epayment/v1/payments", e.apiHeaders("inv-"+itoa(int64(i))), body)
		p := decodeProblem(t, h, b)
		if status != http.StatusBadRequest || len(p.ExtraDetails) == 0 || p.ExtraDetails[0].Name != c.field || !strings.Contains(p.Detail, c.field) {
			t.Errorf("%s: status %d problem %+v, want 400 naming %s", c.name, status, p, c.field)
		}
		req, resp := e.takeViolations()
		if len(resp) > 0 {
			t.Errorf("%s: the simulator's answer breaks the contract: %v", c.name, resp)
		}
		if got := len(req) > 0; got == c.schemaOK {
			t.Errorf("%s: contract request violations %v, expected any: %v", c.name, req, !c.schemaOK)
		}
	}
	if n := len(e.sim.Payments()); n != 0 {
		t.Errorf("%d payments created by invalid requests", n)
	}
	status, _, b := e.call("POST", "/epayment/v1/payments", e.apiHeaders(""), createBody("nokey-0001", 1000))
	if status != http.StatusBadRequest || !strings.Contains(string(b), "Idempotency-Key") {
		t.Errorf("create without Idempotency-Key: %d %s", status, b)
	}
	if req, resp := e.takeViolations(); len(req) != 1 || len(resp) != 0 {
		t.Errorf("missing Idempotency-Key: violations %v %v", req, resp)
	}
	// Leave a valid exchange for the cleanup's contract check.
	e.create("valid-0001", 1000)
	if status, b := e.api("GET", "/epayment/v1/payments/nosuchpayment", "", nil); status != http.StatusNotFound {
		t.Errorf("unknown reference: %d %s", status, b)
	}
}

func testPushMessage(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	body := createBody("push-00001", 1000)
	body["userFlow"] = "PUSH_MESSAGE"
	delete(body, "qrFormat")
	body["customer"] = map[string]any{"phoneNumber": "4791234567"}
	status, b := e.api("POST", "/epayment/v1/payments", "push", body)
	if status != http.StatusCreated || strings.Contains(string(b), "redirectUrl") {
		t.Errorf("push create: %d %s", status, b)
	}
}

func testAdminListsTruth(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("list-00002", 2000)
	e.clock.Advance(time.Minute)
	e.create("list-00001", 1000)
	e.approve("list-00001")
	e.api("POST", "/epayment/v1/payments/list-00001/capture", "c", amount(250))
	e.clock.Advance(PaymentLifetime) // list-00002 expires

	status, _, b := e.call("GET", "/vippssim/payments", nil, nil)
	var list []PaymentInfo
	if err := json.Unmarshal(b, &list); err != nil || status != http.StatusOK {
		t.Fatalf("list: %d %s", status, b)
	}
	if len(list) != 2 || list[0].Reference != "list-00002" || list[1].Reference != "list-00001" {
		t.Fatalf("list order: %+v", list)
	}
	if list[0].State != StateExpired || list[1].State != StateAuthorized {
		t.Errorf("states %s %s", list[0].State, list[1].State)
	}
	a := list[1].Aggregate
	if a.Authorized.Value != 1000 || a.Captured.Value != 250 || a.Captured.Currency != "NOK" || list[1].Amount.Value != 1000 {
		t.Errorf("aggregate %+v", a)
	}
	if !list[1].CreatedAt.Equal(list[0].CreatedAt.Add(time.Minute)) || list[1].UserFlow != "QR" || !strings.HasSuffix(list[1].RedirectURL, "/vippssim/qr/list-00001") {
		t.Errorf("entry %+v", list[1])
	}
	// The raw JSON uses the API's names.
	for _, k := range []string{`"authorizedAmount"`, `"cancelledAmount"`, `"capturedAmount"`, `"refundedAmount"`, `"createdAt"`, `"redirectUrl"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("list JSON lacks %s", k)
		}
	}
	// Admin approve needs no credentials.
	e.create("list-00003", 300)
	if status, _, b := e.call("POST", "/vippssim/payments/list-00003/approve", nil, nil); status != http.StatusOK || !strings.Contains(string(b), `"AUTHORIZED"`) {
		t.Errorf("admin approve: %d %s", status, b)
	}
}

func testQRImage(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	body := createBody("qrimage-01", 1000)
	body["qrFormat"] = map[string]any{"format": "IMAGE/PNG", "size": 300}
	status, b := e.api("POST", "/epayment/v1/payments", "qr", body)
	var created createResponse
	if err := json.Unmarshal(b, &created); err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	resp, err := e.srv.Client().Get(created.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("content type %q", ct)
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 300 || r.Dy() != 300 {
		t.Errorf("image is %v, want 300x300", r)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the QR does not decode: %v", err)
	}
	landing := e.srv.URL + "/vippssim/pay/qrimage-01"
	if res.GetText() != landing {
		t.Errorf("QR says %q, want %q", res.GetText(), landing)
	}
	page, err := e.srv.Client().Get(landing)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("landing page: %d", page.StatusCode)
	}
}

func itoa(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}
