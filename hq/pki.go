package hq

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"kasse/store"
)

// The files of kassehq's certificate authority, in its PKI directory.
const (
	FileCAKey      = "ca.key"     // 0600: whoever has it can make registers
	FileCACert     = "ca.pem"     // copied to every register (refund.hq_ca)
	FileServerKey  = "server.key" // 0600
	FileServerCert = "server.pem"
	FileRegisters  = "registers.json" // every certificate issued: name, store, serial
	FileRevoked    = "revoked.json"   // the revocation list, read at every connection
)

// PKI is kassehq's certificate authority: ECDSA P-256, a CA that signs one
// server certificate and a client certificate per register. Now and Rand
// are injected (nil: the wall clock, crypto/rand).
type PKI struct {
	Dir  string
	Now  func() time.Time
	Rand io.Reader
}

func (p PKI) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func (p PKI) rand() io.Reader {
	if p.Rand == nil {
		return rand.Reader
	}
	return p.Rand
}

func (p PKI) path(name string) string { return filepath.Join(p.Dir, name) }

// Issued is one register's certificate: what kassehq register writes for
// the register (its certificate, key and kassehq's CA).
type Issued struct {
	Name, Store string
	Serial      string // hex
	Expires     time.Time
	Cert, Key   []byte // PEM
	CA          []byte // PEM
}

// registerEntry is a line of registers.json.
type registerEntry struct {
	Name    string    `json:"name"`
	Store   string    `json:"store"`
	Serial  string    `json:"serial"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
}

// Revocation is a line of revoked.json.
type Revocation struct {
	Name    string    `json:"name"`
	Serial  string    `json:"serial"`
	Revoked time.Time `json:"revoked"`
}

var registerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validity of what the CA signs.
const (
	caLife     = 10 * 365 * 24 * time.Hour
	serverLife = 2 * 365 * 24 * time.Hour
	clientLife = 2 * 365 * 24 * time.Hour
)

// Init makes the CA and the server certificate for hosts (names or IP
// addresses registers use to reach kassehq). It refuses to replace an
// existing CA: every register's certificate hangs on it.
func (p PKI) Init(hosts []string) error {
	if len(hosts) == 0 {
		return errors.New("no host names: pass --host with the names or addresses registers use to reach kassehq, e.g. --host hq.example.no,10.0.0.5")
	}
	if _, err := os.Stat(p.path(FileCAKey)); err == nil {
		return fmt.Errorf("%s exists: kassehq is initialised already (to start over, move %s away; every register then needs a new certificate)", p.path(FileCAKey), p.Dir)
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return fmt.Errorf("making %s: %w", p.Dir, err)
	}
	now := p.now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), p.rand())
	if err != nil {
		return err
	}
	serial, err := p.serial()
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "kassehq CA", Organization: []string{"kasse"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(caLife),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	caDER, err := x509.CreateCertificate(p.rand(), caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), p.rand())
	if err != nil {
		return err
	}
	if serial, err = p.serial(); err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: hosts[0], Organization: []string{"kasse"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(serverLife),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			srvTmpl.IPAddresses = append(srvTmpl.IPAddresses, ip)
		} else {
			srvTmpl.DNSNames = append(srvTmpl.DNSNames, h)
		}
	}
	srvDER, err := x509.CreateCertificate(p.rand(), srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		pem  []byte
	}{
		{FileCAKey, keyPEM(caKey)}, {FileCACert, certPEM(caDER)},
		{FileServerKey, keyPEM(srvKey)}, {FileServerCert, certPEM(srvDER)},
	} {
		if err := writeFile(p.path(f.name), f.pem); err != nil {
			return err
		}
	}
	return nil
}

// Issue makes a client certificate for register name of store (its
// reference prefix): kassehq then takes refunds from it for that store
// only.
func (p PKI) Issue(name, storePrefix string) (Issued, error) {
	if !registerName.MatchString(name) {
		return Issued{}, fmt.Errorf("register name %q: use 1–64 letters, digits, '.', '_' or '-', e.g. OSLO1-2", name)
	}
	if err := store.CheckPrefix(storePrefix); err != nil {
		return Issued{}, err
	}
	ca, caKey, caPEM, err := p.loadCA()
	if err != nil {
		return Issued{}, err
	}
	now := p.now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), p.rand())
	if err != nil {
		return Issued{}, err
	}
	serial, err := p.serial()
	if err != nil {
		return Issued{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, OrganizationalUnit: []string{storePrefix}, Organization: []string{"kasse"}},
		NotBefore:    now.Add(-time.Hour), NotAfter: now.Add(clientLife),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(p.rand(), tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return Issued{}, err
	}
	is := Issued{Name: name, Store: storePrefix, Serial: serial.Text(16), Expires: tmpl.NotAfter,
		Cert: certPEM(der), Key: keyPEM(key), CA: caPEM}
	var regs []registerEntry
	if err := readJSON(p.path(FileRegisters), &regs); err != nil {
		return Issued{}, err
	}
	regs = append(regs, registerEntry{Name: name, Store: storePrefix, Serial: is.Serial, Issued: now.UTC(), Expires: is.Expires.UTC()})
	if err := writeJSON(p.path(FileRegisters), regs); err != nil {
		return Issued{}, err
	}
	return is, nil
}

// Revoke puts every certificate issued to name on the revocation list;
// kassehq refuses them from the next connection on, without a restart.
func (p PKI) Revoke(name string) ([]Revocation, error) {
	var regs []registerEntry
	if err := readJSON(p.path(FileRegisters), &regs); err != nil {
		return nil, err
	}
	var revoked []Revocation
	if err := readJSON(p.path(FileRevoked), &revoked); err != nil {
		return nil, err
	}
	var added []Revocation
	for _, r := range regs {
		if r.Name != name || slices.ContainsFunc(revoked, func(v Revocation) bool { return v.Serial == r.Serial }) {
			continue
		}
		added = append(added, Revocation{Name: name, Serial: r.Serial, Revoked: p.now().UTC()})
	}
	if len(added) == 0 {
		if slices.ContainsFunc(regs, func(r registerEntry) bool { return r.Name == name }) {
			return nil, fmt.Errorf("register %s is revoked already", name)
		}
		return nil, fmt.Errorf("no certificate was issued to register %q: see %s for the names", name, p.path(FileRegisters))
	}
	if err := writeJSON(p.path(FileRevoked), append(revoked, added...)); err != nil {
		return nil, err
	}
	return added, nil
}

// Identity is who is on the other end of a register's connection.
type Identity struct {
	Register, Store string
}

// IdentityOf reads the register and its store from a verified client
// certificate.
func IdentityOf(c *x509.Certificate) (Identity, error) {
	if len(c.Subject.OrganizationalUnit) != 1 || store.CheckPrefix(c.Subject.OrganizationalUnit[0]) != nil {
		return Identity{}, fmt.Errorf("certificate %q names no store: issue it with kassehq register NAME --store PREFIX", c.Subject.CommonName)
	}
	return Identity{Register: c.Subject.CommonName, Store: c.Subject.OrganizationalUnit[0]}, nil
}

// ServerTLS is kassehq's TLS config: its server certificate, registers'
// client certificates required and verified against the CA, and the
// revocation list read again at every connection, so a revoke takes effect
// at once. logf hears why a connection was refused.
func (p PKI) ServerTLS(logf func(string, ...any)) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(p.path(FileServerCert), p.path(FileServerKey))
	if err != nil {
		return nil, fmt.Errorf("kassehq's server certificate: %w: run kassehq init first", err)
	}
	caPEM, err := os.ReadFile(p.path(FileCACert))
	if err != nil {
		return nil, fmt.Errorf("kassehq's CA: %w: run kassehq init first", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no certificate: run kassehq init again in an empty directory", p.path(FileCACert))
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS13,
		Time:         p.now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the register sent no client certificate: set refund.hq_cert and refund.hq_key on it")
			}
			leaf := cs.PeerCertificates[0]
			err := p.CheckRevoked(leaf)
			if err == nil {
				_, err = IdentityOf(leaf)
			}
			if err != nil {
				logf("refused a connection: %v", err)
			}
			return err
		},
	}, nil
}

// CheckRevoked refuses a revoked certificate, and every certificate when
// the list cannot be read: a broken list must not let a revoked register in.
func (p PKI) CheckRevoked(c *x509.Certificate) error {
	var revoked []Revocation
	if err := readJSON(p.path(FileRevoked), &revoked); err != nil {
		return fmt.Errorf("refusing every register until the revocation list can be read: %w", err)
	}
	serial := c.SerialNumber.Text(16)
	for _, r := range revoked {
		if r.Serial == serial {
			return fmt.Errorf("register %s: certificate %s was revoked on %s: issue a new one with kassehq register %s",
				c.Subject.CommonName, serial, r.Revoked.Format(time.DateOnly), c.Subject.CommonName)
		}
	}
	return nil
}

// ClientTLS is a register's TLS config for kassehq: its certificate and
// key, and kassehq's CA as the only root it trusts.
func ClientTLS(cert, key, ca []byte) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("refund.hq_cert and refund.hq_key: %w: copy both files kassehq register wrote for this register", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, errors.New("refund.hq_ca holds no certificate: copy ca.pem from kassehq")
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS13}, nil
}

func (p PKI) loadCA() (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	caPEM, err := os.ReadFile(p.path(FileCACert))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("kassehq's CA: %w: run kassehq init first", err)
	}
	keyBytes, err := readPrivate(p.path(FileCAKey))
	if err != nil {
		return nil, nil, nil, err
	}
	b, _ := pem.Decode(caPEM)
	if b == nil {
		return nil, nil, nil, fmt.Errorf("%s is not PEM", p.path(FileCACert))
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", p.path(FileCACert), err)
	}
	kb, _ := pem.Decode(keyBytes)
	if kb == nil {
		return nil, nil, nil, fmt.Errorf("%s is not PEM", p.path(FileCAKey))
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok {
		return nil, nil, nil, fmt.Errorf("%s is not an ECDSA key (%v)", p.path(FileCAKey), err)
	}
	return ca, key, caPEM, nil
}

// readPrivate reads a key that only its owner may read.
func readPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: run kassehq init first", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("private key %s is readable by group or others (mode %04o): run \"chmod 600 %s\"", path, fi.Mode().Perm(), path)
	}
	return io.ReadAll(io.LimitReader(f, 64<<10))
}

func (p PKI) serial() (*big.Int, error) {
	return rand.Int(p.rand(), new(big.Int).Lsh(big.NewInt(1), 127))
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err) // a P-256 key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// writeFile writes b at path, mode 0600, synced and renamed into place so
// a power cut leaves the old file or the new one.
func writeFile(path string, b []byte) error {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is damaged (%v): restore it from a backup", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(b, '\n'))
}
