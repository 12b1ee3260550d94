package store

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Every field of an entry comes back as written, whichever of them the
// record leaves out (the register a reference or a transaction already
// names, a code from the table, the VAT and payment type the rate and
// Vipps MobilePay give).
func TestEntryRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 15, 0, time.Local)
	sig := base64.StdEncoding.EncodeToString(make([]byte, 128))
	entries := []Entry{
		{Seq: 1, Time: at, Code: TransCashSale, Store: "OSLO1", Lane: "2", Cashier: "7", Reference: "OSLO1-2-k7f3-12",
			Nr: 12, Amount: 24990, VAT: 4998, TaxRate: 2500, Currency: "NOK", Payment: PaymentMobileApps,
			Signature: sig, KeyVersion: "1"},
		{Seq: 2, Time: at.UTC(), Code: TransReturn, Store: "BERG1", Lane: "7", Reference: "OSLO1-2-k7f3-12",
			Text: "refund of a sale made by OSLO1 lane 2", Nr: 1, Amount: -100, VAT: -20, TaxRate: 2500, Currency: "NOK",
			Payment: PaymentMobileApps},
		{Seq: 3, Time: at, Code: EventSalesReceipt, Store: "OSLO1", Lane: "2", Trans: 1},
		{Seq: 4, Time: at, Code: EventZReport, Store: "OSLO1", Lane: "2", Z: 3, Body: []byte(`{"kind":"Z"}`)},
		{Seq: 5, Time: at, Code: 13021, Store: "OSLO1", Lane: "2", Text: "a code outside the table"},
		// A VAT the rate does not give (another rounding), another payment
		// type, a fixed zone.
		{Seq: 6, Time: at.In(time.FixedZone("", 3600)), Code: TransCashSale, Store: "OSLO1", Lane: "2",
			Reference: "OSLO1-2-k7f3-13", Nr: 13, Amount: 101, VAT: 21, TaxRate: 2500, Currency: "NOK", Payment: 12001},
		{Seq: 7, Time: at, Code: EventCopyReceipt, Store: "OSLO1", Lane: "2", Cashier: "7", Trans: 6},
		// A receipt event of BERG1's return: its register from entry 2.
		{Seq: 9, Time: at, Code: EventReturnReceipt, Store: "BERG1", Lane: "7", Trans: 2},
	}
	register := func(trans uint64) (string, string, error) {
		for _, e := range entries {
			if e.Seq == trans {
				return e.Store, e.Lane, nil
			}
		}
		t.Fatalf("asked for the register of %d", trans)
		return "", "", nil
	}
	for _, en := range entries {
		rec, err := encodeEntry(en, en.Trans != 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEntry(en.Seq, rec, register)
		if err != nil {
			t.Fatalf("entry %d: %v", en.Seq, err)
		}
		if !got.Time.Equal(en.Time) {
			t.Errorf("entry %d: time %v, want %v", en.Seq, got.Time, en.Time)
		}
		got.Time = en.Time
		if !reflect.DeepEqual(got, en) {
			t.Errorf("entry %d came back\n%+v\nwant\n%+v", en.Seq, got, en)
		}
	}
	// A sale and its receipt event: one byte of flags each, and the
	// event names neither register nor cashier.
	sale, _ := encodeEntry(entries[0], false)
	event, _ := encodeEntry(entries[2], true)
	if len(event) > 9 || sale[1] >= 0x80 || event[1] >= 0x80 {
		t.Errorf("sale record %d bytes (flags %#x), event %d bytes (flags %#x)", len(sale), sale[1], len(event), event[1])
	}
}

// Schema 4's first journals are in recordCompact, and stay readable: a
// sale and its receipt event as a register wrote them.
func TestCompactEntriesStillRead(t *testing.T) {
	sale, _ := hex.DecodeString("02819a010188e4f4b00d00114f534c4f312d322d61346c7a2d38343437ff4101b6f410f2b003c413eb5d8001" +
		"08f59f4d16529f675e23eaeb08406e547fa3e580d0e924a40367414ef18a69f6988c15132e265b790b265c08a631fb3149a277aad554" +
		"1765298a0046f93085fd6b300a288bdf7ece58804b5e3d9e523e999d1e53cfe09aace55e6472dcd1848939cb863a74c5bc81c7a8c176" +
		"02714c69ed60f8590c0f1f65dedd2a2dac8ccd680131")
	event, _ := hex.DecodeString("0281040a88e4f4b00d00054f534c4f310132fd8301")
	s, err := decodeEntry(16893, sale, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(s.Signature)
	if s.Code != TransCashSale || s.Store != "OSLO1" || s.Lane != "2" || s.Reference != "OSLO1-2-a4lz-8447" ||
		s.Nr != 8447 || s.Amount != 138523 || s.VAT != 27705 || s.TaxRate != 2500 || s.Currency != "NOK" ||
		s.Payment != PaymentMobileApps || len(sig) != 128 || s.KeyVersion != "1" || s.Time.Unix() != 1796118788 {
		t.Errorf("schema 4 sale read as %+v", s)
	}
	e, err := decodeEntry(16894, event, nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Code != EventSalesReceipt || e.Store != "OSLO1" || e.Lane != "2" || e.Trans != 16893 || e.Time.Unix() != 1796118788 {
		t.Errorf("schema 4 receipt event read as %+v", e)
	}
}

// A record that names a transaction not before it, or takes its register
// from nothing, is damage, not a guess.
func TestEntryRecordRefusesBadLinks(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 15, 0, time.UTC)
	rec, err := encodeEntry(Entry{Seq: 5, Time: at, Code: EventSalesReceipt, Store: "OSLO1", Lane: "2", Trans: 4}, true)
	if err != nil {
		t.Fatal(err)
	}
	some := func(uint64) (string, string, error) { return "OSLO1", "2", nil }
	if _, err := decodeEntry(1, rec, some); err == nil {
		t.Error("an event read at Seq 1 named a transaction before the journal's first and was accepted")
	}
	if e, err := decodeEntry(5, rec, some); err != nil || e.Trans != 4 {
		t.Errorf("the event read as %+v, %v", e, err)
	}
	if _, err := decodeEntry(5, rec, nil); err == nil {
		t.Error("an event whose register comes from its transaction read with no way to find it")
	}
	if _, err := encodeEntry(Entry{Seq: 5, Time: at, Code: EventSalesReceipt, Store: "OSLO1", Lane: "2", Trans: 5}, true); err == nil {
		t.Error("an event naming itself as its transaction was encoded")
	}
}

// A journal schema 4 began (8-byte keys, recordCompact) goes on with
// short keys in one bucket: a walk from any Seq sees every entry once, in
// order, and each is found by its Seq.
func TestJournalKeysOfBothSchemas(t *testing.T) {
	db := openT(t, filepath.Join(t.TempDir(), "kasse.db"), Options{})
	sale, _ := hex.DecodeString("02819a010188e4f4b00d00114f534c4f312d322d61346c7a2d38343437ff4101b6f410f2b003c413eb5d8001" +
		"08f59f4d16529f675e23eaeb08406e547fa3e580d0e924a40367414ef18a69f6988c15132e265b790b265c08a631fb3149a277aad554" +
		"1765298a0046f93085fd6b300a288bdf7ece58804b5e3d9e523e999d1e53cfe09aace55e6472dcd1848939cb863a74c5bc81c7a8c176" +
		"02714c69ed60f8590c0f1f65dedd2a2dac8ccd680131")
	event, _ := hex.DecodeString("0281040a88e4f4b00d00054f534c4f310132fd8301")
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEJ)
		if err := b.SetSequence(16894); err != nil {
			return err
		}
		if err := b.Put(idKey(16893), sale); err != nil {
			return err
		}
		return b.Put(idKey(16894), event)
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 300 { // past one byte of Seq: 16895 … 17194
		if _, err := db.Record(Entry{Code: EventLogin, Store: "OSLO1", Lane: "2", Cashier: "7"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, from := range []uint64{0, 1, 16893, 16894, 16895, 16896, 17000, 17194, 17195} {
		want := uint64(max(from, 16893))
		err := db.Entries(from, func(e Entry) error {
			if e.Seq != want {
				return fmt.Errorf("entry %d where %d was due", e.Seq, want)
			}
			want++
			return nil
		})
		if err != nil || want != 17195 {
			t.Errorf("Entries(%d): %v, stopped before %d", from, err, want)
		}
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		for _, seq := range []uint64{16893, 16894, 16895, 17194} {
			if e, err := getEntry(tx, seq); err != nil || e.Seq != seq || e.Store != "OSLO1" {
				t.Errorf("entry %d read as %+v, %v", seq, e, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestJournalKeyOrder(t *testing.T) {
	prev := ejKey(0)
	for _, seq := range []uint64{1, 2, 255, 256, 65535, 65536, 1 << 24, 1<<32 - 1, 1 << 32, 1<<56 + 3, 1<<64 - 1} {
		k := ejKey(seq)
		if bytes.Compare(prev, k) >= 0 {
			t.Errorf("ejKey(%d) = %x sorts before the key before it, %x", seq, k, prev)
		}
		if got, ok := ejSeq(k); !ok || got != seq {
			t.Errorf("ejSeq(%x) = %d, %v; want %d", k, got, ok, seq)
		}
		prev = k
	}
	if len(ejKey(1_000_000)) != 4 {
		t.Errorf("a million entries' keys are %d bytes", len(ejKey(1_000_000)))
	}
	if _, ok := ejSeq([]byte{2, 0, 5}); ok {
		t.Error("a key with a leading zero byte (not the shortest form) was read")
	}
}
