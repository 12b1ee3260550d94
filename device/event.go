package device

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Event is what every key source sends the till: a key's function, or a
// scanned code.
type Event struct {
	Key    Key       // a key's function; empty for a scan
	Scan   string    // a scanned code; empty for a key
	Source string    // the source's name, for the log (never the key itself: it may be a PIN digit)
	At     time.Time // when the source saw it, on the source's clock
}

// KeyMap gives each physical key of one source its function: a GPIO pin
// name, a matrix position "r1c2", or an evdev key code "KEY_KP1".
type KeyMap map[string]Key

// ParseKeyMap checks a key map from the config: every function must be a
// known key name. The error names the source and every bad entry.
func ParseKeyMap(source string, m map[string]string) (KeyMap, error) {
	km := KeyMap{}
	var bad []string
	for phys, fn := range m {
		k, err := ParseKey(fn)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s = %q", phys, cut(fn, 40)))
			continue
		}
		km[phys] = k
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%s key map: unknown function in %s: use one of %s", source, strings.Join(bad, ", "), strings.Join(Names(), " "))
	}
	return km, nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
