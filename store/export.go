package store

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sort"
	"strconv"
	"time"
)

// exportColumns is the sale log's header, in order.
func exportColumns() []string {
	return []string{"time", "type", "reference", "store", "lane", "origin_store",
		"amount", "currency", "state", "vipps_state", "printed",
		// Added for distance selling, at the end so readers by position
		// keep working.
		"customer_interaction", "capture_state"}
}

// Row is one line of the sale log: a sale, or a refund (Type "refund", its
// Amount the money given back, OriginStore the store that made the sale).
// Amount is a decimal string with a dot ("125.00"): exact, and read the same
// by people and spreadsheets.
type Row struct {
	Time        string `json:"time"` // RFC 3339, UTC
	Type        string `json:"type"` // sale | refund
	Reference   string `json:"reference"`
	Store       string `json:"store"`
	Lane        string `json:"lane"`
	OriginStore string `json:"origin_store"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	State       string `json:"state"`
	VippsState  string `json:"vipps_state,omitempty"`
	Printed     *bool  `json:"printed,omitempty"` // sales only
	Cashier     string `json:"cashier,omitempty"` // sales only: who was logged in (JSON formats)
	// Interaction is the payment situation of a sale, as Vipps names it:
	// CUSTOMER_PRESENT at the till, CUSTOMER_NOT_PRESENT for a remote
	// order (distance selling); empty for refunds.
	Interaction string `json:"customer_interaction,omitempty"`
	// Capture is where a sale's money stands: captured, reserved (approved,
	// not yet captured: a remote order waiting for dispatch), released (a
	// reservation cancelled) or none; empty for refunds.
	Capture string `json:"capture_state,omitempty"`

	at time.Time // Time, for ordering (RFC 3339 strings do not sort as times)
}

// Row.Type values.
const (
	RowSale   = "sale"
	RowRefund = "refund"
)

// The payment situations of Row.Interaction (ePayment's customerInteraction).
const (
	CustomerPresent    = "CUSTOMER_PRESENT"
	CustomerNotPresent = "CUSTOMER_NOT_PRESENT"
)

// Row.Capture values.
const (
	CaptureNone     = "none"
	CaptureReserved = "reserved"
	CaptureCaptured = "captured"
	CaptureReleased = "released"
)

func saleRow(s Sale) Row {
	printed := s.Printed
	return Row{Time: exportTime(s.Created), Type: RowSale, Reference: s.Reference, Store: s.Store,
		Lane: s.Lane, OriginStore: s.Store, Amount: decimal(s.Amount.Value), Currency: s.Amount.Currency,
		State: s.State, VippsState: s.VippsState, Printed: &printed, Cashier: s.Cashier,
		Interaction: s.Interaction(), Capture: s.CaptureState(), at: s.Created}
}

// Interaction is the sale's payment situation as Vipps names it.
func (s Sale) Interaction() string {
	if s.Remote {
		return CustomerNotPresent
	}
	return CustomerPresent
}

// CaptureState says where the sale's money stands (see Row.Capture).
func (s Sale) CaptureState() string {
	switch {
	case s.State == StateCaptured:
		return CaptureCaptured
	case s.State == StateAuthorized:
		return CaptureReserved
	case !s.Authorized.IsZero():
		return CaptureReleased
	}
	return CaptureNone
}

func refundRow(r Refund) Row {
	return Row{Time: exportTime(r.Created), Type: RowRefund, Reference: r.Reference, Store: r.Store,
		Lane: r.Lane, OriginStore: r.OriginStore, Amount: decimal(r.Amount.Value), Currency: r.Amount.Currency,
		State: r.State, at: r.Created}
}

func exportTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func decimal(minor int64) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", -u // two's complement: right for MinInt64 too
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// RowWriter writes the sale log in one format.
type RowWriter struct {
	write func(Row) error
	flush func() error
}

// NewRowWriter writes rows to w as "json" (JSON Lines: one object per row,
// so a reader can stream) or "csv" (a header row first).
func NewRowWriter(format string, w io.Writer) (*RowWriter, error) {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		return &RowWriter{write: func(r Row) error { return enc.Encode(r) }, flush: func() error { return nil }}, nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(exportColumns()); err != nil {
			return nil, err
		}
		return &RowWriter{write: func(r Row) error {
			printed := ""
			if r.Printed != nil {
				printed = strconv.FormatBool(*r.Printed)
			}
			return cw.Write([]string{r.Time, r.Type, r.Reference, r.Store, r.Lane, r.OriginStore,
				r.Amount, r.Currency, r.State, r.VippsState, printed, r.Interaction, r.Capture})
		}, flush: func() error { cw.Flush(); return cw.Error() }}, nil
	}
	return nil, fmt.Errorf("export format %q is not known: use json or csv", format)
}

// Write writes one row.
func (w *RowWriter) Write(r Row) error { return w.write(r) }

// Flush writes what is buffered; call it after the last row.
func (w *RowWriter) Flush() error { return w.flush() }

// Export writes the sale log that distance selling needs: one row per sale
// and per refund that f selects, in time order, as "json" (JSON Lines) or
// "csv" (with a header row). It returns the rows written.
func (db *DB) Export(f Filter, format string, w io.Writer) (rows int, err error) {
	out, err := NewRowWriter(format, w)
	if err != nil {
		return 0, err
	}
	err = db.Rows(f, func(r Row) error { rows++; return out.Write(r) })
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		return rows, fmt.Errorf("exporting the sale log of %s: %w", db.path, err)
	}
	return rows, nil
}

// Rows calls fn for every sale and refund f selects, in time order (a sale
// before a refund at the same instant), stopping at fn's first error. A
// refund matches f.Store when it was made at or for that store.
func (db *DB) Rows(f Filter, fn func(Row) error) error {
	var refunds []Refund
	err := db.Refunds(f, func(r Refund) error { refunds = append(refunds, r); return nil })
	if err != nil {
		return err
	}
	// Refunds are few: hold them and merge them in by time as sales stream.
	m := refundMerge{fn: fn}
	for _, r := range refunds {
		m.held = append(m.held, refundRow(r))
	}
	rel := db.newRelease()
	err = db.Journal(f, func(s Sale) error { rel.tick(); return m.sale(saleRow(s)) })
	if err != nil {
		return err
	}
	return m.rest()
}

// refundMerge merges held refund rows (in time order) into a stream of sale
// rows in time order.
type refundMerge struct {
	held []Row
	fn   func(Row) error
}

func (m *refundMerge) sale(s Row) error {
	for len(m.held) > 0 && m.held[0].at.Before(s.at) {
		if err := m.fn(m.held[0]); err != nil {
			return err
		}
		m.held = m.held[1:]
	}
	return m.fn(s)
}

func (m *refundMerge) rest() error {
	for _, r := range m.held {
		if err := m.fn(r); err != nil {
			return err
		}
	}
	m.held = nil
	return nil
}

// ExportArchive writes the rows of an archive (see Archive) that f selects,
// like Export.
func ExportArchive(r io.Reader, f Filter, format string, w io.Writer) (rows int, err error) {
	out, err := NewRowWriter(format, w)
	if err != nil {
		return 0, err
	}
	err = ArchiveRows(r, f, func(r Row) error { rows++; return out.Write(r) })
	if err == nil {
		err = out.Flush()
	}
	return rows, err
}

// ArchiveRows calls fn for the rows of an archive (see Archive) that f
// selects, in time order like Rows: a sale's refunds are held until the
// sales made before them have passed.
func ArchiveRows(r io.Reader, f Filter, fn func(Row) error) error {
	m := refundMerge{fn: fn}
	err := readArchive(r, func(a archived) error {
		if f.match(a.Sale.Created, a.Sale.Store) {
			if err := m.sale(saleRow(a.Sale)); err != nil {
				return err
			}
		}
		for _, rf := range a.Refunds {
			if f.match(rf.Created, rf.Store) || f.match(rf.Created, rf.OriginStore) {
				m.hold(refundRow(rf))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.rest()
}

// hold adds a refund row, keeping the held rows in time order.
func (m *refundMerge) hold(r Row) {
	i := sort.Search(len(m.held), func(i int) bool { return r.at.Before(m.held[i].at) })
	m.held = slices.Insert(m.held, i, r)
}

// MergeRows calls fn for the rows of every source (each in time order) in
// time order overall, stopping at the first error; at the same instant the
// earlier source goes first. A source calls its argument for each of its
// rows and stops when it returns an error. The archives and the live
// database are such sources: an archive may hold sales older than another
// archive's, or than sales still in the database (a sale stays until its
// work is done), so only a merge keeps one time order.
func MergeRows(sources []func(func(Row) error) error, fn func(Row) error) (err error) {
	type head struct {
		next func() (Row, bool)
		row  Row
	}
	var heads []*head
	var errs []*error
	for _, src := range sources {
		var srcErr error
		errs = append(errs, &srcErr)
		next, stop := iter.Pull(func(yield func(Row) bool) {
			srcErr = src(func(r Row) error {
				if !yield(r) {
					return errStopped
				}
				return nil
			})
		})
		defer stop()
		if r, ok := next(); ok {
			heads = append(heads, &head{next, r})
		}
	}
	check := func() error {
		for _, e := range errs {
			if *e != nil && !errors.Is(*e, errStopped) {
				return *e
			}
		}
		return nil
	}
	for len(heads) > 0 {
		if err := check(); err != nil {
			return err
		}
		first := 0
		for i, h := range heads {
			if h.row.at.Before(heads[first].row.at) {
				first = i
			}
		}
		h := heads[first]
		if err := fn(h.row); err != nil {
			return err
		}
		if r, ok := h.next(); ok {
			h.row = r
		} else {
			heads = slices.Delete(heads, first, first+1)
		}
	}
	return check()
}

var errStopped = errors.New("stopped")

func (f Filter) match(t time.Time, store string) bool {
	return (f.Since.IsZero() || !t.Before(f.Since)) && (f.Until.IsZero() || t.Before(f.Until)) &&
		(f.Store == "" || store == f.Store)
}
