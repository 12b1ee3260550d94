// Command soak is the proof that kasse never loses a sale and never moves
// money it should not. It runs a real vippssim and two real kassed processes
// (store SOAK1 sells under crashes, store SOAK2 refunds SOAK1's sales with
// partner keys), plays cashier and shopper, kills kassed with SIGKILL at
// random moments and at named crash points, deletes kasse.db or puts back an
// older copy of it, rotates SOAK1 through every payment flow (ePayment QR,
// QR image, push; eCom with drawn or image QR), and breaks the network
// between kassed and Vipps with a fault proxy (refused connections, black
// holes, resets, latency, and well-formed but wrong or cut replies) and the
// simulator's faults. Meanwhile it watches what the registers show and what
// Vipps holds; at the end it heals everything and checks the registers'
// journals, logs and printed receipts against the simulator's truth.
//
//	go run ./cmd/internal/soak -duration 2m [-seed N] [-long] [-keep] [-db backup-db,restore-db,lose-db]
//
// Each of these is a discrepancy: a reference given to two sales or a
// refund id to two refunds (across registers and every database SOAK1
// had); an amount keyed that is not the amount at Vipps; a "paid" screen
// without a capture of that amount at Vipps of a payment created after
// the sale was keyed; more than one capture in a payment's event log, or
// captures that do not add up to the aggregate; a sale the till logged
// "capture REF decided" for that Vipps did not capture; a journal that
// disagrees with Vipps on what was captured or refunded; a refund at
// Vipps under a key that is no refund id a register logged, or made twice;
// a captured sale with no original receipt (a COPY only is allowed as often
// as the print:sent crash point fired) or with two, a receipt for a sale
// not captured, a refund without its slip; a payment left authorized for
// more than 60 s of whole network; a secret in any log, status or reply of
// the control socket; kassed exiting on its own.
//
// The files, one concept each: processes.go (vippssim, kassed, configs),
// database.go (kasse.db copied, lost or put back), faults.go (the killer
// and the fault episodes), proxy.go and badreply.go (the network),
// ctl.go and operations.go (cashier and shopper), observe.go (what the
// soak saw while it ran), truth.go (Vipps's side), checks.go and
// receipts.go (the comparison), report.go (the figures). The same seed
// gives the same schedule of operations, crashes and faults (the timing of
// processes still varies).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

func main() {
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()%1e9), "schedule seed")
	duration := flag.Duration("duration", 2*time.Minute, "how long to run operations")
	long := flag.Bool("long", false, "include a few outages of up to 10 minutes (at most a sixth of the run)")
	bin := flag.String("bin", "", "directory with kassed and vippssim (built if empty)")
	keep := flag.Bool("keep", false, "keep the data directory (printed) for a post-mortem")
	flag.Parse()
	fmt.Printf("soak: seed %d, duration %s, long %v\n", *seed, *duration, *long)
	r, err := run(*seed, *duration, *long, *bin, *keep)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: %v\n", err)
	}
	if r != nil {
		r.print()
	}
	if err != nil {
		os.Exit(1)
	}
	if len(r.discrepancies) > 0 {
		os.Exit(2)
	}
}

func run(seed uint64, duration time.Duration, long bool, bin string, keep bool) (*report, error) {
	s := newSoak(seed)
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
	stopSim, err := s.startSim()
	if err != nil {
		return s.rep, err
	}
	defer stopSim()

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	s.startKassed(s.a)
	s.startKassed(s.b)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); s.faults(ctx, duration, long) }()
	go func() { defer wg.Done(); s.killer(ctx) }()
	go func() { defer wg.Done(); s.refunds(ctx, s.b, s.rng(4)) }()
	go func() { defer wg.Done(); s.sample(ctx) }()
	s.operate(ctx, s.rng(5))
	wg.Wait()

	// Heal: no faults, no crash points; let the registers finish their work.
	s.heal()
	for _, r := range []*reg{s.a, s.b} {
		r.crashes = false
		s.stopKassed(r)
		s.startKassed(r)
	}
	for _, r := range []*reg{s.a, s.b} {
		if err := s.settle(r); err != nil {
			s.bad("%v", err)
		}
	}
	s.sampleOnce(time.Now()) // the last look at what is left open
	for _, r := range []*reg{s.a, s.b} {
		s.stopKassed(r)
		s.closeGeneration(r)
	}
	s.scanSecrets("vippssim's output", s.sim.String())
	s.mu.Lock()
	s.checking = true
	s.mu.Unlock()
	s.check()
	s.rep.scanned = [3]int{s.obs.scans, s.obs.scanned, len(s.obs.tokens)}
	return s.rep, nil
}
