// Package evdevtest fakes evdev input devices: the events a USB keypad or
// barcode scanner sends, as the bytes of struct input_event the kernel
// writes, into a real pipe (or a capture file) the evdev reader reads.
package evdevtest

import (
	"fmt"
	"os"
	"sync"
	"time"

	"kasse/device/evdev"
)

// Stroke is one key pressed and released, with SYN reports as the kernel
// sends them, at t and t+1ms.
func Stroke(code uint16, t time.Time) []evdev.Event {
	return []evdev.Event{
		{Time: t, Type: evdev.EvMsc, Code: 4, Value: int32(code)}, // MSC_SCAN, as USB HID sends
		{Time: t, Type: evdev.EvKey, Code: code, Value: evdev.Press},
		{Time: t, Type: evdev.EvSyn},
		{Time: t.Add(time.Millisecond), Type: evdev.EvKey, Code: code, Value: evdev.Release},
		{Time: t.Add(time.Millisecond), Type: evdev.EvSyn},
	}
}

// Typing is what a scanner set to layout sends for text then Enter, one
// keystroke every step from t, with shift held around shifted characters.
func Typing(layout, text string, t time.Time, step time.Duration) ([]evdev.Event, error) {
	var evs []evdev.Event
	for _, r := range text {
		code, shift, ok := evdev.Keystroke(layout, r)
		if !ok {
			return nil, fmt.Errorf("layout %s has no key for %q", layout, r)
		}
		if shift {
			evs = append(evs, evdev.Event{Time: t, Type: evdev.EvKey, Code: 42, Value: evdev.Press})
		}
		evs = append(evs, Stroke(code, t)...)
		if shift {
			evs = append(evs, evdev.Event{Time: t.Add(time.Millisecond), Type: evdev.EvKey, Code: 42, Value: evdev.Release})
		}
		t = t.Add(step)
	}
	return append(evs, Stroke(28, t)...), nil // KEY_ENTER
}

// Bytes is evs as a capture of size-byte input_events.
func Bytes(size int, evs ...evdev.Event) []byte {
	var b []byte
	for _, ev := range evs {
		b = append(b, evdev.Encode(ev, size)...)
	}
	return b
}

// Device is a fake input device: a real pipe whose read end the reader
// gets from Open, as it would get /dev/input/eventN. Unplug closes the
// write end (the reader sees the device go); Open after that hands out a
// new pipe, as a replug makes a new device node.
type Device struct {
	mu      sync.Mutex
	w       *os.File
	opens   int
	present bool
	opened  chan struct{}
}

// NewDevice returns a plugged-in fake device.
func NewDevice() *Device { return &Device{present: true, opened: make(chan struct{}, 16)} }

// Open is evdev.Config.Open for this device.
func (d *Device) Open(string) (evdev.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.present {
		return nil, fmt.Errorf("open /dev/input/event7: %w", os.ErrNotExist)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if d.w != nil {
		d.w.Close()
	}
	d.w = w
	d.opens++
	d.opened <- struct{}{}
	return r, nil
}

// Opened waits until the reader has opened the device (again).
func (d *Device) Opened(timeout time.Duration) bool {
	select {
	case <-d.opened:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Opens counts the opens.
func (d *Device) Opens() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opens
}

// Send writes events as size-byte input_events.
func (d *Device) Send(size int, evs ...evdev.Event) error {
	d.mu.Lock()
	w := d.w
	d.mu.Unlock()
	if w == nil {
		return fmt.Errorf("the device is not open")
	}
	_, err := w.Write(Bytes(size, evs...))
	return err
}

// Unplug takes the device away: the open pipe ends, and opens fail until
// Plug.
func (d *Device) Unplug() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.present = false
	if d.w != nil {
		d.w.Close()
		d.w = nil
	}
}

// Plug puts the device back.
func (d *Device) Plug() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.present = true
}
