package config

import (
	"fmt"
	"regexp"

	"github.com/BurntSushi/toml"
)

// settle reads the older name (driver) and gives a panel named in the file
// its own size when the file gives none.
func (d *Display) settle(md toml.MetaData) error {
	kindSet, driverSet := md.IsDefined("display", "kind"), md.IsDefined("display", "driver")
	switch {
	case kindSet && driverSet && d.Kind != d.Driver:
		return fmt.Errorf("display.kind %q and display.driver %q disagree: keep only kind (driver is its older name)", d.Kind, d.Driver)
	case driverSet && !kindSet:
		d.Kind = d.Driver
	}
	d.Driver = ""
	if w, h, ok := kindSize(d.Kind); ok {
		if !md.IsDefined("display", "width") {
			d.Width = w
		}
		if !md.IsDefined("display", "height") {
			d.Height = h
		}
	}
	return nil
}

var (
	spiPort = regexp.MustCompile(`^(/dev/spidev[0-9]+\.[0-9]+|SPI[0-9]+\.[0-9]+)$`)
	pinName = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)
)

// validate reports every problem of the [display] table through bad.
func (d Display) validate(bad func(string, ...any), flow string) {
	kind := d.Kind
	if kind == "" {
		kind = d.Driver
	}
	switch kind {
	case "":
		bad("display.kind is missing: set it to the panel wired to the register: st7789, ili9341, ssd1306 or epd2in13 (sim for kassed --sim)")
		return
	case DisplaySim, DisplayST7789, DisplayILI9341, DisplaySSD1306, DisplayEPD2in13:
	default:
		bad("display.kind %q is not known: use st7789, ili9341, ssd1306, epd2in13 or sim", kind)
		return
	}
	switch d.Language {
	case "nb", "da", "fi", "en":
	default:
		bad("display.language %q is not known: use nb (Norwegian), da (Danish), fi (Finnish) or en (English)", d.Language)
	}
	if kind == DisplaySim {
		if d.Width < 64 || d.Width > 1024 {
			bad("display.width %d is out of range: use 64 to 1024 pixels, e.g. 240", d.Width)
		}
		if d.Height < 64 || d.Height > 1024 {
			bad("display.height %d is out of range: use 64 to 1024 pixels, e.g. 320", d.Height)
		}
		return
	}

	if d.SPI == "" {
		bad("display.spi is missing: set it to the SPI port the %s is wired to, e.g. \"/dev/spidev0.0\" (CE0) or \"SPI0.0\"", kind)
	} else if !spiPort.MatchString(d.SPI) {
		bad("display.spi %q is not an SPI port: use \"/dev/spidevB.C\" or \"SPIB.C\", e.g. \"/dev/spidev0.0\"", d.SPI)
	}
	pin := func(key, v string, required bool, example string) {
		switch {
		case v == "" && required:
			bad("display.%s is missing: the %s needs it; set it to the GPIO it is wired to, e.g. %q", key, kind, example)
		case v != "" && !pinName.MatchString(v):
			bad("display.%s %q is not a pin name: use the GPIO name periph knows, e.g. %q (BCM numbering)", key, v, example)
		}
	}
	epd := kind == DisplayEPD2in13
	pin("dc", d.DC, true, "GPIO25")
	pin("rst", d.RST, epd, "GPIO17")
	pin("backlight", d.Backlight, false, "GPIO18")
	// The TFTs and the OLED use the port's own chip select and have no
	// busy line; cs and busy are read only for the e-paper.
	pin("cs", d.CS, epd, "GPIO8")
	pin("busy", d.Busy, epd, "GPIO24")

	switch {
	case kind == DisplaySSD1306 && d.Rotation != 0 && d.Rotation != 180:
		bad("display.rotation %d is not one the ssd1306 can do: use 0 or 180", d.Rotation)
	case d.Rotation != 0 && d.Rotation != 90 && d.Rotation != 180 && d.Rotation != 270:
		bad("display.rotation %d is not one the %s can do: use 0, 90, 180 or 270", d.Rotation, kind)
	}

	size := func(maxW, maxH int, what string) {
		if d.Width < 1 || d.Height < 1 || d.XOffset < 0 || d.YOffset < 0 || d.Width+d.XOffset > maxW || d.Height+d.YOffset > maxH {
			bad("display.width × height %d×%d at offset %d,%d does not fit the %s: %s", d.Width, d.Height, d.XOffset, d.YOffset, kind, what)
		}
	}
	switch kind {
	case DisplayST7789:
		size(240, 320, "use the glass's size in portrait, e.g. 240×320 or 240×240, offsets within the controller's 240×320")
	case DisplayILI9341:
		if d.Width != 240 || d.Height != 320 || d.XOffset != 0 || d.YOffset != 0 {
			bad("display.width × height %d×%d at offset %d,%d does not fit the ili9341: use 240×320 (portrait) and no offsets", d.Width, d.Height, d.XOffset, d.YOffset)
		}
	case DisplaySSD1306:
		if d.Width != 128 || (d.Height != 64 && d.Height != 32) || d.XOffset != 0 || d.YOffset != 0 {
			bad("display.width × height %d×%d does not fit the ssd1306: use 128×64 (or 128×32), no offsets", d.Width, d.Height)
		}
		if flow != "push" {
			bad("display.kind ssd1306 cannot show a QR code a phone reads at first try: set vipps.flow = \"push\" (the cashier keys the shopper's phone number)")
		}
	case DisplayEPD2in13:
		if d.Width != 122 || d.Height != 250 || d.XOffset != 0 || d.YOffset != 0 {
			bad("display.width × height %d×%d does not fit the epd2in13: use 122×250 (portrait) and no offsets", d.Width, d.Height)
		}
	}
	if kind == DisplayST7789 || kind == DisplayILI9341 {
		if d.SpeedHz < 1_000_000 || d.SpeedHz > 80_000_000 {
			bad("display.speed_hz %d is out of range: use 1000000 to 80000000, e.g. 32000000 (lower it if the picture shows noise)", d.SpeedHz)
		}
	}
}
