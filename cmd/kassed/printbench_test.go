package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"kasse/device"
	"kasse/display"
)

// captureClock is a proxy between kassed and Vipps that notes when each
// capture's answer has been handed to kassed.
type captureClock struct {
	mu sync.Mutex
	at map[string]time.Time // reference → answer delivered
}

func (c *captureClock) via(t testing.TB) func(string) string {
	return func(base string) string {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(u)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxy.ServeHTTP(w, r)
			if ref, ok := strings.CutSuffix(r.URL.Path, "/capture"); ok {
				if f, ok := w.(http.Flusher); ok {
					f.Flush()
				}
				now := time.Now()
				c.mu.Lock()
				c.at[ref[strings.LastIndex(ref, "/")+1:]] = now
				c.mu.Unlock()
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
}

// BenchmarkCaptureToFirstByte measures, over whole sales on a real kassed
// with the printer on a pty, the time from the capture's answer reaching
// kassed to the first byte of the receipt (its ESC @) reaching the printer:
// the commit that queues the receipt with its number, the status request
// before it and its answer, and the write.
func BenchmarkCaptureToFirstByte(b *testing.B) {
	clock := &captureClock{at: map[string]time.Time{}}
	w := newWorld(b, worldOpts{quiet: true, via: clock.via(b)})
	n := envInt("KASSE_BENCH_PRINT_SALES", 20)
	var d []time.Duration
	b.ResetTimer()
	for range b.N {
		for range n {
			w.press(device.Key1, device.Key0, device.Key0, device.KeyPay)
			w.waitScreen(display.QR)
			ref := w.reg.till.Status().Reference
			from := len(w.printer.Bytes())
			w.approve(ref)
			w.waitScreen(display.Paid)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var at int
			err := w.printer.WaitReceived(ctx, func(p []byte) bool {
				at = bytes.Index(p[min(from, len(p)):], []byte{0x1B, '@'})
				return at >= 0
			})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			first := w.printer.ArrivedAt(from + at)
			clock.mu.Lock()
			answered, ok := clock.at[ref]
			clock.mu.Unlock()
			if !ok {
				b.Fatalf("no capture answer seen for %s", ref)
			}
			d = append(d, first.Sub(answered))
			w.press(device.KeyClear)
		}
	}
	b.ReportMetric(percentile(d, 0.5), "capture_to_first_byte_ms/ms")
	b.ReportMetric(percentile(d, 0.99), "capture_to_first_byte_p99_ms/ms")
}
