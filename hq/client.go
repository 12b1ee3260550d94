package hq

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client is a register's connection to kassehq.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client for kassehq at baseURL (https) with the
// register's TLS config (ClientTLS).
func NewClient(baseURL string, conf *tls.Config, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("refund.hq_url %q is not an https URL: use kassehq's address, e.g. https://hq.example.no:8443", baseURL)
	}
	tr := &http.Transport{TLSClientConfig: conf, ForceAttemptHTTP2: true, MaxIdleConns: 2, IdleConnTimeout: time.Minute}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), http: &http.Client{Transport: tr, Timeout: timeout}}, nil
}

// Error is a failed call to kassehq: no answer (Status 0), or its problem.
type Error struct {
	Op         string
	Status     int
	Problem    *Problem
	RetryAfter time.Duration
	// Refused: kassehq refused this register's certificate in the TLS
	// handshake (revoked, another CA's, none): no request reached it.
	Refused bool
	Err     error
}

func (e *Error) Error() string {
	switch {
	case e.Refused:
		return fmt.Sprintf("kassehq %s: kassehq refused this register's certificate (%v): it may be revoked, expired or missing; head office issues a new one with kassehq register NAME --store PREFIX, copied to refund.hq_cert and refund.hq_key", e.Op, e.Err)
	case e.Problem != nil:
		return fmt.Sprintf("kassehq %s: %d %s: %s", e.Op, e.Status, e.Problem.Title, e.Problem.Detail)
	case e.Status != 0:
		return fmt.Sprintf("kassehq %s: %d %s (%v)", e.Op, e.Status, http.StatusText(e.Status), e.Err)
	}
	return fmt.Sprintf("kassehq %s: no answer (%v): check refund.hq_url and the network to head office", e.Op, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Denied reports whether kassehq does not let this register in: its
// certificate refused in the handshake, or revoked since the connection
// opened (403).
func (e *Error) Denied() bool { return e.Refused || e.Status == http.StatusForbidden }

// Temporary reports whether the same request may succeed later: no answer,
// a refused certificate (head office may issue a new one), 429 or 5xx.
func (e *Error) Temporary() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Payment reads a sale of any store of the chain.
func (c *Client) Payment(ctx context.Context, ref string) (Payment, error) {
	var p Payment
	err := c.do(ctx, http.MethodGet, PathPayments+url.PathEscape(ref), nil, &p)
	if err == nil && p.Reference != ref {
		err = &Error{Op: "GET " + PathPayments, Status: http.StatusOK, Err: fmt.Errorf("the answer is about %q, not %q", p.Reference, ref)}
	}
	return p, err
}

// Refund sends body, a RefundRequest's exact bytes as the register's
// outbox keeps them.
func (c *Client) Refund(ctx context.Context, body []byte) (Refund, error) {
	var r Refund
	err := c.do(ctx, http.MethodPost, PathRefunds, body, &r)
	if err == nil && r.State != StateDone && r.State != StateRefused {
		err = &Error{Op: "POST " + PathRefunds, Status: http.StatusBadGateway, Err: fmt.Errorf("the answer's state %q is not done or refused", r.State)}
	}
	return r, err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	op := method + " " + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// TLS 1.3 tells the client of a refused certificate only as an
		// alert on its first read: the alert's text is all there is.
		return &Error{Op: op, Err: err, Refused: strings.Contains(err.Error(), "remote error: tls:")}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &Error{Op: op, Err: fmt.Errorf("the %d answer was cut off: %w", resp.StatusCode, err)}
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Op: op, Status: resp.StatusCode}
		var p Problem
		if json.Unmarshal(data, &p) == nil && p.Detail != "" {
			e.Problem = &p
		} else {
			e.Err = errors.New(strings.TrimSpace(string(data[:min(len(data), 200)])))
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.RetryAfter = time.Duration(min(s, 120)) * time.Second
		}
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, Status: http.StatusBadGateway, Err: fmt.Errorf("the answer is not JSON kassehq sends: %w", err)}
	}
	return nil
}
