package epaper_test

import (
	"fmt"
	"image"
	"image/color"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"rsc.io/qr"

	"kasse/display"
	"kasse/display/epaper"
	"kasse/display/monotest"
)

const payURL = "https://qr.vipps.no/28/2/01/031/4791234567"

// turn rotates a glass image back to the picture's orientation.
func turn(g *image.Gray, rot int) *image.Gray {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	if rot == 90 || rot == 270 {
		w, h = h, w
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	gw, gh := g.Bounds().Dx(), g.Bounds().Dy()
	for y := range h {
		for x := range w {
			gx, gy := x, y
			switch rot {
			case 90:
				gx, gy = gw-1-y, x
			case 180:
				gx, gy = gw-1-x, gh-1-y
			case 270:
				gx, gy = y, gh-1-x
			}
			out.SetGray(x, y, g.GrayAt(gx, gy))
		}
	}
	return out
}

func same(t *testing.T, what string, got *image.Gray, p *display.Panel) {
	t.Helper()
	want, err := p.Frame()
	if err != nil {
		t.Fatal(err)
	}
	if got.Bounds().Size() != want.Bounds().Size() {
		t.Fatalf("%s: glass %v, frame %v", what, got.Bounds(), want.Bounds())
	}
	for y := 0; y < want.Bounds().Dy(); y++ {
		for x := 0; x < want.Bounds().Dx(); x++ {
			if w := color.GrayModel.Convert(want.At(x, y)).(color.Gray); got.GrayAt(x, y) != w {
				t.Fatalf("%s: glass pixel (%d,%d) is %v, the frame has %v", what, x, y, got.GrayAt(x, y), w)
			}
		}
	}
}

// Changes are partial refreshes, the idle screen a full one, and the QR on
// the paper decodes, at the largest integer scale, at each rotation.
func TestEPaperScreens(t *testing.T) {
	for _, rot := range []int{0, 90, 180, 270} {
		t.Run(fmt.Sprint(rot), func(t *testing.T) {
			emu := monotest.NewEPD2in13()
			d, err := epaper.New(emu, emu.DC(), emu.CS(), emu.RST(), emu.Busy(), rot)
			if err != nil {
				t.Fatal(err)
			}
			p, err := display.NewPanel(d, display.WithCost(1, 1<<20))
			if err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				s       display.Screen
				partial []bool // the refreshes this screen causes
			}{
				{display.Screen{Kind: display.Idle, Title: "Butikken"}, []bool{false, false}}, // the first picture, then idle's own
				{display.Screen{Kind: display.Amount, Amount: "12,50 kr"}, []bool{true}},
				{display.Screen{Kind: display.Amount, Amount: "125,00 kr"}, []bool{true}},
				{display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: payURL}, []bool{true}},
				{display.Screen{Kind: display.Paid, Amount: "125,00 kr"}, []bool{true}},
				{display.Screen{Kind: display.Idle, Title: "Butikken"}, []bool{true, false}},
			}
			seen := 0
			for _, st := range steps {
				if err := p.Show(st.s); err != nil {
					t.Fatal(err)
				}
				if err := emu.Err(); err != nil {
					t.Fatal(err)
				}
				rs := emu.Refreshes()[seen:]
				seen += len(rs)
				if len(rs) != len(st.partial) {
					t.Fatalf("%s: %d refreshes, want %d", st.s.Kind, len(rs), len(st.partial))
				}
				for i, r := range rs {
					if r.Partial != st.partial[i] {
						t.Errorf("%s: refresh %d partial=%v, want %v", st.s.Kind, i, r.Partial, st.partial[i])
					}
				}
				pic := turn(emu.Glass(), rot)
				same(t, string(st.s.Kind), pic, p)
				if st.s.Kind == display.QR {
					checkQR(t, pic.SubImage(p.QRArea()), p.QRArea())
				}
			}
		})
	}
}

func checkQR(t *testing.T, img image.Image, area image.Rectangle) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("the QR on the paper does not decode: %v", err)
	}
	if res.GetText() != payURL {
		t.Fatalf("decoded %q, want %q", res.GetText(), payURL)
	}
	code, _ := qr.Encode(payURL, qr.M)
	scale := min(area.Dx(), area.Dy()) / (code.Size + 8)
	if scale < 2 {
		t.Errorf("module scale %d on the paper; want the largest that fits (%d px for %d modules)", scale, area.Dx(), code.Size)
	}
}
