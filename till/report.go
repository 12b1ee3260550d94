package till

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"kasse/device"
	"kasse/display"
)

// Reports makes, journals and prints X and Z reports (kassasystemforskriften
// §§ 2-8-2, 2-8-3). The till calls it off its goroutine: printing waits
// for the printer, and the till never does.
type Reports interface {
	// Report makes a report of kind ReportX or ReportZ taken by cashier.
	// A report made but not printed returns its number with Printed false
	// and PrintError saying why; err is for a report that was not made.
	Report(ctx context.Context, kind, cashier string) (ReportResult, error)
}

// Report kinds.
const (
	ReportX = "X"
	ReportZ = "Z"
)

// ReportResult is what the till tells the cashier of a report.
type ReportResult struct {
	Z          uint64 // a Z report's number
	Printed    bool
	PrintError string
}

// Report states of the till.
const (
	StateReportPIN = "report-pin" // a supervisor keys their PIN to take the Z report
	StateReporting = "reporting"  // the report is being made and printed
)

// EventReportPINRefused is a wrong supervisor PIN for a Z report.
const EventReportPINRefused = "report-pin-refused"

// startReport begins an X report (a cashier's) or a Z report (a
// supervisor's PIN first, when cashiers log in).
func (t *Till) startReport(kind string) error {
	if t.cfg.Reports == nil {
		return errors.New("this till makes no reports")
	}
	if t.loginRequired() && t.cashier == "" {
		return errors.New("log in first: a report is taken by a cashier")
	}
	t.engine.Dismiss()
	t.digits, t.lastErr = "", ""
	if kind == ReportZ && t.loginRequired() {
		if !t.cfg.PINs.Supervisors() {
			err := errors.New("The Z report needs a supervisor's PIN, and none is configured: add a cashier with supervisor = true to [[keys.cashiers]], or run kassectl report z.")
			t.done(display.Screen{Kind: display.Error, Title: "Z-rapport", Message: err.Error()})
			return err
		}
		if left := t.noRefund.Sub(t.cfg.Now()); left > 0 {
			err := fmt.Errorf("Supervisor PINs are locked for %d s after %d wrong ones.", int(left.Seconds()+0.999), t.cfg.RefundTries)
			t.done(display.Screen{Kind: display.Error, Title: "Z-rapport", Message: err.Error()})
			return err
		}
		t.state, t.pin = StateReportPIN, ""
		t.showReportPIN("")
		return nil
	}
	t.runReport(kind, t.cashier)
	return nil
}

func (t *Till) showReportPIN(problem string) {
	msg := "Z-rapport closes the day. Supervisor: key your PIN, then pay; cancel goes back."
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Supervisor PIN", Amount: strings.Repeat("•", len(t.pin)), Message: msg})
}

// reportPINKey takes the supervisor's PIN for a Z report. Wrong PINs
// count with the refunds' (one supervisor PIN, one lockout).
func (t *Till) reportPINKey(k device.Key) error {
	return t.supervisorKey(k, supervisorAsk{
		show:    t.showReportPIN,
		refused: EventReportPINRefused,
		what:    "Z report",
		usage:   "a supervisor keys their PIN and pay, or cancel",
		cancel:  t.idle,
		approve: func(who string) error {
			t.record(EventReportApproved, who, "Z report at the till of cashier "+t.cashier)
			t.runReport(ReportZ, who)
			return nil
		},
		locked: func() (string, string) {
			return "Z-rapport", fmt.Sprintf("Supervisor PINs are locked for %v after %d wrong ones.", t.cfg.RefundLockout, t.cfg.RefundTries)
		},
	})
}

// EventReportApproved is a supervisor's PIN taking a Z report.
const EventReportApproved = "report-approved"

// runReport hands the report to Reports on its own goroutine; its result
// comes back to the loop.
func (t *Till) runReport(kind, who string) {
	t.state = StateReporting
	t.show(display.Screen{Kind: display.Working, Title: kind + "-rapport", Message: "The report is being made and printed."})
	ctx := t.ctx
	go func() {
		res, err := t.cfg.Reports.Report(ctx, kind, who)
		select {
		case t.calls <- func() { t.reportDone(kind, res, err) }:
		case <-ctx.Done():
		}
	}()
}

// reportDone shows the report's outcome; a report not printed is in the
// journal and prints again with kassectl report z --print N.
func (t *Till) reportDone(kind string, res ReportResult, err error) {
	if t.state != StateReporting {
		return
	}
	title := kind + "-rapport"
	if kind == ReportZ && res.Z != 0 {
		title = fmt.Sprintf("Z-rapport nr %d", res.Z)
	}
	switch {
	case err != nil:
		t.lastErr = fmt.Sprintf("%s: %v", title, err)
		t.cfg.Logf("error: %s", t.lastErr)
		t.done(display.Screen{Kind: display.Error, Title: title, Message: "The report could not be made: " + err.Error()})
	case !res.Printed:
		again := "take a new X report"
		if kind == ReportZ {
			again = fmt.Sprintf("kassectl report z --print %d", res.Z)
		}
		t.lastErr = fmt.Sprintf("%s is in the journal but not printed: %s; print it with %s", title, res.PrintError, again)
		t.cfg.Logf("error: %s", t.lastErr)
		t.done(display.Screen{Kind: display.Error, Title: title + " ikke skrevet ut",
			Message: "The report is saved, not printed: check the printer, then " + again + "."})
	default:
		t.cfg.Logf("%s printed", title)
		msg := "X-rapport skrevet ut"
		if kind == ReportZ {
			msg = title + " skrevet ut"
		}
		t.done(display.Screen{Kind: display.Amount, Title: title, Message: msg})
	}
}
