// Package vipps is the register's client for the Vipps MobilePay APIs: the
// access token and the ePayment API. It holds no state but a cached token;
// what to do with a payment is the till's business.
package vipps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"kasse/vippsid"
)

// Credentials are the merchant's API keys. They come from the secrets file
// and never appear in errors or logs.
type Credentials struct {
	ClientID        string
	ClientSecret    string
	SubscriptionKey string
}

// System names the software in the Vipps-System-* headers the provider asks
// every integration to send (each at most 30 characters).
type System struct {
	Name, Version, PluginName, PluginVersion string
}

// Config is what a Client needs. Now is the injected clock.
type Config struct {
	BaseURL     string
	MSN         string
	Credentials Credentials
	System      System
	HTTP        *http.Client
	Now         func() time.Time
	// TokenMargin is how long before its expiry a token is refreshed.
	TokenMargin time.Duration
}

// Client talks to one Vipps MobilePay environment for one MSN.
type Client struct {
	base *url.URL
	cfg  Config

	mu      sync.Mutex // held during a refresh, so only one runs at a time
	token   string
	expires time.Time
}

// New checks the config and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("vipps base URL %q is not an http(s) URL: use https://apitest.vipps.no, https://api.vipps.no or the simulator's address", cfg.BaseURL)
	}
	if !vippsid.MSN(cfg.MSN) {
		return nil, fmt.Errorf("merchant serial number %q must be 4–6 digits", cfg.MSN)
	}
	c := cfg.Credentials
	if c.ClientID == "" || c.ClientSecret == "" || c.SubscriptionKey == "" {
		return nil, errors.New("vipps credentials are incomplete: the secrets file needs client_id, client_secret and subscription_key")
	}
	for _, h := range []string{cfg.System.Name, cfg.System.Version, cfg.System.PluginName, cfg.System.PluginVersion} {
		if len(h) > 30 {
			return nil, fmt.Errorf("Vipps-System header value %q is longer than 30 characters", h)
		}
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenMargin == 0 {
		cfg.TokenMargin = 5 * time.Minute
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, cfg: cfg}, nil
}

// MSN is the merchant serial number the client sends.
func (c *Client) MSN() string { return c.cfg.MSN }

func (c *Client) systemHeaders(h http.Header) {
	s := c.cfg.System
	for k, v := range map[string]string{
		"Vipps-System-Name": s.Name, "Vipps-System-Version": s.Version,
		"Vipps-System-Plugin-Name": s.PluginName, "Vipps-System-Plugin-Version": s.PluginVersion,
	} {
		if v != "" {
			h.Set(k, v)
		}
	}
}

// call is one authorised API request with a typed body and reply.
type call struct {
	method, path string
	idemKey      string
	body         any
	out          any
}

// Request is one API call as the register's outbox keeps it: the exact
// bytes a retry must resend under the same idempotency key.
type Request struct {
	Method, Path   string
	IdempotencyKey string
	Header         http.Header // extra headers, e.g. eCom's X-Request-Id
	Body           []byte      // nil for no body
}

// Build marshals a typed body into a Request.
func Build(method, path, idemKey string, body any) (Request, error) {
	r := Request{Method: method, Path: path, IdempotencyKey: idemKey}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return r, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		r.Body = b
	}
	return r, nil
}

func (c *Client) do(ctx context.Context, k call) error {
	r, err := Build(k.method, k.path, k.idemKey, k.body)
	if err != nil {
		return err
	}
	return c.Do(ctx, r, k.out)
}

// Do sends r with a bearer token, refreshing the token once on a 401, and
// decodes a JSON reply into out (if not nil).
func (c *Client) Do(ctx context.Context, r Request, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx, attempt > 0)
		if err != nil {
			return err
		}
		err = c.send(ctx, r, tok, out)
		var ae *Error
		if attempt == 0 && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			continue // token revoked or expired early: fetch a new one, once
		}
		return err
	}
}

func (c *Client) send(ctx context.Context, k Request, token string, out any) error {
	var body io.Reader
	if k.Body != nil {
		body = bytes.NewReader(k.Body)
	}
	req, err := http.NewRequestWithContext(ctx, k.Method, c.base.String()+k.Path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", k.Method, k.Path, err)
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+token)
	h.Set("Ocp-Apim-Subscription-Key", c.cfg.Credentials.SubscriptionKey)
	h.Set("Merchant-Serial-Number", c.cfg.MSN)
	h.Set("Accept", "application/json")
	if k.Body != nil {
		h.Set("Content-Type", "application/json")
	}
	if k.IdempotencyKey != "" {
		h.Set("Idempotency-Key", k.IdempotencyKey)
	}
	for name, v := range k.Header {
		h[name] = v
	}
	c.systemHeaders(h)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return &Error{Op: k.Method + " " + k.Path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		// A reply cut off mid-way is no answer: the request may have had
		// its effect, so it is retried with its key, never given up.
		return &Error{Op: k.Method + " " + k.Path, Err: fmt.Errorf("the %d reply was cut off: %w", resp.StatusCode, err)}
	}
	if resp.StatusCode/100 != 2 {
		return newError(k.Method+" "+k.Path, resp, data, c.cfg.Now())
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			// Vipps answered, so it is reachable; but the reply says
			// nothing we can act on: retried like no answer.
			return Unusable(k.Method+" "+k.Path, resp.StatusCode, "the reply is not the JSON the API documents: %w", err)
		}
	}
	return nil
}
