package display

import (
	"image"
	"image/color"
	"math"
)

type icon int

const (
	iconNone  icon = iota
	iconCheck      // paid
	iconCross      // cancelled, expired, failed
	iconBang       // error
	iconDots       // working, waiting
)

type segment struct{ x0, y0, x1, y1 float64 }

// strokes are the white marks inside the disc, in unit coordinates.
func (ic icon) strokes() []segment {
	switch ic {
	case iconCheck:
		return []segment{{0.27, 0.53, 0.44, 0.70}, {0.44, 0.70, 0.75, 0.34}}
	case iconCross:
		return []segment{{0.33, 0.33, 0.67, 0.67}, {0.67, 0.33, 0.33, 0.67}}
	case iconBang:
		return []segment{{0.5, 0.24, 0.5, 0.58}, {0.5, 0.75, 0.5, 0.75}}
	}
	return nil
}

// drawIcon draws a coloured disc with white strokes (or three dots) in the
// square r, with 4×4 supersampling so small icons do not look jagged.
func drawIcon(dst *image.RGBA, r image.Rectangle, ic icon, p paint) {
	c := p.rgba()
	side := float64(r.Dx())
	if side <= 0 {
		return
	}
	strokes := ic.strokes()
	const n = 4
	clip := r.Intersect(dst.Bounds())
	for py := clip.Min.Y; py < clip.Max.Y; py++ {
		for px := clip.Min.X; px < clip.Max.X; px++ {
			i := dst.PixOffset(px, py)
			var sr, sg, sb int
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					u := (float64(px-r.Min.X) + (float64(sx)+0.5)/n) / side
					v := (float64(py-r.Min.Y) + (float64(sy)+0.5)/n) / side
					col, ok := iconAt(ic, strokes, u, v, c)
					if !ok { // background shows through
						col = color.RGBA{dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], 0xff}
					}
					sr += int(col.R)
					sg += int(col.G)
					sb += int(col.B)
				}
			}
			dst.Pix[i] = uint8(sr / (n * n))
			dst.Pix[i+1] = uint8(sg / (n * n))
			dst.Pix[i+2] = uint8(sb / (n * n))
			dst.Pix[i+3] = 0xff
		}
	}
}

func iconAt(ic icon, strokes []segment, u, v float64, c color.RGBA) (color.RGBA, bool) {
	if ic == iconDots {
		for _, cx := range []float64{0.2, 0.5, 0.8} {
			if sq(u-cx)+sq(v-0.5) <= sq(0.11) {
				return c, true
			}
		}
		return color.RGBA{}, false
	}
	if sq(u-0.5)+sq(v-0.5) > sq(0.5) {
		return color.RGBA{}, false
	}
	for _, s := range strokes {
		if dist2ToSegment(u, v, s) <= sq(0.055) {
			return white.rgba(), true
		}
	}
	return c, true
}

// Squared distances spare a square root per sample: the icons are drawn
// with 16 samples a pixel on the QR path's critical time.
func sq(x float64) float64 { return x * x }

func dist2ToSegment(px, py float64, s segment) float64 {
	dx, dy := s.x1-s.x0, s.y1-s.y0
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((px-s.x0)*dx+(py-s.y0)*dy)/l))
	}
	return sq(px-(s.x0+t*dx)) + sq(py-(s.y0+t*dy))
}
