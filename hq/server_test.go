package hq_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kasse/hq"
)

// hqServer is kassehq serve in-process: the registers' API over real
// HTTPS on loopback, with the PKI's mutual TLS.
type hqServer struct {
	*chain
	pki  hq.PKI
	url  string
	skew atomic.Int64 // added to the PKI's clock
}

func newServer(t *testing.T) *hqServer {
	t.Helper()
	h := &hqServer{chain: newChain(t)}
	// The wall clock, give or take skew: the register checks kassehq's
	// certificate with its own.
	h.pki = hq.PKI{Dir: filepath.Join(t.TempDir(), "etc"), Now: func() time.Time { return time.Now().Add(time.Duration(h.skew.Load())) }}
	if err := h.pki.Init([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	conf, err := h.pki.ServerTLS(h.logs.add)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(hq.Handler(h.svc, h.pki.CheckRevoked))
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// client is a register's HTTPS client with the certificate kassehq issued
// to name; withCert false leaves the certificate out.
func (h *hqServer) client(t *testing.T, name, store string, withCert bool) *http.Client {
	t.Helper()
	is, err := h.pki.Issue(name, store)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := hq.ClientTLS(is.Cert, is.Key, is.CA)
	if err != nil {
		t.Fatal(err)
	}
	if !withCert {
		conf.Certificates = nil
	}
	tr := &http.Transport{TLSClientConfig: conf}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// call returns the status and body, or the transport's error.
func call(c *http.Client, method, url, body string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// wantProblem checks an error answer is problem JSON with status and detail.
func wantProblem(t *testing.T, what string, status int, h http.Header, body []byte, wantStatus int, detail string) {
	t.Helper()
	var p hq.Problem
	if status != wantStatus || h.Get("Content-Type") != "application/problem+json" || json.Unmarshal(body, &p) != nil ||
		p.Status != wantStatus || !strings.Contains(p.Detail, detail) {
		t.Errorf("%s: %d %s %s, want a %d problem saying %q", what, status, h.Get("Content-Type"), body, wantStatus, detail)
	}
}

func TestHandlerOverMutualTLS(t *testing.T) {
	h := newServer(t)
	const sale = "OSLO1-2-k7f3-17"
	h.sale(sale, 20000)
	bergen := h.client(t, "BERGEN-7", "BERGEN", true)

	st, _, body, err := call(bergen, "GET", h.url+hq.PathPayments+sale, "")
	var p hq.Payment
	if err != nil || st != http.StatusOK || json.Unmarshal(body, &p) != nil || p.Refundable.Value != 20000 {
		t.Fatalf("GET the sale: %d %s %v", st, body, err)
	}
	req, _ := json.Marshal(request("r1", sale, 5000))
	st, _, body, err = call(bergen, "POST", h.url+hq.PathRefunds, string(req))
	var r hq.Refund
	if err != nil || st != http.StatusOK || json.Unmarshal(body, &r) != nil || r.State != hq.StateDone || r.Register != "BERGEN-7" {
		t.Fatalf("POST a refund: %d %s %v", st, body, err)
	}
	if bytes.Contains(body, []byte(`"vipps"`)) {
		t.Errorf("the answer carries kassehq's own Vipps request: %s", body)
	}

	st, hd, body, _ := call(bergen, "POST", h.url+hq.PathRefunds, `{"reference":"`+sale+`","extra":1}`)
	wantProblem(t, "an unknown field", st, hd, body, http.StatusBadRequest, "not a refund request")
	st, hd, body, _ = call(bergen, "GET", h.url+hq.PathPayments+"TROMSO-1-k7f3-1", "")
	wantProblem(t, "a store without a unit", st, hd, body, http.StatusNotFound, "no keys for store TROMSO")

	// Without TLS (a proxy in front, a wrong listener) nobody is anybody.
	rec := httptest.NewRecorder()
	hq.Handler(h.svc, h.pki.CheckRevoked).ServeHTTP(rec, httptest.NewRequest("GET", hq.PathPayments+sale, nil))
	wantProblem(t, "plain HTTP", rec.Code, rec.Header(), rec.Body.Bytes(), http.StatusUnauthorized, "no verified client certificate")

	if _, _, _, err := call(h.client(t, "OSLO1-3", "OSLO1", false), "GET", h.url+hq.PathPayments+sale, ""); err == nil || !strings.Contains(err.Error(), "tls:") {
		t.Errorf("a register without its certificate: %v, want a refused handshake", err)
	}
}

func TestHandlerRefusesARevokedRegister(t *testing.T) {
	h := newServer(t)
	const sale = "OSLO1-2-k7f3-17"
	h.sale(sale, 20000)
	bergen, oslo := h.client(t, "BERGEN-7", "BERGEN", true), h.client(t, "OSLO1-3", "OSLO1", true)
	if st, _, body, err := call(bergen, "GET", h.url+hq.PathPayments+sale, ""); err != nil || st != http.StatusOK {
		t.Fatalf("before the revoke: %d %s %v", st, body, err)
	}
	if _, err := h.pki.Revoke("BERGEN-7"); err != nil {
		t.Fatal(err)
	}
	// The connection opened before the revoke is still alive: the
	// handler refuses it at the next request.
	st, hd, body, err := call(bergen, "GET", h.url+hq.PathPayments+sale, "")
	if err != nil {
		t.Fatalf("the kept-alive connection: %v (was it not reused?)", err)
	}
	wantProblem(t, "a revoked register on its old connection", st, hd, body, http.StatusForbidden, "was revoked")
	// A new connection does not get past the handshake, and the log says why.
	fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: bergen.Transport.(*http.Transport).TLSClientConfig}}
	if _, _, _, err := call(fresh, "GET", h.url+hq.PathPayments+sale, ""); err == nil || !strings.Contains(err.Error(), "tls:") {
		t.Errorf("a revoked register on a new connection: %v", err)
	}
	if !strings.Contains(h.logs.String(), "refused a connection") || !strings.Contains(h.logs.String(), "was revoked") {
		t.Errorf("kassehq's log does not say why:\n%s", h.logs.String())
	}
	if st, _, body, err := call(oslo, "GET", h.url+hq.PathPayments+sale, ""); err != nil || st != http.StatusOK {
		t.Errorf("another register after the revoke: %d %s %v", st, body, err)
	}
}

// kassehq checks a register's certificate by the PKI's clock: an expired
// one is refused.
func TestServerRefusesAnExpiredCertificate(t *testing.T) {
	h := newServer(t)
	bergen := h.client(t, "BERGEN-7", "BERGEN", true)
	h.skew.Store(int64(3 * 365 * 24 * time.Hour))
	if _, _, _, err := call(bergen, "GET", h.url+hq.PathPayments+"OSLO1-2-k7f3-17", ""); err == nil || !strings.Contains(err.Error(), "tls:") {
		t.Errorf("an expired certificate: %v, want a refused handshake", err)
	}
}

func TestJournalHandler(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "kassehq.db"), time.Now)
	if _, err := j.Put(refundOf("BERGEN-7", "k1", 500)); err != nil {
		t.Fatal(err)
	}
	get := func(q string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		hq.JournalHandler(j).ServeHTTP(rec, httptest.NewRequest("GET", "/journal"+q, nil))
		return rec
	}
	if rec := get("?format=csv"); rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/csv" ||
		!strings.HasPrefix(rec.Body.String(), "created,updated,register") || !strings.Contains(rec.Body.String(), "BERGEN-7") {
		t.Errorf("csv: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	var rs []hq.Refund
	if rec := get("?format=json"); rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" ||
		json.Unmarshal(rec.Body.Bytes(), &rs) != nil || len(rs) != 1 {
		t.Errorf("json: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	for _, q := range []string{"", "?format=xml"} {
		if rec := get(q); rec.Code != http.StatusBadRequest {
			t.Errorf("format %q: %d, want 400", q, rec.Code)
		}
	}
}
