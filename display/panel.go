package display

import (
	"errors"
	"fmt"
	"image"
	"sync"

	conndisplay "periph.io/x/conn/v3/display"
)

// Panel shows Screens on one display. Show may be called from any goroutine;
// frames reach the drawer one at a time.
type Panel struct {
	d      conndisplay.Drawer
	r      *Renderer
	bounds image.Rectangle

	showMu sync.Mutex  // one frame at a time, so frame can be reused
	frame  *image.RGBA // guarded by showMu

	mu      sync.Mutex
	current Screen // guarded by mu; separate so Current does not wait for a slow SPI transfer
}

// NewPanel prepares to draw on d, parsing the fonts once.
func NewPanel(d conndisplay.Drawer) (*Panel, error) {
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
	return &Panel{d: d, r: r, bounds: b, frame: image.NewRGBA(b)}, nil
}

// Show renders s and sends the whole frame to the display in one Draw. If s
// cannot be rendered (say, the QR link is too long), nothing is drawn and the
// previous screen stays up. The frame is reused, so the drawer must copy the
// pixels during Draw, as periph drivers do.
func (p *Panel) Show(s Screen) error {
	p.showMu.Lock()
	defer p.showMu.Unlock()
	if err := p.r.renderInto(p.frame, s); err != nil {
		return err
	}
	if err := p.d.Draw(p.bounds, p.frame, p.bounds.Min); err != nil {
		return fmt.Errorf("display: sending the %s screen to %s failed; check the display's cable and power: %w", s.Kind, p.d, err)
	}
	p.mu.Lock()
	p.current = s
	p.mu.Unlock()
	return nil
}

// Current returns the last screen Show put on the display.
func (p *Panel) Current() Screen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current
}

// QRArea is the square the QR occupies on this panel, so a caller can ask the
// payment API for a QR image of exactly that size.
func (p *Panel) QRArea() image.Rectangle {
	return p.r.QRArea(p.bounds)
}

// Bounds is the panel's drawing area.
func (p *Panel) Bounds() image.Rectangle { return p.bounds }
