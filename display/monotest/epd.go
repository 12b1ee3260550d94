package monotest

import (
	"image"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Refresh is one update of the e-paper's glass.
type Refresh struct {
	Partial bool        // the waveform drives only pixels that change
	Glass   *image.Gray // what it showed afterwards
}

// EPD emulates the Waveshare 2.13" V2 e-paper (122×250) on its SSD1675-class
// controller (Waveshare 2.13" V2 specification; Solomon Systech SSD1675B
// datasheet §7): two RAMs of 1 bit a pixel, MSB leftmost, 1 white; a
// window and address counters; a refresh when the master activation runs
// a display update.
type EPD struct {
	bus
	w, h      int
	ram       [2][]byte // black/white, "red" (the previous image, for partial waveforms)
	stride    int
	cs        gpio.Level
	x0, x1    int
	y0, y1    int
	xc, yc    int
	update2   byte
	lut       []byte
	refreshes []Refresh
	shown     []byte
	busy      *gpiotest.Pin
}

// NewEPD2in13 is the 122×250 panel at power-on, white.
func NewEPD2in13() *EPD {
	e := &EPD{w: 122, h: 250, stride: 16, cs: gpio.High,
		busy: &gpiotest.Pin{N: "BUSY", Num: -1, L: gpio.Low, EdgesChan: make(chan gpio.Level)}}
	for i := range e.ram {
		e.ram[i] = make([]byte, e.stride*e.h)
		for j := range e.ram[i] {
			e.ram[i][j] = 0xff
		}
	}
	e.shown = append([]byte(nil), e.ram[0]...)
	e.x1, e.y1 = e.stride-1, e.h-1
	e.bus = bus{name: "epd2in13", max: 4096, cmd: -1, exec: e.exec, arity: epdArity,
		csLow: func() bool { return e.cs == gpio.Low }}
	return e
}

func epdArity(c byte) ([]int, bool, bool) {
	switch c {
	case 0x12, 0x20:
		return []int{0}, false, true
	case 0x03, 0x10, 0x11, 0x21, 0x22, 0x2c, 0x3a, 0x3b, 0x3c, 0x4e, 0x74, 0x7e:
		return []int{1}, false, true
	case 0x44, 0x4f:
		return []int{2}, false, true
	case 0x01, 0x04:
		return []int{3}, false, true
	case 0x45:
		return []int{4}, false, true
	case 0x37:
		return []int{7, 10}, false, true
	case 0x32:
		return []int{70}, false, true
	case 0x24, 0x26:
		return nil, true, true
	}
	return nil, false, false
}

func (e *EPD) exec(c byte, p []byte) error {
	switch c {
	case 0x11:
		if p[0]&7 != 0b011 {
			return e.fail("data entry mode %#02x: only X then Y, both increasing, is emulated", p[0])
		}
	case 0x44:
		e.x0, e.x1 = int(p[0]), int(p[1])
	case 0x45:
		e.y0, e.y1 = int(p[0])|int(p[1])<<8, int(p[2])|int(p[3])<<8
	case 0x4e:
		e.xc = int(p[0])
	case 0x4f:
		e.yc = int(p[0]) | int(p[1])<<8
	case 0x22:
		e.update2 = p[0]
	case 0x32:
		e.lut = append([]byte(nil), p...)
	case 0x20:
		if e.update2&0x04 == 0 { // no display update asked: clocks and analog only
			return nil
		}
		if len(e.lut) == 0 {
			return e.fail("a display update with no waveform loaded (0x32)")
		}
		e.shown = append(e.shown[:0], e.ram[0]...)
		// A partial waveform leaves black-to-black alone (LUT0 all zero).
		partial := true
		for _, v := range e.lut[:7] {
			partial = partial && v == 0
		}
		e.refreshes = append(e.refreshes, Refresh{Partial: partial, Glass: e.glassLocked()})
	case 0x24, 0x26:
		i := 0
		if c == 0x26 {
			i = 1
		}
		for _, v := range p {
			if e.xc > e.x1 || e.yc > e.y1 || e.xc >= e.stride || e.yc >= e.h {
				return e.fail("RAM write at byte %d, row %d is outside the window or the RAM", e.xc, e.yc)
			}
			e.ram[i][e.yc*e.stride+e.xc] = v
			if e.xc++; e.xc > e.x1 {
				e.xc = e.x0
				e.yc++
			}
		}
	}
	return nil
}

// CS is the chip select the driver drives itself; bytes with CS high are
// an error (the controller would not see them).
func (e *EPD) CS() gpio.PinOut { return e.pin("CS", func(l gpio.Level) { e.cs = l }) }

// RST is the reset pin.
func (e *EPD) RST() gpio.PinOut { return e.pin("RST", func(gpio.Level) {}) }

// Busy is the busy line: low, the controller is always done at once here.
func (e *EPD) Busy() gpio.PinIn { return e.busy }

// Refreshes is every update of the glass so far.
func (e *EPD) Refreshes() []Refresh {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Refresh(nil), e.refreshes...)
}

// Glass is what the paper shows now.
func (e *EPD) Glass() *image.Gray {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.glassLocked()
}

func (e *EPD) glassLocked() *image.Gray {
	return glass(e.w, e.h, func(x, y int) bool {
		return e.shown[y*e.stride+x/8]&(0x80>>(x%8)) != 0
	})
}
