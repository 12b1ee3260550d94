// Package escpos builds and decodes the small subset of ESC/POS that kassed
// prints: text in code page PC865 (Nordic), alignment, bold, character size,
// feeds, CODE128 barcodes, native QR codes and the partial cut.
package escpos

import (
	"bytes"
	"fmt"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Control bytes of the ESC/POS command set.
const (
	LF  = 0x0A
	ESC = 0x1B
	GS  = 0x1D
	DLE = 0x10
	EOT = 0x04
)

// CodePagePC865 is the ESC t number of the Nordic code page (ÆØÅ æøå).
const CodePagePC865 = 5

// Align is the horizontal justification selected by ESC a.
type Align byte

// Justifications, as ESC a numbers them.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

func (a Align) String() string {
	switch a {
	case Left:
		return "left"
	case Center:
		return "center"
	case Right:
		return "right"
	}
	return fmt.Sprintf("Align(%d)", byte(a))
}

// Limits of the commands, as the Epson reference gives them.
const (
	MaxSize         = 8    // GS ! multiplies width and height by 1..8
	MaxCode128Bytes = 253  // GS k 73 n: n ≤ 255 including the two-byte {B prefix
	MaxQRBytes      = 2331 // model 2, version 40, level M, byte mode
)

// Builder accumulates an ESC/POS byte stream. The zero value is ready to use.
type Builder struct {
	buf bytes.Buffer
}

// Bytes returns the commands written so far. The slice aliases the builder's
// buffer until the next write.
func (b *Builder) Bytes() []byte { return b.buf.Bytes() }

// Len is the number of bytes written so far.
func (b *Builder) Len() int { return b.buf.Len() }

// Init resets the printer to its power-on modes (ESC @).
func (b *Builder) Init() { b.buf.Write([]byte{ESC, '@'}) }

// CodePage selects PC865, the code page Text encodes to (ESC t 5).
func (b *Builder) CodePage() { b.buf.Write([]byte{ESC, 't', CodePagePC865}) }

// Align sets the justification of the following lines, barcodes and QR codes (ESC a n).
func (b *Builder) Align(a Align) { b.buf.Write([]byte{ESC, 'a', byte(a)}) }

// Bold turns emphasised printing on or off (ESC E n).
func (b *Builder) Bold(on bool) {
	var n byte
	if on {
		n = 1
	}
	b.buf.Write([]byte{ESC, 'E', n})
}

// Size sets the character magnification (GS ! n); w and h are clamped to 1..8.
func (b *Builder) Size(w, h int) {
	w, h = clamp(w, 1, MaxSize), clamp(h, 1, MaxSize)
	b.buf.Write([]byte{GS, '!', byte(w-1)<<4 | byte(h-1)})
}

// Text writes s encoded in PC865 without ending the line.
func (b *Builder) Text(s string) { b.buf.Write(EncodeText(s)) }

// Line writes s encoded in PC865 and a line feed, which prints the line.
func (b *Builder) Line(s string) {
	b.Text(s)
	b.buf.WriteByte(LF)
}

// Feed prints the buffer and feeds n lines (ESC d n); n is clamped to 0..255.
func (b *Builder) Feed(n int) { b.buf.Write([]byte{ESC, 'd', byte(clamp(n, 0, 255))}) }

// Code128 prints data as a CODE128 barcode in code set B with the human
// readable text below it. height is in dots (1..255), width is the module
// width (1..6). Code set B holds the printable ASCII characters only.
func (b *Builder) Code128(data string, height, width int) error {
	if data == "" {
		return fmt.Errorf("escpos: empty CODE128 data")
	}
	if height < 1 || height > 255 {
		return fmt.Errorf("escpos: CODE128 height %d is outside 1..255", height)
	}
	if width < 1 || width > 6 {
		return fmt.Errorf("escpos: CODE128 module width %d is outside 1..6", width)
	}
	enc := make([]byte, 0, len(data)+2)
	enc = append(enc, '{', 'B')
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c < 0x20 || c > 0x7E {
			return fmt.Errorf("escpos: CODE128 code set B cannot hold byte %#02x at position %d of %q", c, i, data)
		}
		// '{' introduces a code-set or function character: a literal one is doubled.
		if c == '{' {
			enc = append(enc, '{')
		}
		enc = append(enc, c)
	}
	if len(enc) > 255 {
		return fmt.Errorf("escpos: CODE128 data %q is too long: %d bytes encoded, at most 255", data, len(enc))
	}
	b.buf.Write([]byte{GS, 'h', byte(height)})
	b.buf.Write([]byte{GS, 'w', byte(width)})
	b.buf.Write([]byte{GS, 'H', 2}) // HRI below the bars
	b.buf.Write([]byte{GS, 'k', 73, byte(len(enc))})
	b.buf.Write(enc)
	return nil
}

// QR error correction levels of GS ( k function 169.
const (
	qrLevelL = 48
	qrLevelM = 49
)

// QR prints data as a model 2 QR code with error correction level M using
// the printer's own encoder (GS ( k). module is the dot size of one module (1..16).
func (b *Builder) QR(data string, module int) error {
	if data == "" {
		return fmt.Errorf("escpos: empty QR data")
	}
	if len(data) > MaxQRBytes {
		return fmt.Errorf("escpos: QR data is %d bytes, at most %d fit a level M code", len(data), MaxQRBytes)
	}
	if module < 1 || module > 16 {
		return fmt.Errorf("escpos: QR module size %d is outside 1..16", module)
	}
	b.buf.Write([]byte{GS, '(', 'k', 4, 0, 49, 65, 50, 0})        // model 2
	b.buf.Write([]byte{GS, '(', 'k', 3, 0, 49, 67, byte(module)}) // module size
	b.buf.Write([]byte{GS, '(', 'k', 3, 0, 49, 69, qrLevelM})     // error correction M
	n := len(data) + 3
	b.buf.Write([]byte{GS, '(', 'k', byte(n), byte(n >> 8), 49, 80, 48}) // store
	b.buf.WriteString(data)
	b.buf.Write([]byte{GS, '(', 'k', 3, 0, 49, 81, 48}) // print the stored symbol
	return nil
}

// Cut feeds the paper to the cutter and cuts it partially (GS V 66 0).
func (b *Builder) Cut() { b.buf.Write([]byte{GS, 'V', 66, 0}) }

// EncodeText returns s in PC865 and never drops a character: each one
// becomes its PC865 byte, or a close stand-in (typographic dashes and
// quotes, » to ", '€' to "EUR" so an amount in euro stays readable, a
// letter with an accent PC865 lacks to the bare letter: "ő" to "o"), or
// else a visible '?'. Control characters become '?' too: text must never
// turn into a command.
func EncodeText(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch r {
		case '€':
			out = append(out, "EUR"...)
			continue
		case '–', '—', '‐', '‑', '−': // dashes a word processor puts into store texts
			r = '-'
		case '‘', '’', '‚', '′':
			r = '\''
		case '“', '”', '„', '»', '″': // PC865 has « but not »
			r = '"'
		case '…':
			out = append(out, "..."...)
			continue
		case '\u2007', '\u202f': // no-break spaces PC865 lacks (it has U+00A0)
			r = ' '
		}
		if r < 0x20 || r == 0x7F || r >= 0x80 && r < 0xA0 {
			out = append(out, '?')
			continue
		}
		c, ok := charmap.CodePage865.EncodeRune(r)
		if !ok {
			c = fold(r)
		}
		out = append(out, c)
	}
	return out
}

// fold is the PC865 byte of r's base letter (its first rune after
// canonical decomposition), or '?'.
func fold(r rune) byte {
	for _, b := range norm.NFD.String(string(r)) {
		if c, ok := charmap.CodePage865.EncodeRune(b); ok && b >= 0x20 {
			return c
		}
		break
	}
	return '?'
}

// TextWidth is the number of printer columns s takes at normal size.
func TextWidth(s string) int { return len(EncodeText(s)) }

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
