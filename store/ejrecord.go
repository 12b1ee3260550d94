package store

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"kasse/money"
)

// A journal entry's record. Entries are never rewritten, so every format
// ever written is read for good: recordCompact (schema 4's first
// journals) and recordEntry (written since schema 5).
//
// recordEntry keeps a sale with its receipt-printed event in some 190
// bytes of values: each transaction carries a 128-byte signature, and a
// register makes a million of them in a few years. Against recordCompact
// it drops what an entry can be read without: the flags' unused bits, the
// time's nanoseconds (the journal keeps whole seconds), the VAT and
// payment type when they are what the rate and Vipps MobilePay give, and
// a receipt event's register and cashier (its transaction has both).
const recordEntry = 3

// Entry flags of recordEntry: one byte for a sale and for a receipt event.
const (
	// bits 0 and 1: the zone, as in every record
	ejMoney   = 1 << 2 // Nr, amount, rate; then the signature and key version (empty without a Signer)
	ejRef     = 1 << 3
	ejImplied = 1 << 4 // Store and Lane are not written: the reference's, or with no reference Trans's
	ejCashier = 1 << 5
	ejTrans   = 1 << 6 // Seq − Trans follows
	ejText    = 1 << 7
	ejZ       = 1 << 8
	ejBody    = 1 << 9
	ejVAT     = 1 << 10 // the VAT differs from what the rate gives
	ejPayment = 1 << 11 // the payment type is not Vipps MobilePay's
	ejAll     = zoneMask | ejMoney | ejRef | ejImplied | ejCashier | ejTrans | ejText | ejZ | ejBody | ejVAT | ejPayment
)

// registerOf finds the register of transaction trans (its Seq), for a
// receipt event that leaves its own out.
type registerOf func(trans uint64) (store, lane string, err error)

// entryVAT is the VAT the rate gives on amount, negative for a return.
func entryVAT(amount int64, rate int) int64 {
	if amount < 0 {
		return -money.VAT(-amount, rate)
	}
	return money.VAT(amount, rate)
}

// encodeEntry is en's record (en.Seq set). transRegister says en's
// register is that of its transaction en.Trans, so it is left out.
func encodeEntry(en Entry, transRegister bool) ([]byte, error) {
	if en.Trans >= en.Seq && en.Trans != 0 {
		return nil, fmt.Errorf("encoding journal entry %d: transaction %d is not before it", en.Seq, en.Trans)
	}
	e := &encoder{b: []byte{recordEntry}}
	zone := zoneOf(en.Time)
	isTrans := en.IsTransaction()
	implied := ownRef(en) || en.Reference == "" && en.Trans != 0 && transRegister
	f := zone | flagIf(isTrans, ejMoney) | flagIf(en.Reference != "", ejRef) | flagIf(implied, ejImplied) |
		flagIf(en.Cashier != "", ejCashier) | flagIf(en.Trans != 0, ejTrans) | flagIf(en.Text != "", ejText) |
		flagIf(en.Z != 0, ejZ) | flagIf(len(en.Body) > 0, ejBody) |
		flagIf(isTrans && en.VAT != entryVAT(en.Amount, en.TaxRate), ejVAT) |
		flagIf(isTrans && en.Payment != PaymentMobileApps, ejPayment)
	e.uvarint(f)
	e.intCode(entryCodes, en.Code)
	if e.checkTime(en.Time) {
		e.varint(en.Time.Unix())
		if zone == zoneFixed {
			_, off := en.Time.Zone()
			e.varint(int64(off))
		}
	}
	if !implied {
		e.str(en.Store)
		e.str(en.Lane)
	}
	e.strs(f, strField{ejRef, en.Reference}, strField{ejCashier, en.Cashier}, strField{ejText, en.Text})
	if f&ejTrans != 0 {
		e.uvarint(en.Seq - en.Trans)
	}
	if isTrans {
		e.uvarint(en.Nr)
		e.amount(money.Amount{Value: en.Amount, Currency: en.Currency})
		e.uvarint(uint64(en.TaxRate))
		if f&ejVAT != 0 {
			e.varint(en.VAT)
		}
		if f&ejPayment != 0 {
			e.uvarint(uint64(en.Payment))
		}
		sig, err := base64.StdEncoding.DecodeString(en.Signature)
		if err != nil {
			return nil, fmt.Errorf("encoding journal entry: signature is not base64: %w", err)
		}
		e.bytes(sig)
		e.str(en.KeyVersion)
	}
	if f&ejZ != 0 {
		e.uvarint(en.Z)
	}
	if f&ejBody != 0 {
		e.bytes(en.Body)
	}
	if e.err != nil {
		return nil, fmt.Errorf("encoding journal entry: %w", e.err)
	}
	return e.b, nil
}

// decodeEntry reads entry seq's record, in either format; register
// finds a receipt event's register.
func decodeEntry(seq uint64, rec []byte, register registerOf) (Entry, error) {
	if len(rec) > 0 && rec[0] == recordCompact {
		return decodeCompactEntry(seq, rec)
	}
	if len(rec) == 0 || rec[0] != recordEntry {
		return Entry{}, damagedRecord("journal entry", "has an unknown format")
	}
	d := &decoder{b: rec[1:]}
	en := Entry{Seq: seq}
	f := d.flags(ejAll)
	en.Code = d.intCode(entryCodes)
	sec := d.varint()
	d.zone(f)
	en.Time = d.unix(sec, 0)
	if f&ejImplied == 0 {
		en.Store = d.str()
		en.Lane = d.str()
	}
	d.strs(f, strSlot{ejRef, &en.Reference}, strSlot{ejCashier, &en.Cashier}, strSlot{ejText, &en.Text})
	if f&ejTrans != 0 {
		if back := d.uvarint(); back == 0 || back >= seq {
			d.fail("names a transaction that is not before it")
		} else {
			en.Trans = seq - back
		}
	}
	if f&ejMoney != 0 {
		en.Nr = d.uvarint()
		a := d.amount()
		en.Amount, en.Currency = a.Value, a.Currency
		en.TaxRate = int(d.uvarint())
		en.VAT, en.Payment = entryVAT(en.Amount, en.TaxRate), PaymentMobileApps
		if f&ejVAT != 0 {
			en.VAT = d.varint()
		}
		if f&ejPayment != 0 {
			en.Payment = int(d.uvarint())
		}
		if sig := d.bytes(); len(sig) > 0 {
			en.Signature = base64.StdEncoding.EncodeToString(sig)
		}
		en.KeyVersion = d.str()
	}
	if f&ejZ != 0 {
		en.Z = d.uvarint()
	}
	if f&ejBody != 0 {
		en.Body = bytes.Clone(d.bytes())
	}
	if err := d.done(); err != nil {
		return Entry{}, damagedRecord(fmt.Sprintf("journal entry %d", seq), err.Error())
	}
	if f&ejImplied != 0 {
		switch {
		case en.Reference != "":
			r, err := ParseReference(en.Reference)
			if err != nil {
				return Entry{}, damagedRecord(fmt.Sprintf("journal entry %d", seq), "takes its register from a reference that names none")
			}
			en.Store, en.Lane = r.Prefix, r.Lane
		case en.Trans != 0 && register != nil:
			var err error
			if en.Store, en.Lane, err = register(en.Trans); err != nil {
				return Entry{}, err
			}
		default:
			return Entry{}, damagedRecord(fmt.Sprintf("journal entry %d", seq), "takes its register from nothing")
		}
	}
	return en, nil
}

// recordCompact's entry flags (schema 4's first journals: read, never
// written now).
const (
	entryCashier = flagA
	entryText    = flagB
	entryRef     = flagC
	entryTrans   = flagD
	entryMoney   = flagE // Nr, amounts, rate, currency, payment
	entrySigned  = flagF // signature and key version
	entryZ       = flagG
	entryBody    = flagH
	entryOwnRef  = flagI // Store and Lane are the reference's, and not written
	entryAll     = zoneMask | flagA | flagB | flagC | flagD | flagE | flagF | flagG | flagH | flagI
)

// entryCodes are the codes an entry's Code is written as, one byte each
// (append only); another code follows a 0.
var entryCodes = []int{TransCashSale, TransReturn, EventStart, EventShutdown, EventLogin, EventLogout, EventUpdate,
	EventXReport, EventZReport, EventSalesReceipt, EventReturnReceipt, EventCopyReceipt, EventOtherReport,
	EventUnprinted, EventOther}

// ownRef: the entry's register is its reference's (a sale made here).
func ownRef(en Entry) bool {
	if en.Reference == "" {
		return false
	}
	r, err := ParseReference(en.Reference)
	return err == nil && r.Prefix == en.Store && r.Lane == en.Lane
}

func decodeCompactEntry(seq uint64, rec []byte) (Entry, error) {
	d := &decoder{b: rec[1:]}
	en := Entry{Seq: seq}
	f := d.flags(entryAll)
	en.Code = d.intCode(entryCodes)
	en.Time = d.base(f)
	if f&entryOwnRef == 0 {
		en.Store = d.str()
		en.Lane = d.str()
	}
	d.strs(f, strSlot{entryCashier, &en.Cashier}, strSlot{entryText, &en.Text}, strSlot{entryRef, &en.Reference})
	if f&entryTrans != 0 {
		en.Trans = d.uvarint()
	}
	if f&entryMoney != 0 {
		en.Nr = d.uvarint()
		a := d.amount()
		en.Amount, en.Currency = a.Value, a.Currency
		en.VAT = d.varint()
		en.TaxRate = int(d.uvarint())
		en.Payment = int(d.uvarint())
	}
	if f&entrySigned != 0 {
		en.Signature = base64.StdEncoding.EncodeToString(d.bytes())
		en.KeyVersion = d.str()
	}
	if f&entryZ != 0 {
		en.Z = d.uvarint()
	}
	if f&entryBody != 0 {
		en.Body = bytes.Clone(d.bytes())
	}
	if f&entryOwnRef != 0 {
		if f&entryRef == 0 {
			d.fail("the register taken from a reference that is not there")
		}
		r, _ := ParseReference(en.Reference)
		en.Store, en.Lane = r.Prefix, r.Lane
	}
	if err := d.done(); err != nil {
		return Entry{}, damagedRecord(fmt.Sprintf("journal entry %d", seq), err.Error())
	}
	return en, nil
}
