package control

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kasse/journal/saft"
	"kasse/store"
)

// Option configures Handler.
type Option func(*options)

type options struct {
	saft *saft.Company
}

// WithSAFT serves GET /v1/saft: the electronic journal as a SAF-T Cash
// Register file, with c's facts in its header (kassed's config).
func WithSAFT(c saft.Company) Option { return func(o *options) { o.saft = &c } }

// entrySource is a journal that walks its electronic journal (*store.DB).
type entrySource interface {
	Entries(from uint64, fn func(store.Entry) error) error
}

// serveSAFT streams the SAF-T file of ?from=DATE&to=DATE. The file is
// written as the journal is read (two walks, see saft.Write), so a year
// streams in bounded memory; a client that goes away ends the walk, and
// an export cut short says why in the Kasse-Error trailer.
func serveSAFT(w http.ResponseWriter, r *http.Request, j Journal, o options) {
	src, ok := j.(entrySource)
	if o.saft == nil || !ok {
		reply(w, http.StatusNotImplemented, ErrorReply{"this kassed has no SAF-T export configured"})
		return
	}
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if err := saft.CheckRange(from, to); err != nil {
		reply(w, http.StatusBadRequest, ErrorReply{err.Error()})
		return
	}
	created := time.Now()
	ctx := r.Context()
	walk := func(fn func(store.Entry) error) error {
		return src.Entries(0, func(e store.Entry) error {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("the client went away: %w", err)
			}
			return fn(e)
		})
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": saft.FileName(o.saft.OrgNumber, created, 1, 1)}))
	w.Header().Set("Trailer", TrailerRows+", "+TrailerError)
	n, err := saft.Write(w, *o.saft, saft.Options{From: from, To: to, Created: created}, walk)
	if err != nil {
		w.Header().Set(TrailerError, strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	w.Header().Set(TrailerRows, strconv.Itoa(n))
}

// SAFTReply is what the client learnt of an export.
type SAFTReply struct {
	FileName string // as the server named it (saft.FileName)
	Rows     int    // events and cash transactions
}

// responseHook is an io.Writer that wants the response first (do calls
// it before copying the body).
type responseHook struct {
	w    io.Writer
	resp *http.Response
}

func (h *responseHook) Write(p []byte) (int, error) { return h.w.Write(p) }

// SAFT streams the SAF-T Cash Register file of the dates from–to
// (YYYY-MM-DD, inclusive) to w.
func (c *Client) SAFT(ctx context.Context, from, to string, w io.Writer) (SAFTReply, error) {
	h := &responseHook{w: w}
	v := url.Values{"from": {from}, "to": {to}}
	err := c.do(ctx, http.MethodGet, "/v1/saft?"+v.Encode(), nil, h)
	var rep SAFTReply
	if h.resp != nil {
		if _, params, perr := mime.ParseMediaType(h.resp.Header.Get("Content-Disposition")); perr == nil {
			rep.FileName = params["filename"]
		}
		rep.Rows, _ = strconv.Atoi(h.resp.Trailer.Get(TrailerRows))
	}
	return rep, err
}
