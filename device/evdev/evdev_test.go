package evdev_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"kasse/device"
	"kasse/device/evdev"
	"kasse/device/evdev/evdevtest"
)

var t0 = time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)

// Both struct input_event layouts decode from a capture file: 24 bytes
// (64-bit) and 16 (32-bit ARM, where the time is two 32-bit longs).
func TestReaderDecodesCaptures(t *testing.T) {
	evs := evdevtest.Stroke(79, t0.Add(123456*time.Microsecond)) // KEY_KP1
	for _, size := range []int{16, 24} {
		path := filepath.Join(t.TempDir(), "capture.bin")
		if err := os.WriteFile(path, evdevtest.Bytes(size, evs...), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rd, err := evdev.NewReader(f, size)
		if err != nil {
			t.Fatal(err)
		}
		got, err := rd.Read()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) {
			t.Fatalf("size %d: %d events, want %d", size, len(got), len(evs))
		}
		for i := range got {
			if !got[i].Time.Equal(evs[i].Time) || got[i].Type != evs[i].Type || got[i].Code != evs[i].Code || got[i].Value != evs[i].Value {
				t.Fatalf("size %d, event %d: %+v, want %+v", size, i, got[i], evs[i])
			}
		}
		if _, err := rd.Read(); err != io.EOF {
			t.Fatalf("after the capture: %v, want EOF", err)
		}
	}
	if evdev.NativeSize != 16 && evdev.NativeSize != 24 {
		t.Fatalf("NativeSize %d", evdev.NativeSize)
	}
	if _, err := evdev.NewReader(nil, 20); err == nil {
		t.Fatal("a 20-byte event size was accepted")
	}
}

// A pipe may hand over half an event; the reader waits for the rest.
func TestReaderJoinsSplitEvents(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b := evdevtest.Bytes(24, evdevtest.Stroke(2, t0)...)
	go func() {
		w.Write(b[:30])
		time.Sleep(10 * time.Millisecond)
		w.Write(b[30:])
		w.Close()
	}()
	rd, _ := evdev.NewReader(r, 24)
	var n int
	for {
		evs, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
	}
	if n != 5 {
		t.Fatalf("%d events, want 5", n)
	}
}

type run struct {
	out  chan device.Event
	logs *logs
	dev  *evdevtest.Device
	stop context.CancelFunc
	done chan struct{}
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimSpace(strings.ReplaceAll(f, "%", "")))
	_ = a
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func start(t *testing.T, cfg evdev.Config) *run {
	t.Helper()
	r := &run{out: make(chan device.Event, 16), logs: &logs{}, dev: evdevtest.NewDevice(), done: make(chan struct{})}
	cfg.Path = "/dev/input/by-id/usb-test-event-kbd"
	cfg.Open = r.dev.Open
	cfg.Backoff = time.Millisecond
	cfg.Logf = r.logs.add
	cfg.EventSize = 24
	s, err := evdev.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { s.Run(ctx, r.out); close(r.done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not stop")
		}
	})
	if !r.dev.Opened(5 * time.Second) {
		t.Fatal("the device was not opened")
	}
	return r
}

func (r *run) next(t *testing.T) device.Event {
	t.Helper()
	select {
	case ev := <-r.out:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return device.Event{}
}

func (r *run) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-r.out:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

// A scanner set to Norwegian types '-' with KEY_SLASH and capitals with
// shift; the reference comes out whole, Enter-terminated.
func TestNorwegianScanner(t *testing.T) {
	ref := "OSLO1-2-k7f3-17"
	evs, err := evdevtest.Typing("no", ref, t0, 2*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(evs, func(e evdev.Event) bool { return e.Code == 53 }) ||
		slices.ContainsFunc(evs, func(e evdev.Event) bool { return e.Code == 12 }) {
		t.Fatal("the Norwegian layout did not send KEY_SLASH for '-'")
	}
	r := start(t, evdev.Config{Role: evdev.RoleScanner, Layout: "no"})
	r.dev.Send(24, evs...)
	if ev := r.next(t); ev.Scan != ref || ev.Key != "" || ev.Source != "scanner" || !ev.At.Equal(t0.Add(time.Duration(len(ref))*2*time.Millisecond)) {
		t.Fatalf("scan %+v, want %q at Enter", ev, ref)
	}
	r.none(t)
}

// Read with the wrong layout, the same keystrokes are another code: the
// layout is the scanner's setting, and the config must match it.
func TestLayoutMatters(t *testing.T) {
	evs, _ := evdevtest.Typing("no", "OSLO1-2-k7f3-17", t0, time.Millisecond)
	r := start(t, evdev.Config{Role: evdev.RoleScanner, Layout: "us"})
	r.dev.Send(24, evs...)
	if ev := r.next(t); ev.Scan != "OSLO1/2/k7f3/17" {
		t.Fatalf("scan %q", ev.Scan)
	}
	us, _ := evdevtest.Typing("us", "BERGEN-7-ab12-3", t0, time.Millisecond)
	de, _ := evdevtest.Typing("de", "BERGEN-7-ab12-3", t0, time.Millisecond)
	if slices.Equal(evdevtest.Bytes(24, us...), evdevtest.Bytes(24, de...)) {
		t.Fatal("us and de typed '-' alike")
	}
}

// A half scan (the scanner lost the label) followed by a pause longer
// than the gap is dropped, and the next scan comes out clean.
func TestHalfScanTimesOut(t *testing.T) {
	r := start(t, evdev.Config{Role: evdev.RoleScanner, Layout: "no", ScanGap: 100 * time.Millisecond})
	half, _ := evdevtest.Typing("no", "OSLO1-2-", t0, time.Millisecond)
	half = half[:len(half)-5] // no Enter
	whole, _ := evdevtest.Typing("no", "OSLO1-2-k7f3-17", t0.Add(time.Second), time.Millisecond)
	r.dev.Send(24, append(half, whole...)...)
	if ev := r.next(t); ev.Scan != "OSLO1-2-k7f3-17" {
		t.Fatalf("scan %q", ev.Scan)
	}
	if !strings.Contains(r.logs.String(), "dropped") {
		t.Fatalf("the dropped half scan was not logged: %s", r.logs)
	}
	// A key the layout lacks spoils its code: dropped, not mangled.
	bad := append(evdevtest.Stroke(59, t0.Add(2*time.Second)), evdevtest.Stroke(28, t0.Add(2*time.Second+time.Millisecond))...) // F1, Enter
	r.dev.Send(24, bad...)
	r.none(t)
}

// A USB numeric keypad: each key is a function by the key map; a held
// key's auto-repeat is not a second press.
func TestKeypad(t *testing.T) {
	m, err := device.ParseKeyMap("keypad", evdev.DefaultKeypad())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[uint16]device.Key{}
	for name, k := range m {
		c, err := evdev.Code(name)
		if err != nil {
			t.Fatal(err)
		}
		keys[c] = k
	}
	r := start(t, evdev.Config{Role: evdev.RoleKeypad, Keys: keys})
	var evs []evdev.Event
	for i, name := range []string{"KEY_KP1", "KEY_KP2", "KEY_KP5", "KEY_KPENTER", "KEY_F1"} {
		c, _ := evdev.Code(name)
		evs = append(evs, evdevtest.Stroke(c, t0.Add(time.Duration(i)*100*time.Millisecond))...)
	}
	evs = append(evs, evdev.Event{Time: t0.Add(time.Second), Type: evdev.EvKey, Code: 79, Value: evdev.Repeat})
	r.dev.Send(24, evs...)
	var got []device.Key
	for range 4 {
		ev := r.next(t)
		if ev.Source != "keypad" {
			t.Fatalf("event %+v", ev)
		}
		got = append(got, ev.Key)
	}
	if !slices.Equal(got, []device.Key{"1", "2", "5", "pay"}) {
		t.Fatalf("keys %v", got)
	}
	r.none(t)
}

// Unplugged, the keypad's reader logs it, tries again with backoff, and
// reads the device again once it is back.
func TestUnplugAndReplug(t *testing.T) {
	r := start(t, evdev.Config{Role: evdev.RoleKeypad, Keys: map[uint16]device.Key{79: "1"}})
	r.dev.Send(24, evdevtest.Stroke(79, t0)...)
	r.next(t)
	r.dev.Unplug()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(r.logs.String(), "trying again") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r.dev.Plug()
	if !r.dev.Opened(5 * time.Second) {
		t.Fatalf("not reopened; log:\n%s", r.logs)
	}
	r.dev.Send(24, evdevtest.Stroke(79, t0)...)
	if ev := r.next(t); ev.Key != "1" {
		t.Fatalf("after the replug: %+v", ev)
	}
	log := r.logs.String()
	for _, want := range []string{"waiting for it to come back", "trying again", "back at"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "trying again"); n != 1 {
		t.Errorf("the missing device was logged %d times, want once:\n%s", n, log)
	}
}

// Devices are found by the name the kernel gives them.
func TestFindByName(t *testing.T) {
	sys := t.TempDir()
	for ev, name := range map[string]string{"event3": "Logitech USB Keyboard", "event7": "Honeywell Imaging Scanner"} {
		os.MkdirAll(filepath.Join(sys, ev, "device"), 0o755)
		os.WriteFile(filepath.Join(sys, ev, "device", "name"), []byte(name+"\n"), 0o644)
	}
	os.MkdirAll(filepath.Join(sys, "mouse0"), 0o755)
	p, err := evdev.FindByName(sys, "/dev/input", "Honeywell Imaging Scanner")
	if err != nil || p != "/dev/input/event7" {
		t.Fatalf("%q, %v", p, err)
	}
	_, err = evdev.FindByName(sys, "/dev/input", "Datalogic")
	if err == nil || !strings.Contains(err.Error(), `"Logitech USB Keyboard"`) {
		t.Fatalf("err %v, want the names that are there", err)
	}
}

// The real open refuses what is no input device: the grab fails and says so.
func TestOpenGrabbedRefusesAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "event0")
	os.WriteFile(path, nil, 0o600)
	if _, err := evdev.OpenGrabbed(path); err == nil || !strings.Contains(err.Error(), "grabbing") {
		t.Fatalf("err %v", err)
	}
	if _, err := evdev.OpenGrabbed(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing device opened")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  evdev.Config
		want string
	}{
		{evdev.Config{Role: "scanner"}, "path"},
		{evdev.Config{Path: "/dev/x", Role: "mouse"}, "role"},
		{evdev.Config{Path: "/dev/x", Role: "keypad"}, "key map is empty"},
		{evdev.Config{Path: "/dev/x", Role: "scanner", Layout: "fr"}, "layout"},
	} {
		if _, err := evdev.New(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := evdev.Code("KEY_NOPE"); err == nil {
		t.Error("unknown code accepted")
	}
	if c, err := evdev.Code("kEy_kp1"); err != nil || c != 79 {
		t.Errorf("KEY_KP1: %d %v", c, err)
	}
}
