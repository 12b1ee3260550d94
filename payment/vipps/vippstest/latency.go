package vippstest

import (
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Latency returns the URL of a TCP proxy to target (an http:// URL) that
// holds every byte rtt/2 in each direction, as a mobile or shop network
// between a register and Vipps would: each request and its answer cost one
// round trip (the proxy accepts at once, so a new connection's handshake is
// not delayed). It models delay, not bandwidth; it stops when t ends.
func Latency(t testing.TB, target string, rtt time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", u.Host)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); delayed(out, in, rtt/2) }()
			go func() { defer wg.Done(); delayed(in, out, rtt/2) }()
		}
	}()
	return "http://" + l.Addr().String()
}

// delayed copies src to dst, each chunk d after it was read, in order.
func delayed(dst, src net.Conn, d time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				ch <- chunk{time.Now().Add(d), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	// The other side's EOF, passed on after the same delay.
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
	for range ch { // let the reader finish
	}
}
