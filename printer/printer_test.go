package printer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
		StoreLines:    []string{"Storgata 1, 0155 Oslo"},
		OrgNumber:     "987654325",
		Number:        42,
		Store:         "OSLO1",
		Lane:          "2",
		Reference:     "OSLO1-2-000042",
		Time:          time.Date(2026, 3, 7, 14, 5, 0, 0, time.UTC),
		Currency:      "NOK",
		Total:         12500,
		PaymentMethod: "Vipps MobilePay",
	}
}

// conditions records every condition a printer reports.
type conditions struct {
	mu  sync.Mutex
	all []printer.Condition
	ch  chan printer.Condition
}

func newConditions() *conditions { return &conditions{ch: make(chan printer.Condition, 64)} }

func (c *conditions) notify(x printer.Condition) {
	c.mu.Lock()
	c.all = append(c.all, x)
	c.mu.Unlock()
	select {
	case c.ch <- x:
	default:
	}
}

// wait waits for a condition in state.
func (c *conditions) wait(t *testing.T, p *printer.Printer, state string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for p.Condition().State != state {
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("printer condition %+v, want %s", p.Condition(), state)
		}
	}
}

func openPTY(t *testing.T, cfg printer.Config) (*printertest.PTY, *printer.Printer, *conditions) {
	t.Helper()
	fake := printertest.NewPTY(t)
	conds := newConditions()
	cfg.Notify = conds.notify
	cfg.Name = fake.Path()
	cfg.PaperCheck = true
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	p := printer.New(printer.Serial{Path: fake.Path(), Baud: 19200}.Open, cfg)
	t.Cleanup(func() { p.Close() })
	return fake, p, conds
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

func cuts(t *testing.T, fake *printertest.PTY) int {
	t.Helper()
	doc, err := escpos.Decode(fake.Printed())
	if err != nil {
		t.Fatal(err)
	}
	return len(doc.Cuts)
}

func unsent(err error) bool {
	var pe *printer.Error
	return errors.As(err, &pe) && pe.NothingPrinted()
}

func TestPrintThroughSerialPTY(t *testing.T) {
	fake, p, _ := openPTY(t, printer.Config{Receipt: receipt.Options{Columns: 32}, ASB: true})
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
	if !bytes.Contains(fake.Bytes(), want) {
		t.Fatalf("the pty changed the receipt's bytes:\ngot  % x\nwant % x", fake.Bytes(), want)
	}
	if len(doc.Barcodes) != 2 || doc.Barcodes[0].Data != r.Reference {
		t.Errorf("barcodes = %+v", doc.Barcodes)
	}
	// Before each job DLE EOT 1; after it GS r 1, then DLE EOT 1 and 4.
	if doc.StatusRequests < 2*4 || doc.ASB != escpos.ASBAll {
		t.Errorf("status requests %d, ASB %#x: want at least 8 and GS a 15", doc.StatusRequests, doc.ASB)
	}
	if c := p.Condition(); c.State != printer.StateOK {
		t.Errorf("condition %+v", c)
	}
}

func TestPaperOutThenRefillPrintsOneOriginal(t *testing.T) {
	fake, p, conds := openPTY(t, printer.Config{ASB: true})
	fake.SetPaper(escpos.PaperOut)
	err := p.Print(sale())
	if !errors.Is(err, printer.ErrNotReady) || !unsent(err) || !strings.Contains(err.Error(), "load a new roll") {
		t.Fatalf("Print out of paper = %v, want ErrNotReady, unsent, naming the fix", err)
	}
	conds.wait(t, p, printer.StatePaperOut)
	if bytes.Contains(fake.Bytes(), []byte{escpos.ESC, '@'}) {
		t.Fatalf("out of paper, the printer still got a receipt: % x", fake.Bytes())
	}
	fake.SetPaper(escpos.PaperOK)
	conds.wait(t, p, printer.StateOK) // ASB says so, no job needed
	if err := p.Print(sale()); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
	if n := cuts(t, fake); n != 1 {
		t.Fatalf("%d receipts printed, want 1", n)
	}
}

func TestPaperEndsMidReceiptAndResumes(t *testing.T) {
	fake, p, conds := openPTY(t, printer.Config{ASB: true, Poll: 50 * time.Millisecond})
	fake.RunOutAfter(120) // in the middle of the receipt
	errc := make(chan error, 1)
	go func() { errc <- p.Print(sale()) }()
	conds.wait(t, p, printer.StatePaperOut)
	select {
	case err := <-errc:
		t.Fatalf("Print returned %v while the receipt is stuck in the printer", err)
	case <-time.After(100 * time.Millisecond):
	}
	fake.SetPaper(escpos.PaperOK) // the printer prints the rest it kept
	if err := <-errc; err != nil {
		t.Fatalf("Print after the refill = %v", err)
	}
	if n := cuts(t, fake); n != 1 {
		t.Fatalf("%d receipts printed, want 1", n)
	}
}

func TestCoverOpen(t *testing.T) {
	fake, p, conds := openPTY(t, printer.Config{}) // no ASB: the poll before the job finds it
	fake.SetCover(true)
	if err := p.Print(sale()); !unsent(err) || !strings.Contains(err.Error(), "cover is open") {
		t.Fatalf("Print with the cover open = %v", err)
	}
	conds.wait(t, p, printer.StateCoverOpen)
	fake.SetCover(false)
	if err := p.Print(sale()); err != nil {
		t.Fatal(err)
	}
	waitCuts(t, fake, 1)
}

func TestPrinterErrors(t *testing.T) {
	fake, p, _ := openPTY(t, printer.Config{})
	fake.SetState(escpos.State{Offline: true, Waiting: true, Error: true, Cutter: true})
	err := p.Print(sale())
	if !unsent(err) || p.Condition().State != printer.StateError || !strings.Contains(err.Error(), "cutter") {
		t.Fatalf("Print = %v, condition %+v", err, p.Condition())
	}
}

func TestPrinterThatNeverAnswers(t *testing.T) {
	t.Run("required", func(t *testing.T) {
		fake, p, _ := openPTY(t, printer.Config{Timeout: 50 * time.Millisecond})
		fake.SetMute(true)
		err := p.Print(sale())
		if !errors.Is(err, printer.ErrNoAnswer) || !unsent(err) || p.Condition().State != printer.StateOffline {
			t.Fatalf("Print to a mute printer = %v, condition %+v; want ErrNoAnswer, unsent, offline", err, p.Condition())
		}
		if bytes.Contains(fake.Bytes(), []byte{escpos.ESC, '@'}) {
			t.Fatal("a receipt went to a printer that does not answer")
		}
	})
	t.Run("optional", func(t *testing.T) {
		fake, p, _ := openPTY(t, printer.Config{Status: printer.StatusOptional, Timeout: 50 * time.Millisecond})
		fake.SetMute(true) // an old printer without DLE EOT
		if err := p.Print(sale()); err != nil {
			t.Fatalf("optional status, mute printer: %v", err)
		}
		waitCuts(t, fake, 1)
	})
}

func TestUnplugAndReplug(t *testing.T) {
	fake, p, conds := openPTY(t, printer.Config{ASB: true, Poll: 20 * time.Millisecond})
	go p.Run()
	if err := p.Print(sale()); err != nil {
		t.Fatal(err)
	}
	if err := fake.Unplug(); err != nil {
		t.Fatal(err)
	}
	conds.wait(t, p, printer.StateOffline)
	if err := p.Print(sale()); !unsent(err) {
		t.Fatalf("Print while unplugged = %v, want unsent", err)
	}
	if err := fake.Replug(); err != nil {
		t.Fatal(err)
	}
	conds.wait(t, p, printer.StateOK) // Run reopened it; ASB said ok
	if err := p.Print(sale()); err != nil {
		t.Fatalf("after the replug: %v", err)
	}
	if n := cuts(t, fake); n != 2 {
		t.Fatalf("%d receipts printed, want 2", n)
	}
}

func TestUnplugMidReceiptLeavesItUnknown(t *testing.T) {
	fake, p, _ := openPTY(t, printer.Config{Timeout: 100 * time.Millisecond})
	fake.RunOutAfter(50)
	errc := make(chan error, 1)
	go func() { errc <- p.Print(sale()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := fake.WaitReceived(ctx, func(b []byte) bool { return bytes.Contains(b, []byte{escpos.GS, 'r', 1}) }); err != nil {
		t.Fatal(err)
	}
	fake.Unplug()
	err := <-errc
	if err == nil || unsent(err) || !strings.Contains(err.Error(), "copy") {
		t.Fatalf("Print cut off by an unplug = %v; want an error that may have printed", err)
	}
}

func TestSerialSettings(t *testing.T) {
	fake := printertest.NewPTY(t)
	for _, s := range []printer.Serial{
		{Baud: 9600, Parity: "even", Flow: printer.FlowRTSCTS},
		{Baud: 38400, Parity: "odd", Flow: printer.FlowXONXOFF},
		{Baud: 19200},
	} {
		s.Path = fake.Path()
		port, err := s.Open()
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		port.Close()
	}
	for _, s := range []printer.Serial{{Baud: 0}, {Baud: 9600, Parity: "mark"}, {Baud: 9600, Flow: "dtr"}} {
		s.Path = fake.Path()
		if _, err := s.Open(); err == nil || !strings.Contains(err.Error(), "printer.") {
			t.Errorf("%+v: %v, want an error naming the key", s, err)
		}
	}
	missing := filepath.Join(t.TempDir(), "ttyUSB9")
	if _, err := (printer.Serial{Path: missing, Baud: 9600}).Open(); err == nil || !strings.Contains(err.Error(), "printer.port") {
		t.Errorf("a missing port: %v", err)
	}
}

// stuckPort takes at most limit bytes in total, then fails or stalls.
type stuckPort struct {
	limit, n int
	err      error
}

func (w *stuckPort) Write(b []byte) (int, error) {
	room := w.limit - w.n
	if room <= 0 {
		return 0, w.err
	}
	n := min(room, len(b), 16) // also exercise the retry of partial writes
	w.n += n
	return n, nil
}
func (w *stuckPort) Read([]byte) (int, error) { return 0, io.EOF }
func (w *stuckPort) Close() error             { return nil }

func TestPrintWriteErrors(t *testing.T) {
	unplugged := errors.New("input/output error")
	for _, w := range []*stuckPort{{limit: 100, err: unplugged}, {limit: 100}} {
		p := printer.New(func() (printer.Port, error) { return w, nil }, printer.Config{Status: printer.StatusOff})
		err := p.Print(sale())
		want := w.err
		if want == nil {
			want = io.ErrShortWrite
		}
		if !errors.Is(err, want) || unsent(err) || !strings.Contains(err.Error(), "took 100 of") {
			t.Errorf("Print = %v, want %v after 100 bytes, maybe printed", err, want)
		}
	}
	w := &stuckPort{limit: 1 << 20}
	p := printer.New(func() (printer.Port, error) { return w, nil }, printer.Config{Status: printer.StatusOff})
	if err := p.Print(sale()); err != nil {
		t.Fatalf("partial writes: %v", err)
	}
	if want, _ := receipt.Encode(sale(), receipt.Options{}); w.n != len(want) {
		t.Errorf("wrote %d bytes, want %d", w.n, len(want))
	}
}

func TestPrintInvalidReceipt(t *testing.T) {
	p := printer.New(func() (printer.Port, error) { return &stuckPort{}, nil }, printer.Config{Status: printer.StatusOff})
	r := sale()
	r.Reference = ""
	if err := p.Print(r); !errors.Is(err, receipt.ErrInvalid) || !unsent(err) {
		t.Fatalf("Print = %v, want receipt.ErrInvalid", err)
	}
}

func TestFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "receipts.escpos")
	for range 2 {
		p := printer.New(printer.File(path), printer.Config{Status: printer.StatusOff})
		if err := p.Print(sale()); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
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
	p := printer.New(printer.File(filepath.Join(path, "sub")), printer.Config{Status: printer.StatusOff})
	if err := p.Print(sale()); !unsent(err) || !strings.Contains(err.Error(), "data_dir") {
		t.Errorf("a file under a file = %v", err)
	}
}

// Every receipt kind through the pty, in Norwegian on 58 mm paper: the
// emulator decodes PC865 back to the Nordic letters, and the barcode or QR
// to the reference.
func TestEveryKindThroughTheEmulator(t *testing.T) {
	fake, p, _ := openPTY(t, printer.Config{Receipt: receipt.Options{Columns: 32}, ASB: true})
	s := sale()
	s.Lines = []receipt.Line{{Text: "Blåbærsyltetøy «øko»", Quantity: 1, Amount: 12500, TaxRate: 1500}}
	cp := s
	cp.Copy = true
	rf := s
	rf.Refund, rf.Number, rf.OriginStore = true, 3, "BERG1"
	for _, r := range []receipt.Receipt{s, cp, rf} {
		if err := p.Print(r); err != nil {
			t.Fatal(err)
		}
	}
	doc := waitCuts(t, fake, 3)
	parts := make([][]escpos.Line, 3)
	start := 0
	for i, cut := range doc.Cuts {
		parts[i], start = doc.Lines[start:cut], cut
	}
	has := func(lines []escpos.Line, s string) bool {
		for _, l := range lines {
			if strings.Contains(l.Text, s) {
				return true
			}
		}
		return false
	}
	for i, want := range [][]string{
		{"SALGSKVITTERING", "Kvitteringsnr.", "42", "Blåbærsyltetøy \"øko\"", "987 654 325 MVA", "MVA 15 % av"},
		{"KOPI", "SALGSKVITTERING", "42"},
		{"RETURKVITTERING", "Gjelder salg", "Salgsbutikk", "BERG1", "-125,00 kr"},
	} {
		for _, w := range want {
			if !has(parts[i], w) {
				t.Errorf("receipt %d lacks %q", i+1, w)
			}
		}
	}
	if has(parts[0], "KOPI") || has(parts[2], "KOPI") {
		t.Error("an original says KOPI")
	}
	codes := len(doc.Barcodes) + len(doc.QRCodes)
	if codes != 3 {
		t.Errorf("%d codes, want 3", codes)
	}
	for _, b := range doc.Barcodes {
		if b.Data != s.Reference {
			t.Errorf("barcode %q", b.Data)
		}
	}
}
