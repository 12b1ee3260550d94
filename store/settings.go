package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Setting returns the value stored under key (e.g. "last_reconcile") and
// whether there was one.
func (db *DB) Setting(key string) (string, bool, error) {
	var v []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSettings).Get([]byte(key)); b != nil {
			v = append([]byte{}, b...) // b is only valid inside the transaction
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("database %s: reading setting %s: %w", db.path, key, err)
	}
	return string(v), v != nil, nil
}

// SetSetting stores value under key in one transaction.
func (db *DB) SetSetting(key, value string) error {
	if key == "" {
		return fmt.Errorf("setting has no key: name it, e.g. last_reconcile")
	}
	err := db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("database %s: storing setting %s: %w", db.path, key, err)
	}
	return nil
}
