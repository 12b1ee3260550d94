package main

import (
	"context"
	"fmt"
	"time"

	"kasse/cmd/internal/config"
	"kasse/cmd/internal/control"
	"kasse/journal/report"
	"kasse/printer"
	"kasse/store"
	"kasse/till"
)

// reports makes X and Z reports from the journal, journals them and
// prints them on the receipt printer, for the till's keys and the control
// socket alike.
type reports struct {
	db      *store.DB
	printer *printer.Printer
	header  report.Header
	cols    int
	logf    func(string, ...any)
}

func newReports(cfg config.Config, db *store.DB, p *printer.Printer, logf func(string, ...any)) *reports {
	return &reports{db: db, printer: p, cols: cfg.Printer.Columns, logf: logf,
		header: report.Header{Company: cfg.Store.Name, Org: cfg.Store.OrgNumber, Store: cfg.Store.Prefix,
			Lane: cfg.Store.Lane, Currency: cfg.Vipps.Currency, Group: cfg.Vipps.PaymentDescription}}
}

// make makes, journals and prints a report taken by cashier. The report is
// journaled before it prints: one that did not print is kept and prints
// again with kassectl report z --print N.
func (r *reports) make(kind, cashier string) (control.ReportReply, error) {
	h := r.header
	h.Cashier = cashier
	var (
		rep report.Report
		e   store.Entry
		err error
	)
	switch kind {
	case report.KindZ:
		rep, e, err = report.Z(r.db, h)
	case report.KindX:
		rep, e, err = report.X(r.db, h, time.Now())
	default:
		err = fmt.Errorf("report kind %q: use X or Z", kind)
	}
	if err != nil {
		return control.ReportReply{}, err
	}
	out := control.ReportReply{Report: rep, Seq: e.Seq}
	r.print(&out)
	return out, nil
}

func (r *reports) print(out *control.ReportReply) {
	name := out.Report.Kind + "-rapport"
	if out.Report.Kind == report.KindZ {
		name = fmt.Sprintf("Z-rapport %d", out.Report.Z)
	}
	data, err := report.Encode(out.Report, r.cols)
	if err == nil {
		err = r.printer.Write(name, data)
	}
	if err != nil {
		out.PrintError = err.Error()
		r.logf("error: %s is in the journal but did not print: %v", name, err)
		return
	}
	out.Printed = true
	r.logf("%s printed", name)
}

// Make is the control socket's: a report nobody at the till took.
func (r *reports) Make(_ context.Context, kind string) (control.ReportReply, error) {
	return r.make(kind, "")
}

// Reprint prints Z report z again from the journal, and journals that it
// did (event 13018, other reports).
func (r *reports) Reprint(_ context.Context, z uint64) (control.ReportReply, error) {
	rep, e, err := report.FindZ(r.db, r.header.Store, r.header.Lane, z)
	if err != nil {
		return control.ReportReply{}, err
	}
	out := control.ReportReply{Report: rep, Seq: e.Seq}
	r.print(&out)
	if out.Printed {
		// Not Trans: SAF-T writes it as the event's transID, which names
		// a cash transaction, and a Z report is an event.
		if _, err := r.db.Record(store.Entry{Code: store.EventOtherReport, Store: r.header.Store, Lane: r.header.Lane,
			Text: fmt.Sprintf("Z-rapport nr %d (journal %d) skrevet ut på nytt", z, e.Seq)}); err != nil {
			r.logf("error: %v", err)
		}
	}
	return out, nil
}

// tillReports is reports for the till's keys.
type tillReports struct{ r *reports }

func (t tillReports) Report(_ context.Context, kind, cashier string) (till.ReportResult, error) {
	out, err := t.r.make(kind, cashier)
	return till.ReportResult{Z: out.Report.Z, Printed: out.Printed, PrintError: out.PrintError}, err
}
