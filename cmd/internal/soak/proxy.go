package main

import (
	"io"
	"net"
	"sync"
	"time"
)

// Proxy modes: what the network between kassed and Vipps does right now.
const (
	modePass      = "pass"
	modeRefuse    = "refuse"    // nothing listens: connection refused
	modeBlackhole = "blackhole" // bytes go in, nothing comes back: timeouts
	modeReset     = "reset"     // replies are cut off with a TCP reset
	modeLatency   = "latency"   // every reply waits
)

// proxy is a TCP proxy whose faults the soak test switches on and off.
type proxy struct {
	addr, upstream string

	mu      sync.Mutex
	mode    string
	latency time.Duration
	l       net.Listener
	conns   map[net.Conn]bool
}

func newProxy(upstream string) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{addr: l.Addr().String(), upstream: upstream, mode: modePass, conns: map[net.Conn]bool{}}
	p.serve(l)
	return p, nil
}

func (p *proxy) serve(l net.Listener) {
	p.l = l
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

// set switches the mode; refuse closes the listener (and every open
// connection, as a cable pulled out would), anything else reopens it.
func (p *proxy) set(mode string, latency time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode, p.latency = mode, latency
	switch {
	case mode == modeRefuse && p.l != nil:
		p.l.Close()
		p.l = nil
		for c := range p.conns {
			c.Close()
		}
	case mode != modeRefuse && p.l == nil:
		for i := 0; i < 50; i++ {
			l, err := net.Listen("tcp", p.addr)
			if err == nil {
				p.serve(l)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (p *proxy) current() (string, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode, p.latency
}

func (p *proxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *proxy) handle(client net.Conn) {
	p.track(client, true)
	defer p.track(client, false)
	defer client.Close()
	up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(up, client)
		up.(*net.TCPConn).CloseWrite()
	}()
	buf := make([]byte, 16<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			switch mode, lat := p.current(); mode {
			case modeBlackhole:
				io.Copy(io.Discard, up) // swallow the reply; the client times out
				return
			case modeReset:
				// Half a reply, then a reset: the request may have had
				// its effect, the client cannot know.
				client.Write(buf[:n/2])
				client.(*net.TCPConn).SetLinger(0)
				return
			case modeLatency:
				time.Sleep(lat)
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
