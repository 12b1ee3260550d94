package vippsspec

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// canned is a stand-in provider: it answers whatever the test tells it to,
// so the validator can be shown good and bad answers alike.
type canned struct {
	mu          sync.Mutex
	status      int
	contentType string
	body        string
	seen        int
}

func (c *canned) set(status int, contentType, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.contentType, c.body = status, contentType, body
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen++
	io.Copy(io.Discard, r.Body)
	if c.contentType != "" {
		w.Header().Set("Content-Type", c.contentType)
	}
	w.WriteHeader(c.status)
	io.WriteString(w, c.body)
}

type fixture struct {
	t    *testing.T
	v    *Validator
	fake *canned
	srv  *httptest.Server
}

func setup(t *testing.T, loaded *Validator) *fixture {
	v := loaded.Fresh()
	fake := &canned{status: http.StatusOK}
	srv := httptest.NewServer(v.Middleware(fake))
	t.Cleanup(srv.Close)
	return &fixture{t: t, v: v, fake: fake, srv: srv}
}

func (f *fixture) send(method, path string, h map[string]string, body string) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func apiHeaders(key string) map[string]string {
	h := map[string]string{
		"Authorization":             "Bearer abc",
		"Ocp-Apim-Subscription-Key": "sub",
		"Merchant-Serial-Number":    "123456",
		"Vipps-System-Name":         "kasse",
	}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return h
}

const goodCreate = `{"amount":{"value":12500,"currency":"NOK"},"paymentMethod":{"type":"WALLET"},
"reference":"kasse1-000042","userFlow":"QR","customerInteraction":"CUSTOMER_PRESENT",
"qrFormat":{"format":"TEXT/TARGETURL"},"paymentDescription":"Kasse 1"}`

const goodCreated = `{"reference":"kasse1-000042","redirectUrl":"http://127.0.0.1/vippssim/qr/kasse1-000042"}`

// expect asserts exactly the given number of findings, each containing
// every one of the fragments, and forgets them.
func (f *fixture) expect(n int, fragments ...string) {
	f.t.Helper()
	vs := f.v.Violations()
	if len(vs) != n {
		f.t.Errorf("%d violations, want %d: %q", len(vs), n, vs)
	}
	for _, v := range vs {
		for _, frag := range fragments {
			if !strings.Contains(v, frag) {
				f.t.Errorf("violation %q does not mention %q", v, frag)
			}
		}
	}
	f.v.Reset()
}

func TestValidator(t *testing.T) {
	loaded := Open(t)
	t.Run("GoodExchange", func(t *testing.T) {
		f := setup(t, loaded)
		f.fake.set(http.StatusCreated, "application/json", goodCreated)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), goodCreate)
		f.expect(0)
		if f.v.Count() != 0 {
			t.Errorf("Reset left count %d", f.v.Count())
		}
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), goodCreate)
		if f.v.Count() != 1 || f.fake.seen != 2 {
			t.Errorf("count %d, handler saw %d", f.v.Count(), f.fake.seen)
		}
		f.v.Check(t)
	})
	t.Run("BadRequests", func(t *testing.T) {
		f := setup(t, loaded)
		f.fake.set(http.StatusCreated, "application/json", goodCreated)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), strings.Replace(goodCreate, "kasse1-000042", "x", 1))
		f.expect(1, "request", "/reference", `"reference":"x"`)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), strings.Replace(goodCreate, `"amount":{"value":12500,"currency":"NOK"},`, "", 1))
		f.expect(1, "request", "amount")
		f.send("POST", "/epayment/v1/payments", apiHeaders(""), goodCreate)
		f.expect(1, "request", "Idempotency-Key")
		h := apiHeaders("k1")
		h["Merchant-Serial-Number"] = "12"
		f.send("POST", "/epayment/v1/payments", h, goodCreate)
		f.expect(1, "Merchant-Serial-Number")
		f.send("DELETE", "/epayment/v1/payments", apiHeaders("k1"), "")
		f.expect(1, "no operation for method DELETE")
		// A receipt is checked through the remote $ref served locally.
		withReceipt := strings.Replace(goodCreate, `"userFlow"`, `"receipt":{"orderLines":[]},"userFlow"`, 1)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), withReceipt)
		f.expect(1, "request", "receipt")
	})
	t.Run("BadResponses", func(t *testing.T) {
		f := setup(t, loaded)
		f.fake.set(http.StatusCreated, "application/json", `{"redirectUrl":"http://x/y"}`)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), goodCreate)
		f.expect(1, "response", "reference", "-> 201")
		f.fake.set(http.StatusOK, "application/json", goodCreated)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), goodCreate)
		f.expect(1, "status 200 is not declared")
		f.fake.set(http.StatusCreated, "text/plain", goodCreated)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), goodCreate)
		f.expect(1, "text/plain")
		// Every token field is a string.
		f.fake.set(http.StatusOK, "application/json;charset=UTF-8",
			`{"token_type":"Bearer","expires_in":3600,"ext_expires_in":"0","expires_on":"1","not_before":"0","resource":"r","access_token":"abc"}`)
		f.send("POST", "/accesstoken/get", map[string]string{"client_id": "a", "client_secret": "b", "Ocp-Apim-Subscription-Key": "c"}, "")
		f.expect(1, "expires_in")
		// An undeclared error status must still be a Problem.
		f.fake.set(http.StatusNotFound, "text/plain", "not found")
		f.send("GET", "/epayment/v1/payments/kasse1-000042", apiHeaders(""), "")
		f.expect(1, "application/problem+json")
		f.fake.set(http.StatusNotFound, "application/problem+json", `{"title":"Not Found","status":404}`)
		f.send("GET", "/epayment/v1/payments/kasse1-000042", apiHeaders(""), "")
		f.expect(1, "not a Problem")
		f.fake.set(http.StatusNotFound, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404,"traceId":"t"}`)
		f.send("GET", "/epayment/v1/payments/kasse1-000042", apiHeaders(""), "")
		f.expect(0)
	})
	t.Run("Routing", func(t *testing.T) {
		f := setup(t, loaded)
		f.fake.set(http.StatusOK, "application/json", `[]`)
		f.send("GET", "/vippssim/payments", nil, "")
		if f.v.Count() != 0 || f.fake.seen != 1 {
			t.Errorf("simulator admin path: count %d, handler saw %d", f.v.Count(), f.fake.seen)
		}
		// The QR API lives under /qr on the host; its path is /v1.
		f.fake.set(http.StatusOK, "application/json", `{"url":"https://qr.vipps.no/x","expiresIn":300}`)
		f.send("POST", "/qr/v1", map[string]string{"Accept": "text/targetUrl", "Authorization": "Bearer a", "Ocp-Apim-Subscription-Key": "s"}, `{"url":"https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=x"}`)
		if f.v.Count() != 1 {
			t.Errorf("POST /qr/v1 was not matched to qr-v1.yaml")
		}
		f.send("POST", "/v1", nil, "")
		if f.v.Count() != 1 {
			t.Errorf("POST /v1 was matched although the QR API is under /qr")
		}
		f.fake.set(http.StatusOK, "application/json", `{}`)
		f.send("GET", "/ecomm/v2/payments/order-1/details", apiHeaders(""), "")
		if f.v.Count() != 2 {
			t.Errorf("eCom details was not matched")
		}
		f.v.Reset()
	})
	t.Run("CheckFailsTheTest", func(t *testing.T) {
		f := setup(t, loaded)
		f.fake.set(http.StatusCreated, "application/json", goodCreated)
		f.send("POST", "/epayment/v1/payments", apiHeaders("k1"), `{"reference":"x"}`)
		rec := &recordingTB{TB: t}
		f.v.Check(rec)
		if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "reference") {
			t.Errorf("Check reported %q", rec.errors)
		}
		f.v.Reset()
		rec = &recordingTB{TB: t}
		f.v.Check(rec)
		if len(rec.errors) != 0 {
			t.Errorf("Check failed a clean record: %q", rec.errors)
		}
	})
}

type recordingTB struct {
	testing.TB
	errors []string
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestLoadErrors(t *testing.T) {
	dir, err := Dir()
	if err != nil {
		t.Skip(err)
	}
	// A document that does not load is named, never silently dropped.
	broken := t.TempDir()
	for _, name := range []string{"accesstoken.yaml", "epayment-v1.yaml", "ecom-v2.yaml", "ms_import.yaml", "order-management-v2.yaml", "order-management-2.3.24.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(broken, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Load(broken); err == nil || !strings.Contains(err.Error(), "qr-v1.yaml") {
		t.Errorf("missing qr-v1.yaml: %v", err)
	}
	// References to anything but the known Receipt document are refused.
	b, _ := os.ReadFile(filepath.Join(dir, "qr-v1.yaml"))
	b = bytes.Replace(b, []byte("'#/components/schemas/OneTimePaymentQrResponse'"), []byte("'https://example.com/x.yaml#/A'"), 1)
	os.WriteFile(filepath.Join(broken, "qr-v1.yaml"), b, 0o644)
	if _, err := Load(broken); err == nil || !strings.Contains(err.Error(), "refusing to fetch") {
		t.Errorf("remote ref: %v", err)
	}
}
