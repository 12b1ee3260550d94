package escpos

import "strings"

// The line layout both the receipt and the X/Z reports print with: text
// in columns of the paper's width, measured in printed characters.

// Banner prints s centred, bold, at double height, and double width where
// it fits on cols columns: marks that must not be missed ("KOPI", the
// receipt's kind, "Z-RAPPORT"). It leaves the alignment centred.
func (b *Builder) Banner(cols int, s string) {
	b.Align(Center)
	b.Bold(true)
	if TextWidth(s)*2 <= cols {
		b.Size(2, 2)
		b.Line(s)
	} else {
		b.Size(1, 2)
		b.Wrapped(cols, s)
	}
	b.Size(1, 1)
	b.Bold(false)
}

// Rule prints a line of cols dashes.
func (b *Builder) Rule(cols int) { b.Line(strings.Repeat("-", cols)) }

// Wrapped prints s on as many lines of cols columns as it needs (Wrap).
func (b *Builder) Wrapped(cols int, s string) {
	for _, w := range Wrap(s, cols) {
		b.Line(w)
	}
}

// Row prints left and right on one line of cols columns. When both do not
// fit, the label keeps its words whole on lines of its own (indented as
// left is) and the value goes right-aligned below it, so no word is split
// to make room.
func (b *Builder) Row(cols int, left, right string) {
	lw, rw := TextWidth(left), TextWidth(right)
	if lw+1+rw <= cols {
		b.Line(left + strings.Repeat(" ", cols-lw-rw) + right)
		return
	}
	indent := len(left) - len(strings.TrimLeft(left, " "))
	parts := Wrap(left, cols-indent)
	for i := range parts {
		parts[i] = strings.Repeat(" ", indent) + parts[i]
	}
	last := parts[len(parts)-1]
	if TextWidth(last)+1+rw <= cols {
		for _, w := range parts[:len(parts)-1] {
			b.Line(w)
		}
		b.Line(last + strings.Repeat(" ", cols-TextWidth(last)-rw) + right)
		return
	}
	for _, w := range parts {
		b.Line(w)
	}
	for _, w := range Wrap(right, cols) {
		b.Line(strings.Repeat(" ", cols-TextWidth(w)) + w)
	}
}

// Wrap breaks s into lines of at most width columns at spaces. A word longer
// than a whole line (a long reference on narrow paper) is broken after a
// '-' or '/' where it has one, and only else mid-word. It returns at least
// one line.
func Wrap(s string, width int) []string {
	width = max(width, 1)
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		for TextWidth(word) > width {
			if cur != "" {
				out = append(out, cur)
				cur = ""
			}
			head, rest := splitWidth(word, width)
			out = append(out, head)
			word = rest
		}
		switch {
		case cur == "":
			cur = word
		case TextWidth(cur)+1+TextWidth(word) <= width:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	if cur != "" || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// splitWidth cuts s after as many runes as fit in width columns, at the
// last '-' or '/' within them if there is one.
func splitWidth(s string, width int) (string, string) {
	w, cut, soft := 0, len(s), -1
	for i, r := range s {
		rw := TextWidth(string(r))
		if w+rw > width {
			cut = i
			if i == 0 { // a rune wider than the line ("EUR" in 1..2 columns)
				cut = len(string(r))
			}
			break
		}
		w += rw
		if r == '-' || r == '/' {
			soft = i + 1
		}
	}
	if cut < len(s) && soft > 0 {
		cut = soft
	}
	return s[:cut], s[cut:]
}
