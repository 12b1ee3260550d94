// Package printer prints receipts on an ESC/POS printer behind a serial port,
// or appends them to a file on a register without one.
package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.bug.st/serial"

	"kasse/printer/escpos"
	"kasse/printer/receipt"
)

// Port is what the printer needs: somewhere to write commands. A port that is
// also an io.Reader can answer status requests.
type Port interface{ io.Writer }

// Errors a caller can test for with errors.Is to decide what to tell the cashier.
var (
	ErrOutOfPaper = errors.New("out of paper")
	ErrNoAnswer   = errors.New("no status answer")
)

// OpenSerial opens the printer's serial port at baud, 8N1, without touching
// the modem lines (many adapters and ptys do not have them).
func OpenSerial(path string, baud int) (io.ReadWriteCloser, error) {
	if baud <= 0 {
		return nil, fmt.Errorf("cannot open printer port %s: baud rate %d is not valid: set printer.baud in the config (most printers use 9600, 19200 or 38400)", path, baud)
	}
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("cannot open printer port %s: %w: check printer.port in the config and that kassed may use the port (group dialout)", path, err)
	}
	return &serialPort{Port: p, path: path}, nil
}

// serialPort tells Printer its device name for error messages.
type serialPort struct {
	serial.Port
	path string
}

func (s *serialPort) Name() string { return s.path }

// OpenFile opens path for appending, creating it with mode 0640: the receipt
// sink of a simulated register with no printer.
func OpenFile(path string) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cannot open receipt file %s: %w: check printer.file in the config and that its directory is writable by kassed", path, err)
	}
	return f, nil
}

// Option changes how a Printer works.
type Option func(*Printer)

// WithPaperCheck makes Print ask the printer for its paper status first and
// refuse to print when it is out of paper. The port must be readable; timeout
// bounds the wait for the answer.
func WithPaperCheck(timeout time.Duration) Option {
	return func(p *Printer) { p.paperCheck, p.statusTimeout = true, timeout }
}

// Printer prints receipts on one port. It is not safe for concurrent use: the
// print queue owns it.
type Printer struct {
	port          io.Writer
	opts          receipt.Options
	paperCheck    bool
	statusTimeout time.Duration
}

// DefaultStatusTimeout bounds PaperStatus when the context has no deadline;
// a printer answers a real-time request within milliseconds.
const DefaultStatusTimeout = 500 * time.Millisecond

// New returns a Printer writing to port with the layout options o.
func New(port io.Writer, o receipt.Options, opts ...Option) *Printer {
	p := &Printer{port: port, opts: o, statusTimeout: DefaultStatusTimeout}
	for _, opt := range opts {
		opt(p)
	}
	return p
}

func (p *Printer) name() string {
	if n, ok := p.port.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "the receipt printer"
}

// Print encodes r and writes it to the port. Every error means the receipt
// may not be on paper: the caller keeps it queued.
func (p *Printer) Print(r receipt.Receipt) error {
	data, err := receipt.Encode(r, p.opts)
	if err != nil {
		return fmt.Errorf("cannot print receipt for %s: %w", r.Reference, err)
	}
	if p.paperCheck {
		rw, ok := p.port.(io.ReadWriter)
		if !ok {
			return fmt.Errorf("printer on %s cannot report paper status: it is write-only, turn printer.paper_check off", p.name())
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.statusTimeout)
		st, err := p.PaperStatus(ctx, rw)
		cancel()
		if err != nil {
			return fmt.Errorf("receipt %s stays queued: %w", r.Reference, err)
		}
		if st == escpos.PaperOut {
			return fmt.Errorf("printer on %s is %w: load a new roll, the receipt %s stays queued", p.name(), ErrOutOfPaper, r.Reference)
		}
	}
	written := 0
	for written < len(data) {
		n, err := p.port.Write(data[written:])
		written += max(n, 0)
		if err != nil {
			return fmt.Errorf("printer on %s took %d of %d bytes of receipt %s: %w: check its cable and power, the receipt stays queued",
				p.name(), written, len(data), r.Reference, err)
		}
		if n <= 0 {
			return fmt.Errorf("printer on %s took %d of %d bytes of receipt %s: %w: check its cable and power, the receipt stays queued",
				p.name(), written, len(data), r.Reference, io.ErrShortWrite)
		}
	}
	return nil
}

// PaperStatus asks the printer for its roll paper sensor (DLE EOT 4) and reads
// the one-byte answer, waiting until ctx ends or the status timeout passes.
// rw must be able to time out reads: a serial port from OpenSerial or an
// *os.File on a device.
func (p *Printer) PaperStatus(ctx context.Context, rw io.ReadWriter) (escpos.PaperStatus, error) {
	wait := p.statusTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if err := ctx.Err(); err != nil || wait <= 0 {
		return escpos.PaperOK, fmt.Errorf("paper status of printer on %s: %w", p.name(), context.DeadlineExceeded)
	}
	// An old answer or auto-status packet must not be taken for this one.
	if r, ok := rw.(interface{ ResetInputBuffer() error }); ok {
		_ = r.ResetInputBuffer() // best effort: a stale byte fails validation anyway
	}
	var setTimeout func(time.Duration) error
	switch t := rw.(type) {
	case interface{ SetReadTimeout(time.Duration) error }:
		setTimeout = t.SetReadTimeout
	case interface{ SetReadDeadline(time.Time) error }:
		setTimeout = func(d time.Duration) error { return t.SetReadDeadline(time.Now().Add(d)) }
	default:
		return escpos.PaperOK, fmt.Errorf("paper status of printer on %s: the port cannot time out reads: turn printer.paper_check off", p.name())
	}
	if err := setTimeout(wait); err != nil {
		return escpos.PaperOK, fmt.Errorf("paper status of printer on %s: setting the read timeout: %w", p.name(), err)
	}
	if _, err := rw.Write(escpos.StatusRequest(escpos.StatusPaper)); err != nil {
		return escpos.PaperOK, fmt.Errorf("paper status of printer on %s: %w: check its cable and power", p.name(), err)
	}
	var b [1]byte
	n, err := rw.Read(b[:])
	if n == 0 {
		if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return escpos.PaperOK, fmt.Errorf("printer on %s sent %w within %v: check it is on, online and set to the configured baud rate",
				p.name(), ErrNoAnswer, wait)
		}
		return escpos.PaperOK, fmt.Errorf("paper status of printer on %s: %w: check its cable and power", p.name(), err)
	}
	st, err := escpos.ParsePaperStatus(b[0])
	if err != nil {
		return escpos.PaperOK, fmt.Errorf("printer on %s: %w", p.name(), err)
	}
	return st, nil
}
