package mipidbi

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/display"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Commands of the Display Command Set that both controllers implement.
const (
	NOP     byte = 0x00
	SWRESET byte = 0x01 // software reset
	SLPIN   byte = 0x10 // sleep in
	SLPOUT  byte = 0x11 // sleep out
	NORON   byte = 0x13 // normal display mode on
	INVOFF  byte = 0x20 // display inversion off
	INVON   byte = 0x21 // display inversion on
	DISPOFF byte = 0x28
	DISPON  byte = 0x29
	CASET   byte = 0x2A // column address set
	RASET   byte = 0x2B // row (page) address set
	RAMWR   byte = 0x2C // memory write
	MADCTL  byte = 0x36 // memory data access control
	COLMOD  byte = 0x3A // interface pixel format (ILI9341: PIXSET)
)

// MADCTL bits.
const (
	MY  byte = 0x80 // row address order: bottom to top
	MX  byte = 0x40 // column address order: right to left
	MV  byte = 0x20 // row/column exchange
	ML  byte = 0x10 // vertical refresh order
	BGR byte = 0x08 // colour filter order BGR
	MH  byte = 0x04 // horizontal refresh order
)

// Pixel16 is COLMOD's value for 16 bits a pixel (RGB565) on both the RGB and
// the control interface.
const Pixel16 byte = 0x55

// DefaultMaxTxSize is used when the bus does not say (conn.Limits): it is
// spidev's default bufsiz, and spidev refuses larger transfers.
const DefaultMaxTxSize = 4096

// Rotation turns the picture clockwise on the glass, in degrees.
type Rotation int

// The rotations the controllers can do in hardware with MADCTL.
const (
	Rotate0   Rotation = 0
	Rotate90  Rotation = 90
	Rotate180 Rotation = 180
	Rotate270 Rotation = 270
)

// Reset is the hardware reset pulse: RST low for Pulse, then Recover before
// the first command.
type Reset struct {
	Pulse, Recover time.Duration
}

// Step is one command of an init sequence and the wait after it.
type Step struct {
	Cmd  byte
	Data []byte
	Wait time.Duration
}

// Config is one panel on one controller; the controller packages fill it in.
type Config struct {
	Name string // the controller, e.g. "st7789", in String and errors
	// RAM is the controller's frame memory, columns × rows, in its native
	// (portrait) orientation.
	RAM image.Point
	// Size is the glass in its native orientation; Offset is where its
	// first column and row sit in the frame memory (a 240×240 ST7789
	// panel shows rows 0–239 of 320, so 180° needs a row offset of 80).
	Size, Offset image.Point
	Rotation     Rotation
	// Mirrored: the module wires the glass's columns right to left (most
	// ILI9341 modules), so MX is flipped to show the picture the right way.
	Mirrored bool
	// BGR: the glass has its colour filters in BGR order.
	BGR   bool
	Reset Reset
	// Init is the controller's sequence after the reset; Config.MADCTL
	// gives the value for its MADCTL step.
	Init []Step
	// Sleep waits; tests pass a fake that records instead of sleeping.
	Sleep func(time.Duration)
}

// Validate says what is wrong with c.
func (c *Config) Validate() error {
	switch c.Rotation {
	case Rotate0, Rotate90, Rotate180, Rotate270:
	default:
		return fmt.Errorf("%s: rotation %d is not one the controller can do: use 0, 90, 180 or 270", c.Name, c.Rotation)
	}
	if c.Size.X <= 0 || c.Size.Y <= 0 || c.Offset.X < 0 || c.Offset.Y < 0 ||
		c.Offset.X+c.Size.X > c.RAM.X || c.Offset.Y+c.Size.Y > c.RAM.Y {
		return fmt.Errorf("%s: a %dx%d panel at offset (%d,%d) does not fit the controller's %dx%d frame memory: check the panel's width, height and offsets",
			c.Name, c.Size.X, c.Size.Y, c.Offset.X, c.Offset.Y, c.RAM.X, c.RAM.Y)
	}
	return nil
}

// MADCTL is the memory access control value for the rotation: the address
// counters are exchanged and mirrored so that the frame memory is written in
// the picture's own coordinates.
func (c *Config) MADCTL() byte {
	var v byte
	switch c.Rotation {
	case Rotate90:
		v = MX | MV
	case Rotate180:
		v = MX | MY
	case Rotate270:
		v = MY | MV
	}
	if c.Mirrored {
		v ^= MX
	}
	if c.BGR {
		v |= BGR
	}
	return v
}

// origin is the address of the picture's (0,0) in the frame memory, per
// rotation: mirroring an axis moves the glass to the other end of the memory.
func (c *Config) origin() image.Point {
	farX := c.RAM.X - c.Size.X - c.Offset.X
	farY := c.RAM.Y - c.Size.Y - c.Offset.Y
	switch c.Rotation {
	case Rotate90:
		return image.Pt(c.Offset.Y, farX)
	case Rotate180:
		return image.Pt(farX, farY)
	case Rotate270:
		return image.Pt(farY, c.Offset.X)
	}
	return c.Offset
}

// Dev is a panel on a MIPI DBI controller; it implements display.Drawer.
type Dev struct {
	cfg    Config
	c      spi.Conn
	dc     gpio.PinOut
	rst    gpio.PinOut
	bl     gpio.PinOut
	bounds image.Rectangle
	origin image.Point

	mu  sync.Mutex
	buf []byte // one transfer, at most the bus's MaxTxSize
}

var _ display.Drawer = (*Dev)(nil)

// Connect checks cfg, then connects to its controller on p at speed (the
// default when 0) in SPI mode 0 with 8-bit words, as both controllers take
// commands and pixels.
func Connect(p spi.Port, speed, def physic.Frequency, cfg Config) (spi.Conn, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if speed == 0 {
		speed = def
	}
	c, err := p.Connect(speed, spi.Mode0, 8)
	if err != nil {
		return nil, fmt.Errorf("%s: connecting to %s at %s: %w", cfg.Name, p, speed, err)
	}
	return c, nil
}

// New resets the controller, runs the init sequence and lights the
// backlight. dc is required; rst and bl may be nil where they are wired to
// a fixed level.
func New(c spi.Conn, dc, rst, bl gpio.PinOut, cfg Config) (*Dev, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil || dc == nil {
		return nil, fmt.Errorf("%s: New needs the SPI connection and the D/C pin", cfg.Name)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	size := cfg.Size
	if cfg.Rotation == Rotate90 || cfg.Rotation == Rotate270 {
		size = image.Pt(size.Y, size.X)
	}
	max := DefaultMaxTxSize
	if l, ok := c.(conn.Limits); ok && l.MaxTxSize() > 0 {
		max = l.MaxTxSize()
	}
	max &^= 1 // whole pixels per transfer keeps the byte order simple
	if max < 2 {
		return nil, fmt.Errorf("%s: the SPI bus takes at most %d bytes a transfer; a pixel needs 2", cfg.Name, max)
	}
	d := &Dev{cfg: cfg, c: c, dc: dc, rst: rst, bl: bl, bounds: image.Rectangle{Max: size},
		origin: cfg.origin(), buf: make([]byte, max)}
	if err := d.init(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dev) init() error {
	if d.rst != nil {
		for _, l := range []gpio.Level{gpio.High, gpio.Low, gpio.High} {
			if err := d.rst.Out(l); err != nil {
				return fmt.Errorf("%s: driving the reset pin %s: %w", d.cfg.Name, d.rst, err)
			}
			if l == gpio.Low {
				d.cfg.Sleep(d.cfg.Reset.Pulse)
			}
		}
		d.cfg.Sleep(d.cfg.Reset.Recover)
	}
	for _, s := range d.cfg.Init {
		if err := d.command(s.Cmd, s.Data...); err != nil {
			return err
		}
		if s.Wait > 0 {
			d.cfg.Sleep(s.Wait)
		}
	}
	if d.bl != nil {
		if err := d.bl.Out(gpio.High); err != nil {
			return fmt.Errorf("%s: switching the backlight on (pin %s): %w", d.cfg.Name, d.bl, err)
		}
	}
	return nil
}

// command sends cmd with D/C low, then its parameters with D/C high.
func (d *Dev) command(cmd byte, data ...byte) error {
	if err := d.dc.Out(gpio.Low); err != nil {
		return fmt.Errorf("%s: driving the D/C pin %s: %w", d.cfg.Name, d.dc, err)
	}
	if err := d.c.Tx([]byte{cmd}, nil); err != nil {
		return fmt.Errorf("%s: sending command %#02x: %w", d.cfg.Name, cmd, err)
	}
	if len(data) == 0 {
		return nil
	}
	return d.data(data)
}

func (d *Dev) data(b []byte) error {
	if err := d.dc.Out(gpio.High); err != nil {
		return fmt.Errorf("%s: driving the D/C pin %s: %w", d.cfg.Name, d.dc, err)
	}
	if err := d.c.Tx(b, nil); err != nil {
		return fmt.Errorf("%s: sending %d data bytes: %w", d.cfg.Name, len(b), err)
	}
	return nil
}

// String implements conn.Resource.
func (d *Dev) String() string {
	return fmt.Sprintf("%s{%s, %dx%d, %d°}", d.cfg.Name, d.c, d.bounds.Dx(), d.bounds.Dy(), d.cfg.Rotation)
}

// Halt switches the backlight and the display off and puts the controller
// to sleep; the frame memory is kept.
func (d *Dev) Halt() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	if d.bl != nil {
		errs = append(errs, d.bl.Out(gpio.Low))
	}
	errs = append(errs, d.command(DISPOFF), d.command(SLPIN))
	return errors.Join(errs...)
}

// ColorModel is RGB565.
func (d *Dev) ColorModel() color.Model { return RGB565Model() }

// Bounds is the picture's size after rotation.
func (d *Dev) Bounds() image.Rectangle { return d.bounds }

// Draw sends the pixels of r, taken from src at sp, as draw.Draw would copy
// them: one address window and one memory write, in transfers no larger than
// the bus takes.
func (d *Dev) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	if src == nil {
		return fmt.Errorf("%s: Draw needs a source image; got nil", d.cfg.Name)
	}
	off := sp.Sub(r.Min)
	r = r.Intersect(d.bounds).Intersect(src.Bounds().Sub(off))
	if r.Empty() {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.window(r); err != nil {
		return err
	}
	rgba, _ := src.(*image.RGBA)
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			var c RGB565
			if rgba != nil {
				i := rgba.PixOffset(x+off.X, y+off.Y)
				c = RGB565Of(rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2])
			} else {
				c = ToRGB565(src.At(x+off.X, y+off.Y))
			}
			d.buf[n], d.buf[n+1] = byte(c>>8), byte(c) // big-endian, as the controller reads it
			n += 2
			if n == len(d.buf) {
				if err := d.data(d.buf); err != nil {
					return err
				}
				n = 0
			}
		}
	}
	if n > 0 {
		return d.data(d.buf[:n])
	}
	return nil
}

// window sets the address window to r (picture coordinates) and starts a
// memory write.
func (d *Dev) window(r image.Rectangle) error {
	x0, x1 := r.Min.X+d.origin.X, r.Max.X-1+d.origin.X
	y0, y1 := r.Min.Y+d.origin.Y, r.Max.Y-1+d.origin.Y
	if err := d.command(CASET, byte(x0>>8), byte(x0), byte(x1>>8), byte(x1)); err != nil {
		return err
	}
	if err := d.command(RASET, byte(y0>>8), byte(y0), byte(y1>>8), byte(y1)); err != nil {
		return err
	}
	return d.command(RAMWR)
}
