package main

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/till"
)

// press keys a sale on the till directly (the path a hardware key takes).
func (w *world) press(keys ...device.Key) {
	w.t.Helper()
	for _, k := range keys {
		if err := w.reg.till.Press(context.Background(), k); err != nil {
			w.t.Fatalf("key %s: %v", k, err)
		}
	}
}

// waitScreen waits for the panel to complete a frame of kind k and
// returns when that frame was done.
func (w *world) waitScreen(k display.Kind) time.Time {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	panel := w.reg.hw.panel
	n := panel.Frames()
	for panel.Current().Kind != k {
		var err error
		if n, err = panel.Wait(ctx, n); err != nil {
			w.t.Fatalf("waiting for the %s screen: %v (showing %s)", k, err, panel.Current().Kind)
		}
	}
	return time.Now()
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return float64(s[i]) / float64(time.Millisecond)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkPayToQR measures the time from the Pay key to the QR frame
// complete in the framebuffer: journal commits, token, create on loopback,
// render and draw.
func BenchmarkPayToQR(b *testing.B) {
	w := newWorld(b, worldOpts{poll: time.Second, quiet: true})
	n := envInt("KASSE_BENCH_QR_SALES", 50)
	var d []time.Duration
	b.ResetTimer()
	for range b.N {
		for range n {
			w.press(device.Key1, device.Key0, device.Key0)
			start := time.Now()
			w.press(device.KeyPay)
			d = append(d, w.waitScreen(display.QR).Sub(start))
			w.press(device.KeyCancel)
			w.waitScreen(display.Cancelled)
			w.press(device.KeyClear)
		}
	}
	b.ReportMetric(percentile(d, 0.5), "pay_to_qr_median/ms")
	b.ReportMetric(percentile(d, 0.99), "pay_to_qr_p99/ms")
}

// BenchmarkApprovalToPaid measures the delay from the shopper's approval to
// the "paid" screen with the production poll interval (1 s) and 40 ms of
// round trip between each register and Vipps, over many payments approved
// at random moments, and the GETs each payment cost: in all, and per second
// of its wait (QR on screen to "paid"). Lanes run in parallel, each its own
// register, to get enough payments.
func BenchmarkApprovalToPaid(b *testing.B) {
	const lanes = 10
	const rtt = 40 * time.Millisecond
	total := envInt("KASSE_BENCH_PAYMENTS", 400)
	worlds := make([]*world, lanes)
	for i := range worlds {
		worlds[i] = newWorld(b, worldOpts{prefix: "BENCH", lane: strconv.Itoa(i + 1), poll: time.Second, quiet: true, rtt: rtt})
	}
	var (
		mu    sync.Mutex
		d     []time.Duration
		gets  []int
		rates []float64
	)
	commits := make([]uint64, lanes)
	for i, w := range worlds {
		commits[i] = w.reg.db.Commits()
	}
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for i, w := range worlds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 42))
				for range total / lanes {
					w.press(device.Key2, device.Key5, device.Key0, device.Key0, device.KeyPay)
					shown := w.waitScreen(display.QR)
					ref := w.reg.till.Status().Reference
					time.Sleep(time.Duration(rng.Int64N(int64(2 * time.Second))))
					start := time.Now()
					if err := w.sim.Approve(ref); err != nil {
						b.Error(err)
						return
					}
					paid := w.waitScreen(display.Paid)
					g := 0
					for _, r := range w.sim.Requests() {
						if r.Method == "GET" && strings.HasSuffix(r.Path, "/payments/"+ref) {
							g++
						}
					}
					mu.Lock()
					d, gets = append(d, paid.Sub(start)), append(gets, g)
					rates = append(rates, float64(g)/paid.Sub(shown).Seconds())
					mu.Unlock()
					w.press(device.KeyClear)
					if st := w.reg.till.Status(); st.State != till.StateIdle {
						b.Errorf("till not idle after the sale: %+v", st)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	// Each sale's printed mark rides on the next sale's first commit; the
	// last one's waits (flushAfter), so this counts exactly the sales.
	var made uint64
	for i, w := range worlds {
		made += w.reg.db.Commits() - commits[i]
	}
	b.ReportMetric(float64(made)/float64(max(len(d), 1)), "commits_per_sale/tx")
	b.ReportMetric(float64(len(d)), "approval_payments/n")
	b.ReportMetric(percentile(d, 0.5), "approval_to_paid_median/ms")
	b.ReportMetric(percentile(d, 0.99), "approval_to_paid_p99/ms")
	sum := 0
	for _, g := range gets {
		sum += g
	}
	b.ReportMetric(float64(sum)/float64(max(len(gets), 1)), "gets_per_payment/n")
	rate := 0.0
	for _, r := range rates {
		rate += r
	}
	b.ReportMetric(rate/float64(max(len(rates), 1)), "gets_per_payment_per_s/n")
}
