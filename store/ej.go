package store

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

// The electronic journal (elektronisk journal, kassasystemforskriften
// § 2-7 (1), § 1-2 k): every cash transaction and event of the register, appended in
// the commit that makes it true, never changed or deleted (Archive leaves
// it alone), numbered by one gap-free sequence. Cash transactions carry a
// signature chained to the register's previous one (§ 2-7 (1) and the signature guidance); the
// SAF-T export and the X and Z reports read nothing else.

// Codes of the Tax Administration's SAF-T Cash Register code lists
// (PredefinedBasicID-11 transaction types, -12 payment types, -13 events).
const (
	TransCashSale     = 11001 // a sale paid at once (Vipps MobilePay is paid at capture)
	TransReturn       = 11006 // "Return payment": money given back on a sale
	PaymentMobileApps = 12011 // "Mobile phone apps": Vipps MobilePay

	EventStart         = 13001 // POS application start
	EventShutdown      = 13002 // POS application shut down
	EventLogin         = 13003 // employee log in
	EventLogout        = 13004 // employee log out
	EventUpdate        = 13007 // update of POS application
	EventXReport       = 13008
	EventZReport       = 13009
	EventSalesReceipt  = 13012 // sales receipt printed
	EventReturnReceipt = 13013
	EventCopyReceipt   = 13014
	EventOtherReport   = 13018 // other reports or receipts
	EventUnprinted     = 13030 // concluded sale without receipt printed
	EventOther         = 13999 // other events: configuration changes, locks, refused PINs
)

// Entry is one line of the electronic journal: an event, or a cash
// transaction (Code 11xxx) with its amounts and signature.
type Entry struct {
	Seq     uint64    `json:"seq"` // the journal's sequence: SAF-T eventID and transID
	Time    time.Time `json:"time"`
	Code    int       `json:"code"` // one of the Trans* or Event* codes
	Store   string    `json:"store"`
	Lane    string    `json:"lane"`
	Cashier string    `json:"cashier,omitempty"` // SAF-T empID
	Text    string    `json:"text,omitempty"`
	// Reference is the Vipps reference of the sale the entry is about.
	Reference string `json:"reference,omitempty"`
	// Trans is, for an event about a cash transaction (a receipt printed,
	// a copy), that transaction's Seq.
	Trans uint64 `json:"trans,omitempty"`

	// A cash transaction's fields.
	Nr       uint64 `json:"nr,omitempty"` // the receipt's number, as printed
	Amount   int64  `json:"amount,omitempty"`
	VAT      int64  `json:"vat,omitempty"`     // the VAT in Amount; both negative for a return
	TaxRate  int    `json:"taxRate,omitempty"` // basis points
	Currency string `json:"currency,omitempty"`
	Payment  int    `json:"payment,omitempty"` // a 12xxx code
	// Signature is base64 of the RSA-SHA1 signature of SignedString;
	// empty when the store has no Signer (tests, never kassed).
	Signature  string `json:"signature,omitempty"`
	KeyVersion string `json:"keyVersion,omitempty"`

	// Z is a Z report's number, gap-free per register (§ 2-8-3).
	Z uint64 `json:"z,omitempty"`
	// Body is a report's contents (JSON made by the report's maker).
	Body []byte `json:"body,omitempty"`
}

// IsTransaction reports whether e is a cash transaction.
func (e Entry) IsTransaction() bool { return e.Code >= 11000 && e.Code < 12000 }

// Net is the amount without VAT.
func (e Entry) Net() int64 { return e.Amount - e.VAT }

// Signer signs cash transactions. The journal calls it inside the commit
// that appends the transaction, so the chain follows the commit order.
type Signer interface {
	Sign(msg []byte) (signature []byte, err error)
	KeyVersion() string
}

// SignedString is what a cash transaction's signature covers: the
// previous transaction's signature ("0" before the register's first),
// date, time, number, amount with and without VAT, two decimals and a
// point, negative for a return. The Tax Administration's "Requirements
// and guidelines for implementing digital signatures in Cash Register
// Systems" § 2.2.4, e.g. "0;2014-01-24;23:59:59;123456789;1250.00;1000.00".
func SignedString(prev string, e Entry) string {
	if prev == "" {
		prev = "0"
	}
	return prev + ";" + e.Time.Format(time.DateOnly) + ";" + e.Time.Format(time.TimeOnly) + ";" +
		strconv.FormatUint(e.Nr, 10) + ";" + Decimal(e.Amount) + ";" + Decimal(e.Net())
}

// Decimal is minor units as SAF-T writes amounts: "-12.50".
func Decimal(minor int64) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-minor)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ErrJournal is wrapped when an entry cannot be journaled as asked.
var ErrJournal = errors.New("electronic journal")

// The journal's bucket (schema 4; short keys and format 3 records since
// schema 5). A sale's or refund's record keeps the Seq of its transaction
// (Sale.Journal), so no index by reference is needed.
var bucketEJ = []byte("ej") // ejKey(seq) → entry record

// ejKey is seq's key: its length in bytes, then seq big-endian in that
// many (4 bytes up to 16 million entries, where uint64's 8 cost a sale 8
// bytes with its event). A length byte before fewer bytes sorts before a
// longer one, so keys keep the sequence's order. Schema 4's first journals
// keyed entries by the full 8 bytes (idKey), which begin with 0 and so
// sort before every ejKey, as their Seqs come before; both are read.
func ejKey(seq uint64) []byte {
	n := (bits.Len64(seq) + 7) / 8
	k := make([]byte, 1, 1+n)
	k[0] = byte(n)
	for i := n - 1; i >= 0; i-- {
		k = append(k, byte(seq>>(8*i)))
	}
	return k
}

// ejSeq reads a key of either form; ok is false for neither.
func ejSeq(k []byte) (seq uint64, ok bool) {
	switch {
	case len(k) == 8 && k[0] == 0: // idKey
		return binary.BigEndian.Uint64(k), true
	case len(k) >= 2 && len(k) <= 9 && int(k[0]) == len(k)-1 && k[1] != 0:
		for _, b := range k[1:] {
			seq = seq<<8 | uint64(b)
		}
		return seq, true
	}
	return 0, false
}

// chainKey holds a register's last signature, zKey its last Z number and
// zSeqKey that report's Seq, all in the counters bucket.
func chainKey(store, lane string) []byte { return []byte("ej/chain/" + store + "-" + lane) }
func zKey(store, lane string) []byte     { return []byte("ej/z/" + store + "-" + lane) }
func zSeqKey(store, lane string) []byte  { return []byte("ej/zseq/" + store + "-" + lane) }

// appendEntry gives e the next Seq, signs it when it is a transaction, and
// stores it in tx.
func (db *DB) appendEntry(tx *bolt.Tx, e *Entry) error {
	if e.Time.IsZero() {
		e.Time = db.now()
	}
	// The journal, the signature and SAF-T keep whole seconds.
	e.Time = e.Time.Truncate(time.Second)
	if e.Code < 11000 || e.Code > 13999 || (e.Code >= 12000 && e.Code < 13000) {
		return fmt.Errorf("%w: code %d is neither a transaction type (11xxx) nor an event (13xxx)", ErrJournal, e.Code)
	}
	if e.Store == "" || e.Lane == "" {
		return fmt.Errorf("%w: entry %d has no register (store and lane)", ErrJournal, e.Code)
	}
	b := tx.Bucket(bucketEJ)
	b.FillPercent = tailFill
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.IsTransaction() && db.signer != nil {
		counters := tx.Bucket(bucketCounters)
		key := chainKey(e.Store, e.Lane)
		prev := string(counters.Get(key))
		sig, err := db.signer.Sign([]byte(SignedString(prev, *e)))
		if err != nil {
			return fmt.Errorf("%w: signing transaction %d: %w", ErrJournal, e.Nr, err)
		}
		e.Signature, e.KeyVersion = base64.StdEncoding.EncodeToString(sig), db.signer.KeyVersion()
		if err := counters.Put(key, []byte(e.Signature)); err != nil {
			return err
		}
	}
	transRegister := false
	if e.Trans != 0 && e.Reference == "" {
		t, err := getEntry(tx, e.Trans)
		if err != nil {
			return err
		}
		transRegister = t.Store == e.Store && t.Lane == e.Lane
	}
	rec, err := encodeEntry(*e, transRegister)
	if err != nil {
		return err
	}
	if err := b.Put(ejKey(seq), rec); err != nil {
		return err
	}
	return nil
}

func getEntry(tx *bolt.Tx, seq uint64) (Entry, error) {
	b := tx.Bucket(bucketEJ)
	rec := b.Get(ejKey(seq))
	if rec == nil {
		rec = b.Get(idKey(seq)) // schema 4's first journals
	}
	if rec == nil {
		return Entry{}, fmt.Errorf("%w: entry %d is missing", ErrDamaged, seq)
	}
	return decodeEntry(seq, rec, registerIn(tx))
}

// registerIn finds the register of the entry an event names (Trans) in
// tx.
func registerIn(tx *bolt.Tx) registerOf {
	return func(trans uint64) (string, string, error) {
		t, err := getEntry(tx, trans)
		return t.Store, t.Lane, err
	}
}

// saleEntry is the cash transaction of s, whose receipt number was just
// drawn.
func (db *DB) saleEntry(s Sale, now time.Time) Entry {
	return Entry{Time: now, Code: TransCashSale, Store: s.Store, Lane: s.Lane, Cashier: s.Cashier,
		Reference: s.Reference, Nr: s.Receipt, Amount: s.Amount.Value, Currency: s.Amount.Currency,
		TaxRate: db.taxRate, VAT: money.VAT(s.Amount.Value, db.taxRate), Payment: PaymentMobileApps}
}

// refundEntry is the cash transaction of refund r, whose slip number was
// just drawn: amounts negative.
func (db *DB) refundEntry(r Refund, now time.Time) Entry {
	text := ""
	if r.OriginStore != r.Store || r.OriginLane != r.Lane {
		text = "refund of a sale made by " + r.OriginStore + " lane " + r.OriginLane
	}
	return Entry{Time: now, Code: TransReturn, Store: r.Store, Lane: r.Lane, Cashier: r.Cashier, Reference: r.Reference, Text: text,
		Nr: r.Receipt, Amount: -r.Amount.Value, Currency: r.Amount.Currency, TaxRate: db.taxRate,
		VAT: -money.VAT(r.Amount.Value, db.taxRate), Payment: PaymentMobileApps}
}

// receiptEvent journals event code (a receipt printed, copied or not
// printed) about the cash transaction trans (its Seq; 0 for a sale from
// before the journal). The event does not repeat the transaction's
// reference, register or cashier: Trans leads to them, and every sale has
// such events.
func (db *DB) receiptEvent(tx *bolt.Tx, code int, trans uint64, ref, store, lane, cashier string, at time.Time) error {
	e := Entry{Time: at, Code: code, Store: store, Lane: lane, Trans: trans}
	if trans == 0 { // a sale from before the journal: these are all there is
		e.Reference, e.Cashier = ref, cashier
	}
	return db.appendEntry(tx, &e)
}

// Record appends the event e (Code 13xxx, not a report: see Report and
// CloseDay) in its own commit and returns it as stored.
func (db *DB) Record(e Entry) (Entry, error) {
	es, err := db.RecordWith(nil, e)
	if err != nil {
		return e, err
	}
	return es[0], nil
}

// RecordWith appends the events es and stores the settings in one commit
// (kassed's start: what it journals and what it compares with next time).
func (db *DB) RecordWith(settings map[string]string, es ...Entry) ([]Entry, error) {
	for _, e := range es {
		if e.IsTransaction() {
			return nil, fmt.Errorf("%w: transaction %d: the journal records a transaction only with its sale or refund", ErrJournal, e.Code)
		}
		if e.Code == EventZReport {
			return nil, fmt.Errorf("%w: a Z report closes the period: use CloseDay", ErrJournal)
		}
	}
	es = slices.Clone(es)
	err := db.update(func(tx *bolt.Tx) error {
		for i := range es {
			if err := db.appendEntry(tx, &es[i]); err != nil {
				return err
			}
		}
		for k, v := range settings {
			if err := tx.Bucket(bucketSettings).Put([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: journaling %d events: %w", db.path, len(es), err)
	}
	return es, nil
}

// Entries calls fn for every journal entry with from ≤ Seq (from 0 or 1:
// all), in order, inside one read transaction; fn's error stops the walk
// and is returned. Archived sales keep their entries. Every 1024 entries
// it drops the mapped pages read so far (as mappedRelease does; the read
// transaction holds the mmap lock), so a walk of a year's journal (the
// SAF-T export) does not keep the file in kassed's RSS.
func (db *DB) Entries(from uint64, fn func(Entry) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		n := 0
		return entriesFrom(tx, from, func(e Entry) error {
			if n++; n%1024 == 0 {
				releaseMapped(db.bolt.Info().Data, tx.Size())
			}
			return fn(e)
		})
	})
}

func entriesFrom(tx *bolt.Tx, from uint64, fn func(Entry) error) error {
	c := tx.Bucket(bucketEJ).Cursor()
	// A receipt event's transaction is nearly always the entry before it.
	var last Entry
	lookup := registerIn(tx)
	register := func(trans uint64) (string, string, error) {
		if trans == last.Seq && last.Seq != 0 {
			return last.Store, last.Lane, nil
		}
		return lookup(trans)
	}
	// The first key at or after from: an idKey if schema 4 wrote one
	// there, else an ejKey.
	k, v := c.Seek(idKey(from))
	if k == nil || k[0] != 0 {
		k, v = c.Seek(ejKey(from))
	}
	for ; k != nil; k, v = c.Next() {
		seq, ok := ejSeq(k)
		if !ok {
			return fmt.Errorf("%w (journal key %x)", ErrDamaged, k)
		}
		e, err := decodeEntry(seq, v, register)
		if err != nil {
			return err
		}
		last = e
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// PeriodView is register store-lane's open period read inside one
// transaction: the last Z report, a walk over the period's entries, and
// any journal entry by Seq (a copy's sale may belong to an earlier period).
type PeriodView struct {
	LastZ Entry
	Walk  func(fn func(Entry) error) error
	Entry func(seq uint64) (Entry, error)
}

func viewIn(tx *bolt.Tx, lastZ Entry, store, lane string) PeriodView {
	return PeriodView{LastZ: lastZ,
		Walk:  func(fn func(Entry) error) error { return walkPeriod(tx, lastZ, store, lane, fn) },
		Entry: func(seq uint64) (Entry, error) { return getEntry(tx, seq) }}
}

// ReadPeriod calls fn with register store-lane's open period, all in one
// read transaction (an X report: the sums of one moment).
func (db *DB) ReadPeriod(store, lane string, fn func(PeriodView) error) error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		lastZ, err := lastZIn(tx, store, lane)
		if err != nil {
			return err
		}
		return fn(viewIn(tx, lastZ, store, lane))
	})
}

// lastZIn is register store-lane's last Z report (Seq 0 before the first).
func lastZIn(tx *bolt.Tx, store, lane string) (Entry, error) {
	v := tx.Bucket(bucketCounters).Get(zSeqKey(store, lane))
	if v == nil {
		return Entry{}, nil
	}
	if len(v) != 8 {
		return Entry{}, fmt.Errorf("%w (counter %s is %d bytes)", ErrDamaged, zSeqKey(store, lane), len(v))
	}
	return getEntry(tx, binary.BigEndian.Uint64(v))
}

// walkPeriod calls fn for the register's entries after lastZ.
func walkPeriod(tx *bolt.Tx, lastZ Entry, store, lane string, fn func(Entry) error) error {
	return entriesFrom(tx, lastZ.Seq+1, func(e Entry) error {
		if e.Store != store || e.Lane != lane {
			return nil
		}
		return fn(e)
	})
}

// CloseDay appends a Z report for z.Store-z.Lane, closing its period, in
// one write transaction: build gets the report as it will be stored (its
// Z number and time set) and the period (the previous Z report, a walk of
// the entries after it, entries by Seq) and returns the report's Body, so no sale
// can slip in between the sums and the close. The report takes the next Z
// number (kassasystemforskriften § 2-8-3: gap-free); an error from build
// stores nothing and uses no number.
func (db *DB) CloseDay(z Entry, build func(z Entry, period PeriodView) ([]byte, error)) (Entry, error) {
	z.Code = EventZReport
	err := db.update(func(tx *bolt.Tx) error {
		if z.Time.IsZero() {
			z.Time = db.now()
		}
		counters := tx.Bucket(bucketCounters)
		n, err := nextCounter(counters, zKey(z.Store, z.Lane))
		if err != nil {
			return err
		}
		z.Z = n
		lastZ, err := lastZIn(tx, z.Store, z.Lane)
		if err != nil {
			return err
		}
		if z.Body, err = build(z, viewIn(tx, lastZ, z.Store, z.Lane)); err != nil {
			return err
		}
		if err := db.appendEntry(tx, &z); err != nil {
			return err
		}
		return counters.Put(zSeqKey(z.Store, z.Lane), idKey(z.Seq))
	})
	if err != nil {
		return z, fmt.Errorf("database %s: closing the day (Z report): %w", db.path, err)
	}
	return z, nil
}

// nextCounter adds one to the uint64 at key and returns it.
func nextCounter(b *bolt.Bucket, key []byte) (uint64, error) {
	var n uint64
	if v := b.Get(key); v != nil {
		if len(v) != 8 {
			return 0, fmt.Errorf("%w (counter %s is %d bytes)", ErrDamaged, key, len(v))
		}
		n = binary.BigEndian.Uint64(v)
	}
	n++
	return n, b.Put(key, binary.BigEndian.AppendUint64(nil, n))
}
