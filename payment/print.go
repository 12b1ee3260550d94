package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kasse/printer/receipt"
	"kasse/store"
)

// printQueue is the loop's view of the durable print queue.
type printQueue struct {
	busy    bool
	queued  int
	lastErr string
	nextTry time.Time
	mine    map[uint64]bool // jobs this run marked Sent
	// unflushed is when a printed mark was last left for the next commit.
	unflushed time.Time
	// stopped: the printer said it cannot print (paper out, cover open,
	// offline); the queue waits for it rather than for nextTry.
	stopped bool
}

// canPrint reports whether a printer in state prints: paper near end does.
func canPrint(state string) bool { return state == "ok" || state == "paper_low" }

// watchPrinter follows the printer's condition: while it cannot print the
// queue waits, and the moment it can the queue goes on by itself.
func (e *Engine) watchPrinter() {
	state, _ := e.cfg.PrinterState()
	stopped := !canPrint(state)
	if e.prn.stopped && !stopped {
		e.cfg.Logf("printer: %s again; printing the %d waiting receipts", state, e.prn.queued)
		e.prn.nextTry = time.Time{}
	}
	e.prn.stopped = stopped
}

// idle reports whether a job queued now would print at once.
func (q *printQueue) idle(now time.Time) bool {
	return !q.busy && !q.stopped && q.queued == 0 && !now.Before(q.nextTry)
}

// kickPrinter prints the oldest queued receipt, one at a time. A receipt
// leaves the queue only after the printer took all its bytes, so each sale
// gets its original; a failed print stays queued and is tried again.
func (e *Engine) kickPrinter() {
	e.watchPrinter()
	if e.prn.busy || e.prn.stopped || e.cfg.Now().Before(e.prn.nextTry) {
		return
	}
	jobs, err := e.journal.PrintJobs()
	if err != nil {
		e.fail("print queue: %v", err)
		return
	}
	e.prn.queued = len(jobs)
	if len(jobs) == 0 {
		return
	}
	job := jobs[0]
	switch {
	case job.Sent && !e.prn.mine[job.ID]:
		// A crash came between sending this receipt and marking it
		// printed: it may be in the shopper's hand already.
		// It counts as the sale's one copy (kassasystemforskriften § 2-6).
		if err := e.journal.PrintAsCopy(job.ID); err != nil {
			e.fail("print queue: %v", err)
			return
		}
		job.Copy = true
		e.cfg.Logf("receipt %s may have printed already (a restart or a failure mid-receipt): printing it as a copy", job.Reference)
	case !job.Sent:
		if err := e.journal.PrintStarted(job.ID); err != nil {
			e.fail("print queue: %v", err)
			return
		}
	}
	e.printJob(job)
}

// printJob sends a job marked Sent to the printer at once: the gap between
// that mark and the bytes leaving is where a crash would cost the original.
func (e *Engine) printJob(job store.PrintJob) {
	var r receipt.Receipt
	if err := json.Unmarshal(job.Receipt, &r); err != nil {
		e.fail("print queue: receipt for %s is unreadable: %v", job.Reference, err)
		return
	}
	r.Copy, r.Number = job.Copy, job.Number
	e.prn.mine[job.ID] = true
	e.prn.busy = true
	e.cfg.Crash("print:sent") // marked Sent, no byte written yet
	e.background(func() func() {
		err := e.printer.Print(r)
		return func() { e.printed(job, err) }
	})
}

func (e *Engine) printed(job store.PrintJob, err error) {
	e.prn.busy = false
	if err != nil {
		job.Attempts++
		delete(e.prn.mine, job.ID)
		e.prn.lastErr = fmt.Sprintf("receipt %s not printed: %v", job.Reference, err)
		e.prn.nextTry = e.cfg.Now().Add(5 * time.Second)
		e.fail("%s", e.prn.lastErr)
		if rerr := e.journal.PrintRetry(job.ID, job.Attempts, err.Error(), !nothingPrinted(err)); rerr != nil {
			e.fail("print queue: %v", rerr)
		}
		return
	}
	e.cfg.Crash("printing")
	delete(e.prn.mine, job.ID)
	if job.Refund != "" {
		// A refund slip: the sale may be in another store's journal.
		if err := e.journal.SlipDone(job.ID); err != nil {
			e.fail("print queue: %v", err)
			return
		}
	} else {
		s, ok := e.saleFor(job.Reference)
		if !ok {
			return
		}
		if err := e.journal.PrintDone(job.ID, *s); err != nil {
			e.fail("print queue: %v", err)
			return
		}
		s.Printed = true
		e.prn.unflushed = e.cfg.Now()
	}
	e.prn.lastErr = ""
	e.prn.queued--
	e.kickPrinter()
}

// nothingPrinted reports whether a print error says no byte of the receipt
// left for the printer (it was not ready, or not there), so the job may
// still print as the original. Any other failure may have put some of it
// on paper: the job then prints again as a copy.
func nothingPrinted(err error) bool {
	var np interface{ NothingPrinted() bool }
	return errors.As(err, &np) && np.NothingPrinted()
}

// flushPrinted commits the printed marks once the till has had no sale for
// flushAfter (any commit before then carries them anyway).
func (e *Engine) flushPrinted() {
	if e.prn.unflushed.IsZero() || e.cfg.Now().Sub(e.prn.unflushed) < flushAfter ||
		e.phase != PhaseNone && e.phase != PhaseDone {
		return
	}
	if err := e.journal.Flush(); err != nil {
		e.fail("print queue: %v", err)
		return
	}
	e.prn.unflushed = time.Time{}
}

// Reprint queues a copy of a completed sale's receipt, marked COPY. Call
// it on the loop.
func (e *Engine) Reprint(ref string) error {
	s, err := e.journal.Sale(ref)
	if err != nil {
		return err
	}
	if s.State != store.StateCaptured {
		return fmt.Errorf("sale %s is %s: only a captured sale has a receipt to copy", ref, s.State)
	}
	body, err := json.Marshal(e.receipt(&s, s.Captured))
	if err != nil {
		return err
	}
	if _, err := e.journal.QueuePrint(store.PrintJob{Reference: ref, Copy: true, Receipt: body}); err != nil {
		return err
	}
	e.prn.queued++
	e.prn.nextTry = time.Time{}
	e.kickPrinter()
	return nil
}
