package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/vippsid"
)

// ErrNoOp is wrapped when an operation ID is not in the outbox: it was
// finished already, or never stored.
var ErrNoOp = errors.New("operation is not in the outbox")

// Op is one intended request to Vipps, stored before it is sent so that a
// crash or a network fault can only delay it: a retry resends the same
// IdempotencyKey and Body. It leaves the outbox when Vipps's answer is stored
// (Finish).
type Op struct {
	ID             uint64    `json:"id"` // the outbox sequence, set when stored
	Reference      string    `json:"reference"`
	Kind           string    `json:"kind"` // create, capture, cancel, refund, ecom-initiate, receipt, ...
	API            string    `json:"api"`  // epayment, ecom, ...
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	MSN            string    `json:"msn,omitempty"` // another store's MSN (option A partner keys); empty: the config's
	Method         string    `json:"method"`
	Path           string    `json:"path"`
	Body           []byte    `json:"body,omitempty"` // the exact bytes sent
	Amount         int64     `json:"amount,omitempty"`
	Created        time.Time `json:"created"` // zero: the store's clock
	Attempts       int       `json:"attempts,omitempty"`
	NextAttempt    time.Time `json:"nextAttempt,omitzero"`
	LastError      string    `json:"lastError,omitempty"`
}

// NewSale draws the next reference for prefix and lane, and stores the sale
// and the ops that fill builds for it, all in one transaction, so starting a
// sale costs one commit. fill runs inside the transaction: it must not use
// db. The returned sale is as stored (Created and Updated set).
func (db *DB) NewSale(prefix, lane string, fill func(ref string) (Sale, []Op)) (Sale, []uint64, error) {
	if err := CheckPrefix(prefix); err != nil {
		return Sale{}, nil, err
	}
	if err := CheckLane(lane); err != nil {
		return Sale{}, nil, err
	}
	var stored Sale
	var ids []uint64
	err := db.update(func(tx *bolt.Tx) error {
		ref, err := nextReference(tx, db.series, prefix, lane)
		if err != nil {
			return err
		}
		s, ops := fill(ref)
		if s.Reference != ref {
			return fmt.Errorf("fill returned a sale with reference %q instead of %q", s.Reference, ref)
		}
		if err := checkSale(s); err != nil {
			return err
		}
		if err := checkOps(ops); err != nil {
			return err
		}
		now := db.now()
		if stored, err = putSale(tx, s, now); err != nil {
			return err
		}
		ids, err = appendOps(tx, now, ops)
		return err
	})
	if err != nil {
		return Sale{}, nil, fmt.Errorf("database %s: new sale for %s-%s: %w", db.path, prefix, lane, err)
	}
	return stored, ids, nil
}

// Begin stores s (like PutSale) and appends ops to the outbox in one
// transaction, so a sale's state and its next intent commit together. It
// returns the ops' IDs in order.
func (db *DB) Begin(s Sale, ops ...Op) ([]uint64, error) { return db.Finish(s, nil, ops...) }

// Finish stores s, deletes the done ops (whose answers s now records) and
// appends the next ops, in one transaction. A done ID that is not in the
// outbox, or belongs to another sale, fails the whole call with ErrNoOp:
// somebody else already finished it.
func (db *DB) Finish(s Sale, done []uint64, next ...Op) ([]uint64, error) {
	ids, _, err := db.finish(s, done, nil, next)
	return ids, err
}

func (db *DB) finish(s Sale, done []uint64, job *PrintJob, next []Op) ([]uint64, uint64, error) {
	if err := checkSale(s); err != nil {
		return nil, 0, err
	}
	if err := checkOps(next); err != nil {
		return nil, 0, err
	}
	var ids []uint64
	var jobID uint64
	err := db.update(func(tx *bolt.Tx) error {
		now := db.now()
		if _, err := putSale(tx, s, now); err != nil {
			return err
		}
		if err := deleteOps(tx, s.Reference, done); err != nil {
			return err
		}
		var err error
		if ids, err = appendOps(tx, now, next); err != nil {
			return err
		}
		if job != nil {
			jobID, err = db.queueJobAs(tx, job, now)
		}
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("database %s: storing sale %s: %w", db.path, s.Reference, err)
	}
	return ids, jobID, nil
}

// Retry records a failed attempt of op id: how many so far, when to try
// again, and why it failed. The op keeps its key and body.
func (db *DB) Retry(id uint64, attempts int, next time.Time, lastErr string) error {
	err := db.update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketOutbox)
		key := idKey(id)
		rec := b.Get(key)
		if rec == nil {
			return fmt.Errorf("op %d: %w", id, ErrNoOp)
		}
		op, err := decode[Op]("op", rec)
		if err != nil {
			return err
		}
		op.Attempts, op.NextAttempt, op.LastError = attempts, next, lastErr
		if rec, err = encode("op", op); err != nil {
			return err
		}
		return b.Put(key, rec)
	})
	if err != nil {
		return fmt.Errorf("database %s: recording retry of op %d: %w", db.path, id, err)
	}
	return nil
}

// Pending returns every op in the outbox, oldest first.
func (db *DB) Pending() ([]Op, error) {
	var out []Op
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, rec []byte) error {
			op, err := decode[Op]("op", rec)
			out = append(out, op)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: reading the outbox: %w", db.path, err)
	}
	return out, nil
}

// PendingFor returns the ops of the sale with reference ref, oldest first.
func (db *DB) PendingFor(ref string) ([]Op, error) {
	var out []Op
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ids, err := idsFor(tx, bucketOutboxByRef, ref)
		outbox := tx.Bucket(bucketOutbox)
		for _, id := range ids {
			rec := outbox.Get(idKey(id))
			if rec == nil {
				return fmt.Errorf("%w (index names op %d, which is missing)", ErrDamaged, id)
			}
			op, err := decode[Op]("op", rec)
			if err != nil {
				return err
			}
			out = append(out, op)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: reading the outbox for %s: %w", db.path, ref, err)
	}
	return out, nil
}

func checkOps(ops []Op) error {
	for _, op := range ops {
		if !vippsid.Reference(op.Reference) {
			return fmt.Errorf("op %s: reference %q is not valid for Vipps", op.Kind, op.Reference)
		}
		if op.Kind == "" {
			return fmt.Errorf("op for %s has no kind: set Kind (create, capture, ...)", op.Reference)
		}
		if len(op.IdempotencyKey) > 50 {
			return fmt.Errorf("op %s for %s: idempotency key is %d characters, Vipps takes at most 50",
				op.Kind, op.Reference, len(op.IdempotencyKey))
		}
	}
	return nil
}

func appendOps(tx *bolt.Tx, now time.Time, ops []Op) ([]uint64, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	outbox, byRef := bucket(tx, bucketOutbox), bucket(tx, bucketOutboxByRef)
	ids := make([]uint64, 0, len(ops))
	for _, op := range ops {
		id, err := outbox.NextSequence()
		if err != nil {
			return nil, err
		}
		op.ID = id
		if op.Created.IsZero() {
			op.Created = now
		}
		rec, err := encode("op", op)
		if err != nil {
			return nil, err
		}
		if err := outbox.Put(idKey(id), rec); err != nil {
			return nil, err
		}
		if err := byRef.Put(refKey(op.Reference, idKey(id)), nil); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func deleteOps(tx *bolt.Tx, ref string, done []uint64) error {
	outbox, byRef := bucket(tx, bucketOutbox), bucket(tx, bucketOutboxByRef)
	for _, id := range done {
		key := idKey(id)
		rec := outbox.Get(key)
		if rec == nil {
			return fmt.Errorf("op %d: %w", id, ErrNoOp)
		}
		op, err := decode[Op]("op", rec)
		if err != nil {
			return err
		}
		if op.Reference != ref {
			return fmt.Errorf("op %d belongs to %s, not %s: %w", id, op.Reference, ref, ErrNoOp)
		}
		if err := outbox.Delete(key); err != nil {
			return err
		}
		if err := byRef.Delete(refKey(ref, key)); err != nil {
			return err
		}
	}
	return nil
}

// idsFor lists the IDs a by-reference index holds for ref, in order.
func idsFor(tx *bolt.Tx, bucket []byte, ref string) ([]uint64, error) {
	var ids []uint64
	prefix := refKey(ref, nil)
	c := tx.Bucket(bucket).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != len(prefix)+8 {
			return nil, fmt.Errorf("%w (index key %x has no 8-byte ID)", ErrDamaged, k)
		}
		ids = append(ids, binary.BigEndian.Uint64(k[len(prefix):]))
	}
	return ids, nil
}

// idKey is a sequence number as a key that sorts in numeric order.
func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), id) }
