package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kasse/journal/report"
)

// Reports makes, journals and prints X and Z reports for the socket.
type Reports interface {
	// Make makes a report of kind report.KindX or report.KindZ. A report
	// made but not printed is no error: the reply says so.
	Make(ctx context.Context, kind string) (ReportReply, error)
	// Reprint prints Z report number z of this register again, from the
	// journal (report.ErrNoReport when there is none).
	Reprint(ctx context.Context, z uint64) (ReportReply, error)
}

// ReportReply is the answer to POST /v1/report and /v1/report/print.
type ReportReply struct {
	Report     report.Report `json:"report"`
	Seq        uint64        `json:"seq"` // the report's journal entry
	Printed    bool          `json:"printed"`
	PrintError string        `json:"printError,omitempty"`
}

// WithReports adds the report routes to h: POST /v1/report?kind=x|z makes
// a report (a Z report closes the day: the socket is admin-only, so it
// asks nothing more), POST /v1/report/print?z=N prints Z report N again.
func WithReports(h http.Handler, rep Reports) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("POST /v1/report", func(w http.ResponseWriter, r *http.Request) {
		kind := strings.ToUpper(r.URL.Query().Get("kind"))
		if kind != report.KindX && kind != report.KindZ {
			reply(w, http.StatusBadRequest, ErrorReply{fmt.Sprintf("report kind %q: use x or z", r.URL.Query().Get("kind"))})
			return
		}
		out, err := rep.Make(r.Context(), kind)
		if err != nil {
			reply(w, http.StatusInternalServerError, ErrorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /v1/report/print", func(w http.ResponseWriter, r *http.Request) {
		z, err := strconv.ParseUint(r.URL.Query().Get("z"), 10, 64)
		if err != nil || z == 0 {
			reply(w, http.StatusBadRequest, ErrorReply{"print needs a Z report's number, e.g. --print 12"})
			return
		}
		out, err := rep.Reprint(r.Context(), z)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, report.ErrNoReport) {
				status = http.StatusNotFound
			}
			reply(w, status, ErrorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, out)
	})
	return mux
}

// Report makes an X or Z report ("x" or "z").
func (c *Client) Report(ctx context.Context, kind string) (ReportReply, error) {
	var out ReportReply
	err := c.do(ctx, http.MethodPost, "/v1/report?kind="+url.QueryEscape(kind), nil, &out)
	return out, err
}

// PrintReport prints Z report number z again.
func (c *Client) PrintReport(ctx context.Context, z uint64) (ReportReply, error) {
	var out ReportReply
	err := c.do(ctx, http.MethodPost, "/v1/report/print?z="+strconv.FormatUint(z, 10), nil, &out)
	return out, err
}
