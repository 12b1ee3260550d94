package main

import (
	"bytes"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kasse/payment/vipps/vippssim"
)

func TestRunRejectsBadSettings(t *testing.T) {
	for _, args := range [][]string{{"--msn", "12"}, {"--msn", "12ab56"}, {"extra"}, {"--listen", "256.0.0.1:bad"}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func TestLogLineHasNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	sim := vippssim.New(vippssim.Config{MSN: "123456", ClientID: "id", ClientSecret: "topsecret", SubscriptionKey: "subkey"})
	defer sim.Close()
	srv := httptest.NewServer(logRequests(log.New(&buf, "", 0), sim))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/accesstoken/get", nil)
	req.Header.Set("client_id", "id")
	req.Header.Set("client_secret", "wrong-topsecret")
	req.Header.Set("Ocp-Apim-Subscription-Key", "subkey")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line := buf.String()
	if line != "POST /accesstoken/get 401\n" {
		t.Errorf("log line %q", line)
	}
	if strings.Contains(line, "secret") || strings.Contains(line, "subkey") {
		t.Errorf("log line leaks a secret: %q", line)
	}
}

func TestUnitFlags(t *testing.T) {
	for _, args := range [][]string{{"--unit", "12"}, {"--unit", "123456"}, {"--unit", "222222", "--unit", "222222"}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
	env := map[string]string{"VIPPSSIM_UNIT_222222_CLIENT_SECRET": "from-env"}
	got := salesUnits([]string{"222222"}, func(k string) string { return env[k] })
	want := vippssim.SalesUnit{MSN: "222222", ClientID: "demo-client-id-222222", ClientSecret: "from-env", SubscriptionKey: "demo-subscription-key-222222"}
	if len(got) != 1 || got[0].MSN != want.MSN || got[0].ClientID != want.ClientID || got[0].ClientSecret != want.ClientSecret || got[0].SubscriptionKey != want.SubscriptionKey {
		t.Fatalf("units %+v, want %+v", got, want)
	}
}
