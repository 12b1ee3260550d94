package display

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
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
	if err := r.renderInto(dst, s); err != nil {
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

func (r *Renderer) renderInto(dst *image.RGBA, s Screen) error {
	lk, ok := lookOf(s.Kind)
	if !ok {
		return fmt.Errorf("display: unknown screen kind %q; use one of the display.Kind constants", s.Kind)
	}
	g := geometryOf(dst.Bounds())
	fill(dst, dst.Bounds(), white)
	fill(dst, g.bar, lk.accent)

	title := s.Title
	if title == "" {
		title = lk.title
	}
	tc := &typesetter{r: r, faces: map[faceKey]font.Face{}}

	if s.Kind == QR {
		l := layoutQR(g)
		if err := drawQR(dst, l.area, s); err != nil {
			return err
		}
		items := []item{
			{text: s.Amount, bold: true, size: g.size(qrAmountSize), ink: ink},
			{text: s.Message, size: g.size(qrMsgSize), ink: ink2, wrap: true},
			{text: lk.hint, bold: true, size: g.size(qrHintSize), ink: orange, keep: 0.8},
		}
		titleItem := item{text: title, bold: true, size: g.size(qrTitleSize), ink: lk.titleInk, keep: 0.7}
		if l.top.Empty() {
			items = append([]item{titleItem}, items...)
		} else {
			tc.draw(dst, l.top, []item{titleItem})
		}
		tc.draw(dst, l.text, items)
		return nil
	}

	titleSize := 1.0 / 9
	if s.Kind == Idle {
		titleSize = 1.0 / 7 // the shop's name is the whole point of the screen
	}
	tc.draw(dst, g.content, []item{
		{text: title, bold: true, size: g.size(titleSize), ink: lk.titleInk, keep: 0.7},
		{icon: lk.icon, size: g.unit / 4, ink: lk.accent},
		{text: s.Amount, bold: true, size: g.size(1.0 / 5), ink: ink},
		{text: s.Message, size: g.size(1.0 / 14), ink: ink2, wrap: true},
		{text: lk.hint, bold: true, size: g.size(1.0 / 13), ink: orange, keep: 0.8},
	})
	return nil
}

// item is one block of a vertical stack: a text or an icon. Empty texts and
// iconNone are skipped.
type item struct {
	text string
	bold bool
	wrap bool    // word-wrap at full size rather than shrinking to one line
	keep float64 // shrink to one line down to keep×size, then wrap; 0: shrink to minFont
	size float64 // text: pixels per em; icon: side in pixels
	ink  paint
	icon icon
}

func (it item) empty() bool { return it.icon == iconNone && strings.TrimSpace(it.text) == "" }

// placed is an item laid out at a size: its lines (or icon side) and height.
type placed struct {
	item
	face   font.Face
	lines  []string
	lineH  int
	ascent int
	h      int
}

type faceKey struct {
	bold bool
	q    int // size in quarter pixels
}

// typesetter lays out one frame. Faces are not safe for concurrent use, so
// each frame gets its own small cache.
type typesetter struct {
	r     *Renderer
	faces map[faceKey]font.Face
}

func (t *typesetter) face(bold bool, size float64) font.Face {
	k := faceKey{bold, int(math.Floor(size * 4))}
	if f, ok := t.faces[k]; ok {
		return f
	}
	fnt := t.r.regular
	if bold {
		fnt = t.r.bold
	}
	// HintingNone keeps widths proportional to size, which the shrinking relies on.
	f, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: float64(k.q) / 4, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		// Only a negative size can fail here, and sizes are clamped.
		panic(fmt.Sprintf("display: font face at %v px: %v", size, err))
	}
	t.faces[k] = f
	return f
}

func measure(f font.Face, s string) int { return font.MeasureString(f, s).Ceil() }

// draw fits items into rect, top to bottom, centred, and draws them clipped to rect.
func (t *typesetter) draw(dst *image.RGBA, rect image.Rectangle, items []item) {
	rect = rect.Intersect(dst.Bounds())
	if rect.Empty() {
		return
	}
	ps, total := t.fit(rect, items)
	clip := dst.SubImage(rect).(*image.RGBA)
	y := rect.Min.Y + max(0, (rect.Dy()-total)/2)
	for i, p := range ps {
		if i > 0 {
			y += gapAbove(p)
		}
		if p.icon != iconNone {
			x := rect.Min.X + (rect.Dx()-p.h)/2
			drawIcon(clip, image.Rect(x, y, x+p.h, y+p.h), p.icon, p.ink)
			y += p.h
			continue
		}
		d := font.Drawer{Dst: clip, Src: image.NewUniform(p.ink), Face: p.face}
		for _, line := range p.lines {
			x := rect.Min.X + (rect.Dx()-measure(p.face, line))/2
			d.Dot = fixed.P(x, y+p.ascent)
			d.DrawString(line)
			y += p.lineH
		}
	}
}

func gapAbove(p placed) int {
	if p.icon != iconNone {
		return max(1, p.h/6)
	}
	return max(1, p.lineH/3)
}

func stackHeight(ps []placed) int {
	total := 0
	for i, p := range ps {
		if i > 0 {
			total += gapAbove(p)
		}
		total += p.h
	}
	return total
}

// fit shrinks everything together until the stack fits the height; at the
// smallest size it drops lines (ending with "…"), then icons, then whole
// items from the bottom. The result never needs more than rect's width.
func (t *typesetter) fit(rect image.Rectangle, items []item) ([]placed, int) {
	var live []item
	for _, it := range items {
		if !it.empty() {
			live = append(live, it)
		}
	}
	for f := 1.0; ; f *= 0.9 {
		ps, atMin := t.layout(live, f, rect)
		total := stackHeight(ps)
		if total <= rect.Dy() {
			return ps, total
		}
		if atMin {
			ps = t.truncate(ps, rect)
			return ps, stackHeight(ps)
		}
	}
}

func (t *typesetter) layout(items []item, f float64, rect image.Rectangle) ([]placed, bool) {
	width := rect.Dx()
	ps := make([]placed, 0, len(items))
	atMin := true
	for _, it := range items {
		size := it.size * f
		if it.icon != iconNone {
			side := min(int(size), width)
			if side > 2*minFont {
				atMin = false
			}
			ps = append(ps, placed{item: it, h: max(side, minFont)})
			continue
		}
		if size > minFont {
			atMin = false
		}
		size = math.Max(size, minFont)
		if !it.wrap {
			size = t.shrinkToWidth(it.text, it.bold, size, math.Max(minFont, size*it.keep), width)
		}
		face := t.face(it.bold, size)
		m := face.Metrics()
		p := placed{item: it, face: face, ascent: m.Ascent.Ceil()}
		p.lineH = max(m.Height.Ceil(), (m.Ascent + m.Descent).Ceil())
		maxLines := rect.Dy() / p.lineH
		p.lines = wrap(face, it.text, width, maxLines)
		p.h = p.lineH * len(p.lines)
		ps = append(ps, p)
	}
	return ps, atMin
}

// shrinkToWidth returns the largest size ≤ size at which text fits on one
// line, but not below floor (the caller then wraps).
func (t *typesetter) shrinkToWidth(text string, bold bool, size, floor float64, width int) float64 {
	w := measure(t.face(bold, size), text)
	if w <= width {
		return size
	}
	// Widths scale with size (no hinting), so one division gets close.
	s := math.Floor(size*float64(width)/float64(w)*4) / 4
	for ; s > floor; s -= 0.25 {
		if measure(t.face(bold, s), text) <= width {
			return s
		}
	}
	return floor
}

func (t *typesetter) truncate(ps []placed, rect image.Rectangle) []placed {
	over := func() bool { return stackHeight(ps) > rect.Dy() }
	// Shorten multi-line texts, wrapped messages first.
	for _, wrapped := range []bool{true, false} {
		for i := len(ps) - 1; i >= 0 && over(); i-- {
			p := &ps[i]
			if p.icon != iconNone || p.wrap != wrapped {
				continue
			}
			for len(p.lines) > 1 && over() {
				p.lines = p.lines[:len(p.lines)-1]
				p.lines[len(p.lines)-1] = ellipsis(p.face, p.lines[len(p.lines)-1], rect.Dx())
				p.h = p.lineH * len(p.lines)
			}
		}
	}
	for i := 0; i < len(ps) && over(); {
		if ps[i].icon != iconNone {
			ps = append(ps[:i], ps[i+1:]...)
			continue
		}
		i++
	}
	for len(ps) > 1 && over() {
		ps = ps[:len(ps)-1]
	}
	return ps
}

// ellipsis marks a line as cut short, dropping runes until "…" fits.
func ellipsis(f font.Face, line string, width int) string {
	line = strings.TrimRight(line, " ")
	for {
		s := line + "…"
		if line == "" || measure(f, s) <= width {
			return s
		}
		_, n := utf8.DecodeLastRuneInString(line)
		line = strings.TrimRight(line[:len(line)-n], " ")
	}
}

// wrap breaks text into lines no wider than width, at spaces where it can and
// inside words that are wider than a whole line. It stops after maxLines+1
// lines: more could not be shown, and the extra line tells the caller to cut.
// Widths add up exactly as font.MeasureString counts them (advances plus
// kerning between neighbours), so each word is measured once.
func wrap(f font.Face, text string, width, maxLines int) []string {
	limit := fixed.I(width)
	var lines []string
	full := func() bool { return len(lines) > maxLines }
	for _, para := range strings.Split(text, "\n") {
		line, lineW := "", fixed.Int26_6(0)
		for _, word := range strings.Fields(para) {
			if full() {
				return lines
			}
			wordW := font.MeasureString(f, word)
			if line != "" {
				first, _ := utf8.DecodeRuneInString(word)
				last, _ := utf8.DecodeLastRuneInString(line)
				sp, _ := f.GlyphAdvance(' ')
				w := lineW + f.Kern(last, ' ') + sp + f.Kern(' ', first) + wordW
				if w <= limit {
					line, lineW = line+" "+word, w
					continue
				}
				lines = append(lines, line)
			}
			for wordW > limit && !full() {
				head := breakWord(f, word, limit)
				lines = append(lines, head)
				word = word[len(head):]
				wordW = font.MeasureString(f, word)
			}
			line, lineW = word, wordW
		}
		lines = append(lines, line)
	}
	if full() {
		lines = lines[:maxLines+1]
	}
	return lines
}

// breakWord returns the longest prefix of word no wider than limit, at least
// one rune.
func breakWord(f font.Face, word string, limit fixed.Int26_6) string {
	var w fixed.Int26_6
	prev := rune(-1)
	for i, r := range word {
		next := w
		if prev >= 0 {
			next += f.Kern(prev, r)
		}
		a, _ := f.GlyphAdvance(r)
		next += a
		if i > 0 && next > limit {
			return word[:i]
		}
		w, prev = next, r
	}
	return word
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
