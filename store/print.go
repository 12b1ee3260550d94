package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrAlreadyPrinted is wrapped when an original receipt is queued for a sale
// that already has one, queued or printed. Queue a copy instead.
var ErrAlreadyPrinted = errors.New("the original receipt is already printed or queued")

// ErrCopyPrinted is wrapped when a second copy of a sale's receipt is asked
// for: kassasystemforskriften § 2-6 (4) allows one copy per sale.
var ErrCopyPrinted = errors.New("the sale's one copy is already printed or queued")

// ErrNoPrintJob is wrapped when a print job ID is not in the queue.
var ErrNoPrintJob = errors.New("print job is not in the queue")

// PrintJob is a receipt waiting for the printer. Receipt is the encoded
// payload, opaque to the store.
type PrintJob struct {
	ID        uint64    `json:"id"` // the queue sequence, set when stored
	Reference string    `json:"reference"`
	Copy      bool      `json:"copy,omitempty"`
	Receipt   []byte    `json:"receipt"`
	Created   time.Time `json:"created"` // zero: the store's clock
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"lastError,omitempty"`
	// Sent is committed just before the bytes go to the printer. A job
	// found Sent after a restart may have printed: print it as a copy.
	Sent bool `json:"sent,omitempty"`
	// Refund is the refund's ID when the job is its slip. The sale may live
	// in another store's journal, so a slip does not need a local sale.
	Refund string `json:"refund,omitempty"`
	// Number is the receipt number printed on it: the sale's (a copy
	// keeps the original's) or the refund slip's. The store assigns it
	// in the commit that queues the original, so a crash can neither skip
	// nor repeat one.
	Number uint64 `json:"number,omitempty"`
}

// FinishPrint is Finish that also queues job for s in the same transaction
// (e.g. captured: capture op done, receipt queued). It returns the next ops'
// IDs and the job's ID. An original (Copy false) for a sale that has one
// fails the whole call with ErrAlreadyPrinted.
func (db *DB) FinishPrint(s Sale, done []uint64, job PrintJob, next ...Op) (ops []uint64, jobID uint64, err error) {
	ops, job, err = db.FinishReceipt(s, done, job, next...)
	return ops, job.ID, err
}

// FinishReceipt is FinishPrint returning the job as stored: with its ID
// and the receipt number it was given in that commit.
func (db *DB) FinishReceipt(s Sale, done []uint64, job PrintJob, next ...Op) ([]uint64, PrintJob, error) {
	if job.Reference == "" {
		job.Reference = s.Reference
	}
	if job.Reference != s.Reference {
		return nil, job, fmt.Errorf("print job for %s cannot be queued with sale %s", job.Reference, s.Reference)
	}
	ops, _, err := db.finish(s, done, &job, next)
	return ops, job, err
}

// QueuePrint queues job for an existing sale, typically a copy (reprint).
func (db *DB) QueuePrint(job PrintJob) (uint64, error) {
	var id uint64
	err := db.update(func(tx *bolt.Tx) error {
		var err error
		id, err = db.queueJob(tx, job, db.now())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("database %s: queueing receipt for %s: %w", db.path, job.Reference, err)
	}
	return id, nil
}

func (db *DB) queueJob(tx *bolt.Tx, job PrintJob, now time.Time) (uint64, error) {
	return db.queueJobAs(tx, &job, now)
}

// queueJobAs is queueJob that leaves the stored job (ID, number) in *jp.
func (db *DB) queueJobAs(tx *bolt.Tx, jp *PrintJob, now time.Time) (uint64, error) {
	job := *jp
	defer func() { *jp = job }()
	s := Sale{Reference: job.Reference, Printed: true}
	if job.Refund == "" {
		var ok bool
		var err error
		s, ok, err = getSale(tx, job.Reference)
		if err != nil {
			return 0, err
		}
		if !ok {
			return 0, fmt.Errorf("sale %s: %w", job.Reference, ErrNotFound)
		}
	}
	byRef := tx.Bucket(bucketPrintByRef)
	switch {
	case job.Refund != "": // the slip's number comes with its refund
	case job.Copy:
		// kassasystemforskriften § 2-6 (4): one copy per sale, marked
		// "Kopi" (§ 2-8-6), with the original's number.
		if s.Copied {
			return 0, fmt.Errorf("sale %s: %w: the rules allow one copy per sale", s.Reference, ErrCopyPrinted)
		}
		if s.Receipt == 0 {
			return 0, fmt.Errorf("sale %s has no receipt number yet: its original is not queued, so there is nothing to copy", s.Reference)
		}
		s.Copied, job.Number = true, s.Receipt
		if _, err := putSale(tx, s, now); err != nil {
			return 0, err
		}
		if err := db.receiptEvent(tx, EventCopyReceipt, s.Journal, s.Reference, s.Store, s.Lane, s.Cashier, now); err != nil {
			return 0, err
		}
	default:
		if s.Printed {
			return 0, fmt.Errorf("sale %s: %w: queue a copy", s.Reference, ErrAlreadyPrinted)
		}
		ids, err := idsFor(tx, bucketPrintByRef, s.Reference)
		if err != nil {
			return 0, err
		}
		for _, id := range ids {
			if v := byRef.Get(refKey(s.Reference, idKey(id))); len(v) == 1 && v[0] == 1 {
				return 0, fmt.Errorf("sale %s: %w (job %d): queue a copy", s.Reference, ErrAlreadyPrinted, id)
			}
		}
		// The original takes the next number of the register's sales,
		// in this commit: bokføringsforskriften § 5-1-1 (1), a gap-free
		// sequence.
		if s.Receipt == 0 {
			n, err := nextReceipt(tx, receiptSale, s.Store, s.Lane)
			if err != nil {
				return 0, err
			}
			s.Receipt = n
			// kassasystemforskriften § 2-7 (1), § 1-2 k: the sale is journaled,
			// and signed (§ 2-7 (1)), in the commit that concludes it.
			e := db.saleEntry(s, now)
			if err := db.appendEntry(tx, &e); err != nil {
				return 0, err
			}
			s.Journal = e.Seq
			if _, err := putSale(tx, s, now); err != nil {
				return 0, err
			}
		}
		job.Number = s.Receipt
	}
	queue := tx.Bucket(bucketPrint)
	queue.FillPercent = appendFill
	id, err := queue.NextSequence()
	if err != nil {
		return 0, err
	}
	job.ID = id
	if job.Created.IsZero() {
		job.Created = now
	}
	rec, err := encode("print job", job)
	if err != nil {
		return 0, err
	}
	if err := queue.Put(idKey(id), rec); err != nil {
		return 0, err
	}
	original := byte(1) // the sale's original receipt
	if job.Copy || job.Refund != "" {
		original = 0
	}
	return id, byRef.Put(refKey(s.Reference, idKey(id)), []byte{original})
}

// Receipt number sequences, one of each per register, kept in the counters
// bucket beside the reference counters (a missing key is 0, so no schema
// change): "receipt/sale/PREFIX-LANE" and "receipt/refund/PREFIX-LANE".
// kassasystemforskriften numbers sales receipts and return receipts apart.
const (
	receiptSale   = "sale"
	receiptRefund = "refund"
)

func nextReceipt(tx *bolt.Tx, kind, prefix, lane string) (uint64, error) {
	return nextCounter(tx.Bucket(bucketCounters), []byte("receipt/"+kind+"/"+prefix+"-"+lane))
}

// ReceiptNumbers returns the last sale and refund receipt numbers of the
// register prefix-lane (0: none yet).
func (db *DB) ReceiptNumbers(prefix, lane string) (sale, refund uint64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, c := range []struct {
			kind string
			n    *uint64
		}{{receiptSale, &sale}, {receiptRefund, &refund}} {
			if v := tx.Bucket(bucketCounters).Get([]byte("receipt/" + c.kind + "/" + prefix + "-" + lane)); len(v) == 8 {
				*c.n = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return sale, refund, err
}

// PrintAsCopy turns job id, found Sent after a restart or a failure that
// may have printed some of it, into its sale's copy: the original may be in
// the shopper's hand. It counts as the sale's one copy.
func (db *DB) PrintAsCopy(id uint64) error {
	err := db.update(func(tx *bolt.Tx) error {
		job, err := getJob(tx, id)
		if err != nil || job.Copy {
			return err
		}
		job.Copy = true
		if job.Refund == "" {
			s, ok, err := getSale(tx, job.Reference)
			if err != nil {
				return err
			}
			if ok && !s.Copied {
				s.Copied = true
				if _, err := putSale(tx, s, db.now()); err != nil {
					return err
				}
			}
		}
		rec, err := encode("print job", job)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPrint).Put(idKey(id), rec)
	})
	if err != nil {
		return fmt.Errorf("database %s: marking print job %d a copy: %w", db.path, id, err)
	}
	return nil
}

// PrintJobs returns the queued receipts, oldest first.
func (db *DB) PrintJobs() ([]PrintJob, error) {
	var out []PrintJob
	waiting := db.waitingMarks()
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPrint).ForEach(func(k, rec []byte) error {
			j, err := decode[PrintJob]("print job", rec)
			if _, done := waiting[j.ID]; !done {
				out = append(out, j)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("database %s: reading the print queue: %w", db.path, err)
	}
	return out, nil
}

// PrintDone records that the printer finished job id, the original or a
// copy of sale s. The mark (job removed, sale Printed) is committed with the
// next write, or by Flush, so a busy lane pays no commit for it; until then
// PrintJobs leaves the job out and Sale and Journal show s printed. A crash
// before that commit leaves the job marked Sent, so the restart prints it
// again as COPY: never a second original, at worst an extra copy.
func (db *DB) PrintDone(id uint64, s Sale) error {
	if err := checkSale(s); err != nil {
		return err
	}
	db.mu.Lock()
	_, waiting := db.printed[id]
	db.mu.Unlock()
	if waiting {
		return fmt.Errorf("database %s: marking receipt of %s printed: job %d: %w (already printed)",
			db.path, s.Reference, id, ErrNoPrintJob)
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		job, err := getJob(tx, id)
		if err != nil {
			return err
		}
		if job.Reference != s.Reference || job.Refund != "" {
			return fmt.Errorf("job %d is not the receipt of sale %s: %w", id, s.Reference, ErrNoPrintJob)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("database %s: marking receipt of %s printed: %w", db.path, s.Reference, err)
	}
	db.mu.Lock()
	db.printed[id] = printMark{ref: s.Reference, at: db.now()}
	db.mu.Unlock()
	return nil
}

// Flush commits the printed marks that wait for a commit, if any: kassed
// calls it when the till has been idle a while, and Close calls it.
func (db *DB) Flush() error {
	if len(db.waitingMarks()) == 0 {
		return nil
	}
	if err := db.update(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("database %s: storing printed receipts: %w", db.path, err)
	}
	return nil
}

// waitingMarks is a copy of the printed marks not yet committed.
func (db *DB) waitingMarks() map[uint64]printMark {
	db.mu.Lock()
	defer db.mu.Unlock()
	if len(db.printed) == 0 {
		return nil
	}
	m := make(map[uint64]printMark, len(db.printed))
	for id, mark := range db.printed {
		m[id] = mark
	}
	return m
}

// printMark is a receipt the printer finished: its sale, and when, for the
// journal's "sales receipt printed" event.
type printMark struct {
	ref string
	at  time.Time
}

// dropMarks forgets the marks a commit just stored.
func (db *DB) dropMarks(marks map[uint64]printMark) {
	if len(marks) == 0 {
		return
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	for id := range marks {
		delete(db.printed, id)
	}
}

// printedWaiting reports whether ref has a printed receipt whose mark is
// not committed yet, so readers see the sale as the printer left it.
func (db *DB) printedWaiting(ref string) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, m := range db.printed {
		if m.ref == ref {
			return true
		}
	}
	return false
}

// applyPrinted removes the printed jobs and marks their sales Printed in
// tx. A job already gone was finished by an earlier commit.
func (db *DB) applyPrinted(tx *bolt.Tx, marks map[uint64]printMark, now time.Time) error {
	// In job order, so the journal's events follow the printer's.
	ids := slices.Sorted(maps.Keys(marks))
	for _, id := range ids {
		ref := marks[id].ref
		job, err := getJob(tx, id)
		if errors.Is(err, ErrNoPrintJob) {
			continue
		}
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketPrint).Delete(idKey(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPrintByRef).Delete(refKey(ref, idKey(id))); err != nil {
			return err
		}
		s, ok, err := getSale(tx, ref)
		if err != nil {
			return err
		}
		if ok && !s.Printed {
			s.Printed = true
			if _, err := putSale(tx, s, now); err != nil {
				return err
			}
		}
		// kassasystemforskriften § 2-7 (1): receipts printed are journaled.
		if ok && !job.Copy {
			if err := db.receiptEvent(tx, EventSalesReceipt, s.Journal, ref, s.Store, s.Lane, s.Cashier, marks[id].at); err != nil {
				return err
			}
		}
	}
	return nil
}

// PrintStarted marks job id Sent: its bytes are about to go to the printer.
func (db *DB) PrintStarted(id uint64) error {
	err := db.update(func(tx *bolt.Tx) error {
		job, err := getJob(tx, id)
		if err != nil {
			return err
		}
		job.Sent = true
		rec, err := encode("print job", job)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPrint).Put(idKey(id), rec)
	})
	if err != nil {
		return fmt.Errorf("database %s: marking print job %d sent: %w", db.path, id, err)
	}
	return nil
}

// PrintRetry records a failed attempt to print job id; the job stays queued.
// It stays Sent when some of it may have printed (a cable pulled mid-receipt,
// a printer that stopped answering), so it prints again as a copy; it is no
// longer Sent when the printer refused it before any byte left.
func (db *DB) PrintRetry(id uint64, attempts int, lastErr string, mayHavePrinted bool) error {
	err := db.update(func(tx *bolt.Tx) error {
		job, err := getJob(tx, id)
		if err != nil {
			return err
		}
		// The first failed attempt of a sale's original: the shopper
		// paid and left without a receipt (§ 2-6 (4) as amended 2018, event 13030).
		if job.Attempts == 0 && attempts > 0 && !job.Copy && job.Refund == "" {
			s, ok, err := getSale(tx, job.Reference)
			if err != nil {
				return err
			}
			if ok {
				if err := db.receiptEvent(tx, EventUnprinted, s.Journal, s.Reference, s.Store, s.Lane, s.Cashier, db.now()); err != nil {
					return err
				}
			}
		}
		job.Attempts, job.LastError, job.Sent = attempts, lastErr, job.Sent && mayHavePrinted
		rec, err := encode("print job", job)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPrint).Put(idKey(id), rec)
	})
	if err != nil {
		return fmt.Errorf("database %s: recording print attempt of job %d: %w", db.path, id, err)
	}
	return nil
}

func getJob(tx *bolt.Tx, id uint64) (PrintJob, error) {
	rec := tx.Bucket(bucketPrint).Get(idKey(id))
	if rec == nil {
		return PrintJob{}, fmt.Errorf("job %d: %w", id, ErrNoPrintJob)
	}
	return decode[PrintJob]("print job", rec)
}

// FinishRefundPrint is FinishRefund that also queues the refund's slip in the
// same transaction, so a refund Vipps confirmed always gets its slip, even
// across a power cut.
func (db *DB) FinishRefundPrint(r Refund, done []uint64, slip PrintJob) (jobID uint64, err error) {
	r, err = checkRefund(r)
	if err != nil {
		return 0, err
	}
	slip.Reference, slip.Refund = r.Reference, r.ID
	err = db.update(func(tx *bolt.Tx) error {
		now := db.now()
		// The slip's number, from the register's refund sequence, in the
		// commit that records the refund done: never skipped, never twice.
		if prev, ok, err := getRefund(tx, r.ID); err != nil {
			return err
		} else if ok {
			r = r.keeping(prev)
		}
		if r.Receipt == 0 {
			n, err := nextReceipt(tx, receiptRefund, r.Store, r.Lane)
			if err != nil {
				return err
			}
			r.Receipt = n
			e := db.refundEntry(r, now)
			if err := db.appendEntry(tx, &e); err != nil {
				return err
			}
			r.Journal = e.Seq
		}
		slip.Number = r.Receipt
		if err := finishRefund(tx, r, done, now); err != nil {
			return err
		}
		jobID, err = db.queueJob(tx, slip, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("database %s: storing refund %s of %s with its slip: %w", db.path, r.ID, r.Reference, err)
	}
	return jobID, nil
}

// SlipDone removes the printed refund slip id from the queue.
func (db *DB) SlipDone(id uint64) error {
	err := db.update(func(tx *bolt.Tx) error {
		job, err := getJob(tx, id)
		if err != nil {
			return err
		}
		if job.Refund == "" {
			return fmt.Errorf("job %d is the receipt of sale %s, not a refund slip: %w", id, job.Reference, ErrNoPrintJob)
		}
		if err := tx.Bucket(bucketPrint).Delete(idKey(id)); err != nil {
			return err
		}
		r, ok, err := getRefund(tx, job.Refund)
		if err != nil {
			return err
		}
		if ok {
			if err := db.receiptEvent(tx, EventReturnReceipt, r.Journal, r.Reference, r.Store, r.Lane, "", db.now()); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketPrintByRef).Delete(refKey(job.Reference, idKey(id)))
	})
	if err != nil {
		return fmt.Errorf("database %s: marking refund slip %d printed: %w", db.path, id, err)
	}
	return nil
}
