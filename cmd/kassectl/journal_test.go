package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasse/cmd/internal/control"
	"kasse/device"
	"kasse/money"
	"kasse/store"
	"kasse/till"
)

// idleTill is a till with nothing to do: the journal tests need only the
// socket's journal endpoints.
type idleTill struct{}

func (idleTill) Press(context.Context, device.Key) error { return nil }
func (idleTill) Status() till.Status                     { return till.Status{} }
func (idleTill) Reprint(context.Context, string) error   { return nil }
func (idleTill) Capture(context.Context, string) error   { return nil }
func (idleTill) Scan(context.Context, string) error      { return nil }
func (idleTill) Lock(context.Context, string) error      { return nil }
func (idleTill) Unlock(context.Context) error            { return nil }
func (idleTill) WritePNG(io.Writer) error                { return nil }

// journalRow is what every format of kassectl journal must agree on.
type journalRow struct {
	unix                                      int64 // seconds
	typ, ref, store, lane, origin, amount, st string
}

func (r journalRow) String() string {
	return strings.Join([]string{time.Unix(r.unix, 0).UTC().Format(time.RFC3339), r.typ, r.ref, r.store, r.lane, r.origin, r.amount, r.st}, " ")
}

// A shop's journal with a sale refunded here, a sale of another store
// refunded here, a failed refund, and two archived sales, the first refunded
// after the second was made.
func journalShop(t *testing.T) (sock string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "kasse.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
	nok := func(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }
	for _, s := range []store.Sale{
		{Reference: "OSLO1-2-abcd-1", Store: "OSLO1", Lane: "2", Amount: nok(4000), State: store.StateCaptured, Created: t0.Add(-48 * time.Hour), Printed: true},
		{Reference: "OSLO1-2-abcd-2", Store: "OSLO1", Lane: "2", Amount: nok(12500), State: store.StateCaptured, Created: t0, Printed: true},
		{Reference: "OSLO1-2-abcd-3", Store: "OSLO1", Lane: "2", Amount: nok(8000), State: store.StateCaptured, Created: t0.Add(time.Hour), Printed: true},
		{Reference: "OSLO1-2-abcd-4", Store: "OSLO1", Lane: "2", Amount: nok(990), State: store.StateCancelled, Created: t0.Add(4 * time.Hour)},
		// Archived too, and before the first sale's refund.
		{Reference: "OSLO1-2-abcd-5", Store: "OSLO1", Lane: "2", Amount: nok(3000), State: store.StateCaptured, Created: t0.Add(-47*time.Hour - 30*time.Minute), Printed: true},
	} {
		if err := db.PutSale(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []store.Refund{
		{ID: "OSLO1-2-abcd-r1", Reference: "OSLO1-2-abcd-1", Store: "OSLO1", Lane: "2", Amount: nok(1000), State: store.RefundDone, Created: t0.Add(-47 * time.Hour)},
		{ID: "OSLO1-2-abcd-r2", Reference: "OSLO1-2-abcd-2", Store: "OSLO1", Lane: "2", Amount: nok(5000), State: store.RefundDone, Created: t0.Add(30 * time.Minute)},
		{ID: "OSLO1-2-abcd-r3", Reference: "BERGEN-7-wxyz-5", Store: "OSLO1", Lane: "2", Amount: nok(2000), State: store.RefundDone, Created: t0.Add(2 * time.Hour)},
		{ID: "OSLO1-2-abcd-r4", Reference: "OSLO1-2-abcd-3", Store: "OSLO1", Lane: "2", Amount: nok(8000), State: store.RefundFailed, Created: t0.Add(3 * time.Hour)},
	} {
		if _, err := db.PutRefund(r); err != nil {
			t.Fatal(err)
		}
	}
	sock = filepath.Join(dir, "kassed.sock")
	l, err := control.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: control.Handler(idleTill{}, idleTill{}, db, filepath.Join(dir, "archive"))}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	// The first and fifth sales and the first refund move to an archive.
	var out bytes.Buffer
	if err := run([]string{"--socket", sock, "journal", "archive", "--before", t0.Add(-24 * time.Hour).Format("2006-01-02")}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "archived 2 sales") {
		t.Fatalf("archive: %s", out.String())
	}
	return sock
}

func journalOut(t *testing.T, sock string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(append([]string{"--socket", sock, "journal"}, args...), &out); err != nil {
		t.Fatalf("kassectl journal %v: %v", args, err)
	}
	return out.String()
}

// machineRow reads a row of --format json or csv, or of --json.
func machineRow(t *testing.T, tm, typ, ref, st, lane, origin, amount, state string) journalRow {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, tm)
	if err != nil {
		t.Errorf("time %q: %v", tm, err)
	}
	return journalRow{at.Unix(), typ, ref, st, lane, origin, amount, state}
}

type jsonRow struct {
	Time        string `json:"time"`
	Type        string `json:"type"`
	Reference   string `json:"reference"`
	Store       string `json:"store"`
	Lane        string `json:"lane"`
	OriginStore string `json:"origin_store"`
	Amount      string `json:"amount"`
	State       string `json:"state"`
}

var tableSpace = regexp.MustCompile(`\s{2,}`)

// kassectl journal as a table, --json, --format json and --format csv show
// the same rows in the same (time) order: sales and refunds, refunds with
// their origin store, archived ones included.
func TestJournalFormatsShowTheSameRows(t *testing.T) {
	sock := journalShop(t)
	formats := map[string][]journalRow{}

	lines := strings.Split(strings.TrimSpace(journalOut(t, sock, "--format", "json")), "\n")
	for _, line := range lines {
		var r jsonRow
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("--format json line %q: %v", line, err)
		}
		formats["--format json"] = append(formats["--format json"], machineRow(t, r.Time, r.Type, r.Reference, r.Store, r.Lane, r.OriginStore, r.Amount, r.State))
	}

	recs, err := csv.NewReader(strings.NewReader(journalOut(t, sock, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] { // time,type,reference,store,lane,origin_store,amount,currency,state,...
		formats["--format csv"] = append(formats["--format csv"], machineRow(t, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[8]))
	}

	var arr []jsonRow
	if err := json.Unmarshal([]byte(journalOut(t, sock, "--json")), &arr); err != nil {
		t.Errorf("--json is not an array of journal rows: %v", err)
	}
	for _, r := range arr {
		formats["--json"] = append(formats["--json"], machineRow(t, r.Time, r.Type, r.Reference, r.Store, r.Lane, r.OriginStore, r.Amount, r.State))
	}

	table := strings.Split(strings.TrimSpace(journalOut(t, sock)), "\n")
	head := tableSpace.Split(strings.TrimSpace(table[0]), -1)
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, name := range []string{"TIME", "TYPE", "REFERENCE", "STORE", "LANE", "ORIGIN", "AMOUNT", "STATE"} {
		if _, ok := col[name]; !ok {
			t.Errorf("table header %q has no %s column", table[0], name)
		}
	}
	if !t.Failed() {
		for _, line := range table[1:] {
			f := tableSpace.Split(strings.TrimSpace(line), -1)
			if len(f) < len(col)-1 { // PRINTED is empty on refunds
				t.Errorf("table line %q has %d columns", line, len(f))
				continue
			}
			at, err := time.ParseInLocation("2006-01-02 15:04:05", f[col["TIME"]], time.Local)
			if err != nil {
				t.Errorf("table time %q: %v", f[col["TIME"]], err)
			}
			// "-50,00 kr" on a refund: the table shows refunds negative.
			amount := strings.TrimSuffix(f[col["AMOUNT"]], " kr")
			if typ := f[col["TYPE"]]; typ == "refund" {
				if !strings.HasPrefix(amount, "-") {
					t.Errorf("table line %q: a refund's amount is not negative", line)
				}
				amount = strings.TrimPrefix(amount, "-")
			}
			amount = strings.ReplaceAll(amount, ",", ".")
			formats["table"] = append(formats["table"], journalRow{at.Unix(), f[col["TYPE"]], f[col["REFERENCE"]], f[col["STORE"]],
				f[col["LANE"]], f[col["ORIGIN"]], amount, f[col["STATE"]]})
		}
	}

	want := formats["--format csv"]
	if len(want) != 9 {
		t.Errorf("--format csv has %d rows, want 9 (5 sales, 4 refunds):\n%v", len(want), want)
	}
	refunds := 0
	for i, r := range want {
		if r.typ == "refund" {
			refunds++
		}
		if r.ref == "OSLO1-2-abcd-r3" || (r.typ == "refund" && r.ref == "BERGEN-7-wxyz-5" && r.origin != "BERGEN") {
			t.Errorf("row %v: the cross-store refund must carry its origin store BERGEN", r)
		}
		if i > 0 && r.unix < want[i-1].unix {
			t.Errorf("rows out of time order: %v before %v", want[i-1], r)
		}
	}
	if refunds != 4 {
		t.Errorf("--format csv has %d refund rows, want 4", refunds)
	}
	for name, got := range formats {
		if strings.Join(rowStrings(got), "\n") != strings.Join(rowStrings(want), "\n") {
			t.Errorf("%s shows other rows than --format csv:\n%s\nwant\n%s", name,
				strings.Join(rowStrings(got), "\n"), strings.Join(rowStrings(want), "\n"))
		}
	}
	if len(formats) != 4 {
		t.Errorf("only %d formats read", len(formats))
	}
}

func rowStrings(rows []journalRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.String()
	}
	return out
}
