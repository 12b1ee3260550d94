package journal

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"time"

	"kasse/store"
)

// Verifier checks that a journal's cash transactions are signed and
// chained: each signature verifies, with the key of its version, over the
// string that begins with the register's previous signature. Feed it the
// entries in journal order.
type Verifier struct {
	keys map[string]*rsa.PublicKey
	prev map[string]string // register → its last signature
	// Checked counts the transactions verified so far.
	Checked int
}

// NewVerifier verifies with keys by version (PublicKeys).
func NewVerifier(keys map[string]*rsa.PublicKey) *Verifier {
	return &Verifier{keys: keys, prev: map[string]string{}}
}

// Check verifies e when it is a cash transaction; other entries pass.
func (v *Verifier) Check(e store.Entry) error {
	if !e.IsTransaction() {
		return nil
	}
	where := fmt.Sprintf("transaction %d (journal entry %d, %s, reference %s)", e.Nr, e.Seq,
		e.Time.Format(time.DateTime), e.Reference)
	reg := e.Store + "-" + e.Lane
	prev, ok := v.prev[reg]
	if !ok {
		prev = "0" // the register's first transaction
	}
	key := v.keys[e.KeyVersion]
	if key == nil {
		return fmt.Errorf("%s: signed with key version %q, which is not among the public keys given", where, e.KeyVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil || e.Signature == "" {
		return fmt.Errorf("%s: the signature is missing or not base64", where)
	}
	// Built here apart from store.SignedString, so each checks the other.
	msg := fmt.Sprintf("%s;%s;%s;%d;%s;%s", prev, e.Time.Format("2006-01-02"), e.Time.Format("15:04:05"), e.Nr,
		amount(e.Amount), amount(e.Amount-e.VAT))
	sum := sha1.Sum([]byte(msg))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], sig); err != nil {
		return fmt.Errorf("%s: the signature does not verify: this transaction or the one before it in the chain was changed", where)
	}
	v.prev[reg] = e.Signature
	v.Checked++
	return nil
}

// amount is minor units with two decimals and a point.
func amount(minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := fmt.Sprintf("%d.%02d", minor/100, minor%100)
	if neg {
		return "-" + s
	}
	return s
}
