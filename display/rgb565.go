package display

import (
	"image/color"

	"kasse/display/mipidbi"
)

// RGB565 is the colour of the TFT panels and of the in-memory framebuffer;
// one definition, the drivers', so a test sees the colours the shopper would.
type RGB565 = mipidbi.RGB565

// ToRGB565 rounds c to the nearest panel colour.
func ToRGB565(c color.Color) RGB565 { return mipidbi.ToRGB565(c) }

// RGB565Of rounds 8-bit channels to the nearest panel colour.
func RGB565Of(r, g, b uint8) RGB565 { return mipidbi.RGB565Of(r, g, b) }

// RGB565Model converts any colour to RGB565.
func RGB565Model() color.Model { return mipidbi.RGB565Model() }
