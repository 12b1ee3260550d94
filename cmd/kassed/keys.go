package main

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"kasse/cmd/internal/config"
	"kasse/device"
	"kasse/device/button"
	"kasse/device/evdev"
	"kasse/device/matrix"
	"kasse/till"
	"kasse/till/pin"
)

// inputs is how kassed reaches key hardware; tests replace the parts.
type inputs struct {
	// pin looks a GPIO line up by name (periph host/v3 on a Pi).
	pin func(name string) gpio.PinIO
	// openEvdev opens and grabs an input device.
	openEvdev          func(path string) (evdev.Device, error)
	sysInput, devInput string
}

// realInputs reach the board's GPIO through periph (initialised once, on
// first use) and /dev/input.
func realInputs() inputs {
	var once sync.Once
	var initErr error
	return inputs{
		pin: func(name string) gpio.PinIO {
			once.Do(func() { _, initErr = host.Init() })
			if initErr != nil {
				return nil
			}
			return gpioreg.ByName(name)
		},
		openEvdev: evdev.OpenGrabbed,
	}
}

// keySources builds the configured key hardware. In --sim, GPIO and matrix
// keys are not opened (kassectl key stands in for them); USB devices are,
// as they need no board.
func keySources(k config.Keys, in inputs, sim bool, logf func(string, ...any)) ([]till.Source, error) {
	var srcs []till.Source
	if k.SourceOn("gpio") {
		if sim {
			logf("--sim: keys.gpio not opened: kassectl key presses its keys")
		} else {
			km, err := device.ParseKeyMap("keys.gpio", k.GPIO.Map)
			if err != nil {
				return nil, err
			}
			pull := gpio.PullUp
			if k.GPIO.Pull == "down" {
				pull = gpio.PullDown
			}
			b, err := button.Open(button.Config{Keys: km, Pull: pull, Debounce: k.GPIO.Debounce.Duration, Logf: logf},
				func(n string) button.Pin {
					if p := in.pin(n); p != nil {
						return p
					}
					return nil
				})
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, b)
		}
	}
	if k.SourceOn("matrix") {
		if sim {
			logf("--sim: keys.matrix not opened: kassectl key presses its keys")
		} else {
			m, err := openMatrix(k.Matrix, in)
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, m)
		}
	}
	if k.SourceOn("evdev") {
		for _, e := range k.Evdev {
			s, err := openEvdev(e, in, logf)
			if err != nil {
				return nil, err
			}
			srcs = append(srcs, s)
		}
	}
	return srcs, nil
}

func openMatrix(m config.MatrixKeys, in inputs) (*matrix.Keypad, error) {
	cfg := matrix.Config{Period: m.Period.Duration, Stable: m.Stable}
	look := func(n string) (gpio.PinIO, error) {
		p := in.pin(n)
		if p == nil {
			return nil, fmt.Errorf("matrix keypad: no pin %q on this board: use a name such as GPIO5, and check that kassed may open /dev/gpiochip* (the gpio group)", n)
		}
		return p, nil
	}
	for _, n := range m.Rows {
		p, err := look(n)
		if err != nil {
			return nil, err
		}
		cfg.Rows = append(cfg.Rows, p)
	}
	for _, n := range m.Cols {
		p, err := look(n)
		if err != nil {
			return nil, err
		}
		cfg.Cols = append(cfg.Cols, p)
	}
	for _, row := range m.Layout {
		var keys []device.Key
		for _, fn := range row {
			keys = append(keys, device.Key(fn)) // checked by config.Validate
		}
		cfg.Keys = append(cfg.Keys, keys)
	}
	return matrix.New(cfg)
}

func openEvdev(e config.EvdevKeys, in inputs, logf func(string, ...any)) (*evdev.Source, error) {
	cfg := evdev.Config{Path: e.Path, Name: e.Name, Role: e.Role, Layout: e.Layout, ScanGap: e.ScanGap.Duration,
		Open: in.openEvdev, SysInput: in.sysInput, DevInput: in.devInput, Logf: logf}
	if e.Role == evdev.RoleKeypad {
		m := e.Map
		if len(m) == 0 {
			m = evdev.DefaultKeypad()
		}
		km, err := device.ParseKeyMap("keys.evdev", m)
		if err != nil {
			return nil, err
		}
		cfg.Keys = map[uint16]device.Key{}
		for name, k := range km {
			c, err := evdev.Code(name)
			if err != nil {
				return nil, err
			}
			cfg.Keys[c] = k
		}
	}
	return evdev.New(cfg)
}

// cashiers is the till's PIN checker from [[keys.cashiers]].
func cashiers(k config.Keys) (*pin.Set, error) {
	var cs []pin.Cashier
	for _, c := range k.Cashiers {
		cs = append(cs, pin.Cashier{ID: c.ID, Hash: c.PINHash, Supervisor: c.Supervisor})
	}
	return pin.NewSet(cs)
}
