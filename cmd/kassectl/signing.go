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

// keyFiles are the signing key named by --key, or by the config's
// journal.signing_key, and the secrets file whose owner the key takes
// (empty with --key).
type keyFiles struct{ key, secrets string }

// parseKeyFlags parses args of the command what into fs, which may hold
// more flags of its own.
func parseKeyFlags(fs *flag.FlagSet, args []string, what, more string) (keyFiles, error) {
	cfgPath := fs.String("config", "/etc/kasse/kassed.toml", "kassed's config, whose journal.signing_key names the key")
	key := fs.String("key", "", "the key file itself (instead of --config)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return keyFiles{}, usagef("%s takes [--config FILE | --key FILE]%s", what, more)
	}
	if *key != "" {
		return keyFiles{key: *key}, nil
	}
	c, err := config.Load(*cfgPath)
	if err != nil {
		return keyFiles{}, err
	}
	return keyFiles{key: c.Journal.SigningKey, secrets: c.Vipps.SecretsFile}, nil
}

// keygen makes the register's signing key (kassasystemforskriften
// § 2-7 (1) and the signature guidance): RSA 1024, mode 0600, version 1. With --new it retires the
// current one, keeping its public key beside it to verify what it signed,
// and makes the next version: history is never signed again.
func keygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	renew := fs.Bool("new", false, "retire the current key and make the next version")
	files, err := parseKeyFlags(fs, args, "keygen", " [--new]")
	if err != nil {
		return err
	}
	path := files.key
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
	if err := chownLike(path, files.secrets); err != nil {
		return err
	}
	fmt.Fprintf(out, "signing key %s: version %d, RSA %d bits; restart kassed to sign with it\n", path, version, journal.KeyBits)
	return nil
}

// chownLike gives path to the owner of the secrets file (kassed's user:
// kassed reads the key) when run as root; with no secrets file root keeps
// it.
func chownLike(path, secrets string) error {
	if os.Geteuid() != 0 || secrets == "" {
		return nil
	}
	fi, err := os.Stat(secrets)
	if err != nil {
		return nil
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
	files, err := parseKeyFlags(fs, args, "signing-key", "")
	if err != nil {
		return err
	}
	path := files.key
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
