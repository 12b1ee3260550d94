// Package bundletest builds real, signed RAUC bundles for tests: Debian's
// rauc runs buildroot/bundle.sh (the script used for the fleet) on a tiny
// ext4 image, signed with a throwaway certificate made by openssl in the
// test's directory. Tests of kassectl update install use it to hand RAUC a
// genuine bundle; only the install step itself needs a fake.
//
// rauc, squashfs-tools and e2fsprogs are installed from Debian when missing,
// as the Makefile does for qemu-user-static; where that is impossible the
// test is skipped, saying why.
package bundletest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Compatible and Version are written into every bundle's manifest.
const (
	Compatible = "kasse-test"
	Version    = "1.0.0-test"
)

// Bundle builds a signed plain bundle in dir and returns its path and the
// keyring (the signer's certificate, PEM) that verifies it.
func Bundle(t testing.TB, dir string) (bundle, keyring string) {
	t.Helper()
	Tools(t)
	cert, key := Cert(t, dir, "signer")
	img := filepath.Join(dir, "rootfs.ext4")
	content := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(filepath.Join(content, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(content, "etc", "kasse-release"), []byte(Version+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.ext4", "-q", "-F", "-t", "ext4", "-d", content, img, "4M")
	bundle = filepath.Join(dir, "update.raucb")
	run(t, "bash", Script(t), "--cert", cert, "--key", key, "--keyring", cert,
		"--compatible", Compatible, "--version", Version, img, bundle)
	return bundle, cert
}

// Cert makes a self-signed RSA certificate and key in dir, named name.pem
// and name.key.pem; a second call with another name gives a keyring that
// must refuse the first one's bundles.
func Cert(t testing.TB, dir, name string) (cert, key string) {
	t.Helper()
	cert = filepath.Join(dir, name+".pem")
	key = filepath.Join(dir, name+".key.pem")
	run(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
		"-subj", "/O=kasse test/CN="+name, "-keyout", key, "-out", cert)
	return cert, key
}

// Script is the path of buildroot/bundle.sh in this checkout.
func Script(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("bundletest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "bundle.sh")
}

var (
	toolsOnce sync.Once
	toolsErr  error
)

// Tools makes sure rauc, mksquashfs, mkfs.ext4 and openssl are on PATH,
// installing Debian's packages once when they are missing, or skips t.
func Tools(t testing.TB) {
	t.Helper()
	toolsOnce.Do(func() { toolsErr = install() })
	if toolsErr != nil {
		t.Skipf("bundletest: %v", toolsErr)
	}
}

func install() error {
	need := map[string]string{"rauc": "rauc", "mksquashfs": "squashfs-tools", "unsquashfs": "squashfs-tools",
		"mkfs.ext4": "e2fsprogs", "openssl": "openssl"}
	var pkgs []string
	seen := map[string]bool{}
	for _, cmd := range []string{"rauc", "mksquashfs", "unsquashfs", "mkfs.ext4", "openssl"} {
		if _, err := exec.LookPath(cmd); err != nil && !seen[need[cmd]] {
			seen[need[cmd]] = true
			pkgs = append(pkgs, need[cmd])
		}
	}
	if len(pkgs) == 0 {
		return nil
	}
	script := "apt-get update -qq && apt-get install -y -qq " + strings.Join(pkgs, " ")
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("sh", "-c", script)
	} else {
		cmd = exec.Command("sudo", "-n", "sh", "-c", script)
	}
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v missing and apt-get could not install them: %v\n%s", pkgs, err, tail(out))
	}
	for _, c := range []string{"rauc", "mksquashfs", "mkfs.ext4", "openssl"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%s still missing after installing %v", c, pkgs)
		}
	}
	return nil
}

// run runs a command and fails t with its output when it fails.
func run(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func tail(b []byte) []byte {
	if i := len(b) - 2000; i > 0 {
		b = b[i:]
	}
	return bytes.TrimSpace(b)
}
