package st7789

import (
	"image"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"kasse/display/mipidbi"
)

// The controller's frame memory, columns × rows.
const (
	RAMWidth  = 240
	RAMHeight = 320
)

// Opts is one ST7789 panel.
type Opts struct {
	W, H int // glass size in its native (portrait) orientation
	// XOffset, YOffset place the glass in the frame memory, in the native
	// orientation; rotation moves them where they belong (a 240×240
	// panel's row offset of 80 at 180° comes from here, not from Opts).
	XOffset, YOffset int
	Rotation         mipidbi.Rotation
	// Invert sends INVON: the IPS glass of nearly every ST7789 module
	// shows colours inverted without it.
	Invert bool
	BGR    bool
	// Speed is the SPI clock; the controller's write cycle is 16 ns, so up
	// to 62.5 MHz, though wiring usually limits it to 32–40 MHz.
	Speed physic.Frequency
	// Sleep waits; nil is time.Sleep.
	Sleep func(time.Duration)
}

// DefaultOpts is a 240×320 IPS module at 32 MHz.
var DefaultOpts = Opts{W: 240, H: 320, Invert: true, Speed: 32 * physic.MegaHertz}

// Datasheet timings (ST7789V v1.6).
const (
	resetPulse   = 10 * time.Microsecond  // tRW, §8.4
	resetRecover = 120 * time.Millisecond // tRT when reset in sleep-out mode
	afterSWReset = 120 * time.Millisecond // before SLPOUT, §9.1.2
	// After SLPOUT 5 ms is the minimum before the next command; the
	// power-on flow waits 120 ms for the booster before the display goes
	// on, and so do we.
	afterSleepOut = 120 * time.Millisecond
)

// InitSequence is what New sends after the hardware reset, in order, with
// the wait after each command.
func InitSequence(o *Opts) []mipidbi.Step {
	cfg := config(o)
	inv := mipidbi.INVOFF
	if o.Invert {
		inv = mipidbi.INVON
	}
	return []mipidbi.Step{
		{Cmd: mipidbi.SWRESET, Wait: afterSWReset},
		{Cmd: mipidbi.SLPOUT, Wait: afterSleepOut},
		{Cmd: mipidbi.COLMOD, Data: []byte{mipidbi.Pixel16}},
		{Cmd: mipidbi.MADCTL, Data: []byte{cfg.MADCTL()}},
		{Cmd: inv},
		{Cmd: mipidbi.NORON},
		{Cmd: mipidbi.DISPON},
	}
}

func config(o *Opts) mipidbi.Config {
	return mipidbi.Config{
		Name: "st7789", RAM: image.Pt(RAMWidth, RAMHeight), Size: image.Pt(o.W, o.H), Offset: image.Pt(o.XOffset, o.YOffset),
		Rotation: o.Rotation, BGR: o.BGR,
		Reset: mipidbi.Reset{Pulse: resetPulse, Recover: resetRecover},
		Sleep: o.Sleep,
	}
}

// Dev is an ST7789 panel; it implements periph's display.Drawer.
type Dev struct {
	*mipidbi.Dev
}

// New connects to the controller on p at opts.Speed, resets it (when rst is
// given), initialises it and lights the backlight (when bl is given).
func New(p spi.Port, dc, rst, bl gpio.PinOut, opts *Opts) (*Dev, error) {
	if opts == nil {
		opts = &DefaultOpts
	}
	c, err := mipidbi.Connect(p, opts.Speed, DefaultOpts.Speed, config(opts))
	if err != nil {
		return nil, err
	}
	return NewConn(c, dc, rst, bl, opts)
}

// NewConn is New on a connection already made (SPI mode 0, 8 bits).
func NewConn(c spi.Conn, dc, rst, bl gpio.PinOut, opts *Opts) (*Dev, error) {
	if opts == nil {
		opts = &DefaultOpts
	}
	cfg := config(opts)
	cfg.Init = InitSequence(opts)
	d, err := mipidbi.New(c, dc, rst, bl, cfg)
	if err != nil {
		return nil, err
	}
	return &Dev{d}, nil
}
