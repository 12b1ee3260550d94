package main

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"kasse/journal"
	"kasse/till/pin"
)

const (
	clientID = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
	msnA     = "123456" // SOAK1's MSN
	msnB     = "234567" // SOAK2's: partner keys (option A), a refund of SOAK1's sale carries msnA
)

// Crash odds. Capture, refund and print get high odds so that even the short
// run in CI crashes each of those paths a dozen times; create and cancel
// low ones so that most sales still get through to a capture.
const (
	crashesA = "sent:create=0.02,answered:create=0.02,sent:ecom-initiate=0.02,answered:ecom-initiate=0.02," +
		"sent:capture=0.25,answered:capture=0.25,sent:cancel=0.04,answered:cancel=0.04," +
		"sent:refund=0.3,answered:refund=0.3,print:sent=0.3,printing=0.3,sent:receipt=0.03,answered:receipt=0.03"
	crashesB = "sent:refund=0.3,answered:refund=0.3"
)

// flows SOAK1 runs, one drawn at each of its starts, with weights.
var flows = []struct {
	name   string
	weight int
}{{"qr", 35}, {"qr-image", 15}, {"push", 15}, {"ecom", 20}, {"ecom-image", 15}}

type soak struct {
	seed           uint64
	rep            *report
	dir, bin       string
	simURL         string
	prx            *proxy
	sim            *syncBuffer // vippssim's output
	secret, subKey string
	pinHash        string // the soak cashier's PIN, hashed once

	mu       sync.Mutex // guards rep, obs, the registers' processes and quiet
	a, b     *reg       // a: the store under crashes; b: another store of the chain that refunds a's sales
	flowRng  *rand.Rand
	quiet    bool // the database is being changed: no random kill
	checking bool // the final check runs: discrepancies are printed at the end
	obs      observations
	health   health
}

func newSoak(seed uint64) *soak {
	s := &soak{seed: seed, rep: newReport(seed), flowRng: rand.New(rand.NewPCG(seed, 7)), obs: newObservations(),
		health: health{since: time.Now()}}
	rng := s.rng(8)
	s.secret = fmt.Sprintf("soak-client-secret-%016x", rng.Uint64())
	s.subKey = fmt.Sprintf("soak-subscription-%016x", rng.Uint64())
	h, err := pin.Hash(soakPIN, pin.Default, crand.Reader)
	if err != nil {
		panic(err) // the system's randomness failed
	}
	s.pinHash = h
	s.a = &reg{prefix: "SOAK1", lane: "1", msn: msnA, crashes: true, spec: crashesA}
	s.b = &reg{prefix: "SOAK2", lane: "1", msn: msnB, crashes: true, spec: crashesB}
	return s
}

// rng gives each goroutine its own stream of the seed, so a schedule
// replays whatever the goroutines' interleaving.
func (s *soak) rng(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(s.seed, stream)) }

func (s *soak) count(m map[string]int, k string) {
	s.mu.Lock()
	m[k]++
	s.mu.Unlock()
}

// bad records a discrepancy.
func (s *soak) bad(format string, args ...any) {
	s.mu.Lock()
	s.discrepancy(fmt.Sprintf(format, args...))
	s.mu.Unlock()
}

// discrepancy records d, printing at once those found while the soak runs;
// callers hold s.mu.
func (s *soak) discrepancy(d string) {
	if !s.checking {
		fmt.Printf("soak: discrepancy: %s\n", d)
	}
	s.rep.discrepancies = append(s.rep.discrepancies, d)
}

// reg is one register: its config, data, current kassed process and the
// journals of the databases it lost or had replaced.
type reg struct {
	prefix, lane, msn string
	dir, cfgPath      string
	data              string
	ctl               *ctl
	crashes           bool   // armed crash points (and, for a, random kills)
	spec              string // KASSE_CRASHPOINTS
	flow              string
	kassed            *proc
	starts            int
	gens              []generation
	signer            *journal.Signer // signs its journal
	backups           []string
}

// proc is one run of kassed.
type proc struct {
	cmd       *exec.Cmd
	exited    chan struct{}
	out       syncBuffer
	killed    bool // by the soak's random killer, not a crash point
	stopped   bool // by the soak, gracefully
	harvested bool
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

// startSim starts vippssim (secrets in its environment, not on its command
// line), the fault proxy in front of it and the registers' configs.
func (s *soak) startSim() (stop func(), err error) {
	simAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	sim := exec.Command(filepath.Join(s.bin, "vippssim"), "--listen", simAddr, "--msn", msnA, "--partner-msns", msnB,
		"--client-id", clientID)
	sim.Env = append(os.Environ(), "VIPPSSIM_CLIENT_SECRET="+s.secret, "VIPPSSIM_SUBSCRIPTION_KEY="+s.subKey)
	s.sim = &syncBuffer{}
	sim.Stdout, sim.Stderr = s.sim, s.sim
	if err := sim.Start(); err != nil {
		return nil, err
	}
	stop = func() { sim.Process.Kill(); sim.Wait() }
	s.simURL = "http://" + simAddr
	if s.prx, err = newProxy(simAddr, s.seed); err != nil {
		stop()
		return nil, err
	}
	s.prx.onToken = s.addToken
	for _, r := range []*reg{s.a, s.b} {
		r.dir = filepath.Join(s.dir, r.prefix)
		r.data = filepath.Join(r.dir, "data")
		r.cfgPath = filepath.Join(r.dir, "kassed.toml")
		r.ctl = newCtl(s, r.prefix, filepath.Join(r.data, "kassed.sock"))
		if err := os.MkdirAll(r.dir, 0o700); err != nil {
			stop()
			return nil, err
		}
		sec := fmt.Sprintf("client_id = %q\nclient_secret = %q\nsubscription_key = %q\n", clientID, s.secret, s.subKey)
		if err := os.WriteFile(filepath.Join(r.dir, "secrets.toml"), []byte(sec), 0o600); err != nil {
			stop()
			return nil, err
		}
		// The journal's signing key, as kassectl keygen makes it.
		key, err := journal.GenerateKey(nil, 1)
		if err == nil {
			err = journal.WriteKey(filepath.Join(r.dir, "signing-key.pem"), key)
		}
		r.signer = key
		if err != nil {
			stop()
			return nil, err
		}
	}
	if err := waitHTTP(s.simURL + "/vippssim/payments"); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
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

// writeConfig writes r's config; SOAK1 draws its flow for this start.
// Every register uses partner keys (option A): chain.msn maps each store to
// its own MSN.
func (s *soak) writeConfig(r *reg) error {
	r.flow = "qr"
	if r == s.a {
		n := s.flowRng.IntN(100)
		for _, f := range flows {
			if n -= f.weight; n < 0 {
				r.flow = f.name
				break
			}
		}
		s.rep.flows[r.flow]++
	}
	cfg := fmt.Sprintf(`data_dir = %q
[vipps]
base_url = "http://%s"
msn = %q
secrets_file = "secrets.toml"
poll_interval = "1s"
timeout = "3s"
flow = %q
callback_prefix = "https://soak.example/vipps/callback"
fallback = "https://soak.example"
[store]
prefix = %q
lane = %q
name = "Soak shop %s"
org_number = "987 654 325"
tax_rate = 2500
[chain]
stores = ["SOAK1", "SOAK2"]
[chain.msn]
SOAK1 = %q
SOAK2 = %q
[keys]
lock_after = "0s"
[[keys.cashiers]]
id = %q
pin_hash = %q
supervisor = true
`, r.data, s.prx.addr, r.msn, r.flow, r.prefix, r.lane, r.prefix, msnA, msnB, soakCashier, s.pinHash)
	// 0640: Load refuses PIN hashes others may read.
	return os.WriteFile(r.cfgPath, []byte(cfg), 0o640)
}

// startKassed starts kassed, with crash points armed if r.crashes.
func (s *soak) startKassed(r *reg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writeConfig(r); err != nil {
		panic(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, "kassed"), "--config", r.cfgPath, "--sim")
	cmd.Env = os.Environ()
	r.starts++
	if r.crashes {
		cmd.Env = append(cmd.Env, "KASSE_CRASHPOINTS="+r.spec,
			fmt.Sprintf("KASSE_CRASH_SEED=%d", s.seed*1000003+uint64(r.starts)*7+uint64(len(r.prefix))))
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	r.kassed = p
	go func() { cmd.Wait(); close(p.exited) }()
}

// stopKassed stops kassed gracefully (SIGTERM) and reads its output.
func (s *soak) stopKassed(r *reg) {
	s.mu.Lock()
	p := r.kassed
	p.stopped = true
	s.mu.Unlock()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	s.harvest(r, p)
}

// alive restarts kassed if it died, counting why, and reports whether it
// was running.
func (s *soak) alive(r *reg) bool {
	s.mu.Lock()
	p := r.kassed
	s.mu.Unlock()
	select {
	case <-p.exited:
	default:
		return true
	}
	s.harvest(r, p)
	s.startKassed(r)
	return false
}

// harvest reads a finished run's output once: why it ended, what it
// decided, and whether any secret leaked into it.
func (s *soak) harvest(r *reg, p *proc) {
	s.mu.Lock()
	if p.harvested {
		s.mu.Unlock()
		return
	}
	p.harvested = true
	killed, stopped := p.killed, p.stopped
	s.mu.Unlock()
	out := p.out.String()
	point := ""
	if i := strings.LastIndex(out, "crashpoint "); i >= 0 {
		point = strings.Fields(out[i+len("crashpoint "):])[0]
	} else if killed {
		point = "random-kill"
	} else if !stopped && strings.HasSuffix(strings.TrimSpace(out), "kassed: stopped") {
		// A graceful stop on a SIGTERM or SIGINT the soak did not send
		// (someone else's pkill on this machine): kassed did right.
		fmt.Printf("soak: warning: %s's kassed was stopped by a signal from outside the soak\n", r.prefix)
		s.mu.Lock()
		s.rep.external++
		s.mu.Unlock()
	} else if !stopped {
		point = "exit"
		tail := out
		if len(tail) > 400 {
			tail = tail[len(tail)-400:]
		}
		s.bad("%s: kassed exited on its own: %s", r.prefix, strings.TrimSpace(tail))
	}
	if point != "" {
		s.count(s.rep.crashes, point)
	}
	s.readLog(r, out, point == "random-kill")
	if f, err := os.OpenFile(filepath.Join(r.dir, "kassed.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintf(f, "=== run %d (%s, flow %s)\n%s", r.starts, point, r.flow, out)
		f.Close()
	}
}
