// Package vippstest is the one way tests meet Vipps: the simulator behind
// the OpenAPI contract check on a real HTTP server, with a manual clock,
// and clients that hold the test credentials. It replaces the setups each
// test package used to build by hand.
package vippstest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/payment/vipps/vippsspec"
)

// The credentials the simulator takes in tests. The secret's text says it
// must never be logged, so a test that finds it in a log knows why.
const (
	MSN             = "123456"
	PartnerMSN      = "654321" // another merchant the keys may act for (option A)
	ClientID        = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
	ClientSecret    = "test-client-secret-do-not-log"
	SubscriptionKey = "test-subscription-key"
)

// A second sales unit with keys of its own (option B: each store is its
// own sales unit); the simulator knows it in every Env.
const (
	UnitMSN             = "222222"
	UnitClientID        = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	UnitClientSecret    = "unit-b-client-secret-do-not-log"
	UnitSubscriptionKey = "unit-b-subscription-key"
)

// Options shape an Env; the zero value is a plain simulator.
type Options struct {
	// Spec checks every request and response against the provider's
	// documents: a validator from vippsspec.Open, freshened per Env. The
	// test fails if it saw no exchange at all.
	Spec *vippsspec.Validator
	// Sim adjusts the simulator's config (auto-approve, rate limits, …).
	Sim func(*vippssim.Config)
	// Handler goes in front of the simulator (a fault, a recorder).
	Handler func(http.Handler) http.Handler
	// Start is the manual clock's first reading; zero: a fixed date.
	Start time.Time
}

// Env is a running simulator.
type Env struct {
	Clock  *vippssim.ManualClock
	Sim    *vippssim.Server
	Spec   *vippsspec.Validator // nil without Options.Spec
	Server *httptest.Server
}

// New starts a simulator for t; everything stops when t ends.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	start := o.Start
	if start.IsZero() {
		start = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	}
	e := &Env{Clock: vippssim.NewManualClock(start)}
	cfg := vippssim.Config{MSN: MSN, ClientID: ClientID, ClientSecret: ClientSecret, SubscriptionKey: SubscriptionKey,
		Clock: e.Clock, PartnerMSNs: []string{PartnerMSN},
		Units: []vippssim.SalesUnit{{MSN: UnitMSN, ClientID: UnitClientID, ClientSecret: UnitClientSecret, SubscriptionKey: UnitSubscriptionKey}}}
	if o.Sim != nil {
		o.Sim(&cfg)
	}
	e.Sim = vippssim.New(cfg)
	var h http.Handler = e.Sim
	if o.Handler != nil {
		h = o.Handler(h)
	}
	if o.Spec != nil {
		e.Spec = o.Spec.Fresh()
		h = e.Spec.Middleware(h)
	}
	e.Server = httptest.NewServer(h)
	t.Cleanup(func() {
		e.Server.Close()
		e.Sim.Close()
		if e.Spec != nil {
			e.Spec.Check(t)
			if e.Spec.Count() == 0 {
				t.Error("the contract validator checked no exchange: the test proves nothing about the contract")
			}
		}
	})
	return e
}

// Client returns a client of the simulator for msn ("" is MSN), on the
// simulator's clock; tweak adjusts its config.
func (e *Env) Client(t testing.TB, msn string, tweak func(*vipps.Config)) *vipps.Client {
	t.Helper()
	if msn == "" {
		msn = MSN
	}
	cfg := vipps.Config{
		BaseURL:     e.Server.URL,
		MSN:         msn,
		Credentials: vipps.Credentials{ClientID: ClientID, ClientSecret: ClientSecret, SubscriptionKey: SubscriptionKey},
		System:      vipps.System{Name: "kasse", Version: "test", PluginName: "kassed", PluginVersion: "test"},
		HTTP:        e.Server.Client(),
		Now:         e.Clock.Now,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := vipps.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
