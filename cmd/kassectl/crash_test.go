package main

// Crash tests: kassed is killed with SIGKILL at the moments that matter and
// started again; the payment must end where the till decided, with one
// original receipt.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"kasse/printer/escpos"
)

type rig struct {
	t         *testing.T
	bin       binaries
	addr      string
	cfg, data string
}

func newRig(t *testing.T) *rig {
	bin := build(t)
	addr := freePort(t)
	start(t, bin.vippssim, "--listen", addr, "--msn", "123456", "--client-id", clientID,
		"--client-secret", "s3cret-value", "--subscription-key", "sub-key")
	cfg, data := shop(t, addr, 0o600, "123456")
	return &rig{t: t, bin: bin, addr: addr, cfg: cfg, data: data}
}

// kassed starts kassed with extra environment and returns a channel closed
// when it exits.
func (r *rig) kassed(env ...string) (*exec.Cmd, chan struct{}) {
	cmd := exec.Command(r.bin.kassed, "--config", r.cfg, "--sim")
	cmd.Env = append(os.Environ(), env...)
	out := &strings.Builder{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	r.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
		if r.t.Failed() {
			r.t.Logf("kassed:\n%s", out.String())
		}
	})
	eventually(r.t, "kassed to start", func() bool {
		o, err := ctl(r.t, r.bin.kassectl, r.data, "status", "--json")
		return err == nil && strings.Contains(o, `"state": "idle"`)
	})
	return cmd, done
}

type status struct{ State, Screen, Reference, SaleState string }

func (r *rig) status() status {
	var st status
	out, err := ctl(r.t, r.bin.kassectl, r.data, "status", "--json")
	if err == nil {
		json.Unmarshal([]byte(out), &st)
	}
	return st
}

func (r *rig) simPayment(ref string) (state string, captured, cancelled int64) {
	resp, err := http.Get("http://" + r.addr + "/vippssim/payments")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var ps []struct {
		Reference, State string
		Aggregate        map[string]struct{ Value int64 }
	}
	json.NewDecoder(resp.Body).Decode(&ps)
	for _, p := range ps {
		if p.Reference == ref {
			return p.State, p.Aggregate["capturedAmount"].Value, p.Aggregate["cancelledAmount"].Value
		}
	}
	return "", 0, 0
}

func (r *rig) approve(ref string) {
	resp, err := http.Post("http://"+r.addr+"/vippssim/payments/"+ref+"/approve", "", nil)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
}

// originals counts original and copy receipts for ref in the printer file.
func (r *rig) receipts(ref string) (originals, copies int) {
	raw, _ := os.ReadFile(filepath.Join(r.data, "receipt.escpos"))
	doc, err := escpos.Decode(raw)
	if err != nil {
		r.t.Fatalf("printer output: %v", err)
	}
	start := 0
	for _, cut := range doc.Cuts {
		isCopy, mine := false, false
		for _, l := range doc.Lines[start:cut] {
			isCopy = isCopy || strings.Contains(l.Text, "KOPI")
		}
		for _, b := range doc.Barcodes {
			mine = mine || (b.AfterLine > start && b.AfterLine <= cut && b.Data == ref) // a receipt starts with its header, never a barcode
		}
		if mine && isCopy {
			copies++
		} else if mine {
			originals++
		}
		start = cut
	}
	return originals, copies
}

func (r *rig) journalState(ref string) (state string, printed bool) {
	out, err := ctl(r.t, r.bin.kassectl, r.data, "journal", "--json")
	if err != nil {
		return "", false
	}
	var sales []struct {
		Reference, State string
		Printed          bool
	}
	json.Unmarshal([]byte(out), &sales)
	for _, s := range sales {
		if s.Reference == ref {
			return s.State, s.Printed
		}
	}
	return "", false
}

// approvedUntilCrash keys a sale on a kassed armed with one crash point,
// approves it as the shopper, and waits for kassed to die there.
func (r *rig) approvedUntilCrash(point string, keys ...string) string {
	_, died := r.kassed("KASSE_CRASHPOINTS=" + point)
	ctl(r.t, r.bin.kassectl, r.data, append([]string{"key"}, keys...)...)
	eventually(r.t, "the QR", func() bool { return r.status().Screen == "qr" })
	ref := r.status().Reference
	r.approve(ref)
	select {
	case <-died:
	case <-time.After(20 * time.Second):
		r.t.Fatalf("kassed did not hit the crash point %s", point)
	}
	return ref
}

// The power goes between the capture intent's commit and the request: after
// the restart the capture goes out once, and the receipt prints once.
func TestCrashBeforeCapture(t *testing.T) {
	r := newRig(t)
	ref := r.approvedUntilCrash("sent:capture=1", "9", "9", "0", "0", "pay")
	if _, captured, _ := r.simPayment(ref); captured != 0 {
		t.Fatalf("captured %d before the crash point", captured)
	}
	r.kassed()
	eventually(t, "the sale captured and printed", func() bool {
		st, printed := r.journalState(ref)
		return st == "captured" && printed
	})
	if state, captured, _ := r.simPayment(ref); state != "AUTHORIZED" || captured != 9900 {
		t.Fatalf("Vipps has %s with %d captured, want 9900 captured", state, captured)
	}
	if o, c := r.receipts(ref); o != 1 || c != 0 {
		t.Fatalf("%d originals and %d copies, want one original", o, c)
	}
}

// The power goes while the QR is shown: the sale was abandoned, so after
// the restart its payment is cancelled, not left open.
func TestCrashWhileWaiting(t *testing.T) {
	r := newRig(t)
	cmd, died := r.kassed()
	ctl(t, r.bin.kassectl, r.data, "key", "5", "0", "0", "0", "pay")
	eventually(t, "the QR", func() bool { return r.status().Screen == "qr" })
	ref := r.status().Reference
	cmd.Process.Signal(syscall.SIGKILL)
	<-died
	r.kassed()
	eventually(t, "the abandoned payment cancelled", func() bool {
		st, _ := r.journalState(ref)
		return st == "cancelled"
	})
	if state, captured, _ := r.simPayment(ref); state != "TERMINATED" || captured != 0 {
		t.Fatalf("Vipps has %s with %d captured, want TERMINATED", state, captured)
	}
}

// The power goes after the receipt went to the printer but before it was
// marked printed: the restart prints it again, marked COPY, never a second
// original.
func TestCrashWhilePrinting(t *testing.T) {
	r := newRig(t)
	ref := r.approvedUntilCrash("printing=1", "1", "2", "3", "0", "0", "pay")
	r.kassed()
	eventually(t, "the receipt marked printed", func() bool {
		_, printed := r.journalState(ref)
		return printed
	})
	if o, c := r.receipts(ref); o != 1 || c != 1 {
		t.Fatalf("%d originals and %d copies, want one original and one copy", o, c)
	}
}

// A damaged database stops kassed with what to do, and is left untouched.
func TestDamagedDatabase(t *testing.T) {
	r := newRig(t)
	cmd, died := r.kassed()
	cmd.Process.Signal(syscall.SIGTERM)
	<-died
	db := filepath.Join(r.data, "kasse.db")
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	junk := make([]byte, fi.Size()-2*4096)
	for i := range junk {
		junk[i] = 0xA5
	}
	f.WriteAt(junk, 2*4096) // every page after the two meta pages
	f.Close()
	before, _ := os.ReadFile(db)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, r.bin.kassed, "--config", r.cfg, "--sim").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "damaged") || !strings.Contains(string(out), "kasse.db") {
		t.Fatalf("kassed on a damaged database: err %v, output %q", err, out)
	}
	after, _ := os.ReadFile(db)
	if string(before) != string(after) {
		t.Fatal("kassed changed the damaged database")
	}
}

// The shopper approves while kassed is down: the till never saw the
// approval, so after the restart the reservation is released in full, never
// left open and never taken as done.
func TestApprovedWhileDownIsCancelledInFull(t *testing.T) {
	r := newRig(t)
	cmd, died := r.kassed()
	ctl(t, r.bin.kassectl, r.data, "key", "7", "7", "0", "0", "pay")
	eventually(t, "the QR", func() bool { return r.status().Screen == "qr" })
	ref := r.status().Reference
	cmd.Process.Signal(syscall.SIGKILL)
	<-died
	r.approve(ref)
	r.kassed()
	eventually(t, "the reservation released", func() bool {
		st, _ := r.journalState(ref)
		return st == "cancelled"
	})
	if state, captured, cancelled := r.simPayment(ref); state != "AUTHORIZED" && state != "TERMINATED" || captured != 0 || cancelled != 7700 {
		t.Fatalf("Vipps has %s with %d captured and %d cancelled, want all 7700 cancelled", state, captured, cancelled)
	}
}

// Issue 7, bug 1: kasse.db put back from an older copy. The sales made since
// the copy must never lend their references to new sales: no 409 logged as
// a failure, no old captured payment shown "paid" without an approval, no
// second original receipt.
func TestRestoredBackupNeverReusesReferences(t *testing.T) {
	r := newRig(t)
	db := filepath.Join(r.data, "kasse.db")
	stop := func(cmd *exec.Cmd, died chan struct{}) {
		cmd.Process.Signal(syscall.SIGTERM)
		<-died
	}
	sell := func(keys ...string) string {
		t.Helper()
		ctl(t, r.bin.kassectl, r.data, append([]string{"key"}, keys...)...)
		eventually(t, "the QR", func() bool { st := r.status(); return st.Screen == "qr" || st.State == "done" })
		st := r.status()
		if st.Screen != "qr" {
			t.Fatalf("sale %v: %+v, want its QR", keys, st)
		}
		r.approve(st.Reference)
		eventually(t, "paid", func() bool { return r.status().Screen == "paid" })
		return st.Reference
	}
	cmd, died := r.kassed()
	stop(cmd, died)
	backup, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	cmd, died = r.kassed()
	first := []string{sell("7", "pay"), sell("clear", "8", "pay")}
	stop(cmd, died)
	if err := os.WriteFile(db, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	r.kassed()
	ctl(t, r.bin.kassectl, r.data, "key", "clear", "9", "pay")
	eventually(t, "the QR", func() bool { st := r.status(); return st.Screen == "qr" || st.State == "done" })
	st := r.status()
	if st.Screen != "qr" || st.Reference == first[0] || st.Reference == first[1] {
		t.Fatalf("after the restore: %+v; want a QR under a new reference (not %v)", st, first)
	}
	ctl(t, r.bin.kassectl, r.data, "key", "cancel")
	eventually(t, "the cancel done", func() bool { return r.status().State == "done" })
	again := sell("clear", "8", "pay")
	if again == first[0] || again == first[1] {
		t.Fatalf("the restored register re-used reference %s", again)
	}
	for _, ref := range append(first, again) {
		if o, _ := r.receipts(ref); o != 1 {
			t.Errorf("%d original receipts for %s, want 1", o, ref)
		}
		if state, captured, _ := r.simPayment(ref); state != "AUTHORIZED" || captured == 0 {
			t.Errorf("Vipps has %s with %d captured for %s", state, captured, ref)
		}
	}
}

// The power goes after the receipt was marked sent but before any byte of
// it left: the restart cannot know whether it printed, so it prints it as
// COPY. The shopper gets a receipt; never none, never two originals.
func TestCrashBeforePrinting(t *testing.T) {
	r := newRig(t)
	ref := r.approvedUntilCrash("print:sent=1", "4", "5", "6", "0", "pay")
	r.kassed()
	eventually(t, "the receipt marked printed", func() bool {
		_, printed := r.journalState(ref)
		return printed
	})
	if o, c := r.receipts(ref); o+c != 1 {
		t.Fatalf("%d originals and %d copies, want one receipt", o, c)
	}
}
