package vippssim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"kasse/payment/vipps/vippsspec"
)

func testFaultAdmin(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	e.create("fault-00001", 1000)
	inject := func(body string) int {
		status, _, _ := e.call("POST", "/vippssim/faults", http.Header{"Content-Type": {"application/json"}}, body)
		return status
	}
	for _, bad := range []string{`{"kind":"explode"}`, `{"kind":"status","status":200}`, `{"kind":"latency"}`, `{"kind":"drop","path":"/vippssim/payments"}`, `{"kind":"drop","until":"soon"}`} {
		if status := inject(bad); status != http.StatusBadRequest {
			t.Errorf("fault %s: %d, want 400", bad, status)
		}
	}
	// A 503 on ePayment GETs for two minutes of simulated time.
	if status := inject(`{"path":"/epayment/","method":"GET","kind":"status","status":503,"until":"2m","retryAfter":5}`); status != http.StatusCreated {
		t.Fatalf("inject: %d", status)
	}
	status, h, b := e.call("GET", "/epayment/v1/payments/fault-00001", e.apiHeaders(""), nil)
	if p := decodeProblem(t, h, b); status != http.StatusServiceUnavailable || h.Get("Retry-After") != "5" || p.Status != 503 {
		t.Errorf("faulted GET: %d %v %+v", status, h, p)
	}
	// Other methods, and the admin paths, are untouched.
	if status, b := e.api("POST", "/epayment/v1/payments/fault-00001/cancel", "cancel-1", nil); status != http.StatusOK {
		t.Errorf("POST under a GET fault: %d %s", status, b)
	}
	if status, _, _ := e.call("GET", "/vippssim/payments", nil, nil); status != http.StatusOK {
		t.Errorf("admin path faulted: %d", status)
	}
	status, _, b = e.call("GET", "/vippssim/faults", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(b), `"until":"2m0s"`) {
		t.Errorf("fault list: %d %s", status, b)
	}
	e.clock.Advance(2 * time.Minute)
	if p := e.get("fault-00001"); p.State != StateTerminated {
		t.Errorf("after the fault's time: %s", p.State)
	}
	// A drop touches nothing; DELETE clears every fault.
	inject(`{"path":"/epayment/v1/payments","kind":"drop"}`)
	body, _ := json.Marshal(createBody("fault-dropped", 1000))
	req, _ := http.NewRequest("POST", e.srv.URL+"/epayment/v1/payments", bytes.NewReader(body))
	req.Header = e.apiHeaders("dropped")
	req.Header.Set("Content-Type", "application/json")
	if resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a dropped request got a reply: %d", resp.StatusCode)
	}
	if status, _, _ := e.call("DELETE", "/vippssim/faults", nil, nil); status != http.StatusNoContent {
		t.Errorf("clear: %d", status)
	}
	e.create("fault-00002", 1000)
	if _, ok := e.sim.Payment("fault-dropped"); ok {
		t.Error("a dropped create made a payment")
	}
	if n := len(e.sim.Faults()); n != 0 {
		t.Errorf("%d faults after clearing", n)
	}
	var dropped int
	for _, r := range e.sim.Requests() {
		if r.Fault == FaultDrop && r.Status == 0 {
			dropped++
		}
	}
	if dropped != 1 {
		t.Errorf("%d dropped requests logged, want 1", dropped)
	}
}

// A refund of the same payment and amount under a new key, soon after the
// first, is the mark of a retry that forgot its key: it is made (as Vipps
// would), and listed.
func TestSuspectRefundUnderNewKey(t *testing.T) {
	s := New(Config{MSN: "123456"})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s.mu.Lock()
	s.noteRefund("epayment", "OSLO1-2-abcd-1", "refund-1", 500, now)
	s.noteRefund("epayment", "OSLO1-2-abcd-1", "refund-1", 500, now.Add(time.Second))   // a retry: same key
	s.noteRefund("epayment", "OSLO1-2-abcd-1", "refund-2", 700, now.Add(2*time.Second)) // another amount
	s.noteRefund("epayment", "OSLO1-2-abcd-2", "refund-3", 500, now.Add(3*time.Second)) // another payment
	s.mu.Unlock()
	if got := s.Suspects(); len(got) != 0 {
		t.Fatalf("flagged %v", got)
	}
	s.mu.Lock()
	s.noteRefund("epayment", "OSLO1-2-abcd-1", "refund-4", 500, now.Add(time.Minute))
	s.noteRefund("epayment", "OSLO1-2-abcd-1", "refund-5", 700, now.Add(SuspectWindow+3*time.Second)) // too late to be a retry
	s.mu.Unlock()
	if got := s.Suspects(); len(got) != 1 || !strings.Contains(got[0], `"refund-4"`) {
		t.Fatalf("flagged %v, want the refund under refund-4", got)
	}
}
