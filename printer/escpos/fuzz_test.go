package escpos_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"kasse/printer/escpos"
	"kasse/printer/receipt"
)

func realReceipt(f *testing.F, refund, copy bool) []byte {
	b, err := receipt.Encode(receipt.Receipt{
		StoreName: "Kiosken på hjørnet", StoreLines: []string{"Storgata 1, 0155 Oslo"}, OrgNumber: "987654325", Number: 17,
		Store: "OSLO1", Lane: "2", Reference: "OSLO1-2-k7f3-17",
		Time:     time.Date(2026, 11, 30, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
		Currency: "NOK",
		Lines: []receipt.Line{{Text: "Kaffe", Quantity: 2, Amount: 7000, TaxRate: 2500},
			{Text: "Blåbærsyltetøy", Quantity: 1, Amount: 5500, TaxRate: 1500}},
		Total: 12500, PaymentMethod: "Vipps MobilePay", Refund: refund, Copy: copy,
		Footer: []string{"Takk for handelen!"},
	}, receipt.Options{Columns: 42})
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzDecode feeds any bytes to the decoder `kassectl receipt` and the
// tests use. Property: a refusal names an offset inside the stream; an
// accepted document holds only what the commands allow (sizes, alignments,
// code set B, QR levels, positions in order), is no larger than its input,
// and encodes back to a stream that decodes to the same document.
func FuzzDecode(f *testing.F) {
	f.Add(realReceipt(f, false, false))
	f.Add(realReceipt(f, true, false))
	f.Add(realReceipt(f, false, true))
	var b escpos.Builder
	b.Init()
	b.CodePage()
	b.Align(escpos.Center)
	b.Size(2, 2)
	b.Line("KVITTERING")
	if err := b.QR("https://qr.vipps.no/28/2/01/031/4791234567?v=1", 6); err != nil {
		f.Fatal(err)
	}
	b.Feed(3)
	b.Cut()
	f.Add(b.Bytes())
	f.Add([]byte{escpos.DLE, escpos.EOT, 1, escpos.DLE, escpos.EOT, 4})
	f.Add([]byte{escpos.GS, 'k', 73, 200, '{', 'B', 'A'})
	f.Fuzz(func(t *testing.T, in []byte) {
		doc, err := escpos.Decode(in)
		if err != nil {
			var de *escpos.DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset >= len(in) {
				t.Fatalf("refusal %v does not name an offset in the %d-byte stream", err, len(in))
			}
			return
		}
		checkDocument(t, doc, len(in))
		again, err := escpos.Decode(encode(doc))
		if err != nil {
			t.Fatalf("the document's own encoding is refused: %v", err)
		}
		if !reflect.DeepEqual(again, doc) {
			t.Fatalf("encode→decode changed the document:\n%+v\n%+v", doc, again)
		}
	})
}

func checkDocument(t *testing.T, doc escpos.Document, size int) {
	t.Helper()
	runes := 0
	for _, l := range doc.Lines {
		if l.Align > escpos.Right || l.Width < 1 || l.Width > escpos.MaxSize || l.Height < 1 || l.Height > escpos.MaxSize {
			t.Fatalf("line %+v has modes no command sets", l)
		}
		if !utf8.ValidString(l.Text) || strings.ContainsFunc(l.Text, func(r rune) bool { return r < 0x20 || r == 0x7F }) {
			t.Fatalf("line %q holds a control character", l.Text)
		}
		runes += utf8.RuneCountInString(l.Text)
	}
	if len(doc.Lines) > size || runes > size || len(doc.Barcodes) > size || len(doc.QRCodes) > size || len(doc.Cuts) > size {
		t.Fatalf("%d bytes decoded to %d lines (%d characters), %d barcodes, %d QR codes, %d cuts",
			size, len(doc.Lines), runes, len(doc.Barcodes), len(doc.QRCodes), len(doc.Cuts))
	}
	after := 0
	for _, bc := range doc.Barcodes {
		if bc.Data == "" || strings.ContainsFunc(bc.Data, func(r rune) bool { return r < 0x20 || r > 0x7E }) ||
			bc.Height < 1 || bc.Height > 255 || bc.Width < 1 || bc.Width > 6 || bc.HRI > 3 || bc.Align > escpos.Right {
			t.Fatalf("barcode %+v is not one GS k 73 prints", bc)
		}
		if bc.AfterLine < after || bc.AfterLine > len(doc.Lines) {
			t.Fatalf("barcode after line %d: out of order (%d lines)", bc.AfterLine, len(doc.Lines))
		}
		after = bc.AfterLine
	}
	after = 0
	for _, q := range doc.QRCodes {
		if q.Data == "" || q.Module < 1 || q.Module > 16 || !strings.ContainsRune("LMQH", rune(q.Level)) || q.Align > escpos.Right {
			t.Fatalf("QR code %+v is not one GS ( k prints", q)
		}
		if q.AfterLine < after || q.AfterLine > len(doc.Lines) {
			t.Fatalf("QR code after line %d: out of order (%d lines)", q.AfterLine, len(doc.Lines))
		}
		after = q.AfterLine
	}
	after = 0
	for _, c := range doc.Cuts {
		if c < after || c > len(doc.Lines) {
			t.Fatalf("cut after line %d: out of order (%d lines)", c, len(doc.Lines))
		}
		after = c
	}
}

// encode writes doc as a canonical stream: the Builder's commands where
// they can say it, raw ones for the settings it never varies (HRI, QR
// level).
func encode(doc escpos.Document) []byte {
	var b escpos.Builder
	var raw bytes.Buffer
	flush := func() { raw.Write(b.Bytes()); b = escpos.Builder{} }
	for range doc.StatusRequests {
		raw.Write([]byte{escpos.DLE, escpos.EOT, 1})
	}
	if doc.ASB != 0 {
		raw.Write(escpos.EnableASB(doc.ASB))
	}
	b.CodePage()
	bi, qi, ci := 0, 0, 0
	for i := 0; i <= len(doc.Lines); i++ {
		for ; bi < len(doc.Barcodes) && doc.Barcodes[bi].AfterLine == i; bi++ {
			bc := doc.Barcodes[bi]
			b.Align(bc.Align)
			flush()
			data := strings.ReplaceAll(bc.Data, "{", "{{")
			raw.Write([]byte{escpos.GS, 'h', byte(bc.Height), escpos.GS, 'w', byte(bc.Width), escpos.GS, 'H', bc.HRI,
				escpos.GS, 'k', 73, byte(len(data) + 2), '{', 'B'})
			raw.WriteString(data)
		}
		for ; qi < len(doc.QRCodes) && doc.QRCodes[qi].AfterLine == i; qi++ {
			q := doc.QRCodes[qi]
			b.Align(q.Align)
			flush()
			n := len(q.Data) + 3
			raw.Write([]byte{escpos.GS, '(', 'k', 3, 0, 49, 67, byte(q.Module)})
			raw.Write([]byte{escpos.GS, '(', 'k', 3, 0, 49, 69, byte(48 + strings.IndexByte("LMQH", q.Level))})
			raw.Write([]byte{escpos.GS, '(', 'k', byte(n), byte(n >> 8), 49, 80, 48})
			raw.WriteString(q.Data)
			raw.Write([]byte{escpos.GS, '(', 'k', 3, 0, 49, 81, 48})
		}
		for ; ci < len(doc.Cuts) && doc.Cuts[ci] == i; ci++ {
			b.Cut()
		}
		if i < len(doc.Lines) {
			l := doc.Lines[i]
			b.Align(l.Align)
			b.Bold(l.Bold)
			b.Size(l.Width, l.Height)
			b.Line(l.Text)
		}
	}
	flush()
	return raw.Bytes()
}

// FuzzBuilder builds a receipt-like stream from fuzzed text, barcode and
// QR data with the Builder. Property: whatever the Builder accepts decodes,
// and decodes to what was asked: the text as PC865 prints it, the barcode
// and QR payloads byte for byte, the modes as set.
func FuzzBuilder(f *testing.F) {
	f.Add("Kiosken på hjørnet", "OSLO1-2-k7f3-17", "https://qr.vipps.no/28/2/01/031/4791234567?v=1", uint8(2), uint8(1), uint8(6), true)
	f.Add("Sum 125,00 kr – takk!", "a{b", "x", uint8(8), uint8(8), uint8(16), false)
	f.Add("ÆØÅ æøå € ж\x1b@", "{B{", strings.Repeat("Q", 2331), uint8(0), uint8(9), uint8(0), true)
	f.Fuzz(func(t *testing.T, text, code, qr string, w, h, module uint8, bold bool) {
		var b escpos.Builder
		b.Init()
		b.CodePage()
		b.Align(escpos.Center)
		b.Bold(bold)
		b.Size(int(w), int(h))
		b.Line(text)
		b.Align(escpos.Left)
		codeOK := b.Code128(code, 80, 2) == nil
		qrOK := b.QR(qr, int(module)) == nil
		b.Cut()
		doc, err := escpos.Decode(b.Bytes())
		if err != nil {
			t.Fatalf("the Builder's stream is refused: %v", err)
		}
		wantW, wantH := min(max(int(w), 1), 8), min(max(int(h), 1), 8)
		if len(doc.Lines) != 1 {
			t.Fatalf("%d lines, want 1: %q", len(doc.Lines), doc.Text())
		}
		l := doc.Lines[0]
		if l.Align != escpos.Center || l.Bold != bold || l.Width != wantW || l.Height != wantH {
			t.Fatalf("line modes %+v, want center, bold %v, %d×%d", l, bold, wantW, wantH)
		}
		if want := printed(text); l.Text != want {
			t.Fatalf("line %q, want %q", l.Text, want)
		}
		if codeOK != (len(doc.Barcodes) == 1) || codeOK && doc.Barcodes[0].Data != code {
			t.Fatalf("barcode %q (accepted %v) decoded to %+v", code, codeOK, doc.Barcodes)
		}
		if qrOK != (len(doc.QRCodes) == 1) || qrOK && (doc.QRCodes[0].Data != qr || doc.QRCodes[0].Module != int(module) || doc.QRCodes[0].Level != 'M') {
			t.Fatalf("QR %q (accepted %v) decoded to %+v", qr, qrOK, doc.QRCodes)
		}
		if len(doc.Cuts) != 1 || doc.Cuts[0] != 1 {
			t.Fatalf("cuts %v, want one after the line", doc.Cuts)
		}
	})
}

// printed is what a PC865 printer shows for s: the Builder's replacements,
// and '?' for what the code page lacks. It is written here, not taken from
// the package, so the two can disagree.
func printed(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == '€':
			sb.WriteString("EUR")
		case r == '…':
			sb.WriteString("...")
		case strings.ContainsRune("–—‐‑−", r):
			sb.WriteByte('-')
		case strings.ContainsRune("‘’‚′", r):
			sb.WriteByte('\'')
		case strings.ContainsRune("“”„»″", r):
			sb.WriteByte('"')
		case r == '\u2007' || r == '\u202f':
			sb.WriteByte(' ')
		case r < 0x20 || r >= 0x7F && r < 0xA0 || r == utf8.RuneError:
			sb.WriteByte('?')
		case r < 0x7F || strings.ContainsRune(pc865High, r):
			sb.WriteRune(r)
		default:
			// A letter with an accent PC865 lacks prints as its base letter.
			base, _ := utf8.DecodeRuneInString(norm.NFD.String(string(r)))
			if base >= 0x20 && base != 0x7F && (base < 0x7F || strings.ContainsRune(pc865High, base)) {
				sb.WriteRune(base)
			} else {
				sb.WriteByte('?')
			}
		}
	}
	return sb.String()
}

// pc865High is code page 865's upper half (0x80–0xFF), from IBM's table.
const pc865High = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø₧ƒáíóúñÑªº¿⌐¬½¼¡«¤░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"
