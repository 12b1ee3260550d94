package config

import (
	"strings"
	"testing"
)

// Each [display] table is accepted as the panel it names, or refused with
// one line per problem naming the key and what to write instead.
func TestDisplayTable(t *testing.T) {
	const tft = "kind = \"st7789\"\nspi = \"/dev/spidev0.0\"\ndc = \"GPIO25\"\n"
	for _, c := range []struct {
		vipps, display string
		want           []string // substrings, one problem each; none: accepted
		check          func(Display) bool
	}{
		{"", "", nil, func(d Display) bool {
			return d.Kind == "sim" && d.Width == 240 && d.Height == 320 && d.Language == "nb"
		}},
		{"", tft + "rst = \"GPIO27\"\nbacklight = \"GPIO18\"\nrotation = 180\nheight = 240", nil,
			func(d Display) bool { return d.Width == 240 && d.Height == 240 && d.SpeedHz == 32_000_000 }},
		{"", "driver = \"ili9341\"\nspi = \"SPI0.1\"\ndc = \"GPIO24\"\nrotation = 90\nlanguage = \"fi\"", nil,
			func(d Display) bool { return d.Kind == "ili9341" && d.Driver == "" && d.Language == "fi" }},
		{"flow = \"push\"", "kind = \"ssd1306\"\nspi = \"/dev/spidev0.0\"\ndc = \"GPIO25\"", nil,
			func(d Display) bool { return d.Width == 128 && d.Height == 64 }},
		{"", "kind = \"epd2in13\"\nspi = \"/dev/spidev0.0\"\ndc = \"GPIO25\"\nrst = \"GPIO17\"\ncs = \"GPIO8\"\nbusy = \"GPIO24\"\nrotation = 270", nil,
			func(d Display) bool { return d.Width == 122 && d.Height == 250 }},

		{"", "kind = \"st7735\"", []string{`display.kind "st7735" is not known: use st7789, ili9341, ssd1306, epd2in13 or sim`}, nil},
		{"", "kind = \"st7789\"", []string{"display.spi is missing", "display.dc is missing"}, nil},
		{"", tft + "spi = \"spidev0.0\"", nil, nil}, // a duplicate key: TOML's own error
		{"", strings.Replace(tft, "/dev/spidev0.0", "/dev/spi0", 1), []string{`display.spi "/dev/spi0" is not an SPI port`}, nil},
		{"", tft + "rst = \"GPIO 27\"", []string{`display.rst "GPIO 27" is not a pin name`}, nil},
		{"", tft + "rotation = 45", []string{"display.rotation 45 is not one the st7789 can do: use 0, 90, 180 or 270"}, nil},
		{"", tft + "height = 240\ny_offset = 81", []string{"does not fit the st7789"}, nil},
		{"", tft + "speed_hz = 100000000", []string{"display.speed_hz 100000000 is out of range"}, nil},
		{"", strings.Replace(tft, "st7789", "ili9341", 1) + "width = 128", []string{"does not fit the ili9341"}, nil},
		{"", "kind = \"ssd1306\"\nspi = \"/dev/spidev0.0\"\ndc = \"GPIO25\"\nrotation = 90",
			[]string{"display.rotation 90 is not one the ssd1306 can do: use 0 or 180", `set vipps.flow = "push"`}, nil},
		{"", "kind = \"epd2in13\"\nspi = \"/dev/spidev0.0\"\ndc = \"GPIO25\"",
			[]string{"display.rst is missing", "display.cs is missing", "display.busy is missing"}, nil},
		{"", "kind = \"sim\"\ndriver = \"st7789\"", []string{`display.kind "sim" and display.driver "st7789" disagree`}, nil},
		{"", "language = \"sv\"", []string{`display.language "sv" is not known`}, nil},
	} {
		text := minimal
		if c.vipps != "" {
			text = strings.Replace(text, "[vipps]\n", "[vipps]\n"+c.vipps+"\n", 1)
		}
		if c.display != "" {
			text += "[display]\n" + c.display + "\n"
		}
		path := writeConfig(t, text)
		got, err := Load(path)
		switch {
		case c.want == nil && c.check == nil:
			if err == nil {
				t.Errorf("%q: accepted", c.display)
			}
		case c.want == nil:
			if err != nil {
				t.Errorf("%q: %v", c.display, err)
			} else if !c.check(got.Display) {
				t.Errorf("%q: loaded as %+v", c.display, got.Display)
			}
		default:
			if err == nil {
				t.Errorf("%q: accepted, want %q", c.display, c.want)
				continue
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(c.want) {
				t.Errorf("%q: %d problems, want %d:\n%v", c.display, len(lines), len(c.want), err)
				continue
			}
			for i, w := range c.want {
				if !strings.Contains(lines[i], w) || !strings.HasPrefix(lines[i], "config "+path+": ") {
					t.Errorf("%q: problem %d is %q, want it to name the file and say %q", c.display, i, lines[i], w)
				}
			}
		}
	}
}
