package st7789_test

import (
	"bytes"
	"fmt"
	"image"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"periph.io/x/conn/v3/gpio"

	"kasse/display"
	"kasse/display/mipidbi"
	"kasse/display/mipidbi/dbitest"
	"kasse/display/st7789"
)

const payURL = "https://qr.vipps.no/28/2/01/031/4791234567?v=1&r=OSLO1-2-k7f3-17"

func open(t testing.TB, m dbitest.Model, o st7789.Opts) (*st7789.Dev, *dbitest.Panel) {
	t.Helper()
	emu := dbitest.New(m)
	o.Sleep = emu.Sleep
	d, err := st7789.New(emu, emu.DC(), emu.RST(), emu.BL(), &o)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Err(); err != nil {
		t.Fatal(err)
	}
	return d, emu
}

// The sequence and waits of the datasheet (ST7789V v1.6): reset pulse ≥ 10
// µs, 120 ms before the first command, SWRESET then 120 ms before SLPOUT,
// SLPOUT then at least 5 ms (120 ms for the booster) before DISPON, 16-bit
// pixels, inversion on for IPS glass, display on, then the backlight.
func TestInitSequence(t *testing.T) {
	_, emu := open(t, dbitest.ST7789(240, 320, 0, 0), st7789.DefaultOpts)
	type step struct {
		what string
		data []byte
		wait time.Duration // until the next event
	}
	want := []step{
		{"RST low", nil, 10 * time.Microsecond},
		{"RST high", nil, 120 * time.Millisecond},
		{"SWRESET", nil, 120 * time.Millisecond},
		{"SLPOUT", nil, 120 * time.Millisecond},
		{"COLMOD", []byte{0x55}, 0},
		{"MADCTL", []byte{0x00}, 0},
		{"INVON", nil, 0},
		{"NORON", nil, 0},
		{"DISPON", nil, 0},
		{"BL high", nil, 0},
	}
	names := map[byte]string{0x01: "SWRESET", 0x11: "SLPOUT", 0x3a: "COLMOD", 0x36: "MADCTL", 0x21: "INVON", 0x13: "NORON", 0x29: "DISPON"}
	ev := emu.Events()
	if len(ev) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(ev), len(want), ev)
	}
	for i, e := range ev {
		what := names[e.Cmd]
		if e.Pin != "" {
			what = e.Pin + " " + map[gpio.Level]string{gpio.Low: "low", gpio.High: "high"}[e.Level]
		}
		var wait time.Duration
		if i+1 < len(ev) {
			wait = ev[i+1].At - e.At
		}
		if what != want[i].what || !bytes.Equal(e.Data, want[i].data) || wait != want[i].wait {
			t.Errorf("event %d: %s %x then %s; want %s %x then %s", i, what, e.Data, wait, want[i].what, want[i].data, want[i].wait)
		}
	}
	if got := emu.Speed(); got != st7789.DefaultOpts.Speed {
		t.Errorf("connected at %s, want %s", got, st7789.DefaultOpts.Speed)
	}
}

// The emulator holds the driver to the datasheet: too short a wait fails.
func TestEmulatorRefusesShortWaits(t *testing.T) {
	emu := dbitest.New(dbitest.ST7789(240, 320, 0, 0))
	o := st7789.DefaultOpts
	o.Sleep = func(d time.Duration) { emu.Sleep(d / 2) }
	if _, err := st7789.New(emu, emu.DC(), emu.RST(), emu.BL(), &o); err == nil {
		t.Fatal("a driver waiting half the datasheet's time was accepted")
	} else {
		t.Log(err)
	}
}

func decode(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatalf("the QR on the emulated glass does not decode: %v", err)
	}
	return res.GetText()
}

// The QR screen through the real Panel, the driver and the emulated glass,
// at every rotation, on both panel sizes (240×240 needs the row offset).
func TestQRScreenOnGlass(t *testing.T) {
	for _, size := range []image.Point{{240, 320}, {240, 240}} {
		for _, rot := range []mipidbi.Rotation{0, 90, 180, 270} {
			t.Run(fmt.Sprintf("%dx%d/%d", size.X, size.Y, rot), func(t *testing.T) {
				o := st7789.DefaultOpts
				o.W, o.H, o.Rotation = size.X, size.Y, rot
				d, emu := open(t, dbitest.ST7789(size.X, size.Y, 0, 0), o)
				p, err := display.NewPanel(d)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Show(display.Screen{Kind: display.Amount, Amount: "125,00 kr"}); err != nil {
					t.Fatal(err)
				}
				if err := p.Show(display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: payURL}); err != nil {
					t.Fatal(err)
				}
				if err := emu.Err(); err != nil {
					t.Fatal(err)
				}
				pic := emu.Picture(rot)
				if got := decode(t, pic.SubImage(p.QRArea())); got != payURL {
					t.Fatalf("decoded %q, want %q", got, payURL)
				}
				// Every pixel is the panel's frame, exactly: offsets, mirrors,
				// inversion and byte order are all right.
				want, err := p.Frame()
				if err != nil {
					t.Fatal(err)
				}
				for y := 0; y < pic.Bounds().Dy(); y++ {
					for x := 0; x < pic.Bounds().Dx(); x++ {
						if pic.RGBAAt(x, y) != want.RGBAAt(x, y) {
							t.Fatalf("glass pixel (%d,%d) is %v, the frame has %v", x, y, pic.RGBAAt(x, y), want.RGBAAt(x, y))
						}
					}
				}
			})
		}
	}
}

// A full frame is cut into transfers the bus takes (spidev's 4096 bytes).
func TestChunkedToMaxTxSize(t *testing.T) {
	m := dbitest.ST7789(240, 320, 0, 0)
	m.MaxTxSize = 1000 // the emulator fails any larger transfer
	d, emu := open(t, m, st7789.DefaultOpts)
	before := emu.Transfers()
	img := image.NewRGBA(d.Bounds())
	if err := d.Draw(d.Bounds(), img, image.Point{}); err != nil {
		t.Fatal(err)
	}
	if err := emu.Err(); err != nil {
		t.Fatal(err)
	}
	pixels := 240 * 320 * 2
	if n, min := emu.Transfers()-before, 5+(pixels+999)/1000; n != min {
		t.Errorf("%d transfers for a full frame, want %d (CASET and RASET with their data, RAMWR, the pixels in 1000-byte pieces)", n, min)
	}
}

func TestBadOpts(t *testing.T) {
	for _, o := range []st7789.Opts{
		{W: 240, H: 320, Rotation: 45},
		{W: 240, H: 240, YOffset: 100},
		{W: 320, H: 240},
	} {
		emu := dbitest.New(dbitest.ST7789(240, 320, 0, 0))
		if _, err := st7789.New(emu, emu.DC(), nil, nil, &o); err == nil {
			t.Errorf("%+v accepted", o)
		} else {
			t.Log(err)
		}
	}
}
