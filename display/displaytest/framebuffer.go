// Package displaytest provides an in-memory display for tests and for the
// simulated register (kassed --sim), the way periph's spitest fakes a bus.
package displaytest

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"

	"kasse/display"

	conndisplay "periph.io/x/conn/v3/display"
)

var _ conndisplay.Drawer = (*Framebuffer)(nil)

// Framebuffer is a display.Drawer that keeps its pixels in memory as RGB565,
// like the ST7789's own RAM, so colours are quantised as on the real panel.
// It is safe for concurrent use.
type Framebuffer struct {
	w, h int

	mu      sync.Mutex
	pix     []display.RGB565 // guarded by mu, row-major
	frames  uint64           // guarded by mu
	changed chan struct{}    // guarded by mu; closed and replaced after each Draw
}

// NewFramebuffer returns a w×h panel, all black as a panel is at power-up.
func NewFramebuffer(w, h int) *Framebuffer {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("displaytest: NewFramebuffer(%d, %d): the size must be positive", w, h))
	}
	return &Framebuffer{w: w, h: h, pix: make([]display.RGB565, w*h), changed: make(chan struct{})}
}

// String implements conn.Resource.
func (f *Framebuffer) String() string { return fmt.Sprintf("displaytest.Framebuffer(%dx%d)", f.w, f.h) }

// Halt implements conn.Resource. Nothing moves or glows, and the frame is
// kept so a test can still look at it.
func (f *Framebuffer) Halt() error { return nil }

// ColorModel is RGB565, as on the real panel.
func (f *Framebuffer) ColorModel() color.Model { return display.RGB565Model() }

// Bounds is (0,0)-(w,h).
func (f *Framebuffer) Bounds() image.Rectangle { return image.Rect(0, 0, f.w, f.h) }

// Draw copies src like draw.Draw(fb, r, src, sp, draw.Src): pixels of r that
// src does not cover stay as they were. A rectangle reaching outside the
// panel is an error, as a real panel's address window would be.
func (f *Framebuffer) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	if !r.In(f.Bounds()) {
		return fmt.Errorf("displaytest: draw rectangle %v is outside the %dx%d panel; clip it to Bounds()", r, f.w, f.h)
	}
	if src == nil {
		return errors.New("displaytest: Draw needs a source image; got nil")
	}
	// Panel point p shows src point p+off; only where src has pixels, as draw.Draw clips.
	off := sp.Sub(r.Min)
	r = r.Intersect(src.Bounds().Sub(off))

	f.mu.Lock()
	defer f.mu.Unlock()
	if !r.Empty() {
		f.copyIn(r, src, off)
	}
	f.frames++
	close(f.changed)
	f.changed = make(chan struct{})
	return nil
}

func (f *Framebuffer) copyIn(r image.Rectangle, src image.Image, off image.Point) {
	rgba, fast := src.(*image.RGBA)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := f.pix[y*f.w : (y+1)*f.w]
		for x := r.Min.X; x < r.Max.X; x++ {
			sx, sy := x+off.X, y+off.Y
			if fast {
				i := rgba.PixOffset(sx, sy)
				row[x] = display.RGB565Of(rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2])
				continue
			}
			row[x] = display.ToRGB565(src.At(sx, sy))
		}
	}
}

// Image returns a copy of the current frame, RGB565 widened to 8 bits a channel.
func (f *Framebuffer) Image() *image.RGBA {
	img := image.NewRGBA(f.Bounds())
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.pix {
		r, g, b, _ := c.RGBA()
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), 0xff
	}
	return img
}

// WritePNG writes the current frame as a PNG.
func (f *Framebuffer) WritePNG(w io.Writer) error {
	if err := png.Encode(w, f.Image()); err != nil {
		return fmt.Errorf("displaytest: writing the frame as PNG: %w", err)
	}
	return nil
}

// Frames is the number of Draw calls completed so far.
func (f *Framebuffer) Frames() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames
}

// Wait blocks until more than after frames have been drawn and returns the
// count, or returns ctx's error.
func (f *Framebuffer) Wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		f.mu.Lock()
		n, ch := f.frames, f.changed
		f.mu.Unlock()
		if n > after {
			return n, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return n, fmt.Errorf("displaytest: waiting for frame %d (at %d): %w", after+1, n, ctx.Err())
		}
	}
}
