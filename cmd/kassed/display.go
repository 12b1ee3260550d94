package main

// The customer display from [display]: a real panel through periph's host
// drivers, or with --sim the same driver on the panel emulator (or the
// in-memory framebuffer for kind "sim"), so every kind can be tried and
// kassectl screen shows what the panel would.

import (
	"errors"
	"fmt"
	"os"
	"time"

	conndisplay "periph.io/x/conn/v3/display"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spireg"
	"periph.io/x/devices/v3/ssd1306"
	"periph.io/x/host/v3"

	"kasse/cmd/internal/config"
	"kasse/display"
	"kasse/display/displaytest"
	"kasse/display/epaper"
	"kasse/display/ili9341"
	"kasse/display/mipidbi"
	"kasse/display/mipidbi/dbitest"
	"kasse/display/monotest"
	"kasse/display/st7789"
)

var errSimDisplay = errors.New(`display.kind is "sim", an in-memory display no shopper can see: set display.kind to the panel wired to this register (st7789, ili9341, ssd1306 or epd2in13), or run kassed --sim`)

// panelHW is what openDisplay gives the register.
type panelHW struct {
	panel *display.Panel
	fb    *displaytest.Framebuffer // kind "sim" only
	close func() error
}

// bus is the SPI port and pins of one panel, real or emulated.
type bus struct {
	port          spi.Port
	dc, rst, bl   gpio.PinOut
	cs            gpio.PinOut
	busy          gpio.PinIn
	sleep         func(time.Duration)
	close         func() error
	emulated      bool
	describeWires string
}

func openDisplay(c config.Display, sim bool, logf func(string, ...any)) (*panelHW, error) {
	opts := []display.Option{display.WithLanguage(display.Language(c.Language))}
	if c.Kind == config.DisplaySim {
		if !sim {
			return nil, errSimDisplay
		}
		fb := displaytest.NewFramebuffer(c.Width, c.Height)
		p, err := display.NewPanel(fb, opts...)
		if err != nil {
			return nil, err
		}
		return &panelHW{panel: p, fb: fb, close: func() error { return nil }}, nil
	}

	var b *bus
	var err error
	if sim {
		b, err = emulatedBus(c)
		logf("simulated %s display on the panel emulator: kassectl screen shows it", c.Kind)
	} else {
		b, err = realBus(c)
	}
	if err != nil {
		return nil, err
	}
	d, extra, err := openDrawer(c, b)
	if err != nil {
		b.close()
		if b.emulated {
			return nil, err
		}
		return nil, fmt.Errorf("display: starting the %s on %s failed: %w: check the wiring (%s), the panel's power, and that kassed's user is in the gpio and spi groups", c.Kind, c.SPI, err, b.describeWires)
	}
	p, err := display.NewPanel(d, append(opts, extra...)...)
	if err != nil {
		d.Halt()
		b.close()
		return nil, err
	}
	return &panelHW{panel: p, close: func() error {
		// A register going down leaves no stale QR up.
		return errors.Join(d.Halt(), b.close())
	}}, nil
}

func openDrawer(c config.Display, b *bus) (conndisplay.Drawer, []display.Option, error) {
	rot := mipidbi.Rotation(c.Rotation)
	switch c.Kind {
	case config.DisplayST7789:
		o := st7789.DefaultOpts
		o.W, o.H, o.XOffset, o.YOffset, o.Rotation, o.Speed, o.Sleep = c.Width, c.Height, c.XOffset, c.YOffset, rot, physic.Frequency(c.SpeedHz)*physic.Hertz, b.sleep
		d, err := st7789.New(b.port, b.dc, b.rst, b.bl, &o)
		return d, nil, err
	case config.DisplayILI9341:
		o := ili9341.DefaultOpts
		o.Rotation, o.Speed, o.Sleep = rot, physic.Frequency(c.SpeedHz)*physic.Hertz, b.sleep
		d, err := ili9341.New(b.port, b.dc, b.rst, b.bl, &o)
		return d, nil, err
	case config.DisplaySSD1306:
		if b.rst != nil {
			// RES# low for at least 3 µs (SSD1306 §8.9); periph's driver
			// leaves the reset to us.
			for _, l := range []gpio.Level{gpio.Low, gpio.High} {
				if err := b.rst.Out(l); err != nil {
					return nil, nil, err
				}
				b.sleep(time.Millisecond)
			}
		}
		o := ssd1306.DefaultOpts
		o.W, o.H, o.Rotated = c.Width, c.Height, c.Rotation == 180
		d, err := ssd1306.NewSPI(b.port, b.dc, &o)
		// No QR a phone reads at first try fits 128×64; 1 bit a pixel.
		return d, []display.Option{display.WithoutQR(), display.WithCost(1, 16)}, err
	case config.DisplayEPD2in13:
		d, err := epaper.New(b.port, b.dc, b.cs, b.rst, b.busy, c.Rotation)
		// Every refresh takes a few hundred ms: one window a screen.
		return d, []display.Option{display.WithCost(1, 1<<20)}, err
	}
	return nil, nil, fmt.Errorf("display.kind %q is not wired in this build", c.Kind)
}

// realBus opens the port and pins through periph's host drivers.
func realBus(c config.Display) (*bus, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("display: starting periph's host drivers: %w: kassed needs a Linux board with /dev/gpiochip* and /dev/spidev* (a Raspberry Pi), or run kassed --sim", err)
	}
	port, err := spireg.Open(c.SPI)
	if err != nil {
		hint := ""
		if _, serr := os.Stat(c.SPI); os.IsPermission(serr) || errors.Is(err, os.ErrPermission) {
			hint = "; it exists but kassed's user may not open it: add the user to the spi group"
		}
		return nil, fmt.Errorf("display.spi %q cannot be opened: %w: enable SPI (dtparam=spi=on in /boot/firmware/config.txt, then reboot) and check that /dev/spidev* exists%s", c.SPI, err, hint)
	}
	b := &bus{port: port, sleep: time.Sleep, close: port.Close, describeWires: "MOSI, SCLK, CE, D/C"}
	pin := func(key, name string) (gpio.PinIO, error) {
		if name == "" {
			return nil, nil
		}
		p := gpioreg.ByName(name)
		if p == nil {
			return nil, fmt.Errorf("display.%s %q is not a GPIO this board has: use a name like GPIO25 (BCM numbering)", key, name)
		}
		b.describeWires += ", " + key + " on " + name
		return p, nil
	}
	var errs []error
	set := func(dst *gpio.PinOut, key, name string) {
		p, err := pin(key, name)
		errs = append(errs, err)
		if p != nil {
			*dst = p
		}
	}
	set(&b.dc, "dc", c.DC)
	set(&b.rst, "rst", c.RST)
	set(&b.bl, "backlight", c.Backlight)
	if c.Kind == config.DisplayEPD2in13 {
		set(&b.cs, "cs", c.CS)
		p, err := pin("busy", c.Busy)
		errs = append(errs, err)
		if p != nil {
			b.busy = p
		}
	}
	if err := errors.Join(errs...); err != nil {
		port.Close()
		return nil, err
	}
	return b, nil
}

// emulatedBus is the panel emulator of the configured kind, for --sim.
func emulatedBus(c config.Display) (*bus, error) {
	switch c.Kind {
	case config.DisplayST7789, config.DisplayILI9341:
		m := dbitest.ILI9341()
		if c.Kind == config.DisplayST7789 {
			m = dbitest.ST7789(c.Width, c.Height, c.XOffset, c.YOffset)
		}
		emu := dbitest.New(m)
		return &bus{port: emu, dc: emu.DC(), rst: emu.RST(), bl: emu.BL(), sleep: emu.Sleep,
			close: func() error { return emu.Err() }, emulated: true}, nil
	case config.DisplaySSD1306:
		emu := monotest.NewSSD1306(c.Width, c.Height)
		return &bus{port: emu, dc: emu.DC(), sleep: func(time.Duration) {}, close: emu.Err, emulated: true}, nil
	case config.DisplayEPD2in13:
		emu := monotest.NewEPD2in13()
		return &bus{port: emu, dc: emu.DC(), cs: emu.CS(), rst: emu.RST(), busy: emu.Busy(), sleep: func(time.Duration) {},
			close: emu.Err, emulated: true}, nil
	}
	return nil, fmt.Errorf("display.kind %q has no emulator in this build", c.Kind)
}
