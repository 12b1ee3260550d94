// Package printertest is a fake ESC/POS printer on a real pseudo-terminal:
// code under test opens Path() as a serial port, the fake records every byte
// and answers paper status requests like a printer does.
package printertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"kasse/printer/escpos"
)

// PTY is the printer end of a pty pair. Its methods are safe for concurrent use.
type PTY struct {
	master, slave *os.File
	done          chan struct{} // closed when the reader stops

	mu      sync.Mutex
	buf     []byte
	scanned int           // bytes of buf already searched for status requests
	changed chan struct{} // closed and replaced on every change
	paper   escpos.PaperStatus
	mute    bool
	readErr error
}

// NewPTY opens a pty pair, sets the slave to raw mode and starts recording.
// It is closed when the test ends.
func NewPTY(t testing.TB) *PTY {
	t.Helper()
	p, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Open is NewPTY for use outside tests, such as a simulated register; the
// caller must Close it.
func Open() (*PTY, error) {
	blocking, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("printertest: open pty: %w", err)
	}
	// pty.Open leaves the master in blocking mode, where Close cannot stop a
	// pending Read; a non-blocking copy goes through the runtime poller.
	master, err := pollable(blocking)
	if err != nil {
		slave.Close()
		return nil, fmt.Errorf("printertest: open pty: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("printertest: raw mode on %s: %w", slave.Name(), err)
	}
	p := &PTY{master: master, slave: slave, done: make(chan struct{}), changed: make(chan struct{})}
	go p.read()
	return p, nil
}

func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// makeRaw turns off every translation of the line discipline, so the bytes
// the code under test writes reach the master unchanged and back.
func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cflag &^= unix.CSIZE | unix.PARENB
	tio.Cflag |= unix.CS8
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, tio)
}

// Path is the slave device to open as the printer's serial port.
func (p *PTY) Path() string { return p.slave.Name() }

// SetPaper sets what the fake answers to DLE EOT 4 from now on.
func (p *PTY) SetPaper(s escpos.PaperStatus) {
	p.mu.Lock()
	p.paper = s
	p.mu.Unlock()
}

// SetMute makes the fake ignore status requests, like a printer that is
// switched off or set to another baud rate.
func (p *PTY) SetMute(mute bool) {
	p.mu.Lock()
	p.mute = mute
	p.mu.Unlock()
}

// Bytes returns a copy of everything received so far.
func (p *PTY) Bytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.buf)
}

// Reset forgets what was received.
func (p *PTY) Reset() {
	p.mu.Lock()
	p.buf, p.scanned = nil, 0
	p.mu.Unlock()
}

// WaitFor waits until cond holds for the bytes received so far, ctx ends, or
// the pty closes. cond gets a copy it may keep.
func (p *PTY) WaitFor(ctx context.Context, cond func([]byte) bool) error {
	for {
		p.mu.Lock()
		b, changed, readErr := bytes.Clone(p.buf), p.changed, p.readErr
		p.mu.Unlock()
		if cond(b) {
			return nil
		}
		if readErr != nil {
			return fmt.Errorf("printertest: condition not met after %d bytes, pty closed: %w", len(b), readErr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("printertest: condition not met after %d bytes: %w", len(b), ctx.Err())
		}
	}
}

// WaitCuts waits until the received bytes hold at least n cuts and returns
// them decoded.
func (p *PTY) WaitCuts(ctx context.Context, n int) (escpos.Document, error) {
	var doc escpos.Document
	err := p.WaitFor(ctx, func(b []byte) bool {
		d, err := escpos.Decode(b)
		doc = d
		// A stream cut short by the read chunking fails to decode: wait for more.
		return err == nil && len(d.Cuts) >= n
	})
	return doc, err
}

func (p *PTY) read() {
	defer close(p.done)
	chunk := make([]byte, 4096)
	for {
		n, err := p.master.Read(chunk)
		p.mu.Lock()
		p.buf = append(p.buf, chunk[:n]...)
		answers := p.statusAnswersLocked()
		if err != nil {
			p.readErr = err
		}
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		if len(answers) > 0 {
			// A write error here means the pty is closing; the reader will see it too.
			_, _ = p.master.Write(answers)
		}
		if err != nil {
			return
		}
	}
}

// statusAnswersLocked finds new DLE EOT n requests in buf and returns the
// answers. Like a real printer it answers them wherever they appear.
func (p *PTY) statusAnswersLocked() []byte {
	var out []byte
	for ; p.scanned+2 < len(p.buf); p.scanned++ {
		b := p.buf[p.scanned:]
		if b[0] != escpos.DLE || b[1] != escpos.EOT || p.mute {
			continue
		}
		switch b[2] {
		case escpos.StatusPaper:
			out = append(out, p.paper.Byte())
		case escpos.StatusPrinter, escpos.StatusOffline, escpos.StatusError:
			out = append(out, 0x12) // fixed bits only: online, no error
		}
	}
	return out
}

// Close stops the fake and closes both ends of the pty.
func (p *PTY) Close() error {
	errM := p.master.Close()
	<-p.done
	errS := p.slave.Close()
	if err := errors.Join(errM, errS); err != nil {
		return fmt.Errorf("printertest: close pty: %w", err)
	}
	return nil
}
