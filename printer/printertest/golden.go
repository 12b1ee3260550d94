package printertest

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden compares got, a printout rendered as text, with the golden file;
// with update (make golden) it writes the file instead.
func Golden(t testing.TB, file, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v: run make golden", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the layout (make golden rewrites it):\ngot\n%s\nwant\n%s", file, got, want)
	}
}
