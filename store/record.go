package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"kasse/money"
)

// Records start with a format byte, so a schema can change the encoding of
// a record type and still read the old one.
const (
	// recordJSON is format 1: the record's JSON (schemas 1 and 2). It is
	// never written now, but always read: old backups and files opened by
	// an older kassed must stay readable.
	recordJSON = 1

	// recordCompact is format 2 (schema 3): the fields in a fixed order as
	// varints and length-prefixed strings, behind a bit set of the fields
	// that are present. Binary rather than JSON with short keys because a
	// sale is mostly small numbers and codes: a captured, printed sale is
	// some 25 bytes against some 330 of JSON, and it reads without a
	// parser. What it keeps and rounds:
	//   - a sale's reference is its key (saleKey), not in the record, and
	//     its Store and Lane only when they differ from the reference's;
	//   - Created (and an op's NextAttempt) to the nanosecond: it orders the
	//     time index; the other times (Updated, Authorized, Captured, Ended)
	//     to the second (truncated), as seconds after Created: they are
	//     shown and audited, never compared finer;
	//   - the times' zone: UTC, the machine's Local (what time.Now gives),
	//     or a fixed offset, taken from Created; every time of a record
	//     comes back in that zone, the same instant;
	//   - states, currencies, kinds, APIs and methods as small codes, with
	//     the text itself for a value the table does not know.
	recordCompact = 2
)

// record is a type stored as format byte + body with no part in its key.
// Sales keep their reference in the key: see encodeSale and decodeSale.
type record interface {
	Refund | Op | PrintJob
}

func encode[T record](what string, v T) ([]byte, error) {
	e := &encoder{b: []byte{recordCompact}}
	switch v := any(v).(type) {
	case Refund:
		e.refund(v)
	case Op:
		e.op(v)
	case PrintJob:
		e.job(v)
	}
	if e.err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, e.err)
	}
	return e.b, nil
}

func decode[T record](what string, rec []byte) (T, error) {
	var v T
	if len(rec) == 0 {
		return v, damagedRecord(what, "is empty")
	}
	switch rec[0] {
	case recordJSON:
		if err := json.Unmarshal(rec[1:], &v); err != nil {
			var zero T
			return zero, damagedRecord(what, "does not decode: "+err.Error())
		}
		return v, nil
	case recordCompact:
		d := &decoder{b: rec[1:]}
		switch p := any(&v).(type) {
		case *Refund:
			*p = d.refund()
		case *Op:
			*p = d.op()
		case *PrintJob:
			*p = d.job()
		}
		if err := d.done(); err != nil {
			var zero T
			return zero, damagedRecord(what, err.Error())
		}
		return v, nil
	}
	return v, damagedRecord(what, fmt.Sprintf("has unknown format %d", rec[0]))
}

func damagedRecord(what, why string) error {
	return fmt.Errorf("%w (%s record %s): restore the latest backup", ErrDamaged, what, why)
}

// encodeSale is s's record; s.Reference is its key (saleKey).
func encodeSale(s Sale) ([]byte, error) {
	e := &encoder{b: []byte{recordCompact}}
	e.sale(s)
	if e.err != nil {
		return nil, fmt.Errorf("encoding sale %s: %w", s.Reference, e.err)
	}
	return e.b, nil
}

// decodeSale reads the sale stored under key.
func decodeSale(key, rec []byte) (Sale, error) {
	if len(rec) > 0 && rec[0] == recordJSON {
		var s Sale
		if err := json.Unmarshal(rec[1:], &s); err != nil {
			return Sale{}, damagedRecord("sale", "does not decode: "+err.Error())
		}
		return s, nil
	}
	if len(rec) == 0 || rec[0] != recordCompact {
		return Sale{}, damagedRecord("sale", "has an unknown format")
	}
	ref, prefix, lane, err := refOfKey(key)
	if err != nil {
		return Sale{}, err
	}
	d := &decoder{b: rec[1:]}
	s := d.sale(ref, prefix, lane)
	if err := d.done(); err != nil {
		return Sale{}, damagedRecord("sale "+ref, err.Error())
	}
	return s, nil
}

// Code tables. A code is 1 + the index of the value; 0 means the text
// follows. Append only: a code once written must keep its meaning.
var (
	saleStateCodes  = []string{StateCreated, StateWaiting, StateAuthorized, StateCaptured, StateCancelled, StateExpired, StateAborted, StateFailed}
	vippsStateCodes = []string{"", "CREATED", "AUTHORIZED", "ABORTED", "EXPIRED", "TERMINATED"}
	currencyCodes   = []string{"NOK", "DKK", "EUR", ""}
	apiCodes        = []string{"", "epayment", "ecom"}
	refundCodes     = []string{RefundPending, RefundDone, RefundFailed}
	kindCodes       = []string{"create", "capture", "cancel", "refund", "ecom-initiate", "receipt"}
	methodCodes     = []string{"POST", "GET", "PUT", "DELETE", "PATCH", ""}
)

// Bits of a record's flags. The two lowest are the zone of its times.
const (
	zoneUTC   = 0
	zoneLocal = 1
	zoneFixed = 2 // the offset in seconds follows Created
	zoneMask  = 3

	flagA = 1 << (2 + iota) // per type; see the encoders
	flagB
	flagC
	flagD
	flagE
	flagF
	flagG
	flagH
	flagI
	flagJ
	flagK
	flagL
	flagM
	flagN
)

// Sale flags.
const (
	salePrinted    = flagA
	saleUpdated    = flagB
	saleAuthorized = flagC
	saleCaptured   = flagD
	saleEnded      = flagE
	saleStore      = flagF // Store differs from the reference's prefix
	saleLane       = flagG // Lane differs from the reference's lane
	saleError      = flagH
	salePhone      = flagI
	saleCashier    = flagJ // added after format 2 shipped: older records lack the bit, and read as no cashier
	saleReceipt    = flagK // likewise
	saleCopied     = flagL // likewise
	saleRemote     = flagM // a remote order (CUSTOMER_NOT_PRESENT); the bit alone, no bytes: older records read as in the shop
	saleJournal    = flagN // its cash transaction's journal Seq (schema 4)
	saleAll        = zoneMask | flagA | flagB | flagC | flagD | flagE | flagF | flagG | flagH | flagI | flagJ | flagK | flagL | flagM | flagN
)

// Refund flags.
const (
	refundUpdated     = flagA
	refundError       = flagB
	refundOriginStore = flagC // these four: when they differ from the reference's
	refundOriginLane  = flagD
	refundStore       = flagE
	refundLane        = flagF
	refundReceipt     = flagG
	refundJournal     = flagH // its cash transaction's journal Seq (schema 4)
	refundCashier     = flagI // (schema 5) older records lack the bit, and read as no cashier
	refundAll         = zoneMask | flagA | flagB | flagC | flagD | flagE | flagF | flagG | flagH | flagI
)

// Op flags.
const (
	opNextAttempt = flagA
	opKey         = flagB
	opMSN         = flagC
	opBody        = flagD
	opLastError   = flagE
	opAll         = zoneMask | flagA | flagB | flagC | flagD | flagE
)

// Print job flags.
const (
	jobCopy      = flagA
	jobSent      = flagB
	jobLastError = flagC
	jobRefund    = flagD
	jobNumber    = flagE
	jobAll       = zoneMask | flagA | flagB | flagC | flagD | flagE
)

// Times a record can hold: year 1 to 9999, what format 1 (RFC 3339) held.
var (
	minUnix = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	maxUnix = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - 1
)

type encoder struct {
	b   []byte
	err error
}

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) bytes(p []byte)   { e.uvarint(uint64(len(p))); e.b = append(e.b, p...) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

// strField is an optional string of a record and the flag that says it
// is there.
type strField struct {
	flag uint64
	s    string
}

// strs writes, in order, the fields whose flag f has.
func (e *encoder) strs(f uint64, fields ...strField) {
	for _, v := range fields {
		if f&v.flag != 0 {
			e.str(v.s)
		}
	}
}

func (e *encoder) code(table []string, s string) {
	for i, v := range table {
		if v == s {
			e.uvarint(uint64(i + 1))
			return
		}
	}
	e.uvarint(0)
	e.str(s)
}

// intCode is code for a number: 1 + its index in table, or 0 and the
// number.
func (e *encoder) intCode(table []int, v int) {
	for i, t := range table {
		if t == v {
			e.uvarint(uint64(i + 1))
			return
		}
	}
	e.uvarint(0)
	e.uvarint(uint64(v))
}

// amount: a varint, as a refund or a correction may be negative.
func (e *encoder) amount(a money.Amount) {
	e.code(currencyCodes, a.Currency)
	e.varint(a.Value)
}

func (e *encoder) checkTime(t time.Time) bool {
	if u := t.Unix(); u < minUnix || u > maxUnix {
		e.err = fmt.Errorf("time %v is outside the years 1–9999", t)
		return false
	}
	return true
}

// base writes t (a record's Created) to the nanosecond, then the zone's
// offset if it is fixed.
func (e *encoder) base(t time.Time, zone uint64) {
	if !e.checkTime(t) {
		return
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	if zone == zoneFixed {
		_, off := t.Zone()
		e.varint(int64(off))
	}
}

// seconds writes t as whole seconds after base.
func (e *encoder) seconds(t, base time.Time) {
	if e.checkTime(t) {
		e.varint(t.Unix() - base.Unix())
	}
}

// exact writes t to the nanosecond, as a difference from base.
func (e *encoder) exact(t, base time.Time) {
	if e.checkTime(t) {
		e.varint(t.Unix() - base.Unix())
		e.uvarint(uint64(t.Nanosecond()))
	}
}

func zoneOf(t time.Time) uint64 {
	switch t.Location() {
	case time.UTC:
		return zoneUTC
	case time.Local:
		return zoneLocal
	}
	return zoneFixed
}

func flagIf(b bool, f uint64) uint64 {
	if b {
		return f
	}
	return 0
}

func (e *encoder) sale(s Sale) {
	r, _ := ParseReference(s.Reference) // zero: keep Store and Lane
	zone := zoneOf(s.Created)
	f := zone | flagIf(s.Printed, salePrinted) | flagIf(!s.Updated.IsZero(), saleUpdated) |
		flagIf(!s.Authorized.IsZero(), saleAuthorized) | flagIf(!s.Captured.IsZero(), saleCaptured) |
		flagIf(!s.Ended.IsZero(), saleEnded) | flagIf(s.Store != r.Prefix, saleStore) |
		flagIf(s.Lane != r.Lane, saleLane) | flagIf(s.Error != "", saleError) | flagIf(s.Phone != "", salePhone) |
		flagIf(s.Cashier != "", saleCashier) | flagIf(s.Receipt != 0, saleReceipt) | flagIf(s.Copied, saleCopied) |
		flagIf(s.Remote, saleRemote) | flagIf(s.Journal != 0, saleJournal)
	e.uvarint(f)
	e.code(saleStateCodes, s.State)
	e.code(vippsStateCodes, s.VippsState)
	e.code(apiCodes, s.API)
	e.amount(s.Amount)
	e.base(s.Created, zone)
	for _, t := range []struct {
		flag uint64
		t    time.Time
	}{{saleUpdated, s.Updated}, {saleAuthorized, s.Authorized}, {saleCaptured, s.Captured}, {saleEnded, s.Ended}} {
		if f&t.flag != 0 {
			e.seconds(t.t, s.Created)
		}
	}
	e.strs(f, strField{saleStore, s.Store}, strField{saleLane, s.Lane}, strField{saleError, s.Error},
		strField{salePhone, s.Phone}, strField{saleCashier, s.Cashier})
	if f&saleReceipt != 0 {
		e.uvarint(s.Receipt)
	}
	if f&saleJournal != 0 {
		e.uvarint(s.Journal)
	}
}

func (e *encoder) refund(r Refund) {
	ref, _ := ParseReference(r.Reference)
	zone := zoneOf(r.Created)
	f := zone | flagIf(!r.Updated.IsZero(), refundUpdated) | flagIf(r.Error != "", refundError) |
		flagIf(r.OriginStore != ref.Prefix, refundOriginStore) | flagIf(r.OriginLane != ref.Lane, refundOriginLane) |
		flagIf(r.Store != ref.Prefix, refundStore) | flagIf(r.Lane != ref.Lane, refundLane) | flagIf(r.Receipt != 0, refundReceipt) |
		flagIf(r.Journal != 0, refundJournal) | flagIf(r.Cashier != "", refundCashier)
	e.uvarint(f)
	e.str(r.ID)
	e.str(r.Reference)
	e.code(refundCodes, r.State)
	e.amount(r.Amount)
	e.base(r.Created, zone)
	if f&refundUpdated != 0 {
		e.seconds(r.Updated, r.Created)
	}
	e.strs(f, strField{refundError, r.Error}, strField{refundOriginStore, r.OriginStore},
		strField{refundOriginLane, r.OriginLane}, strField{refundStore, r.Store}, strField{refundLane, r.Lane})
	if f&refundReceipt != 0 {
		e.uvarint(r.Receipt)
	}
	if f&refundJournal != 0 {
		e.uvarint(r.Journal)
	}
	if f&refundCashier != 0 {
		e.str(r.Cashier)
	}
}

func (e *encoder) op(op Op) {
	zone := zoneOf(op.Created)
	f := zone | flagIf(!op.NextAttempt.IsZero(), opNextAttempt) | flagIf(op.IdempotencyKey != "", opKey) |
		flagIf(op.MSN != "", opMSN) | flagIf(op.Body != nil, opBody) | flagIf(op.LastError != "", opLastError)
	e.uvarint(f)
	e.uvarint(op.ID)
	e.str(op.Reference)
	e.code(kindCodes, op.Kind)
	e.code(apiCodes, op.API)
	e.code(methodCodes, op.Method)
	e.str(op.Path)
	e.varint(op.Amount)
	e.varint(int64(op.Attempts))
	e.base(op.Created, zone)
	if f&opNextAttempt != 0 {
		e.exact(op.NextAttempt, op.Created)
	}
	if f&opBody != 0 {
		e.bytes(op.Body)
	}
	e.strs(f, strField{opKey, op.IdempotencyKey}, strField{opMSN, op.MSN}, strField{opLastError, op.LastError})
}

func (e *encoder) job(j PrintJob) {
	zone := zoneOf(j.Created)
	f := zone | flagIf(j.Copy, jobCopy) | flagIf(j.Sent, jobSent) | flagIf(j.LastError != "", jobLastError) |
		flagIf(j.Refund != "", jobRefund) | flagIf(j.Number != 0, jobNumber)
	e.uvarint(f)
	e.uvarint(j.ID)
	e.str(j.Reference)
	e.bytes(j.Receipt)
	e.varint(int64(j.Attempts))
	e.base(j.Created, zone)
	if f&jobLastError != 0 {
		e.str(j.LastError)
	}
	if f&jobRefund != 0 {
		e.str(j.Refund)
	}
	if f&jobNumber != 0 {
		e.uvarint(j.Number)
	}
}

// decoder reads what encoder wrote. The first fault sticks: later reads
// return zeros, and done reports it.
type decoder struct {
	b   []byte
	err error
	loc *time.Location
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s", why)
		d.b = nil
	}
}

// done reports the first fault, or bytes left over.
func (d *decoder) done() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("has %d bytes after its last field", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("is cut short or garbled (%v)", d.err)
	}
	return nil
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.fail("number out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length past the end")
		return nil
	}
	p := make([]byte, n)
	copy(p, d.b) // the record is bbolt's memory, valid only in its transaction
	d.b = d.b[n:]
	return p
}

// strSlot is where an optional string read goes.
type strSlot struct {
	flag uint64
	s    *string
}

// strs reads, in order, the fields whose flag f has.
func (d *decoder) strs(f uint64, slots ...strSlot) {
	for _, v := range slots {
		if f&v.flag != 0 {
			*v.s = d.str()
		}
	}
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("length past the end")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) code(table []string) string {
	c := d.uvarint()
	switch {
	case c == 0:
		return d.str()
	case c > uint64(len(table)):
		d.fail("unknown code")
		return ""
	}
	return table[c-1]
}

func (d *decoder) intCode(table []int) int {
	i := d.uvarint()
	switch {
	case i == 0:
		return int(d.uvarint())
	case i <= uint64(len(table)):
		return table[i-1]
	}
	d.fail("unknown code")
	return 0
}

func (d *decoder) amount() money.Amount {
	cur := d.code(currencyCodes)
	return money.Amount{Currency: cur, Value: d.varint()}
}

func (d *decoder) flags(all uint64) uint64 {
	f := d.uvarint()
	if f&^all != 0 || f&zoneMask > zoneFixed {
		d.fail("unknown flags")
		return 0
	}
	return f
}

func (d *decoder) unix(sec int64, nsec uint64) time.Time {
	if sec < minUnix || sec > maxUnix || nsec >= 1e9 || d.err != nil {
		d.fail("time out of range")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).In(d.loc)
}

// base reads Created and sets the zone every time of the record is read in.
func (d *decoder) base(flags uint64) time.Time {
	sec, nsec := d.varint(), d.uvarint()
	d.zone(flags)
	return d.unix(sec, nsec)
}

// zone reads the zone flags say (and its offset when fixed) and sets it
// as the zone every time of the record is read in.
func (d *decoder) zone(flags uint64) {
	d.loc = time.UTC
	switch flags & zoneMask {
	case zoneLocal:
		d.loc = time.Local
	case zoneFixed:
		off := d.varint()
		if off <= -24*3600 || off >= 24*3600 {
			d.fail("zone offset out of range")
			return
		}
		d.loc = time.FixedZone("", int(off))
	}
}

func (d *decoder) seconds(base time.Time) time.Time {
	delta := d.varint()
	if d.err != nil || delta < minUnix-maxUnix || delta > maxUnix-minUnix {
		d.fail("time out of range")
		return time.Time{}
	}
	return d.unix(base.Unix()+delta, 0)
}

func (d *decoder) exact(base time.Time) time.Time {
	delta := d.varint()
	nsec := d.uvarint()
	if d.err != nil || delta < minUnix-maxUnix || delta > maxUnix-minUnix {
		d.fail("time out of range")
		return time.Time{}
	}
	return d.unix(base.Unix()+delta, nsec)
}

func (d *decoder) sale(ref, prefix, lane string) Sale {
	s := Sale{Reference: ref, Store: prefix, Lane: lane}
	f := d.flags(saleAll)
	s.Printed, s.Copied = f&salePrinted != 0, f&saleCopied != 0
	s.Remote = f&saleRemote != 0
	s.State = d.code(saleStateCodes)
	s.VippsState = d.code(vippsStateCodes)
	s.API = d.code(apiCodes)
	s.Amount = d.amount()
	s.Created = d.base(f)
	for _, t := range []struct {
		flag uint64
		t    *time.Time
	}{{saleUpdated, &s.Updated}, {saleAuthorized, &s.Authorized}, {saleCaptured, &s.Captured}, {saleEnded, &s.Ended}} {
		if f&t.flag != 0 {
			*t.t = d.seconds(s.Created)
		}
	}
	d.strs(f, strSlot{saleStore, &s.Store}, strSlot{saleLane, &s.Lane}, strSlot{saleError, &s.Error},
		strSlot{salePhone, &s.Phone}, strSlot{saleCashier, &s.Cashier})
	if f&saleReceipt != 0 {
		if s.Receipt = d.uvarint(); s.Receipt == 0 {
			d.fail("a zero receipt number kept")
		}
	}
	if f&saleJournal != 0 {
		if s.Journal = d.uvarint(); s.Journal == 0 {
			d.fail("a zero journal entry kept")
		}
	}
	if f&saleStore != 0 && s.Store == prefix || f&saleLane != 0 && s.Lane == lane {
		d.fail("store or lane kept though it is the reference's")
	}
	return s
}

func (d *decoder) refund() Refund {
	var r Refund
	f := d.flags(refundAll)
	r.ID = d.str()
	r.Reference = d.str()
	ref, _ := ParseReference(r.Reference)
	r.OriginStore, r.OriginLane, r.Store, r.Lane = ref.Prefix, ref.Lane, ref.Prefix, ref.Lane
	r.State = d.code(refundCodes)
	r.Amount = d.amount()
	r.Created = d.base(f)
	if f&refundUpdated != 0 {
		r.Updated = d.seconds(r.Created)
	}
	for _, v := range []struct {
		flag uint64
		s    *string
		def  string
	}{{refundError, &r.Error, ""}, {refundOriginStore, &r.OriginStore, ref.Prefix}, {refundOriginLane, &r.OriginLane, ref.Lane},
		{refundStore, &r.Store, ref.Prefix}, {refundLane, &r.Lane, ref.Lane}} {
		if f&v.flag != 0 {
			if *v.s = d.str(); *v.s == v.def {
				d.fail("a field kept though it has its default")
			}
		}
	}
	if f&refundReceipt != 0 {
		if r.Receipt = d.uvarint(); r.Receipt == 0 {
			d.fail("a zero receipt number kept")
		}
	}
	if f&refundJournal != 0 {
		if r.Journal = d.uvarint(); r.Journal == 0 {
			d.fail("a zero journal entry kept")
		}
	}
	if f&refundCashier != 0 {
		if r.Cashier = d.str(); r.Cashier == "" {
			d.fail("an empty cashier kept")
		}
	}
	return r
}

func (d *decoder) op() Op {
	var op Op
	f := d.flags(opAll)
	op.ID = d.uvarint()
	op.Reference = d.str()
	op.Kind = d.code(kindCodes)
	op.API = d.code(apiCodes)
	op.Method = d.code(methodCodes)
	op.Path = d.str()
	op.Amount = d.varint()
	op.Attempts = d.int()
	op.Created = d.base(f)
	if f&opNextAttempt != 0 {
		op.NextAttempt = d.exact(op.Created)
	}
	if f&opBody != 0 {
		op.Body = d.bytes()
	}
	for _, v := range []struct {
		flag uint64
		s    *string
	}{{opKey, &op.IdempotencyKey}, {opMSN, &op.MSN}, {opLastError, &op.LastError}} {
		if f&v.flag != 0 {
			if *v.s = d.str(); *v.s == "" {
				d.fail("an empty field kept")
			}
		}
	}
	return op
}

func (d *decoder) job() PrintJob {
	var j PrintJob
	f := d.flags(jobAll)
	j.Copy, j.Sent = f&jobCopy != 0, f&jobSent != 0
	j.ID = d.uvarint()
	j.Reference = d.str()
	j.Receipt = d.bytes()
	j.Attempts = d.int()
	j.Created = d.base(f)
	if f&jobLastError != 0 {
		if j.LastError = d.str(); j.LastError == "" {
			d.fail("an empty field kept")
		}
	}
	if f&jobRefund != 0 {
		if j.Refund = d.str(); j.Refund == "" {
			d.fail("an empty field kept")
		}
	}
	if f&jobNumber != 0 {
		if j.Number = d.uvarint(); j.Number == 0 {
			d.fail("a zero receipt number kept")
		}
	}
	return j
}
