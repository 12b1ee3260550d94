// Package ili9341 drives 240×320 colour TFT panels on an Ilitek ILI9341
// controller over SPI with a data/command pin.
//
// Datasheet: Ilitek ILI9341, version 1.11 (2011): §15.4 reset timing
// (tRW ≥ 10 µs, tRT ≤ 120 ms), §8.2.2 Software Reset and §8.2.12 Sleep Out
// (5 ms before the next command, 120 ms before Sleep Out/Sleep In), §8.2.29
// Memory Access Control, §8.2.33 Pixel Format Set.
//
// Most ILI9341 modules wire the glass's columns right to left and carry BGR
// colour filters; DefaultOpts says so (Mirrored, BGR). The shared MIPI
// command set, windowed writes and rotation live in kasse/display/mipidbi.
package ili9341
