// Package button reads the cashier's keys from GPIO push buttons, one pin
// per key, through periph's gpio.PinIn (host/v3 on a Raspberry Pi,
// gpiotest in tests). Debouncing is done here: periph's gpioutil.Debounce
// ignores its debounce argument.
package button

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"kasse/device"
)

// Pin is what a button needs of a GPIO line: periph's gpio.PinIn.
type Pin interface {
	String() string
	In(pull gpio.Pull, edge gpio.Edge) error
	Read() gpio.Level
	WaitForEdge(timeout time.Duration) bool
}

// Config is a set of buttons.
type Config struct {
	// Keys maps a pin's name to its key's function.
	Keys device.KeyMap
	// Pull is the pin's resistor: gpio.PullUp (the default; the button
	// connects the pin to ground, pressed reads Low) or gpio.PullDown
	// (the button connects it to 3.3 V, pressed reads High).
	Pull gpio.Pull
	// Debounce is how long a pin must stay quiet before its level counts;
	// default 20 ms.
	Debounce time.Duration
	// Wait bounds each WaitForEdge, so a stop is seen: on a Pi (host/v3)
	// WaitForEdge(-1) returns at once and 0 waits forever, the opposite of
	// gpiotest, so the driver never passes either. Default 500 ms.
	Wait time.Duration
	Now  func() time.Time
	Logf func(format string, args ...any)
}

// Buttons is a running set of buttons. Create with Open, then Run.
type Buttons struct {
	cfg  Config
	pins map[string]Pin
}

// Open looks every configured pin up with byName (gpioreg.ByName on a
// Pi) and sets it as an input with the pull and edge detection.
func Open(cfg Config, byName func(name string) Pin) (*Buttons, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("gpio buttons: no pins in keys.gpio.map: map each pin to a key, e.g. GPIO17 = \"pay\"")
	}
	if cfg.Pull == gpio.PullNoChange || cfg.Pull == gpio.Float {
		cfg.Pull = gpio.PullUp
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 20 * time.Millisecond
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 500 * time.Millisecond
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	b := &Buttons{cfg: cfg, pins: map[string]Pin{}}
	names := make([]string, 0, len(cfg.Keys))
	for n := range cfg.Keys {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := byName(n)
		if p == nil {
			return nil, fmt.Errorf("gpio buttons: no pin %q on this board: use a name such as GPIO17 (see pinout.xyz), and check that kassed may open /dev/gpiochip* (the gpio group)", n)
		}
		if err := p.In(cfg.Pull, gpio.BothEdges); err != nil {
			return nil, fmt.Errorf("gpio buttons: pin %s as an input with edge detection: %w: check that no other program holds it", n, err)
		}
		b.pins[n] = p
	}
	return b, nil
}

// Name is the source's name in the log.
func (b *Buttons) Name() string { return "gpio" }

// Run sends a key event for every press, one goroutine per pin (a pin's
// WaitForEdge blocks), until ctx ends.
func (b *Buttons) Run(ctx context.Context, out chan<- device.Event) error {
	var wg sync.WaitGroup
	for n, p := range b.pins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.watch(ctx, p, b.cfg.Keys[n], out)
		}()
	}
	wg.Wait()
	return nil
}

// watch follows one pin: any edge starts a settle, the level read once the
// pin has been quiet for Debounce counts, and a change to the pressed
// level is one press. A bounce that ends where it started is nothing.
func (b *Buttons) watch(ctx context.Context, p Pin, k device.Key, out chan<- device.Event) {
	pressed := gpio.Low
	if b.cfg.Pull == gpio.PullDown {
		pressed = gpio.High
	}
	stable := p.Read()
	for ctx.Err() == nil {
		if !p.WaitForEdge(b.cfg.Wait) {
			continue
		}
		at := b.cfg.Now() // the first edge is when the cashier pressed
		for p.WaitForEdge(b.cfg.Debounce) && ctx.Err() == nil {
		}
		level := p.Read()
		if level == stable {
			continue
		}
		stable = level
		if level != pressed {
			continue
		}
		select {
		case out <- device.Event{Key: k, Source: "gpio", At: at}:
		case <-ctx.Done():
			return
		}
	}
}
