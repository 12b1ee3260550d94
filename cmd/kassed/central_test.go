package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"log"

	"kasse/cmd/internal/config"
	"kasse/hq"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippstest"
	"kasse/till"
)

// hqWorld is kassehq in-process, as kassehq serve wires it: the CA and
// certificates made by its PKI, the registers' API over real HTTPS with
// mutual TLS on loopback, a bbolt journal, one sales unit per store.
type hqWorld struct {
	pki     hq.PKI
	url     string
	journal *hq.Journal
	logs    *logLines
	drop    atomic.Int32 // answers still to lose after the refund is made
}

func newHQ(t *testing.T, sim *world) *hqWorld {
	t.Helper()
	h := &hqWorld{pki: hq.PKI{Dir: filepath.Join(t.TempDir(), "etc")}, logs: &logLines{}}
	if err := h.pki.Init([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	unit := func(msn string, c vipps.Credentials) hq.Unit {
		v, err := vipps.New(vipps.Config{BaseURL: sim.srv.URL, MSN: msn, Credentials: c,
			System: vipps.System{Name: "kasse", Version: "test", PluginName: "kassehq", PluginVersion: "test"}})
		if err != nil {
			t.Fatal(err)
		}
		return hq.Unit{MSN: msn, Vipps: v}
	}
	units := map[string]hq.Unit{
		"OSLO1":  unit(testMSN, vipps.Credentials{ClientID: testClientID, ClientSecret: testSecret, SubscriptionKey: testSubKey}),
		"BERGEN": unit(vippstest.UnitMSN, vipps.Credentials{ClientID: vippstest.UnitClientID, ClientSecret: vippstest.UnitClientSecret, SubscriptionKey: vippstest.UnitSubscriptionKey}),
	}
	var err error
	h.journal, err = hq.OpenJournal(filepath.Join(t.TempDir(), "kassehq.db"), time.Now, time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := h.pki.ServerTLS(h.logs.add)
	if err != nil {
		t.Fatal(err)
	}
	api := hq.Handler(hq.NewService(units, h.journal, h.logs.add), h.pki.CheckRevoked)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && h.drop.Load() > 0 {
			// The refund is made and journaled; only its answer is lost.
			h.drop.Add(-1)
			api.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler)
		}
		api.ServeHTTP(w, r)
	}))
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(logWriter(h.logs.add), "", 0)
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		h.journal.Close()
	})
	h.url = srv.URL
	return h
}

// register issues name of storePrefix a certificate and writes its files
// into dir, as an installer copies them to the register.
func (h *hqWorld) register(t *testing.T, name, storePrefix, dir string) config.Refund {
	t.Helper()
	is, err := h.pki.Issue(name, storePrefix)
	if err != nil {
		t.Fatal(err)
	}
	r := config.Refund{Via: "central", HQURL: h.url, HQCert: filepath.Join(dir, "register.pem"),
		HQKey: filepath.Join(dir, "register.key"), HQCA: filepath.Join(dir, "ca.pem")}
	for path, b := range map[string][]byte{r.HQCert: is.Cert, r.HQKey: is.Key, r.HQCA: is.CA} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func sellAndPay(w *world, digits ...string) string {
	w.t.Helper()
	w.keys(append(digits, "pay")...)
	ref := w.waitFor("the QR", func(s till.Status) bool { return s.Screen == "qr" }).Reference
	if err := w.sim.Approve(ref); err != nil {
		w.t.Fatal(err)
	}
	w.waitFor("paid", func(s till.Status) bool { return s.Screen == "paid" })
	w.keys("clear")
	return ref
}

// refund scans ref at w and refunds the keyed amount (none: all).
func refund(w *world, ref string, digits ...string) till.Status {
	w.t.Helper()
	w.keys("refund")
	if _, err := w.ctl.Scan(context.Background(), ref); err != nil {
		w.t.Fatalf("scan %s: %v", ref, err)
	}
	w.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	w.keys(append(digits, "pay")...)
	w.waitFor("the supervisor's PIN", func(s till.Status) bool { return s.State == till.StateRefundPIN })
	if _, err := w.supervisor(); err != nil {
		w.t.Fatalf("supervisor PIN: %v", err)
	}
	return w.waitFor("the refund's end", func(s till.Status) bool { return s.State == till.StateDone })
}

// Option B end to end: two stores, each its own sales unit with its own
// keys, and one kassehq holding both. Each register refunds the other's
// sale through kassehq (which uses the origin store's keys and MSN), a lost
// answer is retried and refunds once, a refund above what is left is
// refused, and a revoked register or one without a certificate is refused.
func TestCentralRefundsBothWays(t *testing.T) {
	oslo := newWorld(t, worldOpts{prefix: "OSLO1", lane: "2", spec: true, chain: []string{"BERGEN"}})
	h := newHQ(t, oslo)
	bergenDir, osloDir := t.TempDir(), t.TempDir()
	bergen := newWorld(t, worldOpts{prefix: "BERGEN", lane: "7", shared: oslo, chain: []string{"OSLO1"}, msn: vippstest.UnitMSN,
		dir: bergenDir, refund: h.register(t, "BERGEN-7", "BERGEN", bergenDir),
		secrets: &config.Secrets{ClientID: vippstest.UnitClientID, ClientSecret: vippstest.UnitClientSecret, SubscriptionKey: vippstest.UnitSubscriptionKey}})
	// Oslo's register refunds through kassehq too (its own sales would
	// still go straight to Vipps).
	oslo2 := newWorld(t, worldOpts{prefix: "OSLO1", lane: "3", shared: oslo, chain: []string{"BERGEN"},
		dir: osloDir, refund: h.register(t, "OSLO1-3", "OSLO1", osloDir)})

	osloSale := sellAndPay(oslo, "2", "0", "0", "0", "0")     // 200,00 under MSN 123456
	bergenSale := sellAndPay(bergen, "1", "0", "0", "0", "0") // 100,00 under MSN 222222
	if _, ok := bergen.sim.Payment(osloSale); !ok {
		t.Fatal("the simulator lost the sale")
	}

	// Bergen refunds Oslo's sale, Oslo Bergen's.
	if st := refund(bergen, osloSale, "5", "0", "0", "0"); st.Screen != "paid" || st.LastError != "" {
		t.Fatalf("Bergen refunding Oslo's sale: %+v", st)
	}
	if st := refund(oslo2, bergenSale, "3", "0", "0", "0"); st.Screen != "paid" || st.LastError != "" {
		t.Fatalf("Oslo refunding Bergen's sale: %+v", st)
	}
	refunded := func(ref string) int64 {
		p, _ := oslo.sim.Payment(ref)
		return p.Aggregate.Refunded.Value
	}
	if refunded(osloSale) != 5000 || refunded(bergenSale) != 3000 {
		t.Fatalf("refunded %d and %d at Vipps, want 5000 and 3000", refunded(osloSale), refunded(bergenSale))
	}
	// Each refund went to Vipps under the origin store's MSN (and so its
	// keys: the simulator binds a token to its sales unit).
	for _, r := range oslo.sim.Requests() {
		switch {
		case strings.HasSuffix(r.Path, osloSale+"/refund") && r.Header.Get("Merchant-Serial-Number") != testMSN,
			strings.HasSuffix(r.Path, bergenSale+"/refund") && r.Header.Get("Merchant-Serial-Number") != vippstest.UnitMSN:
			t.Errorf("%s carried MSN %s", r.Path, r.Header.Get("Merchant-Serial-Number"))
		}
	}

	// The answer to the next refund is lost once: the register resends
	// the same key, kassehq answers with what it recorded, and the money
	// moves once.
	h.drop.Store(1)
	if st := refund(bergen, osloSale, "2", "0", "0", "0"); st.Screen != "paid" || st.LastError != "" {
		t.Fatalf("the refund whose answer was lost: %+v", st)
	}
	if h.drop.Load() != 0 {
		t.Fatal("no answer was dropped: the test proves nothing")
	}
	if got := refunded(osloSale); got != 7000 {
		t.Fatalf("refunded %d after a lost answer, want 7000 (5000 + 2000 once)", got)
	}
	if s := oslo.sim.Suspects(); len(s) > 0 {
		t.Fatalf("refunds retried under a new key: %v", s)
	}

	// Above what is left: the register refuses at once, with the amount
	// kassehq read (130,00 left of 200,00).
	bergen.keys("refund")
	bergen.ctl.Scan(context.Background(), osloSale)
	st := bergen.waitFor("the refundable amount", func(s till.Status) bool { return s.State == till.StateRefundAmount })
	if st.Refund.Refundable != "130,00 kr" {
		t.Fatalf("refundable through kassehq: %+v", st.Refund)
	}
	if _, err := bergen.keys("1", "3", "0", "0", "1", "pay"); err == nil {
		t.Fatal("a refund above the refundable amount was accepted")
	}
	bergen.keys("cancel")
	// ...and kassehq refuses it too, whoever asks.
	bergenTLS := clientTLS(t, bergenDir)
	c, err := hq.NewClient(h.url, bergenTLS, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(hq.RefundRequest{IdempotencyKey: "too-much-1", Reference: osloSale, Amount: money.Amount{Value: 13001, Currency: "NOK"}, Store: "BERGEN", Lane: "7"})
	r, err := c.Refund(context.Background(), body)
	if err != nil || r.State != hq.StateRefused || !strings.Contains(r.Error, "more than is left") {
		t.Fatalf("kassehq on a refund above what is left: %+v, %v", r, err)
	}
	// A register cannot refund in another store's name.
	body, _ = json.Marshal(hq.RefundRequest{IdempotencyKey: "other-store", Reference: osloSale, Amount: money.Amount{Value: 100, Currency: "NOK"}, Store: "OSLO1", Lane: "7"})
	if _, err := c.Refund(context.Background(), body); err == nil || !strings.Contains(err.Error(), "certificate is for store BERGEN") {
		t.Fatalf("Bergen's register refunding as Oslo: %v", err)
	}

	// Without a client certificate: refused in the handshake.
	noCert := bergenTLS.Clone()
	noCert.Certificates = nil
	nc, _ := hq.NewClient(h.url, noCert, 10*time.Second)
	var he *hq.Error
	if _, err := nc.Payment(context.Background(), osloSale); !errors.As(err, &he) || !he.Refused {
		t.Fatalf("a register without a certificate: %v", err)
	}

	// Revoked: refused from the next connection, with a clear error.
	if _, err := h.pki.Revoke("BERGEN-7"); err != nil {
		t.Fatal(err)
	}
	bergen.keys("refund")
	bergen.ctl.Scan(context.Background(), osloSale)
	st = bergen.waitFor("the refusal", func(s till.Status) bool { return s.LastError != "" && s.State == till.StateRefundScan })
	if !strings.Contains(st.LastError, "was revoked") || !strings.Contains(st.LastError, "kassehq register BERGEN-7") {
		t.Fatalf("a revoked register: %+v", st)
	}
	if !strings.Contains(h.logs.String(), "certificate") || !strings.Contains(h.logs.String(), "was revoked") {
		t.Errorf("kassehq's log does not say why it refused:\n%s", h.logs.String())
	}
	// A new connection is refused in the handshake.
	fresh, _ := hq.NewClient(h.url, bergenTLS, 10*time.Second)
	if _, err := fresh.Payment(context.Background(), osloSale); !errors.As(err, &he) || !he.Refused {
		t.Fatalf("the revoked certificate on a new connection: %v", err)
	}
	if got := refunded(osloSale); got != 7000 {
		t.Fatalf("refunded %d after the refusals, want 7000", got)
	}

	// kassehq's journal: every request once, and no secret in it or in
	// kassehq's log (DESIGN invariant 6).
	var csv, js bytes.Buffer
	if err := h.journal.Export(&csv, "csv"); err != nil {
		t.Fatal(err)
	}
	if err := h.journal.Export(&js, "json"); err != nil {
		t.Fatal(err)
	}
	var rows []hq.Refund
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil {
		t.Fatalf("json export: %v\n%s", err, js.String())
	}
	done := 0
	for _, r := range rows {
		if r.State == hq.StateDone {
			done++
		}
	}
	if len(rows) != 4 || done != 3 || strings.Count(csv.String(), "\n") != 5 {
		t.Fatalf("journal: %d rows, %d done, want 4 and 3:\n%s", len(rows), done, csv.String())
	}
	for _, text := range []string{csv.String(), js.String(), h.logs.String()} {
		for _, secret := range []string{testSecret, testSubKey, vippstest.UnitClientSecret, vippstest.UnitSubscriptionKey} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret in kassehq's journal or log: %q", secret)
			}
		}
	}
	oslo.spec.Check(t)
}

func clientTLS(t *testing.T, dir string) *tls.Config {
	t.Helper()
	read := func(f string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c, err := hq.ClientTLS(read("register.pem"), read("register.key"), read("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// logWriter hands the HTTP server's lines (refused handshakes) to a log.
type logWriter func(string, ...any)

func (l logWriter) Write(p []byte) (int, error) {
	l("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}
