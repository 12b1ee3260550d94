package printertest_test

import (
	"context"
	"errors"
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
