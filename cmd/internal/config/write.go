package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"

	"kasse/journal"
)

// WriteFiles writes c as dir/kassed.toml (0644) and s as dir/secrets.toml
// (0600), with c's secrets_file pointing at it, and makes the journal's
// signing key dir/signing-key.pem (0600) unless it exists: the one writer
// of a register's files, for provisioning, tests and the soak alike.
// Whatever the umask, the modes are the ones Load and LoadSecrets accept.
func WriteFiles(dir string, c Config, s Secrets) (cfgPath string, err error) {
	c.Vipps.SecretsFile = "secrets.toml"
	var cb, sb bytes.Buffer
	if err := toml.NewEncoder(&cb).Encode(c); err != nil {
		return "", fmt.Errorf("encoding the config: %w", err)
	}
	if err := toml.NewEncoder(&sb).Encode(s); err != nil {
		return "", fmt.Errorf("encoding the secrets: %w", err)
	}
	cfgPath = filepath.Join(dir, "kassed.toml")
	for _, f := range []struct {
		path string
		body []byte
		mode os.FileMode
	}{{filepath.Join(dir, "secrets.toml"), sb.Bytes(), 0o600}, {cfgPath, cb.Bytes(), cfgMode(c)}} {
		if err := os.WriteFile(f.path, f.body, f.mode); err != nil {
			return "", err
		}
		if err := os.Chmod(f.path, f.mode); err != nil { // the umask may have narrowed it
			return "", err
		}
	}
	key := filepath.Join(dir, "signing-key.pem")
	if c.Journal.SigningKey != "" {
		key = c.Journal.SigningKey
	}
	if _, err := journal.LoadSigner(key); errors.Is(err, journal.ErrNoKey) {
		s, err := journal.GenerateKey(nil, 1)
		if err != nil {
			return "", err
		}
		if err := journal.WriteKey(key, s); err != nil {
			return "", err
		}
	}
	return cfgPath, nil
}

// cfgMode is 0644, or 0640 when the config holds PIN hashes (Load refuses
// those readable by others).
func cfgMode(c Config) os.FileMode {
	if len(c.Keys.Cashiers) > 0 {
		return 0o640
	}
	return 0o644
}
