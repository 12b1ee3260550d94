// Package printer prints receipts on an ESC/POS printer behind a serial port,
// or appends them to a file on a register without one. It asks the printer
// how it is before and after every receipt, listens to what the printer
// reports by itself, reopens a port that vanished, and tells its owner what
// the cashier should know (Condition).
package printer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"kasse/printer/escpos"
	"kasse/printer/receipt"
)

// Port is an open connection to the printer. Read must return once Close
// is called (go.bug.st/serial's ports do).
type Port interface {
	io.ReadWriteCloser
}

// Opener opens the port. The printer calls it again after the device
// vanished (a USB adaptor unplugged) until it is back.
type Opener func() (Port, error)

// Errors a caller can test for with errors.Is.
var (
	ErrNotReady = errors.New("the printer is not ready")
	ErrNoAnswer = errors.New("the printer does not answer status requests")
	ErrClosed   = errors.New("the printer was closed")
)

// Error is a receipt that may not be on paper. The caller keeps it queued.
type Error struct {
	// Unsent: not one byte of the receipt left for the printer, so it may
	// still print as the original.
	Unsent bool
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// NothingPrinted reports whether the receipt certainly did not print.
func (e *Error) NothingPrinted() bool { return e.Unsent }

// Status modes: what the printer must say before a receipt counts.
const (
	// StatusRequired: a receipt is sent only to a printer that says it is
	// ready, and counts as printed only when the printer says it processed
	// it. A printer that does not answer gets nothing: the queue waits.
	StatusRequired = "required"
	// StatusOptional: as required while the printer answers; a printer that
	// never answers (an old one without DLE EOT) is printed to blind, and a
	// receipt written to it counts as printed.
	StatusOptional = "optional"
	// StatusOff: never ask (a write-only port or a file).
	StatusOff = "off"
)

// Config tunes a Printer; the zero value of each field has a default.
type Config struct {
	Receipt receipt.Options
	Status  string // StatusRequired (default), StatusOptional or StatusOff
	// ASB asks the printer for Automatic Status Back (GS a): it then
	// reports paper end or an open cover the moment it happens, with no
	// polling. A printer without it ignores the command.
	ASB bool
	// PaperCheck reads the roll sensor (DLE EOT 4) for paper near end;
	// without it paper end is still seen (the printer stops: DLE EOT 2).
	PaperCheck bool
	// Timeout bounds the wait for one status answer; default 500 ms (a
	// printer answers a real-time request within milliseconds).
	Timeout time.Duration
	// Finish bounds the wait for a receipt to be processed while the
	// printer says nothing is wrong; default 15 s. A printer stopped by
	// paper end or an open cover is waited for as long as it answers.
	Finish time.Duration
	// Poll is how often the printer is asked when idle and not reporting
	// by itself, and how often a vanished port is reopened; default 2 s.
	Poll time.Duration
	// Name is the port's name in messages, e.g. /dev/ttyUSB0.
	Name string
	Now  func() time.Time
	Logf func(format string, args ...any)
	// Notify is called with every change of the condition, from the
	// printer's goroutines: it must not block.
	Notify func(Condition)
}

// Condition is what the cashier should know about the printer.
type Condition struct {
	State  string    `json:"state"`            // one of the State* constants
	Detail string    `json:"detail,omitempty"` // what is wrong and what to do
	Since  time.Time `json:"since"`
}

// Conditions, as kassectl status --json spells them.
const (
	StateOK        = "ok"
	StatePaperLow  = "paper_low" // prints; a new roll is needed soon
	StatePaperOut  = "paper_out"
	StateCoverOpen = "cover_open"
	StateError     = "error"
	StateOffline   = "offline" // unplugged, switched off, or not answering
)

// Printer prints receipts on one port. Print is for one caller at a time
// (the print queue); Condition and Close are safe from any goroutine.
type Printer struct {
	cfg  Config
	open Opener

	job sync.Mutex // one conversation with the printer at a time

	mu       sync.Mutex
	port     Port
	rt       chan byte // answers to DLE EOT, from the reader
	done     chan byte // answers to GS r
	lost     chan struct{}
	asb      bool // the open port has sent an ASB packet
	answered bool // the open port has answered a status request
	noGSr    bool // the printer never answers GS r: rely on DLE EOT
	state    escpos.State
	cond     Condition
	openErr  error
	nextOpen time.Time
	closed   bool
	stop     chan struct{}
}

// New returns a printer on the ports open returns. Nothing is opened until
// the first Print or Run.
func New(open Opener, cfg Config) *Printer {
	if cfg.Status == "" {
		cfg.Status = StatusRequired
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 500 * time.Millisecond
	}
	if cfg.Finish <= 0 {
		cfg.Finish = 15 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Name == "" {
		cfg.Name = "the receipt printer"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Notify == nil {
		cfg.Notify = func(Condition) {}
	}
	return &Printer{cfg: cfg, open: open, stop: make(chan struct{}),
		cond: Condition{State: StateOK, Since: cfg.Now()}}
}

// Condition is the printer's state as last seen.
func (p *Printer) Condition() Condition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cond
}

// Close closes the port and ends Run and any Print waiting for the printer.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.stop)
	if p.port != nil {
		err := p.port.Close()
		p.port = nil
		return err
	}
	return nil
}

// Run watches the printer until Close: it reopens a port that vanished and,
// while idle and without Automatic Status Back, asks how the printer is,
// so the cashier learns of an empty roll before the next sale.
func (p *Printer) Run() {
	t := time.NewTicker(p.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if p.cfg.Status == StatusOff || !p.job.TryLock() {
			continue
		}
		p.watch()
		p.job.Unlock()
	}
}

func (p *Printer) watch() {
	c, err := p.connect()
	if err != nil {
		return
	}
	p.mu.Lock()
	asb := p.asb
	p.mu.Unlock()
	if !asb {
		_, _ = p.status(c, true)
	}
}

// conn is one open port and the channels its reader fills.
type conn struct {
	port Port
	rt   chan byte
	done chan byte
	lost chan struct{}
}

// connect returns the open port, opening it if needed.
func (p *Printer) connect() (*conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.port != nil {
		return &conn{p.port, p.rt, p.done, p.lost}, nil
	}
	now := p.cfg.Now()
	if now.Before(p.nextOpen) && p.openErr != nil {
		return nil, p.openErr
	}
	port, err := p.open()
	if err != nil {
		p.openErr, p.nextOpen = err, now.Add(time.Second)
		p.setLocked(StateOffline, err.Error())
		return nil, err
	}
	if p.openErr != nil {
		p.cfg.Logf("printer %s: the port is back", p.cfg.Name)
	}
	p.port, p.openErr = port, nil
	p.rt, p.done, p.lost = make(chan byte, 16), make(chan byte, 16), make(chan struct{})
	p.asb, p.answered = false, false
	c := &conn{port, p.rt, p.done, p.lost}
	if p.cfg.Status != StatusOff {
		go p.read(c)
		if p.cfg.ASB {
			if _, err := port.Write(escpos.EnableASB(escpos.ASBAll)); err != nil {
				p.dropLocked(port, err)
				return nil, err
			}
		}
	}
	return c, nil
}

// drop forgets a port that failed: the next use reopens it.
func (p *Printer) drop(port Port, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropLocked(port, err)
}

func (p *Printer) dropLocked(port Port, err error) {
	if p.port != port || p.port == nil {
		return
	}
	p.port.Close()
	p.port = nil
	close(p.lost)
	p.cfg.Logf("printer %s: the port failed (%v): reopening it", p.cfg.Name, err)
	p.setLocked(StateOffline, fmt.Sprintf("the printer on %s is gone (%v): check its cable and power", p.cfg.Name, err))
}

// read sorts what the printer sends: real-time answers, ASB packets and
// GS r answers; anything else is noise and dropped.
func (p *Printer) read(c *conn) {
	buf := make([]byte, 64)
	var asb [4]byte
	asbLen := 0
	for {
		n, err := c.port.Read(buf)
		for _, b := range buf[:max(n, 0)] {
			if asbLen > 0 {
				if escpos.IsTail(b) {
					asb[asbLen] = b
					if asbLen++; asbLen == 4 {
						asbLen = 0
						if st, err := escpos.ParseASB(asb); err == nil {
							p.asbState(c.port, st)
						}
					}
					continue
				}
				asbLen = 0 // a broken packet: read b afresh
			}
			switch {
			case escpos.IsASBHead(b):
				asb[0], asbLen = b, 1
			case escpos.IsRealTime(b):
				send(c.rt, b)
			case escpos.IsTail(b):
				send(c.done, b)
			}
		}
		if err != nil {
			p.drop(c.port, err)
			return
		}
	}
}

// send passes an answer on, dropping it if nobody waits for answers.
func send(ch chan byte, b byte) {
	select {
	case ch <- b:
	default:
	}
}

func (p *Printer) asbState(port Port, st escpos.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port != port {
		return
	}
	p.asb, p.answered = true, true
	if !p.cfg.PaperCheck {
		st.PaperNearEnd = false
	}
	p.state = st
	p.fromStateLocked()
}

// query asks DLE EOT n and waits for the answer.
func (p *Printer) query(c *conn, n byte) (byte, error) {
	for len(c.rt) > 0 { // an answer that came too late for an earlier request
		<-c.rt
	}
	if _, err := c.port.Write(escpos.StatusRequest(n)); err != nil {
		p.drop(c.port, err)
		return 0, err
	}
	t := time.NewTimer(p.cfg.Timeout)
	defer t.Stop()
	select {
	case b := <-c.rt:
		return b, nil
	case <-c.lost:
		return 0, fmt.Errorf("the printer on %s is gone: check its cable and power", p.cfg.Name)
	case <-p.stop:
		return 0, ErrClosed
	case <-t.C:
		return 0, fmt.Errorf("%w within %v: check that the printer on %s is on, online and set to the configured baud rate and parity", ErrNoAnswer, p.cfg.Timeout, p.cfg.Name)
	}
}

// status asks the printer how it is: DLE EOT 1, then the offline and error
// causes when it says it is offline, and with paper the roll sensor (paper
// near end does not make a printer offline).
func (p *Printer) status(c *conn, paper bool) (escpos.State, error) {
	var st escpos.State
	ask := func(n byte) error {
		b, err := p.query(c, n)
		if err != nil {
			return err
		}
		return st.ApplyRealTime(n, b)
	}
	err := ask(escpos.StatusPrinter)
	if err == nil && (st.Offline || st.Waiting) {
		err = ask(escpos.StatusOffline)
		if err == nil && st.Error {
			err = ask(escpos.StatusError)
		}
	}
	if err == nil && paper && p.cfg.PaperCheck {
		err = ask(escpos.StatusPaper)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port != c.port {
		return st, err
	}
	if err != nil {
		if errors.Is(err, ErrNoAnswer) && p.cfg.Status == StatusRequired {
			p.setLocked(StateOffline, err.Error())
		}
		return st, err
	}
	if !paper || !p.cfg.PaperCheck { // keep what the roll sensor said last; an empty roll shows as PaperStop
		st.PaperNearEnd = p.state.PaperNearEnd
	}
	p.answered, p.state = true, st
	p.fromStateLocked()
	return st, nil
}

// fromStateLocked turns the printer's state into the cashier's condition.
func (p *Printer) fromStateLocked() {
	st := p.state
	switch {
	case st.CoverOpen:
		p.setLocked(StateCoverOpen, "the printer's cover is open: close it")
	case st.PaperOut || st.PaperStop:
		p.setLocked(StatePaperOut, "the printer is out of paper: load a new roll")
	case st.Unrecoverable:
		p.setLocked(StateError, "the printer reports an error it cannot recover from: switch it off and on, or have it serviced")
	case st.Cutter || st.Mechanical:
		p.setLocked(StateError, fmt.Sprintf("the printer reports a %s: open the cover, clear any jammed paper, close it", st))
	case st.AutoRecoverable || st.Error:
		p.setLocked(StateError, "the printer reports an error (e.g. the head is too hot): wait a moment")
	case st.Offline:
		p.setLocked(StateOffline, "the printer is offline: check its panel")
	case st.PaperNearEnd:
		p.setLocked(StatePaperLow, "the paper roll is nearly empty: have a new one ready")
	default:
		p.setLocked(StateOK, "")
	}
}

func (p *Printer) setLocked(state, detail string) {
	if p.cond.State == state && p.cond.Detail == detail {
		return
	}
	p.cond = Condition{State: state, Detail: detail, Since: p.cfg.Now()}
	p.cfg.Notify(p.cond)
}

// Print encodes r and prints it. It returns nil only when the receipt is on
// paper as far as the printer can tell; an *Error otherwise, saying whether
// any of it may have printed.
func (p *Printer) Print(r receipt.Receipt) error {
	data, err := receipt.Encode(r, p.cfg.Receipt)
	if err != nil {
		return &Error{Unsent: true, Err: fmt.Errorf("cannot print receipt for %s: %w", r.Reference, err)}
	}
	return p.Write(r.Reference, data)
}

// Write prints an encoded receipt; what names it in messages.
func (p *Printer) Write(what string, data []byte) error {
	p.job.Lock()
	defer p.job.Unlock()
	unsent := func(err error) error {
		return &Error{Unsent: true, Err: fmt.Errorf("receipt %s stays queued, not printed: %w", what, err)}
	}
	c, err := p.connect()
	if err != nil {
		return unsent(err)
	}
	blind := p.cfg.Status == StatusOff
	if !blind {
		st, err := p.status(c, false)
		switch {
		case err != nil && p.cfg.Status == StatusOptional && errors.Is(err, ErrNoAnswer):
			blind = true // an old printer without DLE EOT
		case err != nil:
			return unsent(err)
		case !st.Ready():
			return unsent(fmt.Errorf("%w: %s", ErrNotReady, p.Condition().Detail))
		}
	}
	p.mu.Lock()
	marker := !blind && !p.noGSr
	p.mu.Unlock()
	if marker {
		data = append(data[:len(data):len(data)], escpos.ProcessedRequest()...)
	}
	for len(c.done) > 0 {
		<-c.done
	}
	if err := writeAll(c.port, data); err != nil {
		p.drop(c.port, err)
		return &Error{Err: fmt.Errorf("receipt %s may be partly printed: %w: check the printer's cable and power; it will print as a copy", what, err)}
	}
	if d, ok := c.port.(interface{ Drain() error }); ok {
		_ = d.Drain() // best effort: the answers below are what count
	}
	if blind {
		return nil
	}
	return p.finish(c, what, marker)
}

func writeAll(w io.Writer, data []byte) error {
	written := 0
	for written < len(data) {
		n, err := w.Write(data[written:])
		written += max(n, 0)
		if err != nil {
			return fmt.Errorf("took %d of %d bytes: %w", written, len(data), err)
		}
		if n <= 0 {
			return fmt.Errorf("took %d of %d bytes: %w", written, len(data), io.ErrShortWrite)
		}
	}
	return nil
}

// finish waits until the printer has processed the receipt (its GS r
// answer) and says it is fine. A printer stopped by paper end or an open
// cover keeps the rest of the receipt and prints it once fixed, so that is
// waited for, telling the cashier; a printer that stops answering leaves
// the receipt's fate unknown.
func (p *Printer) finish(c *conn, what string, marker bool) error {
	unknown := func(err error) error {
		return &Error{Err: fmt.Errorf("receipt %s may or may not have printed: %w; it will print as a copy", what, err)}
	}
	deadline := p.cfg.Now().Add(p.cfg.Finish)
	tick := time.NewTicker(min(p.cfg.Poll, 250*time.Millisecond))
	defer tick.Stop()
	for marker {
		select {
		case <-c.done:
			marker = false
			continue
		case <-c.lost:
			return unknown(fmt.Errorf("the printer on %s is gone", p.cfg.Name))
		case <-p.stop:
			return unknown(ErrClosed)
		case <-tick.C:
		}
		st, err := p.status(c, true)
		if err != nil {
			return unknown(err)
		}
		if st.Ready() && !p.cfg.Now().Before(deadline) {
			// Ready, no answer to GS r for long: a printer without it.
			p.mu.Lock()
			p.noGSr = true
			p.mu.Unlock()
			p.cfg.Logf("printer %s does not answer GS r: a receipt counts as printed when the printer says it is ready after it", p.cfg.Name)
			marker = false
		}
		if !st.Ready() {
			deadline = p.cfg.Now().Add(p.cfg.Finish) // stuck: the cashier fixes it
		}
	}
	st, err := p.status(c, true)
	switch {
	case err != nil:
		return unknown(err)
	case !st.Ready():
		return unknown(fmt.Errorf("%w after the receipt: %s", ErrNotReady, p.Condition().Detail))
	}
	return nil
}

// File is a receipt sink without a printer: a simulated register's file.
func File(path string) Opener {
	return func() (Port, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("cannot open receipt file %s: %w: check that data_dir is writable by kassed", path, err)
		}
		return f, nil
	}
}
