package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"
	"time"

	conndisplay "periph.io/x/conn/v3/display"
)

// Panel shows Screens on one display. It keeps the frame the glass holds
// and sends only the rectangles that changed. Show may be called from any
// goroutine; frames reach the drawer one at a time. For a caller that must
// not wait for the bus, put an Async in front.
type Panel struct {
	d      conndisplay.Drawer
	r      *Renderer
	bounds image.Rectangle
	o      options

	showMu sync.Mutex  // one frame at a time
	next   *image.RGBA // guarded by showMu: the frame being made
	shown  *image.RGBA // guarded by showMu: what the glass holds, when valid
	valid  bool        // guarded by showMu: false until a whole frame went out
	cur    Screen      // guarded by showMu: the screen in shown
	clock  string      // guarded by showMu: the countdown text in shown

	mu      sync.Mutex
	current Screen            // guarded by mu; separate so Current does not wait for a slow SPI transfer
	frames  uint64            // guarded by mu: completed Shows and countdown ticks
	changed chan struct{}     // guarded by mu; closed and replaced after each frame
	last    []image.Rectangle // guarded by mu: what the last frame sent
}

// Option changes how a Panel draws.
type Option func(*options)

type options struct {
	now  func() time.Time
	cost cost
	noQR bool
	lang Language
	mono bool // the drawer shows black and white only
}

// WithClock sets the clock the QR screen's countdown reads.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithoutQR is for panels too small or coarse for a QR any phone reads at
// first try (the 128×64 OLED): the QR screen asks for the phone-number flow
// instead.
func WithoutQR() Option { return func(o *options) { o.noQR = true } }

// WithLanguage sets the language of the screens' own words.
func WithLanguage(l Language) Option { return func(o *options) { o.lang = l } }

// WithCost tells the dirty-rectangle merger what the bus charges: bytes a
// pixel (2 for RGB565; 1-bit panels still pay for whole bytes) and the
// bytes-equivalent of starting one window.
func WithCost(perPixel, perWindow int) Option {
	return func(o *options) { o.cost = cost{perPixel: perPixel, overhead: perWindow} }
}

// NewPanel prepares to draw on d, parsing the fonts once.
func NewPanel(d conndisplay.Drawer, opts ...Option) (*Panel, error) {
	if d == nil {
		return nil, errors.New("display: NewPanel needs a display driver; got nil")
	}
	b := d.Bounds()
	if b.Dx() < 16 || b.Dy() < 16 {
		return nil, fmt.Errorf("display: %s reports a %dx%d panel, too small to show anything; check the configured panel size", d, b.Dx(), b.Dy())
	}
	r, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	// A window on a MIPI panel is three commands and six transfers; each
	// spidev transfer costs tens of microseconds, about 64 bytes at 32 MHz.
	o := options{now: time.Now, cost: cost{perPixel: 2, overhead: 64}}
	for _, opt := range opts {
		opt(&o)
	}
	// A 1-bit panel turns mid-grey into black or white: then the panel
	// decides black and white itself, the way the glass will show them.
	if r, _, _, _ := d.ColorModel().Convert(color.Gray{Y: 0x80}).RGBA(); r == 0 || r == 0xffff {
		o.mono = true
	}
	return &Panel{d: d, r: r, bounds: b, o: o, next: image.NewRGBA(b), shown: image.NewRGBA(b), changed: make(chan struct{})}, nil
}

// Check reports whether s can be shown, without drawing: the till hears of
// a bad screen at once even when drawing happens later.
func (p *Panel) Check(s Screen) error {
	if _, ok := lookOf(s.Kind); !ok {
		return fmt.Errorf("display: unknown screen kind %q; use one of the display.Kind constants", s.Kind)
	}
	if s.Kind != QR || p.o.noQR {
		return nil
	}
	return checkQR(p.QRArea(), s)
}

// Show renders s and sends what differs from the glass. If s cannot be
// rendered (say, the QR link is too long), nothing is drawn and the previous
// screen stays up.
func (p *Panel) Show(s Screen) error {
	if err := p.Check(s); err != nil {
		return err
	}
	p.showMu.Lock()
	defer p.showMu.Unlock()
	clock := p.countdown(s)
	area := p.bounds
	if p.valid && sameButClock(p.cur, s) {
		if clock == p.clock {
			return p.done(s, nil)
		}
		area = p.r.drawCountdown(p.next, s, clock, p.o)
	} else if err := p.r.renderInto(p.next, s, clock, p.o); err != nil {
		return err
	}
	if p.o.mono {
		monochrome(p.next, area)
	}
	if err := p.send(area); err != nil {
		return fmt.Errorf("display: sending the %s screen to %s failed; check the display's cable and power: %w", s.Kind, p.d, err)
	}
	p.cur, p.clock = s, clock
	if r, ok := p.d.(Refresher); ok && s.Kind == Idle {
		// Between sales: time for the slow refresh that clears ghosting.
		if err := r.FullRefresh(); err != nil {
			return fmt.Errorf("display: refreshing %s: %w", p.d, err)
		}
	}
	return p.done(s, nil)
}

// Refresher is a drawer whose partial updates leave traces (e-paper): the
// panel asks for a full refresh when the register goes idle.
type Refresher interface {
	FullRefresh() error
}

// Tick redraws the countdown's digits when the time left shows another
// value; nothing else is touched.
func (p *Panel) Tick() error {
	p.showMu.Lock()
	defer p.showMu.Unlock()
	if !p.valid || p.cur.Deadline.IsZero() {
		return nil
	}
	clock := p.countdown(p.cur)
	if clock == p.clock {
		return nil
	}
	area := p.r.drawCountdown(p.next, p.cur, clock, p.o)
	if p.o.mono {
		monochrome(p.next, area)
	}
	if err := p.send(area); err != nil {
		return fmt.Errorf("display: updating the countdown on %s failed; check the display's cable and power: %w", p.d, err)
	}
	p.clock = clock
	return p.done(p.cur, nil)
}

// send draws the rectangles of area where next differs from the glass, or
// the whole frame when the glass is unknown.
func (p *Panel) send(area image.Rectangle) error {
	rects := []image.Rectangle{p.bounds}
	if p.valid {
		rects = dirty(p.shown, p.next, area, p.o.cost)
	}
	for _, r := range rects {
		if err := p.d.Draw(r, p.next, r.Min); err != nil {
			// The glass may hold part of it: redraw everything next time.
			p.valid = false
			copyRect(p.next, p.shown, p.bounds)
			return err
		}
		copyRect(p.shown, p.next, r)
	}
	p.valid = true
	p.mu.Lock()
	p.last = rects
	p.mu.Unlock()
	return nil
}

func (p *Panel) done(s Screen, err error) error {
	p.mu.Lock()
	p.current = s
	p.frames++
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	return err
}

// countdown is the time left on a QR screen as m:ss, rounded up so that
// 0:00 means the time is out.
func (p *Panel) countdown(s Screen) string {
	if s.Kind != QR || s.Deadline.IsZero() {
		return ""
	}
	left := max(s.Deadline.Sub(p.o.now()), 0)
	secs := min(int((left+time.Second-1)/time.Second), 99*60+59)
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// sameButClock reports whether a and b differ at most in the countdown.
func sameButClock(a, b Screen) bool {
	if a.Deadline.IsZero() != b.Deadline.IsZero() {
		return false // the countdown appears or goes: the layout changes
	}
	a.Deadline, b.Deadline = time.Time{}, time.Time{}
	return a == b
}

// Current returns the last screen Show put on the display.
func (p *Panel) Current() Screen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// Frames counts completed Shows and countdown updates.
func (p *Panel) Frames() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frames
}

// Wait blocks until more than after frames are complete and returns the
// count, or returns ctx's error.
func (p *Panel) Wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		p.mu.Lock()
		n, ch := p.frames, p.changed
		p.mu.Unlock()
		if n > after {
			return n, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return n, fmt.Errorf("display: waiting for frame %d (at %d): %w", after+1, n, ctx.Err())
		}
	}
}

// LastUpdate is the rectangles the last frame sent.
func (p *Panel) LastUpdate() []image.Rectangle {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]image.Rectangle(nil), p.last...)
}

// Frame is a copy of what the glass holds, in the panel's own colours (RGB565
// on a TFT, black and white on the OLED and e-paper).
func (p *Panel) Frame() (*image.RGBA, error) {
	p.showMu.Lock()
	defer p.showMu.Unlock()
	if !p.valid {
		return nil, errors.New("display: nothing has been shown on the panel yet")
	}
	img := image.NewRGBA(p.bounds)
	m := p.d.ColorModel()
	var prev [4]byte
	var conv [4]byte
	first := true
	for i := 0; i < len(p.shown.Pix); i += 4 {
		px := [4]byte(p.shown.Pix[i : i+4])
		if first || px != prev {
			r, g, b, a := m.Convert(p.shown.RGBAAt(p.bounds.Min.X+(i/4)%p.bounds.Dx(), p.bounds.Min.Y+(i/4)/p.bounds.Dx())).RGBA()
			conv = [4]byte{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
			prev, first = px, false
		}
		copy(img.Pix[i:i+4], conv[:])
	}
	return img, nil
}

// WritePNG writes what the glass holds as a PNG, for every kind of panel.
func (p *Panel) WritePNG(w io.Writer) error {
	img, err := p.Frame()
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("display: writing the frame as PNG: %w", err)
	}
	return nil
}

// QRArea is the square the QR occupies on this panel, so a caller can ask the
// payment API for a QR image of exactly that size.
func (p *Panel) QRArea() image.Rectangle {
	return p.r.QRArea(p.bounds)
}

// Bounds is the panel's drawing area.
func (p *Panel) Bounds() image.Rectangle { return p.bounds }

// String names the drawer.
func (p *Panel) String() string { return fmt.Sprint(p.d) }
