package store

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// exportColumns is the sale log's header, in order.
func exportColumns() []string {
	return []string{"time", "type", "reference", "store", "lane", "origin_store",
		"amount", "currency", "state", "vipps_state", "printed"}
}

// exportRow is one line of the sale log. Amount is a decimal string with a
// dot ("125.00"): exact, and read the same by people and spreadsheets.
type exportRow struct {
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
}

func saleRow(s Sale) exportRow {
	printed := s.Printed
	return exportRow{Time: exportTime(s.Created), Type: "sale", Reference: s.Reference, Store: s.Store,
		Lane: s.Lane, OriginStore: s.Store, Amount: decimal(s.Amount.Value), Currency: s.Amount.Currency,
		State: s.State, VippsState: s.VippsState, Printed: &printed}
}

func refundRow(r Refund) exportRow {
	return exportRow{Time: exportTime(r.Created), Type: "refund", Reference: r.Reference, Store: r.Store,
		Lane: r.Lane, OriginStore: r.OriginStore, Amount: decimal(r.Amount.Value), Currency: r.Amount.Currency,
		State: r.State}
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

// rowWriter writes the sale log in one format.
type rowWriter interface {
	write(exportRow) error
	flush() error
}

func newRowWriter(format string, w io.Writer) (rowWriter, error) {
	switch format {
	case "json":
		return jsonRows{json.NewEncoder(w)}, nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(exportColumns()); err != nil {
			return nil, err
		}
		return csvRows{cw}, nil
	}
	return nil, fmt.Errorf("export format %q is not known: use json or csv", format)
}

// jsonRows writes JSON Lines: one object per row, so a reader can stream.
type jsonRows struct{ enc *json.Encoder }

func (j jsonRows) write(r exportRow) error { return j.enc.Encode(r) }
func (j jsonRows) flush() error            { return nil }

type csvRows struct{ w *csv.Writer }

func (c csvRows) write(r exportRow) error {
	printed := ""
	if r.Printed != nil {
		printed = strconv.FormatBool(*r.Printed)
	}
	return c.w.Write([]string{r.Time, r.Type, r.Reference, r.Store, r.Lane, r.OriginStore,
		r.Amount, r.Currency, r.State, r.VippsState, printed})
}

func (c csvRows) flush() error { c.w.Flush(); return c.w.Error() }

// Export writes the sale log that distance selling needs: one row per sale
// and per refund that f selects, in time order, as "json" (JSON Lines) or
// "csv" (with a header row). A refund matches f.Store when it was made at or
// for that store, and carries its origin store. It returns the rows written.
func (db *DB) Export(f Filter, format string, w io.Writer) (rows int, err error) {
	out, err := newRowWriter(format, w)
	if err != nil {
		return 0, err
	}
	var refunds []Refund
	err = db.Refunds(f, func(r Refund) error { refunds = append(refunds, r); return nil })
	if err != nil {
		return 0, err
	}
	// Refunds are few: hold them and merge them in by time as sales stream.
	emitBefore := func(t time.Time, all bool) error {
		for len(refunds) > 0 && (all || refunds[0].Created.Before(t)) {
			if err := out.write(refundRow(refunds[0])); err != nil {
				return err
			}
			rows++
			refunds = refunds[1:]
		}
		return nil
	}
	err = db.Journal(f, func(s Sale) error {
		if err := emitBefore(s.Created, false); err != nil {
			return err
		}
		rows++
		return out.write(saleRow(s))
	})
	if err == nil {
		err = emitBefore(time.Time{}, true)
	}
	if err == nil {
		err = out.flush()
	}
	if err != nil {
		return rows, fmt.Errorf("exporting the sale log of %s: %w", db.path, err)
	}
	return rows, nil
}

// ExportArchive writes the rows of an archive (see Archive) that f selects,
// like Export. Each sale's refunds follow it.
func ExportArchive(r io.Reader, f Filter, format string, w io.Writer) (rows int, err error) {
	out, err := newRowWriter(format, w)
	if err != nil {
		return 0, err
	}
	err = readArchive(r, func(a archived) error {
		if f.match(a.Sale.Created, a.Sale.Store) {
			if err := out.write(saleRow(a.Sale)); err != nil {
				return err
			}
			rows++
		}
		for _, rf := range a.Refunds {
			if f.match(rf.Created, rf.Store) || f.match(rf.Created, rf.OriginStore) {
				if err := out.write(refundRow(rf)); err != nil {
					return err
				}
				rows++
			}
		}
		return nil
	})
	if err == nil {
		err = out.flush()
	}
	return rows, err
}

func (f Filter) match(t time.Time, store string) bool {
	return (f.Since.IsZero() || !t.Before(f.Since)) && (f.Until.IsZero() || t.Before(f.Until)) &&
		(f.Store == "" || store == f.Store)
}
