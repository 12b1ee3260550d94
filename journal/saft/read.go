package saft

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Transaction is a cash transaction as a SAF-T file writes it: the
// fields its signature covers, as text, and its register.
type Transaction struct {
	Register             string // registerID of the cashregister it is in
	Nr, TransID          string
	TransDate, TransTime string
	AmountIn, AmountEx   string // transAmntIn, transAmntEx
	Signature            string
	KeyVersion           string
}

// SignedString is what the signature covers, rebuilt from the file's text
// as the Tax Administration does: "prev;transDate;transTime;nr;
// transAmntIn;transAmntEx", prev "0" before a register's first.
func (t Transaction) SignedString(prev string) string {
	if prev == "" {
		prev = "0"
	}
	return strings.Join([]string{prev, t.TransDate, t.TransTime, t.Nr, t.AmountIn, t.AmountEx}, ";")
}

// ReadTransactions calls fn for every cash transaction of a SAF-T Cash
// Register file, in document order, holding one at a time.
func ReadTransactions(r io.Reader, fn func(Transaction) error) error {
	dec := xml.NewDecoder(r)
	var (
		stack    []string
		text     strings.Builder
		register string
		t        *Transaction
	)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if len(stack) != 0 {
				return fmt.Errorf("saft file ends inside <%s>", stack[len(stack)-1])
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("saft file: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (tok.Name.Local != "auditfile" || tok.Name.Space != Namespace) {
				return fmt.Errorf("saft file: root is {%s}%s, not {%s}auditfile", tok.Name.Space, tok.Name.Local, Namespace)
			}
			stack = append(stack, tok.Name.Local)
			text.Reset()
			if tok.Name.Local == "cashtransaction" {
				t = &Transaction{Register: register}
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			name := tok.Name.Local
			parent := ""
			if len(stack) > 1 {
				parent = stack[len(stack)-2]
			}
			stack = stack[:len(stack)-1]
			v := strings.TrimSpace(text.String())
			text.Reset()
			switch {
			case name == "registerID" && parent == "cashregister":
				register = v
			case name == "cashtransaction":
				if err := fn(*t); err != nil {
					return err
				}
				t = nil
			case parent == "cashtransaction" && t != nil:
				switch name {
				case "nr":
					t.Nr = v
				case "transID":
					t.TransID = v
				case "transDate":
					t.TransDate = v
				case "transTime":
					t.TransTime = v
				case "transAmntIn":
					t.AmountIn = v
				case "transAmntEx":
					t.AmountEx = v
				case "signature":
					t.Signature = v
				case "keyVersion":
					t.KeyVersion = v
				}
			}
		}
	}
}

// Verify checks every cash transaction's signature in a SAF-T file, per
// register, with the public keys by version, and returns how many it
// verified; it stops at the first that does not verify.
func Verify(r io.Reader, keys map[string]*rsa.PublicKey) (int, error) {
	prev := map[string]string{}
	n := 0
	err := ReadTransactions(r, func(t Transaction) error {
		where := fmt.Sprintf("register %s transaction nr %s (transID %s, %s %s)", t.Register, t.Nr, t.TransID, t.TransDate, t.TransTime)
		key := keys[t.KeyVersion]
		if key == nil {
			return fmt.Errorf("%s: signed with key version %q, which is not among the public keys given", where, t.KeyVersion)
		}
		sig, err := base64.StdEncoding.DecodeString(t.Signature)
		if err != nil || t.Signature == "" {
			return fmt.Errorf("%s: the signature is missing or not base64", where)
		}
		sum := sha1.Sum([]byte(t.SignedString(prev[t.Register])))
		if err := rsa.VerifyPKCS1v15(key, crypto.SHA1, sum[:], sig); err != nil {
			return fmt.Errorf("%s: the signature does not verify: this transaction or the one before it was changed", where)
		}
		prev[t.Register] = t.Signature
		n++
		return nil
	})
	return n, err
}
