package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"kasse/cmd/internal/control"
	"kasse/journal/report"
)

// reportCmd is kassectl report x|z [--json] [--columns N], and
// kassectl report z --print N: make a report (kassed journals and prints
// it) and show it, or print Z report N again from the journal. No
// deadline: the printer may wait for a new roll.
func reportCmd(c *control.Client, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	again := fs.Uint64("print", 0, "print Z report number N again")
	cols := fs.Int("columns", 42, "columns of the text shown")
	kind := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		kind, args = strings.ToLower(args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || (kind != "x" && kind != "z") || (*again != 0 && kind != "z") {
		return usagef("report needs x or z: kassectl report x|z [--json], or kassectl report z --print N to print Z report N again")
	}
	ctx := context.Background()
	var (
		rep control.ReportReply
		err error
	)
	if *again != 0 {
		rep, err = c.PrintReport(ctx, *again)
	} else {
		rep, err = c.Report(ctx, kind)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		text, err := report.Text(rep.Report, *cols)
		if err != nil {
			return err
		}
		fmt.Fprint(out, text)
	}
	if !rep.Printed {
		name := "the X report"
		again := "kassectl report x (a new X report)"
		if rep.Report.Kind == report.KindZ {
			name = fmt.Sprintf("Z report %d", rep.Report.Z)
			again = fmt.Sprintf("kassectl report z --print %d", rep.Report.Z)
		}
		return errors.New(name + " is in the journal but did not print (" + rep.PrintError + "): check the printer, then " + again)
	}
	return nil
}
