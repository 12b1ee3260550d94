package display

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// paint is an opaque 0xRRGGBB colour; as a constant it cannot be changed.
type paint uint32

// The palette. Text is not pure black so the QR stays the only pure-black
// thing on the screen.
const (
	white  paint = 0xffffff
	black  paint = 0x000000
	ink    paint = 0x1e1e1e
	ink2   paint = 0x444444
	orange paint = 0xff5b24 // Vipps orange
	green  paint = 0x1a8f3c
	red    paint = 0xd02121
	grey   paint = 0x707070
)

func (p paint) rgba() color.RGBA {
	return color.RGBA{uint8(p >> 16), uint8(p >> 8), uint8(p), 0xff}
}

// RGBA implements color.Color.
func (p paint) RGBA() (r, g, b, a uint32) { return p.rgba().RGBA() }

// minFont is the smallest text size in pixels; below it the Go fonts stop
// being readable, so layouts truncate instead of shrinking further.
const minFont = 8

// quietModules is the white border the QR standard asks for, in modules.
const quietModules = 4

// Renderer draws Screens into images. Its parsed fonts are immutable, so one
// Renderer may be used from several goroutines at once.
type Renderer struct {
	regular *opentype.Font
	bold    *opentype.Font
}

// NewRenderer parses the embedded Go fonts once.
func NewRenderer() (*Renderer, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("display: parsing the built-in Go Regular font (a broken build?): %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("display: parsing the built-in Go Bold font (a broken build?): %w", err)
	}
	return &Renderer{regular: reg, bold: bold}, nil
}

// Render draws s into a new image with the given bounds (a panel's Bounds).
func (r *Renderer) Render(s Screen, bounds image.Rectangle) (*image.RGBA, error) {
	if bounds.Dx() < 16 || bounds.Dy() < 16 {
		return nil, fmt.Errorf("display: a %dx%d panel is too small to show anything; check the configured panel size", bounds.Dx(), bounds.Dy())
	}
	dst := image.NewRGBA(bounds)
	if err := r.renderInto(dst, s, "", options{}); err != nil {
		return nil, err
	}
	return dst, nil
}

// QRArea is the square the QR code occupies on a panel with these bounds. It
// depends on the bounds alone so a caller can ask for a QR image of exactly
// this size before showing it.
func (r *Renderer) QRArea(bounds image.Rectangle) image.Rectangle {
	return layoutQR(geometryOf(bounds)).area
}

// geometry is what every screen shares on a panel.
type geometry struct {
	bounds  image.Rectangle
	bar     image.Rectangle // accent stripe along the top
	content image.Rectangle // where text goes: below the bar, inside the margins
	margin  int
	unit    float64 // text sizes are fractions of it
}

func geometryOf(b image.Rectangle) geometry {
	w, h := b.Dx(), b.Dy()
	short := min(w, h)
	barH := max(2, short/48)
	m := max(2, short/24)
	g := geometry{
		bounds: b,
		bar:    image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+barH),
		margin: m,
		// Landscape panels have less height for lines of text than their
		// width suggests, so height counts for a bit more.
		unit: math.Min(float64(w), float64(h)*0.75),
	}
	g.content = image.Rect(b.Min.X+m, b.Min.Y+barH+m/2, b.Max.X-m, b.Max.Y-m/2)
	return g
}

func (g geometry) size(fraction float64) float64 {
	return math.Max(minFont, g.unit*fraction)
}

// Text sizes on the QR screen, as fractions of the unit; layoutQR reserves
// room for them before the QR takes the rest.
const (
	qrTitleSize  = 1.0 / 12
	qrAmountSize = 1.0 / 7
	qrHintSize   = 1.0 / 15
	qrMsgSize    = 1.0 / 16
)

type qrLayout struct {
	area image.Rectangle
	top  image.Rectangle // title, in the stacked (portrait) layout; empty beside
	text image.Rectangle // amount and hint: below the QR, or in the column beside it
}

// layoutQR puts the QR either above the text (portrait) or beside it
// (landscape), whichever gives the larger QR.
func layoutQR(g geometry) qrLayout {
	b := g.bounds
	m := g.margin
	inner := image.Rect(b.Min.X, g.bar.Max.Y, b.Max.X, b.Max.Y)
	lineH := func(size float64) int { return int(math.Ceil(size * 1.25)) }

	titleBand := lineH(g.size(qrTitleSize)) + m/2
	bottomBand := lineH(g.size(qrAmountSize)) + lineH(g.size(qrHintSize)) + m
	stacked := min(inner.Dx(), inner.Dy()-titleBand-bottomBand)

	column := max(b.Dx()*3/10, 5*minFont)
	beside := min(inner.Dy(), inner.Dx()-column)

	if stacked >= beside {
		s := max(stacked, 0)
		x := inner.Min.X + (inner.Dx()-s)/2
		y := inner.Min.Y + titleBand
		area := image.Rect(x, y, x+s, y+s)
		return qrLayout{
			area: area,
			top:  image.Rect(b.Min.X+m, inner.Min.Y+m/4, b.Max.X-m, area.Min.Y),
			text: image.Rect(b.Min.X+m, area.Max.Y, b.Max.X-m, b.Max.Y-m/2),
		}
	}
	s := max(beside, 0)
	y := inner.Min.Y + (inner.Dy()-s)/2
	area := image.Rect(inner.Min.X, y, inner.Min.X+s, y+s)
	return qrLayout{
		area: area,
		text: image.Rect(area.Max.X, inner.Min.Y+m/2, b.Max.X-m, b.Max.Y-m/2),
	}
}

func (r *Renderer) renderInto(dst *image.RGBA, s Screen, clock string, o options) error {
	lk, ok := lookOf(s.Kind)
	if !ok {
		return fmt.Errorf("display: unknown screen kind %q; use one of the display.Kind constants", s.Kind)
	}
	tr := o.lang.translate
	g := geometryOf(dst.Bounds())
	fill(dst, dst.Bounds(), white)
	fill(dst, g.bar, lk.accent)

	title := tr(s.Title)
	if title == "" {
		title = tr(lk.title)
	}
	tc := &typesetter{r: r, faces: map[faceKey]font.Face{}}

	if o.noQR {
		// A small panel (the 128×64 OLED) shows the status and the amount
		// only, large enough to read; no QR a phone reads at first try
		// fits, so the QR screen says to pay by phone number instead.
		h := float64(dst.Bounds().Dy())
		if s.Kind == QR {
			title = tr(phoneTitle)
		}
		second := item{text: s.Amount, bold: true, size: math.Max(minFont, h/2.8), ink: ink, right: s.Kind == Amount}
		if s.Amount == "" {
			second = item{text: tr(lk.hint), bold: true, size: math.Max(minFont, h/5), ink: ink, keep: 0.6}
		}
		tc.draw(dst, g.content, []item{
			{text: title, bold: true, size: math.Max(minFont, h/5), ink: lk.titleInk, keep: 0.6},
			second,
		})
		return nil
	}
	if s.Kind == QR {
		l := layoutQR(g)
		if err := drawQR(dst, l.area, s); err != nil {
			return err
		}
		cl := countdownLayout(g, l, clock != "")
		items := []item{
			{text: s.Amount, bold: true, size: g.size(qrAmountSize), ink: ink},
			{text: tr(s.Message), size: g.size(qrMsgSize), ink: ink2, wrap: true},
			{text: tr(lk.hint), bold: true, size: g.size(qrHintSize), ink: orange, keep: 0.8},
		}
		titleItem := item{text: title, bold: true, size: g.size(qrTitleSize), ink: lk.titleInk, keep: 0.7}
		if cl.top.Empty() {
			items = append([]item{titleItem}, items...)
		} else {
			tc.draw(dst, cl.top, []item{titleItem})
		}
		tc.draw(dst, cl.text, items)
		if clock != "" {
			r.drawClock(dst, cl, clock)
		}
		return nil
	}

	titleSize := 1.0 / 9
	if s.Kind == Idle {
		titleSize = 1.0 / 7 // the shop's name is the whole point of the screen
	}
	amount := item{text: s.Amount, bold: true, size: g.size(1.0 / 5), ink: ink}
	if s.Kind == Amount {
		// While keying, flush right and smaller, like a classic register:
		// one key press changes a few digits' worth of pixels (≤ 3 % of
		// the frame), not the whole line.
		amount.right, amount.size = true, g.size(amountKeyingSize)
	}
	tc.draw(dst, g.content, []item{
		{text: title, bold: true, size: g.size(titleSize), ink: lk.titleInk, keep: 0.7},
		{icon: lk.icon, size: g.unit / 4, ink: lk.accent},
		amount,
		{text: tr(s.Message), size: g.size(1.0 / 14), ink: ink2, wrap: true},
		{text: tr(lk.hint), bold: true, size: g.size(1.0 / 13), ink: orange, keep: 0.8},
	})
	return nil
}

// amountKeyingSize is the keyed amount's size, as a fraction of the unit.
const amountKeyingSize = 1.0 / 7

// clockLayout splits the QR screen's text room to give the countdown a
// box of its own, clear of the QR and its quiet zone.
type clockLayout struct {
	top, text, box image.Rectangle
	size           float64
	right          bool // flush right in the title band; else centred below the text
}

func countdownLayout(g geometry, l qrLayout, on bool) clockLayout {
	cl := clockLayout{top: l.top, text: l.text, size: g.size(qrTitleSize)}
	if !on {
		return cl
	}
	// Wide enough for 99:59 in Go Regular, whose digits share one width.
	w := int(math.Ceil(cl.size * 2.9))
	if !l.top.Empty() {
		cl.right = true
		cl.box = image.Rect(l.top.Max.X-w, l.top.Min.Y, l.top.Max.X, l.top.Max.Y)
		cl.top.Max.X = cl.box.Min.X
		return cl
	}
	h := int(math.Ceil(cl.size * 1.25))
	cl.box = image.Rect(l.text.Min.X, l.text.Max.Y-h, l.text.Max.X, l.text.Max.Y)
	cl.text.Max.Y = cl.box.Min.Y
	return cl
}

func (r *Renderer) drawClock(dst *image.RGBA, cl clockLayout, clock string) {
	fill(dst, cl.box, white)
	tc := &typesetter{r: r, faces: map[faceKey]font.Face{}}
	tc.draw(dst, cl.box, []item{{text: clock, size: cl.size, ink: ink2, right: cl.right, keep: 1}})
}

// drawCountdown redraws only the countdown's box and returns it.
func (r *Renderer) drawCountdown(dst *image.RGBA, s Screen, clock string, o options) image.Rectangle {
	g := geometryOf(dst.Bounds())
	cl := countdownLayout(g, layoutQR(g), true)
	r.drawClock(dst, cl, clock)
	return cl.box
}

// monochrome turns r pure black and white for a 1-bit panel: anything
// clearly not white is ink, so orange and red text stays, and the edges
// of letters are cut where a 1-bit panel would cut them anyway.
func monochrome(dst *image.RGBA, r image.Rectangle) {
	r = r.Intersect(dst.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := dst.Pix[dst.PixOffset(r.Min.X, y):dst.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			v := uint8(0)
			if min(row[i], row[i+1], row[i+2]) >= 150 {
				v = 0xff
			}
			row[i], row[i+1], row[i+2], row[i+3] = v, v, v, 0xff
		}
	}
}

func fill(dst *image.RGBA, r image.Rectangle, p paint) {
	c := p.rgba()
	r = r.Intersect(dst.Bounds())
	if r.Empty() {
		return
	}
	row := dst.PixOffset(r.Min.X, r.Min.Y)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		p := dst.Pix[row : row+4*r.Dx()]
		for i := 0; i < len(p); i += 4 {
			p[i], p[i+1], p[i+2], p[i+3] = c.R, c.G, c.B, c.A
		}
		row += dst.Stride
	}
}
