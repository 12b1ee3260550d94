package config

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// HQFiles are a register's client certificate, its key and kassehq's CA,
// PEM, for refund.via = "central".
type HQFiles struct {
	Cert, Key, CA []byte
}

// LoadHQFiles reads refund.hq_cert, hq_key and hq_ca, each held to the
// secrets file's rule (no access for group or others): the key is this
// register's identity at kassehq, and whoever could swap the CA could
// stand in for kassehq.
func LoadHQFiles(r Refund) (HQFiles, error) {
	var out HQFiles
	var errs []error
	for _, f := range []struct {
		key, path string
		into      *[]byte
	}{{"refund.hq_cert", r.HQCert, &out.Cert}, {"refund.hq_key", r.HQKey, &out.Key}, {"refund.hq_ca", r.HQCA, &out.CA}} {
		b, err := readPrivate(f.key, f.path)
		if err != nil {
			errs = append(errs, err)
		}
		*f.into = b
	}
	return out, errors.Join(errs...)
}

func readPrivate(key, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: copy the file kassehq register wrote for this register there, or fix %s", key, err, key)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if err := CheckPrivate(key, path, fi, "kassed"); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretsSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", key, path, err)
	}
	if len(b) > maxSecretsSize {
		return nil, fmt.Errorf("%s %s is larger than %d bytes: it should be one PEM file from kassehq register", key, path, maxSecretsSize)
	}
	return b, nil
}
