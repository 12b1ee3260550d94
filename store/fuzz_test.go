package store_test

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kasse/money"
	"kasse/store"
)

// realArchive writes a few final sales and a refund to a fresh database
// and archives them with the store's own Archive.
func realArchive(f *testing.F) []byte {
	db, err := store.Open(filepath.Join(f.TempDir(), "kasse.db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	for i, s := range []store.Sale{
		{Reference: "OSLO1-2-k7f3-1", Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 12500, Currency: "NOK"}, State: store.StateCaptured, VippsState: "AUTHORIZED", Printed: true},
		{Reference: "OSLO1-2-k7f3-2", Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 4900, Currency: "NOK"}, State: store.StateCancelled, VippsState: "TERMINATED"},
		{Reference: "BERG1-1-x9q2-7", Store: "BERG1", Lane: "1", Amount: money.Amount{Value: 100, Currency: "NOK"}, State: store.StateExpired, API: "ecom"},
	} {
		s.Created = t0.Add(time.Duration(i) * time.Minute)
		if err := db.PutSale(s); err != nil {
			f.Fatal(err)
		}
	}
	if _, err := db.PutRefund(store.Refund{ID: "OSLO1-2-k7f3-1-r1", Reference: "OSLO1-2-k7f3-1", Store: "OSLO1", Lane: "2",
		Amount: money.Amount{Value: 2500, Currency: "NOK"}, State: store.RefundDone, Created: t0.Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := db.Archive(t0.Add(24*time.Hour), &buf)
	if err != nil || n != 3 {
		f.Fatalf("archived %d sales: %v", n, err)
	}
	return buf.Bytes()
}

func gunzip(f *testing.F, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		f.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		f.Fatal(err)
	}
	return out
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// FuzzReadArchive feeds archive files: JSON lines the target compresses
// (raw false), or the file's bytes as they are (raw true). Property: the
// journal reader and both exports agree on what the file holds (the same
// error-ness, a store filter selects exactly that store's sales, JSON and
// CSV exports have the same rows in the same order), and a damaged file
// is refused saying so.
func FuzzReadArchive(f *testing.F) {
	real := realArchive(f)
	lines := gunzip(f, real)
	f.Add(real, true)
	f.Add(lines, false)
	f.Add(append(slices.Clone(lines), lines...), false)
	f.Add(lines[:len(lines)/2], false)
	f.Add(real[:len(real)-9], true)
	f.Add([]byte(`{"sale":{"reference":"OSLO1-2-k7f3-9","store":"OSLO1","amount":{"value":-9223372036854775808,"currency":"NOK"},"created":"0001-01-01T00:00:00Z"},"refunds":[{"id":"r","reference":"x","store":"BERG1","originStore":"OSLO1"}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		if !raw {
			data = gz(data)
		}
		var all []store.Sale
		errAll := store.ReadArchive(bytes.NewReader(data), store.Filter{}, func(s store.Sale) error { all = append(all, s); return nil })
		if errAll != nil && !strings.Contains(errAll.Error(), "reading archive") {
			t.Fatalf("refusal %q does not say it is the archive", errAll)
		}
		pick := "OSLO1"
		if len(all) > 0 && all[len(all)/2].Store != "" { // "" selects every store
			pick = all[len(all)/2].Store
		}
		var some []store.Sale
		errSome := store.ReadArchive(bytes.NewReader(data), store.Filter{Store: pick}, func(s store.Sale) error { some = append(some, s); return nil })
		var want []store.Sale
		for _, s := range all {
			if s.Store == pick {
				want = append(want, s)
			}
		}
		if (errSome == nil) != (errAll == nil) || !equalSales(some, want) {
			t.Fatalf("store %q selected %d sales (%v), want %d of %d (%v)", pick, len(some), errSome, len(want), len(all), errAll)
		}

		var js, cs bytes.Buffer
		nj, errJ := store.ExportArchive(bytes.NewReader(data), store.Filter{}, "json", &js)
		nc, errC := store.ExportArchive(bytes.NewReader(data), store.Filter{}, "csv", &cs)
		if (errJ == nil) != (errAll == nil) || (errC == nil) != (errAll == nil) || nj != nc || nj < len(all) {
			t.Fatalf("exports: json %d rows (%v), csv %d rows (%v); journal %d sales (%v)", nj, errJ, nc, errC, len(all), errAll)
		}
		if errAll != nil {
			return // a damaged file's exports stop where it is damaged
		}
		var jrefs []string
		dec := json.NewDecoder(&js)
		for dec.More() {
			var row struct {
				Reference string `json:"reference"`
			}
			if err := dec.Decode(&row); err != nil {
				t.Fatalf("JSON export row %d: %v", len(jrefs)+1, err)
			}
			jrefs = append(jrefs, row.Reference)
		}
		recs, err := csv.NewReader(&cs).ReadAll()
		if err != nil || len(recs) != nc+1 {
			t.Fatalf("CSV export: %d records for %d rows: %v", len(recs), nc, err)
		}
		if len(jrefs) != nj {
			t.Fatalf("JSON export: %d lines for %d rows", len(jrefs), nj)
		}
		for i, r := range recs[1:] {
			if len(r) != len(recs[0]) || r[2] != jrefs[i] {
				t.Fatalf("CSV row %d %q, JSON row reference %q", i+1, r, jrefs[i])
			}
		}
	})
}

func equalSales(a, b []store.Sale) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Reference != y.Reference || x.Store != y.Store || x.Amount != y.Amount || x.State != y.State || !x.Created.Equal(y.Created) {
			return false
		}
	}
	return true
}

// vippsReference is the ePayment API's reference pattern.
var vippsReference = regexp.MustCompile(`^[a-zA-Z0-9-]{8,50}$`)

// FuzzReference feeds scanned codes to the reference parser, and parts to
// the formatter. Property: an accepted code is the one spelling of its
// parts (parse→format gives it back), fits the Vipps reference pattern and
// has valid parts; valid parts format to a code that parses back to them.
func FuzzReference(f *testing.F) {
	f.Add("OSLO1-2-k7f3-17", "OSLO1", "2", "k7f3", uint64(17))
	f.Add("BERG1-A12-0000-18446744073709551615", "B1", "ABCD", "zzzz", uint64(18446744073709551615))
	f.Add("OSLO1-2-k7f3-017", "OSLO1", "2", "K7F3", uint64(0))
	f.Add("OSLO1-2-k7f3-+17", "1OSLO", "", "k7f", uint64(1))
	f.Add("https://qr.vipps.no/28/2/01/031/4791234567?v=1", "OSLO1", "2", "k7f3", uint64(1))
	f.Fuzz(func(t *testing.T, code, prefix, lane, tag string, n uint64) {
		if r, err := store.ParseReference(code); err == nil {
			if r.String() != code {
				t.Fatalf("%q parsed to %+v, which formats as %q", code, r, r.String())
			}
			if !vippsReference.MatchString(code) || store.CheckPrefix(r.Prefix) != nil || store.CheckLane(r.Lane) != nil || r.N == 0 {
				t.Fatalf("accepted %q: %+v", code, r)
			}
		} else if !strings.Contains(err.Error(), "reference") {
			t.Fatalf("refusal %q does not say what it refuses", err)
		}
		r := store.Reference{Prefix: prefix, Lane: lane, Tag: tag, N: n}
		validTag := len(tag) == 4 && strings.Trim(tag, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
		if store.CheckPrefix(prefix) == nil && store.CheckLane(lane) == nil && validTag && n > 0 {
			back, err := store.ParseReference(r.String())
			if err != nil || back != r {
				t.Fatalf("%+v formats as %q, which parses to %+v, %v", r, r.String(), back, err)
			}
		}
	})
}
