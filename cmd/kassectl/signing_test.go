package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kasse/journal"
)

// keygen makes version 1, refuses to replace it, retires it with --new
// (keeping its public key) for version 2; signing-key prints both.
func TestKeygenAndSigningKey(t *testing.T) {
	key := filepath.Join(t.TempDir(), "signing-key.pem")
	var out strings.Builder
	if err := run([]string{"keygen", "--key", key}, &out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	first, err := journal.LoadSigner(key)
	if err != nil || first.KeyVersion() != "1" {
		t.Fatalf("the first key: version %q, %v", first.KeyVersion(), err)
	}
	if err := run([]string{"keygen", "--key", key}, &out); err == nil || !strings.Contains(err.Error(), "--new") {
		t.Fatalf("a second keygen: %v; want a refusal that points at --new", err)
	}
	if err := run([]string{"keygen", "--key", key, "--new"}, &out); err != nil {
		t.Fatal(err)
	}
	second, err := journal.LoadSigner(key)
	if err != nil || second.KeyVersion() != "2" || second.Public().Equal(first.Public()) {
		t.Fatalf("after --new: version %q, %v; want a new key, version 2", second.KeyVersion(), err)
	}
	out.Reset()
	if err := run([]string{"signing-key", "--key", key}, &out); err != nil {
		t.Fatal(err)
	}
	keys, err := journal.PublicKeys([]byte(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !keys["1"].Equal(first.Public()) || !keys["2"].Equal(second.Public()) {
		t.Fatalf("signing-key printed versions %d keys; want 1 and 2, the retired and the current:\n%s", len(keys), out.String())
	}
	if err := run([]string{"signing-key", "--key", key, "extra"}, &out); exitCode(err) != 2 {
		t.Fatalf("signing-key with an argument: %v; want a usage error", err)
	}
}
