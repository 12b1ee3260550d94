// Package printertest is an emulated ESC/POS printer on the far side of a
// real pseudo-terminal: code under test opens Path() as a serial port; the
// emulator records every byte, prints (processes) them in order while it is
// ready, answers real-time status requests (DLE EOT) at once, GS r once the
// data before it is processed, and sends Automatic Status Back packets when
// asked (GS a). Tests put it out of paper, open its cover, take it offline,
// make it mute, or unplug and replug it.
package printertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"kasse/printer/escpos"
)

// PTY is the printer end of a pty pair. Its methods are safe for concurrent use.
type PTY struct {
	dir  string // holds the link Path() names
	link string
	own  bool // dir was made by Open and is removed by Close

	mu      sync.Mutex
	master  *os.File
	slave   *os.File
	done    chan struct{} // closed when the current reader stops
	buf     []byte
	scanned int // bytes of buf searched for real-time requests
	printed int // bytes of buf processed (printed)
	changed chan struct{}
	state   escpos.State
	mute    bool
	asb     byte // GS a mask; 0: off
	runOut  int  // bytes to print before the roll ends; 0: never
	readErr error
	// Counters for tests.
	asbSent, answers int
	// arrivals: when each read chunk arrived, by its first offset in buf.
	arrivals []arrival
}

type arrival struct {
	off int
	at  time.Time
}

// NewPTY opens a pty pair, sets the slave to raw mode and starts the
// emulator. It is closed when the test ends.
func NewPTY(t testing.TB) *PTY {
	t.Helper()
	p, err := open(t.TempDir(), false)
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
	dir, err := os.MkdirTemp("", "printertest")
	if err != nil {
		return nil, fmt.Errorf("printertest: %w", err)
	}
	p, err := open(dir, true)
	if err != nil {
		os.RemoveAll(dir)
	}
	return p, err
}

func open(dir string, own bool) (*PTY, error) {
	p := &PTY{dir: dir, own: own, link: filepath.Join(dir, "ttyPRINTER"), changed: make(chan struct{})}
	if err := p.plug(); err != nil {
		return nil, err
	}
	return p, nil
}

// plug opens a new pty pair and points the link at its slave, as udev does
// for a USB adaptor that comes back (/dev/serial/by-id/...).
func (p *PTY) plug() error {
	blocking, slave, err := pty.Open()
	if err != nil {
		return fmt.Errorf("printertest: open pty: %w", err)
	}
	// pty.Open leaves the master in blocking mode, where Close cannot stop a
	// pending Read; a non-blocking copy goes through the runtime poller.
	master, err := pollable(blocking)
	if err != nil {
		slave.Close()
		return fmt.Errorf("printertest: open pty: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return fmt.Errorf("printertest: raw mode on %s: %w", slave.Name(), err)
	}
	tmp := p.link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(slave.Name(), tmp); err != nil {
		master.Close()
		slave.Close()
		return fmt.Errorf("printertest: %w", err)
	}
	if err := os.Rename(tmp, p.link); err != nil {
		master.Close()
		slave.Close()
		return fmt.Errorf("printertest: %w", err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.master, p.slave, p.done, p.readErr = master, slave, done, nil
	p.asb = 0 // a printer powered up again has forgotten GS a
	p.notifyLocked()
	p.mu.Unlock()
	go p.read(master, done)
	return nil
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

// Path is the device to open as the printer's serial port: a link to the
// current pty's slave, so it survives Unplug and Replug.
func (p *PTY) Path() string { return p.link }

// SetPaper sets the roll sensor.
func (p *PTY) SetPaper(s escpos.PaperStatus) {
	p.update(func(st *escpos.State) {
		st.PaperNearEnd, st.PaperOut = s >= escpos.PaperNearEnd, s == escpos.PaperOut
		st.PaperStop = s == escpos.PaperOut
		st.Offline = st.CoverOpen || st.PaperOut
	})
}

// A printer goes offline while its cover is open or its paper is out.

// SetCover opens or closes the cover.
func (p *PTY) SetCover(open bool) {
	p.update(func(st *escpos.State) {
		st.CoverOpen = open
		st.Offline = st.CoverOpen || st.PaperOut
	})
}

// SetState replaces the whole state, e.g. an error.
func (p *PTY) SetState(s escpos.State) { p.update(func(st *escpos.State) { *st = s }) }

// State is the emulator's state now.
func (p *PTY) State() escpos.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// RunOutAfter makes the roll end after n more printed bytes: the printer
// stops there, keeps the rest, and prints it once SetPaper gives it paper.
func (p *PTY) RunOutAfter(n int) {
	p.mu.Lock()
	p.runOut = n
	p.mu.Unlock()
}

// SetMute makes the fake ignore every status request and send no ASB, like
// an old printer without them: it still prints.
func (p *PTY) SetMute(mute bool) {
	p.mu.Lock()
	p.mute = mute
	p.mu.Unlock()
}

func (p *PTY) update(f func(*escpos.State)) {
	p.mu.Lock()
	before := p.state
	f(&p.state)
	out := p.asbLocked(before)
	out = append(out, p.processLocked()...)
	master := p.master
	p.notifyLocked()
	p.mu.Unlock()
	if len(out) > 0 && master != nil {
		_, _ = master.Write(out) // a closed pty: nobody to tell
	}
}

// asbLocked is the ASB packet owed for a change from before, if any.
func (p *PTY) asbLocked(before escpos.State) []byte {
	if p.asb == 0 || p.mute || before == p.state {
		return nil
	}
	p.asbSent++
	pkt := p.state.ASB()
	return pkt[:]
}

// Unplug closes the pty, as pulling a USB adaptor does: the port's reads
// and writes fail. What was received stays.
func (p *PTY) Unplug() error {
	p.mu.Lock()
	master, slave, done := p.master, p.slave, p.done
	p.master, p.slave = nil, nil
	p.mu.Unlock()
	if master == nil {
		return nil
	}
	errM := master.Close()
	<-done
	errS := slave.Close()
	os.Remove(p.link)
	return errors.Join(errM, errS)
}

// Replug opens a new pty behind the same Path.
func (p *PTY) Replug() error { return p.plug() }

// Bytes returns a copy of everything received so far.
func (p *PTY) Bytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.buf)
}

// Printed returns a copy of the bytes the printer has processed: what is on
// paper.
func (p *PTY) Printed() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bytes.Clone(p.buf[:p.printed])
}

// ASBSent counts the Automatic Status Back packets sent.
func (p *PTY) ASBSent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.asbSent
}

// ArrivedAt is when the byte at offset off of Bytes() reached the printer
// (its read chunk's arrival; zero if not yet). For latency figures.
func (p *PTY) ArrivedAt(off int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var at time.Time
	for _, a := range p.arrivals {
		if a.off > off {
			break
		}
		at = a.at
	}
	if off >= len(p.buf) {
		return time.Time{}
	}
	return at
}

// Reset forgets what was received.
func (p *PTY) Reset() {
	p.mu.Lock()
	p.buf, p.scanned, p.printed, p.arrivals = nil, 0, 0, nil
	p.mu.Unlock()
}

// WaitFor waits until cond holds for the bytes printed so far, ctx ends, or
// the pty closes. cond gets a copy it may keep.
func (p *PTY) WaitFor(ctx context.Context, cond func([]byte) bool) error {
	return p.wait(ctx, func() []byte { return p.buf[:p.printed] }, cond)
}

// WaitReceived is WaitFor on every byte received, printed or not.
func (p *PTY) WaitReceived(ctx context.Context, cond func([]byte) bool) error {
	return p.wait(ctx, func() []byte { return p.buf }, cond)
}

func (p *PTY) wait(ctx context.Context, of func() []byte, cond func([]byte) bool) error {
	for {
		p.mu.Lock()
		b, changed, readErr := bytes.Clone(of()), p.changed, p.readErr
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

// WaitCuts waits until the printed bytes hold at least n cuts and returns
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

func (p *PTY) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *PTY) read(master *os.File, done chan struct{}) {
	defer close(done)
	chunk := make([]byte, 4096)
	for {
		n, err := master.Read(chunk)
		now := time.Now()
		p.mu.Lock()
		if n > 0 {
			p.arrivals = append(p.arrivals, arrival{len(p.buf), now})
		}
		p.buf = append(p.buf, chunk[:n]...)
		out := p.realTimeLocked()
		out = append(out, p.processLocked()...)
		if err != nil && p.master == master {
			p.readErr = err
		}
		p.notifyLocked()
		p.mu.Unlock()
		if len(out) > 0 {
			// A write error here means the pty is closing; the reader will see it too.
			_, _ = master.Write(out)
		}
		if err != nil {
			return
		}
	}
}

// realTimeLocked answers new DLE EOT n requests. Like a real printer it
// answers them on arrival, wherever they are, printing or stopped.
func (p *PTY) realTimeLocked() []byte {
	var out []byte
	for ; p.scanned+2 < len(p.buf); p.scanned++ {
		b := p.buf[p.scanned:]
		if b[0] != escpos.DLE || b[1] != escpos.EOT || p.mute || b[2] < 1 || b[2] > 4 {
			continue
		}
		p.answers++
		out = append(out, p.state.RealTime(b[2]))
	}
	return out
}

// processLocked prints what was received while the printer is ready, in
// order, carrying out GS a and GS r where they stand; it returns what the
// printer sends back.
func (p *PTY) processLocked() []byte {
	var out []byte
	for p.printed < len(p.buf) && p.state.Ready() {
		b := p.buf[p.printed:]
		if b[0] == escpos.GS && len(b) >= 2 && (b[1] == 'a' || b[1] == 'r') {
			if len(b) < 3 {
				return out // the parameter has not arrived yet
			}
			if b[1] == 'a' {
				p.asb = b[2]
				if !p.mute && p.asb != 0 {
					p.asbSent++
					pkt := p.state.ASB()
					out = append(out, pkt[:]...)
				}
			} else if !p.mute {
				out = append(out, p.state.ProcessedAnswer())
			}
			p.printed += 3
			continue
		}
		p.printed++
		if p.runOut > 0 {
			if p.runOut--; p.runOut == 0 {
				before := p.state
				p.state.PaperOut, p.state.PaperStop, p.state.PaperNearEnd, p.state.Offline = true, true, true, true
				out = append(out, p.asbLocked(before)...)
			}
		}
	}
	return out
}

// Close stops the fake and closes both ends of the pty.
func (p *PTY) Close() error {
	err := p.Unplug()
	p.mu.Lock()
	p.readErr = os.ErrClosed // for good: no Replug comes
	p.notifyLocked()
	p.mu.Unlock()
	if p.own {
		os.RemoveAll(p.dir)
	}
	if err != nil {
		return fmt.Errorf("printertest: close pty: %w", err)
	}
	return nil
}
