package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"kasse/store"
)

// Checker runs the full consistency check of the open database (store.DB).
type Checker interface {
	Check(ctx context.Context, progress store.Progress) error
}

// CheckEvent is one line of GET /v1/check: progress (Done of Total bytes
// read), then one last line with the Result: "ok", "damaged" or "failed"
// (the check could not run to its end), with the Error.
type CheckEvent struct {
	Done   int64  `json:"done,omitempty"`
	Total  int64  `json:"total,omitempty"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// The results of a check.
const (
	CheckOK      = "ok"
	CheckDamaged = "damaged"
	CheckFailed  = "failed"
)

// serveCheck streams a full check of the live database: one read
// transaction beside the till's writes, a line per percent read, so the
// reply holds a few bytes at a time. A client that goes away ends the
// reading (the next progress write fails and cancels the request's
// context).
func serveCheck(w http.ResponseWriter, r *http.Request, j Journal) {
	c, ok := j.(Checker)
	if !ok {
		reply(w, http.StatusNotImplemented, ErrorReply{"this kassed cannot check its database"})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	last := int64(-1)
	err := c.Check(r.Context(), func(done, total int64) {
		if pct := done * 100 / max(total, 1); pct != last {
			last = pct
			_ = enc.Encode(CheckEvent{Done: done, Total: total})
			_ = rc.Flush()
		}
	})
	ev := CheckEvent{Result: CheckOK}
	switch {
	case errors.Is(err, store.ErrDamaged):
		ev = CheckEvent{Result: CheckDamaged, Error: err.Error()}
	case err != nil:
		ev = CheckEvent{Result: CheckFailed, Error: err.Error()}
	}
	_ = enc.Encode(ev)
}

// damagedError is kassed's verdict "damaged", as store.ErrDamaged.
type damagedError struct{ msg string }

func (e damagedError) Error() string        { return e.msg }
func (e damagedError) Is(target error) bool { return target == store.ErrDamaged }

// Check asks kassed for a full check of its database, telling progress as
// it reads. It returns nil when the file is whole, an error wrapping
// store.ErrDamaged when it is not, and ErrUnreachable when kassed does not
// answer (then check the file directly, store.Check).
func (c *Client) Check(ctx context.Context, progress store.Progress) error {
	var result *CheckEvent
	err := c.do(ctx, http.MethodGet, "/v1/check", nil, func(body io.Reader) error {
		dec := json.NewDecoder(body)
		for {
			var ev CheckEvent
			if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("the check's reply from kassed is cut short or garbled: %w", err)
			}
			if ev.Result != "" {
				result = &ev
				continue
			}
			if progress != nil {
				progress(ev.Done, ev.Total)
			}
		}
	})
	switch {
	case err != nil:
		return err
	case result == nil:
		return errors.New("kassed's check was cut short (did kassed stop?): run kassectl check again")
	case result.Result == CheckOK:
		return nil
	case result.Result == CheckDamaged:
		return damagedError{result.Error}
	}
	return fmt.Errorf("kassed could not finish the check: %s", result.Error)
}
