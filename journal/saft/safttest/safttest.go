// Package safttest finds the Tax Administration's SAF-T Cash Register
// files (../shared/saf-t-cash-register beside the module root) and
// validates exports against their XSD with xmllint, for tests.
package safttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Schema and Example are the provider's files in Dir.
const (
	Schema  = "Norwegian_SAF-T_Cash_Register_Schema_v_1.00.xsd"
	Example = "ExampleFile_SAF-T_Cash_Register_999999999_20210330104000.xml"
)

// Dir is <module root>/../shared/saf-t-cash-register. The test skips when
// ../shared is absent (as the Vipps contract tests do).
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			shared := filepath.Join(d, "..", "shared")
			if _, err := os.Stat(shared); err != nil {
				t.Skipf("skipping: %s is missing (the provider's SAF-T schema lives there)", filepath.Clean(shared))
			}
			return filepath.Join(filepath.Clean(shared), "saf-t-cash-register")
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Validate runs xmllint --schema on file; a missing xmllint fails the
// test (make test installs it).
func Validate(t testing.TB, file string) {
	t.Helper()
	xsd := filepath.Join(Dir(t), Schema)
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is missing: install Debian's libxml2-utils (apt-get install libxml2-utils; make test does it)")
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not validate against %s: %v\n%s", file, Schema, err, out)
	}
}
