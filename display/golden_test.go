package display_test

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"periph.io/x/devices/v3/ssd1306"

	"kasse/display"
	"kasse/display/displaytest"
	"kasse/display/monotest"
)

// make golden runs TestGolden with -update, rewriting testdata/golden for
// review (git diff shows which screens changed).
var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata/golden")

// goldenScreens are the till's screens, one of each kind, with the till's
// own (English) words, which the panel translates.
func goldenScreens(amount string, now time.Time) []struct {
	name string
	s    display.Screen
} {
	return []struct {
		name string
		s    display.Screen
	}{
		{"idle", display.Screen{Kind: display.Idle, Title: "Ærlig Øl & Bakeri på Grünerløkka"}},
		{"amount", display.Screen{Kind: display.Amount, Amount: amount}},
		{"working", display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: amount}},
		{"qr", display.Screen{Kind: display.QR, Amount: amount, QR: payURL, Deadline: now.Add(4*time.Minute + 59*time.Second)}},
		{"waiting", display.Screen{Kind: display.Waiting, Amount: amount, Message: "Waiting for network. The payment continues when Vipps MobilePay answers."}},
		{"paid", display.Screen{Kind: display.Paid, Amount: amount}},
		{"cancelled", display.Screen{Kind: display.Cancelled, Amount: amount, Message: "The payment was cancelled. Nothing was charged."}},
		{"expired", display.Screen{Kind: display.Expired, Amount: amount, Message: "The QR code expired. The cashier can start a new payment."}},
		{"failed", display.Screen{Kind: display.Failed, Title: "Payment stopped", Amount: amount, Message: "The payment was stopped in the app. Nothing was charged."}},
		{"error", display.Screen{Kind: display.Error, Title: "Vipps is unreachable", Amount: amount, Message: "Vipps MobilePay is unreachable – use another payment method."}},
	}
}

// goldenPanels are a colour TFT (the framebuffer quantises to RGB565 as the
// ST7789 does) and the 1-bit OLED through periph's driver.
func goldenPanels(t *testing.T, lang display.Language, now time.Time) map[string]*display.Panel {
	t.Helper()
	clock := display.WithClock(func() time.Time { return now })
	tft, err := display.NewPanel(displaytest.NewFramebuffer(240, 320), display.WithLanguage(lang), clock)
	if err != nil {
		t.Fatal(err)
	}
	emu := monotest.NewSSD1306(128, 64)
	d, err := ssd1306.NewSPI(emu, emu.DC(), &ssd1306.DefaultOpts)
	if err != nil {
		t.Fatal(err)
	}
	oled, err := display.NewPanel(d, display.WithLanguage(lang), display.WithoutQR(), display.WithCost(1, 16), clock)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*display.Panel{"tft240x320": tft, "oled128x64": oled}
}

// Every screen in every language on both kinds of glass, pixel for pixel.
func TestGolden(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	amounts := map[display.Language]string{display.Norwegian: "125,00 kr", display.Danish: "125,00 kr.", display.Finnish: "125,00 €", display.English: "125,00 kr"}
	dir := filepath.Join("testdata", "golden")
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range display.Languages() {
		panels := goldenPanels(t, lang, now)
		for _, pn := range []string{"tft240x320", "oled128x64"} {
			p := panels[pn]
			for _, sc := range goldenScreens(amounts[lang], now) {
				name := fmt.Sprintf("%s-%s-%s.png", pn, lang, sc.name)
				t.Run(name, func(t *testing.T) {
					if err := p.Show(sc.s); err != nil {
						t.Fatal(err)
					}
					got, err := p.Frame()
					if err != nil {
						t.Fatal(err)
					}
					path := filepath.Join(dir, name)
					if *update {
						writePNG(t, path, got)
						return
					}
					want := readPNG(t, path)
					if want.Bounds() != got.Bounds() {
						t.Fatalf("%s is %v, the screen %v: run make golden and review the difference", path, want.Bounds(), got.Bounds())
					}
					for y := got.Bounds().Min.Y; y < got.Bounds().Max.Y; y++ {
						for x := got.Bounds().Min.X; x < got.Bounds().Max.X; x++ {
							if g, w := got.RGBAAt(x, y), color.RGBAModel.Convert(want.At(x, y)).(color.RGBA); g != w {
								failed := filepath.Join(t.TempDir(), name)
								writePNG(t, failed, got)
								t.Fatalf("pixel (%d,%d) is %v, %s has %v; the screen is in %s; if the change is meant, run make golden and review it",
									x, y, g, path, w, failed)
							}
						}
					}
				})
			}
		}
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v: run make golden to write the golden images", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
