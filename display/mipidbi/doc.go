// Package mipidbi drives colour TFT controllers that speak the MIPI Alliance
// Display Command Set over a 4-wire serial bus (MIPI DBI type C, option 3:
// SPI plus a data/command pin), such as the Sitronix ST7789 and the Ilitek
// ILI9341. It holds what those controllers share: the command numbers, the
// MADCTL bits, rotation and offsets, the hardware reset, and windowed RGB565
// writes (CASET/RASET/RAMWR) chunked to the bus's largest transfer. The
// controller packages (display/st7789, display/ili9341) add their init
// sequences and frame memory sizes.
//
// References: MIPI Alliance Specification for Display Command Set (DCS)
// v1.02; Sitronix ST7789V datasheet v1.6 §9; Ilitek ILI9341 datasheet v1.11
// §8.
package mipidbi
