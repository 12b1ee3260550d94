package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
	"kasse/vippsid"
)

// The till's view of a sale, in Sale.State.
const (
	StateCreated    = "created"    // reference drawn, nothing sent yet
	StateWaiting    = "waiting"    // payment created at Vipps, customer to approve
	StateAuthorized = "authorized" // customer approved, not yet captured
	StateCaptured   = "captured"   // money taken: the sale is complete
	StateCancelled  = "cancelled"  // cashier or customer cancelled
	StateExpired    = "expired"    // customer did not approve in time
	StateAborted    = "aborted"    // customer aborted in the app
	StateFailed     = "failed"     // Vipps refused the payment
)

var states = map[string]bool{
	StateCreated: true, StateWaiting: true, StateAuthorized: true, StateCaptured: true,
	StateCancelled: true, StateExpired: true, StateAborted: true, StateFailed: true,
}

// ErrNotFound is wrapped by Sale's error when no sale has the reference.
var ErrNotFound = errors.New("sale not found")

// Sale is one payment attempt at the till, keyed by its reference.
type Sale struct {
	Reference  string       `json:"reference"`
	Store      string       `json:"store"`
	Lane       string       `json:"lane"`
	Amount     money.Amount `json:"amount"`
	State      string       `json:"state"`                // one of the State constants
	VippsState string       `json:"vippsState,omitempty"` // last state read from Vipps (CREATED, AUTHORIZED, ...)
	Error      string       `json:"error,omitempty"`      // last error shown for this sale
	Created    time.Time    `json:"created"`
	Updated    time.Time    `json:"updated"` // set by PutSale
	Authorized time.Time    `json:"authorized,omitzero"`
	Captured   time.Time    `json:"captured,omitzero"`
	Ended      time.Time    `json:"ended,omitzero"`
	Printed    bool         `json:"printed"`
	// API is the Vipps API the payment lives in: "" for ePayment, "ecom"
	// for eCom v2 (the QR API's one-time QR on its landing page).
	API string `json:"api,omitempty"`
	// Phone is the shopper's number of a push payment, kept only when the
	// merchant turned on vipps.keep_phone_numbers.
	Phone string `json:"phone,omitempty"`
	// Cashier is the id of the cashier logged in when the sale began
	// ([[keys.cashiers]]); empty on a till without login.
	Cashier string `json:"cashier,omitempty"`
	// Receipt is the number of the sale's receipt (salgskvittering), from
	// the register's own gap-free sequence; set when the original is
	// queued, in the same commit.
	Receipt uint64 `json:"receipt,omitempty"`
	// Copied: its one copy (kopikvittering) was queued or printed.
	Copied bool `json:"copied,omitempty"`
	// Remote marks a distance sale: the customer was not in the shop
	// (CUSTOMER_NOT_PRESENT, the till's remote key). A remote sale in
	// StateAuthorized is a reservation kept until the order is dispatched.
	Remote bool `json:"remote,omitempty"`
	// Journal is the Seq of its cash transaction in the electronic
	// journal, set in the commit that journals it: events about the
	// receipt (printed, copied) name it.
	Journal uint64 `json:"journal,omitempty"`
}

// PutSale inserts or updates the sale with s.Reference in one transaction.
// It sets Updated to the store's clock. A zero Created means "now" for a new
// sale and "unchanged" for an existing one. Printed never goes back to false:
// a stale copy of the sale must not allow a second original receipt.
func (db *DB) PutSale(s Sale) error {
	if err := checkSale(s); err != nil {
		return err
	}
	err := db.update(func(tx *bolt.Tx) error {
		_, err := putSale(tx, s, db.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("database %s: storing sale %s: %w", db.path, s.Reference, err)
	}
	return nil
}

func checkSale(s Sale) error {
	if !vippsid.Reference(s.Reference) {
		return fmt.Errorf("sale reference %q is not valid for Vipps: use 8–50 of a-z, A-Z, 0-9 and -", s.Reference)
	}
	if !states[s.State] {
		return fmt.Errorf("sale %s: state %q is not one of created, waiting, authorized, captured, cancelled, expired, aborted, failed",
			s.Reference, s.State)
	}
	return nil
}

// appendFill is the fill percent for buckets whose keys mostly arrive in
// order (sequences, references counting up): bbolt's default 0.5 would
// leave every page half empty, doubling the file. The tenth left free takes
// the growth of records updated in place (a sale gains its times).
const appendFill = 0.9

// tailFill is for indexes whose keys only ever arrive last and whose
// values never change (a sale's time and store entries): a page split
// there leaves the first page full and starts the next.
const tailFill = 1.0

// bucket returns the bucket name of tx, with the fill percent that suits
// it. FillPercent is not stored in the file, so every write sets it; use
// this for every bucket a write transaction touches.
func bucket(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	if b == nil {
		return nil
	}
	switch string(name) {
	case string(bucketSalesByTime), string(bucketRefundsByTime):
		b.FillPercent = tailFill
	case string(bucketSales), string(bucketOutbox), string(bucketOutboxByRef), string(bucketPrint),
		string(bucketPrintByRef), string(bucketRefundsByRef):
		b.FillPercent = appendFill
	}
	return b
}

// putSale writes s (already checked) and its indexes in tx and returns what
// was stored.
func putSale(tx *bolt.Tx, s Sale, now time.Time) (Sale, error) {
	s.Updated = now
	key := saleKey(s.Reference)
	sales, byTime := bucket(tx, bucketSales), bucket(tx, bucketSalesByTime)
	if old := sales.Get(key); old != nil {
		prev, err := decodeSale(key, old)
		if err != nil {
			return Sale{}, err
		}
		if s.Created.IsZero() {
			s.Created = prev.Created
		}
		s.Printed = s.Printed || prev.Printed
		// The receipt number and the copy mark, like Printed, never go
		// back: a stale copy of the sale must not free either.
		s.Receipt = max(s.Receipt, prev.Receipt)
		s.Copied = s.Copied || prev.Copied
		s.Journal = max(s.Journal, prev.Journal)
		if !s.Created.Equal(prev.Created) {
			if err := byTime.Delete(timeKey(prev.Created, key)); err != nil {
				return Sale{}, err
			}
		}
	} else if s.Created.IsZero() {
		s.Created = now
	}
	rec, err := encodeSale(s)
	if err != nil {
		return Sale{}, err
	}
	if err := sales.Put(key, rec); err != nil {
		return Sale{}, err
	}
	return s, byTime.Put(timeKey(s.Created, key), nil)
}

// getSale reads the sale with ref in tx; ok is false when there is none.
func getSale(tx *bolt.Tx, ref string) (s Sale, ok bool, err error) {
	key := saleKey(ref)
	rec := tx.Bucket(bucketSales).Get(key)
	if rec == nil {
		return Sale{}, false, nil
	}
	s, err = decodeSale(key, rec)
	return s, err == nil, err
}

// Sale returns the sale with reference ref, or an error wrapping ErrNotFound.
func (db *DB) Sale(ref string) (Sale, error) {
	var s Sale
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		if s, ok, err = getSale(tx, ref); err == nil && !ok {
			return fmt.Errorf("sale %s: %w", ref, ErrNotFound)
		}
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Sale{}, fmt.Errorf("database %s: reading sale %s: %w", db.path, ref, err)
	}
	s.Printed = s.Printed || err == nil && db.printedWaiting(ref)
	return s, err
}

// salesBatch is how many sales Journal reads per read transaction. fn runs
// outside any transaction, so it may write without deadlocking on a remap,
// and a long walk does not pin old pages.
const salesBatch = 256

// salesScan is how many index keys Journal reads per read transaction.
const salesScan = 16 * salesBatch

// Filter selects journal entries: created in [Since, Until) (a zero bound is
// open) and, when Store is set, of that store.
type Filter struct {
	Since, Until time.Time
	Store        string
}

// Sales calls fn for every sale in creation order, stopping at fn's first
// error, which it returns unchanged. Sales stored while it runs may or may not
// be seen.
func (db *DB) Sales(fn func(Sale) error) error { return db.Journal(Filter{}, fn) }

// Journal calls fn for every sale f selects, in creation order, like Sales.
// It walks the time index from f.Since, so it reads the sales of that
// time on (a register's are nearly all its own store's: schema 5 has no
// store index).
func (db *DB) Journal(f Filter, fn func(Sale) error) error {
	var until []byte // index keys: [seek, until)
	seek := timeKey(f.Since, nil)
	if f.Since.IsZero() {
		seek = nil
	}
	if !f.Until.IsZero() {
		until = timeKey(f.Until, nil)
	}
	skipEqual := false
	for {
		batch, done := make([]Sale, 0, salesBatch), false
		err := db.bolt.View(func(tx *bolt.Tx) error {
			sales := tx.Bucket(bucketSales)
			c := tx.Bucket(bucketSalesByTime).Cursor()
			var k []byte
			if seek == nil {
				k, _ = c.First()
			} else {
				k, _ = c.Seek(seek)
			}
			if skipEqual && bytes.Equal(k, seek) {
				k, _ = c.Next()
			}
			// A store filter skips the other stores' sales; a read
			// transaction reads at most salesScan keys, so a store with
			// few sales in a large file does not hold one for long.
			for scanned := 0; len(batch) < salesBatch && scanned < salesScan; k, _ = c.Next() {
				if k == nil || until != nil && bytes.Compare(k, until) >= 0 {
					done = true
					return nil
				}
				scanned++
				if len(k) < 8 {
					return fmt.Errorf("%w (index key %x is too short)", ErrDamaged, k)
				}
				seek = bytes.Clone(k)
				rec := sales.Get(k[8:])
				if rec == nil {
					return fmt.Errorf("%w (index names sale %q, which is missing)", ErrDamaged, k[8:])
				}
				s, err := decodeSale(k[8:], rec)
				if err != nil {
					return err
				}
				if f.Store == "" || s.Store == f.Store {
					batch = append(batch, s)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("database %s: listing sales: %w", db.path, err)
		}
		skipEqual = true
		for _, s := range batch {
			s.Printed = s.Printed || db.printedWaiting(s.Reference)
			if err := fn(s); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// timeKey orders an index by creation time, then key (a saleKey or a
// refund ID). Nanoseconds keep the order of sales made in the same second.
// The sign bit is flipped so times before 1970 still sort first.
func timeKey(t time.Time, key []byte) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(key)), uint64(t.UnixNano())^(1<<63))
	return append(k, key...)
}
