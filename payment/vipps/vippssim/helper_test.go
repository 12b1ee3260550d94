package vippssim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"kasse/payment/vipps/vippsspec"
)

const (
	testMSN    = "123456"
	testID     = "9a7b1c2d-0000-4000-8000-000000000001"
	testSecret = "s3cret"
	testSubKey = "sub-key-1"
)

// env is a simulator behind the contract validator on a real HTTP server.
type env struct {
	t     *testing.T
	sim   *Server
	clock *ManualClock
	spec  *vippsspec.Validator
	srv   *httptest.Server
	token string
}

func newEnv(t *testing.T, loaded *vippsspec.Validator, tweak func(*Config)) *env {
	t.Helper()
	spec := loaded.Fresh()
	clock := NewManualClock(time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC))
	cfg := Config{
		MSN: testMSN, ClientID: testID, ClientSecret: testSecret, SubscriptionKey: testSubKey,
		Clock: clock,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	sim := New(cfg)
	srv := httptest.NewServer(spec.Middleware(sim))
	e := &env{t: t, sim: sim, clock: clock, spec: spec, srv: srv}
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
		spec.Check(t)
		if spec.Count() == 0 {
			t.Error("the contract validator checked no request: the test proves nothing about the contract")
		}
	})
	return e
}

// call sends a request with exactly the given headers.
func (e *env) call(method, path string, h http.Header, body any) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func (e *env) tokenHeaders() http.Header {
	h := http.Header{}
	h.Set("client_id", testID)
	h.Set("client_secret", testSecret)
	h.Set("Ocp-Apim-Subscription-Key", testSubKey)
	h.Set("Merchant-Serial-Number", testMSN)
	return h
}

// login fetches an access token for later api calls.
func (e *env) login() {
	e.t.Helper()
	status, _, body := e.call("POST", "/accesstoken/get", e.tokenHeaders(), nil)
	if status != http.StatusOK {
		e.t.Fatalf("access token: status %d: %s", status, body)
	}
	var tok map[string]string
	if err := json.Unmarshal(body, &tok); err != nil {
		e.t.Fatal(err)
	}
	e.token = tok["access_token"]
}

func (e *env) apiHeaders(key string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+e.token)
	h.Set("Ocp-Apim-Subscription-Key", testSubKey)
	h.Set("Merchant-Serial-Number", testMSN)
	h.Set("Vipps-System-Name", "kasse")
	h.Set("Vipps-System-Version", "0.1.0")
	h.Set("Vipps-System-Plugin-Name", "kassed")
	h.Set("Vipps-System-Plugin-Version", "0.1.0")
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return h
}

// api calls the ePayment API with valid credentials.
func (e *env) api(method, path, key string, body any) (int, []byte) {
	e.t.Helper()
	status, _, b := e.call(method, path, e.apiHeaders(key), body)
	return status, b
}

func createBody(ref string, value int64) map[string]any {
	return map[string]any{
		"amount":              map[string]any{"value": value, "currency": "NOK"},
		"paymentMethod":       map[string]any{"type": "WALLET"},
		"reference":           ref,
		"userFlow":            "QR",
		"customerInteraction": "CUSTOMER_PRESENT",
		"qrFormat":            map[string]any{"format": "TEXT/TARGETURL"},
		"paymentDescription":  "Kasse 1 sale",
	}
}

// create makes a QR payment and fails the test unless it is created.
func (e *env) create(ref string, value int64) {
	e.t.Helper()
	if status, b := e.api("POST", "/epayment/v1/payments", "create-"+ref, createBody(ref, value)); status != http.StatusCreated {
		e.t.Fatalf("create %s: status %d: %s", ref, status, b)
	}
}

type paymentView struct {
	State     string
	Aggregate struct {
		AuthorizedAmount, CancelledAmount, CapturedAmount, RefundedAmount struct{ Value int64 }
	}
}

// agg is [authorized, cancelled, captured, refunded].
func (p paymentView) agg() [4]int64 {
	a := p.Aggregate
	return [4]int64{a.AuthorizedAmount.Value, a.CancelledAmount.Value, a.CapturedAmount.Value, a.RefundedAmount.Value}
}

func (e *env) get(ref string) paymentView {
	e.t.Helper()
	status, b := e.api("GET", "/epayment/v1/payments/"+ref, "", nil)
	if status != http.StatusOK {
		e.t.Fatalf("get %s: status %d: %s", ref, status, b)
	}
	var v paymentView
	if err := json.Unmarshal(b, &v); err != nil {
		e.t.Fatal(err)
	}
	return v
}

func (e *env) approve(ref string) {
	e.t.Helper()
	if status, b := e.api("POST", "/epayment/v1/test/payments/"+ref+"/approve", "", nil); status != http.StatusOK {
		e.t.Fatalf("approve %s: status %d: %s", ref, status, b)
	}
}

func amount(v int64) map[string]any {
	return map[string]any{"modificationAmount": map[string]any{"value": v, "currency": "NOK"}}
}

type problemView struct {
	Type, Title, Detail, TraceID string
	Status                       int
	ExtraDetails                 []struct{ Name, Reason string }
}

func decodeProblem(t *testing.T, h http.Header, b []byte) problemView {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("problem content type %q", ct)
	}
	var p problemView
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("problem body %s: %v", b, err)
	}
	return p
}
