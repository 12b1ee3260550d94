package journal_test

import (
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"kasse/journal"
	"kasse/store"
)

// BenchmarkSign is the cost the journal adds to each cash transaction:
// the chained string with the previous signature, RSA-1024 SHA-1, base64,
// as store.appendEntry does inside the commit. make bench runs it here and
// on ARMv6 under qemu-user (the Pi Zero's instruction set; qemu's time is
// an upper bound, not the Pi's).
func BenchmarkSign(b *testing.B) {
	s, err := journal.GenerateKey(rand.Reader, 1)
	if err != nil {
		b.Fatal(err)
	}
	e := store.Entry{Time: time.Date(2026, 12, 1, 9, 30, 15, 0, time.Local), Nr: 48213, Amount: 24990, VAT: 4998}
	prev := base64.StdEncoding.EncodeToString(make([]byte, journal.KeyBits/8))
	start := time.Now()
	n := 0
	for b.Loop() {
		sig, err := s.Sign([]byte(store.SignedString(prev, e)))
		if err != nil {
			b.Fatal(err)
		}
		prev = base64.StdEncoding.EncodeToString(sig)
		e.Nr++
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n), "sign_us/us")
}
