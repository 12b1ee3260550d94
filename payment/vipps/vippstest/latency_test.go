package vippstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A request through the proxy takes at least the round trip, and its body
// arrives whole.
func TestLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	defer srv.Close()
	const rtt = 60 * time.Millisecond
	base := Latency(t, srv.URL, rtt)
	c := &http.Client{}
	for i := range 3 {
		start := time.Now()
		resp, err := c.Get(base + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil || string(b) != "hello /x" {
			t.Fatalf("body %q, %v", b, err)
		}
		if took < rtt {
			t.Errorf("request %d took %v, less than the %v round trip", i, took, rtt)
		}
	}
}
