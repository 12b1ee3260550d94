package escpos

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestBuilderCommands(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *Builder)
		want  []byte
	}{
		{"init", func(b *Builder) { b.Init() }, []byte{0x1B, 0x40}},
		{"code page", func(b *Builder) { b.CodePage() }, []byte{0x1B, 0x74, 5}},
		{"align left", func(b *Builder) { b.Align(Left) }, []byte{0x1B, 0x61, 0}},
		{"align center", func(b *Builder) { b.Align(Center) }, []byte{0x1B, 0x61, 1}},
		{"align right", func(b *Builder) { b.Align(Right) }, []byte{0x1B, 0x61, 2}},
		{"bold on", func(b *Builder) { b.Bold(true) }, []byte{0x1B, 0x45, 1}},
		{"bold off", func(b *Builder) { b.Bold(false) }, []byte{0x1B, 0x45, 0}},
		{"size 1x1", func(b *Builder) { b.Size(1, 1) }, []byte{0x1D, 0x21, 0x00}},
		{"size 2x3", func(b *Builder) { b.Size(2, 3) }, []byte{0x1D, 0x21, 0x12}},
		{"size clamped", func(b *Builder) { b.Size(0, 9) }, []byte{0x1D, 0x21, 0x07}},
		{"text", func(b *Builder) { b.Text("Hei") }, []byte("Hei")},
		{"line", func(b *Builder) { b.Line("Hei") }, []byte("Hei\n")},
		{"nordic", func(b *Builder) { b.Text("ÆØÅæøå") }, []byte{0x92, 0x9D, 0x8F, 0x91, 0x9B, 0x86}},
		{"euro", func(b *Builder) { b.Text("5 €") }, []byte("5 EUR")},
		{"typographic", func(b *Builder) { b.Text("07–23 “x” ‘y’") }, []byte("07-23 \"x\" 'y'")},
		{"unencodable", func(b *Builder) { b.Text("ж✓") }, []byte("??")},
		{"control chars cannot become commands", func(b *Builder) { b.Text("a\x1b@\nb") }, []byte("a?@?b")},
		{"feed", func(b *Builder) { b.Feed(3) }, []byte{0x1B, 0x64, 3}},
		{"cut", func(b *Builder) { b.Cut() }, []byte{0x1D, 0x56, 66, 0}},
		{"code128", func(b *Builder) {
			if err := b.Code128("AB-1", 80, 2); err != nil {
				t.Fatal(err)
			}
		}, []byte{0x1D, 0x68, 80, 0x1D, 0x77, 2, 0x1D, 0x48, 2, 0x1D, 0x6B, 73, 6, '{', 'B', 'A', 'B', '-', '1'}},
		{"code128 brace", func(b *Builder) {
			if err := b.Code128("a{b", 10, 3); err != nil {
				t.Fatal(err)
			}
		}, []byte{0x1D, 0x68, 10, 0x1D, 0x77, 3, 0x1D, 0x48, 2, 0x1D, 0x6B, 73, 6, '{', 'B', 'a', '{', '{', 'b'}},
		{"qr", func(b *Builder) {
			if err := b.QR("hi", 5); err != nil {
				t.Fatal(err)
			}
		}, []byte{
			0x1D, 0x28, 0x6B, 4, 0, 49, 65, 50, 0,
			0x1D, 0x28, 0x6B, 3, 0, 49, 67, 5,
			0x1D, 0x28, 0x6B, 3, 0, 49, 69, 49,
			0x1D, 0x28, 0x6B, 5, 0, 49, 80, 48, 'h', 'i',
			0x1D, 0x28, 0x6B, 3, 0, 49, 81, 48,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Builder
			tt.build(&b)
			if !bytes.Equal(b.Bytes(), tt.want) {
				t.Errorf("got % x\nwant % x", b.Bytes(), tt.want)
			}
		})
	}
}

func TestQRLengthUsesBothBytes(t *testing.T) {
	var b Builder
	data := strings.Repeat("x", 300)
	if err := b.QR(data, 4); err != nil {
		t.Fatal(err)
	}
	store := []byte{0x1D, 0x28, 0x6B, byte(303 & 0xFF), byte(303 >> 8), 49, 80, 48}
	if !bytes.Contains(b.Bytes(), store) {
		t.Fatalf("no store command with pL pH = 303 in % x", b.Bytes()[:40])
	}
	doc, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.QRCodes) != 1 || doc.QRCodes[0].Data != data || doc.QRCodes[0].Level != 'M' || doc.QRCodes[0].Module != 4 {
		t.Fatalf("QR codes = %+v", doc.QRCodes)
	}
}

func TestBuilderRejects(t *testing.T) {
	var b Builder
	for name, err := range map[string]error{
		"empty barcode":   b.Code128("", 50, 2),
		"barcode non-B":   b.Code128("Blåbær", 50, 2),
		"barcode too big": b.Code128(strings.Repeat("1", 254), 50, 2),
		"barcode width":   b.Code128("12345678", 50, 7),
		"barcode height":  b.Code128("12345678", 0, 2),
		"empty qr":        b.QR("", 4),
		"qr too big":      b.QR(strings.Repeat("x", MaxQRBytes+1), 4),
		"qr module":       b.QR("x", 17),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if b.Len() != 0 {
		t.Errorf("rejected commands wrote % x", b.Bytes())
	}
	if err := b.Code128(strings.Repeat("1", MaxCode128Bytes), 50, 2); err != nil {
		t.Errorf("longest barcode: %v", err)
	}
}

func TestNordicRoundTrip(t *testing.T) {
	const s = "Blåbærsyltetøy Æ"
	var b Builder
	b.Init()
	b.CodePage()
	b.Line(s)
	doc, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Text(); len(got) != 1 || got[0] != s {
		t.Fatalf("lines = %q, want [%q]", got, s)
	}
	if TextWidth(s) != len([]rune(s)) {
		t.Errorf("TextWidth(%q) = %d", s, TextWidth(s))
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	var b Builder
	b.Init()
	b.CodePage()
	b.Align(Center)
	b.Bold(true)
	b.Size(2, 2)
	b.Line("KIOSK")
	b.Size(1, 1)
	b.Bold(false)
	b.Align(Right)
	b.Text("12")
	b.Bold(true)
	b.Text("5,00")
	b.Feed(2)
	b.Line("")
	b.Align(Center)
	if err := b.Code128("OSLO1-000042", 60, 2); err != nil {
		t.Fatal(err)
	}
	b.Feed(1)
	if err := b.QR("https://qr.vipps.no/x", 6); err != nil {
		t.Fatal(err)
	}
	b.Line("Takk")
	b.Cut()
	b.Line("next")
	b.Cut()

	doc, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []Line{
		{Text: "KIOSK", Align: Center, Bold: true, Width: 2, Height: 2},
		{Text: "125,00", Align: Right, Width: 1, Height: 1},
		{Text: "", Align: Right, Bold: true, Width: 1, Height: 1},
		{Text: "Takk", Align: Center, Bold: true, Width: 1, Height: 1},
		{Text: "next", Align: Center, Bold: true, Width: 1, Height: 1},
	}
	if len(doc.Lines) != len(wantLines) {
		t.Fatalf("lines = %+v", doc.Lines)
	}
	for i, l := range wantLines {
		if doc.Lines[i] != l {
			t.Errorf("line %d = %+v, want %+v", i, doc.Lines[i], l)
		}
	}
	wantBar := Barcode{Data: "OSLO1-000042", Height: 60, Width: 2, HRI: 2, Align: Center, AfterLine: 3}
	if len(doc.Barcodes) != 1 || doc.Barcodes[0] != wantBar {
		t.Errorf("barcodes = %+v, want %+v", doc.Barcodes, wantBar)
	}
	wantQR := QRCode{Data: "https://qr.vipps.no/x", Module: 6, Level: 'M', Align: Center, AfterLine: 3}
	if len(doc.QRCodes) != 1 || doc.QRCodes[0] != wantQR {
		t.Errorf("QR codes = %+v, want %+v", doc.QRCodes, wantQR)
	}
	if len(doc.Cuts) != 2 || doc.Cuts[0] != 4 || doc.Cuts[1] != 5 {
		t.Errorf("cuts = %v, want [4 5]", doc.Cuts)
	}
	r := doc.Render(20)
	for _, s := range []string{"     KIOSK\n", "              125,00\n", "[CODE128 OSLO1-000042]", "[QR https://qr.vipps.no/x]", "- - -"} {
		if !strings.Contains(r, s) {
			t.Errorf("render lacks %q:\n%s", s, r)
		}
	}
}

func TestDecodeBraceInBarcode(t *testing.T) {
	var b Builder
	if err := b.Code128("a{b", 10, 3); err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Barcodes) != 1 || doc.Barcodes[0].Data != "a{b" {
		t.Fatalf("barcodes = %+v", doc.Barcodes)
	}
}

// barcodeStream is a barcode followed by what the receipt layout emits next.
func barcodeStream(t *testing.T) (stream []byte, lenAt int) {
	t.Helper()
	var b Builder
	b.Align(Center)
	if err := b.Code128("OSLO1-000042", 60, 2); err != nil {
		t.Fatal(err)
	}
	b.Feed(1)
	b.Line("Takk for handelen")
	b.Cut()
	out := bytes.Clone(b.Bytes())
	return out, bytes.Index(out, []byte{GS, 'k', 73}) + 3
}

func TestDecodeRejects(t *testing.T) {
	good, lenAt := barcodeStream(t)
	if _, err := Decode(good); err != nil {
		t.Fatalf("good stream: %v", err)
	}
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }

	var qr Builder
	if err := qr.QR("https://qr.vipps.no/abc", 4); err != nil {
		t.Fatal(err)
	}
	qr.Line("x")
	goodQR := bytes.Clone(qr.Bytes())
	storeLen := bytes.Index(goodQR, []byte{49, 80, 48}) - 2
	if _, err := Decode(goodQR); err != nil {
		t.Fatalf("good QR stream: %v", err)
	}
	withQR := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(goodQR)) }

	tests := []struct {
		name   string
		in     []byte
		offset int // -1: any
	}{
		{"truncated barcode", good[:lenAt+5], lenAt - 3},
		{"barcode length one short", with(func(b []byte) []byte { b[lenAt]--; return b }), lenAt + 1 + int(good[lenAt]) - 1},
		{"barcode length one long", with(func(b []byte) []byte { b[lenAt]++; return b }), lenAt + 1 + int(good[lenAt])},
		{"barcode length far too long", with(func(b []byte) []byte { b[lenAt] = 200; return b }), lenAt - 3},
		{"barcode without code set", with(func(b []byte) []byte { b[lenAt+2] = 'A'; return b }), lenAt - 3},
		{"QR store length one short", withQR(func(b []byte) []byte { b[storeLen]--; return b }), -1},
		{"QR store length one long", withQR(func(b []byte) []byte { b[storeLen]++; return b }), -1},
		{"QR truncated", goodQR[:len(goodQR)-12], -1},
		{"unknown ESC", []byte("ab\n\x1b\x99"), 3},
		{"unknown GS", []byte{GS, 'Z', 0}, 0},
		{"ESC at end", []byte("x\n\x1b"), 2},
		{"bad alignment", []byte{ESC, 'a', 7}, 0},
		{"other code page", []byte{ESC, 't', 0}, 0},
		{"high byte before code page", []byte{'a', 0x91, LF}, 1},
		{"carriage return", []byte("a\r\n"), 1},
		{"unknown DLE", []byte{DLE, 0x14, 1}, 0},
		{"bad cut", []byte{GS, 'V', 7}, 0},
		{"barcode after text on the line", append([]byte("x"), good[3:]...), 1 + lenAt - 6},
		{"other barcode system", []byte{GS, 'k', 4, 'A', 0}, 0},
		{"qr print without store", []byte{GS, '(', 'k', 3, 0, 49, 81, 48}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.in)
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode(% x) = %v, want a DecodeError", tt.in, err)
			}
			if tt.offset >= 0 && de.Offset != tt.offset {
				t.Errorf("offset %d, want %d (%v)", de.Offset, tt.offset, err)
			}
			if !strings.Contains(err.Error(), "offset") {
				t.Errorf("error %q does not name the offset", err)
			}
		})
	}
}

func TestDecodeCountsStatusRequests(t *testing.T) {
	in := append(StatusRequest(StatusPaper), "ok\n"...)
	doc, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if doc.StatusRequests != 1 || !doc.Contains("ok") {
		t.Fatalf("doc = %+v", doc)
	}
}
