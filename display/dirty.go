package display

import (
	"bytes"
	"image"
)

// dirtyTile is the side of the squares changes are first collected in;
// small enough that two digits far apart stay apart, large enough that a
// full-screen change is a few hundred boxes, not thousands.
const dirtyTile = 16

// cost is what sending r costs, in bytes on the wire: its pixels plus the
// window commands and transfer set-up, counted as overhead bytes.
type cost struct {
	perPixel int // bytes a pixel
	overhead int // bytes-equivalent of one window
}

func (c cost) of(r image.Rectangle) int { return c.overhead + c.perPixel*r.Dx()*r.Dy() }

// dirty returns rectangles covering every pixel of area where next differs
// from prev, merged wherever one rectangle costs less than two.
func dirty(prev, next *image.RGBA, area image.Rectangle, c cost) []image.Rectangle {
	area = area.Intersect(next.Bounds())
	if area.Empty() {
		return nil
	}
	// One tight box per tile, in tile-row order.
	cols := (area.Dx() + dirtyTile - 1) / dirtyTile
	boxes := make([]image.Rectangle, 0, 8)
	row := make([]image.Rectangle, cols)
	for ty := area.Min.Y; ty < area.Max.Y; ty += dirtyTile {
		clear(row)
		for y := ty; y < min(ty+dirtyTile, area.Max.Y); y++ {
			po, no := prev.PixOffset(area.Min.X, y), next.PixOffset(area.Min.X, y)
			pr, nr := prev.Pix[po:po+4*area.Dx()], next.Pix[no:no+4*area.Dx()]
			if bytes.Equal(pr, nr) {
				continue
			}
			for tx := range cols {
				lo, hi := 4*tx*dirtyTile, min(4*(tx+1)*dirtyTile, len(nr))
				if bytes.Equal(pr[lo:hi], nr[lo:hi]) {
					continue
				}
				x0, x1 := lo, hi-4
				for ; x0 < hi && bytes.Equal(pr[x0:x0+4], nr[x0:x0+4]); x0 += 4 {
				}
				for ; x1 > x0 && bytes.Equal(pr[x1:x1+4], nr[x1:x1+4]); x1 -= 4 {
				}
				r := image.Rect(area.Min.X+x0/4, y, area.Min.X+x1/4+1, y+1)
				row[tx] = row[tx].Union(r)
			}
		}
		// Neighbours in a tile row first: a line of text is one box.
		var run image.Rectangle
		for _, r := range row {
			switch {
			case r.Empty():
				continue
			case run.Empty():
				run = r
			case c.of(run.Union(r)) <= c.of(run)+c.of(r):
				run = run.Union(r)
			default:
				boxes = append(boxes, run)
				run = r
			}
		}
		if !run.Empty() {
			boxes = append(boxes, run)
		}
	}
	return merge(boxes, c)
}

// merge joins any two boxes whose union is no dearer than both, until no
// pair is left to join.
func merge(boxes []image.Rectangle, c cost) []image.Rectangle {
	for joined := true; joined; {
		joined = false
		for i := 0; i < len(boxes); i++ {
			for j := i + 1; j < len(boxes); j++ {
				u := boxes[i].Union(boxes[j])
				if c.of(u) <= c.of(boxes[i])+c.of(boxes[j]) {
					boxes[i] = u
					boxes = append(boxes[:j], boxes[j+1:]...)
					joined = true
					j = i
				}
			}
		}
	}
	return boxes
}

// copyRect copies r from src to dst (same bounds).
func copyRect(dst, src *image.RGBA, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := src.PixOffset(r.Min.X, y)
		copy(dst.Pix[i:i+4*r.Dx()], src.Pix[i:i+4*r.Dx()])
	}
}
