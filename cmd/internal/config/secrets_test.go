package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Distinctive values, so any leak is easy to spot.
const (
	id  = "id-3f9a1c77e2"
	sec = "secret-b81d44a0c9"
	sub = "subkey-5e27f0d6aa"
)

var secretsText = fmt.Sprintf("client_id = %q\nclient_secret = %q\nsubscription_key = %q\n", id, sec, sub)

func writeSecrets(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // independent of umask
		t.Fatal(err)
	}
	return path
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{id, sec, sub, "3f9a1c77e2", "b81d44a0c9", "5e27f0d6aa"} {
		if strings.Contains(s, v) {
			t.Errorf("%s leaks %q: %s", what, v, s)
		}
	}
	for _, v := range []string{sec, sub} {
		if strings.Contains(s, fmt.Sprintf("%x", v)) {
			t.Errorf("%s leaks %q in hex", what, v)
		}
	}
}

func TestSecrets0600Accepted(t *testing.T) {
	s, err := LoadSecrets(writeSecrets(t, secretsText, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if s != (Secrets{id, sec, sub}) {
		t.Errorf("got wrong values (lengths %d %d %d)", len(s.ClientID), len(s.ClientSecret), len(s.SubscriptionKey))
	}
}

func TestSecretsOpenToOthersRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		path := writeSecrets(t, secretsText, mode)
		_, err := LoadSecrets(path)
		want := fmt.Sprintf(`secrets file %s is readable by group or others (mode %04o): run "chmod 600 %s" (and chown it to the kassed user)`,
			path, mode, path)
		if err == nil || err.Error() != want {
			t.Errorf("mode %04o:\n got  %v\n want %s", mode, err, want)
		}
	}
}

func TestSecretsErrorsNeverShowValues(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"missing", fmt.Sprintf("client_id = %q\n", id), "client_secret is missing"},
		{"empty file", "", "is empty: put client_id, client_secret and subscription_key in it"},
		{"comments only", "# from the portal\n\n", "is empty"},
		{"empty", fmt.Sprintf("client_id = %q\nclient_secret = \"\"\nsubscription_key = %q\n", id, sub), "client_secret is missing"},
		{"spaces", fmt.Sprintf("client_id = %q\nclient_secret = %q\nsubscription_key = %q\n", id, sec+"\n", sub), "client_secret has spaces"},
		{"unknown", secretsText + fmt.Sprintf("client_secert = %q\n", sec), `unknown key "client_secert"`},
		{"unterminated", fmt.Sprintf("client_id = %q\nclient_secret = \"%s\n", id, sec), "line 2"},
		{"bare", fmt.Sprintf("client_id = %q\nclient_secret = %s\n", id, sec), "line 2"},
		{"type", fmt.Sprintf("client_id = %q\nclient_secret = [%q]\nsubscription_key = %q\n", id, sec, sub), "line 2"},
	} {
		path := writeSecrets(t, c.text, 0o600)
		_, err := LoadSecrets(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and %q", c.name, err, c.want)
			continue
		}
		assertNoSecret(t, c.name+" error", err.Error())
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	s := Secrets{id, sec, sub}
	assertNoSecret(t, "fmt", fmt.Sprintf("%v %+v %#v %s %q %x %X %v %+v", s, s, s, s, s, s, s, &s, &s))
	holder := struct{ S Secrets }{s}
	assertNoSecret(t, "fmt of a holder", fmt.Sprintf("%v %+v %#v", holder, holder, holder))
	if !strings.Contains(fmt.Sprint(s), "redacted") || !strings.Contains(fmt.Sprint(Secrets{}), "missing") {
		t.Errorf("redacted form says nothing useful: %v / %v", s, Secrets{})
	}
	j, err := json.Marshal(holder)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "JSON", string(j))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "secrets", s)
	assertNoSecret(t, "slog", buf.String())
}

func TestSecretsFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.toml")
	_, err := LoadSecrets(path)
	if err == nil || !strings.Contains(err.Error(), path+" does not exist") || !strings.Contains(err.Error(), "vipps.secrets_file") {
		t.Fatalf("missing secrets file: %v, want one naming the file and vipps.secrets_file", err)
	}
}
