// Command soak is the proof that kasse never loses a sale: it runs real
// vippssim and kassed processes, keys sales, approves, rejects and cancels
// them, kills kassed with SIGKILL at random moments and at named crash
// points, breaks the network between kassed and Vipps (a fault proxy and the
// simulator's fault injection), then heals everything and checks the
// register's journal and receipts against the simulator's truth.
//
//	go run ./cmd/internal/soak -duration 2m [-seed N] [-long]
//
// The same seed gives the same schedule of operations, crashes and faults
// (the timing of processes still varies).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"kasse/cmd/internal/control"
	"kasse/printer/escpos"
	"kasse/store"
	"kasse/till"
)

const clientID = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"

func main() {
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()%1e9), "schedule seed")
	duration := flag.Duration("duration", 2*time.Minute, "how long to run operations")
	long := flag.Bool("long", false, "include outages of up to 10 minutes")
	bin := flag.String("bin", "", "directory with kassed and vippssim (built if empty)")
	keep := flag.Bool("keep", false, "keep the data directory (printed) for a post-mortem")
	flag.Parse()
	fmt.Printf("soak: seed %d, duration %s, long %v\n", *seed, *duration, *long)
	r, err := run(*seed, *duration, *long, *bin, *keep)
	if r != nil {
		r.print()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
		os.Exit(1)
	}
	if len(r.discrepancies) > 0 {
		os.Exit(2)
	}
}

type report struct {
	seed           uint64
	ops            map[string]int
	crashes        map[string]int
	faults         map[string]int
	sales          int
	captured       int
	discrepancies  []string
	capturedAmount int64
	refunds        int
	starts         int
}

func (r *report) print() {
	fmt.Printf("seed %d\n", r.seed)
	fmt.Printf("operations %d %s\n", sum(r.ops), show(r.ops))
	fmt.Printf("crash points %d %s\n", sum(r.crashes), show(r.crashes))
	fmt.Printf("fault episodes %d %s\n", sum(r.faults), show(r.faults))
	fmt.Printf("sales %d, captured %d, refunds %d; Vipps holds %d øre net\n", r.sales, r.captured, r.refunds, r.capturedAmount)
	fmt.Printf("discrepancies %d\n", len(r.discrepancies))
	for _, d := range r.discrepancies {
		fmt.Printf("  %s\n", d)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func show(m map[string]int) string {
	var k []string
	for name, n := range m {
		k = append(k, fmt.Sprintf("%s=%d", name, n))
	}
	sort.Strings(k)
	return "(" + strings.Join(k, " ") + ")"
}

type soak struct {
	seed   uint64
	rep    *report
	dir    string
	bin    string
	simURL string
	prx    *proxy
	mu     sync.Mutex // guards rep's maps and the registers' processes
	a, b   *reg       // a: the store under crashes; b: another store of the chain that refunds a's sales
}

// rng gives each goroutine its own stream of the seed, so a schedule
// replays whatever the goroutines' interleaving.
func (s *soak) rng(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(s.seed, stream)) }

func (s *soak) count(m map[string]int, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

// reg is one register: its config, data and current kassed process.
type reg struct {
	prefix, lane string
	cfgPath      string
	data         string
	ctl          *control.Client
	crashes      bool // armed crash points and random kills
	kassed       *proc
}

// proc is one run of kassed.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	stderr syncBuffer
	killed bool // by the soak's random killer, not a crash point
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func run(seed uint64, duration time.Duration, long bool, bin string, keep bool) (*report, error) {
	s := &soak{seed: seed,
		rep: &report{seed: seed, ops: map[string]int{}, crashes: map[string]int{}, faults: map[string]int{}}}
	dir, err := os.MkdirTemp("", "kasse-soak-")
	if err != nil {
		return s.rep, err
	}
	if keep {
		fmt.Printf("soak: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s.dir = dir
	if bin == "" {
		bin = filepath.Join(dir, "bin")
		out, err := exec.Command("go", "build", "-o", bin+"/", "kasse/cmd/kassed", "kasse/cmd/vippssim").CombinedOutput()
		if err != nil {
			return s.rep, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	s.bin = bin
	simAddr, err := freeAddr()
	if err != nil {
		return s.rep, err
	}
	sim := exec.Command(filepath.Join(bin, "vippssim"), "--listen", simAddr, "--msn", "123456", "--client-id", clientID,
		"--client-secret", "soak-secret", "--subscription-key", "soak-sub")
	sim.Stderr = &bytes.Buffer{}
	if err := sim.Start(); err != nil {
		return s.rep, err
	}
	defer func() { sim.Process.Kill(); sim.Wait() }()
	s.simURL = "http://" + simAddr
	if s.prx, err = newProxy(simAddr); err != nil {
		return s.rep, err
	}
	s.a = &reg{prefix: "SOAK1", lane: "1", crashes: true}
	s.b = &reg{prefix: "SOAK2", lane: "1"}
	for _, r := range []*reg{s.a, s.b} {
		if err := s.writeConfig(r); err != nil {
			return s.rep, err
		}
	}
	if err := waitHTTP(s.simURL + "/vippssim/payments"); err != nil {
		return s.rep, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	s.startKassed(s.a, true)
	s.startKassed(s.b, false)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); s.faults(ctx, long) }()
	go func() { defer wg.Done(); s.killer(ctx) }()
	go func() { defer wg.Done(); s.refunds(ctx, s.b, s.rng(4)) }()
	s.operate(ctx, s.rng(5))
	wg.Wait()

	// Heal: no faults, no crash points; let the registers finish their work.
	s.prx.set(modePass, 0)
	s.simDo("DELETE", "/vippssim/faults", nil)
	for _, r := range []*reg{s.a, s.b} {
		s.stopKassed(r)
		s.startKassed(r, false)
		if err := s.settle(r); err != nil {
			s.rep.discrepancies = append(s.rep.discrepancies, err.Error())
		}
	}
	s.check()
	s.stopKassed(s.a)
	s.stopKassed(s.b)
	return s.rep, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHTTP(url string) error {
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s does not answer", url)
}

func (s *soak) writeConfig(r *reg) error {
	dir := filepath.Join(s.dir, r.prefix)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	r.data = filepath.Join(dir, "data")
	r.cfgPath = filepath.Join(dir, "kassed.toml")
	cfg := fmt.Sprintf(`data_dir = %q
[vipps]
base_url = "http://%s"
msn = "123456"
secrets_file = "secrets.toml"
poll_interval = "1s"
timeout = "3s"
[store]
prefix = %q
lane = %q
name = "Soak shop %s"
tax_rate = 2500
[chain]
stores = ["SOAK1", "SOAK2"]
`, r.data, s.prx.addr, r.prefix, r.lane, r.prefix)
	if err := os.WriteFile(r.cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	sec := "client_id = \"" + clientID + "\"\nclient_secret = \"soak-secret\"\nsubscription_key = \"soak-sub\"\n"
	return os.WriteFile(filepath.Join(dir, "secrets.toml"), []byte(sec), 0o600)
}

// startKassed starts kassed, with crash points armed or not.
func (s *soak) startKassed(r *reg, crashes bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(filepath.Join(s.bin, "kassed"), "--config", r.cfgPath, "--sim")
	cmd.Env = os.Environ()
	if crashes {
		s.rep.starts++
		cmd.Env = append(cmd.Env,
			"KASSE_CRASHPOINTS=sent:create=0.03,sent:capture=0.08,sent:cancel=0.05,sent:refund=0.08,answered:create=0.03,answered:capture=0.08,answered:cancel=0.05,answered:refund=0.08,printing=0.08",
			fmt.Sprintf("KASSE_CRASH_SEED=%d", s.seed*1000003+uint64(s.rep.starts)))
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	r.kassed = p
	go func() { cmd.Wait(); close(p.exited) }()
	r.ctl = control.NewClient(filepath.Join(r.data, "kassed.sock"))
}

func (s *soak) stopKassed(r *reg) {
	s.mu.Lock()
	p := r.kassed
	s.mu.Unlock()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// alive restarts kassed if it died, counting why, and reports whether it
// was running.
func (s *soak) alive(r *reg) bool {
	s.mu.Lock()
	p := r.kassed
	killed := p.killed
	s.mu.Unlock()
	select {
	case <-p.exited:
	default:
		return true
	}
	out := p.stderr.String()
	point := "random-kill"
	if i := strings.LastIndex(out, "crashpoint "); i >= 0 {
		point = strings.Fields(out[i+len("crashpoint "):])[0]
	} else if !killed {
		point = "exit"
		if len(out) > 400 {
			out = out[len(out)-400:]
		}
		s.mu.Lock()
		s.rep.discrepancies = append(s.rep.discrepancies, r.prefix+": kassed exited on its own: "+out)
		s.mu.Unlock()
	}
	s.count(s.rep.crashes, point)
	s.startKassed(r, r.crashes)
	return false
}

// killer pulls the plug at random moments.
func (s *soak) killer(ctx context.Context) {
	rng := s.rng(2)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(500+rng.IntN(6000)) * time.Millisecond):
		}
		s.mu.Lock()
		s.a.kassed.killed = true
		s.a.kassed.cmd.Process.Signal(syscall.SIGKILL)
		s.mu.Unlock()
	}
}

// faults breaks the network in episodes of 1–20 s (mostly short) (and, with -long, now and
// then an outage of up to 10 minutes).
func (s *soak) faults(ctx context.Context, long bool) {
	rng := s.rng(3)
	kinds := []string{"refuse", "blackhole", "reset", "latency", "sim-500", "sim-503", "sim-429", "sim-drop", "sim-reset"}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(1000+rng.IntN(2000)) * time.Millisecond):
		}
		kind := kinds[rng.IntN(len(kinds))]
		// Mostly short episodes (about 2 s), now and then up to 20 s: the
		// network is broken about half the time.
		d := min(time.Second+time.Duration(rng.ExpFloat64()*float64(time.Second)), 20*time.Second)
		if long && rng.IntN(40) == 0 {
			kind, d = "refuse", time.Duration(1+rng.IntN(10))*time.Minute
		}
		s.count(s.rep.faults, kind)
		switch kind {
		case "refuse":
			s.prx.set(modeRefuse, 0)
		case "blackhole":
			s.prx.set(modeBlackhole, 0)
		case "reset":
			s.prx.set(modeReset, 0)
		case "latency":
			s.prx.set(modeLatency, time.Duration(rng.IntN(5000))*time.Millisecond)
		default:
			f := map[string]any{"kind": "status", "count": 1 + rng.IntN(8)}
			switch kind {
			case "sim-500":
				f["status"] = 500
			case "sim-503":
				f["status"] = 503
			case "sim-429":
				f["status"], f["retryAfter"] = 429, 1+rng.IntN(3)
			case "sim-drop":
				f["kind"] = "drop"
			case "sim-reset":
				f["kind"] = "reset"
			}
			s.simDo("POST", "/vippssim/faults", f)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
		s.prx.set(modePass, 0)
		s.simDo("DELETE", "/vippssim/faults", nil)
	}
}

func (s *soak) simDo(method, path string, body any) (*http.Response, error) {
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, s.simURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// operate plays cashier and shopper at store A until ctx ends; now and then
// the cashier refunds one of A's own sales.
func (s *soak) operate(ctx context.Context, rng *rand.Rand) {
	a := s.a
	for ctx.Err() == nil {
		time.Sleep(time.Duration(50+rng.IntN(300)) * time.Millisecond)
		if !s.alive(a) {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := a.ctl.Status(c)
		if err != nil {
			cancel()
			continue
		}
		switch st.State {
		case till.StateIdle, till.StateKeying:
			if rng.IntN(10) == 0 {
				if ref := s.capturedSale(c, rng); ref != "" {
					s.count(s.rep.ops, "refund-own")
					s.refund(c, a, ref, rng)
				}
				break
			}
			amount := fmt.Sprint(100 + rng.IntN(99900))
			keys := append(strings.Split(amount, ""), "pay")
			s.count(s.rep.ops, "sale")
			a.ctl.Keys(c, keys...)
		case till.StateDone:
			a.ctl.Keys(c, "clear")
		case till.StateWaiting:
			switch n := rng.IntN(10); {
			case n < 6:
				s.count(s.rep.ops, "approve")
				s.simDo("POST", "/vippssim/payments/"+st.Reference+"/approve", nil)
			case n < 7:
				s.count(s.rep.ops, "reject")
				s.simDo("POST", "/vippssim/payments/"+st.Reference+"/reject", nil)
			case n < 9:
				s.count(s.rep.ops, "cancel")
				a.ctl.Keys(c, "cancel")
			}
		case till.StateCapturing, till.StateCancelling, till.StateRefunding:
			if !st.Online && rng.IntN(4) == 0 {
				s.count(s.rep.ops, "leave")
				a.ctl.Keys(c, "clear")
			}
		case till.StateRefundScan, till.StateRefundAmount:
			a.ctl.Keys(c, "cancel") // a refund interrupted by a restart
		}
		cancel()
	}
}

// capturedSale picks one of store A's captured sales from its journal.
func (s *soak) capturedSale(ctx context.Context, rng *rand.Rand) string {
	sales, err := s.a.ctl.Journal(ctx)
	if err != nil {
		return ""
	}
	var refs []string
	for _, sale := range sales {
		if sale.State == store.StateCaptured {
			refs = append(refs, sale.Reference)
		}
	}
	if len(refs) == 0 {
		return ""
	}
	return refs[rng.IntN(len(refs))]
}

// refund makes a partial (or, without an amount, full) refund of ref at r.
func (s *soak) refund(ctx context.Context, r *reg, ref string, rng *rand.Rand) {
	if _, err := r.ctl.Keys(ctx, "refund"); err != nil {
		return
	}
	if _, err := r.ctl.Scan(ctx, ref); err != nil {
		r.ctl.Keys(ctx, "cancel")
		return
	}
	for i := 0; i < 50; i++ {
		st, err := r.ctl.Status(ctx)
		if err != nil || st.State == till.StateDone || st.State == till.StateRefundScan {
			r.ctl.Keys(ctx, "cancel")
			return
		}
		if st.State == till.StateRefundAmount {
			keys := []string{"pay", "pay"} // all: pay, and pay again to confirm
			if rng.IntN(2) == 0 {
				keys = append(strings.Split(fmt.Sprint(1+rng.IntN(5000)), ""), "pay")
			}
			if _, err := r.ctl.Keys(ctx, keys...); err != nil {
				r.ctl.Keys(ctx, "cancel")
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// refunds plays store B: it refunds sales of store A now and then.
func (s *soak) refunds(ctx context.Context, b *reg, rng *rand.Rand) {
	for ctx.Err() == nil {
		time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Millisecond)
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		if st, err := b.ctl.Status(c); err == nil {
			switch st.State {
			case till.StateDone, till.StateRefundScan, till.StateRefundAmount:
				b.ctl.Keys(c, "cancel")
			case till.StateIdle:
				if ref := s.capturedSale(c, rng); ref != "" {
					s.count(s.rep.ops, "refund-cross-store")
					s.refund(c, b, ref, rng)
				}
			}
		}
		cancel()
	}
}

// settle waits until the healed register has nothing left to do.
func (s *soak) settle(r *reg) error {
	deadline := time.Now().Add(3 * time.Minute)
	var last till.Status
	quiet := 0
	for time.Now().Before(deadline) {
		s.alive(r)
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := r.ctl.Status(c)
		if err == nil {
			last = st
			switch st.State {
			case till.StateWaiting:
				r.ctl.Keys(c, "cancel")
			case till.StateDone, till.StateRefundScan, till.StateRefundAmount:
				r.ctl.Keys(c, "cancel")
			case till.StateIdle:
				if st.Outbox == 0 && st.PrintQueue == 0 {
					quiet++
					if quiet >= 3 {
						cancel()
						return nil
					}
				} else {
					quiet = 0
				}
			}
		}
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not settle in 3 minutes: %+v", r.prefix, last)
}

type simPayment struct {
	Reference string `json:"reference"`
	State     string `json:"state"`
	Amount    struct {
		Value int64 `json:"value"`
	} `json:"amount"`
	Aggregate map[string]struct {
		Value int64 `json:"value"`
	} `json:"aggregate"`
}

// check compares the register with the simulator's truth.
func (s *soak) check() {
	bad := func(f string, a ...any) { s.rep.discrepancies = append(s.rep.discrepancies, fmt.Sprintf(f, a...)) }
	resp, err := http.Get(s.simURL + "/vippssim/payments")
	if err != nil {
		bad("reading the simulator: %v", err)
		return
	}
	var truth []simPayment
	json.NewDecoder(resp.Body).Decode(&truth)
	resp.Body.Close()
	sales, err := s.a.ctl.Journal(context.Background())
	if err != nil {
		bad("reading the journal: %v", err)
		return
	}
	journal := map[string]store.Sale{}
	for _, sale := range sales {
		if _, dup := journal[sale.Reference]; dup {
			bad("reference %s appears twice in the journal", sale.Reference)
		}
		journal[sale.Reference] = sale
	}
	s.rep.sales = len(sales)
	refunded, refundTotal := s.refundLog(bad)
	var simCaptured, journalCaptured int64
	for _, p := range truth {
		ag := func(k string) int64 { return p.Aggregate[k].Value }
		sale, ok := journal[p.Reference]
		switch {
		case !ok:
			bad("%s exists at Vipps (%s) but not in the journal", p.Reference, p.State)
		case ag("capturedAmount") > 0 && (sale.State != store.StateCaptured || sale.Amount.Value != ag("capturedAmount")):
			bad("%s captured %d at Vipps, journal says %s %d", p.Reference, ag("capturedAmount"), sale.State, sale.Amount.Value)
		case ag("capturedAmount") == 0 && sale.State == store.StateCaptured:
			bad("%s is captured in the journal but not at Vipps", p.Reference)
		}
		if ag("capturedAmount") > p.Amount.Value {
			bad("%s captured %d of %d", p.Reference, ag("capturedAmount"), p.Amount.Value)
		}
		if p.State == "AUTHORIZED" && ag("capturedAmount")+ag("cancelledAmount") < ag("authorizedAmount") {
			bad("%s is left authorized: %d authorized, %d captured, %d cancelled", p.Reference,
				ag("authorizedAmount"), ag("capturedAmount"), ag("cancelledAmount"))
		}
		if p.State == "CREATED" {
			bad("%s is still open (CREATED) after the register settled", p.Reference)
		}
		simCaptured += ag("capturedAmount") - ag("refundedAmount")
		if ag("refundedAmount") > ag("capturedAmount") {
			bad("%s refunded %d of %d captured", p.Reference, ag("refundedAmount"), ag("capturedAmount"))
		}
		if ag("refundedAmount") != refunded[p.Reference] {
			bad("%s: Vipps refunded %d, the registers' logs %d", p.Reference, ag("refundedAmount"), refunded[p.Reference])
		}
		delete(refunded, p.Reference)
	}
	for ref, n := range refunded {
		bad("%s: the registers logged %d refunded that Vipps does not have", ref, n)
	}
	for _, sale := range sales {
		if sale.State == store.StateCaptured {
			journalCaptured += sale.Amount.Value
			s.rep.captured++
		}
		switch sale.State {
		case store.StateCreated, store.StateWaiting, store.StateAuthorized:
			bad("%s is not final in the journal: %s", sale.Reference, sale.State)
		}
	}
	s.rep.capturedAmount = simCaptured
	if simCaptured != journalCaptured-refundTotal {
		bad("Vipps holds %d øre net, the journals %d captured − %d refunded", simCaptured, journalCaptured, refundTotal)
	}
	s.checkReceipts(journal, bad)
}

// refundLog reads the refunds both registers logged: done amounts per
// reference, and their total; a refund still pending is a discrepancy.
func (s *soak) refundLog(bad func(string, ...any)) (map[string]int64, int64) {
	per := map[string]int64{}
	var total int64
	for _, r := range []*reg{s.a, s.b} {
		var buf bytes.Buffer
		if err := r.ctl.Export(context.Background(), control.JournalQuery{}, "json", &buf); err != nil {
			bad("%s: export: %v", r.prefix, err)
			continue
		}
		dec := json.NewDecoder(&buf)
		for dec.More() {
			var row struct {
				Type, Reference, State, Amount string
				OriginStore                    string `json:"origin_store"`
			}
			if err := dec.Decode(&row); err != nil {
				bad("%s: export row: %v", r.prefix, err)
				break
			}
			if row.Type != "refund" {
				continue
			}
			if row.OriginStore != "SOAK1" {
				bad("%s: refund of %s has origin store %q", r.prefix, row.Reference, row.OriginStore)
			}
			switch row.State {
			case store.RefundDone:
				var whole, frac int64
				fmt.Sscanf(row.Amount, "%d.%d", &whole, &frac)
				per[row.Reference] += whole*100 + frac
				total += whole*100 + frac
				s.rep.refunds++
			case store.RefundPending:
				bad("%s: refund of %s still pending after the registers settled", r.prefix, row.Reference)
			}
		}
	}
	return per, total
}

// checkReceipts counts the original receipts per sale in the printer's
// output: exactly one for every captured sale, none for any other.
func (s *soak) checkReceipts(journal map[string]store.Sale, bad func(string, ...any)) {
	raw, err := os.ReadFile(filepath.Join(s.a.data, "receipt.escpos"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		bad("reading the receipts: %v", err)
		return
	}
	doc, err := escpos.Decode(raw)
	if err != nil {
		bad("the printer output does not decode: %v", err)
		return
	}
	originals := map[string]int{}
	start := 0
	for _, cut := range doc.Cuts {
		copyMark := false
		for _, l := range doc.Lines[start:cut] {
			if strings.Contains(l.Text, "COPY") {
				copyMark = true
			}
		}
		ref := ""
		for _, b := range doc.Barcodes {
			if b.AfterLine >= start && b.AfterLine <= cut {
				ref = b.Data
			}
		}
		for _, q := range doc.QRCodes {
			if q.AfterLine >= start && q.AfterLine <= cut {
				ref = q.Data
			}
		}
		refund := false
		for _, l := range doc.Lines[start:cut] {
			refund = refund || strings.Contains(l.Text, "REFUND")
		}
		if !copyMark && !refund {
			originals[ref]++
		}
		start = cut
	}
	for ref, sale := range journal {
		want := 0
		if sale.State == store.StateCaptured {
			want = 1
		}
		if originals[ref] != want {
			bad("%s (%s) has %d original receipts, want %d", ref, sale.State, originals[ref], want)
		}
	}
}
