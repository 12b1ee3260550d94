// Package dbitest emulates a MIPI DBI panel for tests, the way periph's
// spitest fakes a bus: it is the spi.Port, and it hands out the D/C, reset
// and backlight pins, so it sees every byte in order with the D/C level it
// was sent under (spitest.Record alone cannot: it does not see D/C). It runs
// the commands it knows, fails on any other, checks the datasheet's waits on
// a virtual clock that only Sleep moves, and rebuilds the glass as an image.
package dbitest

import (
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"kasse/display/mipidbi"
)

// Wait is a datasheet rule: after command After, at least Min must pass
// before command Next (or before any command when Any is set).
type Wait struct {
	After byte
	Next  byte
	Any   bool
	Min   time.Duration
}

// Model is the controller and glass a Panel emulates.
type Model struct {
	Name string
	RAM  image.Point // frame memory, columns × rows
	// Glass is the part of the frame memory the glass shows, in the
	// controller's native orientation.
	Glass    image.Rectangle
	Mirrored bool // the module wires the glass's columns right to left
	BGR      bool // the glass's colour filters are BGR
	Inverted bool // IPS glass: colours show inverted unless INVON
	// MaxTxSize is the largest transfer, as spidev's bufsiz; 0 is 4096.
	MaxTxSize int
	// ResetPulse is the shortest reset pulse; ResetRecover the time from
	// the end of a reset to the first command.
	ResetPulse, ResetRecover time.Duration
	Waits                    []Wait
}

// ST7789 is a module of the given size at the given offset, with IPS glass.
func ST7789(w, h, xoff, yoff int) Model {
	return Model{
		Name: "st7789", RAM: image.Pt(240, 320), Glass: image.Rect(xoff, yoff, xoff+w, yoff+h),
		Inverted: true, ResetPulse: 10 * time.Microsecond, ResetRecover: 120 * time.Millisecond,
		Waits: []Wait{
			{After: mipidbi.SWRESET, Any: true, Min: 5 * time.Millisecond},
			{After: mipidbi.SWRESET, Next: mipidbi.SLPOUT, Min: 120 * time.Millisecond},
			{After: mipidbi.SLPOUT, Any: true, Min: 5 * time.Millisecond},
		},
	}
}

// ILI9341 is the common 240×320 module: columns wired right to left, BGR glass.
func ILI9341() Model {
	m := ST7789(240, 320, 0, 0)
	m.Name, m.Inverted, m.Mirrored, m.BGR = "ili9341", false, true, true
	return m
}

// Event is one command as the panel received it, or a pin change.
type Event struct {
	At    time.Duration // on the virtual clock
	Cmd   byte
	Data  []byte // parameters; for RAMWR only the count is kept (N)
	N     int
	Pin   string // "RST" or "BL" for a pin change; then Level is set
	Level gpio.Level
}

// Panel is the emulated panel. It is safe for concurrent use.
type Panel struct {
	m Model

	mu        sync.Mutex
	now       time.Duration
	events    []Event
	err       error
	dcLevel   gpio.Level
	rstLevel  gpio.Level
	rstLow    time.Duration
	resetAt   time.Duration
	blUsed    bool
	blLevel   gpio.Level
	cur       int // the command receiving data; -1 none
	params    []byte
	ram       []mipidbi.RGB565
	madctl    byte
	colmod    byte
	sleeping  bool
	on        bool
	inverted  bool
	normal    bool
	xs, xe    int
	ys, ye    int
	px, py    int
	half      int // the first byte of a pixel split across transfers; -1 none
	wire      int64
	txs       int
	connected bool
	speed     physic.Frequency
	realTime  bool
	lastCmdAt map[byte]time.Duration
}

// New returns a panel at power-on: asleep, dark, its memory full of noise.
func New(m Model) *Panel {
	if m.MaxTxSize == 0 {
		m.MaxTxSize = mipidbi.DefaultMaxTxSize
	}
	p := &Panel{m: m, cur: -1, half: -1, ram: make([]mipidbi.RGB565, m.RAM.X*m.RAM.Y), rstLevel: gpio.High, lastCmdAt: map[byte]time.Duration{}}
	seed := uint32(2463534242)
	for i := range p.ram {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		p.ram[i] = mipidbi.RGB565(seed)
	}
	p.powerOn()
	return p
}

func (p *Panel) powerOn() {
	p.madctl, p.colmod, p.sleeping, p.on, p.inverted, p.normal = 0, 0x66, true, false, false, true
	p.xs, p.xe, p.ys, p.ye = 0, p.m.RAM.X-1, 0, p.m.RAM.Y-1
	p.cur, p.params, p.half = -1, nil, -1
}

// RealTime makes every transfer take as long as it would on the wire at the
// connection's speed, for benchmarks of who waits for the bus.
func (p *Panel) RealTime() *Panel {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.realTime = true
	return p
}

// Sleep moves the virtual clock; pass it to the driver as its sleep.
func (p *Panel) Sleep(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now += d
}

func (p *Panel) fail(format string, a ...any) error {
	err := fmt.Errorf("%s emulator: "+format, append([]any{p.m.Name}, a...)...)
	if p.err == nil {
		p.err = err
	}
	return err
}

// Err is the first thing the panel could not accept, if any.
func (p *Panel) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Events returns the commands and pin changes received so far.
func (p *Panel) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// WireBytes is how many bytes crossed the bus; Transfers how many Tx calls.
func (p *Panel) WireBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wire
}

// Transfers is the number of SPI transactions so far.
func (p *Panel) Transfers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txs
}

// Speed is the clock the driver connected at.
func (p *Panel) Speed() physic.Frequency {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.speed
}

// String implements spi.Port and conn.Conn.
func (p *Panel) String() string { return "dbitest." + p.m.Name }

// Connect implements spi.Port: mode 0, 8 bits, once.
func (p *Panel) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.connected {
		return nil, p.fail("Connect called twice")
	}
	if mode != spi.Mode0 || bits != 8 {
		return nil, p.fail("Connect(%s, %s, %d): the controller reads SPI mode 0, 8 bits", f, mode, bits)
	}
	p.connected, p.speed = true, f
	return (*connection)(p), nil
}

// LimitSpeed implements spi.PortCloser.
func (p *Panel) LimitSpeed(f physic.Frequency) error { return nil }

// Close implements spi.PortCloser.
func (p *Panel) Close() error { return nil }

type connection Panel

func (c *connection) String() string       { return (*Panel)(c).String() }
func (c *connection) Duplex() conn.Duplex  { return conn.Half }
func (c *connection) MaxTxSize() int       { return c.m.MaxTxSize }
func (c *connection) Tx(w, r []byte) error { return (*Panel)(c).tx(w, r) }
func (c *connection) TxPackets(ps []spi.Packet) error {
	for _, pk := range ps {
		if err := c.Tx(pk.W, pk.R); err != nil {
			return err
		}
	}
	return nil
}

var _ conn.Limits = (*connection)(nil)

func (p *Panel) tx(w, r []byte) error {
	p.mu.Lock()
	speed, real := p.speed, p.realTime
	err := p.txLocked(w, r)
	p.mu.Unlock()
	if real && speed > 0 {
		time.Sleep(time.Duration(int64(len(w)) * 8 * int64(time.Second) / int64(speed/physic.Hertz)))
	}
	return err
}

func (p *Panel) txLocked(w, r []byte) error {
	if len(r) != 0 {
		return p.fail("read of %d bytes: the panel is write-only here", len(r))
	}
	if len(w) > p.m.MaxTxSize {
		// spidev refuses it (EMSGSIZE) and nothing is sent.
		return p.fail("a %d-byte transfer is larger than the bus's %d", len(w), p.m.MaxTxSize)
	}
	if p.rstLevel == gpio.Low {
		return p.fail("bytes sent while the controller is held in reset")
	}
	p.wire += int64(len(w))
	p.txs++
	if p.dcLevel == gpio.Low {
		for _, b := range w {
			if err := p.command(b); err != nil {
				return err
			}
		}
		return nil
	}
	return p.data(w)
}

func (p *Panel) command(b byte) error {
	if err := p.finish(); err != nil {
		return err
	}
	if p.now < p.resetAt+p.m.ResetRecover {
		return p.fail("command %#02x %s after the reset; the datasheet asks for %s", b, p.now-p.resetAt, p.m.ResetRecover)
	}
	for _, w := range p.m.Waits {
		at, ok := p.lastCmdAt[w.After]
		if ok && (w.Any || w.Next == b) && p.now-at < w.Min {
			return p.fail("command %#02x %s after %#02x; the datasheet asks for %s", b, p.now-at, w.After, w.Min)
		}
	}
	p.events = append(p.events, Event{At: p.now, Cmd: b})
	p.lastCmdAt[b] = p.now
	p.cur, p.params, p.half = int(b), nil, -1
	switch b {
	case mipidbi.NOP:
	case mipidbi.SWRESET:
		ram := p.ram
		p.powerOn()
		p.ram = ram
		p.cur = -1
	case mipidbi.SLPIN:
		p.sleeping = true
	case mipidbi.SLPOUT:
		p.sleeping = false
	case mipidbi.NORON:
		p.normal = true
	case mipidbi.INVOFF:
		p.inverted = false
	case mipidbi.INVON:
		p.inverted = true
	case mipidbi.DISPOFF:
		p.on = false
	case mipidbi.DISPON:
		p.on = true
	case mipidbi.RAMWR:
		if p.colmod&0x07 != 0x05 {
			return p.fail("RAMWR with COLMOD %#02x: only 16 bits a pixel (0x55) is emulated", p.colmod)
		}
		p.px, p.py = p.xs, p.ys
	case mipidbi.CASET, mipidbi.RASET, mipidbi.MADCTL, mipidbi.COLMOD:
	default:
		return p.fail("unknown command %#02x", b)
	}
	return nil
}

// need is how many parameters a command takes.
func need(cmd int) int {
	switch byte(cmd) {
	case mipidbi.CASET, mipidbi.RASET:
		return 4
	case mipidbi.MADCTL, mipidbi.COLMOD:
		return 1
	}
	return 0
}

// finish checks that the command before had all its parameters.
func (p *Panel) finish() error {
	if p.cur >= 0 && byte(p.cur) != mipidbi.RAMWR && len(p.params) != need(p.cur) {
		return p.fail("command %#02x got %d parameters, wants %d", p.cur, len(p.params), need(p.cur))
	}
	if p.cur >= 0 && byte(p.cur) == mipidbi.RAMWR && p.half >= 0 {
		return p.fail("RAMWR ended in the middle of a pixel")
	}
	return nil
}

func (p *Panel) data(w []byte) error {
	if p.cur < 0 {
		return p.fail("%d data bytes with no command to take them", len(w))
	}
	if byte(p.cur) == mipidbi.RAMWR {
		ev := &p.events[len(p.events)-1]
		ev.N += len(w)
		for _, b := range w {
			if p.half < 0 {
				p.half = int(b)
				continue
			}
			if err := p.pixel(mipidbi.RGB565(p.half)<<8 | mipidbi.RGB565(b)); err != nil {
				return err
			}
			p.half = -1
		}
		return nil
	}
	p.params = append(p.params, w...)
	p.events[len(p.events)-1].Data = append([]byte(nil), p.params...)
	if len(p.params) > need(p.cur) {
		return p.fail("command %#02x got %d parameters, wants %d", p.cur, len(p.params), need(p.cur))
	}
	if len(p.params) < need(p.cur) {
		return nil
	}
	a, b := int(p.params[0])<<8|int(p.params[1%len(p.params)]), 0
	if len(p.params) == 4 {
		b = int(p.params[2])<<8 | int(p.params[3])
	}
	switch byte(p.cur) {
	case mipidbi.CASET, mipidbi.RASET:
		if a > b {
			return p.fail("address window %#02x from %d to %d runs backwards", p.cur, a, b)
		}
		if byte(p.cur) == mipidbi.CASET {
			p.xs, p.xe = a, b
		} else {
			p.ys, p.ye = a, b
		}
	case mipidbi.MADCTL:
		p.madctl = p.params[0]
	case mipidbi.COLMOD:
		p.colmod = p.params[0]
	}
	return nil
}

// pixel stores one pixel at the write pointer, through MADCTL's exchange
// and mirrors, and moves the pointer on within the window.
func (p *Panel) pixel(c mipidbi.RGB565) error {
	col, row := p.px, p.py
	if p.madctl&mipidbi.MV != 0 {
		col, row = row, col
	}
	if p.madctl&mipidbi.MX != 0 {
		col = p.m.RAM.X - 1 - col
	}
	if p.madctl&mipidbi.MY != 0 {
		row = p.m.RAM.Y - 1 - row
	}
	if col < 0 || row < 0 || col >= p.m.RAM.X || row >= p.m.RAM.Y {
		return p.fail("pixel address (%d,%d) with MADCTL %#02x is outside the %dx%d frame memory", p.px, p.py, p.madctl, p.m.RAM.X, p.m.RAM.Y)
	}
	p.ram[row*p.m.RAM.X+col] = c
	if p.px++; p.px > p.xe {
		p.px = p.xs
		if p.py++; p.py > p.ye {
			p.py = p.ys
		}
	}
	return nil
}

// Glass is what the glass shows, in its native orientation: black while
// asleep, off or unlit, colours as the filters and inversion make them.
func (p *Panel) Glass() *image.RGBA {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.m.Glass
	img := image.NewRGBA(image.Rect(0, 0, g.Dx(), g.Dy()))
	dark := p.sleeping || !p.on || (p.blUsed && p.blLevel == gpio.Low)
	swap := (p.madctl&mipidbi.BGR != 0) != p.m.BGR
	inv := p.inverted != p.m.Inverted
	for y := 0; y < g.Dy(); y++ {
		for x := 0; x < g.Dx(); x++ {
			col := g.Min.X + x
			if p.m.Mirrored {
				col = p.m.RAM.X - 1 - col
			}
			c := color.RGBA{A: 0xff}
			if !dark {
				r, gg, b, _ := p.ram[(g.Min.Y+y)*p.m.RAM.X+col].RGBA()
				c.R, c.G, c.B = uint8(r>>8), uint8(gg>>8), uint8(b>>8)
				if swap {
					c.R, c.B = c.B, c.R
				}
				if inv {
					c.R, c.G, c.B = ^c.R, ^c.G, ^c.B
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// Picture is the glass turned back by rot, as the shopper facing the
// rotated panel sees it.
func (p *Panel) Picture(rot mipidbi.Rotation) *image.RGBA {
	g := p.Glass()
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	if rot == mipidbi.Rotate0 {
		return g
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	if rot == mipidbi.Rotate90 || rot == mipidbi.Rotate270 {
		out = image.NewRGBA(image.Rect(0, 0, h, w))
	}
	b := out.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			var gx, gy int
			switch rot {
			case mipidbi.Rotate90: // picture (0,0) is the glass's top right
				gx, gy = w-1-y, x
			case mipidbi.Rotate180:
				gx, gy = w-1-x, h-1-y
			case mipidbi.Rotate270:
				gx, gy = y, h-1-x
			}
			out.SetRGBA(x, y, g.RGBAAt(gx, gy))
		}
	}
	return out
}

// DC is the data/command pin: low for a command byte, high for parameters
// and pixels.
func (p *Panel) DC() gpio.PinOut {
	return &pinOut{Pin: &gpiotest.Pin{N: "DC", Num: -1}, p: p, set: p.setDC}
}

// RST is the reset pin, active low.
func (p *Panel) RST() gpio.PinOut {
	return &pinOut{Pin: &gpiotest.Pin{N: "RST", Num: -1}, p: p, set: p.setRST}
}

// BL is the backlight pin; once handed out, the glass is dark while it is low.
func (p *Panel) BL() gpio.PinOut {
	p.mu.Lock()
	p.blUsed = true
	p.mu.Unlock()
	return &pinOut{Pin: &gpiotest.Pin{N: "BL", Num: -1}, p: p, set: p.setBL}
}

type pinOut struct {
	*gpiotest.Pin
	p   *Panel
	set func(gpio.Level) error
}

func (o *pinOut) Out(l gpio.Level) error {
	if err := o.Pin.Out(l); err != nil {
		return err
	}
	o.p.mu.Lock()
	defer o.p.mu.Unlock()
	return o.set(l)
}

func (p *Panel) setDC(l gpio.Level) error { p.dcLevel = l; return nil }

func (p *Panel) setRST(l gpio.Level) error {
	if l == p.rstLevel {
		return nil
	}
	p.rstLevel = l
	p.events = append(p.events, Event{At: p.now, Pin: "RST", Level: l})
	if l == gpio.Low {
		p.rstLow = p.now
		return nil
	}
	if p.now-p.rstLow < p.m.ResetPulse {
		return p.fail("reset pulse of %s; the datasheet asks for at least %s", p.now-p.rstLow, p.m.ResetPulse)
	}
	ram := p.ram
	p.powerOn()
	p.ram = ram
	p.resetAt = p.now
	clear(p.lastCmdAt)
	return nil
}

func (p *Panel) setBL(l gpio.Level) error {
	p.blLevel = l
	p.events = append(p.events, Event{At: p.now, Pin: "BL", Level: l})
	return nil
}
