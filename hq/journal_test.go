package hq_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kasse/hq"
	"kasse/money"
	"kasse/payment/vipps"
)

// stepClock advances a second at every reading, so Created and Updated
// tell two writes apart.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func openJournal(t *testing.T, path string, now func() time.Time) *hq.Journal {
	t.Helper()
	j, err := hq.OpenJournal(path, now, time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func refundOf(register, key string, value int64) hq.Refund {
	return hq.Refund{Register: register, IdempotencyKey: key, Reference: "OSLO1-2-k7f3-17", OriginStore: "OSLO1",
		Store: "BERGEN", Lane: "7", Amount: money.Amount{Value: value, Currency: "NOK"}, State: hq.StateReceived}
}

func all(t *testing.T, j *hq.Journal) []hq.Refund {
	t.Helper()
	var out []hq.Refund
	if err := j.Each(func(r hq.Refund) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJournalPutGet(t *testing.T) {
	clock := &stepClock{t: time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "kassehq.db")
	j := openJournal(t, path, clock.Now)

	first, err := j.Put(refundOf("BERGEN-7", "k1", 500))
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := j.Get("BERGEN-7", "k1")
	if err != nil || !found || got.Amount.Value != 500 || !got.Created.Equal(first.Created) || got.Created.IsZero() {
		t.Fatalf("Get after Put: %+v, %v, %v", got, found, err)
	}
	// The same (register, key) is the same record: updated, not added.
	got.State = hq.StateDone
	second, err := j.Put(got)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Created.Equal(first.Created) || !second.Updated.After(first.Updated) {
		t.Errorf("an update: created %v→%v, updated %v→%v", first.Created, second.Created, first.Updated, second.Updated)
	}
	// Keys are the register's own: another register's k1 is another refund.
	if _, found, _ := j.Get("OSLO1-3", "k1"); found {
		t.Error("OSLO1-3's k1 found BERGEN-7's refund")
	}
	if _, err := j.Put(refundOf("OSLO1-3", "k1", 700)); err != nil {
		t.Fatal(err)
	}
	if rs := all(t, j); len(rs) != 2 || rs[0].State != hq.StateDone || rs[1].Register != "OSLO1-3" {
		t.Fatalf("the journal after an update and a second register: %+v", rs)
	}

	// What was synced is there after a restart, and new records follow it.
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openJournal(t, path, clock.Now)
	if got, found, err := j.Get("BERGEN-7", "k1"); err != nil || !found || got.State != hq.StateDone {
		t.Fatalf("after reopening: %+v, %v, %v", got, found, err)
	}
	if _, err := j.Put(refundOf("BERGEN-7", "k2", 100)); err != nil {
		t.Fatal(err)
	}
	if rs := all(t, j); len(rs) != 3 || rs[2].IdempotencyKey != "k2" {
		t.Fatalf("after reopening and a new refund: %+v", rs)
	}
}

// Each goes in arrival order past 255 records, where a sequence not
// stored big-endian would sort out of order.
func TestJournalEachOrder(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "kassehq.db"), time.Now)
	const n = 260
	for i := range n {
		if _, err := j.Put(refundOf("BERGEN-7", fmt.Sprint("k", i), int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	rs := all(t, j)
	if len(rs) != n {
		t.Fatalf("%d records, want %d", len(rs), n)
	}
	for i, r := range rs {
		if r.Amount.Value != int64(i+1) {
			t.Fatalf("record %d is %s, want the %dth to arrive", i, r.IdempotencyKey, i)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := j.Each(func(hq.Refund) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Each after fn's error: %v, %d calls", err, calls)
	}
}

func TestJournalExport(t *testing.T) {
	j := openJournal(t, filepath.Join(t.TempDir(), "kassehq.db"), time.Now)
	r := refundOf("BERGEN-7", "k1", 500)
	r.Cashier, r.State = "Kari, \"supervisor\"", hq.StateDone
	r.Vipps = &vipps.Request{Path: "/epayment/v1/payments/OSLO1-2-k7f3-17/refund", IdempotencyKey: "hq-secret-ish"}
	if _, err := j.Put(r); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Put(refundOf("OSLO1-3", "k2", 100)); err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	if err := j.Export(&buf, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("the csv export does not parse: %v", err)
	}
	if len(rows) != 3 || rows[0][0] != "created" || rows[1][2] != "BERGEN-7" || rows[1][5] != r.Cashier || rows[1][10] != "500" || rows[2][14] != "k2" {
		t.Errorf("csv export: %q", rows)
	}

	buf.Reset()
	if err := j.Export(&buf, "json"); err != nil {
		t.Fatal(err)
	}
	var out []hq.Refund
	if err := json.Unmarshal(buf.Bytes(), &out); err != nil {
		t.Fatalf("the json export does not parse: %v\n%s", err, buf.String())
	}
	if len(out) != 2 || out[0].Cashier != r.Cashier || out[1].IdempotencyKey != "k2" {
		t.Errorf("json export: %+v", out)
	}
	// The Vipps request is kassehq's own business.
	if strings.Contains(buf.String(), "hq-secret-ish") || out[0].Vipps != nil {
		t.Errorf("the json export carries the Vipps request:\n%s", buf.String())
	}

	if err := j.Export(&buf, "xml"); err == nil || !strings.Contains(err.Error(), "use csv or json") {
		t.Errorf("an unknown format: %v", err)
	}
}

func TestJournalReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kassehq.db")
	if _, err := hq.OpenJournal(path, time.Now, time.Second, true); err == nil {
		t.Error("a read-only open of a missing journal succeeded")
	}
	j, err := hq.OpenJournal(path, time.Now, time.Second, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Put(refundOf("BERGEN-7", "k1", 500)); err != nil {
		t.Fatal(err)
	}
	// While kassehq serve holds the file, a second opener is told which.
	if _, err := hq.OpenJournal(path, time.Now, 50*time.Millisecond, true); err == nil || !strings.Contains(err.Error(), "open in another process") {
		t.Errorf("opening a journal held by another: %v", err)
	}
	j.Close()

	ro, err := hq.OpenJournal(path, time.Now, time.Second, true)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, found, err := ro.Get("BERGEN-7", "k1"); err != nil || !found {
		t.Errorf("Get read-only: %v, %v", found, err)
	}
	if _, err := ro.Put(refundOf("BERGEN-7", "k2", 1)); err == nil {
		t.Error("Put on a read-only journal succeeded")
	}
}
