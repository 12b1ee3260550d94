package store

import (
	"encoding/json"
	"fmt"
)

// Records start with a format byte so a later schema can change the encoding
// of one record type and still read the old one.
const saleRecordV1 = 1

func encodeSale(s Sale) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding sale %s: %w", s.Reference, err)
	}
	return append([]byte{saleRecordV1}, b...), nil
}

func decodeSale(rec []byte) (Sale, error) {
	if len(rec) == 0 || rec[0] != saleRecordV1 {
		return Sale{}, fmt.Errorf("%w (sale record has unknown format): restore the latest backup", ErrDamaged)
	}
	var s Sale
	if err := json.Unmarshal(rec[1:], &s); err != nil {
		return Sale{}, fmt.Errorf("%w (sale record does not decode: %v): restore the latest backup", ErrDamaged, err)
	}
	return s, nil
}
