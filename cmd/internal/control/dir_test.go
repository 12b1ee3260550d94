package control

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestMakeDataDirLetsTheGroupReachTheSocket(t *testing.T) {
	base, err := os.MkdirTemp("", "kasse-dir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(base, "data")
	old := syscall.Umask(0o077) // a strict umask must not make it 0700
	err = MakeDataDir(data)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != DataDirMode {
		t.Fatalf("data directory: %v, %v; want mode %04o", fi.Mode(), err, DataDirMode)
	}
	sock := filepath.Join(data, "kassed.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Reachable(sock); err != nil {
		t.Errorf("Reachable: %v", err)
	}

	// The 0700 an older kassed made keeps the group out, and the error says
	// what to run.
	if err := os.Chmod(data, 0o700); err != nil {
		t.Fatal(err)
	}
	err = Reachable(sock)
	if err == nil || !strings.Contains(err.Error(), "chmod 750 "+data) {
		t.Errorf("Reachable with the data directory 0700: %v, want one saying chmod 750 %s", err, data)
	}
	// MakeDataDir leaves an existing directory's mode alone.
	if err := MakeDataDir(data); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(data); fi.Mode().Perm() != 0o700 {
		t.Errorf("MakeDataDir changed an existing directory to %04o", fi.Mode().Perm())
	}
}

// The socket and the data directory go to the admin group; an unknown
// group is refused with what to do.
func TestGiveToGroup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := MakeDataDir(dir); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "kassed.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
	if err != nil {
		t.Skip("this user's group has no name:", err)
	}
	if err := GiveToGroup(sock, dir, g.Name); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, sock} {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil || int(st.Gid) != os.Getgid() {
			t.Errorf("%s: gid %d, %v; want %d", p, st.Gid, err, os.Getgid())
		}
	}
	if err := GiveToGroup(sock, dir, "no-such-group-kasse"); err == nil || !strings.Contains(err.Error(), "groupadd") {
		t.Errorf("an unknown group: %v", err)
	}
}
