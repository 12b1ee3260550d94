// Package matrixtest is a fake matrix keypad: row and column pins wired
// through the keys a test holds down, as a diode-less keypad is. A column
// reads low when any path of pressed keys joins it to a row driven low,
// so three keys on the corners of a rectangle make the fourth read
// pressed, as on the real thing.
package matrixtest

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
)

// Keypad is rows × cols keys. Safe for concurrent use.
type Keypad struct {
	mu      sync.Mutex
	rows    []*Row
	cols    []*Col
	pressed map[[2]int]bool
	// Reads counts column reads, so a test can tell the keypad was scanned.
	reads int
}

// New returns a keypad of rows × cols, nothing pressed.
func New(rows, cols int) *Keypad {
	k := &Keypad{pressed: map[[2]int]bool{}}
	for i := range rows {
		k.rows = append(k.rows, &Row{k: k, n: i})
	}
	for i := range cols {
		k.cols = append(k.cols, &Col{k: k, n: i})
	}
	return k
}

// Rows and Cols are the keypad's pins.
func (k *Keypad) Rows() []*Row { return k.rows }
func (k *Keypad) Cols() []*Col { return k.cols }

// Press holds the key at row r, column c down; Release lets it go.
func (k *Keypad) Press(r, c int) { k.set(r, c, true) }

// Release lets the key at row r, column c go.
func (k *Keypad) Release(r, c int) { k.set(r, c, false) }

func (k *Keypad) set(r, c int, down bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if down {
		k.pressed[[2]int{r, c}] = true
	} else {
		delete(k.pressed, [2]int{r, c})
	}
}

// Reads is how many column reads the driver made.
func (k *Keypad) Reads() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reads
}

// low reports whether column c is joined to a row driven low through
// pressed keys (a walk over rows and columns).
func (k *Keypad) low(c int) bool {
	seenR, seenC := map[int]bool{}, map[int]bool{c: true}
	queue := []int{c}
	for len(queue) > 0 {
		col := queue[0]
		queue = queue[1:]
		for p := range k.pressed {
			if p[1] != col || seenR[p[0]] {
				continue
			}
			seenR[p[0]] = true
			if r := k.rows[p[0]]; r.driven && r.level == gpio.Low {
				return true
			}
			for q := range k.pressed {
				if q[0] == p[0] && !seenC[q[1]] {
					seenC[q[1]] = true
					queue = append(queue, q[1])
				}
			}
		}
	}
	return false
}

// Row is a row pin: driven by Out, released by In.
type Row struct {
	k      *Keypad
	n      int
	driven bool
	level  gpio.Level
}

func (r *Row) String() string { return fmt.Sprintf("row%d", r.n) }

// Out drives the row.
func (r *Row) Out(l gpio.Level) error {
	r.k.mu.Lock()
	defer r.k.mu.Unlock()
	r.driven, r.level = true, l
	return nil
}

// In releases the row.
func (r *Row) In(gpio.Pull, gpio.Edge) error {
	r.k.mu.Lock()
	defer r.k.mu.Unlock()
	r.driven = false
	return nil
}

// Col is a column pin, pulled up.
type Col struct {
	k      *Keypad
	n      int
	pullUp bool
}

func (c *Col) String() string { return fmt.Sprintf("col%d", c.n) }

// In sets the pull; the fake reads only with a pull-up.
func (c *Col) In(p gpio.Pull, _ gpio.Edge) error {
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	c.pullUp = p == gpio.PullUp
	return nil
}

// Read is low when a pressed key joins the column to a driven low row.
func (c *Col) Read() gpio.Level {
	c.k.mu.Lock()
	defer c.k.mu.Unlock()
	c.k.reads++
	if !c.pullUp {
		return gpio.Low // floating: whatever; a driver that forgot the pull-up sees every key pressed
	}
	return !gpio.Level(c.k.low(c.n))
}

// Out on a column is a wiring mistake.
func (c *Col) Out(gpio.Level) error { return fmt.Errorf("%s is a column: read it, do not drive it", c) }
