package monotest_test

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"periph.io/x/devices/v3/ssd1306"

	"kasse/display"
	"kasse/display/monotest"
)

func sameAsFrame(t *testing.T, what string, got *image.Gray, p *display.Panel, turned bool) {
	t.Helper()
	want, err := p.Frame()
	if err != nil {
		t.Fatal(err)
	}
	b := want.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			gx, gy := x, y
			if turned {
				gx, gy = b.Dx()-1-x, b.Dy()-1-y
			}
			if w := color.GrayModel.Convert(want.At(x, y)).(color.Gray); got.GrayAt(gx, gy) != w {
				t.Fatalf("%s: OLED pixel (%d,%d) is %v, the frame has %v", what, gx, gy, got.GrayAt(gx, gy), w)
			}
		}
	}
}

// The OLED shows the status and the amount through periph's ssd1306
// driver; its QR screen tells the shopper to pay by phone number instead.
func TestSSD1306Screens(t *testing.T) {
	for _, rotated := range []bool{false, true} {
		emu := monotest.NewSSD1306(128, 64)
		o := ssd1306.DefaultOpts
		o.Rotated = rotated
		d, err := ssd1306.NewSPI(emu, emu.DC(), &o)
		if err != nil {
			t.Fatal(err)
		}
		p, err := display.NewPanel(d, display.WithoutQR(), display.WithCost(1, 16), display.WithLanguage(display.English))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []display.Screen{
			{Kind: display.Idle, Title: "Butikken"},
			{Kind: display.Amount, Amount: "12,50 kr"},
			{Kind: display.Amount, Amount: "125,00 kr"},
			{Kind: display.QR, Amount: "125,00 kr", QR: "https://qr.vipps.no/x"},
			{Kind: display.Paid, Amount: "125,00 kr"},
		} {
			if err := p.Show(s); err != nil {
				t.Fatal(err)
			}
			if err := emu.Err(); err != nil {
				t.Fatal(err)
			}
			sameAsFrame(t, string(s.Kind), emu.Glass(), p, rotated)
		}
		// The last Show was Paid; the phone-number text was checked by
		// pixels above, and the QR screen has no QR at all:
		if err := p.Show(display.Screen{Kind: display.QR, Amount: "1,00 kr", QR: strings.Repeat("x", 3000)}); err != nil {
			t.Errorf("the OLED refused a QR screen it does not draw: %v", err)
		}
	}
}

func TestSSD1306RefusesUnknownCommands(t *testing.T) {
	emu := monotest.NewSSD1306(128, 64)
	c, err := emu.Connect(0, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	emu.DC().Out(false)
	if err := c.Tx([]byte{0xfd, 0x12}, nil); err == nil { // a command lock of another controller
		t.Fatal("an unknown command was taken")
	}
}
