package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"kasse/printer/escpos"
	"kasse/till"
)

// sell keys and pays a sale of 100,00 kr and waits for the paid screen.
func (w *world) sell() string {
	w.t.Helper()
	if _, err := w.keys("1", "0", "0", "0", "0", "pay"); err != nil {
		w.t.Fatal(err)
	}
	ref := w.waitFor("the QR", func(st till.Status) bool { return st.Screen == "qr" }).Reference
	w.approve(ref)
	w.waitFor("the paid screen", func(st till.Status) bool { return st.Screen == "paid" })
	if _, err := w.keys("clear"); err != nil {
		w.t.Fatal(err)
	}
	return ref
}

func printedCuts(t *testing.T, w *world) escpos.Document {
	t.Helper()
	doc, err := escpos.Decode(w.printer.Printed())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// The printer runs out of paper: the sale still completes, kassectl status
// tells the cashier what to do, and once a roll is in the receipt prints by
// itself, one original.
func TestPaperOutThenRefill(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.printer.SetPaper(escpos.PaperOut)
	st := w.waitFor("paper out", func(st till.Status) bool { return st.Printer.State == "paper_out" })
	if !strings.Contains(st.Printer.Banner, "load a new roll") || !strings.Contains(st.Printer.Detail, "new roll") {
		t.Fatalf("printer status %+v", st.Printer)
	}
	ref := w.sell()
	st = w.waitFor("a waiting receipt", func(st till.Status) bool { return st.PrintQueue == 1 })
	if !strings.Contains(st.Printer.Banner, "1 receipt waits") {
		t.Fatalf("banner %q", st.Printer.Banner)
	}
	if doc := printedCuts(t, w); len(doc.Cuts) != 0 {
		t.Fatalf("%d receipts printed without paper", len(doc.Cuts))
	}
	w.printer.SetPaper(escpos.PaperOK)
	w.waitFor("the queue to empty", func(st till.Status) bool {
		return st.PrintQueue == 0 && st.Printer.State == "ok" && st.Printer.Banner == ""
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := w.printer.WaitCuts(ctx, 1)
	if err != nil || len(doc.Cuts) != 1 || len(doc.Barcodes) != 1 || doc.Barcodes[0].Data != ref {
		t.Fatalf("after the refill: %v, %d receipts, barcodes %+v", err, len(doc.Cuts), doc.Barcodes)
	}
	if doc.Contains("KOPI") || doc.Contains("COPY") {
		t.Fatalf("the only receipt is a copy:\n%s", doc.Render(42))
	}
}

// The USB adaptor is pulled and put back: kassed reopens the port by itself
// and the waiting receipt prints.
func TestUnplugThenReplug(t *testing.T) {
	w := newWorld(t, worldOpts{})
	if err := w.printer.Unplug(); err != nil {
		t.Fatal(err)
	}
	w.waitFor("offline", func(st till.Status) bool { return st.Printer.State == "offline" })
	ref := w.sell()
	w.waitFor("a waiting receipt", func(st till.Status) bool { return st.PrintQueue == 1 })
	if err := w.printer.Replug(); err != nil {
		t.Fatal(err)
	}
	w.waitFor("the queue to empty", func(st till.Status) bool { return st.PrintQueue == 0 && st.Printer.State == "ok" })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := w.printer.WaitCuts(ctx, 1)
	if err != nil || len(doc.Cuts) != 1 || doc.Barcodes[0].Data != ref {
		t.Fatalf("after the replug: %v, %+v", err, doc.Barcodes)
	}
}
