package evdev

import (
	"fmt"
	"sort"
	"strings"
)

// A layout is what the keyboard layout a scanner is set to makes of its
// key codes: a scanner "types" each character with the key that makes it
// on that layout, so a scanner set to Norwegian sends KEY_SLASH for '-'
// (where US has KEY_MINUS) and KEY_MINUS for '+'.
type layout map[uint16][2]rune // code → unshifted, shifted

// Layouts the scanner may be set to.
var layouts = map[string]layout{
	"us": merge(common(), layout{
		12: {'-', '_'}, 13: {'=', '+'}, 26: {'[', '{'}, 27: {']', '}'}, 39: {';', ':'}, 40: {'\'', '"'},
		41: {'`', '~'}, 43: {'\\', '|'}, 51: {',', '<'}, 52: {'.', '>'}, 53: {'/', '?'},
		2: {'1', '!'}, 3: {'2', '@'}, 4: {'3', '#'}, 5: {'4', '$'}, 6: {'5', '%'}, 7: {'6', '^'},
		8: {'7', '&'}, 9: {'8', '*'}, 10: {'9', '('}, 11: {'0', ')'},
	}),
	"no": merge(common(), nordic(), layout{39: {'ø', 'Ø'}, 40: {'æ', 'Æ'}, 41: {'|', '§'}}),
	"da": merge(common(), nordic(), layout{39: {'æ', 'Æ'}, 40: {'ø', 'Ø'}, 41: {'½', '§'}}),
	"sv": merge(common(), nordic(), layout{39: {'ö', 'Ö'}, 40: {'ä', 'Ä'}, 41: {'§', '½'}}),
	"de": merge(common(), layout{
		21: {'z', 'Z'}, 44: {'y', 'Y'}, 12: {'ß', '?'}, 53: {'-', '_'}, 51: {',', ';'}, 52: {'.', ':'},
		2: {'1', '!'}, 3: {'2', '"'}, 8: {'7', '/'}, 9: {'8', '('}, 10: {'9', ')'}, 11: {'0', '='},
		27: {'+', '*'}, 43: {'#', '\''}, 86: {'<', '>'},
	}),
}

// common: letters, the keypad and space, the same on all these layouts.
func common() layout {
	l := layout{57: {' ', ' '}}
	for name, c := range codes {
		if len(name) == 5 && name[:4] == "KEY_" && name[4] >= 'A' && name[4] <= 'Z' {
			l[c] = [2]rune{rune(name[4] - 'A' + 'a'), rune(name[4])}
		}
	}
	for i, c := range []uint16{82, 79, 80, 81, 75, 76, 77, 71, 72, 73} { // KP0 … KP9
		l[c] = [2]rune{rune('0' + i), rune('0' + i)}
	}
	for c, r := range map[uint16]rune{74: '-', 78: '+', 83: '.', 98: '/', 55: '*'} {
		l[c] = [2]rune{r, r}
	}
	return l
}

// nordic is what Norwegian, Danish and Swedish share: '-' on KEY_SLASH.
func nordic() layout {
	return layout{
		12: {'+', '?'}, 13: {'\\', '`'}, 53: {'-', '_'}, 51: {',', ';'}, 52: {'.', ':'}, 43: {'\'', '*'},
		86: {'<', '>'}, 26: {'å', 'Å'},
		2: {'1', '!'}, 3: {'2', '"'}, 4: {'3', '#'}, 6: {'5', '%'}, 7: {'6', '&'},
		8: {'7', '/'}, 9: {'8', '('}, 10: {'9', ')'}, 11: {'0', '='},
	}
}

func merge(ls ...layout) layout {
	out := layout{}
	for _, l := range ls {
		for c, r := range l {
			out[c] = r
		}
	}
	for c := uint16(2); c <= 11; c++ { // digits unshifted, where a layout gave only the shifted one
		if r := out[c]; r[0] == 0 {
			out[c] = [2]rune{rune('0' + (c-1)%10), r[1]}
		}
	}
	return out
}

// LayoutNames lists the layouts a scanner may be set to.
func LayoutNames() []string {
	var n []string
	for k := range layouts {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// CheckLayout says whether name is a known layout, and what to use if not.
func CheckLayout(name string) error {
	if _, ok := layouts[name]; !ok {
		return fmt.Errorf("unknown keyboard layout %q: use the layout the scanner is set to, one of %s", name, strings.Join(LayoutNames(), " "))
	}
	return nil
}

// Char is the character code makes on layout name, shifted or not.
func Char(name string, code uint16, shift bool) (rune, bool) {
	r, ok := layouts[name][code]
	if !ok {
		return 0, false
	}
	if shift {
		return r[1], r[1] != 0
	}
	return r[0], r[0] != 0
}

// Keystroke is the key code and shift that type r on layout name: what a
// scanner set to that layout sends (for fakes and captures).
func Keystroke(name string, r rune) (code uint16, shift, ok bool) {
	best := -1
	for c, rs := range layouts[name] {
		for i, x := range rs {
			// The lowest code wins, so the main row beats the keypad
			// deterministically (and unshifted beats shifted).
			if x == r && (best < 0 || int(c)*2+i < best) {
				best = int(c)*2 + i
			}
		}
	}
	if best < 0 {
		return 0, false, false
	}
	return uint16(best / 2), best%2 == 1, true
}
