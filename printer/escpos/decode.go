package escpos

import (
	"fmt"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Document is what a stream of ESC/POS commands prints.
type Document struct {
	Lines    []Line
	Barcodes []Barcode
	QRCodes  []QRCode
	// Cuts holds, for each cut, the number of lines printed before it.
	Cuts []int
	// StatusRequests counts DLE EOT and GS r queries found in the stream.
	StatusRequests int
	// ASB is the last GS a n seen: the statuses Automatic Status Back reports.
	ASB byte
}

// Line is one printed text line and the modes it started in.
type Line struct {
	Text          string
	Align         Align
	Bold          bool
	Width, Height int // magnification, 1..8
}

// Barcode is a printed CODE128 symbol.
type Barcode struct {
	Data          string // the payload without the code-set prefix
	Height, Width int
	HRI           byte // GS H position: 0 none, 1 above, 2 below, 3 both
	Align         Align
	AfterLine     int // lines printed before it
}

// QRCode is a printed QR symbol.
type QRCode struct {
	Data      string
	Module    int
	Level     byte // 'L', 'M', 'Q' or 'H'
	Align     Align
	AfterLine int
}

// Text returns the printed lines' text.
func (d Document) Text() []string {
	out := make([]string, len(d.Lines))
	for i, l := range d.Lines {
		out[i] = l.Text
	}
	return out
}

// Contains reports whether some printed line contains s.
func (d Document) Contains(s string) bool {
	for _, l := range d.Lines {
		if strings.Contains(l.Text, s) {
			return true
		}
	}
	return false
}

// Render draws the document as plain text on a paper of the given columns, for
// operators and test failure messages: barcodes and QR codes show as their
// payload in brackets, cuts as a dashed line.
func (d Document) Render(columns int) string {
	var sb strings.Builder
	place := func(s string, a Align, w int) {
		width := len([]rune(s)) * w
		pad := 0
		switch a {
		case Center:
			pad = (columns - width) / 2
		case Right:
			pad = columns - width
		}
		sb.WriteString(strings.Repeat(" ", max(pad, 0)))
		sb.WriteString(s)
		sb.WriteByte('\n')
	}
	bi, qi, ci := 0, 0, 0
	for i := 0; i <= len(d.Lines); i++ {
		for ; bi < len(d.Barcodes) && d.Barcodes[bi].AfterLine == i; bi++ {
			place("[CODE128 "+d.Barcodes[bi].Data+"]", d.Barcodes[bi].Align, 1)
		}
		for ; qi < len(d.QRCodes) && d.QRCodes[qi].AfterLine == i; qi++ {
			place("[QR "+d.QRCodes[qi].Data+"]", d.QRCodes[qi].Align, 1)
		}
		for ; ci < len(d.Cuts) && d.Cuts[ci] == i; ci++ {
			sb.WriteString(strings.Repeat("- ", columns/2) + "\n")
		}
		if i < len(d.Lines) {
			l := d.Lines[i]
			place(l.Text, l.Align, l.Width)
		}
	}
	return sb.String()
}

// DecodeError tells where a stream stops making sense.
type DecodeError struct {
	Offset int
	Msg    string
}

func (e *DecodeError) Error() string { return fmt.Sprintf("escpos: offset %d: %s", e.Offset, e.Msg) }

type decoder struct {
	in  []byte
	doc Document

	align         Align
	bold          bool
	width, height int
	pc865         bool

	text      []rune
	textStyle Line

	barHeight, barWidth int
	barHRI              byte
	afterBarcode        bool

	qrModule   int
	qrLevel    byte
	qrStored   *string
	qrStoredAt int
}

// Decode walks an ESC/POS stream and returns what it prints. It understands
// every command Builder emits plus DLE EOT status requests, and refuses
// anything else, naming the offset. It is strict where a real printer would
// silently print garbage: a wrong length byte in a barcode or QR command
// leaves text right after the barcode, between storing and printing a QR
// code, or a QR code that is never printed.
func Decode(b []byte) (Document, error) {
	d := &decoder{in: b}
	d.reset()
	if err := d.run(); err != nil {
		return d.doc, err
	}
	return d.doc, nil
}

func (d *decoder) reset() {
	d.align, d.bold, d.width, d.height, d.pc865 = Left, false, 1, 1, false
	d.barHeight, d.barWidth, d.barHRI = 162, 3, 0 // Epson power-on defaults
	d.qrModule, d.qrLevel = 3, 'L'
}

func (d *decoder) errorf(off int, format string, args ...any) error {
	return &DecodeError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// need returns the n parameter bytes after the command at off, or an error if
// the stream ends first.
func (d *decoder) need(off, cmdLen, n int, name string) ([]byte, error) {
	if off+cmdLen+n > len(d.in) {
		return nil, d.errorf(off, "%s is truncated: needs %d parameter bytes, the stream has %d", name, n, len(d.in)-off-cmdLen)
	}
	return d.in[off+cmdLen : off+cmdLen+n], nil
}

func (d *decoder) flush() {
	if len(d.text) == 0 {
		d.textStyle = d.style()
	}
	l := d.textStyle
	l.Text = string(d.text)
	d.doc.Lines = append(d.doc.Lines, l)
	d.text = d.text[:0]
}

func (d *decoder) style() Line {
	return Line{Align: d.align, Bold: d.bold, Width: d.width, Height: d.height}
}

func (d *decoder) run() error {
	i := 0
	for i < len(d.in) {
		c := d.in[i]
		var (
			n   int
			err error
		)
		switch {
		case c == LF:
			d.flush()
			d.afterBarcode = false
			n = 1
		case c == ESC:
			n, err = d.esc(i)
			d.afterBarcode = false
		case c == GS:
			n, err = d.gs(i)
		case c == DLE:
			n, err = d.dle(i)
		case c < 0x20 || c == 0x7F:
			err = d.errorf(i, "unexpected control byte %#02x", c)
		default:
			err = d.char(i, c)
			n = 1
		}
		if err != nil {
			return err
		}
		i += n
	}
	if d.qrStored != nil {
		return d.errorf(d.qrStoredAt, "QR data stored but never printed: the store command's length is probably wrong")
	}
	if len(d.text) > 0 {
		d.flush()
	}
	return nil
}

func (d *decoder) char(off int, c byte) error {
	if d.afterBarcode {
		return d.errorf(off, "text %q right after a barcode: the barcode's length byte is probably wrong", c)
	}
	if d.qrStored != nil {
		return d.errorf(off, "text %q between storing and printing a QR code: the store command's length is probably wrong", c)
	}
	if c >= 0x80 && !d.pc865 {
		return d.errorf(off, "byte %#02x before ESC t 5 selected PC865", c)
	}
	if len(d.text) == 0 {
		d.textStyle = d.style()
	}
	d.text = append(d.text, charmap.CodePage865.DecodeByte(c))
	return nil
}

func (d *decoder) noPendingText(off int, what string) error {
	if len(d.text) > 0 {
		return d.errorf(off, "%s with text %q pending on the line: a printer ignores it there", what, string(d.text))
	}
	return nil
}

func (d *decoder) esc(off int) (int, error) {
	if off+1 >= len(d.in) {
		return 0, d.errorf(off, "ESC at end of stream")
	}
	switch cmd := d.in[off+1]; cmd {
	case '@':
		if len(d.text) > 0 {
			return 0, d.errorf(off, "ESC @ discards the pending text %q", string(d.text))
		}
		d.reset()
		return 2, nil
	case 't':
		p, err := d.need(off, 2, 1, "ESC t")
		if err != nil {
			return 0, err
		}
		if p[0] != CodePagePC865 {
			return 0, d.errorf(off, "ESC t %d selects a code page other than PC865 (5)", p[0])
		}
		d.pc865 = true
		return 3, nil
	case 'a':
		p, err := d.need(off, 2, 1, "ESC a")
		if err != nil {
			return 0, err
		}
		switch n := p[0]; {
		case n <= 2:
			d.align = Align(n)
		case n >= '0' && n <= '2':
			d.align = Align(n - '0')
		default:
			return 0, d.errorf(off, "ESC a %d is not a justification (0..2)", n)
		}
		return 3, nil
	case 'E':
		p, err := d.need(off, 2, 1, "ESC E")
		if err != nil {
			return 0, err
		}
		d.bold = p[0]&1 == 1
		return 3, nil
	case 'd':
		if _, err := d.need(off, 2, 1, "ESC d"); err != nil {
			return 0, err
		}
		if len(d.text) > 0 {
			d.flush()
		}
		return 3, nil
	default:
		return 0, d.errorf(off, "unknown command ESC %#02x", cmd)
	}
}

func (d *decoder) gs(off int) (int, error) {
	if off+1 >= len(d.in) {
		return 0, d.errorf(off, "GS at end of stream")
	}
	cmd := d.in[off+1]
	if cmd != 'k' && cmd != '(' {
		d.afterBarcode = false
	}
	switch cmd {
	case '!':
		p, err := d.need(off, 2, 1, "GS !")
		if err != nil {
			return 0, err
		}
		w, h := int(p[0]>>4)+1, int(p[0]&0x0F)+1
		if w > MaxSize || h > MaxSize {
			return 0, d.errorf(off, "GS ! %#02x is not a character size", p[0])
		}
		d.width, d.height = w, h
		return 3, nil
	case 'h':
		p, err := d.need(off, 2, 1, "GS h")
		if err != nil {
			return 0, err
		}
		if p[0] == 0 {
			return 0, d.errorf(off, "GS h 0: barcode height must be 1..255")
		}
		d.barHeight = int(p[0])
		return 3, nil
	case 'w':
		p, err := d.need(off, 2, 1, "GS w")
		if err != nil {
			return 0, err
		}
		if p[0] < 1 || p[0] > 6 {
			return 0, d.errorf(off, "GS w %d: barcode module width must be 1..6", p[0])
		}
		d.barWidth = int(p[0])
		return 3, nil
	case 'H':
		p, err := d.need(off, 2, 1, "GS H")
		if err != nil {
			return 0, err
		}
		switch n := p[0]; {
		case n <= 3:
			d.barHRI = n
		case n >= '0' && n <= '3':
			d.barHRI = n - '0'
		default:
			return 0, d.errorf(off, "GS H %d is not an HRI position (0..3)", n)
		}
		return 3, nil
	case 'a':
		p, err := d.need(off, 2, 1, "GS a")
		if err != nil {
			return 0, err
		}
		d.doc.ASB = p[0]
		return 3, nil
	case 'r':
		p, err := d.need(off, 2, 1, "GS r")
		if err != nil {
			return 0, err
		}
		switch p[0] {
		case 1, 2, '1', '2':
		default:
			return 0, d.errorf(off, "GS r %d is not a status request (1, 2)", p[0])
		}
		d.doc.StatusRequests++
		return 3, nil
	case 'k':
		return d.barcode(off)
	case '(':
		return d.qr(off)
	case 'V':
		p, err := d.need(off, 2, 1, "GS V")
		if err != nil {
			return 0, err
		}
		n := 3
		switch p[0] {
		case 0, 1, '0', '1':
		case 65, 66:
			if _, err := d.need(off, 3, 1, "GS V m n"); err != nil {
				return 0, err
			}
			n = 4
		default:
			return 0, d.errorf(off, "GS V %d is not a cut mode", p[0])
		}
		if len(d.text) > 0 {
			d.flush()
		}
		d.doc.Cuts = append(d.doc.Cuts, len(d.doc.Lines))
		return n, nil
	default:
		return 0, d.errorf(off, "unknown command GS %#02x", cmd)
	}
}

func (d *decoder) barcode(off int) (int, error) {
	p, err := d.need(off, 2, 2, "GS k")
	if err != nil {
		return 0, err
	}
	if p[0] != 73 {
		return 0, d.errorf(off, "GS k %d: only CODE128 (73) is supported", p[0])
	}
	if err := d.noPendingText(off, "barcode"); err != nil {
		return 0, err
	}
	n := int(p[1])
	data, err := d.need(off, 4, n, "GS k 73 (CODE128)")
	if err != nil {
		return 0, err
	}
	if n < 3 || data[0] != '{' || data[1] != 'B' {
		return 0, d.errorf(off, "CODE128 data must start with {B and hold at least one character, got %q", data)
	}
	var sb strings.Builder
	for j := 2; j < n; j++ {
		c := data[j]
		if c < 0x20 || c > 0x7E {
			return 0, d.errorf(off+4+j, "CODE128 data byte %#02x is outside code set B: the barcode's length byte is probably wrong", c)
		}
		if c == '{' {
			if j+1 >= n || data[j+1] != '{' {
				return 0, d.errorf(off+4+j, "CODE128 code-set switch or function character is not supported")
			}
			j++
		}
		sb.WriteByte(c)
	}
	d.doc.Barcodes = append(d.doc.Barcodes, Barcode{
		Data: sb.String(), Height: d.barHeight, Width: d.barWidth, HRI: d.barHRI,
		Align: d.align, AfterLine: len(d.doc.Lines),
	})
	d.afterBarcode = true
	return 4 + n, nil
}

func (d *decoder) qr(off int) (int, error) {
	h, err := d.need(off, 2, 3, "GS ( k")
	if err != nil {
		return 0, err
	}
	if h[0] != 'k' {
		return 0, d.errorf(off, "unknown command GS ( %#02x", h[0])
	}
	n := int(h[1]) | int(h[2])<<8
	p, err := d.need(off, 5, n, "GS ( k")
	if err != nil {
		return 0, err
	}
	if n < 3 || p[0] != 49 {
		return 0, d.errorf(off, "GS ( k with length %d is not a QR code function", n)
	}
	d.afterBarcode = false
	fn := p[1]
	bad := func() (int, error) {
		return 0, d.errorf(off, "GS ( k function %d with parameters % x is not valid", fn, p[2:])
	}
	switch fn {
	case 65: // model
		if n != 4 || (p[2] != 49 && p[2] != 50) || p[3] != 0 {
			return bad()
		}
	case 67: // module size
		if n != 3 || p[2] < 1 || p[2] > 16 {
			return bad()
		}
		d.qrModule = int(p[2])
	case 69: // error correction
		if n != 3 || p[2] < 48 || p[2] > 51 {
			return bad()
		}
		d.qrLevel = "LMQH"[p[2]-48]
	case 80: // store
		if n < 4 || p[2] != 48 {
			return bad()
		}
		if d.qrStored != nil {
			return 0, d.errorf(off, "QR data stored again before the data stored at offset %d was printed", d.qrStoredAt)
		}
		s := string(p[3:])
		d.qrStored, d.qrStoredAt = &s, off
	case 81: // print
		if n != 3 || p[2] != 48 {
			return bad()
		}
		if d.qrStored == nil {
			return 0, d.errorf(off, "QR print with no stored data")
		}
		if err := d.noPendingText(off, "QR code"); err != nil {
			return 0, err
		}
		d.doc.QRCodes = append(d.doc.QRCodes, QRCode{
			Data: *d.qrStored, Module: d.qrModule, Level: d.qrLevel, Align: d.align, AfterLine: len(d.doc.Lines),
		})
		d.qrStored = nil
	default:
		return bad()
	}
	return 5 + n, nil
}

func (d *decoder) dle(off int) (int, error) {
	p, err := d.need(off, 1, 2, "DLE")
	if err != nil {
		return 0, err
	}
	if p[0] != EOT || p[1] < 1 || p[1] > 4 {
		return 0, d.errorf(off, "unknown command DLE % x", p)
	}
	d.doc.StatusRequests++
	return 3, nil
}
