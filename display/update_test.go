package display_test

import (
	"fmt"
	"image"
	"math/rand/v2"
	"testing"
	"time"

	"kasse/display"
	"kasse/display/displaytest"
)

// recorder is a framebuffer that notes every rectangle drawn.
type recorder struct {
	*displaytest.Framebuffer
	rects []image.Rectangle
}

func (r *recorder) Draw(rect image.Rectangle, src image.Image, sp image.Point) error {
	r.rects = append(r.rects, rect)
	return r.Framebuffer.Draw(rect, src, sp)
}

func (r *recorder) take() (rects []image.Rectangle, pixels int) {
	rects, r.rects = r.rects, nil
	for _, x := range rects {
		pixels += x.Dx() * x.Dy()
	}
	return rects, pixels
}

func newRecorded(t testing.TB, w, h int, opts ...display.Option) (*display.Panel, *recorder) {
	t.Helper()
	rec := &recorder{Framebuffer: displaytest.NewFramebuffer(w, h)}
	p, err := display.NewPanel(rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p, rec
}

// sameAsRendered fails unless the glass holds exactly s rendered whole.
func sameAsRendered(t *testing.T, fb *displaytest.Framebuffer, p *display.Panel) {
	t.Helper()
	want, err := p.Frame()
	if err != nil {
		t.Fatal(err)
	}
	got := fb.Image()
	for i := range got.Pix {
		if got.Pix[i] != want.Pix[i] {
			px := i / 4
			t.Fatalf("glass pixel (%d,%d) is %v, the frame has %v", px%got.Bounds().Dx(), px/got.Bounds().Dx(),
				got.RGBAAt(px%got.Bounds().Dx(), px/got.Bounds().Dx()), want.RGBAAt(px%got.Bounds().Dx(), px/got.Bounds().Dx()))
		}
	}
}

// A digit keyed changes a few digits' worth of pixels: ≤ 3 % of the frame.
func TestKeyEchoIsSmall(t *testing.T) {
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {240, 240}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			p, rec := newRecorded(t, sz[0], sz[1])
			keyed := []string{"0,01 kr", "0,12 kr", "1,25 kr", "12,50 kr", "125,00 kr", "1 250,00 kr"}
			for i, a := range keyed {
				if err := p.Show(display.Screen{Kind: display.Amount, Amount: a}); err != nil {
					t.Fatal(err)
				}
				rects, px := rec.take()
				share := 100 * float64(px) / float64(sz[0]*sz[1])
				t.Logf("%-12s %5.2f %% in %v", a, share, rects)
				if i > 0 && share > 3 {
					t.Errorf("keying %q redrew %.2f %% of the frame (%v), want ≤ 3 %%", a, share, rects)
				}
				sameAsRendered(t, rec.Framebuffer, p)
			}
		})
	}
}

// Whatever the sequence of screens, the glass ends up exactly as the last
// one rendered whole: the dirty rectangles miss nothing.
func TestDirtyRectanglesMissNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p, rec := newRecorded(t, 240, 320)
	amounts := []string{"", "1,00 kr", "125,00 kr", "9 999,99 kr"}
	for range 60 {
		s := display.Screen{Kind: kinds[rng.IntN(len(kinds))], Amount: amounts[rng.IntN(len(amounts))]}
		if rng.IntN(3) == 0 {
			s.Message = "Ask the cashier for help."
		}
		if s.Kind == display.QR {
			s.QR = fmt.Sprintf("%s-%d", payURL, rng.IntN(1000))
		}
		if err := p.Show(s); err != nil {
			t.Fatal(err)
		}
		sameAsRendered(t, rec.Framebuffer, p)
	}
}

// The countdown redraws only its own digits, inside its box, away from the
// QR and its quiet zone.
func TestCountdownRedrawsOnlyItsDigits(t *testing.T) {
	for _, sz := range [][2]int{{240, 320}, {320, 240}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			p, rec := newRecorded(t, sz[0], sz[1], display.WithClock(func() time.Time { return now }))
			s := display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: payURL, Deadline: now.Add(5 * time.Minute)}
			if err := p.Show(s); err != nil {
				t.Fatal(err)
			}
			rec.take()
			qr := p.QRArea()
			for i := 1; i <= 70; i++ {
				now = now.Add(time.Second)
				if err := p.Tick(); err != nil {
					t.Fatal(err)
				}
				rects, px := rec.take()
				if len(rects) == 0 {
					t.Fatalf("tick %d drew nothing", i)
				}
				for _, r := range rects {
					if r.Overlaps(qr) {
						t.Fatalf("tick %d redrew %v, over the QR %v", i, r, qr)
					}
				}
				if px > sz[0]*sz[1]/100 {
					t.Errorf("tick %d redrew %d pixels (%v)", i, px, rects)
				}
				sameAsRendered(t, rec.Framebuffer, p)
				// And it is what a whole render at this moment shows.
				fresh, frec := newRecorded(t, sz[0], sz[1], display.WithClock(func() time.Time { return now }))
				if err := fresh.Show(s); err != nil {
					t.Fatal(err)
				}
				if a, b := frec.Image(), rec.Image(); string(a.Pix) != string(b.Pix) {
					t.Fatalf("tick %d: the ticked glass differs from a whole render", i)
				}
			}
			// Half a second later the digits are the same: nothing is sent.
			now = now.Add(500 * time.Millisecond)
			if err := p.Tick(); err != nil {
				t.Fatal(err)
			}
			if rects, _ := rec.take(); len(rects) != 0 {
				t.Errorf("a tick with the same digits drew %v", rects)
			}
		})
	}
}
