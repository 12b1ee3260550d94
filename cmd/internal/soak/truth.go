package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"kasse/payment/vipps/vippssim"
)

// Vipps's side, read from the simulator directly (never through the
// proxy): the admin list of every payment, and each payment's history as
// the APIs give it (ePayment events with their idempotency keys, the eCom
// transaction log with its X-Request-Ids).

func (s *soak) simPayments() ([]vippssim.PaymentInfo, error) {
	resp, err := http.Get(s.simURL + "/vippssim/payments")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var list []vippssim.PaymentInfo
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("the simulator's payment list: %w", err)
	}
	return list, nil
}

// move is one money movement at Vipps: a capture or a refund, with the key
// of the request that caused it.
type move struct {
	op     string // "capture" or "refund"
	amount int64
	key    string
}

// truthAPI calls the simulator's payment APIs with a token of its own.
type truthAPI struct {
	base, secret, subKey string
	token                string
}

func (t *truthAPI) do(method, path, msn string, out any) error {
	if t.token == "" {
		req, _ := http.NewRequest(http.MethodPost, t.base+"/accesstoken/get", nil)
		req.Header.Set("client_id", clientID)
		req.Header.Set("client_secret", t.secret)
		req.Header.Set("Ocp-Apim-Subscription-Key", t.subKey)
		req.Header.Set("Merchant-Serial-Number", msn)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if err := send(req, &tok); err != nil {
			return fmt.Errorf("access token: %w", err)
		}
		t.token = tok.AccessToken
	}
	req, _ := http.NewRequest(method, t.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Ocp-Apim-Subscription-Key", t.subKey)
	req.Header.Set("Merchant-Serial-Number", msn)
	for _, h := range []string{"Vipps-System-Name", "Vipps-System-Version", "Vipps-System-Plugin-Name", "Vipps-System-Plugin-Version"} {
		req.Header.Set(h, "soak")
	}
	return send(req, out)
}

func send(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.200s", req.Method, req.URL.Path, resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// moves reads a payment's captures and refunds from its API's history.
func (t *truthAPI) moves(p vippssim.PaymentInfo, msn string) ([]move, error) {
	var out []move
	if p.API == "ecom" {
		var d struct {
			Log []struct {
				Amount    int64  `json:"amount"`
				Operation string `json:"operation"`
				Success   bool   `json:"operationSuccess"`
				RequestID string `json:"requestId"`
			} `json:"transactionLogHistory"`
		}
		if err := t.do(http.MethodGet, "/ecomm/v2/payments/"+url.PathEscape(p.Reference)+"/details", msn, &d); err != nil {
			return nil, err
		}
		for _, l := range d.Log {
			switch {
			case l.Operation == "CAPTURE" && l.Success:
				out = append(out, move{"capture", l.Amount, l.RequestID})
			case l.Operation == "REFUND" && l.Success:
				out = append(out, move{"refund", l.Amount, l.RequestID})
			}
		}
		return out, nil
	}
	var events []struct {
		Name   string `json:"name"`
		Amount struct {
			Value int64 `json:"value"`
		} `json:"amount"`
		Key     *string `json:"idempotencyKey"`
		Success bool    `json:"success"`
	}
	if err := t.do(http.MethodGet, "/epayment/v1/payments/"+url.PathEscape(p.Reference)+"/events", msn, &events); err != nil {
		return nil, err
	}
	for _, e := range events {
		key := ""
		if e.Key != nil {
			key = *e.Key
		}
		switch {
		case e.Name == "CAPTURED" && e.Success:
			out = append(out, move{"capture", e.Amount.Value, key})
		case e.Name == "REFUNDED" && e.Success:
			out = append(out, move{"refund", e.Amount.Value, key})
		}
	}
	return out, nil
}
