package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// Proxy modes: what the network between kassed and Vipps does right now.
const (
	modePass      = "pass"
	modeRefuse    = "refuse"    // nothing listens: connection refused
	modeBlackhole = "blackhole" // the request arrives, its reply never comes back: timeouts
	modeReset     = "reset"     // replies are cut off with a TCP reset
	modeLatency   = "latency"   // every reply waits
	modeBad       = "bad"       // some replies are well-formed but wrong (badreply.go)
	modeCut       = "cut"       // some 2xx bodies are cut short, with a Content-Length that fits the cut
)

// proxy is an HTTP/1.1 proxy whose faults the soak switches on and off.
// It forwards each request as it is and reads the whole reply before it
// decides what reaches the register. It also notes the access tokens Vipps
// hands out (the secret scan looks for them) and recent references (for
// replies about another payment).
type proxy struct {
	addr, upstream string
	onToken        func(string)

	mu      sync.Mutex
	mode    string
	latency time.Duration
	l       net.Listener
	conns   map[net.Conn]bool
	rng     *rand.Rand
	refs    []string       // recently seen references, newest last
	forged  map[string]int // falsified replies by kind
}

func newProxy(upstream string, seed uint64) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{addr: l.Addr().String(), upstream: upstream, mode: modePass, conns: map[net.Conn]bool{},
		rng: rand.New(rand.NewPCG(seed, 9)), forged: map[string]int{}}
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

// forgedCounts returns how many replies were falsified, by kind.
func (p *proxy) forgedCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := map[string]int{}
	for k, v := range p.forged {
		m[k] = v
	}
	return m
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
	cr, ur := bufio.NewReader(client), bufio.NewReader(up)
	for {
		req, err := http.ReadRequest(cr)
		if err != nil {
			return
		}
		if err := req.Write(up); err != nil {
			return
		}
		resp, err := http.ReadResponse(ur, req)
		if err != nil {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return
		}
		p.watch(req, body)
		switch mode, lat := p.current(); mode {
		case modeBlackhole:
			io.Copy(io.Discard, cr) // the request had its effect; the client times out
			return
		case modeReset:
			// Half a reply, then a reset: the request may have had
			// its effect, the client cannot know.
			raw := wire(resp, body)
			client.Write(raw[:len(raw)/2])
			client.(*net.TCPConn).SetLinger(0)
			return
		case modeLatency:
			time.Sleep(lat)
		case modeBad, modeCut:
			body = p.falsify(mode, req, resp, body)
		}
		if _, err := client.Write(wire(resp, body)); err != nil || resp.Close || req.Close {
			return
		}
	}
}

// wire is the reply as bytes, with body as its whole body.
func wire(resp *http.Response, body []byte) []byte {
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	var b bytes.Buffer
	resp.Write(&b)
	return b.Bytes()
}

// watch notes access tokens and references passing by.
func (p *proxy) watch(req *http.Request, body []byte) {
	if req.URL.Path == "/accesstoken/get" {
		var t struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(body, &t) == nil && t.AccessToken != "" && p.onToken != nil {
			p.onToken(t.AccessToken)
		}
		return
	}
	if _, ref := classify(req); ref != "" {
		p.mu.Lock()
		if n := len(p.refs); n == 0 || p.refs[n-1] != ref {
			p.refs = append(p.refs, ref)
			if len(p.refs) > 64 {
				p.refs = p.refs[1:]
			}
		}
		p.mu.Unlock()
	}
}
