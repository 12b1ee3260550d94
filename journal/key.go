package journal

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// KeyBits is the size the Tax Administration's signature guidance
// prescribes: RSA 1024 bits, PKCS#1 v1.5 with SHA-1 ("Requirements and
// guidelines for implementing digital signatures in Cash Register
// Systems" § 2.2.3; kassasystemforskriften § 2-7 (1): the journal secured against change).
const KeyBits = 1024

// pemPrivate and pemPublic are the PEM block types; versionHeader carries
// the key version, which every signature names (SAF-T keyVersion).
const (
	pemPrivate    = "RSA PRIVATE KEY"
	pemPublic     = "PUBLIC KEY"
	versionHeader = "Key-Version"
)

// Signer signs with one private key; it satisfies store.Signer.
type Signer struct {
	key     *rsa.PrivateKey
	version string
}

// Sign is RSA PKCS#1 v1.5 over SHA-1 of msg.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	sum := sha1.Sum(msg)
	return rsa.SignPKCS1v15(nil, s.key, crypto.SHA1, sum[:])
}

// KeyVersion is the version the key was made with: 1 for a register's
// first key, one more for every new key (kassectl keygen --new).
func (s *Signer) KeyVersion() string { return s.version }

// Public is the key that verifies s's signatures.
func (s *Signer) Public() *rsa.PublicKey { return &s.key.PublicKey }

// ErrNoKey is wrapped by LoadSigner when the key file does not exist.
var ErrNoKey = errors.New("no signing key")

// LoadSigner reads the private key file path (PEM, written by WriteKey).
// The caller checks the file's owner and mode first (it is a secret).
func LoadSigner(path string) (*Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("signing key %s: %w: make one with \"kassectl keygen\" (the Norwegian cash register rules "+
			"ask for every sale to be signed)", path, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemPrivate {
		return nil, fmt.Errorf("signing key %s is not a PEM %q block: make a new one with \"kassectl keygen --new\"", path, pemPrivate)
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w: make a new one with \"kassectl keygen --new\"", path, err)
	}
	if key.N.BitLen() != KeyBits {
		return nil, fmt.Errorf("signing key %s has %d bits, the rules ask for %d: make a new one with \"kassectl keygen --new\"",
			path, key.N.BitLen(), KeyBits)
	}
	v := block.Headers[versionHeader]
	if n, err := strconv.Atoi(v); err != nil || n < 1 {
		return nil, fmt.Errorf("signing key %s has no valid %s header (%q): make a new one with \"kassectl keygen --new\"",
			path, versionHeader, v)
	}
	return &Signer{key: key, version: v}, nil
}

// GenerateKey makes a new 1024-bit key of the given version.
func GenerateKey(rnd io.Reader, version int) (*Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key, err := rsa.GenerateKey(rnd, KeyBits)
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, version: strconv.Itoa(version)}, nil
}

// WriteKey stores s's private key at path, mode 0600, atomically; it
// refuses to replace a file that exists: a key that signed the journal
// is kept (RetireKey moves it aside).
func WriteKey(path string, s *Signer) error {
	b := pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Headers: map[string]string{versionHeader: s.version},
		Bytes: x509.MarshalPKCS1PrivateKey(s.key)})
	return writeNew(path, b, 0o600)
}

// PublicPEM is s's public key as PEM (SubjectPublicKeyInfo) with its
// version: what the Tax Administration verifies an export with.
func PublicPEM(s *Signer) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Headers: map[string]string{versionHeader: s.version}, Bytes: der}), nil
}

// PublicKeys reads PEM public keys (as PublicPEM writes them, several
// concatenated) by version.
func PublicKeys(b []byte) (map[string]*rsa.PublicKey, error) {
	keys := map[string]*rsa.PublicKey{}
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != pemPublic {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", block.Headers[versionHeader], err)
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key %s is not RSA", block.Headers[versionHeader])
		}
		keys[block.Headers[versionHeader]] = rk
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM \"PUBLIC KEY\" block: pass what kassectl signing-key printed")
	}
	return keys, nil
}

// RetiredPath is where RetireKey keeps the public key of a version no
// longer signing, beside the private key: it verifies older exports.
func RetiredPath(keyPath, version string) string {
	return filepath.Join(filepath.Dir(keyPath), "signing-key-v"+version+".pub.pem")
}

// writeNew writes b to a new file path with mode, durably, never replacing
// one that exists.
func writeNew(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".new"
	_ = os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
	}
	_ = os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
