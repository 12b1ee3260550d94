// Package pin hashes and checks cashiers' PINs with argon2id (PHC string
// format, the form libsodium and the argon2 tool print): the config holds
// only hashes, kassectl pin hash makes them, and the till checks a keyed
// PIN against them. A PIN is short; the hash slows guessing from a stolen
// config, so the config holding hashes must not be readable by others.
package pin

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's costs. Default: 19 MiB, 2 passes, 1 lane (the
// OWASP minimum for argon2id), a 16-byte salt and a 32-byte key.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default is what Hash uses.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Check says whether pin is one a cashier can key: 4 to 12 digits.
func Check(pin string) error {
	if len(pin) < 4 || len(pin) > 12 || strings.Trim(pin, "0123456789") != "" {
		return errors.New("a PIN is 4 to 12 digits (the keys 0–9)")
	}
	return nil
}

// Hash returns pin's argon2id hash with a fresh salt from rand.
func Hash(pin string, p Params, rand io.Reader) (string, error) {
	if err := Check(pin); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return "", fmt.Errorf("drawing a salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// hash is a parsed PHC string.
type hash struct {
	p    Params
	salt []byte
	key  []byte
}

// Limits on a hash's costs, so a config cannot make a PIN check take
// minutes or gigabytes.
const (
	maxMemory = 256 * 1024 // KiB
	maxTime   = 10
)

func parse(s string) (hash, error) {
	bad := func(why string) (hash, error) {
		return hash{}, fmt.Errorf("pin_hash is not an argon2id hash (%s): make one with kassectl pin hash", why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("it must start with $argon2id$")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return bad("version")
	}
	var h hash
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.p.Memory, &h.p.Time, &threads); err != nil || n != 3 {
		return bad("costs")
	}
	if h.p.Memory < 8 || h.p.Memory > maxMemory || h.p.Time < 1 || h.p.Time > maxTime || threads < 1 || threads > 16 {
		return bad("costs out of range")
	}
	h.p.Threads = uint8(threads)
	var err error
	b64 := base64.RawStdEncoding
	if h.salt, err = b64.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return bad("salt")
	}
	if h.key, err = b64.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return bad("key")
	}
	return h, nil
}

// Parse checks that s is a hash Verify can use.
func Parse(s string) error {
	_, err := parse(s)
	return err
}

// Verify reports whether pin matches the hash, in constant time.
func Verify(s, pin string) bool {
	h, err := parse(s)
	if err != nil {
		return false
	}
	key := argon2.IDKey([]byte(pin), h.salt, h.p.Time, h.p.Memory, h.p.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// Cashier is one entry of [[keys.cashiers]].
type Cashier struct {
	ID         string
	Hash       string
	Supervisor bool
}

// Set is the cashiers of a till: it checks PINs for the till (till.PINs).
type Set struct {
	byID        map[string]Cashier
	supervisors []Cashier
}

// NewSet checks every hash.
func NewSet(cs []Cashier) (*Set, error) {
	s := &Set{byID: map[string]Cashier{}}
	for _, c := range cs {
		if err := Parse(c.Hash); err != nil {
			return nil, fmt.Errorf("cashier %s: %w", c.ID, err)
		}
		if _, dup := s.byID[c.ID]; dup {
			return nil, fmt.Errorf("cashier %s is listed twice: give each cashier their own id", c.ID)
		}
		s.byID[c.ID] = c
		if c.Supervisor {
			s.supervisors = append(s.supervisors, c)
		}
	}
	return s, nil
}

// Login reports whether any cashier is configured.
func (s *Set) Login() bool { return len(s.byID) > 0 }

// Supervisors reports whether any cashier may approve refunds.
func (s *Set) Supervisors() bool { return len(s.supervisors) > 0 }

// Check reports whether pin is cashier id's. An unknown id costs a hash
// all the same, so timing does not tell which ids exist.
func (s *Set) Check(id, pin string) bool {
	c, ok := s.byID[id]
	if !ok {
		for _, other := range s.byID {
			Verify(other.Hash, pin)
			break
		}
		return false
	}
	return Verify(c.Hash, pin)
}

// Supervisor returns the supervisor whose PIN pin is. Every supervisor's
// hash is checked, so the time does not tell which one matched.
func (s *Set) Supervisor(pin string) (string, bool) {
	id, found := "", false
	for _, c := range s.supervisors {
		if Verify(c.Hash, pin) && !found {
			id, found = c.ID, true
		}
	}
	return id, found
}
