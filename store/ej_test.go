package store

import (
	"reflect"
	"testing"
	"time"
)

// Every field of an entry comes back as written, whichever of them the
// compact record leaves out (the register a reference already names, a
// code from the table).
func TestEntryRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 15, 0, time.Local)
	for _, en := range []Entry{
		{Seq: 1, Time: at, Code: TransCashSale, Store: "OSLO1", Lane: "2", Cashier: "7", Reference: "OSLO1-2-k7f3-12",
			Nr: 12, Amount: 24990, VAT: 4998, TaxRate: 2500, Currency: "NOK", Payment: PaymentMobileApps,
			Signature: "AQID", KeyVersion: "1"},
		{Seq: 2, Time: at.UTC(), Code: TransReturn, Store: "BERG1", Lane: "7", Reference: "OSLO1-2-k7f3-12",
			Text: "refund of a sale made by OSLO1 lane 2", Nr: 1, Amount: -100, VAT: -20, TaxRate: 2500, Currency: "NOK",
			Payment: PaymentMobileApps},
		{Seq: 3, Time: at, Code: EventSalesReceipt, Store: "OSLO1", Lane: "2", Trans: 1},
		{Seq: 4, Time: at, Code: EventZReport, Store: "OSLO1", Lane: "2", Z: 3, Body: []byte(`{"kind":"Z"}`)},
		{Seq: 5, Time: at, Code: 13021, Store: "OSLO1", Lane: "2", Text: "a code outside the table"},
	} {
		rec, err := encodeEntry(en)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeEntry(en.Seq, rec)
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
}
