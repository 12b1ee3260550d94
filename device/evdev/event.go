// Package evdev reads USB keypads and barcode scanners through Linux
// evdev (/dev/input/event*): a small reader of struct input_event, the
// device grabbed (EVIOCGRAB) so its keystrokes never reach a console, a
// keypad's keys mapped to functions, a scanner's keystrokes assembled into
// one code through its keyboard layout, and a reopen loop for unplug and
// replug.
package evdev

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Event types and values of struct input_event used here
// (linux/input-event-codes.h).
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvMsc = 0x04

	Release = 0
	Press   = 1
	Repeat  = 2
)

// wordBits is the size of the kernel's long on this GOARCH: input_event's
// time is two longs (struct timeval, or __kernel_ulong_t sec and usec on
// 32-bit since Linux 4.16; both 32 bits there).
const wordBits = 32 << (^uint(0) >> 63)

// NativeSize is sizeof(struct input_event) for this GOARCH: 24 bytes on
// 64-bit (arm64, amd64), 16 on 32-bit ARM.
const NativeSize = 2*wordBits/8 + 8

// Event is one struct input_event.
type Event struct {
	Time  time.Time
	Type  uint16
	Code  uint16
	Value int32
}

// Reader decodes input_events of one size from a device or a capture.
type Reader struct {
	r    io.Reader
	size int
	buf  []byte
}

// NewReader reads events of size bytes (NativeSize for a device; 16 or
// 24 for a capture made on another machine).
func NewReader(r io.Reader, size int) (*Reader, error) {
	if size != 16 && size != 24 {
		return nil, fmt.Errorf("evdev: an input_event is 16 (32-bit) or 24 (64-bit) bytes, not %d", size)
	}
	return &Reader{r: r, size: size, buf: make([]byte, size*64)}, nil
}

// Read returns the next events: at least one, whole ones only (a device
// read returns whole events; a pipe may split them, so the rest is read).
func (rd *Reader) Read() ([]Event, error) {
	n, err := rd.r.Read(rd.buf)
	if n > 0 && n%rd.size != 0 {
		m, ferr := io.ReadFull(rd.r, rd.buf[n:n+rd.size-n%rd.size])
		n += m
		if ferr != nil {
			return nil, fmt.Errorf("evdev: an event cut short after %d of its %d bytes: %w", n%rd.size, rd.size, ferr)
		}
	}
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
	evs := make([]Event, 0, n/rd.size)
	for b := rd.buf[:n]; len(b) >= rd.size; b = b[rd.size:] {
		evs = append(evs, decode(b[:rd.size]))
	}
	return evs, nil
}

func decode(b []byte) Event {
	le := binary.NativeEndian
	var sec, usec int64
	rest := b
	if len(b) == 24 {
		sec, usec, rest = int64(le.Uint64(b)), int64(le.Uint64(b[8:])), b[16:]
	} else {
		sec, usec, rest = int64(le.Uint32(b)), int64(le.Uint32(b[4:])), b[8:]
	}
	return Event{Time: time.Unix(sec, usec*1000), Type: le.Uint16(rest), Code: le.Uint16(rest[2:]), Value: int32(le.Uint32(rest[4:]))}
}

// Encode is one event as the kernel writes it, size 16 or 24 bytes: for
// captures and fakes.
func Encode(ev Event, size int) []byte {
	le := binary.NativeEndian
	b := make([]byte, size)
	rest := b
	if size == 24 {
		le.PutUint64(b, uint64(ev.Time.Unix()))
		le.PutUint64(b[8:], uint64(ev.Time.Nanosecond()/1000))
		rest = b[16:]
	} else {
		le.PutUint32(b, uint32(ev.Time.Unix()))
		le.PutUint32(b[4:], uint32(ev.Time.Nanosecond()/1000))
		rest = b[8:]
	}
	le.PutUint16(rest, ev.Type)
	le.PutUint16(rest[2:], ev.Code)
	le.PutUint32(rest[4:], uint32(ev.Value))
	return b
}

var errUnplugged = errors.New("the device is gone (unplugged?)")
