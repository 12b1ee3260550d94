package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/payment/vipps/vippsspec"
	"kasse/payment/vipps/vippstest"
	"kasse/printer/printertest"
	"kasse/till"
	"kasse/till/pin"
)

const (
	partnerMSN   = vippstest.PartnerMSN // another merchant the test keys may act for (option A)
	testMSN      = vippstest.MSN
	testClientID = vippstest.ClientID
	testSecret   = vippstest.ClientSecret
	testSubKey   = vippstest.SubscriptionKey
)

// world is a simulator and a register wired as in production: vippssim is a
// real HTTP server behind the OpenAPI validator, kassed is openRegister +
// run with a real unix control socket, the printer a real pty.
type world struct {
	t       testing.TB
	clock   *vippssim.ManualClock
	sim     *vippssim.Server
	spec    *vippsspec.Validator
	srv     *httptest.Server
	printer *printertest.PTY
	reg     *register
	ctl     *control.Client
	vipps   *vipps.Client // plays the shopper through the test approve endpoint
	stopped chan error
	stop    context.CancelFunc

	// What restart opens again.
	cfg     config.Config
	secrets config.Secrets
	logf    func(string, ...any)
	opts    worldOpts
}

type worldOpts struct {
	prefix, lane string
	poll         time.Duration
	spec         bool
	quiet        bool   // no kassed log lines (benchmarks)
	shared       *world // another register's Vipps: one MSN for the chain
	chain        []string
	flow         string // vipps.flow, default qr
	msn          string // vipps.msn, default testMSN
	chainMSN     map[string]string
	logs         *logLines
	dir          string                   // holds kassed.toml, secrets.toml and data; default t.TempDir()
	rtt          time.Duration            // round-trip latency between kassed and Vipps
	secrets      *config.Secrets          // default the test keys
	refund       config.Refund            // [refund]; default straight to Vipps
	sources      []string                 // keys.sources
	evdev        []config.EvdevKeys       // [[keys.evdev]]
	inputs       func(*inputs)            // swaps key hardware for fakes before run
	via          func(base string) string // a proxy between kassed and Vipps, when set
	remote       config.Remote            // [remote]: the rule for remote orders
	simClock     bool                     // the payment engine runs on the simulator's manual clock
}

// logLines keeps kassed's log lines for tests that check what is logged.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newWorld(t testing.TB, o worldOpts) *world {
	t.Helper()
	if o.prefix == "" {
		o.prefix, o.lane = "OSLO1", "2"
	}
	if o.flow == "" {
		o.flow = "qr"
	}
	if o.msn == "" {
		o.msn = testMSN
	}
	if o.poll == 0 {
		o.poll = time.Second
	}
	w := &world{t: t}
	if sh := o.shared; sh != nil {
		w.clock, w.sim, w.spec, w.srv = sh.clock, sh.sim, sh.spec, sh.srv
	} else {
		var spec *vippsspec.Validator
		if o.spec {
			spec = vippsspec.Open(t)
		}
		vt := vippstest.New(t, vippstest.Options{Spec: spec, Start: time.Now()})
		w.clock, w.sim, w.spec, w.srv = vt.Clock, vt.Sim, vt.Spec, vt.Server
	}
	w.printer = printertest.NewPTY(t)

	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	base := w.srv.URL
	if o.rtt > 0 {
		base = vippstest.Latency(t, base, o.rtt)
	}
	if o.via != nil {
		base = o.via(base)
	}
	cfgFile, err := config.WriteFiles(dir, config.Config{DataDir: "data",
		Vipps: config.Vipps{BaseURL: base, MSN: o.msn, PaymentDescription: "Kjøp i butikk",
			PollInterval: config.Duration{Duration: o.poll}, Flow: o.flow,
			CallbackPrefix: "https://butikken.example/vipps", FallBack: "https://butikken.example"},
		Store: config.Store{Prefix: o.prefix, Lane: o.lane, Name: "Butikken Oslo S", OrgNumber: "987654325",
			Lines: []string{"Jernbanetorget 1, 0154 Oslo"}, TaxRate: 2500},
		Printer: config.Printer{Port: w.printer.Path(), ASB: true, PaperCheck: true},
		Chain:   config.Chain{Stores: o.chain, MSN: o.chainMSN},
		Refund:  o.refund,
		Remote:  o.remote,
		Keys:    config.Keys{Sources: o.sources, Evdev: o.evdev, Cashiers: []config.Cashier{{ID: testCashier, PINHash: testPINHash(t), Supervisor: true}}},
	}, *cmp.Or(o.secrets, &config.Secrets{ClientID: testClientID, ClientSecret: testSecret, SubscriptionKey: testSubKey}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := config.LoadSecrets(cfg.Vipps.SecretsFile)
	if err != nil {
		t.Fatal(err)
	}
	logf := t.Logf
	if o.quiet {
		logf = func(string, ...any) {}
	}
	if o.logs != nil {
		logf = o.logs.add
	}

	w.cfg, w.secrets, w.logf, w.opts = cfg, secrets, logf, o
	// The shopper, through the test approve endpoint, on the wall clock.
	w.vipps, err = vipps.New(vipps.Config{BaseURL: w.srv.URL, MSN: testMSN,
		Credentials: vipps.Credentials{ClientID: testClientID, ClientSecret: testSecret, SubscriptionKey: testSubKey},
		System:      vipps.System{Name: "kasse-test", Version: "1", PluginName: "shopper", PluginVersion: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if w.stop == nil {
			return // it never opened
		}
		w.stop()
		if err := <-w.stopped; err != nil {
			t.Errorf("kassed stopped with %v", err)
		}
		w.reg.close()
	})
	w.start()
	return w
}

// start opens the register on the world's config and data, runs it, and
// logs the test cashier in.
func (w *world) start() {
	t, o := w.t, w.opts
	t.Helper()
	var err error
	w.stop = nil
	w.reg, err = openRegister(w.cfg, w.secrets, true, w.logf)
	if err != nil {
		t.Fatal(err)
	}
	if o.inputs != nil {
		o.inputs(&w.reg.inputs)
	}
	if o.simClock {
		w.reg.engine.SetClock(w.clock.Now)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.stopped = cancel, make(chan error, 1)
	go func() { w.stopped <- w.reg.run(ctx) }()
	w.ctl = control.NewClient(filepath.Join(w.cfg.DataDir, "kassed.sock"))
	w.waitFor("the control socket", func(st till.Status) bool { return st.State == till.StateLogin })
	if _, err := w.keys(testCashier, "pay", testPIN[0:1], testPIN[1:2], testPIN[2:3], testPIN[3:4], "pay"); err != nil {
		t.Fatalf("login: %v", err)
	}
	w.waitFor("the login", func(st till.Status) bool { return st.State == till.StateIdle && st.Cashier == testCashier })
}

// restart stops kassed as a service stop does and starts it again on the
// same data: what the last run left is reconciled.
func (w *world) restart() {
	w.t.Helper()
	w.stop()
	if err := <-w.stopped; err != nil {
		w.t.Errorf("kassed stopped with %v", err)
	}
	w.reg.close()
	w.start()
}

// The cashier every world logs in as; also the supervisor who approves
// refunds with testPIN.
const (
	testCashier = "7"
	testPIN     = "4711"
)

var pinHashes sync.Map // one hash per test binary: argon2id costs 19 MiB and some milliseconds

func testPINHash(t testing.TB) string {
	if h, ok := pinHashes.Load(testPIN); ok {
		return h.(string)
	}
	h, err := pin.Hash(testPIN, pin.Default, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pinHashes.Store(testPIN, h)
	return h
}

// supervisor keys the supervisor's PIN and pay: the refund on the till goes.
func (w *world) supervisor() (till.Status, error) {
	return w.keys(testPIN[0:1], testPIN[1:2], testPIN[2:3], testPIN[3:4], "pay")
}

// waitFor polls kassectl status until cond holds; it fails after 20 s,
// which is a hang, not a speed requirement.
func (w *world) waitFor(what string, cond func(till.Status) bool) till.Status {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last till.Status
	var err error
	for time.Now().Before(deadline) {
		last, err = w.ctl.Status(context.Background())
		if err == nil && cond(last) {
			return last
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.t.Fatalf("waiting for %s: last status %+v, error %v", what, last, err)
	return last
}

func (w *world) keys(k ...string) (till.Status, error) {
	return w.ctl.Keys(context.Background(), k...)
}

// simPayment reads the simulator's truth for one reference.
type simPayment struct {
	Reference   string `json:"reference"`
	State       string `json:"state"`
	RedirectURL string `json:"redirectUrl"`
	Amount      struct {
		Value    int64  `json:"value"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Aggregate struct {
		Authorized, Cancelled, Captured, Refunded struct {
			Value int64 `json:"value"`
		}
	} `json:"aggregate"`
}

func (a *simPayment) UnmarshalJSON(b []byte) error {
	type plain simPayment
	var raw struct {
		plain
		Agg map[string]struct {
			Value int64 `json:"value"`
		} `json:"aggregate"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = simPayment(raw.plain)
	a.Aggregate.Authorized.Value = raw.Agg["authorizedAmount"].Value
	a.Aggregate.Cancelled.Value = raw.Agg["cancelledAmount"].Value
	a.Aggregate.Captured.Value = raw.Agg["capturedAmount"].Value
	a.Aggregate.Refunded.Value = raw.Agg["refundedAmount"].Value
	return nil
}

func (w *world) simPayments() []simPayment {
	w.t.Helper()
	resp, err := http.Get(w.srv.URL + "/vippssim/payments")
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ps []simPayment
	if err := json.NewDecoder(resp.Body).Decode(&ps); err != nil {
		w.t.Fatal(err)
	}
	return ps
}

func (w *world) simPayment(ref string) simPayment {
	w.t.Helper()
	for _, p := range w.simPayments() {
		if p.Reference == ref {
			return p
		}
	}
	w.t.Fatalf("the simulator has no payment %s", ref)
	return simPayment{}
}

// screenQR takes the customer display as PNG through the control socket and
// decodes the QR on it with a real decoder.
func (w *world) screenQR() string {
	w.t.Helper()
	// The status says what the till handed the renderer; wait until it is drawn.
	if err := w.reg.hw.display.Sync(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.ctl.Screen(context.Background(), &buf); err != nil {
		w.t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		w.t.Fatalf("screen is not a PNG: %v", err)
	}
	// The QR area only, as a pure barcode: given the whole screen, gozxing
	// misreads about 1 link in 500 that phones and zbarimg read (this was the
	// "no QR code readable" flake; display's TestQRDecodesEveryLink).
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		w.t.Fatalf("screen PNG decodes to %T", img)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(sub.SubImage(w.reg.hw.panel.QRArea()))
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		w.t.Fatalf("no QR code readable on the customer display: %v", err)
	}
	return res.GetText()
}

func (w *world) approve(ref string) {
	w.t.Helper()
	if err := w.vipps.Approve(context.Background(), ref); err != nil {
		w.t.Fatalf("approve %s: %v", ref, err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
