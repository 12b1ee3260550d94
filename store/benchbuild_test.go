package store

import (
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"kasse/money"
)

// buildJournal stores n captured, printed sales of OSLO1 lane 2 one after
// another as the till does, through the same methods and transactions:
// NewSale (created, with the create request), Finish (authorized: create
// done, capture queued), FinishPrint (captured: capture done, the receipt
// queued and sent), PrintDone. The clock is the real one and the bodies
// are the size of the real ones, so keys, times and free pages are what a
// register's file has. Only fsync is off, which changes no byte of the
// file. The journal's transactions carry a signature of a real one's size
// (sizeSigner), and every sale a logged-in cashier's id. It returns the
// references' series tag.
func buildJournal(b *testing.B, path string, n int) (tag string) {
	db, err := Open(path, Options{NoSync: true, Signer: sizeSigner{}, TaxRate: 2500})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rnd := rand.New(rand.NewPCG(1, 2))
	for range n {
		a := money.Amount{Value: 100 + rnd.Int64N(200_000), Currency: "NOK"}
		s, ids, err := db.NewSale("OSLO1", "2", func(ref string) (Sale, []Op) {
			return Sale{Reference: ref, Store: "OSLO1", Lane: "2", Amount: a, State: StateCreated, Cashier: "1042"},
				[]Op{{Reference: ref, Kind: "create", API: "epayment", IdempotencyKey: "create-" + ref,
					Method: "POST", Path: "/epayment/v1/payments", Body: createBody(ref, a), Amount: a.Value}}
		})
		if err != nil {
			b.Fatal(err)
		}
		s.State, s.VippsState, s.Authorized = StateAuthorized, "AUTHORIZED", time.Now()
		capture := Op{Reference: s.Reference, Kind: "capture", API: "epayment", IdempotencyKey: "capture-" + s.Reference,
			Method: "POST", Path: "/epayment/v1/payments/" + s.Reference + "/capture", Amount: a.Value,
			Body: fmt.Appendf(nil, `{"modificationAmount":{"currency":"NOK","value":%d}}`, a.Value)}
		caps, err := db.Finish(s, ids, capture)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		s.State, s.Captured, s.Ended = StateCaptured, now, now
		_, job, err := db.FinishPrint(s, caps, PrintJob{Receipt: receiptBody(s, now), Sent: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := db.PrintDone(job, s); err != nil {
			b.Fatal(err)
		}
	}
	return db.SeriesTag()
}

// createBody is an ePayment create request as the engine builds it (some
// 400 bytes).
func createBody(ref string, a money.Amount) []byte {
	vat := money.VAT(a.Value, 2500)
	return fmt.Appendf(nil, `{"amount":{"currency":"NOK","value":%d},"paymentMethod":{"type":"WALLET"},"reference":%q,`+
		`"userFlow":"QR","customerInteraction":"CUSTOMER_PRESENT","qrFormat":{"format":"TEXT/TARGETURL"},`+
		`"paymentDescription":"Kjøp i Demobutikken","receipt":{"orderLines":[{"name":"Sale","id":"1","totalAmount":%d,`+
		`"totalAmountExcludingTax":%d,"totalTaxAmount":%d,"taxRate":2500}],"bottomLine":{"currency":"NOK","posId":"2",`+
		`"receiptNumber":%q}}}`, a.Value, ref, a.Value, a.Value-vat, vat, ref)
}

// receiptBody is a receipt as the engine queues it (some 600 bytes of JSON).
func receiptBody(s Sale, at time.Time) []byte {
	vat := money.VAT(s.Amount.Value, 2500)
	return fmt.Appendf(nil, `{"StoreName":"Demobutikken","StoreLines":["Storgata 1, 0155 Oslo","Org.nr. 912 345 678 MVA",`+
		`"Telefon 22 12 34 56"],"Store":%q,"Lane":%q,"Reference":%q,"Time":%q,"Currency":"NOK","Lines":[{"Text":"Sale",`+
		`"Quantity":1,"Amount":%d,"TaxRate":2500}],"Total":%d,"VAT":[{"Rate":2500,"Base":%d,"Amount":%d}],`+
		`"PaymentMethod":"Vipps MobilePay","Copy":false,"Footer":["Takk for handelen!","Åpent man-fre 9-21, lør 9-18",`+
		`"Bytte innen 30 dager mot kvittering"],"Signature":"dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==","KeyVersion":1}`,
		s.Store, s.Lane, s.Reference, at.Format(time.RFC3339Nano), s.Amount.Value, s.Amount.Value, s.Amount.Value-vat, vat)
}

// logLayout logs what the file's bytes hold: pages in use (the rest of the
// file is bbolt's growth room) and each bucket's leaf pages, used and taken.
func logLayout(b *testing.B, db *DB, n int) {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b.Logf("pages in use: %d bytes, %.0f per sale", tx.Size(), float64(tx.Size())/float64(n))
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			st := bk.Stats()
			if st.KeyN > 0 {
				b.Logf("  %-16s %8d keys, leaves %6.1f%% full, %5.0f bytes a sale (branches %d)", name, st.KeyN,
					100*float64(st.LeafInuse)/float64(max(st.LeafAlloc, 1)), float64(st.LeafAlloc)/float64(n), st.BranchAlloc)
			}
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
}

// sizeSigner makes signatures of an RSA-1024 signature's size (128 bytes)
// and randomness, so the file holds exactly the bytes kassed's would:
// store's tests cannot import journal (it imports store), and a million
// real signatures would add some ten minutes to make bench without
// changing a byte of the size measured. BenchmarkSign in journal times
// the real ones.
type sizeSigner struct{}

func (sizeSigner) Sign(msg []byte) ([]byte, error) {
	sig := make([]byte, 0, 128)
	for i := byte(0); len(sig) < 128; i++ {
		sum := sha1.Sum(append(msg, i))
		sig = append(sig, sum[:]...)
	}
	return sig[:128], nil
}

func (sizeSigner) KeyVersion() string { return "1" }
