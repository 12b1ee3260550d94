// Package st7789 drives colour TFT panels on a Sitronix ST7789 controller
// (240×240 and 240×320 IPS modules) over SPI with a data/command pin.
//
// Datasheet: Sitronix ST7789V, version 1.6 (2017): §8.4 hardware reset
// timing (tRW ≥ 10 µs, tRT ≤ 120 ms), §9.1.2 SWRESET and §9.1.12 SLPOUT
// (5 ms before the next command, 120 ms before SLPOUT/SLPIN), §9.1.28
// MADCTL, §9.1.32 COLMOD.
//
// The shared MIPI command set, windowed writes and rotation live in
// kasse/display/mipidbi; this package adds the frame memory size (240×320)
// and the init sequence.
package st7789
