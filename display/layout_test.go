package display

import (
	"image"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
)

func TestFitStaysInside(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("Nettverket er nede; betalingen er lagret og fortsetter senere. ", 1000)
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {128, 64}, {480, 800}} {
		g := geometryOf(image.Rect(0, 0, sz[0], sz[1]))
		ts := &typesetter{r: r, faces: map[faceKey]font.Face{}}
		items := []item{
			{text: "Kjøpmannshuset Ærlig Øl og Bakeri på Grünerløkka", bold: true, size: g.size(1.0 / 9), keep: 0.7},
			{icon: iconCheck, size: g.unit / 4},
			{text: "1 234 567 890,00 €", bold: true, size: g.size(1.0 / 5)},
			{text: msg, size: g.size(1.0 / 14), wrap: true},
		}
		ps, total := ts.fit(g.content, items)
		if total > g.content.Dy() {
			t.Errorf("%v: stack is %d px high in %d", sz, total, g.content.Dy())
		}
		var last placed
		for _, p := range ps {
			for _, line := range p.lines {
				if w := measure(p.face, line); w > g.content.Dx() {
					t.Errorf("%v: line %q is %d px wide in %d", sz, line, w, g.content.Dx())
				}
			}
			if p.text == items[2].text && len(p.lines) != 1 {
				t.Errorf("%v: the amount took %d lines: %q", sz, len(p.lines), p.lines)
			}
			last = p
		}
		if last.wrap {
			if l := last.lines[len(last.lines)-1]; !strings.HasSuffix(l, "…") {
				t.Errorf("%v: the cut message does not end in an ellipsis: %q", sz, l)
			}
		} else if sz[1] >= 240 {
			t.Errorf("%v: the message was dropped entirely", sz)
		}
	}
}

func TestQRAreaInsideAndClearOfText(t *testing.T) {
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {128, 64}, {480, 800}, {240, 240}, {800, 480}} {
		b := image.Rect(0, 0, sz[0], sz[1])
		l := layoutQR(geometryOf(b))
		if !l.area.In(b) || l.area.Dx() != l.area.Dy() || l.area.Dx() < 60 {
			t.Errorf("%v: QR area %v", sz, l.area)
		}
		if l.area.Overlaps(l.text) || l.area.Overlaps(l.top) || l.text.Dy() < minFont {
			t.Errorf("%v: QR area %v overlaps the text %v / %v", sz, l.area, l.text, l.top)
		}
	}
}

// The shop names and amounts the register shows need these glyphs.
func TestFontsHaveNordicLetters(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	for _, f := range []*sfnt.Font{r.regular, r.bold} {
		for _, c := range "æøåÆØÅ€–…" {
			if i, err := f.GlyphIndex(&buf, c); err != nil || i == 0 {
				t.Errorf("no glyph for %q (%v)", c, err)
			}
		}
	}
}

func TestWrap(t *testing.T) {
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	ts := &typesetter{r: r, faces: map[faceKey]font.Face{}}
	text := "Vi får ikke kontakt med Vipps MobilePay. Betalingen på 125,00 kr er lagret; " +
		"prøv igjen om litt, eller be kassereren om hjelp. Ærlig talt: AVTALE WAVE Tøyen."
	for _, width := range []int{97, 150, 233, 400} {
		f := ts.face(false, 13)
		lines := wrap(f, text, width, 1000)
		if got, want := strings.Join(lines, " "), strings.Join(strings.Fields(text), " "); got != want {
			t.Fatalf("width %d: wrapping lost text:\n%q\n%q", width, got, want)
		}
		for i, l := range lines {
			if w := measure(f, l); w > width {
				t.Errorf("width %d: line %q is %d px", width, l, w)
			}
			// Greedy: the next line's first word would not have fitted.
			if i+1 < len(lines) {
				next := strings.Fields(lines[i+1])[0]
				if measure(f, l+" "+next) <= width {
					t.Errorf("width %d: %q would have fitted after %q", width, next, l)
				}
			}
		}
	}
	long := strings.Repeat("ø", 300)
	f := ts.face(true, 20)
	lines := wrap(f, long, 100, 1000)
	if strings.Join(lines, "") != long || len(lines) < 2 {
		t.Fatalf("a word wider than the line was broken into %q", lines)
	}
	for _, l := range lines {
		if measure(f, l) > 100 {
			t.Errorf("broken piece %q is wider than 100 px", l)
		}
	}
	if got := wrap(f, text, 100, 2); len(got) != 3 {
		t.Errorf("wrap with maxLines 2 gave %d lines, want 3 (2 and one to show there is more)", len(got))
	}
}
