package display_test

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"rsc.io/qr"

	"kasse/display"
	"kasse/display/displaytest"
)

const payURL = "http://127.0.0.1:8089/vippssim/qr/OSLO1-2-k7f3-000017"

var kinds = []display.Kind{
	display.Idle, display.Amount, display.Working, display.QR, display.Waiting,
	display.Paid, display.Cancelled, display.Expired, display.Failed, display.Error,
}

func newPanel(t testing.TB, w, h int) (*display.Panel, *displaytest.Framebuffer) {
	t.Helper()
	fb := displaytest.NewFramebuffer(w, h)
	p, err := display.NewPanel(fb)
	if err != nil {
		t.Fatal(err)
	}
	return p, fb
}

func isWhite(c color.RGBA) bool { return c.R == 255 && c.G == 255 && c.B == 255 }

// checkMargins fails if anything but the background reaches the panel's
// left, right and bottom edges (the accent bar owns the top).
func checkMargins(t *testing.T, img *image.RGBA, band int) {
	t.Helper()
	b := img.Bounds()
	bar := b.Min.Y
	for bar < b.Max.Y && img.RGBAAt(b.Min.X, bar) == img.RGBAAt(b.Min.X, b.Min.Y) {
		bar++
	}
	if bar-b.Min.Y > b.Dy()/20+1 {
		t.Fatalf("the accent bar is %d px high", bar-b.Min.Y)
	}
	for y := bar; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			inMargin := x < b.Min.X+band || x >= b.Max.X-band || y >= b.Max.Y-band
			if inMargin && !isWhite(img.RGBAAt(x, y)) {
				t.Fatalf("pixel (%d,%d) in the %d px margin is %v", x, y, band, img.RGBAAt(x, y))
			}
		}
	}
}

// count returns how many pixels satisfy f.
func count(img *image.RGBA, r image.Rectangle, f func(color.RGBA) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if f(img.RGBAAt(x, y)) {
				n++
			}
		}
	}
	return n
}

func dark(c color.RGBA) bool     { return int(c.R)+int(c.G)+int(c.B) < 3*100 }
func greenish(c color.RGBA) bool { return int(c.G) > int(c.R)+60 && int(c.G) > int(c.B)+40 }
func reddish(c color.RGBA) bool {
	return int(c.R) > int(c.G)+100 && int(c.R) > int(c.B)+100 && c.G < 0x40
}
func orangeish(c color.RGBA) bool {
	return c.R > 0xe0 && c.G > 0x40 && c.G < 0x80 && c.B < 0x40
}

func TestShowEveryKind(t *testing.T) {
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {128, 64}} {
		p, fb := newPanel(t, sz[0], sz[1])
		for i, k := range kinds {
			t.Run(fmt.Sprintf("%dx%d/%s", sz[0], sz[1], k), func(t *testing.T) {
				s := display.Screen{Kind: k, Amount: "125,00 kr", Message: "Ask the cashier for help."}
				if k == display.QR {
					s.QR = payURL
				}
				if err := p.Show(s); err != nil {
					t.Fatal(err)
				}
				if n := p.Frames(); n != uint64(i+1) {
					t.Fatalf("Frames() = %d after %d shows", n, i+1)
				}
				if got := p.Current(); got != s {
					t.Fatalf("Current() = %+v, want %+v", got, s)
				}
				img := fb.Image()
				checkMargins(t, img, 2)
				if isWhite(img.RGBAAt(sz[0]/2, 0)) {
					t.Error("no accent bar along the top")
				}
				body := image.Rect(0, 4, sz[0], sz[1])
				if n := count(img, body, dark); n < 50 {
					t.Errorf("only %d dark pixels: the text is missing", n)
				}
				switch k {
				case display.Paid:
					if count(img, body, greenish) < 20 {
						t.Error("the paid screen has no green")
					}
				case display.Error, display.Failed:
					if count(img, body, reddish) < 20 {
						t.Error("the error screen has no red")
					}
				case display.QR, display.Idle:
					if count(img, body, orangeish) < 10 {
						t.Error("no orange Vipps MobilePay hint")
					}
				}
			})
		}
	}
}

func TestLongTextStaysInside(t *testing.T) {
	long := strings.Repeat("Betalingen ble avvist av banken, prøv igjen – ", 200)
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {128, 64}, {480, 800}} {
		p, fb := newPanel(t, sz[0], sz[1])
		for _, k := range []display.Kind{display.Error, display.Paid, display.QR, display.Idle} {
			s := display.Screen{
				Kind:    k,
				Title:   strings.Repeat("Kjøpmannshuset Ærlig Øl & Å ", 5),
				Amount:  "999 999 999 999 999,99 €",
				Message: long + strings.Repeat("x", 500), // and one word wider than any panel
				QR:      payURL,
			}
			if err := p.Show(s); err != nil {
				t.Fatalf("%dx%d %s: %v", sz[0], sz[1], k, err)
			}
			checkMargins(t, fb.Image(), 2)
		}
	}
}

// decode reads the QR in the panel's QR area. gozxing's detector, given the
// whole screen, misreads about 1 link in 500 that zbarimg and phones read
// (the amount and title text upset its finder-pattern search; see
// TestQRDecodesEveryLink), so the test reads the area the renderer draws
// the QR in, as a pure barcode.
func decode(t *testing.T, img *image.RGBA, area image.Rectangle) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img.SubImage(area))
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{
		gozxing.DecodeHintType_PURE_BARCODE: true,
	})
	if err != nil {
		t.Fatalf("the QR on the panel does not decode: %v", err)
	}
	return res.GetText()
}

// Links of the simulator's form whose screens gozxing could not read whole
// (found by rendering 3,000 of them; zbarimg reads all four). Reading the QR
// area must get every one, and a sweep of others, right.
func TestQRDecodesEveryLink(t *testing.T) {
	p, fb := newPanel(t, 240, 320)
	links := []string{
		"http://127.0.0.1:40132/vippssim/qr/OSLO1-2-ydaa-1",
		"http://127.0.0.1:40351/vippssim/qr/OSLO1-2-1jaa-1",
		"http://127.0.0.1:41179/vippssim/qr/OSLO1-2-16aa-1",
		"http://127.0.0.1:41551/vippssim/qr/OSLO1-2-dhba-1",
	}
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range 200 {
		tag := string([]byte{alpha[(i*7)%36], alpha[(i*13)%36], alpha[i%36], 'k'})
		links = append(links, fmt.Sprintf("http://127.0.0.1:%d/vippssim/qr/BERGEN-7-%s-%d", 30000+i*37, tag, i+1))
	}
	for _, link := range links {
		if err := p.Show(display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: link}); err != nil {
			t.Fatal(err)
		}
		if got := decode(t, fb.Image(), p.QRArea()); got != link {
			t.Fatalf("decoded %q, want %q", got, link)
		}
	}
}

// checkBlackWhite fails unless the QR area holds only pure black and white.
func checkBlackWhite(t *testing.T, img *image.RGBA, area image.Rectangle) (black int) {
	t.Helper()
	if !area.In(img.Bounds()) {
		t.Fatalf("QR area %v is not inside the panel %v", area, img.Bounds())
	}
	for y := area.Min.Y; y < area.Max.Y; y++ {
		for x := area.Min.X; x < area.Max.X; x++ {
			switch c := img.RGBAAt(x, y); c {
			case color.RGBA{0, 0, 0, 255}:
				black++
			case color.RGBA{255, 255, 255, 255}:
			default:
				t.Fatalf("QR area pixel (%d,%d) is %v, not black or white", x, y, c)
			}
		}
	}
	return black
}

func TestQRDecodes(t *testing.T) {
	for _, sz := range [][2]int{{240, 320}, {320, 240}, {480, 800}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			p, fb := newPanel(t, sz[0], sz[1])
			area := p.QRArea()
			if area.Dx() != area.Dy() {
				t.Fatalf("QR area %v is not square", area)
			}
			if sz == [2]int{240, 320} && area.Dx() < 200 {
				t.Fatalf("QR area on 240x320 is only %d px wide", area.Dx())
			}
			if err := p.Show(display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: payURL}); err != nil {
				t.Fatal(err)
			}
			img := fb.Image()
			if got := decode(t, img, area); got != payURL {
				t.Fatalf("decoded %q, want %q", got, payURL)
			}
			code, err := qr.Encode(payURL, qr.M)
			if err != nil {
				t.Fatal(err)
			}
			scale := area.Dx() / (code.Size + 8)
			black := checkBlackWhite(t, img, area)
			if black%(scale*scale) != 0 {
				t.Errorf("%d black pixels is not a whole number of %dx%d modules", black, scale, scale)
			}
			// The largest scale that fits: one more would not leave the quiet zone.
			if (scale+1)*(code.Size+8) <= area.Dx() {
				t.Errorf("module scale %d is not the largest that fits %d px", scale, area.Dx())
			}
		})
	}
}

// qrPicture draws code the way a payment API's PNG might look: tinted, with
// a transparent quiet zone.
func qrPicture(code *qr.Code, scale int) *image.NRGBA {
	n := (code.Size + 8) * scale
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			mx, my := x/scale-4, y/scale-4
			switch {
			case mx < 0 || my < 0 || mx >= code.Size || my >= code.Size:
				img.SetNRGBA(x, y, color.NRGBA{}) // transparent
			case code.Black(mx, my):
				img.SetNRGBA(x, y, color.NRGBA{0x20, 0x20, 0x60, 0xff})
			default:
				img.SetNRGBA(x, y, color.NRGBA{0xe8, 0xe8, 0xe0, 0xff})
			}
		}
	}
	return img
}

func TestQRImage(t *testing.T) {
	p, fb := newPanel(t, 240, 320)
	code, err := qr.Encode(payURL, qr.M)
	if err != nil {
		t.Fatal(err)
	}
	const scale = 3
	pic := qrPicture(code, scale)
	if err := p.Show(display.Screen{Kind: display.QR, Amount: "49,90 kr", QRImage: pic}); err != nil {
		t.Fatal(err)
	}
	img := fb.Image()
	if got := decode(t, img, p.QRArea()); got != payURL {
		t.Fatalf("decoded %q, want %q", got, payURL)
	}
	modules := 0
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				modules++
			}
		}
	}
	// Drawn 1:1: as many black pixels as the picture has dark ones.
	if black := checkBlackWhite(t, img, p.QRArea()); black != modules*scale*scale {
		t.Fatalf("%d black pixels in the QR area, want %d (1:1)", black, modules*scale*scale)
	}
}

func TestQRErrors(t *testing.T) {
	p, fb := newPanel(t, 128, 64)
	first := display.Screen{Kind: display.Amount, Amount: "10,00 kr"}
	if err := p.Show(first); err != nil {
		t.Fatal(err)
	}
	big := image.NewGray(image.Rect(0, 0, 200, 200))
	for name, s := range map[string]display.Screen{
		"no payload":        {Kind: display.QR},
		"beyond QR version": {Kind: display.QR, QR: strings.Repeat("x", 3000)},
		"too big for panel": {Kind: display.QR, QR: "https://qr.vipps.no/" + strings.Repeat("a1b2c3", 50)},
		"image too large":   {Kind: display.QR, QRImage: big},
		"unknown kind":      {Kind: "party"},
	} {
		if err := p.Show(s); err == nil {
			t.Errorf("%s: Show succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if n := fb.Frames(); n != 1 {
		t.Errorf("failed shows drew %d frames", n-1)
	}
	if p.Current() != first {
		t.Errorf("Current() = %+v after failed shows, want the first screen", p.Current())
	}
}

type brokenDrawer struct {
	*displaytest.Framebuffer
	calls []image.Rectangle
}

var errWire = errors.New("spi: transfer failed")

func (b *brokenDrawer) Draw(r image.Rectangle, src image.Image, sp image.Point) error {
	b.calls = append(b.calls, r)
	return errWire
}

func TestDrawerErrorWrapped(t *testing.T) {
	d := &brokenDrawer{Framebuffer: displaytest.NewFramebuffer(240, 320)}
	p, err := display.NewPanel(d)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Show(display.Screen{Kind: display.Paid, Amount: "125,00 kr"})
	if !errors.Is(err, errWire) {
		t.Fatalf("Show = %v, want it to wrap %v", err, errWire)
	}
	if len(d.calls) != 1 || d.calls[0] != d.Bounds() {
		t.Fatalf("Draw calls %v, want one with the full bounds %v", d.calls, d.Bounds())
	}
	if p.Current().Kind != "" {
		t.Errorf("Current() = %+v, though nothing reached the display", p.Current())
	}
}

func TestConcurrentShow(t *testing.T) {
	p, fb := newPanel(t, 128, 64)
	const workers, each = 4, 5
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := p.Show(display.Screen{Kind: kinds[(w+i)%len(kinds)], QR: payURL, Amount: "1,00 kr"}); err != nil {
					t.Error(err)
				}
				_ = p.Current()
				_ = fb.Image()
			}
		}()
	}
	wg.Wait()
	if n := p.Frames(); n != workers*each {
		t.Fatalf("%d frames, want %d", n, workers*each)
	}
}

func TestRenderMatchesShow(t *testing.T) {
	r, err := display.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	s := display.Screen{Kind: display.Failed, Amount: "125,00 kr", Message: "Refusert av banken."}
	img, err := r.Render(s, image.Rect(0, 0, 240, 320))
	if err != nil {
		t.Fatal(err)
	}
	p, fb := newPanel(t, 240, 320)
	if err := p.Show(s); err != nil {
		t.Fatal(err)
	}
	shown := fb.Image()
	for y := 0; y < 320; y++ {
		for x := 0; x < 240; x++ {
			r, g, b, _ := display.ToRGB565(img.RGBAAt(x, y)).RGBA()
			want := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255}
			if got := shown.RGBAAt(x, y); got != want {
				t.Fatalf("pixel (%d,%d): shown %v, rendered %v", x, y, got, want)
			}
		}
	}
}

// BenchmarkShowQR renders a QR screen on 240×320 and sends what changed
// from the one before (another payment's QR), so every run does the work.
func BenchmarkShowQR(b *testing.B) {
	p, _ := newPanel(b, 240, 320)
	s := [2]display.Screen{
		{Kind: display.QR, Amount: "125,00 kr", QR: payURL},
		{Kind: display.QR, Amount: "49,90 kr", QR: payURL + "8"},
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := p.Show(s[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
