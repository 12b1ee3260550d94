package display

// Text layout, apart from screen composition (render.go): items of text
// and icons set in a rectangle, shrunk to fit, wrapped and cut with an
// ellipsis where a panel is too small.

import (
	"fmt"
	"image"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

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
	// right sets the text flush right: a keyed amount then changes only
	// its digits, not the whole line, at each key press.
	right bool
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
			if p.right {
				// Unrounded, so the line's right edge sits at the same
				// sub-pixel spot whatever its length: an unchanged tail
				// ("kr") is drawn identically and never resent.
				d.Dot.X = fixed.I(rect.Max.X) - font.MeasureString(p.face, line)
			}
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
