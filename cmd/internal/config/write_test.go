package config

import (
	"os"
	"testing"
	"time"
)

// What WriteFiles writes, Load and LoadSecrets read back the same.
func TestWriteFilesRoundTrips(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := Config{DataDir: "data",
		Vipps: Vipps{BaseURL: "https://apitest.vipps.no", MSN: "123456", Flow: "ecom", CallbackPrefix: "https://b.example/cb",
			FallBack: "https://b.example", PollInterval: Duration{2 * time.Second}},
		Store: Store{Prefix: "OSLO1", Lane: "2", Name: "Butikken", Lines: []string{"Storgata 1"}, OrgNumber: "987654325", TaxRate: 2500},
		Chain: Chain{Stores: []string{"BERG1"}, MSN: map[string]string{"BERG1": "654321"}}}
	s := Secrets{ClientID: "id-1", ClientSecret: "secret-1", SubscriptionKey: "sub-1"}
	path, err := WriteFiles(dir, c, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Vipps.MSN != "123456" || got.Vipps.Flow != "ecom" || got.Vipps.PollInterval.Duration != 2*time.Second ||
		got.Store.Name != "Butikken" || got.Store.TaxRate != 2500 || got.Chain.MSN["BERG1"] != "654321" {
		t.Fatalf("read back %+v", got)
	}
	sec, err := LoadSecrets(got.Vipps.SecretsFile)
	if err != nil || sec != s {
		t.Fatalf("secrets read back %v, %v", sec, err)
	}
}
