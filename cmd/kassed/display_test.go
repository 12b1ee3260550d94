package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kasse/cmd/internal/config"
	"kasse/display"
)

func displayConfig(kind string) config.Display {
	return config.Display{Kind: kind, SPI: "/dev/spidev0.0", DC: "GPIO25", RST: "GPIO27", Width: 240, Height: 320,
		SpeedHz: 32_000_000, Language: "nb"}
}

// Without --sim, an in-memory display is refused: a register must not come
// up "ready" with a display nobody sees.
func TestRealRegisterRefusesSimDisplay(t *testing.T) {
	_, err := openDisplay(displayConfig("sim"), false, t.Logf)
	if err == nil || !strings.Contains(err.Error(), `display.kind is "sim"`) || !strings.Contains(err.Error(), "--sim") {
		t.Fatalf("openDisplay(sim) without --sim: %v, want a refusal naming display.kind and --sim", err)
	}
	if _, err := openDisplay(displayConfig("sim"), true, t.Logf); err != nil {
		t.Fatalf("with --sim: %v", err)
	}
}

// The whole register refuses too, before it creates anything.
func TestOpenRegisterRefusesSimDisplay(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cfg := config.Config{DataDir: data, Display: displayConfig("sim")}
	cfg.Vipps.BaseURL, cfg.Vipps.MSN = "http://127.0.0.1:1", "123456"
	cfg.Printer.Port = "/dev/null"
	_, err := openRegister(cfg, config.Secrets{}, false, t.Logf)
	if err == nil || !strings.Contains(err.Error(), "--sim") {
		t.Fatalf("openRegister without --sim: %v", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the refused register made its data directory (%v)", err)
	}
}

// On a machine without SPI the error says what to check.
func TestRealPanelWithoutSPI(t *testing.T) {
	if _, err := os.Stat("/dev/spidev0.0"); err == nil {
		t.Skip("this machine has /dev/spidev0.0: the test is for one without SPI")
	}
	_, err := openDisplay(displayConfig("st7789"), false, t.Logf)
	if err == nil {
		t.Fatal("a panel opened without an SPI port")
	}
	for _, want := range []string{"display.spi", "dtparam=spi=on", "/dev/spidev"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// With --sim, each kind runs its real driver on its emulator, and the
// screen PNG (kassectl screen) is the panel's frame, in its own colours.
func TestSimulatedPanelKinds(t *testing.T) {
	for _, k := range []struct {
		kind string
		rot  int
		w, h int
	}{{"st7789", 90, 320, 240}, {"ili9341", 90, 320, 240}, {"ssd1306", 180, 128, 64}, {"epd2in13", 270, 250, 122}} {
		kind := k.kind
		c := displayConfig(kind)
		c.Rotation = k.rot
		if kind == "ssd1306" {
			c.Width, c.Height = 128, 64
		}
		if kind == "epd2in13" {
			c.Width, c.Height, c.CS, c.Busy = 122, 250, "GPIO8", "GPIO24"
		}
		ph, err := openDisplay(c, true, t.Logf)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if b := ph.panel.Bounds(); b.Dx() != k.w || b.Dy() != k.h {
			t.Errorf("%s at %d°: bounds %v", kind, k.rot, b)
		}
		if err := ph.panel.Show(display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: "https://qr.vipps.no/x"}); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var buf bytes.Buffer
		if err := ph.panel.WritePNG(&buf); err != nil {
			t.Fatal(err)
		}
		if img, err := png.Decode(&buf); err != nil || img.Bounds().Dx() != k.w {
			t.Fatalf("%s: screen PNG %v, %v", kind, img.Bounds(), err)
		}
		if err := ph.close(); err != nil {
			t.Errorf("%s: the emulator saw a fault: %v", kind, err)
		}
	}
}
