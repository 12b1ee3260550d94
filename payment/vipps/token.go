package vipps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

const maxTokenLife = 24 * time.Hour

type tokenReply struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   string `json:"expires_in"` // a string, as every field of this reply
	AccessToken string `json:"access_token"`
}

// accessToken returns the cached token, or fetches one when it is missing,
// close to expiry, or force is set (after a 401). The mutex makes concurrent
// callers wait for one refresh instead of starting their own.
func (c *Client) accessToken(ctx context.Context, force bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	if !force && c.token != "" && now.Before(c.expires.Add(-c.cfg.TokenMargin)) {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+"/accesstoken/get", nil)
	if err != nil {
		return "", fmt.Errorf("build token request: %w", err)
	}
	cr := c.cfg.Credentials
	req.Header.Set("client_id", cr.ClientID)
	req.Header.Set("client_secret", cr.ClientSecret)
	req.Header.Set("Ocp-Apim-Subscription-Key", cr.SubscriptionKey)
	req.Header.Set("Merchant-Serial-Number", c.cfg.MSN)
	c.systemHeaders(req.Header)
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return "", &Error{Op: "access token", Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", &Error{Op: "access token", Err: fmt.Errorf("the %d reply was cut off: %w", resp.StatusCode, err)}
	}
	if resp.StatusCode != http.StatusOK {
		e := newError("access token", resp, data, now)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			e.Hint = "check client_id, client_secret and subscription_key in the secrets file and vipps.msn in the config"
		}
		return "", e
	}
	var r tokenReply
	if err := json.Unmarshal(data, &r); err != nil || r.AccessToken == "" {
		return "", &Error{Op: "access token", Status: resp.StatusCode, Err: fmt.Errorf("the reply has no access_token (%v)", err)}
	}
	secs, err := strconv.ParseInt(r.ExpiresIn, 10, 64)
	if err != nil || secs <= 0 {
		return "", &Error{Op: "access token", Status: resp.StatusCode, Err: fmt.Errorf("expires_in %q is not a number of seconds", r.ExpiresIn)}
	}
	// Tokens live 1 h (test) or 24 h (production); a longer life is
	// capped, so a huge expires_in cannot overflow into the past.
	secs = min(secs, int64(maxTokenLife/time.Second))
	c.token, c.expires = r.AccessToken, now.Add(time.Duration(secs)*time.Second)
	return c.token, nil
}
