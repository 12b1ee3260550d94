package monotest

import (
	"image"
)

// SSD1306 emulates a 128-column OLED on a Solomon Systech SSD1306
// (datasheet rev 1.1, §9 command table): GDDRAM in pages of 8 rows, one
// byte a column, least significant bit at the top.
type SSD1306 struct {
	bus
	w, h       int
	ram        []byte // pages × 128
	on         bool
	remap      bool // A1: column 127 at SEG0
	comReverse bool // C8: scan from COM[N-1]
	inverse    bool
	col, page  int
	c0, c1     int
	p0, p1     int
	addrMode   byte
}

// NewSSD1306 is a w×h module (128×64 or 128×32) at power-on: dark.
func NewSSD1306(w, h int) *SSD1306 {
	o := &SSD1306{w: w, h: h, ram: make([]byte, 8*128), c1: 127, p1: 7, addrMode: 2}
	o.bus = bus{name: "ssd1306", max: 4096, cmd: -1, exec: o.exec, arity: ssd1306Arity, ram: o.write}
	return o
}

func ssd1306Arity(c byte) ([]int, bool, bool) {
	switch {
	case c <= 0x1f, c >= 0x40 && c <= 0x7f, c >= 0xb0 && c <= 0xb7:
		return []int{0}, false, true // column start nibbles, display start line, page start
	}
	switch c {
	case 0x2e, 0x2f, 0xa0, 0xa1, 0xa4, 0xa5, 0xa6, 0xa7, 0xae, 0xaf, 0xc0, 0xc8, 0xe3:
		return []int{0}, false, true
	case 0x20, 0x81, 0x8d, 0xa8, 0xd3, 0xd5, 0xd9, 0xda, 0xdb:
		return []int{1}, false, true
	case 0x21, 0x22, 0xa3:
		return []int{2}, false, true
	}
	return nil, false, false
}

// exec runs a command with its parameters.
func (o *SSD1306) exec(c byte, p []byte) error {
	switch {
	case c <= 0x0f:
		o.col = o.col&0xf0 | int(c)
	case c <= 0x1f:
		o.col = o.col&0x0f | int(c&0x0f)<<4
	case c >= 0xb0 && c <= 0xb7:
		o.page = int(c & 7)
	}
	switch c {
	case 0xae, 0xaf:
		o.on = c == 0xaf
	case 0xa0, 0xa1:
		o.remap = c == 0xa1
	case 0xc0, 0xc8:
		o.comReverse = c == 0xc8
	case 0xa6, 0xa7:
		o.inverse = c == 0xa7
	case 0x20:
		o.addrMode = p[0] & 3
	case 0x21:
		o.c0, o.c1, o.col = int(p[0]&0x7f), int(p[1]&0x7f), int(p[0]&0x7f)
	case 0x22:
		o.p0, o.p1, o.page = int(p[0]&7), int(p[1]&7), int(p[0]&7)
	case 0xa8:
		if int(p[0])+1 != o.h {
			return o.fail("multiplex ratio %d on a %d-row module", int(p[0])+1, o.h)
		}
	}
	return nil
}

func (o *SSD1306) write(w []byte) error {
	for _, v := range w {
		o.ram[o.page*128+o.col] = v
		o.col++
		if o.col > o.c1 || o.col > 127 {
			o.col = o.c0
			if o.addrMode == 0 { // horizontal: on to the next page
				if o.page++; o.page > o.p1 {
					o.page = o.p0
				}
			}
		}
	}
	return nil
}

// Glass is what the module shows: lit pixels white, dark while off. The
// module's glass is wired for A1 and C8 (periph's upright setting), so
// A0/C0 turn the picture.
func (o *SSD1306) Glass() *image.Gray {
	o.mu.Lock()
	defer o.mu.Unlock()
	return glass(o.w, o.h, func(x, y int) bool {
		if !o.on {
			return false
		}
		col, row := x, y
		if !o.remap {
			col = o.w - 1 - x
		}
		if !o.comReverse {
			row = o.h - 1 - y
		}
		lit := o.ram[(row/8)*128+col]&(1<<(row%8)) != 0
		return lit != o.inverse
	})
}
