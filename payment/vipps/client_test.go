package vipps_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/payment/vipps/vippsspec"
	"kasse/payment/vipps/vippstest"
)

const (
	msn    = vippstest.MSN
	id     = vippstest.ClientID
	secret = vippstest.ClientSecret
	subKey = vippstest.SubscriptionKey
)

// env is the simulator behind the contract validator on a real HTTP
// server (vippstest), and a client whose clock is the simulator's.
type env struct {
	t      *testing.T
	sim    *vippssim.Server
	clock  *vippssim.ManualClock
	spec   *vippsspec.Validator
	srv    *httptest.Server
	client *vipps.Client
	vt     *vippstest.Env
}

type options struct {
	sim     func(*vippssim.Config)
	client  func(*vipps.Config)
	handler func(sim http.Handler) http.Handler // in front of the simulator
}

func newEnv(t *testing.T, loaded *vippsspec.Validator, o options) *env {
	t.Helper()
	vt := vippstest.New(t, vippstest.Options{Spec: loaded, Sim: o.sim, Handler: o.handler})
	e := &env{t: t, sim: vt.Sim, clock: vt.Clock, spec: vt.Spec, srv: vt.Server, vt: vt}
	e.client = e.newClient(o.client)
	return e
}

func (e *env) newClient(tweak func(*vipps.Config)) *vipps.Client {
	e.t.Helper()
	return e.vt.Client(e.t, "", tweak)
}

// noReuse is an HTTP client that opens a connection per request: Go's
// transport silently resends a GET or an Idempotency-Key request once when a
// reused connection dies, which would hide a single injected fault.
func noReuse() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

// count returns how many requests the simulator saw for method and path.
func (e *env) count(method, path string) int {
	n := 0
	for _, r := range e.sim.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (e *env) tokens() int { return e.count(http.MethodPost, "/accesstoken/get") }

func (e *env) createQR(ref string, value int64) {
	e.t.Helper()
	_, err := e.client.Create(context.Background(), vipps.CreatePayment{
		Amount:              money.Amount{Value: value, Currency: "NOK"},
		PaymentMethod:       vipps.PaymentMethod{Type: "WALLET"},
		Reference:           ref,
		UserFlow:            "QR",
		CustomerInteraction: "CUSTOMER_PRESENT",
		QRFormat:            &vipps.QRFormat{Format: "TEXT/TARGETURL"},
		PaymentDescription:  "Kasse 1 sale",
	}, "create-"+ref)
	if err != nil {
		e.t.Fatalf("create %s: %v", ref, err)
	}
}

func asError(t *testing.T, err error) *vipps.Error {
	t.Helper()
	var ve *vipps.Error
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *vipps.Error", err, err)
	}
	return ve
}

// TestClient runs every scenario against one loaded contract.
func TestClient(t *testing.T) {
	spec := vippsspec.Open(t)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *vippsspec.Validator)
	}{
		{"TokenCached", testTokenCached},
		{"TokenRefreshedBeforeExpiry", testTokenRefreshedBeforeExpiry},
		{"TokenOneRefreshForConcurrentCallers", testTokenConcurrent},
		{"TokenRefreshOn401", testTokenRefreshOn401},
		{"OnlyOneRetryOn401", testOnlyOneRetryOn401},
		{"RetryAfterDate", testRetryAfterDate},
		{"ECommEndToEnd", testECommEndToEnd},
		{"ECommInitiateNotIdempotent", testECommInitiateTwice},
		{"ECommCancel", testECommCancel},
		{"QRErrors", testQRErrors},
		{"EPaymentReceipt", testEPaymentReceipt},
		{"TestAmounts", testTestAmounts},
		{"UnknownResult", testUnknownResult},
		{"RateLimit", testRateLimit},
		{"Faults", testFaults},
		{"ResetThenRetry", testResetThenRetry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, spec)
		})
	}
}

func testTokenCached(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	e.createQR("cached-0001", 1000)
	for range 3 {
		if _, err := e.client.Get(ctx, "cached-0001"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.tokens(); n != 1 {
		t.Errorf("%d token requests for 4 calls, want 1", n)
	}
}

func testTokenRefreshedBeforeExpiry(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{client: func(c *vipps.Config) { c.TokenMargin = 5 * time.Minute }})
	ctx := context.Background()
	e.createQR("refresh-001", 1000)
	e.clock.Advance(55*time.Minute - time.Second) // just outside the margin
	if _, err := e.client.Get(ctx, "refresh-001"); err != nil {
		t.Fatal(err)
	}
	if n := e.tokens(); n != 1 {
		t.Fatalf("%d token requests before the margin, want 1", n)
	}
	e.clock.Advance(time.Second) // within 5 minutes of expiry
	if _, err := e.client.Get(ctx, "refresh-001"); err != nil {
		t.Fatal(err)
	}
	if n := e.tokens(); n != 2 {
		t.Errorf("%d token requests inside the margin, want 2", n)
	}
	for _, r := range e.sim.Requests() {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("%s %s was refused: the token should be refreshed before it expires", r.Method, r.Path)
		}
	}
}

func testTokenConcurrent(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	setup := e.newClient(nil)
	if _, err := setup.Create(context.Background(), vipps.CreatePayment{
		Amount: money.Amount{Value: 1000, Currency: "NOK"}, PaymentMethod: vipps.PaymentMethod{Type: "WALLET"},
		Reference: "concurrent-1", UserFlow: "QR", CustomerInteraction: "CUSTOMER_PRESENT",
	}, "k-concurrent-1"); err != nil {
		t.Fatal(err)
	}
	before := e.tokens()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := e.client.Get(context.Background(), "concurrent-1")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := e.tokens() - before; n != 1 {
		t.Errorf("20 concurrent callers made %d token requests, want 1", n)
	}
}

func testTokenRefreshOn401(t *testing.T, spec *vippsspec.Validator) {
	// The client's clock stands still while the simulator's moves past the
	// token's life: the client believes its token good, the server does not.
	frozen := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, spec, options{client: func(c *vipps.Config) { c.Now = func() time.Time { return frozen } }})
	ctx := context.Background()
	e.createQR("expired-001", 1000)
	e.clock.Advance(2 * time.Hour)
	p, err := e.client.Get(ctx, "expired-001")
	if err != nil {
		t.Fatalf("a 401 should be healed by one refresh: %v", err)
	}
	if p.State != vipps.Expired {
		t.Errorf("state %s, want EXPIRED", p.State)
	}
	if n := e.tokens(); n != 2 {
		t.Errorf("%d token requests, want 2 (one refresh after the 401)", n)
	}
	if n := e.count(http.MethodGet, "/epayment/v1/payments/expired-001"); n != 2 {
		t.Errorf("%d GETs, want 2 (the refused one and one retry)", n)
	}
}

func testOnlyOneRetryOn401(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	e.createQR("always401-1", 1000)
	path := "/epayment/v1/payments/always401-1"
	if err := e.sim.InjectFault(vippssim.Fault{Path: path, Method: "GET", Kind: vippssim.FaultStatus, Status: 401}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Get(context.Background(), "always401-1")
	if ve := asError(t, err); ve.Status != http.StatusUnauthorized || ve.Temporary() {
		t.Errorf("error %v: want a final 401", err)
	}
	if n := e.tokens(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	if n := e.count(http.MethodGet, path); n != 2 {
		t.Errorf("%d GETs, want exactly 2: one retry after a 401, not a loop", n)
	}
}

func testRetryAfterDate(t *testing.T, spec *vippsspec.Validator) {
	var clock *vippssim.ManualClock
	e := newEnv(t, spec, options{
		sim: func(c *vippssim.Config) { clock = c.Clock.(*vippssim.ManualClock) },
		handler: func(sim http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/epayment/v1/payments/busy-000001" {
					w.Header().Set("Retry-After", clock.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
					w.Header().Set("Content-Type", "application/problem+json")
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte(`{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"maintenance","traceId":"t1"}`))
					return
				}
				sim.ServeHTTP(w, r)
			})
		},
	})
	_, err := e.client.Get(context.Background(), "busy-000001")
	ve := asError(t, err)
	if ve.Status != http.StatusServiceUnavailable || ve.RetryAfter != 90*time.Second || !vipps.IsTemporary(err) {
		t.Errorf("error %v: status %d RetryAfter %v, want 503, 90s, temporary", err, ve.Status, ve.RetryAfter)
	}
}

func testRateLimit(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	c := e.client
	e.createQR("limited-001", 1000)
	for i := range vippssim.GetLimit - 1 { // the create's own GETs: none
		if _, err := c.Get(ctx, "limited-001"); err != nil {
			t.Fatalf("GET %d: %v", i+1, err)
		}
	}
	e.clock.Advance(10 * time.Second)
	if _, err := c.Get(ctx, "limited-001"); err != nil {
		t.Fatalf("GET 120: %v", err)
	}
	_, err := c.Get(ctx, "limited-001")
	ve := asError(t, err)
	if ve.Status != http.StatusTooManyRequests || ve.RetryAfter != 50*time.Second || !ve.Temporary() || ve.Problem == nil {
		t.Errorf("GET 121: %v (Retry-After %v), want 429 after 50 s", err, ve.RetryAfter)
	}
	// Other payments keep their own allowance.
	e.createQR("limited-002", 1000)
	if _, err := c.Get(ctx, "limited-002"); err != nil {
		t.Errorf("GET of another reference: %v", err)
	}
	e.clock.Advance(50 * time.Second)
	if _, err := c.Get(ctx, "limited-001"); err != nil {
		t.Errorf("GET after Retry-After: %v", err)
	}

	// eCom: five captures a minute per orderId, refused in eCom's format.
	if _, err := c.InitiateECom(ctx, ecomPayment("limited-ecom", 100000)); err != nil {
		t.Fatal(err)
	}
	if err := c.ApproveECom(ctx, "limited-ecom"); err != nil {
		t.Fatal(err)
	}
	for i := range vippssim.ModifyLimit {
		if _, err := c.CaptureECom(ctx, "limited-ecom", 100, "cap-"+itoa(int64(i))); err != nil {
			t.Fatalf("capture %d: %v", i+1, err)
		}
	}
	_, err = c.CaptureECom(ctx, "limited-ecom", 100, "cap-x")
	ve = asError(t, err)
	if ve.Status != http.StatusTooManyRequests || ve.RetryAfter != time.Minute || ve.Problem == nil || !strings.HasPrefix(ve.Problem.Title, "Merchant error") {
		t.Errorf("sixth capture: %v (Retry-After %v)", err, ve.RetryAfter)
	}
	// A refund is another endpoint, with its own five.
	if _, err := c.RefundECom(ctx, "limited-ecom", 100, "ref-1"); err != nil {
		t.Errorf("refund next to limited captures: %v", err)
	}
}

func testFaults(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{client: func(c *vipps.Config) { c.HTTP = noReuse() }})
	ctx := context.Background()
	e.createQR("faulty-0001", 1000)
	path := "/epayment/v1/payments/faulty-0001"
	cases := []struct {
		fault      vippssim.Fault
		status     int
		retryAfter time.Duration
	}{
		{vippssim.Fault{Kind: vippssim.FaultStatus, Status: 500}, 500, 0},
		{vippssim.Fault{Kind: vippssim.FaultStatus, Status: 503, RetryAfter: 7}, 503, 7 * time.Second},
		{vippssim.Fault{Kind: vippssim.FaultStatus, Status: 429, RetryAfter: 3}, 429, 3 * time.Second},
		{vippssim.Fault{Kind: vippssim.FaultDrop}, 0, 0},
		{vippssim.Fault{Kind: vippssim.FaultReset}, 0, 0},
	}
	for _, tc := range cases {
		f := tc.fault
		f.Path, f.Method, f.Count = path, http.MethodGet, 1
		if err := e.sim.InjectFault(f); err != nil {
			t.Fatal(err)
		}
		_, err := e.client.Get(ctx, "faulty-0001")
		ve := asError(t, err)
		if ve.Status != tc.status || ve.RetryAfter != tc.retryAfter || !ve.Temporary() {
			t.Errorf("%s %d: %v (status %d, Retry-After %v), want status %d, %v, temporary", f.Kind, f.Status, err, ve.Status, ve.RetryAfter, tc.status, tc.retryAfter)
		}
		// Count 1: the next request is served.
		if _, err := e.client.Get(ctx, "faulty-0001"); err != nil {
			t.Errorf("after one %s: %v", f.Kind, err)
		}
	}

	// An eCom 503 comes as an error array, read into the Error.
	if _, err := e.client.InitiateECom(ctx, ecomPayment("faulty-ecom", 1000)); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.InjectFault(vippssim.Fault{Path: "/ecomm/", Kind: vippssim.FaultStatus, Status: 503, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.ECommDetails(ctx, "", "faulty-ecom")
	if ve := asError(t, err); ve.Status != 503 || ve.Problem == nil || !strings.HasPrefix(ve.Problem.Title, "VippsError") || !ve.Temporary() {
		t.Errorf("eCom 503: %v", err)
	}

	// Latency beyond the client's patience is a timeout, temporary too.
	slow := e.newClient(func(c *vipps.Config) {
		c.HTTP = &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	})
	if _, err := slow.Get(ctx, "faulty-0001"); err != nil { // token first
		t.Fatal(err)
	}
	if err := e.sim.InjectFault(vippssim.Fault{Path: path, Kind: vippssim.FaultLatency, Latency: 5 * time.Second, Count: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = slow.Get(ctx, "faulty-0001")
	if ve := asError(t, err); ve.Status != 0 || !ve.Temporary() {
		t.Errorf("latency: %v, want no answer", err)
	}
	// Close waits for the delayed handler, which logs once it is done.
	e.srv.Close()
	var kinds []string
	for _, r := range e.sim.Requests() {
		if r.Fault != "" {
			kinds = append(kinds, r.Fault)
		}
	}
	if got := strings.Join(kinds, " "); got != "status status status drop reset status latency" {
		t.Errorf("faulted requests %q", got)
	}
}

// testResetThenRetry is the hard case: the capture happened, its answer was
// lost. A resend with the same key must not capture twice.
func testResetThenRetry(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{client: func(c *vipps.Config) { c.HTTP = noReuse() }})
	ctx := context.Background()
	c := e.client
	e.createQR("reset-00001", 1000)
	if err := c.Approve(ctx, "reset-00001"); err != nil {
		t.Fatal(err)
	}
	amount := money.Amount{Value: 600, Currency: "NOK"}

	// drop: nothing happened.
	e.sim.InjectFault(vippssim.Fault{Path: "/epayment/v1/payments/reset-00001/capture", Kind: vippssim.FaultDrop, Count: 1})
	if _, err := c.Capture(ctx, "reset-00001", amount, "cap-1"); !vipps.IsTemporary(err) || vipps.StatusOf(err) != 0 {
		t.Fatalf("dropped capture: %v", err)
	}
	if info, _ := e.sim.Payment("reset-00001"); info.Aggregate.Captured.Value != 0 {
		t.Errorf("a dropped capture changed the state: %+v", info.Aggregate)
	}

	// reset: it happened, the client cannot tell.
	e.sim.InjectFault(vippssim.Fault{Path: "/epayment/v1/payments/reset-00001/capture", Kind: vippssim.FaultReset, Count: 1})
	if _, err := c.Capture(ctx, "reset-00001", amount, "cap-1"); !vipps.IsTemporary(err) || vipps.StatusOf(err) != 0 {
		t.Fatalf("reset capture: %v", err)
	}
	if info, _ := e.sim.Payment("reset-00001"); info.Aggregate.Captured.Value != 600 {
		t.Errorf("a reset capture did not happen: %+v", info.Aggregate)
	}
	p, err := c.Capture(ctx, "reset-00001", amount, "cap-1")
	if err != nil || p.Aggregate.Captured.Value != 600 {
		t.Errorf("resend after reset: %+v %v, want the stored answer, captured once", p.Aggregate, err)
	}

	// The same for eCom, keyed by X-Request-Id.
	if _, err := c.InitiateECom(ctx, ecomPayment("reset-ecom-1", 1000)); err != nil {
		t.Fatal(err)
	}
	if err := c.ApproveECom(ctx, "reset-ecom-1"); err != nil {
		t.Fatal(err)
	}
	e.sim.InjectFault(vippssim.Fault{Path: "/ecomm/v2/payments/reset-ecom-1/capture", Kind: vippssim.FaultReset, Count: 1})
	if _, err := c.CaptureECom(ctx, "reset-ecom-1", 600, "cap-1"); !vipps.IsTemporary(err) {
		t.Fatalf("reset eCom capture: %v", err)
	}
	sum, err := c.CaptureECom(ctx, "reset-ecom-1", 600, "cap-1")
	if err != nil || sum.Captured != 600 {
		t.Errorf("eCom resend after reset: %+v %v", sum, err)
	}
}

// A 2xx reply cut off mid-way is no answer: the request may have had its
// effect, so the error must say "retry with the same key", not "refused".
func TestCutOffReplyIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/accesstoken/get" {
			w.Write([]byte(`{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"0","expires_on":"0","not_before":"0","resource":"x","access_token":"dG9rZW4="}`))
			return
		}
		w.Header().Set("Content-Length", "500")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"reference":"OSLO1-2-abcd-1","state":"AUTH`)) // and the connection ends
	}))
	defer srv.Close()
	c, err := vipps.New(vipps.Config{BaseURL: srv.URL, MSN: "123456", Credentials: vipps.Credentials{ClientID: "id", ClientSecret: "secret", SubscriptionKey: "sub"}})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := vipps.RefundRequest("OSLO1-2-abcd-1", money.Amount{Value: 100, Currency: "NOK"}, "refund-x")
	err = c.Do(context.Background(), r, &vipps.Payment{})
	if err == nil || !vipps.IsTemporary(err) || !strings.Contains(err.Error(), "cut off") {
		t.Fatalf("cut-off reply: %v (temporary %v), want a temporary error", err, vipps.IsTemporary(err))
	}
}
