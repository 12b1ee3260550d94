package till

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kasse/display"
)

// fakeReports blocks each report until the test answers it.
type fakeReports struct {
	asked  chan [2]string // kind, cashier
	answer chan ReportResult
}

func (f *fakeReports) Report(ctx context.Context, kind, cashier string) (ReportResult, error) {
	f.asked <- [2]string{kind, cashier}
	res := <-f.answer
	if res.PrintError == "fail" {
		return res, errors.New("the journal is full")
	}
	return res, nil
}

func reportTill(t *testing.T) (*Till, *fakeReports, *fakeScreen, *fakeJournal) {
	now := time.Date(2026, 11, 21, 22, 0, 0, 0, time.UTC)
	tl, _, s, j := tillAt(StateIdle, true, func() time.Time { return now })
	f := &fakeReports{asked: make(chan [2]string, 1), answer: make(chan ReportResult)}
	tl.cfg.Reports = f
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tl.ctx = ctx
	return tl, f, s, j
}

// finish answers the report on its goroutine and runs what it hands the
// loop, as Run does.
func finish(t *testing.T, tl *Till, f *fakeReports, res ReportResult) {
	t.Helper()
	f.answer <- res
	select {
	case fn := <-tl.calls:
		fn()
	case <-time.After(10 * time.Second):
		t.Fatal("the report's outcome never came back to the loop")
	}
}

// X: the logged-in cashier's, at once; the till takes keys (refusing them)
// while the report prints, and shows the outcome.
func TestXReportOffTheLoop(t *testing.T) {
	tl, f, s, _ := reportTill(t)
	if err := press(t, tl, "xreport"); err != nil {
		t.Fatal(err)
	}
	if got := <-f.asked; got != [2]string{ReportX, "1"} {
		t.Fatalf("asked for %v, want an X report by cashier 1", got)
	}
	if tl.state != StateReporting {
		t.Fatalf("state %s while the report prints", tl.state)
	}
	// The loop is free: a key is answered while the report waits.
	if err := press(t, tl, "5"); err == nil || !strings.Contains(err.Error(), "report") {
		t.Fatalf("a key while the report prints: %v", err)
	}
	finish(t, tl, f, ReportResult{Printed: true})
	if tl.state != StateDone || s.last.Message != "X-rapport skrevet ut" {
		t.Fatalf("after the X report: %s, %+v", tl.state, s.last)
	}
}

// Z: a supervisor's PIN first; a wrong one is journaled and refused, and
// the till says the report's number, or that it did not print and how to
// print it again.
func TestZReportNeedsTheSupervisor(t *testing.T) {
	tl, f, s, j := reportTill(t)
	if err := press(t, tl, "zreport"); err != nil || tl.state != StateReportPIN {
		t.Fatalf("zreport: %v, state %s", err, tl.state)
	}
	if err := press(t, tl, "1", "1", "1", "1", "pay"); err == nil || tl.state != StateReportPIN {
		t.Fatalf("a cashier's PIN took the Z report: %v, %s", err, tl.state)
	}
	select {
	case got := <-f.asked:
		t.Fatalf("a report was made with a wrong PIN: %v", got)
	default:
	}
	if err := press(t, tl, "9", "9", "9", "9", "pay"); err != nil {
		t.Fatal(err)
	}
	if got := <-f.asked; got != [2]string{ReportZ, "9"} {
		t.Fatalf("asked for %v, want a Z report by supervisor 9", got)
	}
	finish(t, tl, f, ReportResult{Z: 12, Printed: true})
	if tl.state != StateDone || s.last.Title != "Z-rapport nr 12" || s.last.Message != "Z-rapport nr 12 skrevet ut" {
		t.Fatalf("after the Z report: %s, %+v", tl.state, s.last)
	}
	kinds := strings.Join(j.kinds(), " ")
	if kinds != EventReportPINRefused+" "+EventReportApproved {
		t.Fatalf("events %s", kinds)
	}

	// Not printed: saved, and the way to print it again.
	press(t, tl, "zreport", "9", "9", "9", "9", "pay")
	<-f.asked
	finish(t, tl, f, ReportResult{Z: 13, PrintError: "paper out"})
	if s.last.Kind != display.Error || !strings.Contains(tl.lastErr, "kassectl report z --print 13") {
		t.Fatalf("a Z report not printed: %+v, %q", s.last, tl.lastErr)
	}
	// Not made at all.
	press(t, tl, "xreport")
	<-f.asked
	finish(t, tl, f, ReportResult{PrintError: "fail"})
	if s.last.Kind != display.Error || !strings.Contains(s.last.Message, "could not be made") {
		t.Fatalf("a report not made: %+v", s.last)
	}
	// Cancel leaves the PIN prompt without a report.
	press(t, tl, "clear", "zreport", "cancel")
	if tl.state != StateIdle {
		t.Fatalf("cancel at the PIN: %s", tl.state)
	}
	// Nobody logged in: no report.
	tl.toLogin("")
	if err := press(t, tl, "xreport"); err == nil {
		t.Fatal("an X report with nobody logged in")
	}
}
