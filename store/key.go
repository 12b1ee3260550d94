package store

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// saleKey is the key of the sale with reference ref in the sales bucket,
// and its part in every index that names a sale (time, store, and the
// by-reference indexes of refunds, ops and print jobs).
//
// A reference made by NextReference, PREFIX-LANE-TAG-N, is keyed as
// "PREFIX-LANE-", one byte holding the counter's length L (1–8), N
// big-endian in L bytes, then TAG. The counter of a prefix and lane only
// grows in one file while the series tag is drawn anew at every start, so
// with N before TAG a register's sales arrive in key order and fill the
// last page, where the decimal text sorted 17 before 2 and put each run's
// sales in the middle of the tree. Any other reference (a valid Vipps
// reference from elsewhere) is keyed as its text. Text is only [a-zA-Z0-9-]
// and L is below '0', so the two spellings never meet; followed by 0x00
// (refKey) every key is a prefix of no other.
func saleKey(ref string) []byte {
	r, err := ParseReference(ref)
	if err != nil {
		return []byte(ref)
	}
	n := (bits.Len64(r.N) + 7) / 8
	k := make([]byte, 0, len(r.Prefix)+len(r.Lane)+2+1+n+len(r.Tag))
	k = append(append(append(append(k, r.Prefix...), '-'), r.Lane...), '-', byte(n))
	for i := n - 1; i >= 0; i-- {
		k = append(k, byte(r.N>>(8*i)))
	}
	return append(k, r.Tag...)
}

// refOfKey is the reference a saleKey spells, and the store prefix and lane
// in it ("" when the reference is not one of NextReference's). A key that
// saleKey cannot have made is damage.
func refOfKey(k []byte) (ref, prefix, lane string, err error) {
	i := 0
	for i < len(k) && refChar(k[i]) {
		i++
	}
	if i == len(k) {
		ref = string(k)
		if _, err := ParseReference(ref); err == nil || len(ref) == 0 {
			// saleKey spells a parseable reference the other way.
			return "", "", "", fmt.Errorf("%w (sale key %q is not in its stored form)", ErrDamaged, k)
		}
		return ref, "", "", nil
	}
	bad := func() (string, string, string, error) {
		return "", "", "", fmt.Errorf("%w (sale key %x does not spell a reference)", ErrDamaged, k)
	}
	n := int(k[i])
	if n < 1 || n > 8 || len(k) != i+1+n+tagLen || k[i+1] == 0 {
		return bad()
	}
	var buf [8]byte
	copy(buf[8-n:], k[i+1:i+1+n])
	r := Reference{Tag: string(k[i+1+n:]), N: binary.BigEndian.Uint64(buf[:])}
	// The text is PREFIX-LANE- (a prefix and a lane have no dash).
	text := k[:i]
	dash := -1
	for j, c := range text {
		if c == '-' {
			dash = j
			break
		}
	}
	if dash < 0 || dash >= len(text)-1 || text[len(text)-1] != '-' {
		return bad()
	}
	r.Prefix, r.Lane = string(text[:dash]), string(text[dash+1:len(text)-1])
	if CheckPrefix(r.Prefix) != nil || CheckLane(r.Lane) != nil || !validTag(r.Tag) {
		return bad()
	}
	return r.String(), r.Prefix, r.Lane, nil
}

// refChar reports whether c can be in a Vipps reference.
func refChar(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' || c == '-' }
