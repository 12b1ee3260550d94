package main

// These tests run the three real binaries as a shop would: vippssim, kassed
// --sim, and kassectl, checking exit codes and one-line errors.

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kasse/cmd/internal/config"
)

type binaries struct{ kassed, kassectl, vippssim string }

func build(t testing.TB) binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("builds binaries")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "kasse/cmd/kassed", "kasse/cmd/kassectl", "kasse/cmd/vippssim")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return binaries{filepath.Join(dir, "kassed"), filepath.Join(dir, "kassectl"), filepath.Join(dir, "vippssim")}
}

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

const clientID = "0f5b6a4e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"

// shop writes a config and secrets file for kassed against addr.
func shop(t testing.TB, addr string, secretsMode os.FileMode, msn string) (cfg, data string) {
	t.Helper()
	return shopAs(t, addr, secretsMode, msn, config.Store{Prefix: "BERGEN", Lane: "7", Name: "Butikken Bergen", OrgNumber: "987654325"})
}

// shopAs is shop with the register st.
func shopAs(t testing.TB, addr string, secretsMode os.FileMode, msn string, st config.Store) (cfg, data string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	c, err := config.WriteFiles(dir, config.Config{DataDir: data,
		Vipps: config.Vipps{BaseURL: "http://" + addr, MSN: msn},
		Store: st,
	}, config.Secrets{ClientID: clientID, ClientSecret: "s3cret-value", SubscriptionKey: "sub-key"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "secrets.toml"), secretsMode); err != nil {
		t.Fatal(err)
	}
	cfg = c
	return cfg, data
}

func start(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return cmd
}

func ctl(t testing.TB, bin, data string, args ...string) (string, error) {
	t.Helper()
	if data != "" {
		args = append([]string{"--data", data}, args...)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func eventually(t testing.TB, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestShopWithRealProcesses(t *testing.T) {
	bin := build(t)
	addr := freePort(t)
	start(t, bin.vippssim, "--listen", addr, "--msn", "123456", "--client-id", clientID,
		"--client-secret", "s3cret-value", "--subscription-key", "sub-key")
	cfg, data := shop(t, addr, 0o600, "123456")
	start(t, bin.kassed, "--config", cfg, "--sim")
	eventually(t, "kassed's control socket", func() bool {
		_, err := ctl(t, bin.kassectl, data, "status")
		return err == nil
	})

	// A wrong key name: exit 1, one line, nothing pressed.
	out, err := ctl(t, bin.kassectl, data, "key", "1", "bogus")
	if err == nil || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, `unknown key "bogus"`) {
		t.Fatalf("kassectl key bogus: err %v, output %q; want exit 1 and one line", err, out)
	}

	if out, err := ctl(t, bin.kassectl, data, "key", "1", "2", "5", "0", "0", "pay"); err != nil {
		t.Fatalf("kassectl key: %v\n%s", err, out)
	}
	var st struct{ State, Screen, Reference, SaleState string }
	eventually(t, "the QR screen", func() bool {
		out, err := ctl(t, bin.kassectl, data, "status", "--json")
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && st.Screen == "qr"
	})
	if !strings.HasPrefix(st.Reference, "BERGEN-7-") {
		t.Fatalf("reference %q does not carry the store and lane", st.Reference)
	}
	shot := filepath.Join(t.TempDir(), "screen.png")
	if out, err := ctl(t, bin.kassectl, data, "screen", "--png", shot); err != nil {
		t.Fatalf("kassectl screen: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 240 || img.Bounds().Dy() != 320 {
		t.Fatalf("screen.png: %v, bounds %v; want a 240×320 PNG", err, img)
	}

	resp, err := http.Post("http://"+addr+"/vippssim/payments/"+st.Reference+"/approve", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, "the sale in the journal as captured and printed", func() bool {
		out, err := ctl(t, bin.kassectl, data, "journal", "--json")
		var rows []struct {
			Type, Reference, State, Amount string
			Printed                        bool
		}
		if err != nil || json.Unmarshal([]byte(out), &rows) != nil {
			return false
		}
		return len(rows) == 1 && rows[0].Type == "sale" && rows[0].Reference == st.Reference && rows[0].State == "captured" &&
			rows[0].Printed && rows[0].Amount == "125.00"
	})
	receipt, err := os.ReadFile(filepath.Join(data, "receipt.escpos"))
	if err != nil || !bytes.Contains(receipt, []byte("125,00")) || !bytes.Contains(receipt, []byte(st.Reference)) {
		t.Fatalf("receipt file: %v; want the amount and reference in it", err)
	}
	// A reprint says KOPI; the original stays the only original.
	if out, err := ctl(t, bin.kassectl, data, "reprint", st.Reference); err != nil {
		t.Fatalf("kassectl reprint: %v\n%s", err, out)
	}
	eventually(t, "the copy", func() bool {
		b, _ := os.ReadFile(filepath.Join(data, "receipt.escpos"))
		return bytes.Count(b, []byte(st.Reference)) >= 4 // text and barcode, twice
	})
	if out, _ := ctl(t, bin.kassectl, "", "receipt", filepath.Join(data, "receipt.escpos")); strings.Count(out, "KOPI") != 2 {
		t.Fatalf("want KOPI at the top and bottom of the reprint only, got:\n%s", out)
	}
	// kassasystemforskriften § 2-6 (4): one copy per sale.
	if out, err := ctl(t, bin.kassectl, data, "reprint", st.Reference); err == nil || !strings.Contains(out, "one copy") {
		t.Fatalf("a second copy: %v\n%s", err, out)
	}
	if out, err := ctl(t, bin.kassectl, data, "reprint", "BERGEN-7-zzzz-99"); err == nil || !strings.Contains(out, "not found") {
		t.Fatalf("reprint of an unknown sale: err %v, %q", err, out)
	}
	// The sale log for distance selling, then archived and still readable.
	out, err = ctl(t, bin.kassectl, data, "journal", "--format", "csv", "--store", "BERGEN")
	if err != nil || !strings.HasPrefix(out, "time,") || !strings.Contains(out, st.Reference) || !strings.Contains(out, "125.00") {
		t.Fatalf("journal --format csv: %v\n%s", err, out)
	}
	if out, _ := ctl(t, bin.kassectl, data, "journal", "--format", "csv", "--store", "OTHER1"); strings.Contains(out, st.Reference) {
		t.Fatalf("journal --store OTHER1 shows a BERGEN sale:\n%s", out)
	}
	tomorrow := time.Now().Add(24 * time.Hour).Format("2006-01-02")
	if out, err := ctl(t, bin.kassectl, data, "journal", "archive", "--before", tomorrow); err != nil || !strings.Contains(out, "archived 1 sales") {
		t.Fatalf("journal archive: %v\n%s", err, out)
	}
	out, err = ctl(t, bin.kassectl, data, "journal", "--json")
	if err != nil || !strings.Contains(out, st.Reference) {
		t.Fatalf("archived sale not in kassectl journal: %v\n%s", err, out)
	}
	out, err = ctl(t, bin.kassectl, data, "journal", "--format", "csv")
	if err != nil || strings.Count(out, "time,") != 1 || !strings.Contains(out, st.Reference) {
		t.Fatalf("journal csv over the archive: %v\n%s", err, out)
	}

	// Secrets never reach the status, journal or log.
	for _, args := range [][]string{{"status", "--json"}, {"journal", "--json"}} {
		out, _ := ctl(t, bin.kassectl, data, args...)
		if strings.Contains(out, "s3cret-value") || strings.Contains(out, "sub-key") {
			t.Fatalf("kassectl %v shows a secret", args)
		}
	}
}

func TestKassedRefusesBadSetup(t *testing.T) {
	bin := build(t)
	addr := freePort(t)
	for _, c := range []struct {
		name    string
		mode    os.FileMode
		msn     string
		cfgMode os.FileMode
		want    string
	}{
		{"world-readable secrets", 0o644, "123456", 0o644, "chmod 600"},
		{"group-readable secrets", 0o640, "123456", 0o644, "chmod 600"},
		{"config without MSN", 0o600, "", 0o644, "vipps.msn is missing"},
		{"malformed MSN", 0o600, "12ab", 0o644, "vipps.msn"},
		{"world-writable config", 0o600, "123456", 0o666, "chmod 644"},
		{"group-writable config", 0o600, "123456", 0o664, "chmod 644"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, data := shop(t, addr, c.mode, c.msn)
			if err := os.Chmod(cfg, c.cfgMode); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin.kassed, "--config", cfg, "--sim").CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), c.want) {
				t.Fatalf("kassed: err %v, output %q; want a non-zero exit mentioning %q", err, out, c.want)
			}
			if strings.Contains(string(out), "s3cret-value") || strings.Contains(string(out), "panic") {
				t.Fatalf("kassed output leaks a secret or panics: %q", out)
			}
			if _, err := os.Stat(filepath.Join(data, "kasse.db")); err == nil {
				t.Fatalf("kassed created a database despite the bad setup")
			}
		})
	}
	// kassectl without a running kassed: exit 1 and a hint.
	out, err := exec.Command(bin.kassectl, "--data", t.TempDir(), "status").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is it running") {
		t.Fatalf("kassectl status without kassed: err %v, output %q", err, out)
	}
}
