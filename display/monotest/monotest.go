// Package monotest emulates the buses of the monochrome panels periph
// drives for us, the SSD1306 OLED and the Waveshare 2.13" e-paper (SSD1675
// class controller), for tests and for kassed --sim: each is the spi.Port
// and hands out the pins, sees every byte with its D/C level, runs the
// commands it knows, fails on any other, and rebuilds the glass.
package monotest

import (
	"fmt"
	"image"
	"image/color"
	"slices"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// bus is what both fakes share: a port, a D/C pin, a command decoder.
type bus struct {
	name string
	max  int

	mu     sync.Mutex
	dc     gpio.Level
	err    error
	wire   int64
	cmd    int    // the command taking data; -1 none
	params []byte // its parameters so far
	// exec runs a command once its parameters are complete (stream
	// commands get each data chunk).
	exec func(cmd byte, params []byte) error
	// arity says how many parameters a command takes; ok false: unknown.
	arity func(cmd byte) (n []int, stream, ok bool)
	// ram, when set, takes every D/C-high byte (the SSD1306 sends a
	// command's parameters with D/C low, right after it).
	ram func([]byte) error
	// csLow, when set, says whether the driver-driven chip select is active.
	csLow func() bool
}

func (b *bus) fail(format string, a ...any) error {
	err := fmt.Errorf("%s emulator: "+format, append([]any{b.name}, a...)...)
	if b.err == nil {
		b.err = err
	}
	return err
}

// Err is the first thing the panel could not accept, if any.
func (b *bus) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// WireBytes is how many bytes crossed the bus.
func (b *bus) WireBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wire
}

func (b *bus) String() string { return "monotest." + b.name }

// Connect implements spi.Port.
func (b *bus) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	if mode != spi.Mode0 || bits != 8 {
		return nil, b.fail("Connect(%s, %s, %d): the controller reads SPI mode 0, 8 bits", f, mode, bits)
	}
	return (*busConn)(b), nil
}

// LimitSpeed implements spi.PortCloser.
func (b *bus) LimitSpeed(physic.Frequency) error { return nil }

// Close implements spi.PortCloser.
func (b *bus) Close() error { return nil }

type busConn bus

func (c *busConn) String() string       { return (*bus)(c).String() }
func (c *busConn) Duplex() conn.Duplex  { return conn.Half }
func (c *busConn) MaxTxSize() int       { return c.max }
func (c *busConn) Tx(w, r []byte) error { return (*bus)(c).tx(w, r) }
func (c *busConn) TxPackets(ps []spi.Packet) error {
	for _, p := range ps {
		if err := c.Tx(p.W, p.R); err != nil {
			return err
		}
	}
	return nil
}

func (b *bus) tx(w, r []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(r) != 0 {
		return b.fail("read of %d bytes: the panel is write-only here", len(r))
	}
	if len(w) > b.max {
		return b.fail("a %d-byte transfer is larger than the bus's %d", len(w), b.max)
	}
	if b.csLow != nil && !b.csLow() {
		return b.fail("%d bytes sent with chip select high: the controller ignores them", len(w))
	}
	b.wire += int64(len(w))
	if b.dc == gpio.High {
		if b.ram != nil {
			if err := b.finish(); err != nil {
				return err
			}
			return b.ram(w)
		}
		return b.data(w)
	}
	for _, c := range w {
		if b.ram != nil && b.cmd >= 0 {
			if err := b.data([]byte{c}); err != nil { // an inline parameter
				return err
			}
			continue
		}
		if err := b.command(c); err != nil {
			return err
		}
	}
	return nil
}

func (b *bus) command(c byte) error {
	if err := b.finish(); err != nil {
		return err
	}
	n, stream, ok := b.arity(c)
	if !ok {
		return b.fail("unknown command %#02x", c)
	}
	b.cmd, b.params = int(c), nil
	if !stream && slices.Contains(n, 0) {
		b.cmd = -1
		return b.exec(c, nil)
	}
	return nil
}

// finish runs a command whose parameter count is only known at its end.
func (b *bus) finish() error {
	if b.cmd < 0 {
		return nil
	}
	c := byte(b.cmd)
	n, stream, _ := b.arity(c)
	b.cmd = -1
	if stream {
		return nil
	}
	if !slices.Contains(n, len(b.params)) {
		return b.fail("command %#02x got %d parameters, wants %v", c, len(b.params), n)
	}
	return b.exec(c, b.params)
}

func (b *bus) data(w []byte) error {
	if b.cmd < 0 {
		return b.fail("%d data bytes with no command to take them", len(w))
	}
	c := byte(b.cmd)
	n, stream, _ := b.arity(c)
	if stream {
		return b.exec(c, w)
	}
	b.params = append(b.params, w...)
	if len(b.params) > slices.Max(n) {
		return b.fail("command %#02x got %d parameters, wants %v", c, len(b.params), n)
	}
	if len(n) == 1 && len(b.params) == n[0] {
		return b.finish()
	}
	return nil
}

type pinOut struct {
	*gpiotest.Pin
	set func(gpio.Level)
}

func (p *pinOut) Out(l gpio.Level) error {
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	p.set(l)
	return nil
}

func (b *bus) pin(name string, set func(gpio.Level)) gpio.PinOut {
	return &pinOut{Pin: &gpiotest.Pin{N: name, Num: -1}, set: func(l gpio.Level) {
		b.mu.Lock()
		defer b.mu.Unlock()
		set(l)
	}}
}

// DC is the data/command pin.
func (b *bus) DC() gpio.PinOut { return b.pin("DC", func(l gpio.Level) { b.dc = l }) }

func gray(on bool) color.Gray {
	if on {
		return color.Gray{Y: 0xff}
	}
	return color.Gray{}
}

// image of a 1-bit glass, lit/white pixels white.
func glass(w, h int, at func(x, y int) bool) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, gray(at(x, y)))
		}
	}
	return img
}
