// Command kassectl is the fleet manager's and the cashier-tester's tool: a
// thin client of kassed's control socket.
//
//	kassectl [--data DIR | --socket PATH] key 1 2 5 0 0 pay
//	kassectl status [--json]
//	kassectl screen --png FILE
//	kassectl journal [--json]
//	kassectl keys
//	kassectl receipt FILE
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"kasse/cmd/internal/control"
	"kasse/device"
	"kasse/payment/till"
	"kasse/printer/escpos"
	"kasse/printer/receipt"
)

const usage = `usage: kassectl [--data DIR | --socket PATH] COMMAND [ARGS]

commands:
  key NAME...          press keys in order (digits key øre: 1 2 5 0 0 = 125,00)
  status [--json]      the till's state, current sale and last error
  screen --png FILE    save the customer display as PNG (FILE - for stdout)
  journal [--json]     the sale log
  keys                 list the key names
  receipt FILE         show an ESC/POS print file (the simulated printer's
                       receipt.escpos, or a capture of a serial port) as text

The socket is DIR/kassed.sock; DIR defaults to $KASSE_DATA or /var/lib/kasse.
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kassectl: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("kassectl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := os.Getenv("KASSE_DATA")
	if dataDir == "" {
		dataDir = "/var/lib/kasse"
	}
	data := fs.String("data", dataDir, "kassed's data directory")
	socket := fs.String("socket", "", "control socket (default DATA/kassed.sock)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%v\n%s", err, usage)
	}
	if *socket == "" {
		*socket = filepath.Join(*data, "kassed.sock")
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("no command given\n" + usage)
	}
	if rest[0] == "receipt" {
		return showReceipt(rest[1:], out)
	}
	c := control.NewClient(*socket)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, cargs := rest[0], rest[1:]
	switch cmd {
	case "key", "keys":
		if cmd == "keys" || len(cargs) == 0 {
			if cmd == "key" {
				return errors.New("key needs key names, e.g. kassectl key 1 2 5 0 0 pay; kassectl keys lists them")
			}
			fmt.Fprintln(out, strings.Join(device.Names(), " "))
			return nil
		}
		st, err := c.Keys(ctx, cargs...)
		if err != nil {
			return err
		}
		printStatus(out, st)
		return nil
	case "status":
		sf := flag.NewFlagSet("status", flag.ContinueOnError)
		sf.SetOutput(io.Discard)
		asJSON := sf.Bool("json", false, "print JSON")
		if err := sf.Parse(cargs); err != nil {
			return fmt.Errorf("status: %v", err)
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, st)
		}
		printStatus(out, st)
		return nil
	case "screen":
		sf := flag.NewFlagSet("screen", flag.ContinueOnError)
		sf.SetOutput(io.Discard)
		file := sf.String("png", "", "PNG file to write")
		if err := sf.Parse(cargs); err != nil || *file == "" {
			return errors.New("screen needs --png FILE (- for stdout)")
		}
		if *file == "-" {
			return c.Screen(ctx, out)
		}
		return writeFile(*file, func(w io.Writer) error { return c.Screen(ctx, w) })
	case "journal":
		sf := flag.NewFlagSet("journal", flag.ContinueOnError)
		sf.SetOutput(io.Discard)
		asJSON := sf.Bool("json", false, "print JSON")
		if err := sf.Parse(cargs); err != nil {
			return fmt.Errorf("journal: %v", err)
		}
		sales, err := c.Journal(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, sales)
		}
		tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "CREATED\tREFERENCE\tAMOUNT\tSTATE\tPRINTED")
		for _, s := range sales {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", s.Created.Local().Format("2006-01-02 15:04:05"), s.Reference, s.Amount, s.State, s.Printed)
		}
		return tw.Flush()
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func printStatus(out io.Writer, st till.Status) {
	fmt.Fprintf(out, "till: %s  screen: %s  amount: %s\n", st.State, st.Screen, st.Amount)
	if st.Reference != "" {
		fmt.Fprintf(out, "sale: %s  %s  vipps: %s\n", st.Reference, st.SaleState, st.VippsState)
	}
	if st.LastError != "" {
		fmt.Fprintf(out, "error: %s\n", st.LastError)
	}
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFile writes through a temporary file so a failed download leaves no
// half PNG behind.
func writeFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kassectl-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// showReceipt decodes an ESC/POS stream as the printer would print it.
func showReceipt(args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("receipt needs one file, e.g. kassectl receipt /var/lib/kasse/receipt.escpos")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	doc, err := escpos.Decode(b)
	if err != nil {
		return fmt.Errorf("%s is not a stream kasse printed: %w", args[0], err)
	}
	_, err = io.WriteString(out, doc.Render(receipt.DefaultColumns))
	return err
}
