package store

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Reference is a parsed payment reference, PREFIX-LANE-TAG-N, for example
// OSLO1-2-k7f3-17: the store prefix (one MSN serves the whole chain), the
// lane, the series tag of the run that issued it (drawn at every Open), and
// the database's counter for the prefix and lane. The tag makes it unique
// across lost or restored databases and spare registers; the counter within
// one run.
type Reference struct {
	Prefix string
	Lane   string
	Tag    string
	N      uint64
}

// String formats r as the Vipps reference.
func (r Reference) String() string {
	return r.Prefix + "-" + r.Lane + "-" + r.Tag + "-" + strconv.FormatUint(r.N, 10)
}

// CheckPrefix reports whether p can start a reference: a letter, then 1–11
// letters or digits.
func CheckPrefix(p string) error {
	if len(p) < 2 || len(p) > 12 || !isLetter(p[0]) || !alnum(p) {
		return fmt.Errorf("store prefix %q is not valid: use 2–12 letters or digits starting with a letter, e.g. OSLO1", p)
	}
	return nil
}

// CheckLane reports whether l can name a lane: 1–4 letters or digits.
func CheckLane(l string) error {
	if len(l) < 1 || len(l) > 4 || !alnum(l) {
		return fmt.Errorf("lane %q is not valid: use 1–4 letters or digits, e.g. 2", l)
	}
	return nil
}

// ParseReference splits a reference made by NextReference.
func ParseReference(ref string) (Reference, error) {
	parts := strings.Split(ref, "-")
	if len(parts) != 4 {
		return Reference{}, fmt.Errorf("reference %q is not PREFIX-LANE-TAG-N (e.g. OSLO1-2-k7f3-17)", ref)
	}
	r := Reference{Prefix: parts[0], Lane: parts[1], Tag: parts[2]}
	if err := CheckPrefix(r.Prefix); err != nil {
		return Reference{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	if err := CheckLane(r.Lane); err != nil {
		return Reference{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	if !validTag(r.Tag) {
		return Reference{}, fmt.Errorf("reference %q: instance tag %q is not 4 of a-z and 0-9", ref, r.Tag)
	}
	num := parts[3]
	n, err := strconv.ParseUint(num, 10, 64)
	// Leading zeros and signs would give a second spelling of the same number.
	if err != nil || n == 0 || num[0] < '1' || num[0] > '9' {
		return Reference{}, fmt.Errorf("reference %q: counter %q is not a number from 1 without leading zeros", ref, num)
	}
	r.N = n
	return r, nil
}

// NextReference returns a reference never issued before for prefix and lane.
// The counter is incremented and committed (synced) before the reference is
// returned, so a crash right after can skip a number but never repeat one.
func (db *DB) NextReference(prefix, lane string) (string, error) {
	if err := CheckPrefix(prefix); err != nil {
		return "", err
	}
	if err := CheckLane(lane); err != nil {
		return "", err
	}
	var ref string
	err := db.update(func(tx *bolt.Tx) error {
		var err error
		ref, err = nextReference(tx, db.series, prefix, lane)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("database %s: new reference for %s-%s: %w", db.path, prefix, lane, err)
	}
	return ref, nil
}

// nextReference increments the counter for prefix and lane in tx.
func nextReference(tx *bolt.Tx, tag, prefix, lane string) (string, error) {
	key := []byte(prefix + "-" + lane) // unambiguous: a prefix has no dash
	b := tx.Bucket(bucketCounters)
	var n uint64
	if v := b.Get(key); v != nil {
		if len(v) != 8 {
			return "", fmt.Errorf("%w (counter %s is %d bytes)", ErrDamaged, key, len(v))
		}
		n = binary.BigEndian.Uint64(v)
	}
	n++
	if err := b.Put(key, binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return "", err
	}
	return Reference{Prefix: prefix, Lane: lane, Tag: tag, N: n}.String(), nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !(s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}
