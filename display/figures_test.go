package display_test

// The display's figures for make bench (issue 10), on a 240×320 ST7789 at
// 32 MHz: bytes come from the panel emulator, which sees every byte the
// driver sends; our own time is measured on a bus that costs nothing, and
// the wire's time is computed from the bytes.

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"kasse/display"
	"kasse/display/mipidbi/dbitest"
	"kasse/display/st7789"
)

const busHz = 32_000_000

func wireMS(bytes int64) float64 { return float64(bytes) * 8 / busHz * 1000 }

// onEmulator is a Panel on an ST7789 driver on the emulator.
func onEmulator(tb testing.TB, opts ...display.Option) (*display.Panel, *dbitest.Panel) {
	tb.Helper()
	emu := dbitest.New(dbitest.ST7789(240, 320, 0, 0))
	o := st7789.DefaultOpts
	o.Sleep = emu.Sleep
	d, err := st7789.New(emu, emu.DC(), emu.RST(), emu.BL(), &o)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := display.NewPanel(d, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return p, emu
}

// sink is an SPI connection that costs nothing, to time our own work.
type sink struct{ n atomic.Int64 }

func (s *sink) String() string                                            { return "sink" }
func (s *sink) Duplex() conn.Duplex                                       { return conn.Half }
func (s *sink) MaxTxSize() int                                            { return 4096 }
func (s *sink) TxPackets(p []spi.Packet) error                            { return nil }
func (s *sink) Tx(w, r []byte) error                                      { s.n.Add(int64(len(w))); return nil }
func (s *sink) Connect(physic.Frequency, spi.Mode, int) (spi.Conn, error) { return s, nil }

func onSink(tb testing.TB) (*display.Panel, *sink) {
	tb.Helper()
	s := &sink{}
	o := st7789.DefaultOpts
	o.Sleep = func(time.Duration) {}
	d, err := st7789.New(s, &gpiotest.Pin{N: "DC"}, nil, nil, &o)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := display.NewPanel(d)
	if err != nil {
		tb.Fatal(err)
	}
	return p, s
}

func show(tb testing.TB, p *display.Panel, s display.Screen) {
	tb.Helper()
	if err := p.Show(s); err != nil {
		tb.Fatal(err)
	}
}

var (
	keyed   = display.Screen{Kind: display.Amount, Amount: "125,00 kr"}
	working = display.Screen{Kind: display.Working, Title: "Creating payment…", Amount: "125,00 kr"}
	qrShown = display.Screen{Kind: display.QR, Amount: "125,00 kr", QR: payURL}
)

// BenchmarkQRScreen: the Pay key on the keyed amount puts up "Creating
// payment…", then the QR. qr_screen_wire_bytes is the QR screen's bytes;
// qr_screen_ms is our work for both screens (render, diff, RGB565) plus
// the wire time of their bytes at 32 MHz; qr_screen_wire_ms that wire time
// alone (the goal: qr_screen_ms ≤ 1.1 × qr_screen_wire_ms).
func BenchmarkQRScreen(b *testing.B) {
	p, emu := onEmulator(b)
	show(b, p, keyed)
	show(b, p, working)
	before := emu.WireBytes()
	show(b, p, qrShown)
	qrBytes := emu.WireBytes() - before
	if err := emu.Err(); err != nil {
		b.Fatal(err)
	}

	ps, s := onSink(b)
	var work time.Duration
	var bytes int64
	for i := 0; i < b.N; i++ {
		show(b, ps, keyed)
		n := s.n.Load()
		start := time.Now()
		show(b, ps, working)
		show(b, ps, qrShown)
		work += time.Since(start)
		bytes += s.n.Load() - n
	}
	wire := wireMS(bytes / int64(b.N))
	b.ReportMetric(float64(qrBytes), "qr_screen_wire_bytes/B")
	b.ReportMetric(wire, "qr_screen_wire_ms/ms")
	b.ReportMetric(float64(work.Microseconds())/1000/float64(b.N)+wire, "qr_screen_ms/ms")
}

// BenchmarkKeyEcho: one digit keyed ("12,50 kr" to "125,00 kr") as a share
// of the bytes of a full frame.
func BenchmarkKeyEcho(b *testing.B) {
	p, emu := onEmulator(b)
	var full, echo int64
	for i := 0; i < b.N; i++ {
		n := emu.WireBytes()
		show(b, p, display.Screen{Kind: display.Idle, Title: "Butikken"})
		if i == 0 {
			full = emu.WireBytes() - n // the first frame goes out whole
		}
		show(b, p, display.Screen{Kind: display.Amount, Amount: "12,50 kr"})
		n = emu.WireBytes()
		show(b, p, keyed)
		echo = emu.WireBytes() - n
	}
	if err := emu.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(100*float64(echo)/float64(full), "key_echo_wire_pct/%")
}

// BenchmarkCountdownTick: the bytes one second of the QR screen's
// countdown sends.
func BenchmarkCountdownTick(b *testing.B) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p, emu := onEmulator(b, display.WithClock(func() time.Time { return now }))
	s := qrShown
	s.Deadline = now.Add(5 * time.Minute)
	show(b, p, s)
	var total int64
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Second)
		n := emu.WireBytes()
		if now.After(s.Deadline) {
			// Run out: a new payment's QR, only its countdown differs.
			s.Deadline = now.Add(5 * time.Minute)
			show(b, p, s)
		} else if err := p.Tick(); err != nil {
			b.Fatal(err)
		}
		total += emu.WireBytes() - n
	}
	if err := emu.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/float64(b.N), "countdown_tick_wire_bytes/B")
}

// BenchmarkTillBlocked: a whole sale's screens handed to the renderer
// while the emulated bus takes its real time at 32 MHz; the figure is the
// longest any Show kept the till waiting.
func BenchmarkTillBlocked(b *testing.B) {
	emu := dbitest.New(dbitest.ST7789(240, 320, 0, 0)).RealTime()
	o := st7789.DefaultOpts
	o.Sleep = emu.Sleep
	d, err := st7789.New(emu, emu.DC(), emu.RST(), emu.BL(), &o)
	if err != nil {
		b.Fatal(err)
	}
	p, err := display.NewPanel(d)
	if err != nil {
		b.Fatal(err)
	}
	a := display.NewAsync(p, b.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx, nil)
	sale := []display.Screen{
		{Kind: display.Idle, Title: "Butikken"},
		{Kind: display.Amount, Amount: "0,01 kr"}, {Kind: display.Amount, Amount: "0,12 kr"},
		{Kind: display.Amount, Amount: "1,25 kr"}, {Kind: display.Amount, Amount: "12,50 kr"},
		keyed, working, qrShown, {Kind: display.Paid, Amount: "125,00 kr"},
	}
	var worst time.Duration
	for i := 0; i < b.N; i++ {
		for _, s := range sale {
			start := time.Now()
			if err := a.Show(s); err != nil {
				b.Fatal(err)
			}
			worst = max(worst, time.Since(start))
			time.Sleep(2 * time.Millisecond) // a cashier's key presses are further apart still
		}
		if err := a.Sync(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := emu.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "till_blocked_by_display_ms/ms")
}
