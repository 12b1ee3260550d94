package printer_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kasse/printer"
	"kasse/printer/escpos"
	"kasse/printer/printertest"
	"kasse/printer/receipt"
)

func sale() receipt.Receipt {
	return receipt.Receipt{
		StoreName:     "Kiosken på hjørnet",
		StoreLines:    []string{"Org.nr. 987 654 321 MVA"},
		Store:         "OSLO1",
		Lane:          "2",
		Reference:     "OSLO1-2-000042",
		Time:          time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC),
		Currency:      "NOK",
		Total:         12500,
		PaymentMethod: "Vipps MobilePay",
	}
}

func openPTY(t *testing.T) (*printertest.PTY, io.ReadWriteCloser) {
	t.Helper()
	fake := printertest.NewPTY(t)
	port, err := printer.OpenSerial(fake.Path(), 19200)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	return fake, port
}

func waitCuts(t *testing.T, fake *printertest.PTY, n int) escpos.Document {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	doc, err := fake.WaitCuts(ctx, n)
	if err != nil {
		t.Fatalf("%v\nreceived % x", err, fake.Bytes())
	}
	return doc
}

func TestPrintThroughSerialPTY(t *testing.T) {
	fake, port := openPTY(t)
	p := printer.New(port, receipt.Options{Columns: 32})
	r := sale()
	if err := p.Print(r); err != nil {
		t.Fatal(err)
	}
	r.Copy = true
	if err := p.Print(r); err != nil {
		t.Fatal(err)
	}
	doc := waitCuts(t, fake, 2)
	want, err := receipt.Encode(sale(), receipt.Options{Columns: 32})
	if err != nil {
		t.Fatal(err)
	}
	if got := fake.Bytes()[:len(want)]; string(got) != string(want) {
		t.Fatalf("the pty changed the bytes:\ngot  % x\nwant % x", got, want)
	}
	for _, s := range []string{"Kiosken på hjørnet", "125,00 kr", "OSLO1-2-000042", "COPY"} {
		if !doc.Contains(s) {
			t.Errorf("printed receipts lack %q:\n%s", s, doc.Render(32))
		}
	}
	if len(doc.Barcodes) != 2 || doc.Barcodes[0].Data != r.Reference || doc.Barcodes[1].Data != r.Reference {
		t.Errorf("barcodes = %+v", doc.Barcodes)
	}
	copies := 0
	for _, l := range doc.Lines[:doc.Cuts[0]] {
		if strings.Contains(l.Text, "COPY") {
			t.Errorf("the original says COPY: %q", l.Text)
		}
	}
	for _, l := range doc.Lines[doc.Cuts[0]:] {
		if l.Text == "COPY" {
			copies++
		}
	}
	if copies != 2 {
		t.Errorf("the reprint says COPY %d times, want top and bottom", copies)
	}
}

func TestPaperStatusThroughPTY(t *testing.T) {
	fake, port := openPTY(t)
	p := printer.New(port, receipt.Options{}, printer.WithPaperCheck(2*time.Second))
	for _, s := range []escpos.PaperStatus{escpos.PaperOK, escpos.PaperNearEnd, escpos.PaperOut} {
		fake.SetPaper(s)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got, err := p.PaperStatus(ctx, port)
		cancel()
		if err != nil || got != s {
			t.Errorf("PaperStatus = %v, %v; want %v", got, err, s)
		}
	}
}

func TestPrintRefusesWhenOutOfPaper(t *testing.T) {
	fake, port := openPTY(t)
	p := printer.New(port, receipt.Options{}, printer.WithPaperCheck(2*time.Second))

	fake.SetPaper(escpos.PaperOut)
	err := p.Print(sale())
	if !errors.Is(err, printer.ErrOutOfPaper) || !strings.Contains(err.Error(), fake.Path()) || !strings.Contains(err.Error(), "load a new roll") {
		t.Fatalf("Print out of paper = %v, want ErrOutOfPaper naming the port and the fix", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fake.WaitFor(ctx, func(b []byte) bool { return len(b) >= 3 }); err != nil {
		t.Fatal(err)
	}
	if got := fake.Bytes(); string(got) != string(escpos.StatusRequest(escpos.StatusPaper)) {
		t.Fatalf("out of paper, the printer still got % x", got)
	}

	fake.SetPaper(escpos.PaperNearEnd)
	if err := p.Print(sale()); err != nil {
		t.Fatalf("near end must still print: %v", err)
	}
	doc := waitCuts(t, fake, 1)
	if doc.StatusRequests != 2 || !doc.Contains("125,00 kr") {
		t.Errorf("status requests %d, receipt:\n%s", doc.StatusRequests, doc.Render(42))
	}
}

func TestPrintWhenPrinterDoesNotAnswer(t *testing.T) {
	fake, port := openPTY(t)
	fake.SetMute(true)
	p := printer.New(port, receipt.Options{}, printer.WithPaperCheck(50*time.Millisecond))
	if err := p.Print(sale()); !errors.Is(err, printer.ErrNoAnswer) {
		t.Fatalf("Print to a mute printer = %v, want ErrNoAnswer", err)
	}
}

func TestPaperCheckNeedsAReadablePort(t *testing.T) {
	var sink strings.Builder
	p := printer.New(&sink, receipt.Options{}, printer.WithPaperCheck(time.Second))
	if err := p.Print(sale()); err == nil || !strings.Contains(err.Error(), "paper_check") {
		t.Fatalf("Print = %v, want an error about the write-only port", err)
	}
	if sink.Len() != 0 {
		t.Errorf("wrote %d bytes despite the error", sink.Len())
	}
}

// shortWriter takes at most limit bytes in total, then fails or stalls.
type shortWriter struct {
	limit, n int
	err      error
}

func (w *shortWriter) Write(b []byte) (int, error) {
	room := w.limit - w.n
	if room <= 0 {
		return 0, w.err
	}
	n := min(room, len(b), 16) // also exercise the retry of partial writes
	w.n += n
	return n, nil
}

func TestPrintWriteErrors(t *testing.T) {
	unplugged := errors.New("input/output error")
	for _, w := range []*shortWriter{{limit: 100, err: unplugged}, {limit: 100}} {
		err := printer.New(w, receipt.Options{}).Print(sale())
		want := w.err
		if want == nil {
			want = io.ErrShortWrite
		}
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "took 100 of") || !strings.Contains(err.Error(), "stays queued") {
			t.Errorf("Print = %v, want %v after 100 bytes", err, want)
		}
	}
	w := &shortWriter{limit: 1 << 20}
	if err := printer.New(w, receipt.Options{}).Print(sale()); err != nil {
		t.Fatalf("partial writes: %v", err)
	}
	if want, _ := receipt.Encode(sale(), receipt.Options{}); w.n != len(want) {
		t.Errorf("wrote %d bytes, want %d", w.n, len(want))
	}
}

func TestPrintInvalidReceipt(t *testing.T) {
	var sink strings.Builder
	r := sale()
	r.Reference = ""
	if err := printer.New(&sink, receipt.Options{}).Print(r); !errors.Is(err, receipt.ErrInvalid) {
		t.Fatalf("Print = %v, want receipt.ErrInvalid", err)
	}
}

func TestOpenSerialErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttyUSB9")
	_, err := printer.OpenSerial(path, 9600)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "printer.port") {
		t.Fatalf("OpenSerial(missing) = %v", err)
	}
	if _, err := printer.OpenSerial(path, 0); err == nil || !strings.Contains(err.Error(), "printer.baud") {
		t.Fatalf("OpenSerial(baud 0) = %v", err)
	}
}

func TestOpenFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "receipts.escpos")
	for range 2 {
		f, err := printer.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := printer.New(f, receipt.Options{}).Print(sale()); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := escpos.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Cuts) != 2 {
		t.Errorf("file holds %d receipts, want 2", len(doc.Cuts))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("mode %v is wider than 0640", fi.Mode().Perm())
	}
	if _, err := printer.OpenFile(filepath.Join(path, "sub")); err == nil || !strings.Contains(err.Error(), "printer.file") {
		t.Errorf("OpenFile under a file = %v", err)
	}
}
