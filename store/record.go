package store

import (
	"encoding/json"
	"fmt"
)

// Records start with a format byte so a later schema can change the encoding
// of one record type and still read the old one. Every record type (sale,
// refund, op, print job) is at format 1: JSON.
const recordV1 = 1

// record is a type stored as format byte + JSON.
type record interface {
	Sale | Refund | Op | PrintJob
}

func encode[T record](what string, v T) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", what, err)
	}
	return append([]byte{recordV1}, b...), nil
}

func decode[T record](what string, rec []byte) (T, error) {
	var v T
	if len(rec) == 0 || rec[0] != recordV1 {
		return v, fmt.Errorf("%w (%s record has unknown format): restore the latest backup", ErrDamaged, what)
	}
	if err := json.Unmarshal(rec[1:], &v); err != nil {
		var zero T
		return zero, fmt.Errorf("%w (%s record does not decode: %v): restore the latest backup", ErrDamaged, what, err)
	}
	return v, nil
}

func encodeSale(s Sale) ([]byte, error) {
	return encode("sale "+s.Reference, s)
}

func decodeSale(rec []byte) (Sale, error) { return decode[Sale]("sale", rec) }
