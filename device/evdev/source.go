package evdev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"kasse/device"
)

// Roles of an input device.
const (
	RoleKeypad  = "keypad"  // each key is a function, by the key map
	RoleScanner = "scanner" // keystrokes are characters, Enter ends a code
)

// Device is an open input device: a grabbed /dev/input/event*, or in
// tests a pipe or a capture file.
type Device interface {
	io.Reader
	Close() error
}

// Config is one USB keypad or scanner.
type Config struct {
	// Path is the device, best a stable /dev/input/by-id/… link (it
	// survives a replug into another port); or give Name.
	Path string
	// Name is the device's name as the kernel reports it (cat
	// /sys/class/input/event*/device/name, or evtest), matched exactly.
	Name string
	Role string
	// Keys maps key codes ("KEY_KP1") to functions, for a keypad.
	Keys map[uint16]device.Key
	// Layout is the keyboard layout the scanner is set to: us, no, da, sv,
	// de. Default us.
	Layout string
	// ScanGap is the longest pause between two keystrokes of one scan;
	// default 300 ms (scanners type a code in a few milliseconds).
	ScanGap time.Duration
	// EventSize is sizeof(struct input_event): NativeSize unless reading
	// a capture from another machine.
	EventSize int
	// Open opens and grabs a device; default OpenGrabbed.
	Open func(path string) (Device, error)
	// SysInput and DevInput are where devices are found by name;
	// defaults /sys/class/input and /dev/input.
	SysInput, DevInput string
	// Backoff is the first wait before a reopen, doubled to MaxBackoff;
	// defaults 250 ms and 5 s.
	Backoff, MaxBackoff time.Duration
	// Wait waits d or until ctx ends; tests pass one that does not sleep.
	Wait func(ctx context.Context, d time.Duration)
	Logf func(format string, args ...any)
}

// Source is one keypad or scanner, reopened whenever it goes away.
type Source struct {
	cfg Config
}

// New checks cfg; nothing is opened until Run.
func New(cfg Config) (*Source, error) {
	if cfg.Path == "" && cfg.Name == "" {
		return nil, errors.New("evdev: give the device's path (a /dev/input/by-id/… link) or its name (see /sys/class/input/event*/device/name)")
	}
	switch cfg.Role {
	case RoleKeypad:
		if len(cfg.Keys) == 0 {
			return nil, fmt.Errorf("evdev keypad %s: its key map is empty: map key codes to functions, e.g. KEY_KP1 = \"1\"", cfg.label())
		}
	case RoleScanner:
	default:
		return nil, fmt.Errorf("evdev %s: role %q is not known: use keypad or scanner", cfg.label(), cfg.Role)
	}
	if cfg.Layout == "" {
		cfg.Layout = "us"
	}
	if err := CheckLayout(cfg.Layout); err != nil {
		return nil, fmt.Errorf("evdev %s: %w", cfg.label(), err)
	}
	if cfg.ScanGap <= 0 {
		cfg.ScanGap = 300 * time.Millisecond
	}
	if cfg.EventSize == 0 {
		cfg.EventSize = NativeSize
	}
	if cfg.Open == nil {
		cfg.Open = OpenGrabbed
	}
	if cfg.SysInput == "" {
		cfg.SysInput = "/sys/class/input"
	}
	if cfg.DevInput == "" {
		cfg.DevInput = "/dev/input"
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.Backoff {
		cfg.MaxBackoff = max(5*time.Second, cfg.Backoff)
	}
	if cfg.Wait == nil {
		cfg.Wait = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Source{cfg: cfg}, nil
}

func (c Config) label() string {
	if c.Path != "" {
		return c.Path
	}
	return fmt.Sprintf("%q", c.Name)
}

// Name is the source's name in the log.
func (s *Source) Name() string { return "evdev " + s.cfg.Role + " " + s.cfg.label() }

// Run reads the device until ctx ends. When it is missing or goes away
// (unplugged), Run logs it once and tries again with a growing pause,
// then logs that it is back.
func (s *Source) Run(ctx context.Context, out chan<- device.Event) error {
	wait, tries, lastErr := s.cfg.Backoff, 0, ""
	for ctx.Err() == nil {
		path, dev, err := s.open()
		if err != nil {
			if msg := err.Error(); msg != lastErr {
				s.cfg.Logf("%s: %v; trying again every %v or so", s.Name(), err, s.cfg.MaxBackoff)
				lastErr = msg
			}
			tries++
			s.cfg.Wait(ctx, wait)
			wait = min(wait*2, s.cfg.MaxBackoff)
			continue
		}
		if tries > 0 {
			s.cfg.Logf("%s: back at %s after %d tries", s.Name(), path, tries)
		} else {
			s.cfg.Logf("%s: reading %s (grabbed: its keys reach only kassed)", s.Name(), path)
		}
		wait, tries, lastErr = s.cfg.Backoff, 0, ""
		err = s.read(ctx, dev, out)
		dev.Close()
		if ctx.Err() != nil {
			break
		}
		s.cfg.Logf("%s: %v: waiting for it to come back", s.Name(), err)
		lastErr = ""
		tries = 1
		s.cfg.Wait(ctx, wait)
	}
	return nil
}

func (s *Source) open() (string, Device, error) {
	path := s.cfg.Path
	if path == "" {
		p, err := FindByName(s.cfg.SysInput, s.cfg.DevInput, s.cfg.Name)
		if err != nil {
			return "", nil, err
		}
		path = p
	}
	d, err := s.cfg.Open(path)
	return path, d, err
}

// read passes the device's events on until it fails or ctx ends (which
// closes it, so a blocked read returns).
func (s *Source) read(ctx context.Context, dev Device, out chan<- device.Event) error {
	stop := context.AfterFunc(ctx, func() { dev.Close() })
	defer stop()
	rd, err := NewReader(dev, s.cfg.EventSize)
	if err != nil {
		return err
	}
	asm := newAssembler(s.cfg.Layout, s.cfg.ScanGap, s.cfg.Logf)
	for {
		evs, err := rd.Read()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, unix.ENODEV) {
				return errUnplugged
			}
			return err
		}
		for _, ev := range evs {
			var e device.Event
			switch s.cfg.Role {
			case RoleScanner:
				code, ok := asm.feed(ev)
				if !ok {
					continue
				}
				e = device.Event{Scan: code, Source: "scanner", At: ev.Time}
			default:
				k, ok := s.cfg.Keys[ev.Code]
				if ev.Type != EvKey || ev.Value != Press || !ok {
					continue
				}
				e = device.Event{Key: k, Source: "keypad", At: ev.Time}
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

// FindByName returns the event device whose kernel name is name.
func FindByName(sysInput, devInput, name string) (string, error) {
	ents, err := os.ReadDir(sysInput)
	if err != nil {
		return "", fmt.Errorf("listing input devices: %w", err)
	}
	var seen []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "event") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(sysInput, e.Name(), "device", "name"))
		if err != nil {
			continue
		}
		n := strings.TrimSpace(string(b))
		if n == name {
			return filepath.Join(devInput, e.Name()), nil
		}
		seen = append(seen, fmt.Sprintf("%q", n))
	}
	if len(seen) == 0 {
		return "", fmt.Errorf("no input device named %q (none is plugged in)", name)
	}
	return "", fmt.Errorf("no input device named %q: plugged in are %s", name, strings.Join(seen, ", "))
}

// EVIOCGRAB is _IOW('E', 0x90, int).
const eviocgrab = 0x40044590

// OpenGrabbed opens an event device and grabs it, so its keystrokes go
// to kassed alone, never to a console or a login prompt.
func OpenGrabbed(path string) (Device, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w: add kassed's user to the input group", err)
		}
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	var gerr error
	// Through SyscallConn, not Fd: Fd would make the file blocking, and
	// Close could no longer end a pending read.
	if err := rc.Control(func(fd uintptr) { gerr = unix.IoctlSetInt(int(fd), eviocgrab, 1) }); err != nil {
		gerr = err
	}
	if gerr != nil {
		f.Close()
		return nil, fmt.Errorf("grabbing %s: %w: is another program (a second kassed) holding it?", path, gerr)
	}
	return f, nil
}
