// Package epaper shows the register's screens on a Waveshare 2.13" V2
// e-paper (122×250) through periph's waveshare2in13v2 driver: changes go
// out as partial refreshes (no flashing, a few hundred milliseconds), and a
// full refresh, which clears the ghosting partial ones leave, runs when the
// register goes idle (display.Panel calls FullRefresh on the idle screen).
package epaper

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/devices/v3/waveshare2in13v2"
)

// Dev is the e-paper as a display.Drawer.
type Dev struct {
	mu      sync.Mutex
	d       *waveshare2in13v2.Dev
	frame   *image.RGBA // the picture as last drawn, for full refreshes
	partial bool        // the controller holds the partial waveform
	full    bool        // a full refresh has put a whole picture up
}

// New starts the panel (hardware reset, init, full waveform). rotation
// turns the picture clockwise: 0, 90, 180 or 270.
func New(p spi.Port, dc, cs, rst gpio.PinOut, busy gpio.PinIn, rotation int) (*Dev, error) {
	opts := waveshare2in13v2.EPD2in13v2
	switch rotation {
	case 0:
		opts.Origin = waveshare2in13v2.TopLeft
	case 90:
		opts.Origin = waveshare2in13v2.TopRight
	case 180:
		opts.Origin = waveshare2in13v2.BottomRight
	case 270:
		opts.Origin = waveshare2in13v2.BottomLeft
	default:
		return nil, fmt.Errorf("epaper: rotation %d is not one the panel can do: use 0, 90, 180 or 270", rotation)
	}
	d, err := waveshare2in13v2.New(p, dc, cs, rst, busy, &opts)
	if err != nil {
		return nil, fmt.Errorf("epaper: %w", err)
	}
	if err := d.Init(); err != nil {
		return nil, fmt.Errorf("epaper: initialising the controller: %w", err)
	}
	return &Dev{d: d, frame: image.NewRGBA(d.Bounds())}, nil
}

// String implements conn.Resource.
func (e *Dev) String() string { return e.d.String() }

// Halt clears the paper to white: a stale QR must not stay up.
func (e *Dev) Halt() error { return e.d.Halt() }

// ColorModel is 1 bit a pixel.
func (e *Dev) ColorModel() color.Model { return e.d.ColorModel() }

// Bounds is the picture after rotation.
func (e *Dev) Bounds() image.Rectangle { return e.d.Bounds() }

// Draw puts r up with a partial refresh; the very first picture gets a full
// one, since the paper's old content is unknown.
func (e *Dev) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	draw.Draw(e.frame, r, src, sp, draw.Src)
	if !e.full {
		return e.fullLocked()
	}
	if !e.partial {
		if err := e.d.SetUpdateMode(waveshare2in13v2.Partial); err != nil {
			return err
		}
		e.partial = true
	}
	return e.d.Draw(r, src, sp)
}

// FullRefresh redraws the whole picture with the full waveform.
func (e *Dev) FullRefresh() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fullLocked()
}

func (e *Dev) fullLocked() error {
	if err := e.d.SetUpdateMode(waveshare2in13v2.Full); err != nil {
		return err
	}
	e.partial = false
	if err := e.d.Draw(e.frame.Bounds(), e.frame, e.frame.Bounds().Min); err != nil {
		return err
	}
	e.full = true
	return nil
}
