package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRefundVia(t *testing.T) {
	for _, tc := range []struct{ table, want string }{
		{"[refund]\nvia = \"vipps\"\n", ""},
		{"[refund]\nvia = \"central\"\nhq_url = \"https://hq.example:8443\"\nhq_cert = \"hq/r.pem\"\nhq_key = \"hq/r.key\"\nhq_ca = \"hq/ca.pem\"\n", ""},
		{"[refund]\nvia = \"hq\"\n", `refund.via "hq" is not known`},
		{"[refund]\nvia = \"central\"\nhq_url = \"http://hq.example\"\nhq_cert = \"a\"\nhq_key = \"b\"\nhq_ca = \"c\"\n", "needs kassehq's https address"},
		{"[refund]\nvia = \"central\"\nhq_url = \"https://hq.example\"\nhq_cert = \"a\"\nhq_ca = \"c\"\n", "refund.hq_key is missing"},
	} {
		path := writeConfig(t, minimal+tc.table)
		c, err := Load(path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.table, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.table, err, tc.want)
		case tc.want == "" && c.Refund.Central() && c.Refund.HQKey != filepath.Join(filepath.Dir(path), "hq/r.key"):
			t.Errorf("hq_key not resolved against the config's directory: %q", c.Refund.HQKey)
		}
	}
}

func TestHQFilesHeldToTheSecretsRule(t *testing.T) {
	dir := t.TempDir()
	r := Refund{Via: "central", HQCert: filepath.Join(dir, "r.pem"), HQKey: filepath.Join(dir, "r.key"), HQCA: filepath.Join(dir, "ca.pem")}
	for _, p := range []string{r.HQCert, r.HQKey, r.HQCA} {
		if err := os.WriteFile(p, []byte("PEM "+filepath.Base(p)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := LoadHQFiles(r)
	if err != nil || string(f.Key) != "PEM r.key" || string(f.CA) != "PEM ca.pem" {
		t.Fatalf("LoadHQFiles: %q, %v", f.Key, err)
	}
	os.Chmod(r.HQKey, 0o640)
	_, err = LoadHQFiles(r)
	if err == nil || !strings.Contains(err.Error(), `run "chmod 600 `+r.HQKey+`"`) {
		t.Fatalf("a group-readable key: %v", err)
	}
	os.Remove(r.HQCA)
	if _, err = LoadHQFiles(r); err == nil || !strings.Contains(err.Error(), "refund.hq_ca") {
		t.Fatalf("a missing CA: %v", err)
	}
}

func TestStoreSecrets(t *testing.T) {
	path := writeSecrets(t, "msn = \"222222\"\n"+secretsText, 0o600)
	s, err := LoadStoreSecrets(path)
	if err != nil || s.MSN != "222222" || s.ClientSecret != sec {
		t.Fatalf("LoadStoreSecrets: %v", err)
	}
	for text, want := range map[string]string{
		secretsText:                             "msn is missing",
		"msn = \"12\"\n" + secretsText:          `msn "12" is not valid`,
		"msn = \"222222\"\nclient_id = \"x\"\n": "client_secret is missing",
	} {
		_, err := LoadStoreSecrets(writeSecrets(t, text, 0o600))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", text, err, want)
		}
		if err != nil {
			assertNoSecret(t, "store secrets error", err.Error())
		}
	}
	if _, err := LoadStoreSecrets(writeSecrets(t, "msn = \"222222\"\n"+secretsText, 0o644)); err == nil || !strings.Contains(err.Error(), "chown it to the kassehq user") {
		t.Errorf("a world-readable store file: %v", err)
	}
	// kassed's own secrets file takes no msn: that is vipps.msn.
	if _, err := LoadSecrets(writeSecrets(t, "msn = \"222222\"\n"+secretsText, 0o600)); err == nil || !strings.Contains(err.Error(), "vipps.msn") {
		t.Errorf("msn in kassed's secrets: %v", err)
	}
}

func TestPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stores")
	if err := CheckPrivateDir(dir, os.Geteuid()); err == nil || !strings.Contains(err.Error(), "install -d -m 700") {
		t.Fatalf("a missing directory: %v", err)
	}
	os.Mkdir(dir, 0o700)
	if err := CheckPrivateDir(dir, os.Geteuid()); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o770, 0o707, 0o755} {
		os.Chmod(dir, mode)
		if err := CheckPrivateDir(dir, os.Geteuid()); err == nil || !strings.Contains(err.Error(), `run "chmod 700 `+dir+`"`) {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}
