package button

import (
	"context"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"kasse/device"
)

type rig struct {
	pins map[string]*gpiotest.Pin
	out  chan device.Event
	stop context.CancelFunc
	done chan struct{}
}

func start(t *testing.T, pull gpio.Pull, keys device.KeyMap) *rig {
	t.Helper()
	r := &rig{pins: map[string]*gpiotest.Pin{}, out: make(chan device.Event, 16), done: make(chan struct{})}
	for n := range keys {
		r.pins[n] = &gpiotest.Pin{N: n, EdgesChan: make(chan gpio.Level, 32)}
	}
	b, err := Open(Config{Keys: keys, Pull: pull, Debounce: 15 * time.Millisecond, Wait: 20 * time.Millisecond},
		func(n string) Pin {
			if p, ok := r.pins[n]; ok {
				return p
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { b.Run(ctx, r.out); close(r.done) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// edges plays levels on a pin as its contacts make them, bounces included.
func (r *rig) edges(pin string, levels ...gpio.Level) {
	for _, l := range levels {
		r.pins[pin].EdgesChan <- l
	}
}

func (r *rig) expect(t *testing.T, want ...device.Key) {
	t.Helper()
	for _, k := range want {
		select {
		case ev := <-r.out:
			if ev.Key != k || ev.Source != "gpio" || ev.At.IsZero() {
				t.Fatalf("event %+v, want key %q", ev, k)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event, want key %q", k)
		}
	}
	select {
	case ev := <-r.out:
		t.Fatalf("extra event %+v", ev)
	case <-time.After(100 * time.Millisecond): // several debounce windows
	}
}

const L, H = gpio.Low, gpio.High

func TestPressWithBounceIsOneKey(t *testing.T) {
	r := start(t, gpio.PullUp, device.KeyMap{"GPIO17": device.KeyPay, "GPIO27": device.KeyCancel})
	r.edges("GPIO17", L, H, L, H, L) // contacts bounce, settle closed
	r.expect(t, device.KeyPay)
	r.edges("GPIO17", H, L, H) // release bounces too: no key
	r.expect(t)
	r.edges("GPIO27", L)
	r.expect(t, device.KeyCancel)
	r.edges("GPIO27", H)
	r.edges("GPIO17", L, H, L)
	r.expect(t, device.KeyPay)
}

// A spike that ends where it started (noise on a long wire) is no press.
func TestGlitchIsNoKey(t *testing.T) {
	r := start(t, gpio.PullUp, device.KeyMap{"GPIO17": device.KeyPay})
	r.edges("GPIO17", L, H)
	r.expect(t)
}

// With a pull-down, the button pulls the pin high: high is pressed.
func TestPullDown(t *testing.T) {
	r := start(t, gpio.PullDown, device.KeyMap{"GPIO5": device.Key1})
	r.edges("GPIO5", H, L, H)
	r.expect(t, device.Key1)
	r.edges("GPIO5", L)
	r.expect(t)
}

// Holding a key is one press; two keys held together are two presses.
func TestTwoButtonsAtOnce(t *testing.T) {
	r := start(t, gpio.PullUp, device.KeyMap{"GPIO17": device.KeyPay, "GPIO27": device.KeyCancel})
	r.edges("GPIO17", L)
	r.edges("GPIO27", L, H, L)
	got := map[device.Key]bool{}
	for range 2 {
		select {
		case ev := <-r.out:
			got[ev.Key] = true
		case <-time.After(5 * time.Second):
			t.Fatal("missing a press")
		}
	}
	if !got[device.KeyPay] || !got[device.KeyCancel] {
		t.Fatalf("presses %v", got)
	}
	r.expect(t)
}

func TestUnknownPinNamesTheFix(t *testing.T) {
	_, err := Open(Config{Keys: device.KeyMap{"GPIO99": device.KeyPay}}, func(string) Pin { return nil })
	if err == nil || !strings.Contains(err.Error(), `"GPIO99"`) || !strings.Contains(err.Error(), "gpio group") {
		t.Fatalf("err %v", err)
	}
	if _, err := Open(Config{}, func(string) Pin { return nil }); err == nil {
		t.Fatal("no pins accepted")
	}
}

// Run ends soon after its context, though WaitForEdge never returns true:
// it only ever waits a finite time.
func TestStops(t *testing.T) {
	r := start(t, gpio.PullUp, device.KeyMap{"GPIO17": device.KeyPay})
	r.stop()
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
