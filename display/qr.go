package display

import (
	"fmt"
	"image"

	"rsc.io/qr"
)

// drawQR draws the screen's QR, pure black on white, centred in area. The
// area is already white, so the quiet zone only has to fit inside it.
func drawQR(dst *image.RGBA, area image.Rectangle, s Screen) error {
	switch {
	case s.QRImage != nil:
		return drawQRImage(dst, area, s.QRImage)
	case s.QR != "":
		return drawQRText(dst, area, s.QR)
	}
	return fmt.Errorf("display: a QR screen needs the payment link (Screen.QR) or a QR image (Screen.QRImage); neither was given")
}

// checkQR reports whether s's QR fits area, without drawing it.
func checkQR(area image.Rectangle, s Screen) error {
	switch {
	case s.QRImage != nil:
		return fitsImage(area, s.QRImage)
	case s.QR != "":
		_, _, err := encodeQR(area, s.QR)
		return err
	}
	return fmt.Errorf("display: a QR screen needs the payment link (Screen.QR) or a QR image (Screen.QRImage); neither was given")
}

// encodeQR encodes text at level M and picks the largest integer module
// scale at which the code and its 4-module quiet zone fit area.
func encodeQR(area image.Rectangle, text string) (*qr.Code, int, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, 0, fmt.Errorf("display: the payment link (%d bytes) cannot be encoded as a QR code; check the link the payment API returned: %w", len(text), err)
	}
	need := code.Size + 2*quietModules
	// An integer scale keeps every module the same size, which scanners need.
	scale := min(area.Dx(), area.Dy()) / need
	if scale < 1 {
		return nil, 0, fmt.Errorf("display: the payment link needs a %d×%d pixel QR code but this panel has room for %d×%d; use a larger panel or a shorter link (qrFormat TEXT/TARGETURL gives a short one)",
			need, need, area.Dx(), area.Dy())
	}
	return code, scale, nil
}

func drawQRText(dst *image.RGBA, area image.Rectangle, text string) error {
	code, scale, err := encodeQR(area, text)
	if err != nil {
		return err
	}
	side := code.Size * scale
	ox := area.Min.X + (area.Dx()-side)/2
	oy := area.Min.Y + (area.Dy()-side)/2
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if code.Black(x, y) {
				px, py := ox+x*scale, oy+y*scale
				fill(dst, image.Rect(px, py, px+scale, py+scale), black)
			}
		}
	}
	return nil
}

// drawQRImage copies a ready-made QR 1:1 (scaling would blur modules) and
// thresholds it, so a tinted or anti-aliased PNG still scans as black/white.
func fitsImage(area image.Rectangle, img image.Image) error {
	if b := img.Bounds(); b.Dx() > area.Dx() || b.Dy() > area.Dy() {
		return fmt.Errorf("display: the QR image is %d×%d pixels but this panel's QR area is %d×%d; request the image at size %d",
			b.Dx(), b.Dy(), area.Dx(), area.Dy(), min(area.Dx(), area.Dy()))
	}
	return nil
}

func drawQRImage(dst *image.RGBA, area image.Rectangle, img image.Image) error {
	if err := fitsImage(area, img); err != nil {
		return err
	}
	b := img.Bounds()
	ox := area.Min.X + (area.Dx()-b.Dx())/2
	oy := area.Min.Y + (area.Dy()-b.Dy())/2
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := white.rgba()
			if dark(img, x, y) {
				c = black.rgba()
			}
			i := dst.PixOffset(ox+x-b.Min.X, oy+y-b.Min.Y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = c.R, c.G, c.B, c.A
		}
	}
	return nil
}

// dark reports whether the pixel, laid over white, is darker than mid-grey.
func dark(img image.Image, x, y int) bool {
	r, g, b, a := img.At(x, y).RGBA()
	// Premultiplied: over white adds the uncovered part as white.
	r, g, b = r+0xffff-a, g+0xffff-a, b+0xffff-a
	lum := (19595*r + 38470*g + 7471*b) >> 16
	return lum < 0x8000
}
