package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Secrets are the Vipps MobilePay API keys from the secrets file. They print
// redacted with every fmt verb, in JSON and in slog, so a status dump or a
// crash message cannot leak them.
type Secrets struct {
	ClientID        string `toml:"client_id"`
	ClientSecret    string `toml:"client_secret"`
	SubscriptionKey string `toml:"subscription_key"` // Ocp-Apim-Subscription-Key
}

// tomlLine finds the line number in the decoder's type errors, which are
// not ParseErrors.
var tomlLine = regexp.MustCompile(`^toml: line ([0-9]+)`)

// maxSecretsSize bounds the read; a real secrets file is a few hundred bytes.
const maxSecretsSize = 64 << 10

// LoadSecrets reads the secrets file, refusing it when group or others have
// any access. No error it returns contains a value from the file.
func LoadSecrets(path string) (Secrets, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Secrets{}, fmt.Errorf("secrets file %s does not exist: create it (mode 0600) with client_id, client_secret "+
			"and subscription_key, or fix vipps.secrets_file in the config", path)
	}
	if err != nil {
		return Secrets{}, fmt.Errorf("secrets file: %w: check vipps.secrets_file in the config", err)
	}
	defer f.Close()
	fi, err := f.Stat() // the file we read, not whatever is at path later
	if err != nil {
		return Secrets{}, fmt.Errorf("secrets file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Secrets{}, fmt.Errorf("secrets file %s is not a regular file: point vipps.secrets_file at the TOML file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return Secrets{}, fmt.Errorf("secrets file %s is readable by group or others (mode %04o): run \"chmod 600 %s\" (and chown it to the kassed user)",
			path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretsSize+1))
	if err != nil {
		return Secrets{}, fmt.Errorf("secrets file %s: %w", path, err)
	}
	if len(data) > maxSecretsSize {
		return Secrets{}, fmt.Errorf("secrets file %s is larger than %d bytes: it should hold only client_id, client_secret and subscription_key", path, maxSecretsSize)
	}

	var s Secrets
	md, err := toml.Decode(string(data), &s)
	if err != nil {
		// The decoder's message can quote the file, so only the line is told.
		line := 0
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line = pe.Position.Line
		} else if m := tomlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		if line > 0 {
			return Secrets{}, fmt.Errorf("secrets file %s: invalid TOML on line %d: fix it, with each key a quoted string "+
				"(the content is not shown, to keep the secrets out of logs)", path, line)
		}
		return Secrets{}, fmt.Errorf("secrets file %s: invalid TOML: check that it holds only client_id, client_secret and subscription_key as quoted strings", path)
	}
	if len(md.Keys()) == 0 {
		return Secrets{}, fmt.Errorf("secrets file %s is empty: put client_id, client_secret and subscription_key in it, "+
			"as quoted strings from the Vipps MobilePay portal (API keys for the sales unit)", path)
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("secrets file %s: unknown key %q: use only client_id, client_secret and subscription_key", path, k.String()))
	}
	for _, f := range []struct{ key, val string }{
		{"client_id", s.ClientID}, {"client_secret", s.ClientSecret}, {"subscription_key", s.SubscriptionKey},
	} {
		switch {
		case f.val == "":
			errs = append(errs, fmt.Errorf("secrets file %s: %s is missing: copy it from the Vipps MobilePay portal (API keys for the sales unit)", path, f.key))
		case strings.TrimSpace(f.val) != f.val:
			errs = append(errs, fmt.Errorf("secrets file %s: %s has spaces or line breaks around it: remove them", path, f.key))
		}
	}
	if len(errs) > 0 {
		return Secrets{}, errors.Join(errs...)
	}
	return s, nil
}

func redact(v string) string {
	if v == "" {
		return "missing"
	}
	return "redacted"
}

// String says which secrets are set, never their values.
func (s Secrets) String() string {
	return fmt.Sprintf("Secrets{ClientID:%s ClientSecret:%s SubscriptionKey:%s}",
		redact(s.ClientID), redact(s.ClientSecret), redact(s.SubscriptionKey))
}

// GoString keeps %#v redacted.
func (s Secrets) GoString() string { return "config." + s.String() }

// Format makes every verb (%v, %+v, %s, %q, %x, ...) print the redacted form.
func (s Secrets) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalJSON keeps secrets out of JSON status output and exports.
func (s Secrets) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// LogValue keeps secrets out of slog output.
func (s Secrets) LogValue() slog.Value { return slog.StringValue(s.String()) }
