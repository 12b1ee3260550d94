package dbitest_test

import (
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"kasse/display/mipidbi"
	"kasse/display/mipidbi/dbitest"
)

func connect(t *testing.T) (*dbitest.Panel, spi.Conn, gpio.PinOut) {
	t.Helper()
	p := dbitest.New(dbitest.ST7789(240, 240, 0, 0))
	p.Sleep(120 * time.Millisecond) // power-on counts as a reset
	c, err := p.Connect(32*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	return p, c, p.DC()
}

func send(t *testing.T, c spi.Conn, dc gpio.PinOut, cmd byte, data ...byte) error {
	t.Helper()
	dc.Out(gpio.Low)
	if err := c.Tx([]byte{cmd}, nil); err != nil || len(data) == 0 {
		return err
	}
	dc.Out(gpio.High)
	return c.Tx(data, nil)
}

// A command the emulator does not know is a failure, not a silent no-op: a
// driver cannot pass its tests on commands nobody checked.
func TestUnknownCommandFails(t *testing.T) {
	p, c, dc := connect(t)
	if err := send(t, c, dc, 0xB2, 0x0c, 0x0c, 0x00, 0x33, 0x33); err == nil || !strings.Contains(err.Error(), "unknown command 0xb2") {
		t.Fatalf("PORCTRL (not emulated) gave %v", err)
	}
	if p.Err() == nil {
		t.Fatal("Err() is nil after an unknown command")
	}
}

func TestRules(t *testing.T) {
	for name, f := range map[string]func(c spi.Conn, dc gpio.PinOut) error{
		"SLPOUT right after SWRESET": func(c spi.Conn, dc gpio.PinOut) error {
			if err := send(t, c, dc, mipidbi.SWRESET); err != nil {
				return err
			}
			return send(t, c, dc, mipidbi.SLPOUT)
		},
		"too many parameters": func(c spi.Conn, dc gpio.PinOut) error {
			return send(t, c, dc, mipidbi.MADCTL, 1, 2)
		},
		"a window running backwards": func(c spi.Conn, dc gpio.PinOut) error {
			return send(t, c, dc, mipidbi.CASET, 0, 9, 0, 1)
		},
		"a transfer beyond bufsiz": func(c spi.Conn, dc gpio.PinOut) error {
			if err := send(t, c, dc, mipidbi.COLMOD, mipidbi.Pixel16); err != nil {
				return err
			}
			return send(t, c, dc, mipidbi.RAMWR, make([]byte, 4098)...)
		},
		"a pixel outside the memory": func(c spi.Conn, dc gpio.PinOut) error {
			for _, s := range [][]byte{{mipidbi.COLMOD, 0x55}, {mipidbi.CASET, 0, 0, 1, 0x40}} {
				if err := send(t, c, dc, s[0], s[1:]...); err != nil {
					return err
				}
			}
			return send(t, c, dc, mipidbi.RAMWR, make([]byte, 2*300)...)
		},
	} {
		_, c, dc := connect(t)
		if err := f(c, dc); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
