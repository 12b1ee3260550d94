package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"kasse/cmd/internal/control"
	"kasse/journal/saft"
)

const saftUsage = `usage: kassectl export saft --from DATE --to DATE [-o FILE|DIR]
  the electronic journal of DATE to DATE (inclusive, YYYY-MM-DD) as a SAF-T
  Cash Register file; -o DIR names it as the Tax Administration asks
  ("SAF-T Cash Register_<orgnr>_<yyyymmddhhmmss>_1_1.xml"); default stdout`

// exportSAFT is kassectl export saft: kassed streams the file from one
// read of the journal, kassectl writes it as it comes (to a temporary
// file renamed when whole, so a cut-short export leaves nothing behind).
func exportSAFT(c *control.Client, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "saft" {
		return usagef("export needs a format: kassectl export saft --from DATE --to DATE [-o FILE|DIR]")
	}
	fs := flag.NewFlagSet("export saft", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "first date, YYYY-MM-DD")
	to := fs.String("to", "", "last date, YYYY-MM-DD")
	dest := fs.String("o", "", "file, or directory for the standard file name (default stdout)")
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("export saft: %v\n%s", err, saftUsage)
	}
	if fs.NArg() > 0 {
		return usagef("export saft: unexpected %q\n%s", fs.Arg(0), saftUsage)
	}
	if err := saft.CheckRange(*from, *to); err != nil {
		return usagef("export saft: %v\n%s", err, saftUsage)
	}
	// No deadline: a year of sales takes a while.
	ctx := context.Background()
	p := &byteProgress{f: os.Stderr, on: isTerminal(os.Stderr), start: time.Now()}
	if *dest == "" || *dest == "-" {
		rep, err := c.SAFT(ctx, *from, *to, p.wrap(out))
		p.done(rep.Rows)
		return err
	}
	dir, name := filepath.Dir(*dest), filepath.Base(*dest)
	if fi, err := os.Stat(*dest); err == nil && fi.IsDir() {
		dir, name = *dest, ""
	}
	tmp, err := os.CreateTemp(dir, ".kassectl-saft-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	rep, err := c.SAFT(ctx, *from, *to, p.wrap(tmp))
	p.done(rep.Rows)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if name == "" {
		if name = rep.FileName; name == "" || filepath.Base(name) != name {
			return fmt.Errorf("kassed named the file %q: give -o FILE", rep.FileName)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d events and cash transactions\n", path, rep.Rows)
	return nil
}

// byteProgress shows the megabytes received on stderr when it is a
// terminal.
type byteProgress struct {
	f     *os.File
	on    bool
	n     int64
	start time.Time
}

type countingWriter struct {
	w io.Writer
	p *byteProgress
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	before := c.p.n >> 20
	c.p.n += int64(n)
	if c.p.on && c.p.n>>20 != before {
		fmt.Fprintf(c.p.f, "\r%d MiB…", c.p.n>>20)
	}
	return n, err
}

func (p *byteProgress) wrap(w io.Writer) io.Writer { return countingWriter{w: w, p: p} }

func (p *byteProgress) done(rows int) {
	if p.on && p.n >= 1<<20 {
		fmt.Fprintf(p.f, "\r%d MiB, %d rows in %s\n", p.n>>20, rows, time.Since(p.start).Round(time.Millisecond))
	}
}
