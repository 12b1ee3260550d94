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

	"kasse/vippsid"
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
	s, _, err := loadSecrets(path, false, "vipps.secrets_file in the config")
	return s, err
}

// StoreSecrets is one store's file in kassehq's secrets directory (option
// B): its sales unit's MSN and API keys.
type StoreSecrets struct {
	MSN string
	Secrets
}

// LoadStoreSecrets reads one store's file of kassehq's secrets directory:
// msn, client_id, client_secret and subscription_key, held to the secrets
// file's rules.
func LoadStoreSecrets(path string) (StoreSecrets, error) {
	s, msn, err := loadSecrets(path, true, "kassehq's secrets directory")
	return StoreSecrets{MSN: msn, Secrets: s}, err
}

// CheckPrivate refuses a file that group or others may read or write: API
// keys, private keys. fi is the opened file's, so the file checked is the
// file read.
// kind names the file in the error ("secrets file", "private key").
func CheckPrivate(kind, path string, fi fs.FileInfo, owner string) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s is not a regular file: point the setting at the file itself", kind, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s %s is readable by group or others (mode %04o): run \"chmod 600 %s\" (and chown it to the %s user)",
			kind, path, perm, path, owner)
	}
	return nil
}

// CheckPrivateDir refuses a directory of secrets that others may change
// (whoever may write it can put their own keys in it) or list, or that is
// owned by anyone but root and uid, saying how to fix it.
func CheckPrivateDir(dir string, uid int) error {
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("secrets directory: %w: create it with \"install -d -m 700 %s\"", err, dir)
	}
	if !di.IsDir() {
		return fmt.Errorf("secrets directory %s is not a directory", dir)
	}
	var errs []error
	if perm := di.Mode().Perm(); perm&0o077 != 0 {
		errs = append(errs, fmt.Errorf("secrets directory %s is open to group or others (mode %04o): run \"chmod 700 %s\"", dir, perm, dir))
	}
	if owner, ok := ownerOf(di); ok && owner != 0 && owner != uid {
		errs = append(errs, fmt.Errorf("secrets directory %s is owned by uid %d, neither root nor the user running (uid %d): run \"chown root %s\"",
			dir, owner, uid, dir))
	}
	return errors.Join(errs...)
}

// loadSecrets reads a secrets file; withMSN also takes (and requires) msn.
// setting names where the path came from, for the not-found error.
func loadSecrets(path string, withMSN bool, setting string) (Secrets, string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Secrets{}, "", fmt.Errorf("secrets file %s does not exist: create it (mode 0600) with client_id, client_secret "+
			"and subscription_key, or fix %s", path, setting)
	}
	if err != nil {
		return Secrets{}, "", fmt.Errorf("secrets file: %w: check %s", err, setting)
	}
	defer f.Close()
	fi, err := f.Stat() // the file we read, not whatever is at path later
	if err != nil {
		return Secrets{}, "", fmt.Errorf("secrets file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Secrets{}, "", fmt.Errorf("secrets file %s is not a regular file: point %s at the TOML file", path, setting)
	}
	owner := "kassed"
	if withMSN {
		owner = "kassehq"
	}
	if err := CheckPrivate("secrets file", path, fi, owner); err != nil {
		return Secrets{}, "", err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretsSize+1))
	if err != nil {
		return Secrets{}, "", fmt.Errorf("secrets file %s: %w", path, err)
	}
	if len(data) > maxSecretsSize {
		return Secrets{}, "", fmt.Errorf("secrets file %s is larger than %d bytes: it should hold only client_id, client_secret and subscription_key", path, maxSecretsSize)
	}

	var s struct {
		MSN             string `toml:"msn"`
		ClientID        string `toml:"client_id"`
		ClientSecret    string `toml:"client_secret"`
		SubscriptionKey string `toml:"subscription_key"`
	}
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
			return Secrets{}, "", fmt.Errorf("secrets file %s: invalid TOML on line %d: fix it, with each key a quoted string "+
				"(the content is not shown, to keep the secrets out of logs)", path, line)
		}
		return Secrets{}, "", fmt.Errorf("secrets file %s: invalid TOML: check that it holds only client_id, client_secret and subscription_key as quoted strings", path)
	}
	if len(md.Keys()) == 0 {
		return Secrets{}, "", fmt.Errorf("secrets file %s is empty: put client_id, client_secret and subscription_key in it, "+
			"as quoted strings from the Vipps MobilePay portal (API keys for the sales unit)", path)
	}
	var errs []error
	keys := "client_id, client_secret and subscription_key"
	if withMSN {
		keys = "msn, " + keys
	}
	for _, k := range md.Undecoded() {
		errs = append(errs, fmt.Errorf("secrets file %s: unknown key %q: use only %s", path, k.String(), keys))
	}
	if md.IsDefined("msn") && !withMSN {
		errs = append(errs, fmt.Errorf("secrets file %s: unknown key \"msn\": use only %s (the MSN is vipps.msn in the config)", path, keys))
	}
	fields := []struct{ key, val string }{
		{"client_id", s.ClientID}, {"client_secret", s.ClientSecret}, {"subscription_key", s.SubscriptionKey},
	}
	if withMSN {
		switch {
		case s.MSN == "":
			errs = append(errs, fmt.Errorf("secrets file %s: msn is missing: set it to this store's merchant serial number (4–6 digits)", path))
		case !vippsid.MSN(s.MSN):
			errs = append(errs, fmt.Errorf("secrets file %s: msn %q is not valid: use this store's merchant serial number (4–6 digits)", path, s.MSN))
		}
	}
	for _, f := range fields {
		switch {
		case f.val == "":
			errs = append(errs, fmt.Errorf("secrets file %s: %s is missing: copy it from the Vipps MobilePay portal (API keys for the sales unit)", path, f.key))
		case strings.TrimSpace(f.val) != f.val:
			errs = append(errs, fmt.Errorf("secrets file %s: %s has spaces or line breaks around it: remove them", path, f.key))
		}
	}
	if len(errs) > 0 {
		return Secrets{}, "", errors.Join(errs...)
	}
	return Secrets{ClientID: s.ClientID, ClientSecret: s.ClientSecret, SubscriptionKey: s.SubscriptionKey}, s.MSN, nil
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
