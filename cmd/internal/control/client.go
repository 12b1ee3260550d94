package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"kasse/store"
	"kasse/till"
)

// ErrUnreachable is wrapped when kassed's socket does not answer.
var ErrUnreachable = errors.New("cannot reach kassed")

// ErrBusy is wrapped when kassed refuses for now (409 Conflict): a sale is
// in flight; try again later.
var ErrBusy = errors.New("kassed is busy")

// ReplyError is kassed's refusal: its HTTP status and its message.
type ReplyError struct {
	Status  int
	Message string
}

func (e *ReplyError) Error() string { return e.Message }

// Is makes a 409 match ErrBusy.
func (e *ReplyError) Is(target error) bool {
	return target == ErrBusy && e.Status == http.StatusConflict
}

// Client talks to kassed's control socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &Client{socket: path, http: &http.Client{Transport: tr}}
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://kassed"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: is it running, and may you use the socket? (%v)", ErrUnreachable, c.socket, unwrapDial(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e ErrorReply
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &ReplyError{Status: resp.StatusCode, Message: e.Error}
		}
		return &ReplyError{Status: resp.StatusCode, Message: "kassed answered " + resp.Status}
	}
	if h, ok := out.(*responseHook); ok {
		h.resp = resp // its headers now, its trailer after the body
	}
	if w, ok := out.(io.Writer); ok {
		if _, err := io.Copy(w, resp.Body); err != nil {
			return err
		}
		return streamEnd(resp)
	}
	if read, ok := out.(func(io.Reader) error); ok {
		if err := read(resp.Body); err != nil { // streamed: the reply is never held whole
			return err
		}
		return streamEnd(resp)
	}
	if out != nil {
		derr := json.NewDecoder(resp.Body).Decode(out)
		io.Copy(io.Discard, resp.Body) // to the trailer, if any
		if err := streamEnd(resp); err != nil {
			return err
		}
		return derr
	}
	return nil
}

// streamEnd reads a streamed reply's trailer: a stream cut short by an
// error in kassed, or by a connection lost between rows, is not the whole
// sale log, and says so.
func streamEnd(resp *http.Response) error {
	if _, declared := resp.Trailer[TrailerRows]; !declared {
		return nil // not a stream
	}
	if e := resp.Trailer.Get(TrailerError); e != "" {
		return fmt.Errorf("the sale log is incomplete: kassed stopped with %s", e)
	}
	if resp.Trailer.Get(TrailerRows) == "" {
		return errors.New("the sale log is incomplete: the stream from kassed was cut short")
	}
	return nil
}

func unwrapDial(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// Keys presses keys in order and returns the till's status after the last.
func (c *Client) Keys(ctx context.Context, keys ...string) (till.Status, error) {
	var st till.Status
	err := c.do(ctx, http.MethodPost, "/v1/keys", KeysRequest{Keys: keys}, &st)
	return st, err
}

// Status reads the till's status.
func (c *Client) Status(ctx context.Context) (till.Status, error) {
	var st till.Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

// Screen writes the customer display as PNG to w.
func (c *Client) Screen(ctx context.Context, w io.Writer) error {
	return c.do(ctx, http.MethodGet, "/v1/screen.png", nil, w)
}

// Journal reads the whole sale log.
func (c *Client) Journal(ctx context.Context) ([]store.Sale, error) {
	return c.JournalFiltered(ctx, JournalQuery{})
}

// JournalQuery selects sales: since a time, of one store.
type JournalQuery struct {
	Since string // a date or RFC 3339 time
	Store string
	Open  bool // only reservations not yet captured (remote orders waiting for dispatch)
}

func (q JournalQuery) values() url.Values {
	v := url.Values{}
	if q.Since != "" {
		v.Set("since", q.Since)
	}
	if q.Store != "" {
		v.Set("store", q.Store)
	}
	if q.Open {
		v.Set("open", "1")
	}
	return v
}

// JournalFiltered reads the sale log, archived sales included.
func (c *Client) JournalFiltered(ctx context.Context, q JournalQuery) ([]store.Sale, error) {
	var s []store.Sale
	err := c.do(ctx, http.MethodGet, "/v1/journal?"+q.values().Encode(), nil, &s)
	return s, err
}

// Rows streams the sale log to fn, one row per sale and per refund in time
// order, archived ones included: the rows every format of kassectl journal
// shows. It holds one row at a time, whatever the log's length; an error
// from fn ends the stream, and kassed ends its read.
func (c *Client) Rows(ctx context.Context, q JournalQuery, fn func(store.Row) error) error {
	v := q.values()
	v.Set("format", "json")
	return c.do(ctx, http.MethodGet, "/v1/export?"+v.Encode(), nil, func(body io.Reader) error {
		dec := json.NewDecoder(body)
		for n := 1; ; n++ {
			var r store.Row
			if err := dec.Decode(&r); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("the sale log from kassed is cut short or garbled (row %d): %w", n, err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	})
}

// Export writes the sale log with refunds, as csv or json lines, to w.
func (c *Client) Export(ctx context.Context, q JournalQuery, format string, w io.Writer) error {
	v := q.values()
	v.Set("format", format)
	return c.do(ctx, http.MethodGet, "/v1/export?"+v.Encode(), nil, w)
}

// Archive moves final sales created before `before` to a compressed file.
func (c *Client) Archive(ctx context.Context, before string) (ArchiveReply, error) {
	var a ArchiveReply
	err := c.do(ctx, http.MethodPost, "/v1/journal/archive?before="+url.QueryEscape(before), nil, &a)
	return a, err
}

// Reprint prints a copy of a sale's receipt, marked COPY.
func (c *Client) Reprint(ctx context.Context, ref string) error {
	return c.do(ctx, http.MethodPost, "/v1/reprint?reference="+url.QueryEscape(ref), nil, nil)
}

// Capture captures a remote order reserved until dispatch: its capture is
// committed and on its way when this returns.
func (c *Client) Capture(ctx context.Context, ref string) error {
	return c.do(ctx, http.MethodPost, "/v1/capture?reference="+url.QueryEscape(ref), nil, nil)
}

// Scan hands kassed a scanned code, as a barcode scanner would.
func (c *Client) Scan(ctx context.Context, code string) (till.Status, error) {
	var st till.Status
	err := c.do(ctx, http.MethodPost, "/v1/scan?code="+url.QueryEscape(code), nil, &st)
	return st, err
}

// Lock asks the till to stop taking sales for reason (an update). It fails
// with ErrBusy while a sale or refund is in progress.
func (c *Client) Lock(ctx context.Context, reason string) error {
	return c.do(ctx, http.MethodPost, "/v1/lock", LockRequest{Reason: reason}, nil)
}

// Unlock lets the till take sales again.
func (c *Client) Unlock(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/unlock", nil, nil)
}
