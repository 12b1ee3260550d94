package vippssim

import (
	"net/http"
	"testing"
	"time"

	"kasse/payment/vipps/vippsspec"
)

func testRateLimits(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	// Five creates of one reference a minute, counted before idempotency:
	// even retries of the same request use up the allowance.
	for i := range ModifyLimit {
		if status, b := e.api("POST", "/epayment/v1/payments", "same-key", createBody("ratelimit-1", 1000)); status != http.StatusCreated {
			t.Fatalf("create %d: %d %s", i+1, status, b)
		}
		e.clock.Advance(time.Second)
	}
	status, h, b := e.call("POST", "/epayment/v1/payments", e.apiHeaders("same-key"), createBody("ratelimit-1", 1000))
	if p := decodeProblem(t, h, b); status != http.StatusTooManyRequests || h.Get("Retry-After") != "55" || p.Status != 429 {
		t.Errorf("sixth create: %d Retry-After %q %+v", status, h.Get("Retry-After"), p)
	}
	// Another reference is not affected; and the window slides.
	e.create("ratelimit-2", 1000)
	e.clock.Advance(55 * time.Second)
	if status, b := e.api("POST", "/epayment/v1/payments", "same-key", createBody("ratelimit-1", 1000)); status != http.StatusCreated {
		t.Errorf("create after Retry-After: %d %s", status, b)
	}

	off := newEnv(t, spec, func(c *Config) { c.NoRateLimits = true })
	off.login()
	off.create("unlimited-1", 1000)
	for i := range GetLimit + 10 {
		if status, b := off.api("GET", "/epayment/v1/payments/unlimited-1", "", nil); status != http.StatusOK {
			t.Fatalf("GET %d without limits: %d %s", i+1, status, b)
		}
	}
}
