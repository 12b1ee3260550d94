package store

import (
	"bytes"
	"cmp"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

// Refund states.
const (
	RefundPending = "pending" // intent stored, Vipps has not confirmed
	RefundDone    = "done"    // Vipps confirmed the refund
	RefundFailed  = "failed"  // Vipps refused it; see Error
)

// Refund is money given back on a sale, possibly by another store's register
// (one MSN serves the chain). It is keyed by ID, its idempotency key.
type Refund struct {
	ID          string       `json:"id"`
	Reference   string       `json:"reference"`   // the sale's reference
	OriginStore string       `json:"originStore"` // parsed from Reference
	OriginLane  string       `json:"originLane"`  // parsed from Reference
	Store       string       `json:"store"`       // the register that refunded
	Lane        string       `json:"lane"`
	Amount      money.Amount `json:"amount"`
	State       string       `json:"state"` // one of the Refund* constants
	Created     time.Time    `json:"created"`
	Updated     time.Time    `json:"updated"` // set by PutRefund
	Error       string       `json:"error,omitempty"`
	// Receipt is the number of the refund's slip (returkvittering), from
	// the refunding register's own sequence, apart from the sales'.
	Receipt uint64 `json:"receipt,omitempty"`
	// Journal is the Seq of its cash transaction (11006) in the
	// electronic journal.
	Journal uint64 `json:"journal,omitempty"`
	// Cashier is who was logged in at the till that refunded (SAF-T
	// empID of the return); empty at head office or without logins.
	Cashier string `json:"cashier,omitempty"`
}

// PutRefund inserts or updates the refund with r.ID and appends ops (the
// refund's intent) in one transaction, returning the ops' IDs. OriginStore
// and OriginLane are taken from r.Reference; a zero Created means "now" for a
// new refund and "unchanged" for an existing one.
func (db *DB) PutRefund(r Refund, ops ...Op) ([]uint64, error) {
	return db.FinishRefund(r, nil, ops...)
}

// FinishRefund is PutRefund that also deletes the done ops, so Vipps's reply
// and the refund's new state commit together.
func (db *DB) FinishRefund(r Refund, done []uint64, next ...Op) ([]uint64, error) {
	r, err := checkRefund(r)
	if err != nil {
		return nil, err
	}
	if err := checkOps(next); err != nil {
		return nil, err
	}
	var ids []uint64
	err = db.update(func(tx *bolt.Tx) error {
		now := db.now()
		if err := finishRefund(tx, r, done, now); err != nil {
			return err
		}
		ids, err = appendOps(tx, now, next)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: storing refund %s of %s: %w", db.path, r.ID, r.Reference, err)
	}
	return ids, nil
}

// finishRefund stores r and deletes its done ops in tx.
func finishRefund(tx *bolt.Tx, r Refund, done []uint64, now time.Time) error {
	if err := putRefund(tx, r, now); err != nil {
		return err
	}
	return deleteOps(tx, r.Reference, done)
}

func checkRefund(r Refund) (Refund, error) {
	if r.ID == "" || len(r.ID) > 50 {
		return r, fmt.Errorf("refund of %s: ID %q must be 1–50 characters (it is the idempotency key)", r.Reference, r.ID)
	}
	ref, err := ParseReference(r.Reference)
	if err != nil {
		return r, fmt.Errorf("refund %s: %w", r.ID, err)
	}
	r.OriginStore, r.OriginLane = ref.Prefix, ref.Lane
	switch r.State {
	case RefundPending, RefundDone, RefundFailed:
	default:
		return r, fmt.Errorf("refund %s: state %q is not one of pending, done, failed", r.ID, r.State)
	}
	return r, nil
}

// keeping is r with what never goes back taken from its stored prev:
// the slip's number, the journal entry and the cashier, so a stale copy
// of the refund frees none of them.
func (r Refund) keeping(prev Refund) Refund {
	r.Receipt = max(r.Receipt, prev.Receipt)
	r.Journal = max(r.Journal, prev.Journal)
	r.Cashier = cmp.Or(r.Cashier, prev.Cashier)
	return r
}

func putRefund(tx *bolt.Tx, r Refund, now time.Time) error {
	r.Updated = now
	refunds, byTime, byRef := bucket(tx, bucketRefunds), bucket(tx, bucketRefundsByTime), bucket(tx, bucketRefundsByRef)
	id := []byte(r.ID)
	if old := refunds.Get(id); old != nil {
		prev, err := decode[Refund]("refund", old)
		if err != nil {
			return err
		}
		if prev.Reference != r.Reference {
			return fmt.Errorf("refund ID %s is already used for sale %s: use a new idempotency key", r.ID, prev.Reference)
		}
		if r.Created.IsZero() {
			r.Created = prev.Created
		}
		r = r.keeping(prev)
		if !r.Created.Equal(prev.Created) {
			if err := byTime.Delete(timeKey(prev.Created, id)); err != nil {
				return err
			}
		}
	} else if r.Created.IsZero() {
		r.Created = now
	}
	rec, err := encode("refund "+r.ID, r)
	if err != nil {
		return err
	}
	if err := refunds.Put(id, rec); err != nil {
		return err
	}
	if err := byTime.Put(timeKey(r.Created, id), nil); err != nil {
		return err
	}
	return byRef.Put(refKey(r.Reference, id), nil)
}

// Refunds calls fn for every refund f selects, in creation order, stopping
// at fn's first error. f.Store matches the register that refunded or the
// store that made the sale, so each store's log shows both sides.
func (db *DB) Refunds(f Filter, fn func(Refund) error) error {
	var all []Refund
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		all, err = refundsIn(tx, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("database %s: listing refunds: %w", db.path, err)
	}
	for _, r := range all {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// refundsIn reads the selected refunds at once: refunds are few next to
// sales, and fn then runs outside the transaction.
func refundsIn(tx *bolt.Tx, f Filter) ([]Refund, error) {
	var out []Refund
	refunds := tx.Bucket(bucketRefunds)
	c := tx.Bucket(bucketRefundsByTime).Cursor()
	k, _ := c.First()
	if !f.Since.IsZero() {
		k, _ = c.Seek(timeKey(f.Since, nil))
	}
	var until []byte
	if !f.Until.IsZero() {
		until = timeKey(f.Until, nil)
	}
	for ; k != nil && (until == nil || bytes.Compare(k, until) < 0); k, _ = c.Next() {
		if len(k) < 8 {
			return nil, fmt.Errorf("%w (refund index key %x is too short)", ErrDamaged, k)
		}
		rec := refunds.Get(k[8:])
		if rec == nil {
			return nil, fmt.Errorf("%w (index names refund %s, which is missing)", ErrDamaged, k[8:])
		}
		r, err := decode[Refund]("refund", rec)
		if err != nil {
			return nil, err
		}
		if f.Store == "" || r.Store == f.Store || r.OriginStore == f.Store {
			out = append(out, r)
		}
	}
	return out, nil
}

// RefundsFor returns the refunds of the sale with reference ref, in ID order.
func (db *DB) RefundsFor(ref string) ([]Refund, error) {
	var out []Refund
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		out, err = refundsFor(tx, ref)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: refunds of %s: %w", db.path, ref, err)
	}
	return out, nil
}

func refundsFor(tx *bolt.Tx, ref string) ([]Refund, error) {
	var out []Refund
	refunds := tx.Bucket(bucketRefunds)
	prefix := refKey(ref, nil)
	c := tx.Bucket(bucketRefundsByRef).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		id := k[len(prefix):]
		rec := refunds.Get(id)
		if rec == nil {
			return nil, fmt.Errorf("%w (index names refund %s, which is missing)", ErrDamaged, id)
		}
		r, err := decode[Refund]("refund", rec)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// refKey keys the by-reference indexes: saleKey(ref) 0x00 id. No sale key
// has a 0x00 before its end (see saleKey), so one sale's keys stay
// together and a prefix scan finds them.
func refKey(ref string, id []byte) []byte {
	sk := saleKey(ref)
	k := append(make([]byte, 0, len(sk)+1+len(id)), sk...)
	return append(append(k, 0), id...)
}

// getRefund reads the refund with id in tx; ok is false when there is none.
func getRefund(tx *bolt.Tx, id string) (r Refund, ok bool, err error) {
	rec := bucket(tx, bucketRefunds).Get([]byte(id))
	if rec == nil {
		return Refund{}, false, nil
	}
	r, err = decode[Refund]("refund "+id, rec)
	return r, err == nil, err
}
