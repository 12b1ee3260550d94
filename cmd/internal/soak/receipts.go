package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"kasse/payment/vipps/vippssim"
	"kasse/printer/escpos"
	"kasse/store"
)

// printed counts, per sale reference, what one printer printed.
type printed struct {
	originals, copies, slips, slipCopies map[string]int
}

// readPrinter decodes a register's printer output (the ESC/POS stream of
// the simulated printer) receipt by receipt.
func (s *soak) readPrinter(r *reg) (printed, bool) {
	out := printed{originals: map[string]int{}, copies: map[string]int{}, slips: map[string]int{}, slipCopies: map[string]int{}}
	raw, err := os.ReadFile(filepath.Join(r.data, "receipt.escpos"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.bad("%s: reading the printer output: %v", r.prefix, err)
		return out, false
	}
	doc, err := escpos.Decode(raw)
	if err != nil {
		s.bad("%s: the printer output does not decode: %v", r.prefix, err)
		return out, false
	}
	start := 0
	for _, cut := range doc.Cuts {
		copyMark, refund := false, false
		for _, l := range doc.Lines[start:cut] {
			copyMark = copyMark || strings.Contains(l.Text, "KOPI")
			refund = refund || strings.Contains(l.Text, "RETURKVITTERING")
		}
		ref := ""
		for _, b := range doc.Barcodes {
			if b.AfterLine >= start && b.AfterLine <= cut {
				ref = b.Data
			}
		}
		for _, q := range doc.QRCodes {
			if q.AfterLine >= start && q.AfterLine <= cut {
				ref = q.Data
			}
		}
		switch {
		case refund && copyMark:
			out.slipCopies[ref]++
		case refund:
			out.slips[ref]++
		case copyMark:
			out.copies[ref]++
		default:
			out.originals[ref]++
		}
		start = cut
	}
	return out, true
}

// checkReceipts: exactly one original per captured sale, none for a sale
// not captured, one original refund slip per refund done on the printer of
// the register that made it; after a crash between the Sent mark and the
// write a COPY stands in for the original, at most as often as the
// print:sent crash point fired.
func (s *soak) checkReceipts(truth map[string]vippssim.PaymentInfo, l ledger) {
	pa, ok := s.readPrinter(s.a)
	if !ok {
		return
	}
	for ref, p := range truth {
		o, c := pa.originals[ref], pa.copies[ref]
		captured := p.Aggregate.Captured.Value > 0
		switch {
		case captured && o == 0 && c > 0:
			s.rep.copyOnly++
		case captured && o == 0:
			s.bad("receipt: %s is captured (%s), nothing was printed for it", ref, p.Aggregate.Captured)
		case captured && o > 1:
			s.bad("receipt: %s has %d original receipts", ref, o)
		case !captured && o+c > 0:
			s.bad("receipt: %s is not captured at Vipps (%s) but has %d original and %d copy receipts", ref, p.State, o, c)
		}
	}
	for ref, o := range pa.originals {
		if _, ok := truth[ref]; !ok {
			s.bad("receipt: %d original receipts for %s, which Vipps does not know", o, ref)
		}
	}
	for _, r := range []*reg{s.a, s.b} {
		pr, ok := pa, true
		if r != s.a {
			pr, ok = s.readPrinter(r)
		}
		if !ok {
			continue
		}
		want := map[string]int{}
		for ref, rs := range l.byRef {
			for _, x := range rs {
				if x.State == store.RefundDone && x.Store == r.prefix {
					want[ref]++
				}
			}
		}
		for ref, n := range want {
			o, c := pr.slips[ref], pr.slipCopies[ref]
			switch {
			case o < n && o+c >= n:
				s.rep.copyOnly += n - o
			case o != n:
				s.bad("receipt: %s made %d refunds of %s, printed %d refund slips and %d copies", r.prefix, n, ref, o, c)
			}
		}
		for ref, n := range pr.slips {
			if want[ref] == 0 {
				s.bad("receipt: %s printed %d refund slips for %s, made no refund of it", r.prefix, n, ref)
			}
		}
	}
	if n := s.rep.crashes["print:sent"]; s.rep.copyOnly > n {
		s.bad("receipt: %d receipts and slips printed only as a COPY, more than the %d print:sent crashes", s.rep.copyOnly, n)
	}
}
