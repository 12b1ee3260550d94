package hq_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kasse/hq"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/payment/vipps/vippstest"
)

// chain is kassehq over the repository's Vipps simulator: OSLO1 sells
// under the simulator's main sales unit, BERGEN under its second one, each
// with its own keys, as option B has it.
type chain struct {
	t       *testing.T
	vt      *vippstest.Env
	units   map[string]*vipps.Client
	journal *hq.Journal
	svc     *hq.Service
	logs    *logs
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newChain(t *testing.T) *chain {
	t.Helper()
	c := &chain{t: t, vt: vippstest.New(t, vippstest.Options{}), logs: &logs{}}
	// No kept-alive connections: net/http would resend a POST with an
	// Idempotency-Key on a reused connection that broke, hiding a lost answer.
	noReuse := func(cfg *vipps.Config) { cfg.HTTP = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} }
	c.units = map[string]*vipps.Client{
		"OSLO1": c.vt.Client(t, vippstest.MSN, noReuse),
		"BERGEN": c.vt.Client(t, vippstest.UnitMSN, func(cfg *vipps.Config) {
			noReuse(cfg)
			cfg.Credentials = vipps.Credentials{ClientID: vippstest.UnitClientID, ClientSecret: vippstest.UnitClientSecret, SubscriptionKey: vippstest.UnitSubscriptionKey}
		}),
	}
	units := map[string]hq.Unit{}
	for prefix, v := range c.units {
		units[prefix] = hq.Unit{MSN: v.MSN(), Vipps: v}
	}
	c.journal = openJournal(t, filepath.Join(t.TempDir(), "kassehq.db"), time.Now)
	c.svc = hq.NewService(units, c.journal, c.logs.add)
	return c
}

// sale makes a captured sale of value øre at store prefix, as its register would.
func (c *chain) sale(ref string, value int64) {
	c.t.Helper()
	ctx := context.Background()
	v := c.units[strings.Split(ref, "-")[0]]
	amount := money.Amount{Value: value, Currency: "NOK"}
	_, err := v.Create(ctx, vipps.CreatePayment{Amount: amount, PaymentMethod: vipps.PaymentMethod{Type: "WALLET"}, Reference: ref,
		UserFlow: "QR", CustomerInteraction: "CUSTOMER_PRESENT", QRFormat: &vipps.QRFormat{Format: "TEXT/TARGETURL"}, PaymentDescription: "sale"}, "create-"+ref)
	if err == nil {
		err = v.Approve(ctx, ref)
	}
	if err == nil {
		_, err = v.Capture(ctx, ref, amount, "capture-"+ref)
	}
	if err != nil {
		c.t.Fatalf("sale %s: %v", ref, err)
	}
}

func (c *chain) refunded(ref string) int64 {
	p, ok := c.vt.Sim.Payment(ref)
	if !ok {
		c.t.Fatalf("the simulator has no payment %s", ref)
	}
	return p.Aggregate.Refunded.Value
}

// refundCalls counts the refund requests that reached the simulator for ref.
func (c *chain) refundCalls(ref string) (n int) {
	for _, r := range c.vt.Sim.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, ref+"/refund") {
			n++
		}
	}
	return n
}

var bergen7 = hq.Identity{Register: "BERGEN-7", Store: "BERGEN"}

func request(key, ref string, value int64) hq.RefundRequest {
	return hq.RefundRequest{IdempotencyKey: key, Reference: ref, Amount: money.Amount{Value: value, Currency: "NOK"}, Store: "BERGEN", Lane: "7", Cashier: "Kari"}
}

func problemOf(t *testing.T, err error) *hq.Problem {
	t.Helper()
	var p *hq.Problem
	if !errors.As(err, &p) {
		t.Fatalf("error %v (%T) is not a *hq.Problem", err, err)
	}
	return p
}

// Bergen's register refunds Oslo's sale: with Oslo's unit, once per key.
func TestRefundWithTheOriginStoresUnit(t *testing.T) {
	c := newChain(t)
	const sale = "OSLO1-2-k7f3-17"
	c.sale(sale, 20000)
	ctx := context.Background()

	rec, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 5000))
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != hq.StateDone || rec.OriginStore != "OSLO1" || rec.MSN != vippstest.MSN || rec.API != hq.APIEPayment {
		t.Fatalf("the refund's record: %+v", rec)
	}
	if got := c.refunded(sale); got != 5000 {
		t.Fatalf("refunded %d at Vipps, want 5000", got)
	}
	// Oslo's MSN, and a Vipps key fixed by the register's: madeEarlier
	// finds an earlier attempt at Vipps by it.
	for _, r := range c.vt.Sim.Requests() {
		if strings.HasSuffix(r.Path, "/refund") && (r.Header.Get("Merchant-Serial-Number") != vippstest.MSN || r.Header.Get("Idempotency-Key") != hq.VippsKey("BERGEN-7", "r1")) {
			t.Errorf("the refund went to Vipps under MSN %s, key %s", r.Header.Get("Merchant-Serial-Number"), r.Header.Get("Idempotency-Key"))
		}
	}

	// The register lost the answer and asks again: the recorded answer,
	// and nothing more at Vipps.
	again, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 5000))
	if err != nil || again.State != hq.StateDone || !again.Created.Equal(rec.Created) {
		t.Fatalf("the retry: %+v, %v", again, err)
	}
	if got, n := c.refunded(sale), c.refundCalls(sale); got != 5000 || n != 1 {
		t.Fatalf("after the retry: refunded %d in %d calls, want 5000 in 1", got, n)
	}
	// The same key for another refund is a register's bug, not a retry.
	if _, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 100)); problemOf(t, err).Status != http.StatusConflict {
		t.Errorf("a reused key: %v", err)
	}
}

// Vipps made the refund but its answer was lost: the retry resends the
// journaled request under the same Vipps key, and the money moves once.
func TestRefundResumesAfterALostVippsAnswer(t *testing.T) {
	c := newChain(t)
	const sale = "OSLO1-2-k7f3-18"
	c.sale(sale, 20000)
	ctx := context.Background()
	c.vt.Sim.InjectFault(vippssim.Fault{Path: "/epayment/v1/payments/" + sale + "/refund", Kind: vippssim.FaultReset, Count: 1})

	_, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 3000))
	if p := problemOf(t, err); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "same key") {
		t.Fatalf("a lost Vipps answer: %v", err)
	}
	if rec, _, _ := c.journal.Get("BERGEN-7", "r1"); rec.State != hq.StateSent || rec.Attempts != 1 {
		t.Fatalf("the journal after a lost answer: %+v", rec)
	}
	if got := c.refunded(sale); got != 3000 {
		t.Fatalf("refunded %d before the retry: the fault did not make the refund, the test proves nothing", got)
	}
	rec, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 3000))
	if err != nil || rec.State != hq.StateDone {
		t.Fatalf("the retry: %+v, %v", rec, err)
	}
	if got, n := c.refunded(sale), c.refundCalls(sale); got != 3000 || n != 2 {
		t.Fatalf("refunded %d in %d calls, want 3000 once, resent once", got, n)
	}
	if s := c.vt.Sim.Suspects(); len(s) > 0 {
		t.Fatalf("the retry went to Vipps under a new key: %v", s)
	}
}

// The request is journaled before Vipps is asked: when Vipps does not
// answer the read, the register's retry finds it and carries on.
func TestRefundJournalsBeforeItAsks(t *testing.T) {
	c := newChain(t)
	const sale = "OSLO1-2-k7f3-20"
	c.sale(sale, 20000)
	ctx := context.Background()
	c.vt.Sim.InjectFault(vippssim.Fault{Path: "/epayment/v1/payments/" + sale, Method: http.MethodGet, Kind: vippssim.FaultStatus, Status: 503, Count: 1})
	if _, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 1000)); problemOf(t, err).Status != http.StatusServiceUnavailable {
		t.Fatalf("Vipps down: %v", err)
	}
	if rec, found, _ := c.journal.Get("BERGEN-7", "r1"); !found || rec.State != hq.StateReceived || rec.Vipps != nil {
		t.Fatalf("the journal after Vipps did not answer: %+v, %v", rec, found)
	}
	if rec, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 1000)); err != nil || rec.State != hq.StateDone || c.refunded(sale) != 1000 {
		t.Fatalf("the retry: %+v, %v", rec, err)
	}
}

func TestRefundRefusesMoreThanIsLeft(t *testing.T) {
	c := newChain(t)
	const sale = "OSLO1-2-k7f3-19"
	c.sale(sale, 20000)
	ctx := context.Background()
	if _, err := c.svc.Refund(ctx, bergen7, request("r1", sale, 15000)); err != nil {
		t.Fatal(err)
	}
	rec, err := c.svc.Refund(ctx, bergen7, request("r2", sale, 5001))
	if err != nil || rec.State != hq.StateRefused || !strings.Contains(rec.Error, "more than is left") || !strings.Contains(rec.Error, "at most 50,00") {
		t.Fatalf("a refund above what is left: %+v, %v", rec, err)
	}
	if got := c.refunded(sale); got != 15000 {
		t.Fatalf("refunded %d, want the first 15000 only", got)
	}
	// The refusal is the recorded answer too.
	if again, err := c.svc.Refund(ctx, bergen7, request("r2", sale, 5001)); err != nil || again.State != hq.StateRefused {
		t.Errorf("the refused refund's retry: %+v, %v", again, err)
	}
	// What is left can still go.
	if rec, err := c.svc.Refund(ctx, bergen7, request("r3", sale, 5000)); err != nil || rec.State != hq.StateDone {
		t.Errorf("the rest: %+v, %v", rec, err)
	}
}

func TestRefundRefusesWhatItCannotServe(t *testing.T) {
	c := newChain(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		who    hq.Identity
		req    hq.RefundRequest
		status int
		want   string
	}{
		{"a store without a unit", bergen7, request("r1", "TROMSO-1-k7f3-1", 100), http.StatusNotFound, "no keys for store TROMSO"},
		{"not a reference", bergen7, request("r2", "OSLO1-17", 100), http.StatusBadRequest, "PREFIX-LANE-TAG-N"},
		{"another store's name", hq.Identity{Register: "OSLO1-3", Store: "OSLO1"}, request("r3", "OSLO1-2-k7f3-1", 100), http.StatusForbidden, "certificate is for store OSLO1"},
		{"no key", bergen7, request("", "OSLO1-2-k7f3-1", 100), http.StatusBadRequest, "idempotencyKey"},
		{"no amount", bergen7, request("r4", "OSLO1-2-k7f3-1", 0), http.StatusBadRequest, "not a positive amount"},
	} {
		_, err := c.svc.Refund(ctx, tc.who, tc.req)
		if p := problemOf(t, err); p.Status != tc.status || !strings.Contains(p.Detail, tc.want) {
			t.Errorf("%s: %v, want %d and %q", tc.name, err, tc.status, tc.want)
		}
	}
	// Refused before anything was journaled or sent.
	if rs := all(t, c.journal); len(rs) != 0 {
		t.Errorf("refused requests were journaled: %+v", rs)
	}
	if n := len(c.vt.Sim.Requests()); n != 0 {
		t.Errorf("%d requests reached Vipps", n)
	}
}

func TestLookUp(t *testing.T) {
	c := newChain(t)
	const sale = "BERGEN-7-k7f3-3"
	c.sale(sale, 10000)
	p, err := c.svc.LookUp(context.Background(), sale)
	if err != nil || p.OriginStore != "BERGEN" || p.Captured.Value != 10000 || p.Refundable.Value != 10000 || p.API != hq.APIEPayment {
		t.Fatalf("LookUp of Bergen's sale: %+v, %v", p, err)
	}
	// A sale the unit never made: ePayment, then eCom, then a clear 404.
	if _, err := c.svc.LookUp(context.Background(), "BERGEN-7-k7f3-4"); problemOf(t, err).Status != http.StatusNotFound {
		t.Errorf("LookUp of an unknown sale: %v", err)
	}
}

// heldRead is Oslo's real client whose first read waits for release, so a
// test can hold one refund mid-way.
type heldRead struct {
	hq.Vipps
	reads            atomic.Int32
	entered, release chan struct{}
}

func (h *heldRead) Get(ctx context.Context, ref string) (vipps.Payment, error) {
	if h.reads.Add(1) == 1 {
		close(h.entered)
		<-h.release
	}
	return h.Vipps.Get(ctx, ref)
}

// Two refunds of one sale never both pass the check of what is left: the
// second waits for the first, or gives up with a retryable answer.
func TestRefundsOfOneSaleOneAtATime(t *testing.T) {
	c := newChain(t)
	const sale = "OSLO1-2-k7f3-21"
	c.sale(sale, 20000)
	held := &heldRead{Vipps: c.units["OSLO1"], entered: make(chan struct{}), release: make(chan struct{})}
	svc := hq.NewService(map[string]hq.Unit{"OSLO1": {MSN: vippstest.MSN, Vipps: held}}, c.journal, c.logs.add)

	first := make(chan error, 1)
	go func() {
		_, err := svc.Refund(context.Background(), bergen7, request("r1", sale, 15000))
		first <- err
	}()
	<-held.entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := svc.Refund(ctx, bergen7, request("r2", sale, 15000))
	if p := problemOf(t, err); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Detail, "still running") {
		t.Errorf("a second refund while the first runs: %v", err)
	}
	close(held.release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// Once the first is done, the second sees what it left.
	rec, err := svc.Refund(context.Background(), bergen7, request("r2", sale, 15000))
	if err != nil || rec.State != hq.StateRefused || !strings.Contains(rec.Error, "more than is left") {
		t.Errorf("the second refund after the first: %+v, %v", rec, err)
	}
	if got := c.refunded(sale); got != 15000 {
		t.Errorf("refunded %d, want 15000", got)
	}
}
