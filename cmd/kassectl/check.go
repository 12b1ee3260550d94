package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"kasse/cmd/internal/control"
	"kasse/store"
)

// notChecked is a check that could not run to its verdict (exit status 2,
// unlike 1 for a damaged file).
type notChecked struct{ err error }

func (e notChecked) Error() string { return e.err.Error() }
func (e notChecked) Unwrap() error { return e.err }

// checkDB runs the full check of path. kassed holds an exclusive lock on
// the file while it runs, so the check goes through kassed when its socket
// answers: one read transaction beside the till's writes, progress streamed
// back. When kassed is not running (e.g. it refused a damaged file), the
// file is opened read only here. Either way nothing is written.
func checkDB(ctx context.Context, c *control.Client, path string, out io.Writer) error {
	p := newCheckProgress(os.Stderr, path)
	start := time.Now()
	by := "kassed"
	err := c.Check(ctx, p.show)
	if errors.Is(err, control.ErrUnreachable) {
		by = "kassectl, read only (kassed is not running)"
		err = store.Check(ctx, path, p.show)
		if errors.Is(err, store.ErrLocked) {
			err = fmt.Errorf("%s is held by a kassed whose control socket does not answer (%v): "+
				"check that kassed is healthy, or stop it and run kassectl check again", path, err)
		}
	}
	p.done()
	switch {
	case errors.Is(err, store.ErrDamaged) || errors.Is(err, store.ErrNotDatabase):
		return err
	case err != nil:
		return notChecked{fmt.Errorf("check of %s not done: %w", path, err)}
	}
	fmt.Fprintf(out, "%s: whole: every page checked (%s) in %s by %s\n", path, mib(p.total),
		time.Since(start).Round(time.Millisecond), by)
	return nil
}

// checkProgress shows how much of the file a check has read, on a
// terminal only.
type checkProgress struct {
	f     *os.File
	on    bool
	path  string
	total int64
	shown bool
}

func newCheckProgress(f *os.File, path string) *checkProgress {
	return &checkProgress{f: f, on: isTerminal(f), path: path}
}

func (p *checkProgress) show(done, total int64) {
	p.total = total
	if p.on {
		p.shown = true
		fmt.Fprintf(p.f, "\rchecking %s: %3d%% of %s…", p.path, done*100/max(total, 1), mib(total))
	}
}

func (p *checkProgress) done() {
	if p.shown {
		fmt.Fprintln(p.f)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
