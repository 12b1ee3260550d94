package ili9341

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

// Opts is one ILI9341 panel.
type Opts struct {
	W, H int // glass size in its native (portrait) orientation
	// XOffset, YOffset place the glass in the frame memory, in the native
	// orientation; rotation moves them where they belong (a 240×240
	// panel's row offset of 80 at 180° comes from here, not from Opts).
	XOffset, YOffset int
	Rotation         mipidbi.Rotation
	// Invert sends INVON, for the few IPS modules whose glass is inverted.
	Invert bool
	// Mirrored: the module wires the glass's columns right to left (most
	// do); BGR: its colour filters are in BGR order (most are).
	Mirrored, BGR bool
	// Speed is the SPI clock; the datasheet's write cycle is 100 ns
	// (10 MHz), but modules run at 32–40 MHz in practice.
	Speed physic.Frequency
	// Sleep waits; nil is time.Sleep.
	Sleep func(time.Duration)
}

// DefaultOpts is the common 240×320 module (mirrored columns, BGR) at 32 MHz.
var DefaultOpts = Opts{W: 240, H: 320, Mirrored: true, BGR: true, Speed: 32 * physic.MegaHertz}

// Datasheet timings (ILI9341 v1.11).
const (
	resetPulse   = 10 * time.Microsecond  // tRW, §15.4
	resetRecover = 120 * time.Millisecond // tRT when reset in sleep-out mode
	afterSWReset = 120 * time.Millisecond // before Sleep Out, §8.2.2
	// After Sleep Out 5 ms is the minimum before the next command, and
	// 120 ms before Sleep In; the supply needs that long to settle before
	// the display goes on (§8.2.12), so we wait it here.
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
		Name: "ili9341", RAM: image.Pt(RAMWidth, RAMHeight), Size: image.Pt(o.W, o.H), Offset: image.Pt(o.XOffset, o.YOffset),
		Rotation: o.Rotation, Mirrored: o.Mirrored, BGR: o.BGR,
		Reset: mipidbi.Reset{Pulse: resetPulse, Recover: resetRecover},
		Sleep: o.Sleep,
	}
}

// Dev is an ILI9341 panel; it implements periph's display.Drawer.
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
