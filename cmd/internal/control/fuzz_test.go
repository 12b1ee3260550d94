package control_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/control"
	"kasse/device"
	"kasse/display"
	"kasse/display/displaytest"
	"kasse/payment"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/printer"
	"kasse/printer/receipt"
	"kasse/store"
	"kasse/till"
)

// inMemory serves a client's requests with a handler, without sockets.
type inMemory struct{ h http.Handler }

func (m inMemory) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil { // a server's request always has one
		r = r.Clone(r.Context())
		r.Body = http.NoBody
	}
	w := httptest.NewRecorder()
	m.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// newTill wires a real till as kassed does (store on a real file, the
// simulated panel, a printer writing nowhere) against the Vipps simulator,
// which approves a payment two seconds after it is created.
func newTill(f *testing.F) (*till.Till, *displaytest.Framebuffer, *store.DB) {
	sim := vippssim.New(vippssim.Config{MSN: "123456", ClientID: "fuzz-id", ClientSecret: "fuzz-secret",
		SubscriptionKey: "fuzz-sub", AutoApprove: 2 * time.Second})
	f.Cleanup(sim.Close)
	client, err := vipps.New(vipps.Config{BaseURL: "http://vippssim.invalid", MSN: "123456",
		Credentials: vipps.Credentials{ClientID: "fuzz-id", ClientSecret: "fuzz-secret", SubscriptionKey: "fuzz-sub"},
		HTTP:        &http.Client{Transport: inMemory{sim}, Timeout: 10 * time.Second}})
	if err != nil {
		f.Fatal(err)
	}
	db, err := store.Open(filepath.Join(f.TempDir(), "kasse.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	fb := displaytest.NewFramebuffer(240, 320)
	panel, err := display.NewPanel(fb)
	if err != nil {
		f.Fatal(err)
	}
	eng := payment.New(payment.Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken Oslo S", OrgNumber: "987654325", StoreLines: []string{"Jernbanetorget 1"},
		Currency: "NOK", Description: "Kjøp i butikk", TaxRate: 2500, ChainStores: []string{"BERG1"}, Flow: "qr",
		QRSize: panel.QRArea().Dx(), PollInterval: time.Second},
		client, printer.New(printer.File(filepath.Join(f.TempDir(), "receipt.escpos")),
			printer.Config{Receipt: receipt.Options{Columns: 42}, Status: printer.StatusOff}), db)
	t := till.New(till.Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken Oslo S", Currency: "NOK", CountryCode: "47"}, eng, panel)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- t.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	for deadline := time.Now().Add(20 * time.Second); t.Status().State != till.StateIdle; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			f.Fatalf("the till did not start: %+v", t.Status())
		}
	}
	return t, fb, db
}

// routes are the control API's endpoints, picked by the fuzzer's first
// argument.
var routes = []struct{ method, path string }{
	{http.MethodPost, "/v1/keys"},
	{http.MethodGet, "/v1/status"},
	{http.MethodGet, "/v1/screen.png"},
	{http.MethodGet, "/v1/journal"},
	{http.MethodGet, "/v1/export"},
	{http.MethodPost, "/v1/journal/archive"},
	{http.MethodPost, "/v1/scan"},
	{http.MethodPost, "/v1/reprint"},
}

func route(path string) uint8 {
	for i, r := range routes {
		if r.path == path {
			return uint8(i)
		}
	}
	panic(path)
}

// FuzzHandler drives the control socket's real handler, over a real till,
// with fuzzed bodies and query strings. Property: bad input is answered
// 4xx with a JSON message saying what is wrong, never 5xx, never a panic;
// a 200 on a JSON endpoint is JSON.
func FuzzHandler(f *testing.F) {
	f.Add(route("/v1/keys"), "", []byte(`{"keys":["1","2","5","0","0","pay"]}`))
	f.Add(route("/v1/keys"), "", []byte(`{"keys":["cancel","clear"]}`))
	f.Add(route("/v1/keys"), "", []byte(`{"keys":["refund","1","00","back","pay","pay"]}`))
	f.Add(route("/v1/keys"), "", []byte(`{"keys":["4","9","phone","9","1","2","3","4","5","6","7","pay"]}`))
	f.Add(route("/v1/keys"), "", []byte(`{"keys":["PAY ","payy"]}`))
	f.Add(route("/v1/keys"), "", []byte(`{"keys":`))
	f.Add(route("/v1/status"), "", []byte(nil))
	f.Add(route("/v1/screen.png"), "", []byte(nil))
	f.Add(route("/v1/journal"), "since=2026-01-31&store=OSLO1", []byte(nil))
	f.Add(route("/v1/journal"), "since=2026-01-31T15:04:05%2B01:00", []byte(nil))
	f.Add(route("/v1/journal"), "store=oslo-1&since=yesterday", []byte(nil))
	f.Add(route("/v1/export"), "format=csv&store=OSLO1", []byte(nil))
	f.Add(route("/v1/export"), "format=json&since=2026-11-01", []byte(nil))
	f.Add(route("/v1/export"), "format=xml", []byte(nil))
	f.Add(route("/v1/journal/archive"), "before=2099-01-31", []byte(nil))
	f.Add(route("/v1/journal/archive"), "before=9999-12-31T23:59:59Z", []byte(nil))
	f.Add(route("/v1/journal/archive"), "before=0001-01-01", []byte(nil))
	f.Add(route("/v1/scan"), "code=OSLO1-2-k7f3-17", []byte(nil))
	f.Add(route("/v1/scan"), "code=BERG1-1-x9q2-7", []byte(nil))
	f.Add(route("/v1/scan"), "code=https%3A%2F%2Fqr.vipps.no%2F28%2F2%2F01%2F031%2F4791234567%3Fv%3D1", []byte(nil))
	f.Add(route("/v1/scan"), "code="+strings.Repeat("%FF", 300), []byte(nil))
	f.Add(route("/v1/reprint"), "reference=OSLO1-2-k7f3-1", []byte(nil))
	f.Add(route("/v1/reprint"), "reference=../../etc/passwd", []byte(nil))

	t, fb, db := newTill(f)
	h := control.Handler(t, fb, db, filepath.Join(f.TempDir(), "archive"))
	f.Fuzz(func(tt *testing.T, which uint8, query string, body []byte) {
		r := routes[int(which)%len(routes)]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if r.path == "/v1/scan" {
			// A code is read only in a refund: start one, and leave it
			// afterwards so the next input finds the till idle.
			_ = t.Press(ctx, device.KeyCancel)
			_ = t.Press(ctx, device.KeyClear)
			_ = t.Press(ctx, device.KeyRefund)
			defer t.Press(ctx, device.KeyCancel)
		}
		req := (&http.Request{Method: r.method, URL: &url.URL{Path: r.path, RawQuery: query},
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)), Host: "kassed"}).WithContext(ctx)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		status, reply := w.Code, w.Body.Bytes()
		if status >= 500 {
			tt.Fatalf("%s %s?%s: %d %s", r.method, r.path, query, status, reply)
		}
		if status >= 400 {
			var e control.ErrorReply
			if err := json.Unmarshal(reply, &e); err != nil || strings.TrimSpace(e.Error) == "" {
				tt.Fatalf("%s %s?%s: %d without a message: %q", r.method, r.path, query, status, reply)
			}
			return
		}
		if status != http.StatusOK {
			tt.Fatalf("%s %s?%s: %d", r.method, r.path, query, status)
		}
		switch r.path {
		case "/v1/screen.png", "/v1/export":
		default:
			if !json.Valid(reply) {
				tt.Fatalf("%s %s?%s: 200 with a body that is not JSON: %q", r.method, r.path, query, reply)
			}
		}
	})
}
