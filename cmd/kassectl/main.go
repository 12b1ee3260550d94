// Command kassectl is the fleet manager's and the cashier-tester's tool: a
// thin client of kassed's control socket.
//
//	kassectl [--data DIR | --socket PATH] key 1 2 5 0 0 pay
//	kassectl status [--json]
//	kassectl screen --png FILE
//	kassectl journal [--since T] [--store S] [--open] [--format table|json|csv] [--json]
//	kassectl journal archive --before DATE
//	kassectl capture REFERENCE
//	kassectl reprint REFERENCE
//	kassectl report x|z [--json] [--print N]
//	kassectl export saft --from DATE --to DATE [-o FILE|DIR]
//	kassectl check
//	kassectl init
//	kassectl keys
//	kassectl receipt FILE
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kasse/cmd/internal/control"
	"kasse/device"
	"kasse/money"
	"kasse/printer/escpos"
	"kasse/printer/receipt"
	"kasse/store"
	"kasse/till"
)

const usage = `usage: kassectl [--data DIR | --socket PATH] COMMAND [ARGS]

commands:
  key NAME...          press keys in order (digits key øre: 1 2 5 0 0 = 125,00)
  status [--json]      the till's state, current sale and last error
  screen --png FILE    save the customer display as PNG (FILE - for stdout)
  journal [--since T] [--store S] [--open] [--format table|json|csv] [--json]
                       the sale log, archived sales included: one row per sale
                       and per refund (with its origin store), in time order,
                       the same rows in every format; --json is one array;
                       WHERE (table) and customer_interaction (csv, json) mark
                       remote orders; --open lists only reservations not yet
                       captured (remote orders waiting for dispatch)
  journal archive --before DATE
                       move final sales created before DATE to a compressed
                       file in DIR/archive (still read by journal)
  scan CODE            a scanned barcode, e.g. a receipt's reference after the refund key
  capture REFERENCE    capture a remote order reserved until dispatch: the order
                       was sent (the capture is committed, then sent)
  reprint REFERENCE    print the copy of a sale's receipt, marked KOPI (one per sale)
  report x|z [--json] [--columns N]
                       make, journal and print an X report (the sums since the
                       last Z report) or the Z report (closes the day, numbered
                       gap-free), and show it as printed (or as JSON); exit 1
                       when it did not print (it stays in the journal)
  report z --print N   print Z report N again from the journal
  export saft --from DATE --to DATE [-o FILE|DIR]
                       the electronic journal of those dates (inclusive) as a
                       SAF-T Cash Register file for the Tax Administration;
                       -o DIR names it "SAF-T Cash Register_<orgnr>_<time>_1_1.xml"
  check                read every page of DIR/kasse.db and check it (bbolt's full
                       check): through kassed when it runs, else directly, read
                       only; exit status 0 whole, 1 damaged, 2 could not check
  init                 create the database in DIR at provisioning (kassed not running)
  config check [--config FILE] [--json]
                       validate kassed's config and secrets, permissions included,
                       without starting it
  update install [--keyring FILE] [--wait 15m] [--no-reboot] [--json] BUNDLE
                       verify a signed RAUC bundle, wait until no sale is in
                       flight, lock the till ("updating"), install, reboot
  update status [--json]
                       the A/B slots: booted, next, marked good
  mark-good [--wait 2m] [--json]
                       mark the booted slot good once kassed is healthy
  keygen [--config FILE | --key FILE] [--new]
                       make the key that signs every sale and return in the
                       journal (RSA 1024, mode 0600); --new retires the current
                       key (its public key stays beside it) for the next version
  signing-key [--config FILE | --key FILE]
                       print the public keys (PEM, every version) that verify
                       the journal's and the SAF-T export's signatures
  keys                 list the key names
  pin hash             read a PIN (not echoed) and print its argon2id hash for
                       pin_hash in [[keys.cashiers]]
  receipt FILE         show an ESC/POS print file (the simulated printer's
                       receipt.escpos, or a capture of a serial port) as text

The socket is DIR/kassed.sock; DIR defaults to $KASSE_DATA or /var/lib/kasse.
Exit status: 0 ok, 1 failed, 2 usage, 3 busy or not possible now (try later).
`

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kassectl: %v\n", err)
		os.Exit(exitCode(err))
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
		return usagef("%v\n%s", err, usage)
	}
	if *socket == "" {
		*socket = filepath.Join(*data, "kassed.sock")
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usagef("no command given\n%s", usage)
	}
	switch rest[0] {
	case "pin":
		return pinHash(rest[1:], os.Stdin, out, os.Stderr)
	case "receipt":
		return showReceipt(rest[1:], out)
	case "init":
		return initDB(*data, out)
	case "keygen":
		return keygen(rest[1:], out)
	case "signing-key":
		return signingKey(rest[1:], out)
	case "export":
		return exportSAFT(control.NewClient(*socket), rest[1:], out)
	case "check":
		if len(rest) > 1 {
			return usagef("check takes no arguments: kassectl --data DIR check")
		}
		// No deadline: a cold full check of a large file takes a while.
		return checkDB(context.Background(), control.NewClient(*socket), filepath.Join(*data, "kasse.db"), out)
	}
	c := control.NewClient(*socket)
	switch {
	case rest[0] == "update" && len(rest) > 1 && rest[1] == "install":
		// No deadline: waiting for the till to be free is --wait's job.
		return newFleet(c, out).install(context.Background(), rest[2:])
	case rest[0] == "update" && len(rest) > 1 && rest[1] == "status":
		return newFleet(c, out).status(context.Background(), rest[2:])
	case rest[0] == "update":
		return usagef("update needs install BUNDLE or status")
	case rest[0] == "mark-good":
		return newFleet(c, out).markGood(context.Background(), rest[1:])
	case rest[0] == "config":
		return configCheck(rest[1:], out)
	case rest[0] == "report":
		return reportCmd(c, rest[1:], out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd, cargs := rest[0], rest[1:]
	switch cmd {
	case "key", "keys":
		if cmd == "keys" || len(cargs) == 0 {
			if cmd == "key" {
				return usagef("key needs key names, e.g. kassectl key 1 2 5 0 0 pay; kassectl keys lists them")
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
			return usagef("status: %v", err)
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
			return usagef("screen needs --png FILE (- for stdout)")
		}
		if *file == "-" {
			return c.Screen(ctx, out)
		}
		return writeFile(*file, func(w io.Writer) error { return c.Screen(ctx, w) })
	case "journal":
		if len(cargs) > 0 && cargs[0] == "archive" {
			sf := flag.NewFlagSet("journal archive", flag.ContinueOnError)
			sf.SetOutput(io.Discard)
			before := sf.String("before", "", "archive final sales created before this date")
			if err := sf.Parse(cargs[1:]); err != nil || *before == "" {
				return usagef("journal archive needs --before DATE, e.g. --before 2026-01-01")
			}
			a, err := c.Archive(ctx, *before)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "archived %d sales to %s\n", a.Archived, a.File)
			return nil
		}
		sf := flag.NewFlagSet("journal", flag.ContinueOnError)
		sf.SetOutput(io.Discard)
		asJSON := sf.Bool("json", false, "print the rows as one JSON array")
		format := sf.String("format", "table", "table, json (one row per line, refunds included) or csv")
		var q control.JournalQuery
		sf.StringVar(&q.Since, "since", "", "only sales from this date or time on")
		sf.StringVar(&q.Store, "store", "", "only this store prefix")
		sf.BoolVar(&q.Open, "open", false, "only reservations not yet captured (remote orders waiting for dispatch)")
		if err := sf.Parse(cargs); err != nil {
			return usagef("journal: %v", err)
		}
		switch {
		case *asJSON:
		case *format == "json" || *format == "csv":
			return c.Export(ctx, q, *format, out)
		case *format != "table":
			return usagef("journal --format %q: use table, json or csv", *format)
		}
		// The table and --json show the rows --format json and csv stream,
		// one row at a time: a log of any length fits in a few kB.
		p := newProgress(os.Stderr)
		defer p.done()
		if *asJSON {
			return jsonArray(out, func(each func(any) error) error {
				return c.Rows(ctx, q, func(r store.Row) error { p.row(); return each(r) })
			})
		}
		t := newJournalTable(out)
		if err := c.Rows(ctx, q, func(r store.Row) error { p.row(); return t.row(r) }); err != nil {
			return err
		}
		return t.flush()
	case "scan":
		if len(cargs) != 1 {
			return usagef("scan needs one code, e.g. kassectl scan OSLO1-2-k7f3-17 (a receipt's barcode)")
		}
		st, err := c.Scan(ctx, cargs[0])
		if err != nil {
			return err
		}
		printStatus(out, st)
		return nil
	case "capture":
		if len(cargs) != 1 {
			return usagef("capture needs one reference, e.g. kassectl capture OSLO1-2-k7f3-17 (kassectl journal --open lists the reserved orders)")
		}
		if err := c.Capture(ctx, cargs[0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "capture of %s committed and on its way: kassectl journal shows it captured once Vipps MobilePay confirms\n", cargs[0])
		return nil
	case "reprint":
		if len(cargs) != 1 {
			return usagef("reprint needs one reference, e.g. kassectl reprint OSLO1-2-k7f3-17")
		}
		if err := c.Reprint(ctx, cargs[0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "copy of %s queued\n", cargs[0])
		return nil
	}
	return usagef("unknown command %q\n%s", cmd, usage)
}

// journalTable prints rows for people as they stream in: local time, and
// a refund's amount negative (money back) besides its type. The columns have
// fixed widths (a reference is at most 40 characters), so nothing is held
// back to measure them.
type journalTable struct{ w *bufio.Writer }

const journalFormat = "%-19s  %-6s  %-40s  %-12s  %-4s  %-12s  %14s  %-10s  %-6s  %s\n"

func newJournalTable(out io.Writer) *journalTable {
	t := &journalTable{w: bufio.NewWriter(out)}
	fmt.Fprintf(t.w, journalFormat, "TIME", "TYPE", "REFERENCE", "STORE", "LANE", "ORIGIN", "AMOUNT", "STATE", "WHERE", "PRINTED")
	return t
}

func (t *journalTable) row(r store.Row) error {
	at, err := time.Parse(time.RFC3339Nano, r.Time)
	if err != nil {
		return fmt.Errorf("journal row %s: time %q: %w", r.Reference, r.Time, err)
	}
	minor, err := parseDecimal(r.Amount)
	if err != nil {
		return fmt.Errorf("journal row %s: %w", r.Reference, err)
	}
	if r.Type == store.RowRefund {
		minor = -minor
	}
	printed := ""
	if r.Printed != nil {
		printed = strconv.FormatBool(*r.Printed)
	}
	// WHERE marks remote orders (distance selling); a refund is made at a till.
	where := "shop"
	if r.Interaction == store.CustomerNotPresent {
		where = "remote"
	}
	_, err = fmt.Fprintf(t.w, journalFormat, at.Local().Format("2006-01-02 15:04:05"), r.Type, r.Reference,
		r.Store, r.Lane, r.OriginStore, money.Amount{Value: minor, Currency: r.Currency}, r.State, where, printed)
	return err
}

func (t *journalTable) flush() error { return t.w.Flush() }

// jsonArray writes what stream hands it as one JSON array, element by
// element.
func jsonArray(out io.Writer, stream func(each func(any) error) error) error {
	w := bufio.NewWriter(out)
	n := 0
	err := stream(func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		w.WriteString(sep)
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		w.WriteString("[")
	}
	w.WriteString("\n]\n")
	return w.Flush()
}

// progress counts rows on stderr while a long log streams, when stderr is
// a terminal (never into a pipe or a log file).
type progress struct {
	f     *os.File
	on    bool
	n     int
	start time.Time
}

func newProgress(f *os.File) *progress {
	return &progress{f: f, on: isTerminal(f), start: time.Now()}
}

func (p *progress) row() {
	p.n++
	if p.on && p.n%10000 == 0 {
		fmt.Fprintf(p.f, "\r%d rows…", p.n)
	}
}

func (p *progress) done() {
	if p.on && p.n >= 10000 {
		fmt.Fprintf(p.f, "\r%d rows in %s\n", p.n, time.Since(p.start).Round(time.Millisecond))
	}
}

// parseDecimal reads the journal's "125.00" as 12500 minor units.
func parseDecimal(s string) (int64, error) {
	whole, frac, ok := strings.Cut(s, ".")
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseUint(frac, 10, 8)
	if !ok || len(frac) != 2 || err1 != nil || err2 != nil || strings.HasPrefix(whole, "-") {
		return 0, fmt.Errorf("amount %q is not like 125.00", s)
	}
	return w*100 + int64(f), nil
}

func printStatus(out io.Writer, st till.Status) {
	fmt.Fprintf(out, "till: %s  screen: %s  amount: %s\n", st.State, st.Screen, st.Amount)
	if st.Reference != "" {
		fmt.Fprintf(out, "sale: %s  %s  vipps: %s\n", st.Reference, st.SaleState, st.VippsState)
	}
	if r := st.Refund; r != nil {
		fmt.Fprintf(out, "refund: %s from store %s lane %s  refundable: %s  amount: %s\n", r.Reference, r.OriginStore, r.OriginLane, r.Refundable, r.Amount)
	}
	if st.Printer.Banner != "" {
		fmt.Fprintf(out, "printer: %s (%s)\n", st.Printer.Banner, st.Printer.Detail)
	}
	if st.LastError != "" {
		fmt.Fprintf(out, "error: %s\n", st.LastError)
	}
	if sys := st.System; sys != nil {
		slot := sys.Slot
		if slot == "" {
			slot = "-"
		}
		fmt.Fprintf(out, "kassed %s  slot %s  up %s  clock set: %v  vipps online: %v  outbox %d  print queue %d\n",
			sys.Version, slot, time.Duration(sys.UptimeS)*time.Second, sys.ClockSynced, st.Online, st.Outbox, st.PrintQueue)
	}
	if st.Health != "" {
		fmt.Fprintf(out, "health: %s\n", st.Health)
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

// initDB creates and checks the database at provisioning, before the first
// sale, so that a register never silently starts with an empty one.
func initDB(dir string, out io.Writer) error {
	if err := control.MakeDataDir(dir); err != nil {
		return err
	}
	path := filepath.Join(dir, "kasse.db")
	_, err := os.Stat(path)
	existed := err == nil
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	verb := "created"
	if existed {
		verb = "checked"
	}
	fmt.Fprintf(out, "%s %s (instance tag %s)\n", verb, path, db.InstanceTag())
	return nil
}
