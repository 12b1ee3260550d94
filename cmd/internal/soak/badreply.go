package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// classify names the replies the proxy may falsify: ePayment create, GET
// and capture, and eCom /details; ref is the payment the request is about
// ("" for a create, whose reference is in the body).
func classify(req *http.Request) (kind, ref string) {
	path := req.URL.Path
	switch {
	case req.Method == http.MethodPost && path == "/epayment/v1/payments":
		return "create", ""
	case strings.HasPrefix(path, "/epayment/v1/payments/"):
		rest := strings.Split(strings.TrimPrefix(path, "/epayment/v1/payments/"), "/")
		switch {
		case len(rest) == 1 && req.Method == http.MethodGet:
			return "get", rest[0]
		case len(rest) == 2 && rest[1] == "capture" && req.Method == http.MethodPost:
			return "capture", rest[0]
		case len(rest) >= 1:
			return "", rest[0]
		}
	case strings.HasPrefix(path, "/ecomm/v2/payments/"):
		rest := strings.Split(strings.TrimPrefix(path, "/ecomm/v2/payments/"), "/")
		if len(rest) == 2 && rest[1] == "details" && req.Method == http.MethodGet {
			return "details", rest[0]
		}
		return "", rest[0]
	}
	return "", ""
}

// falsify returns the body the register gets: in modeCut, half of a 2xx
// body (the JSON ends mid-way, the HTTP framing is sound); in modeBad, a
// well-formed reply that does not fit the request: another payment's
// reference, a state no document lists, or amounts above what was asked
// (capturedAmount above the amount: money that never moved). About half of
// the eligible replies are falsified; the rest pass.
func (p *proxy) falsify(mode string, req *http.Request, resp *http.Response, body []byte) []byte {
	kind, ref := classify(req)
	if kind == "" || resp.StatusCode/100 != 2 || len(body) < 2 {
		return body
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng.IntN(2) == 0 {
		return body
	}
	if mode == modeCut {
		p.forged["cut-"+kind]++
		return body[:1+p.rng.IntN(len(body)-1)]
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	if ref == "" {
		ref, _ = m["reference"].(string)
	}
	var ways []string
	switch kind {
	case "create":
		ways = []string{"other-reference"}
	case "get", "capture":
		ways = []string{"other-reference", "unknown-state", "captured-inflated", "captured-inflated", "amount-inflated"}
	case "details":
		ways = []string{"other-reference", "unknown-operation", "captured-inflated", "captured-inflated"}
	}
	way := ways[p.rng.IntN(len(ways))]
	extra := float64(1 + p.rng.IntN(100000))
	switch way {
	case "other-reference":
		other := ""
		for i := len(p.refs) - 1; i >= 0; i-- {
			if p.refs[i] != ref {
				other = p.refs[i]
				break
			}
		}
		if other == "" || ref == "" {
			other = fmt.Sprintf("SOAK9-1-zzzz-%d", p.rng.IntN(1000))
		}
		if ref == "" {
			return body
		}
		p.forged[kind+"-"+way]++
		return bytes.ReplaceAll(body, []byte(ref), []byte(other))
	case "unknown-state":
		m["state"] = "PROCESSING"
	case "unknown-operation":
		hist, _ := m["transactionLogHistory"].([]any)
		m["transactionLogHistory"] = append([]any{map[string]any{"amount": extra, "operation": "SETTLE",
			"operationSuccess": true, "timeStamp": "2026-01-01T00:00:00.000Z", "transactionId": "9999999999",
			"transactionText": "?"}}, hist...)
	case "captured-inflated":
		if kind == "details" {
			sum, _ := m["transactionSummary"].(map[string]any)
			if sum == nil {
				return body
			}
			amount := 0.0
			if hist, _ := m["transactionLogHistory"].([]any); len(hist) > 0 {
				for _, h := range hist {
					if e, _ := h.(map[string]any); e != nil && e["operation"] == "INITIATE" {
						amount, _ = e["amount"].(float64)
					}
				}
			}
			sum["capturedAmount"] = amount + extra
		} else {
			ag, _ := m["aggregate"].(map[string]any)
			amt, _ := m["amount"].(map[string]any)
			if ag == nil || amt == nil {
				return body
			}
			c, _ := ag["capturedAmount"].(map[string]any)
			if c == nil {
				return body
			}
			v, ok := amt["value"].(float64)
			if !ok {
				return body
			}
			c["value"] = v + extra
		}
	case "amount-inflated":
		amt, _ := m["amount"].(map[string]any)
		if amt == nil {
			return body
		}
		v, ok := amt["value"].(float64)
		if !ok {
			return body
		}
		amt["value"] = v + extra
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	p.forged[kind+"-"+way]++
	return out
}
