package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"

	"kasse/cmd/internal/config"
	"kasse/journal"
)

// keyPath is the signing key named by --key, or by the config's
// journal.signing_key.
func keyPath(fs *flag.FlagSet, args []string, what string) (string, *bool, error) {
	cfgPath := fs.String("config", "/etc/kasse/kassed.toml", "kassed's config, whose journal.signing_key names the key")
	key := fs.String("key", "", "the key file itself (instead of --config)")
	renew := fs.Bool("new", false, "retire the current key and make the next version")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return "", nil, usagef("%s takes [--config FILE | --key FILE]%s", what, map[bool]string{true: " [--new]"}[what == "keygen"])
	}
	if *key != "" {
		return *key, renew, nil
	}
	c, err := config.Load(*cfgPath)
	if err != nil {
		return "", nil, err
	}
	return c.Journal.SigningKey, renew, nil
}

// keygen makes the register's signing key (kassasystemforskriften
// § 2-7 (1) and the signature guidance): RSA 1024, mode 0600, version 1. With --new it retires the
// current one, keeping its public key beside it to verify what it signed,
// and makes the next version: history is never signed again.
func keygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path, renew, err := keyPath(fs, args, "keygen")
	if err != nil {
		return err
	}
	version := 1
	old, err := journal.LoadSigner(path)
	switch {
	case errors.Is(err, journal.ErrNoKey):
	case err != nil && *renew:
		return fmt.Errorf("%w: move it aside first; a key that cannot be read cannot be retired", err)
	case err != nil:
		return err
	case !*renew:
		return fmt.Errorf("signing key %s exists (version %s): it signs this register's journal; "+
			"pass --new to retire it and make version %d", path, old.KeyVersion(), mustAtoi(old.KeyVersion())+1)
	default:
		version = mustAtoi(old.KeyVersion()) + 1
	}
	s, err := journal.GenerateKey(rand.Reader, version)
	if err != nil {
		return err
	}
	if old != nil {
		pub, err := journal.PublicPEM(old)
		if err != nil {
			return err
		}
		retired := journal.RetiredPath(path, old.KeyVersion())
		if err := os.WriteFile(retired, pub, 0o644); err != nil {
			return fmt.Errorf("keeping the retired public key: %w", err)
		}
		// The new key goes in beside, then takes the name: a crash leaves
		// the old key or the new, never none.
		if err := journal.WriteKey(path+".next", s); err != nil {
			return err
		}
		if err := os.Rename(path+".next", path); err != nil {
			return err
		}
	} else if err := journal.WriteKey(path, s); err != nil {
		return fmt.Errorf("%w: check that the secrets directory exists and you may write it (root)", err)
	}
	if err := chownLike(path, filepath.Dir(path)); err != nil {
		return err
	}
	fmt.Fprintf(out, "signing key %s: version %d, RSA %d bits; restart kassed to sign with it\n", path, version, journal.KeyBits)
	return nil
}

// chownLike gives path to the owner of the other files in dir (the
// secrets file's, kassed's user) when run as root: kassed reads the key.
func chownLike(path, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(filepath.Join(dir, "secrets.toml"))
	if err != nil {
		return nil // no secrets file to go by: root keeps it
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(path, int(st.Uid), int(st.Gid))
}

// signingKey prints the public keys that verify the journal's signatures:
// the current one and every retired one, by version.
func signingKey(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("signing-key", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path, _, err := keyPath(fs, args, "signing-key")
	if err != nil {
		return err
	}
	s, err := journal.LoadSigner(path)
	if err != nil {
		return err
	}
	retired, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "signing-key-v*.pub.pem"))
	sort.Strings(retired)
	for _, r := range retired {
		b, err := os.ReadFile(r)
		if err != nil {
			return err
		}
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	pub, err := journal.PublicPEM(s)
	if err != nil {
		return err
	}
	_, err = out.Write(pub)
	return err
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
