package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"kasse/cmd/internal/control"
)

// A member of the control socket's group can use kassectl: the socket is
// 0660 and every directory on its path lets that group through, while the
// database stays 0600. Run as root, it also connects for real as another
// user in the socket's group, and fails as one outside it.
func TestControlSocketReachableByItsGroup(t *testing.T) {
	// A base directory others may traverse, as /var/lib is (t.TempDir is 0700).
	base, err := os.MkdirTemp("", "kasse-group-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, worldOpts{dir: base, quiet: true})
	data := w.reg.cfg.DataDir
	sock := filepath.Join(data, "kassed.sock")

	for path, want := range map[string]os.FileMode{data: 0o750, filepath.Join(data, "kasse.db"): 0o600, sock: 0o660} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil {
		t.Fatal(err)
	}
	gid := st.Gid
	for dir := data; ; dir = filepath.Dir(dir) {
		var d syscall.Stat_t
		if err := syscall.Stat(dir, &d); err != nil {
			t.Fatal(err)
		}
		if !(d.Gid == gid && d.Mode&0o010 != 0 || d.Mode&0o001 != 0) {
			t.Errorf("%s (mode %04o, group %d): the socket's group %d cannot traverse it", dir, d.Mode&0o7777, d.Gid, gid)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	if err := control.Reachable(sock); err != nil {
		t.Errorf("control.Reachable: %v", err)
	}

	if os.Geteuid() != 0 {
		t.Log("not root: the connection as another user is not tried")
		return
	}
	const nobody = 65534
	if out, err := dialAs(t, base, sock, nobody, gid); err != nil {
		t.Errorf("uid %d in the socket's group %d could not use the socket: %v\n%s", nobody, gid, err, out)
	}
	if out, err := dialAs(t, base, sock, nobody, nobody); err == nil {
		t.Errorf("uid %d outside the socket's group could use the socket\n%s", nobody, out)
	}
}

// dialAs runs this test binary as uid:gid (no other groups) to read the
// till's status through the socket, the way kassectl status does.
func dialAs(t *testing.T, base, sock string, uid, gid uint32) ([]byte, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "dial.test")
	if _, err := os.Stat(bin); err != nil {
		copyFile(t, self, bin, 0o755)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run", "^TestHelperDial$")
	cmd.Env = append(os.Environ(), "KASSE_TEST_DIAL="+sock)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}}
	return cmd.CombinedOutput()
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHelperDial is dialAs's other half: it runs only under dialAs.
func TestHelperDial(t *testing.T) {
	sock := os.Getenv("KASSE_TEST_DIAL")
	if sock == "" {
		t.Skip("run by TestControlSocketReachableByItsGroup")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := control.NewClient(sock).Status(ctx); err != nil {
		t.Fatal(err)
	}
}
