package evdev

import (
	"fmt"
	"strings"
	"time"
)

// assembler turns a scanner's keystrokes into codes: characters through
// the layout until Enter. A pause longer than the timeout between two
// keystrokes abandons what came before (a half scan, or a stray key), so
// one bad read never prefixes the next code.
type assembler struct {
	layout  string
	timeout time.Duration
	max     int
	buf     strings.Builder
	last    time.Time
	shift   map[uint16]bool
	bad     string // the first key the layout does not know, in this code
	logf    func(format string, args ...any)
}

func newAssembler(layout string, timeout time.Duration, logf func(string, ...any)) *assembler {
	return &assembler{layout: layout, timeout: timeout, max: 128, shift: map[uint16]bool{}, logf: logf}
}

const (
	keyLeftShift, keyRightShift = 42, 54
	keyEnter, keyKPEnter        = 28, 96
)

// feed takes one event and returns a whole code when Enter ends one.
func (a *assembler) feed(ev Event) (string, bool) {
	if ev.Type != EvKey {
		return "", false
	}
	if ev.Code == keyLeftShift || ev.Code == keyRightShift {
		a.shift[ev.Code] = ev.Value != Release
		return "", false
	}
	if ev.Value != Press {
		return "", false // releases; a scanner does not auto-repeat
	}
	if a.buf.Len() > 0 && ev.Time.Sub(a.last) > a.timeout {
		a.logf("scanner: dropped %d characters with no Enter after them (a pause of %v): scan again", a.buf.Len(), ev.Time.Sub(a.last).Round(time.Millisecond))
		a.reset()
	}
	a.last = ev.Time
	if ev.Code == keyEnter || ev.Code == keyKPEnter {
		code, bad := a.buf.String(), a.bad
		a.reset()
		switch {
		case bad != "":
			a.logf("scanner: dropped a code with a key the %q layout does not know (%s): set keys.evdev layout to the scanner's", a.layout, bad)
			return "", false
		case code == "":
			return "", false
		}
		return code, true
	}
	r, ok := Char(a.layout, ev.Code, a.shift[keyLeftShift] || a.shift[keyRightShift])
	if !ok {
		if a.bad == "" {
			a.bad = CodeName(ev.Code)
		}
		return "", false
	}
	if a.buf.Len() >= a.max {
		a.logf("scanner: dropped a code longer than %d characters", a.max)
		a.reset()
		a.bad = fmt.Sprintf("more than %d characters", a.max)
		return "", false
	}
	a.buf.WriteRune(r)
	return "", false
}

func (a *assembler) reset() {
	a.buf.Reset()
	a.bad = ""
}
