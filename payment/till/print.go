package till

import (
	"context"
	"encoding/json"
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
}

// idle reports whether a job queued now would print at once.
func (q *printQueue) idle(now time.Time) bool {
	return !q.busy && q.queued == 0 && !now.Before(q.nextTry)
}

// kickPrinter prints the oldest queued receipt, one at a time. A receipt
// leaves the queue only after the printer took all its bytes, so each sale
// gets its original; a failed print stays queued and is tried again.
func (t *Till) kickPrinter() {
	if t.prn.busy || t.cfg.Now().Before(t.prn.nextTry) {
		return
	}
	jobs, err := t.journal.PrintJobs()
	if err != nil {
		t.fail("print queue: %v", err)
		return
	}
	t.prn.queued = len(jobs)
	if len(jobs) == 0 {
		return
	}
	job := jobs[0]
	switch {
	case job.Sent && !t.prn.mine[job.ID]:
		// A crash came between sending this receipt and marking it
		// printed: it may be in the shopper's hand already.
		job.Copy = true
		t.cfg.Logf("receipt %s may have printed before a restart: printing it as COPY", job.Reference)
	case !job.Sent:
		if err := t.journal.PrintStarted(job.ID); err != nil {
			t.fail("print queue: %v", err)
			return
		}
	}
	t.printJob(job)
}

// printJob sends a job marked Sent to the printer at once: the gap between
// that mark and the bytes leaving is where a crash would cost the original.
func (t *Till) printJob(job store.PrintJob) {
	var r receipt.Receipt
	if err := json.Unmarshal(job.Receipt, &r); err != nil {
		t.fail("print queue: receipt for %s is unreadable: %v", job.Reference, err)
		return
	}
	r.Copy = job.Copy
	t.prn.mine[job.ID] = true
	t.prn.busy = true
	t.cfg.Crash("print:sent") // marked Sent, no byte written yet
	t.background(func() func() {
		err := t.printer.Print(r)
		return func() { t.printed(job, err) }
	})
}

func (t *Till) printed(job store.PrintJob, err error) {
	t.prn.busy = false
	if err != nil {
		job.Attempts++
		delete(t.prn.mine, job.ID)
		t.prn.lastErr = fmt.Sprintf("receipt %s not printed: %v", job.Reference, err)
		t.prn.nextTry = t.cfg.Now().Add(5 * time.Second)
		t.fail("%s", t.prn.lastErr)
		if rerr := t.journal.PrintRetry(job.ID, job.Attempts, err.Error()); rerr != nil {
			t.fail("print queue: %v", rerr)
		}
		return
	}
	t.cfg.Crash("printing")
	delete(t.prn.mine, job.ID)
	if job.Refund != "" {
		// A refund slip: the sale may be in another store's journal.
		if err := t.journal.SlipDone(job.ID); err != nil {
			t.fail("print queue: %v", err)
			return
		}
	} else {
		s, ok := t.saleFor(job.Reference)
		if !ok {
			return
		}
		if err := t.journal.PrintDone(job.ID, *s); err != nil {
			t.fail("print queue: %v", err)
			return
		}
		s.Printed = true
	}
	t.prn.lastErr = ""
	t.prn.queued--
	t.kickPrinter()
}

// Reprint queues a copy of a completed sale's receipt, marked COPY.
func (t *Till) Reprint(ctx context.Context, ref string) error {
	return t.onLoop(ctx, func() error { return t.reprint(ref) })
}

func (t *Till) reprint(ref string) error {
	s, err := t.journal.Sale(ref)
	if err != nil {
		return err
	}
	if s.State != SaleCaptured {
		return fmt.Errorf("sale %s is %s: only a captured sale has a receipt to copy", ref, s.State)
	}
	body, err := json.Marshal(t.receipt(&s, s.Captured))
	if err != nil {
		return err
	}
	if _, err := t.journal.QueuePrint(store.PrintJob{Reference: ref, Copy: true, Receipt: body}); err != nil {
		return err
	}
	t.prn.queued++
	t.prn.nextTry = time.Time{}
	t.kickPrinter()
	return nil
}
