package vippssim

import (
	"encoding/json"
	"net/http"
	"testing"

	"kasse/payment/vipps/vippsspec"
)

// Option B: each store is its own sales unit with its own keys and MSN. A
// token works only with the keys and MSN of the unit that fetched it, and a
// payment is seen and refunded only under the MSN that created it.
func TestSalesUnits(t *testing.T) {
	unitB := SalesUnit{MSN: "222222", ClientID: "unit-b-client", ClientSecret: "unit-b-secret", SubscriptionKey: "unit-b-sub"}
	e := newEnv(t, vippsspec.Open(t), func(c *Config) { c.Units = []SalesUnit{unitB} })
	e.login()
	tokenA := e.token

	tokenFor := func(id, secret, sub, msn string) (int, string) {
		h := http.Header{}
		h.Set("client_id", id)
		h.Set("client_secret", secret)
		h.Set("Ocp-Apim-Subscription-Key", sub)
		h.Set("Merchant-Serial-Number", msn)
		status, _, b := e.call("POST", "/accesstoken/get", h, nil)
		var tok map[string]string
		json.Unmarshal(b, &tok)
		return status, tok["access_token"]
	}
	status, tokenB := tokenFor(unitB.ClientID, unitB.ClientSecret, unitB.SubscriptionKey, unitB.MSN)
	if status != http.StatusOK || tokenB == "" {
		t.Fatalf("unit B's token: %d", status)
	}
	// Keys of one unit never mix with another's.
	for name, k := range map[string][4]string{
		"A's id with B's secret":  {testID, unitB.ClientSecret, testSubKey, testMSN},
		"B's keys with A's MSN":   {unitB.ClientID, unitB.ClientSecret, unitB.SubscriptionKey, testMSN},
		"B's id with A's sub key": {unitB.ClientID, unitB.ClientSecret, testSubKey, unitB.MSN},
	} {
		if status, _ := tokenFor(k[0], k[1], k[2], k[3]); status != http.StatusUnauthorized {
			t.Errorf("token with %s: status %d, want 401", name, status)
		}
	}

	const ref = "OSLO1-1-abcd-1"
	e.create(ref, 10000)
	e.approve(ref)
	if status, b := e.api("POST", "/epayment/v1/payments/"+ref+"/capture", "cap-1", amount(10000)); status != http.StatusOK {
		t.Fatalf("capture: %d %s", status, b)
	}

	asB := func(method, path, key, sub, msn string, body any) int {
		h := e.apiHeaders(key)
		h.Set("Authorization", "Bearer "+tokenB)
		h.Set("Ocp-Apim-Subscription-Key", sub)
		h.Set("Merchant-Serial-Number", msn)
		status, _, _ := e.call(method, path, h, body)
		return status
	}
	// B's token under B's own keys: A's payment does not exist for it.
	if s := asB("GET", "/epayment/v1/payments/"+ref, "", unitB.SubscriptionKey, unitB.MSN, nil); s != http.StatusNotFound {
		t.Errorf("B reads A's payment: %d, want 404", s)
	}
	if s := asB("POST", "/epayment/v1/payments/"+ref+"/refund", "b-refund", unitB.SubscriptionKey, unitB.MSN, amount(100)); s != http.StatusNotFound {
		t.Errorf("B refunds A's payment: %d, want 404", s)
	}
	// B's token with A's MSN or A's subscription key: forbidden.
	if s := asB("GET", "/epayment/v1/payments/"+ref, "", unitB.SubscriptionKey, testMSN, nil); s != http.StatusForbidden {
		t.Errorf("B's token with A's MSN: %d, want 403", s)
	}
	if s := asB("GET", "/epayment/v1/payments/"+ref, "", testSubKey, unitB.MSN, nil); s != http.StatusForbidden {
		t.Errorf("B's token with A's subscription key: %d, want 403", s)
	}
	// B's own payment is B's: A's token does not see it.
	h := e.apiHeaders("create-b")
	h.Set("Authorization", "Bearer "+tokenB)
	h.Set("Ocp-Apim-Subscription-Key", unitB.SubscriptionKey)
	h.Set("Merchant-Serial-Number", unitB.MSN)
	if status, _, b := e.call("POST", "/epayment/v1/payments", h, createBody("BERGEN-1-abcd-1", 5000)); status != http.StatusCreated {
		t.Fatalf("B creates: %d %s", status, b)
	}
	e.token = tokenA
	if status, _ := e.api("GET", "/epayment/v1/payments/BERGEN-1-abcd-1", "", nil); status != http.StatusNotFound {
		t.Errorf("A reads B's payment: %d, want 404", status)
	}
	// A refunds its own.
	if status, b := e.api("POST", "/epayment/v1/payments/"+ref+"/refund", "a-refund", amount(2500)); status != http.StatusOK {
		t.Fatalf("A refunds: %d %s", status, b)
	}
	if got := e.get(ref).agg(); got != [4]int64{10000, 0, 10000, 2500} {
		t.Fatalf("aggregate %v", got)
	}
}
