package hq

import (
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRefunds = []byte("refunds") // sequence -> Refund (JSON), in arrival order
	bucketKeys    = []byte("keys")    // register 0x00 idempotency key -> sequence
)

// Journal is kassehq's bbolt file: every refund request, stored (and
// synced) before kassehq acts on it.
type Journal struct {
	db   *bolt.DB
	path string
	now  func() time.Time
}

// OpenJournal opens or creates the journal at path. bbolt locks the file,
// so a second kassehq on it waits timeout and then says which file.
func OpenJournal(path string, now func() time.Time, timeout time.Duration, readOnly bool) (*Journal, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("journal %s is open in another process (kassehq serve?): stop it, or ask it through its socket", path)
	}
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if !readOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketRefunds, bucketKeys} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
	}
	return &Journal{db: db, path: path, now: now}, nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.db.Close() }

func indexKey(register, key string) []byte {
	return append(append([]byte(register), 0), key...)
}

// Get returns the register's refund with the idempotency key, if any.
func (j *Journal) Get(register, key string) (Refund, bool, error) {
	var r Refund
	found := false
	err := j.db.View(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketKeys).Get(indexKey(register, key))
		if seq == nil {
			return nil
		}
		rec := tx.Bucket(bucketRefunds).Get(seq)
		if rec == nil {
			return fmt.Errorf("the index names refund %x, which is missing", seq)
		}
		found = true
		return json.Unmarshal(rec, &r)
	})
	if err != nil {
		return Refund{}, false, fmt.Errorf("journal %s: reading %s/%s: %w", j.path, register, key, err)
	}
	return r, found, nil
}

// Put stores r (a new one gets the next sequence), stamped with the
// journal's clock, and syncs it before it returns.
func (j *Journal) Put(r Refund) (Refund, error) {
	err := j.db.Update(func(tx *bolt.Tx) error {
		refunds, keys := tx.Bucket(bucketRefunds), tx.Bucket(bucketKeys)
		ik := indexKey(r.Register, r.IdempotencyKey)
		now := j.now().UTC()
		seq := keys.Get(ik)
		if seq == nil {
			n, err := refunds.NextSequence()
			if err != nil {
				return err
			}
			seq = binary.BigEndian.AppendUint64(nil, n)
			if err := keys.Put(ik, seq); err != nil {
				return err
			}
			r.Created = now
		}
		r.Updated = now
		rec, err := json.Marshal(r)
		if err != nil {
			return err
		}
		return refunds.Put(seq, rec)
	})
	if err != nil {
		return r, fmt.Errorf("journal %s: storing refund %s/%s: %w", j.path, r.Register, r.IdempotencyKey, err)
	}
	return r, nil
}

// Each calls fn for every refund in arrival order, stopping at its first
// error. It reads one record at a time, so an export of any size is
// streamed.
func (j *Journal) Each(fn func(Refund) error) error {
	return j.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefunds).ForEach(func(_, rec []byte) error {
			var r Refund
			if err := json.Unmarshal(rec, &r); err != nil {
				return fmt.Errorf("journal %s: a damaged record: %w", j.path, err)
			}
			return fn(r)
		})
	})
}

// exportHeader is the CSV export's first line.
var exportHeader = []string{"created", "updated", "register", "store", "lane", "cashier", "reference", "origin_store",
	"msn", "api", "amount", "currency", "state", "error", "idempotency_key"}

// Export writes the journal as csv or json (an array, one refund a line),
// streamed. The Vipps request bodies stay out: they are kassehq's own.
func (j *Journal) Export(w io.Writer, format string) error {
	switch format {
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(exportHeader); err != nil {
			return err
		}
		err := j.Each(func(r Refund) error {
			return cw.Write([]string{r.Created.Format(time.RFC3339), r.Updated.Format(time.RFC3339), r.Register, r.Store, r.Lane,
				r.Cashier, r.Reference, r.OriginStore, r.MSN, r.API, strconv.FormatInt(r.Amount.Value, 10), r.Amount.Currency,
				r.State, r.Error, r.IdempotencyKey})
		})
		if err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	case "json":
		if _, err := io.WriteString(w, "["); err != nil {
			return err
		}
		sep := "\n"
		err := j.Each(func(r Refund) error {
			r.Vipps = nil
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s%s", sep, b)
			sep = ",\n"
			return err
		})
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, "\n]\n")
		return err
	}
	return fmt.Errorf("export format %q is not known: use csv or json", format)
}
