package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"kasse/store"
	"kasse/till"
)

// ctl is kassectl's view of a register: the control socket, read raw so
// that every status and error the soak reads is scanned for secrets, and
// every status noted (a "paid" screen must be a captured payment).
type ctl struct {
	s    *soak
	who  string
	sock string
	hc   *http.Client
}

func newCtl(s *soak, who, sock string) *ctl {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	return &ctl{s: s, who: who, sock: sock, hc: &http.Client{Transport: tr}}
}

func (c *ctl) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://kassed"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	c.s.scanSecrets(c.who+"'s control socket ("+method+" "+path+")", string(raw))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	return json.Unmarshal(raw, out)
}

func (c *ctl) status(ctx context.Context) (till.Status, error) {
	var st till.Status
	err := c.call(ctx, http.MethodGet, "/v1/status", nil, &st)
	if err == nil && st.State == till.StateLogin {
		// A (re)started till asks for its cashier first.
		err = c.call(ctx, http.MethodPost, "/v1/keys", map[string][]string{"keys": loginKeys()}, &st)
	}
	if err == nil {
		c.s.seeStatus(c.who, st)
	}
	return st, err
}

// The soak's cashier, also the supervisor who approves refunds.
const (
	soakCashier = "1"
	soakPIN     = "4711"
)

func pinKeys() []string { return strings.Split(soakPIN, "") }

func loginKeys() []string {
	return append(append([]string{soakCashier, "pay"}, pinKeys()...), "pay")
}

func (c *ctl) keys(ctx context.Context, keys ...string) (till.Status, error) {
	var st till.Status
	err := c.call(ctx, http.MethodPost, "/v1/keys", map[string][]string{"keys": keys}, &st)
	if err != nil && strings.Contains(err.Error(), "log in first") {
		if err = c.call(ctx, http.MethodPost, "/v1/keys", map[string][]string{"keys": loginKeys()}, &st); err == nil {
			err = c.call(ctx, http.MethodPost, "/v1/keys", map[string][]string{"keys": keys}, &st)
		}
	}
	if err == nil {
		c.s.seeStatus(c.who, st)
	}
	return st, err
}

func (c *ctl) scan(ctx context.Context, code string) (till.Status, error) {
	var st till.Status
	err := c.call(ctx, http.MethodPost, "/v1/scan?code="+url.QueryEscape(code), nil, &st)
	return st, err
}

func (c *ctl) journal(ctx context.Context) ([]store.Sale, error) {
	var sales []store.Sale
	err := c.call(ctx, http.MethodGet, "/v1/journal", nil, &sales)
	return sales, err
}
