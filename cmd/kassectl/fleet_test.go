package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/buildroot/bundletest"
)

// fakeRAUC writes a rauc stand-in that answers info from infoJSON (or fails
// when it is empty: a bad signature), records every other call in a log,
// and fails install when failInstall. It returns the script and the log.
func fakeRAUC(t *testing.T, infoJSON string, failInstall bool) (script, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "calls")
	fail := "0"
	if failInstall {
		fail = "1"
	}
	body := `#!/bin/sh
case "$1" in
info)
  [ -n '` + infoJSON + `' ] || { echo "signature verification failed" >&2; exit 1; }
  echo '` + infoJSON + `';;
install)
  echo "$@" >> ` + log + `
  [ ` + fail + ` = 0 ] || { echo "no space left on slot B" >&2; exit 1; };;
*)
  echo "$@" >> ` + log + `
  echo '{"compatible":"kasse-test","booted":"A","boot_primary":"rootfs.0","slots":[{"rootfs.0":{"state":"booted","boot_status":"good"}},{"rootfs.1":{"state":"inactive","boot_status":"bad"}}]}';;
esac
`
	script = filepath.Join(dir, "rauc")
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, log
}

func calls(t *testing.T, log string) string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// kassectlEnv runs kassectl with extra environment.
func kassectlEnv(t *testing.T, bin, data string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), processExit(err)
}

// An update waits for the sale in flight, locks the till, installs and
// reboots; a busy till past --wait is exit 3 with nothing installed; a
// failed install unlocks the till; a bundle the keyring refuses changes
// nothing.
func TestUpdateInstall(t *testing.T) {
	r := newRig(t)
	r.kassed()
	info := `{"compatible":"kasse-test","version":"1.4.0"}`
	rauc, log := fakeRAUC(t, info, false)
	rebootLog := filepath.Join(t.TempDir(), "reboot")
	env := []string{"KASSE_RAUC=" + rauc, "KASSE_REBOOT=touch " + rebootLog}
	bundle := filepath.Join(t.TempDir(), "kasse-1.4.0.raucb")
	os.WriteFile(bundle, []byte("bundle"), 0o644)

	// A sale in flight: the update waits, then gives up with exit 3.
	ctl(t, r.bin.kassectl, r.data, "key", "5", "0", "0", "0", "pay")
	eventually(t, "the QR", func() bool { return r.status().Screen == "qr" })
	out, code := kassectlEnv(t, r.bin.kassectl, r.data, env, "update", "install", "--wait", "3s", bundle)
	if code != exitBusy || !strings.Contains(out, "busy") || calls(t, log) != "" {
		t.Fatalf("update during a sale: exit %d, %q, rauc calls %q; want 3 and nothing installed", code, out, calls(t, log))
	}
	if st := r.status(); st.State == "updating" {
		t.Fatal("a busy update left the till locked")
	}
	// It waits while the sale goes on, and goes ahead once it is over.
	done := make(chan struct{})
	var waitedOut string
	go func() {
		defer close(done)
		waitedOut, code = kassectlEnv(t, r.bin.kassectl, r.data, env, "update", "install", "--wait", "1m", "--json", bundle)
	}()
	time.Sleep(3 * time.Second)
	if calls(t, log) != "" {
		t.Fatal("the update installed while the sale was on")
	}
	ctl(t, r.bin.kassectl, r.data, "key", "cancel")
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		t.Fatal("the update did not go ahead after the sale ended")
	}
	if code != exitOK || !strings.Contains(waitedOut, `"installed": true`) || !strings.Contains(waitedOut, `"rebooting": true`) {
		t.Fatalf("update after the sale: exit %d, %s", code, waitedOut)
	}
	if c := calls(t, log); !strings.Contains(c, "install "+bundle) {
		t.Fatalf("rauc calls %q, want an install of the bundle", c)
	}
	if _, err := os.Stat(rebootLog); err != nil {
		t.Fatal("no reboot after the install")
	}
	if st := r.status(); st.State != "updating" || st.Screen != "waiting" {
		t.Fatalf("till after the install: %+v, want locked until the reboot", st)
	}
	out, _ = ctl(t, r.bin.kassectl, r.data, "key", "1")
	if !strings.Contains(out, "being updated") {
		t.Fatalf("a key on the locked till: %q", out)
	}
}

func TestUpdateInstallFailures(t *testing.T) {
	r := newRig(t)
	r.kassed()
	bundle := filepath.Join(t.TempDir(), "kasse.raucb")
	os.WriteFile(bundle, []byte("bundle"), 0o644)

	// A bundle the keyring refuses: nothing locked, nothing installed.
	rauc, log := fakeRAUC(t, "", false)
	out, code := kassectlEnv(t, r.bin.kassectl, r.data, []string{"KASSE_RAUC=" + rauc}, "update", "install", bundle)
	if code != exitFailed || !strings.Contains(out, "not signed") || calls(t, log) != "" || r.status().State != "idle" {
		t.Fatalf("a refused bundle: exit %d, %q, calls %q, till %s", code, out, calls(t, log), r.status().State)
	}
	// An install that fails: the till takes sales again.
	rauc, log = fakeRAUC(t, `{"compatible":"kasse-test","version":"1.4.1"}`, true)
	out, code = kassectlEnv(t, r.bin.kassectl, r.data, []string{"KASSE_RAUC=" + rauc, "KASSE_REBOOT=false"}, "update", "install", bundle)
	if code != exitFailed || !strings.Contains(out, "no space left") || r.status().State != "idle" {
		t.Fatalf("a failed install: exit %d, %q, till %s; want 1 and the till unlocked", code, out, r.status().State)
	}
	// Usage errors are exit 2.
	for _, args := range [][]string{{"update"}, {"update", "install"}, {"update", "install", "a", "b"}, {"mark-good", "x"}, {"nonsense"}, {"--bogus", "status"}} {
		if out, code := kassectlEnv(t, r.bin.kassectl, r.data, nil, args...); code != exitUsage {
			t.Errorf("kassectl %v: exit %d (%q), want 2", args, code, out)
		}
	}
}

// mark-good marks the slot only when kassed is healthy.
func TestMarkGood(t *testing.T) {
	r := newRig(t)
	rauc, log := fakeRAUC(t, "", false)
	env := []string{"KASSE_RAUC=" + rauc}
	out, code := kassectlEnv(t, r.bin.kassectl, r.data, env, "mark-good", "--wait", "1s")
	if code != exitFailed || !strings.Contains(out, "NOT marked good") || calls(t, log) != "" {
		t.Fatalf("mark-good without kassed: exit %d, %q, calls %q", code, out, calls(t, log))
	}
	r.kassed()
	// One status call says what a fleet manager needs.
	out, code = kassectlEnv(t, r.bin.kassectl, r.data, nil, "status", "--json")
	for _, want := range []string{`"health": "ok"`, `"clockSynced": true`, `"version": "`, `"uptimeSeconds": `, `"online": true`, `"display": "sim"`} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("status --json: exit %d, %s lacks %s", code, out, want)
		}
	}
	out, code = kassectlEnv(t, r.bin.kassectl, r.data, env, "mark-good", "--json")
	if code != exitOK || !strings.Contains(calls(t, log), "status mark-good") {
		t.Fatalf("mark-good with kassed healthy: exit %d, %q, calls %q", code, out, calls(t, log))
	}
	out, code = kassectlEnv(t, r.bin.kassectl, r.data, env, "update", "status")
	if code != exitOK || !strings.Contains(out, "booted A") || !strings.Contains(out, "rootfs.1: inactive, boot status bad") {
		t.Fatalf("update status: exit %d, %q", code, out)
	}
}

// config check: ok for a good setup; a secrets file others can read is
// refused with what to do, exit 1.
func TestConfigCheck(t *testing.T) {
	bin := build(t)
	cfg, data := shop(t, "127.0.0.1:1", 0o600, "123456")
	out, code := kassectlEnv(t, bin.kassectl, data, nil, "config", "check", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "ok (store BERGEN lane 7") {
		t.Fatalf("config check of a good setup: exit %d, %q", code, out)
	}
	if strings.Contains(out, "s3cret-value") {
		t.Fatal("config check printed a secret")
	}
	os.Chmod(filepath.Join(filepath.Dir(cfg), "secrets.toml"), 0o644)
	out, code = kassectlEnv(t, bin.kassectl, data, nil, "config", "check", "--config", cfg, "--json")
	if code != exitFailed || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "chmod") || strings.Contains(out, "s3cret-value") {
		t.Fatalf("config check of world-readable secrets: exit %d, %q", code, out)
	}
}

// A real RAUC bundle (Debian's rauc, a throwaway key): kassectl verifies it
// with the real `rauc info` against the keyring; only RAUC's install step is
// a recording stand-in, since nothing can be installed here.
func TestUpdateInstallRealBundle(t *testing.T) {
	bundletest.Tools(t)
	realRAUC, err := exec.LookPath("rauc")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bundle, keyring := bundletest.Bundle(t, dir)
	wrong, _ := bundletest.Cert(t, dir, "someone-else")
	log := filepath.Join(dir, "calls")
	script := filepath.Join(dir, "rauc")
	os.WriteFile(script, []byte(`#!/bin/sh
if [ "$1" = install ]; then echo "$@" >> `+log+`; exit 0; fi
exec `+realRAUC+` "$@"
`), 0o755)
	r := newRig(t)
	r.kassed()
	env := []string{"KASSE_RAUC=" + script, "KASSE_REBOOT=true"}
	out, code := kassectlEnv(t, r.bin.kassectl, r.data, env, "update", "install", "--keyring", wrong, bundle)
	if code != exitFailed || !strings.Contains(out, "not signed") || calls(t, log) != "" || r.status().State != "idle" {
		t.Fatalf("a bundle for another keyring: exit %d, %q, calls %q", code, out, calls(t, log))
	}
	out, code = kassectlEnv(t, r.bin.kassectl, r.data, env, "update", "install", "--keyring", keyring, "--json", bundle)
	if code != exitOK || !strings.Contains(out, `"version": "`+bundletest.Version+`"`) || !strings.Contains(out, `"compatible": "`+bundletest.Compatible+`"`) {
		t.Fatalf("the right keyring: exit %d, %s", code, out)
	}
	if c := calls(t, log); !strings.Contains(c, "install "+bundle) {
		t.Fatalf("install calls %q", c)
	}
}
