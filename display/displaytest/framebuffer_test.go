package displaytest_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"kasse/display"
	"kasse/display/displaytest"
)

// gradient is a source whose every pixel says where it came from.
func gradient(r image.Rectangle) *image.RGBA {
	img := image.NewRGBA(r)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 0xff})
		}
	}
	return img
}

func quantised(c color.Color) color.RGBA {
	r, g, b, _ := display.ToRGB565(c).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xff}
}

func TestRGB565RoundTrip(t *testing.T) {
	for v := 0; v <= 0xffff; v++ {
		c := display.RGB565(v)
		if got := display.ToRGB565(quantised(c)); got != c {
			t.Fatalf("RGB565 %#04x widened and narrowed again gives %#04x", v, got)
		}
	}
	fb := displaytest.NewFramebuffer(4, 1)
	src := image.NewRGBA(image.Rect(0, 0, 4, 1))
	src.SetRGBA(0, 0, color.RGBA{0xff, 0x5b, 0x24, 0xff}) // Vipps orange
	src.SetRGBA(1, 0, color.RGBA{0xff, 0xff, 0xff, 0xff})
	src.SetRGBA(2, 0, color.RGBA{0, 0, 0, 0xff})
	src.SetRGBA(3, 0, color.RGBA{0x80, 0x80, 0x80, 0xff})
	if err := fb.Draw(fb.Bounds(), src, image.Point{}); err != nil {
		t.Fatal(err)
	}
	want := []color.RGBA{
		{255, 89, 33, 255}, // 31,22,4 widened
		{255, 255, 255, 255},
		{0, 0, 0, 255},
		{0x84, 0x82, 0x84, 255}, // 16,32,16: 5 and 6 bits round differently
	}
	img := fb.Image()
	for x, w := range want {
		if got := img.RGBAAt(x, 0); got != w {
			t.Errorf("pixel %d: got %v, want %v", x, got, w)
		}
	}
	if got := fb.ColorModel().Convert(color.RGBA{0xff, 0x5b, 0x24, 0xff}); got != display.RGB565(31<<11|22<<5|4) {
		t.Errorf("ColorModel converts orange to %v", got)
	}
}

func TestPartialDraw(t *testing.T) {
	fb := displaytest.NewFramebuffer(64, 48)
	white := image.NewUniform(color.White)
	if err := fb.Draw(fb.Bounds(), white, image.Point{}); err != nil {
		t.Fatal(err)
	}
	src := gradient(image.Rect(100, 100, 200, 200))
	dst := image.Rect(10, 20, 30, 40)
	sp := image.Pt(150, 160)
	if err := fb.Draw(dst, src, sp); err != nil {
		t.Fatal(err)
	}
	img := fb.Image()
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			want := color.RGBA{255, 255, 255, 255}
			if image.Pt(x, y).In(dst) {
				want = quantised(src.At(x-dst.Min.X+sp.X, y-dst.Min.Y+sp.Y))
			}
			if got := img.RGBAAt(x, y); got != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	if fb.Frames() != 2 {
		t.Errorf("Frames() = %d after two draws", fb.Frames())
	}
}

// As with draw.Draw, pixels the source does not cover stay as they were; a
// non-RGBA source gives the same pixels as an RGBA one.
func TestDrawClipsToSource(t *testing.T) {
	fb := displaytest.NewFramebuffer(20, 20)
	src := gradient(image.Rect(0, 0, 20, 20))
	if err := fb.Draw(fb.Bounds(), src, image.Point{}); err != nil {
		t.Fatal(err)
	}
	before := fb.Image()
	small := image.NewNRGBA(image.Rect(0, 0, 5, 5))
	for i := range small.Pix {
		small.Pix[i] = 0x40
	}
	for i := 3; i < len(small.Pix); i += 4 {
		small.Pix[i] = 0xff
	}
	// The source point (2,2) leaves only 3×3 source pixels for the 10×10 rectangle.
	if err := fb.Draw(image.Rect(5, 5, 15, 15), small, image.Pt(2, 2)); err != nil {
		t.Fatal(err)
	}
	after := fb.Image()
	grey := quantised(color.RGBA{0x40, 0x40, 0x40, 0xff})
	for y := 0; y < 20; y++ {
		for x := 0; x < 20; x++ {
			want := before.RGBAAt(x, y)
			if x >= 5 && x < 8 && y >= 5 && y < 8 {
				want = grey
			}
			if got := after.RGBAAt(x, y); got != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestDrawOutsideBounds(t *testing.T) {
	fb := displaytest.NewFramebuffer(32, 16)
	src := gradient(image.Rect(0, 0, 64, 64))
	for _, r := range []image.Rectangle{
		image.Rect(-1, 0, 10, 10),
		image.Rect(0, 0, 33, 16),
		image.Rect(0, 10, 10, 17),
		image.Rect(40, 40, 50, 50),
	} {
		if err := fb.Draw(r, src, image.Point{}); err == nil {
			t.Errorf("Draw(%v) on a 32x16 panel succeeded", r)
		}
	}
	if err := fb.Draw(fb.Bounds(), nil, image.Point{}); err == nil {
		t.Error("Draw with a nil source succeeded")
	}
	if n := fb.Frames(); n != 0 {
		t.Errorf("failed draws counted as %d frames", n)
	}
}

func TestWait(t *testing.T) {
	fb := displaytest.NewFramebuffer(8, 8)
	type result struct {
		n   uint64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := fb.Wait(context.Background(), 0)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("Wait returned %v before any frame was drawn", r)
	default:
	}
	if err := fb.Draw(fb.Bounds(), image.NewUniform(color.White), image.Point{}); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.n != 1 {
		t.Fatalf("Wait = %d, %v; want 1, nil", r.n, r.err)
	}
	// Already past: no blocking.
	if n, err := fb.Wait(context.Background(), 0); n != 1 || err != nil {
		t.Fatalf("Wait(0) after one frame = %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := fb.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
}

func TestWritePNG(t *testing.T) {
	fb := displaytest.NewFramebuffer(40, 30)
	if err := fb.Draw(fb.Bounds(), gradient(fb.Bounds()), image.Point{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fb.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := fb.Image()
	if dec.Bounds() != want.Bounds() {
		t.Fatalf("PNG bounds %v, want %v", dec.Bounds(), want.Bounds())
	}
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			r, g, b, a := dec.At(x, y).RGBA()
			got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
			if got != want.RGBAAt(x, y) {
				t.Fatalf("PNG pixel (%d,%d) = %v, frame has %v", x, y, got, want.RGBAAt(x, y))
			}
		}
	}
}

func TestImageIsACopy(t *testing.T) {
	fb := displaytest.NewFramebuffer(4, 4)
	img := fb.Image()
	img.SetRGBA(0, 0, color.RGBA{1, 2, 3, 255})
	if got := fb.Image().RGBAAt(0, 0); got != (color.RGBA{0, 0, 0, 255}) {
		t.Fatalf("changing Image() changed the panel: %v", got)
	}
}
