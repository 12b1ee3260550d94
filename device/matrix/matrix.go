// Package matrix reads a keypad wired as a matrix (4×4, 4×5): one row
// driven low at a time, the columns (pulled up) read; a column reading low
// has a key pressed on the driven row. Scanned on a beat, debounced by
// counting scans, with ghost keys (three keys on a diode-less matrix make
// a fourth appear) ignored and two-key rollover kept.
package matrix

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"kasse/device"
)

// RowPin is a driven row: low while scanned, released (an input) between.
type RowPin interface {
	String() string
	Out(l gpio.Level) error
	In(pull gpio.Pull, edge gpio.Edge) error
}

// ColPin is a read column, pulled up.
type ColPin interface {
	String() string
	In(pull gpio.Pull, edge gpio.Edge) error
	Read() gpio.Level
}

// Config is one keypad.
type Config struct {
	Rows []RowPin
	Cols []ColPin
	// Keys[r][c] is the function of the key on row r, column c; "" for none.
	Keys [][]device.Key
	// Period is the beat of full scans; default 5 ms.
	Period time.Duration
	// Stable is how many scans in a row a key must read the same before
	// it counts; default 4 (20 ms at the default period).
	Stable int
	Now    func() time.Time
}

// Keypad is a matrix keypad. Create with New; Run scans it.
type Keypad struct {
	cfg    Config
	state  [][]bool // debounced: pressed
	raw    [][]bool // this scan
	count  [][]int  // scans the raw reading has differed from state
	events []device.Event
}

// New checks the wiring and sets the pins: rows released, columns pulled up.
func New(cfg Config) (*Keypad, error) {
	if len(cfg.Rows) == 0 || len(cfg.Cols) == 0 {
		return nil, errors.New("matrix keypad: keys.matrix needs rows and cols: list the GPIO pins, e.g. rows = [\"GPIO5\", \"GPIO6\", \"GPIO13\", \"GPIO19\"]")
	}
	if len(cfg.Keys) != len(cfg.Rows) {
		return nil, fmt.Errorf("matrix keypad: keys.matrix.layout has %d rows, the wiring %d: give one row of functions per row pin", len(cfg.Keys), len(cfg.Rows))
	}
	for i, r := range cfg.Keys {
		if len(r) != len(cfg.Cols) {
			return nil, fmt.Errorf("matrix keypad: keys.matrix.layout row %d has %d keys, the wiring %d columns: give one function per column (\"\" for none)", i+1, len(r), len(cfg.Cols))
		}
	}
	if cfg.Period <= 0 {
		cfg.Period = 5 * time.Millisecond
	}
	if cfg.Stable <= 0 {
		cfg.Stable = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	k := &Keypad{cfg: cfg}
	for range cfg.Rows {
		k.state = append(k.state, make([]bool, len(cfg.Cols)))
		k.raw = append(k.raw, make([]bool, len(cfg.Cols)))
		k.count = append(k.count, make([]int, len(cfg.Cols)))
	}
	for _, c := range cfg.Cols {
		if err := c.In(gpio.PullUp, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("matrix keypad: column %s as an input with pull-up: %w", c, err)
		}
	}
	for _, r := range cfg.Rows {
		if err := r.In(gpio.Float, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("matrix keypad: row %s released: %w", r, err)
		}
	}
	return k, nil
}

// Name is the source's name in the log.
func (k *Keypad) Name() string { return "matrix" }

// Run scans on the beat and sends every press until ctx ends.
func (k *Keypad) Run(ctx context.Context, out chan<- device.Event) error {
	tick := time.NewTicker(k.cfg.Period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		evs, err := k.Scan()
		if err != nil {
			return err
		}
		for _, ev := range evs {
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// Scan reads the matrix once and returns the presses it completes.
func (k *Keypad) Scan() ([]device.Event, error) {
	for r, row := range k.cfg.Rows {
		if err := row.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("matrix keypad: driving row %s: %w", row, err)
		}
		for c, col := range k.cfg.Cols {
			k.raw[r][c] = col.Read() == gpio.Low
		}
		// Released, not driven high: two keys in one column would
		// otherwise short a high row to the low one.
		if err := row.In(gpio.Float, gpio.NoEdge); err != nil {
			return nil, fmt.Errorf("matrix keypad: releasing row %s: %w", row, err)
		}
	}
	ghost := k.ghosts()
	k.events = k.events[:0]
	at := k.cfg.Now()
	for r := range k.raw {
		for c := range k.raw[r] {
			if ghost[r][c] || k.raw[r][c] == k.state[r][c] {
				k.count[r][c] = 0
				continue
			}
			if k.count[r][c]++; k.count[r][c] < k.cfg.Stable {
				continue
			}
			k.count[r][c] = 0
			k.state[r][c] = k.raw[r][c]
			if fn := k.cfg.Keys[r][c]; k.state[r][c] && fn != "" {
				k.events = append(k.events, device.Event{Key: fn, Source: "matrix", At: at})
			}
		}
	}
	return k.events, nil
}

// ghosts marks the keys whose reading this scan cannot be trusted: the
// corners of any rectangle whose four corners all read pressed. Without
// diodes, three pressed corners make the fourth read pressed too, and
// which three is unknowable; their state stays as it was until the
// rectangle breaks. Two keys never form one: two-key rollover holds.
func (k *Keypad) ghosts() [][]bool {
	g := make([][]bool, len(k.raw))
	for r := range g {
		g[r] = make([]bool, len(k.raw[r]))
	}
	for r1 := range k.raw {
		for r2 := r1 + 1; r2 < len(k.raw); r2++ {
			var cols []int
			for c := range k.raw[r1] {
				if k.raw[r1][c] && k.raw[r2][c] {
					cols = append(cols, c)
				}
			}
			if len(cols) < 2 {
				continue
			}
			for _, c := range cols {
				g[r1][c], g[r2][c] = true, true
			}
		}
	}
	return g
}
