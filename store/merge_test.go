package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMergeRowsKeepsOneTimeOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	row := func(name string, minutes int) Row {
		return Row{Reference: name, at: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	source := func(rows ...Row) func(func(Row) error) error {
		return func(fn func(Row) error) error {
			for _, r := range rows {
				if err := fn(r); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// An archive holding a sale younger than a live one, and a tie.
	sources := []func(func(Row) error) error{
		source(row("a1", 0), row("a2", 30), row("a3", 60)),
		source(),
		source(row("b1", 10), row("b2", 30), row("b3", 90)),
	}
	var got []string
	if err := MergeRows(sources, func(r Row) error { got = append(got, r.Reference); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := "a1 b1 a2 b2 a3 b3"; strings.Join(got, " ") != want {
		t.Errorf("merged %v, want %s", got, want)
	}

	// fn's error stops the merge and comes back; a source's error too.
	stop := errors.New("enough")
	n := 0
	err := MergeRows(sources, func(Row) error { n++; return map[bool]error{true: stop}[n == 2] })
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("stopping after 2 rows: %v after %d rows", err, n)
	}
	broken := errors.New("archive cut short")
	err = MergeRows([]func(func(Row) error) error{
		source(row("a1", 0)),
		func(fn func(Row) error) error { _ = fn(row("x", 5)); return broken },
	}, func(Row) error { return nil })
	if !errors.Is(err, broken) {
		t.Errorf("a source's error: %v", err)
	}
}
