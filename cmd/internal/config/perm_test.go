package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeMode writes the minimal config with exactly mode (the umask aside).
func writeMode(t *testing.T, mode os.FileMode) string {
	t.Helper()
	path := writeConfig(t, minimal)
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// The config decides the MSN and the store prefix (money goes where it
// says): a file others may write is refused, saying how to fix it.
func TestConfigWritableByOthersRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o666, 0o664, 0o646, 0o660, 0o622, 0o602} {
		path := writeMode(t, mode)
		_, err := Load(path)
		if err == nil {
			t.Errorf("mode %04o: a config writable by group or others loaded", mode)
			continue
		}
		for _, want := range []string{path, "writable by group or others", `chmod 644 ` + path} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("mode %04o: error %q does not mention %q", mode, err, want)
			}
		}
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o600, 0o444, 0o400} {
		if _, err := Load(writeMode(t, mode)); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
}

// Owned by root or by the user kassed runs as, nobody else.
func TestConfigOwnerRefused(t *testing.T) {
	path := writeMode(t, 0o644)
	uid := os.Geteuid()
	if uid == 0 {
		// Root can give the file away; kassed (root here) must refuse it.
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	} else {
		uid++ // the file is ours: pretend kassed runs as another user
	}
	_, err := load(path, uid)
	if err == nil {
		t.Fatal("a config owned by another user loaded")
	}
	for _, want := range []string{path, "owned by uid", `chown root ` + path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// Whoever may write the config's directory can put another file in its
// place (or a link to one), and relative paths resolve against it: it is
// held to the same rule, except a sticky directory such as /tmp, where
// nobody can replace another's file.
func TestConfigDirectoryWritableByOthersRefused(t *testing.T) {
	path := writeMode(t, 0o644)
	dir := filepath.Dir(path)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil {
		t.Fatal("a config in a world-writable directory loaded")
	}
	for _, want := range []string{dir, "writable by group or others", `chmod 755 ` + dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("sticky directory: %v", err)
	}
}
