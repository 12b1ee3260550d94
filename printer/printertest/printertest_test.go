package printertest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"kasse/printer/escpos"
	"kasse/printer/printertest"
)

// A plain open of the slave leaves its termios alone, so this shows NewPTY's
// raw mode: no "\n" to "\r\n" on the way out, no translation on the way back.
func TestRawBothWays(t *testing.T) {
	fake := printertest.NewPTY(t)
	f, err := os.OpenFile(fake.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := append([]byte("a\nb\r"), escpos.StatusRequest(escpos.StatusPaper)...)
	if _, err := f.Write(out); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fake.WaitFor(ctx, func(b []byte) bool { return len(b) >= len(out) }); err != nil {
		t.Fatal(err)
	}
	if got := fake.Bytes(); string(got) != string(out) {
		t.Fatalf("master got % x, want % x", got, out)
	}
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	if b[0] != escpos.PaperOK.Byte() {
		t.Fatalf("status answer %#02x, want %#02x", b[0], escpos.PaperOK.Byte())
	}
}

func TestWaitForEnds(t *testing.T) {
	fake, err := printertest.Open()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := fake.WaitFor(ctx, func([]byte) bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor with a cancelled context = %v", err)
	}
	if err := fake.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fake.WaitFor(context.Background(), func([]byte) bool { return false }); err == nil {
		t.Error("WaitFor on a closed pty returned nil")
	}
}

// The emulator answers as the ESC/POS reference says: real-time requests at
// once even while stopped, GS r only once the data before it is printed,
// and an ASB packet on GS a and at every change.
func TestEmulatorAnswers(t *testing.T) {
	fake := printertest.NewPTY(t)
	f, err := os.OpenFile(fake.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := func(n int) []byte {
		t.Helper()
		b := make([]byte, n)
		if _, err := io.ReadFull(f, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	f.Write(escpos.EnableASB(escpos.ASBAll))
	if st, err := escpos.ParseASB([4]byte(read(4))); err != nil || !st.Ready() {
		t.Fatalf("first ASB: %+v %v", st, err)
	}
	fake.SetCover(true)
	if st, err := escpos.ParseASB([4]byte(read(4))); err != nil || !st.CoverOpen {
		t.Fatalf("ASB after opening the cover: %+v %v", st, err)
	}
	// Stopped: text waits, a real-time request is answered, GS r is not.
	f.Write([]byte("abc\n"))
	f.Write(escpos.ProcessedRequest())
	f.Write(escpos.StatusRequest(escpos.StatusOffline))
	var st escpos.State
	if err := st.ApplyRealTime(escpos.StatusOffline, read(1)[0]); err != nil || !st.CoverOpen {
		t.Fatalf("DLE EOT 2 while stopped: %+v %v", st, err)
	}
	if len(fake.Printed()) != 3 { // GS a only
		t.Fatalf("printed % x while the cover is open", fake.Printed())
	}
	fake.SetCover(false)
	b := read(5) // the ASB packet of the change, then the GS r answer
	if !escpos.IsASBHead(b[0]) || !escpos.IsTail(b[4]) {
		t.Fatalf("after closing the cover: % x", b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fake.WaitFor(ctx, func(b []byte) bool { return contains(b, "abc\n") }); err != nil {
		t.Fatal(err)
	}
}

func TestUnplugReplugKeepsThePath(t *testing.T) {
	fake := printertest.NewPTY(t)
	path := fake.Path()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fake.Unplug()
	if _, err := f.Write([]byte("x")); err == nil {
		t.Error("a write to an unplugged printer succeeded")
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the device is still there while unplugged")
	}
	if err := fake.Replug(); err != nil {
		t.Fatal(err)
	}
	g, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	g.Write([]byte("y\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fake.WaitFor(ctx, func(b []byte) bool { return contains(b, "y\n") }); err != nil {
		t.Fatal(err)
	}
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
