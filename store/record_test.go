package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"kasse/money"
)

// encodeV1 is a record as schemas 1 and 2 wrote it: format byte 1 + JSON.
func encodeV1(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{recordJSON}, b...)
}

// The compact encoding lists every field by hand: a new field must be added
// there (and here) or it would silently not be stored.
func TestCompactEncodingCoversEveryField(t *testing.T) {
	for _, c := range []struct {
		typ    reflect.Type
		fields int
	}{
		{reflect.TypeFor[Sale](), 20}, {reflect.TypeFor[Refund](), 14},
		{reflect.TypeFor[Op](), 14}, {reflect.TypeFor[PrintJob](), 10},
	} {
		if n := c.typ.NumField(); n != c.fields {
			t.Errorf("%s has %d fields, the compact encoding knows %d: add the new ones to record.go and to the generators here",
				c.typ, n, c.fields)
		}
	}
}

// gen makes random records that reach every branch of the encoding: known
// and unknown codes, absent and present optional fields, zones, negative
// amounts, references NextReference makes and others.
type gen struct{ r *rand.Rand }

func (g gen) pick(vs ...string) string { return vs[g.r.IntN(len(vs))] }

func (g gen) text() string {
	if g.r.IntN(3) == 0 {
		return ""
	}
	return g.pick("x", "Betaling avvist", "æøå €", "\x00\xff", "lang "+strconv.Itoa(g.r.Int()))
}

func (g gen) ref() string {
	switch g.r.IntN(4) {
	case 0:
		return g.pick("ORDER-12345", "A1234567", "OSLO1-2-k7f3-017", "12345678", "OSLO1-2-")
	default:
		return Reference{Prefix: g.pick("OSLO1", "BERG12", "ab"), Lane: g.pick("2", "1234"),
			Tag: g.pick("k7f3", "0000", "zzzz"), N: 1 + g.r.Uint64N(1<<g.r.IntN(64))}.String()
	}
}

func (g gen) zone() *time.Location {
	return []*time.Location{time.UTC, time.Local, time.FixedZone("CET", 3600), time.FixedZone("", -9000)}[g.r.IntN(4)]
}

func (g gen) time(base time.Time) time.Time {
	if g.r.IntN(4) == 0 {
		return time.Time{}
	}
	return base.Add(time.Duration(g.r.Int64N(int64(400 * 24 * time.Hour))))
}

func (g gen) created() time.Time {
	sec := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix() + g.r.Int64N(10*365*86400)
	if g.r.IntN(10) == 0 {
		sec = minUnix + g.r.Int64N(maxUnix-minUnix)
	}
	return time.Unix(sec, g.r.Int64N(1e9)).In(g.zone())
}

func (g gen) amount() money.Amount {
	return money.Amount{Value: g.r.Int64N(1e9) - 1e8, Currency: g.pick("NOK", "DKK", "EUR", "", "SEK")}
}

func (g gen) sale() Sale {
	ref := g.ref()
	r, _ := ParseReference(ref)
	s := Sale{Reference: ref, Store: r.Prefix, Lane: r.Lane, Amount: g.amount(),
		State:      g.pick(saleStateCodes...) + g.pick("", "", "", "?"),
		VippsState: g.pick(append(vippsStateCodes, "RESERVE")...),
		Error:      g.text(), Created: g.created(), Printed: g.r.IntN(2) == 0,
		API: g.pick("", "ecom", "epayment", "qr"), Phone: g.pick("", "4712345678"), Cashier: g.pick("", "7", "kari-2"),
		Remote: g.r.IntN(3) == 0}
	if g.r.IntN(4) == 0 {
		s.Store = g.pick("", "BERG1")
	}
	if g.r.IntN(4) == 0 {
		s.Lane = g.pick("", "9")
	}
	s.Updated, s.Authorized, s.Captured, s.Ended = g.time(s.Created), g.time(s.Created), g.time(s.Created), g.time(s.Created)
	if g.r.IntN(2) == 0 {
		s.Receipt, s.Copied = 1+g.r.Uint64N(1<<g.r.IntN(64)), g.r.IntN(2) == 0
		s.Journal = 1 + g.r.Uint64N(1<<g.r.IntN(64))
	}
	return s
}

func (g gen) refund() Refund {
	ref := g.ref()
	r, _ := ParseReference(ref)
	f := Refund{ID: "rf-" + strconv.Itoa(g.r.Int()), Reference: ref, OriginStore: r.Prefix, OriginLane: r.Lane,
		Store: g.pick(r.Prefix, "BERG1"), Lane: g.pick(r.Lane, "1"), Amount: g.amount(),
		State: g.pick(RefundPending, RefundDone, RefundFailed, "odd"), Created: g.created(), Error: g.text()}
	f.Updated = g.time(f.Created)
	if g.r.IntN(2) == 0 {
		f.Receipt = 1 + g.r.Uint64N(1<<g.r.IntN(64))
		f.Journal = 1 + g.r.Uint64N(1<<g.r.IntN(64))
	}
	if g.r.IntN(2) == 0 {
		f.Cashier = g.pick("7", "12345678")
	}
	if g.r.IntN(5) == 0 {
		f.OriginStore, f.OriginLane = "", ""
	}
	return f
}

func (g gen) body() []byte {
	switch g.r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, g.r.IntN(700))
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g gen) op() Op {
	op := Op{ID: g.r.Uint64(), Reference: g.ref(), Kind: g.pick(append(kindCodes, "other")...),
		API: g.pick("epayment", "ecom", ""), IdempotencyKey: g.text(), MSN: g.pick("", "123456"),
		Method: g.pick("POST", "GET", "PUT", "weird"), Path: "/epayment/v1/payments/" + g.text(),
		Body: g.body(), Amount: g.r.Int64() >> g.r.IntN(64), Created: g.created(),
		Attempts: g.r.IntN(50) - 1, LastError: g.text()}
	if !g.time(op.Created).IsZero() {
		op.NextAttempt = op.Created.Add(time.Duration(g.r.Int64N(int64(time.Hour))))
	}
	return op
}

func (g gen) job() PrintJob {
	j := PrintJob{ID: g.r.Uint64(), Reference: g.ref(), Copy: g.r.IntN(2) == 0, Receipt: g.body(),
		Created: g.created(), Attempts: g.r.IntN(5), LastError: g.text(), Sent: g.r.IntN(2) == 0,
		Refund: g.pick("", "rf-1")}
	if g.r.IntN(2) == 0 {
		j.Number = 1 + g.r.Uint64N(1<<g.r.IntN(64))
	}
	if j.Receipt == nil {
		j.Receipt = []byte{} // a receipt is always there, if empty
	}
	return j
}

// rounded is what a compact record gives back for v: the same, with the
// documented rounding. Times to the second except Created and NextAttempt,
// and every time in Created's zone: UTC, Local, or a fixed offset.
func rounded[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	created := rv.FieldByName("Created").Interface().(time.Time)
	loc := created.Location()
	if loc != time.UTC && loc != time.Local {
		_, off := created.Zone()
		loc = time.FixedZone("", off)
	}
	for i := range rv.NumField() {
		f := rv.Field(i)
		t, ok := f.Interface().(time.Time)
		if !ok || t.IsZero() {
			continue
		}
		switch rv.Type().Field(i).Name {
		case "Created", "NextAttempt":
		default:
			t = t.Truncate(time.Second)
		}
		f.Set(reflect.ValueOf(t.In(loc)))
	}
	return v
}

// same compares records field by field, times as instants in the same zone.
func same(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if tx, ok := x.(time.Time); ok {
			ty := y.(time.Time)
			_, ox := tx.Zone()
			_, oy := ty.Zone()
			if !tx.Equal(ty) || ox != oy {
				return false
			}
			continue
		}
		if bx, ok := x.([]byte); ok {
			if !bytes.Equal(bx, y.([]byte)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func TestCompactRecordsRoundTrip(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(9, 9))}
	for i := range 20000 {
		s := g.sale()
		key := saleKey(s.Reference)
		rec, err := encodeSale(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSale(key, rec)
		if err != nil {
			t.Fatalf("sale %d %+v: %v", i, s, err)
		}
		if want := rounded(s); !same(got, want) {
			t.Fatalf("sale round trip:\n got %+v\nwant %+v", got, want)
		}
		checkRoundTrip(t, g.refund())
		checkRoundTrip(t, g.op())
		checkRoundTrip(t, g.job())
	}
}

func checkRoundTrip[T record](t *testing.T, v T) {
	t.Helper()
	rec, err := encode("record", v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode[T]("record", rec)
	if err != nil {
		t.Fatalf("%+v: %v", v, err)
	}
	if want := rounded(v); !same(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

// A captured, printed sale as the till stores it, and what it costs.
func TestCompactSaleIsSmall(t *testing.T) {
	now := time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.Local)
	s := sale("OSLO1-2-k7f3-123456", now)
	s.State, s.VippsState, s.Printed = StateCaptured, "AUTHORIZED", true
	s.Updated, s.Authorized, s.Captured, s.Ended = now.Add(12*time.Second), now.Add(9*time.Second), now.Add(11*time.Second), now.Add(11*time.Second)
	rec, err := encodeSale(s)
	if err != nil {
		t.Fatal(err)
	}
	v1 := encodeV1(t, s)
	t.Logf("captured sale: %d bytes compact, %d as format 1; key %d bytes", len(rec), len(v1), len(saleKey(s.Reference)))
	if len(rec) > 24 {
		t.Errorf("a captured sale takes %d bytes: % x", len(rec), rec)
	}
}

func TestFormat1RecordsStillDecode(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(3, 4))}
	for range 200 {
		s := g.sale()
		s.Created = s.Created.Round(0)
		got, err := decodeSale(saleKey(s.Reference), encodeV1(t, s))
		if err != nil || got.Reference != s.Reference || !got.Created.Equal(s.Created) || got.Amount != s.Amount {
			t.Fatalf("format 1 sale %+v: %+v, %v", s, got, err)
		}
		op := g.op()
		gotOp, err := decode[Op]("op", encodeV1(t, op))
		if err != nil || gotOp.ID != op.ID || !bytes.Equal(gotOp.Body, op.Body) || !gotOp.Created.Equal(op.Created) {
			t.Fatalf("format 1 op %+v: %+v, %v", op, gotOp, err)
		}
		j := g.job()
		if gotJob, err := decode[PrintJob]("job", encodeV1(t, j)); err != nil || gotJob.ID != j.ID || !bytes.Equal(gotJob.Receipt, j.Receipt) {
			t.Fatalf("format 1 job %+v: %+v, %v", j, gotJob, err)
		}
		r := g.refund()
		if gotR, err := decode[Refund]("refund", encodeV1(t, r)); err != nil || gotR.ID != r.ID || gotR.Store != r.Store {
			t.Fatalf("format 1 refund %+v: %+v, %v", r, gotR, err)
		}
	}
	for _, bad := range [][]byte{nil, {3, 1, 2}, []byte("\x01[1]"), {recordCompact}, {recordCompact, 0x80}} {
		if _, err := decode[Op]("op", bad); !errors.Is(err, ErrDamaged) {
			t.Errorf("decode(%q) = %v, want ErrDamaged", bad, err)
		}
		if _, err := decodeSale([]byte("OSLO1-2-\x01\x01k7f3"), bad); !errors.Is(err, ErrDamaged) {
			t.Errorf("decodeSale(%q) = %v, want ErrDamaged", bad, err)
		}
	}
}

func TestSaleKeysGrowWithTheCounter(t *testing.T) {
	// Counter first, series tag after: a restart (new tag) still appends.
	var prev []byte
	for n := uint64(1); n < 1<<40; n = n*3 + 1 {
		for _, tag := range []string{"zzzz", "0000", "k7f3"} {
			ref := Reference{Prefix: "OSLO1", Lane: "2", Tag: tag, N: n}.String()
			k := saleKey(ref)
			if prev != nil && bytes.Compare(prev, k) >= 0 && !bytes.Equal(prev[:len(prev)-4], k[:len(k)-4]) {
				t.Fatalf("key of %s (%x) sorts before the one before it (%x)", ref, k, prev)
			}
			prev = k
			back, prefix, lane, err := refOfKey(k)
			if err != nil || back != ref || prefix != "OSLO1" || lane != "2" {
				t.Fatalf("refOfKey(saleKey(%s)) = %q %q %q, %v", ref, back, prefix, lane, err)
			}
		}
	}
	if k := saleKey("OSLO1-2-k7f3-17"); len(k) != len("OSLO1-2-")+1+1+4 {
		t.Errorf("key of OSLO1-2-k7f3-17 is %d bytes: %q", len(k), k)
	}
	for _, raw := range []string{"ORDER-12345", "OSLO1-2-k7f3-017", "OSLO1-2-"} {
		if back, _, _, err := refOfKey(saleKey(raw)); err != nil || back != raw {
			t.Errorf("raw reference %q: refOfKey gives %q, %v", raw, back, err)
		}
	}
}

// FuzzRecord feeds junk to every decoder: it must be refused as damage or
// decode to a value that encodes and decodes to itself, never panic.
func FuzzRecord(f *testing.F) {
	g := gen{rand.New(rand.NewPCG(1, 1))}
	for range 4 {
		s := g.sale()
		rec, err := encodeSale(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(saleKey(s.Reference), rec)
		for _, v := range []any{g.refund(), g.op(), g.job()} {
			f.Add([]byte("x"), encodeV1(f, v))
		}
		r, _ := encode("refund", g.refund())
		o, _ := encode("op", g.op())
		j, _ := encode("job", g.job())
		f.Add([]byte("OSLO1-2-\x01\x01k7f3"), r)
		f.Add([]byte("A1234567"), o)
		f.Add([]byte("OSLO1-2-\x02\x01\x00k7f3"), j)
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte("OSLO1-2-k7f3-1"), []byte("\x01{\"created\":\"2025-13-01T00:00:00Z\"}"))
	f.Fuzz(func(t *testing.T, key, rec []byte) {
		if s, err := decodeSale(key, rec); err != nil {
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("decodeSale error %v does not wrap ErrDamaged", err)
			}
		} else if len(rec) > 0 && rec[0] == recordCompact {
			again, err := encodeSale(s)
			if err != nil {
				t.Fatalf("%+v decoded but does not encode: %v", s, err)
			}
			got, err := decodeSale(saleKey(s.Reference), again)
			if err != nil || !same(got, s) {
				t.Fatalf("decoded %+v, re-encoded it reads %+v, %v", s, got, err)
			}
		}
		fuzzDecode[Refund](t, rec)
		fuzzDecode[Op](t, rec)
		fuzzDecode[PrintJob](t, rec)
		if ref, _, _, err := refOfKey(key); err == nil && !bytes.Equal(saleKey(ref), key) {
			t.Fatalf("key %q reads as %q, whose key is %q", key, ref, saleKey(ref))
		} else if err != nil && !errors.Is(err, ErrDamaged) {
			t.Fatalf("refOfKey error %v does not wrap ErrDamaged", err)
		}
	})
}

func fuzzDecode[T record](t *testing.T, rec []byte) {
	v, err := decode[T]("record", rec)
	if err != nil {
		if !errors.Is(err, ErrDamaged) {
			t.Fatalf("decode error %v does not wrap ErrDamaged", err)
		}
		return
	}
	again, err := encode("record", v)
	if err != nil {
		if rec[0] == recordJSON {
			return // format 1 holds times format 2 refuses, as JSON's encoder does
		}
		t.Fatalf("%+v decoded but does not encode: %v", v, err)
	}
	got, err := decode[T]("record", again)
	if err != nil || !same(got, rounded(v)) {
		t.Fatalf("decoded %+v, re-encoded it reads %+v, %v", v, got, err)
	}
}

// The cashier is an optional field of its own bit: a sale without one
// sets no bit and adds no byte, so it encodes as before the field existed
// and older records read as no cashier.
func TestSaleCashierIsOptional(t *testing.T) {
	s := Sale{Reference: "OSLO1-2-k7f3-17", Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 12500, Currency: "NOK"},
		State: StateCaptured, Created: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	without, err := encodeSale(s)
	if err != nil {
		t.Fatal(err)
	}
	s.Cashier = "7"
	with, err := encodeSale(s)
	if err != nil {
		t.Fatal(err)
	}
	// The id and its length, and the flags' varint grows by two bytes
	// (the cashier's bit is the sale's highest).
	if len(with) != len(without)+4 {
		t.Fatalf("with a cashier %d bytes, without %d: want 4 more", len(with), len(without))
	}
	got, err := decodeSale(saleKey(s.Reference), with)
	if err != nil || got.Cashier != "7" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	got, err = decodeSale(saleKey(s.Reference), without)
	if err != nil || got.Cashier != "" {
		t.Fatalf("decoded %+v, %v", got, err)
	}
}

// A remote order is one bit and no bytes: a sale in the shop encodes as
// before the field existed, and older records read as in the shop.
func TestSaleRemoteIsOptional(t *testing.T) {
	s := Sale{Reference: "OSLO1-2-k7f3-18", Store: "OSLO1", Lane: "2", Amount: money.Amount{Value: 12500, Currency: "NOK"},
		State: StateAuthorized, Created: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	without, err := encodeSale(s)
	if err != nil {
		t.Fatal(err)
	}
	s.Remote = true
	with, err := encodeSale(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(with) != len(without)+2 { // the flags' varint grows to reach the sale's highest bit
		t.Fatalf("remote %d bytes, in the shop %d: want 2 more", len(with), len(without))
	}
	if got, err := decodeSale(saleKey(s.Reference), with); err != nil || !got.Remote {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	if got, err := decodeSale(saleKey(s.Reference), without); err != nil || got.Remote {
		t.Fatalf("decoded %+v, %v", got, err)
	}
}
