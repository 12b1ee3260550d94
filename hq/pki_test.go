package hq_test

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/hq"
)

// A fixed clock: the certificates' validity and the lists' times must be
// the PKI's clock, not the wall's.
var pkiNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

func newPKI(t *testing.T) hq.PKI {
	t.Helper()
	p := hq.PKI{Dir: filepath.Join(t.TempDir(), "etc"), Now: func() time.Time { return pkiNow }}
	if err := p.Init([]string{"hq.example.no", "10.0.0.5"}); err != nil {
		t.Fatal(err)
	}
	return p
}

func parseCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", b)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readCert(t *testing.T, p hq.PKI, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return parseCert(t, b)
}

func TestInit(t *testing.T) {
	p := newPKI(t)
	if fi, err := os.Stat(p.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("PKI directory: %v, %v, want mode 0700", fi, err)
	}
	// Only the owner may read the keys: whoever has the CA key can make registers.
	for _, f := range []string{hq.FileCAKey, hq.FileServerKey} {
		fi, err := os.Stat(filepath.Join(p.Dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v, want mode 0600", f, fi, err)
		}
	}
	ca, srv := readCert(t, p, hq.FileCACert), readCert(t, p, hq.FileServerCert)
	if !ca.IsCA || !ca.NotBefore.Equal(pkiNow.Add(-time.Hour)) {
		t.Errorf("CA: IsCA %v, NotBefore %v", ca.IsCA, ca.NotBefore)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "hq.example.no", CurrentTime: pkiNow}); err != nil {
		t.Errorf("the server certificate for its DNS name: %v", err)
	}
	if len(srv.IPAddresses) != 1 || !srv.IPAddresses[0].Equal(net.ParseIP("10.0.0.5")) {
		t.Errorf("the server certificate's addresses: %v", srv.IPAddresses)
	}

	// A second Init would orphan every register's certificate.
	if err := p.Init([]string{"hq.example.no"}); err == nil || !strings.Contains(err.Error(), "initialised already") {
		t.Errorf("Init over an existing CA: %v", err)
	}
	if err := (hq.PKI{Dir: t.TempDir()}).Init(nil); err == nil || !strings.Contains(err.Error(), "--host") {
		t.Errorf("Init without hosts: %v", err)
	}
}

func TestIssueNamesRegisterAndStore(t *testing.T) {
	p := newPKI(t)
	is, err := p.Issue("OSLO1-2", "OSLO1")
	if err != nil {
		t.Fatal(err)
	}
	c := parseCert(t, is.Cert)
	pool := x509.NewCertPool()
	pool.AddCert(parseCert(t, is.CA))
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: pkiNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the register's certificate against the CA it was given: %v", err)
	}
	who, err := hq.IdentityOf(c)
	if err != nil || who != (hq.Identity{Register: "OSLO1-2", Store: "OSLO1"}) {
		t.Fatalf("IdentityOf: %+v, %v", who, err)
	}
	if c.SerialNumber.Text(16) != is.Serial || !is.Expires.Equal(pkiNow.Add(2*365*24*time.Hour)) {
		t.Errorf("serial %s (cert %x), expires %v", is.Serial, c.SerialNumber, is.Expires)
	}
	if _, err := hq.ClientTLS(is.Cert, is.Key, is.CA); err != nil {
		t.Errorf("the issued files do not make a register's TLS config: %v", err)
	}
	regs, _ := os.ReadFile(filepath.Join(p.Dir, hq.FileRegisters))
	if !strings.Contains(string(regs), is.Serial) {
		t.Errorf("%s does not list serial %s:\n%s", hq.FileRegisters, is.Serial, regs)
	}

	if _, err := hq.IdentityOf(&x509.Certificate{}); err == nil || !strings.Contains(err.Error(), "names no store") {
		t.Errorf("IdentityOf a certificate without a store: %v", err)
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	if _, err := (hq.PKI{Dir: t.TempDir()}).Issue("OSLO1-2", "OSLO1"); err == nil || !strings.Contains(err.Error(), "run kassehq init first") {
		t.Errorf("Issue before Init: %v", err)
	}
	p := newPKI(t)
	for _, c := range []struct{ name, store, want string }{
		{"", "OSLO1", "register name"},
		{"OSLO1 2", "OSLO1", "register name"},
		{"../x", "OSLO1", "register name"},
		{"OSLO1-2", "1OSLO", "store prefix"},
		{"OSLO1-2", "OSLO-1", "store prefix"},
	} {
		if _, err := p.Issue(c.name, c.store); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Issue(%q, %q): %v, want an error about the %s", c.name, c.store, err, c.want)
		}
	}
	// A CA key the group or others can read is refused, not used.
	key := filepath.Join(p.Dir, hq.FileCAKey)
	for _, mode := range []os.FileMode{0o640, 0o604} {
		if err := os.Chmod(key, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Issue("OSLO1-2", "OSLO1"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("Issue with the CA key at mode %04o: %v", mode, err)
		}
	}
}

func TestRevoke(t *testing.T) {
	p := newPKI(t)
	issue := func(name, store string) *x509.Certificate {
		is, err := p.Issue(name, store)
		if err != nil {
			t.Fatal(err)
		}
		return parseCert(t, is.Cert)
	}
	old, cur, other := issue("BERGEN-7", "BERGEN"), issue("BERGEN-7", "BERGEN"), issue("OSLO1-2", "OSLO1")
	for _, c := range []*x509.Certificate{old, cur, other} {
		if err := p.CheckRevoked(c); err != nil {
			t.Fatalf("before any revoke: %v", err)
		}
	}
	added, err := p.Revoke("BERGEN-7")
	if err != nil {
		t.Fatal(err)
	}
	// Every certificate issued to the name goes, not only the newest.
	if len(added) != 2 || !added[0].Revoked.Equal(pkiNow) {
		t.Fatalf("revoked %+v, want both of BERGEN-7's certificates at the PKI's clock", added)
	}
	for _, c := range []*x509.Certificate{old, cur} {
		if err := p.CheckRevoked(c); err == nil || !strings.Contains(err.Error(), "was revoked") {
			t.Errorf("a revoked certificate: %v", err)
		}
	}
	if err := p.CheckRevoked(other); err != nil {
		t.Errorf("another register after the revoke: %v", err)
	}

	if _, err := p.Revoke("BERGEN-7"); err == nil || !strings.Contains(err.Error(), "revoked already") {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := p.Revoke("TROMSO-1"); err == nil || !strings.Contains(err.Error(), "no certificate was issued") {
		t.Errorf("revoking an unknown name: %v", err)
	}

	// A list that cannot be read must keep revoked registers out: refuse all.
	if err := os.WriteFile(filepath.Join(p.Dir, hq.FileRevoked), []byte("[{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckRevoked(other); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("a damaged revocation list: %v", err)
	}
}
