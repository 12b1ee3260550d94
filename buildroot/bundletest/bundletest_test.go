package bundletest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// info runs rauc info on a bundle with a keyring; it never needs a system
// config (the test host has none) nor root.
func info(t *testing.T, bundle, keyring string) (string, error) {
	t.Helper()
	cmd := exec.Command("rauc", "info", "--keyring="+keyring, bundle)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBundleVerifiesWithItsKeyring(t *testing.T) {
	dir := t.TempDir()
	bundle, keyring := Bundle(t, dir)
	out, err := info(t, bundle, keyring)
	if err != nil {
		t.Fatalf("rauc info with the signer's keyring: %v\n%s", err, out)
	}
	for _, want := range []string{Compatible, Version, "rootfs.ext4", "plain"} {
		if !strings.Contains(out, want) {
			t.Errorf("rauc info does not show %q:\n%s", want, out)
		}
	}
	t.Logf("rauc info:\n%s", out)
}

func TestBundleRefusedWithAnotherKeyring(t *testing.T) {
	dir := t.TempDir()
	bundle, _ := Bundle(t, dir)
	other, _ := Cert(t, dir, "stranger")
	out, err := info(t, bundle, other)
	if err == nil {
		t.Fatalf("rauc info accepted a bundle signed by someone else:\n%s", out)
	}
	if !strings.Contains(strings.ToLower(out), "signature") && !strings.Contains(strings.ToLower(out), "verif") {
		t.Errorf("refused, but not for its signature:\n%s", out)
	}
	t.Logf("refused as expected: %s", firstLine(out))
}

func TestTamperedBundleRefused(t *testing.T) {
	dir := t.TempDir()
	bundle, keyring := Bundle(t, dir)
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 0xff // inside the squashfs payload, which the signature covers
	tampered := filepath.Join(dir, "tampered.raucb")
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := info(t, tampered, keyring); err == nil {
		t.Fatalf("rauc info accepted a changed bundle:\n%s", out)
	} else {
		t.Logf("refused as expected: %s", firstLine(out))
	}
}

func TestBundleScriptRefusesBadUsage(t *testing.T) {
	Tools(t)
	out, err := exec.Command("bash", Script(t), "--cert", "x").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("bundle.sh with missing arguments: want exit 2, got %v\n%s", err, out)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
