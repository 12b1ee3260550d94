package printer_test

import (
	"slices"
	"testing"
	"time"

	"kasse/printer"
	"kasse/printer/escpos"
	"kasse/printer/printertest"
)

// BenchmarkPaperOutDetect measures the time from the printer reporting paper
// end (the emulator sends its Automatic Status Back packet) to the Printer
// knowing it (its condition says paper_out), with no job running: what the
// cashier's banner waits for. Without ASB the idle poll (printer.Config.Poll,
// 2 s by default) bounds it instead.
func BenchmarkPaperOutDetect(b *testing.B) {
	fake := printertest.NewPTY(b)
	seen := make(chan printer.Condition, 16)
	p := printer.New(printer.Serial{Path: fake.Path(), Baud: 19200}.Open, printer.Config{ASB: true, PaperCheck: true,
		Notify: func(c printer.Condition) {
			select {
			case seen <- c:
			default:
			}
		}})
	b.Cleanup(func() { p.Close() })
	if err := p.Print(sale()); err != nil { // opens the port, turns ASB on
		b.Fatal(err)
	}
	wait := func(state string) {
		for p.Condition().State != state {
			select {
			case <-seen:
			case <-time.After(5 * time.Second):
				b.Fatalf("no %s", state)
			}
		}
	}
	var d []time.Duration
	for b.Loop() {
		start := time.Now()
		fake.SetPaper(escpos.PaperOut)
		wait(printer.StatePaperOut)
		d = append(d, time.Since(start))
		fake.SetPaper(escpos.PaperOK)
		wait(printer.StateOK)
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2])/1e6, "paper_out_detect_ms/ms")
	b.ReportMetric(float64(d[len(d)*99/100])/1e6, "paper_out_detect_p99_ms/ms")
}
