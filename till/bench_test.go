package till

import (
	"context"
	"slices"
	"testing"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/payment"
)

// signalScreen tells the benchmark when the till has drawn.
type signalScreen struct{ shown chan display.Kind }

func (s signalScreen) Show(sc display.Screen) error { s.shown <- sc.Kind; return nil }

// key_to_state_us: a key event from a source (as the GPIO, matrix or evdev
// driver sends it) to the till's state change and its screen, through the
// running till's loop. Keys alternate 5 (idle → keying) and clear
// (keying → idle), so every key changes the state.
func BenchmarkKeyToState(b *testing.B) {
	s := signalScreen{shown: make(chan display.Kind, 4)}
	tl := New(Config{Store: "OSLO1", Lane: "2", Currency: "NOK"}, &fakeEngine{status: payment.Status{Online: true}}, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tl.Run(ctx)
	for len(s.shown) > 0 || tl.Status().State != StateIdle {
		select {
		case <-s.shown:
		case <-time.After(time.Millisecond):
		}
	}
	for len(s.shown) > 0 {
		<-s.shown
	}
	var d []time.Duration
	keys := []device.Key{device.Key5, device.KeyClear}
	in := tl.Input()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		in <- device.Event{Key: keys[i%2], Source: "bench", At: start}
		<-s.shown
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1000, "key_to_state_us/us")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1000, "key_to_state_p99_us/us")
}
