package mipidbi

import "image/color"

// RGB565 is a colour as these controllers store it with COLMOD 0x55: 5 bits
// of red, 6 of green and 5 of blue. The drivers and their fakes share it so
// that a test sees exactly the colours the panel would show.
type RGB565 uint16

// RGBA implements color.Color, widening each channel so that full intensity
// stays full (31 → 255, not 248).
func (c RGB565) RGBA() (r, g, b, a uint32) {
	r5 := uint32(c>>11) & 0x1f
	g6 := uint32(c>>5) & 0x3f
	b5 := uint32(c) & 0x1f
	r8 := r5<<3 | r5>>2
	g8 := g6<<2 | g6>>4
	b8 := b5<<3 | b5>>2
	return r8 * 0x101, g8 * 0x101, b8 * 0x101, 0xffff
}

// ToRGB565 rounds c to the nearest panel colour. Alpha is ignored: the panel
// has no transparency, so premultiplied colours come out as if over black.
func ToRGB565(c color.Color) RGB565 {
	if v, ok := c.(RGB565); ok {
		return v
	}
	r, g, b, _ := c.RGBA()
	return RGB565Of(uint8(r>>8), uint8(g>>8), uint8(b>>8))
}

// RGB565Of rounds 8-bit channels to the nearest panel colour; it is the fast
// path for drivers copying from an *image.RGBA.
func RGB565Of(r, g, b uint8) RGB565 {
	r8, g8, b8 := uint32(r), uint32(g), uint32(b)
	r5 := (r8*31 + 127) / 255
	g6 := (g8*63 + 127) / 255
	b5 := (b8*31 + 127) / 255
	return RGB565(r5<<11 | g6<<5 | b5)
}

// RGB565Model converts any colour to RGB565; it is the ColorModel of the panels.
func RGB565Model() color.Model {
	return color.ModelFunc(func(c color.Color) color.Color { return ToRGB565(c) })
}
