// Package control is kassed's control socket: HTTP over a unix socket in the
// data directory (the Docker/containerd convention), and the client kassectl
// uses. Only the socket's file mode guards it, so it is created 0660 in a
// data directory of mode 0750: kassed's group may use it (see Reachable).
package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"kasse/device"
	"kasse/store"
	"kasse/till"
)

// Till is what the socket drives.
type Till interface {
	Press(ctx context.Context, k device.Key) error
	Status() till.Status
	Reprint(ctx context.Context, ref string) error
	// Capture captures a remote order reserved until dispatch.
	Capture(ctx context.Context, ref string) error
	Scan(ctx context.Context, code string) error
	Lock(ctx context.Context, reason string) error
	Unlock(ctx context.Context) error
}

// Screen renders the customer display as PNG.
type Screen interface {
	WritePNG(w io.Writer) error
}

// Journal is the sale log in bbolt.
type Journal interface {
	Journal(f store.Filter, fn func(store.Sale) error) error
	Rows(f store.Filter, fn func(store.Row) error) error
	Archive(before time.Time, w io.Writer) (int, error)
}

// The trailers of a streamed reply: how many rows were sent, or the
// error that cut it short.
const (
	TrailerRows  = "Kasse-Rows"
	TrailerError = "Kasse-Error"
)

// KeysRequest is the body of POST /v1/keys.
type KeysRequest struct {
	Keys []string `json:"keys"`
}

// LockRequest is the body of POST /v1/lock.
type LockRequest struct {
	Reason string `json:"reason"`
}

// ErrorReply is every non-2xx body.
type ErrorReply struct {
	Error string `json:"error"`
}

// Handler serves the control API. Archives of old sales live in
// archiveDir and are read back with the live journal. Options add what
// needs more than these (WithSAFT).
func Handler(t Till, s Screen, j Journal, archiveDir string, opts ...Option) http.Handler {
	a := store.Archives{Dir: archiveDir}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/saft", func(w http.ResponseWriter, r *http.Request) { serveSAFT(w, r, j, o) })
	mux.HandleFunc("POST /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		var req KeysRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
			reply(w, http.StatusBadRequest, ErrorReply{"keys request is not JSON: " + err.Error()})
			return
		}
		// Check every name before pressing any, so a typo presses nothing.
		keys := make([]device.Key, 0, len(req.Keys))
		for _, n := range req.Keys {
			k, err := device.ParseKey(n)
			if err != nil {
				reply(w, http.StatusBadRequest, ErrorReply{err.Error()})
				return
			}
			keys = append(keys, k)
		}
		for i, k := range keys {
			if err := t.Press(r.Context(), k); err != nil {
				reply(w, http.StatusConflict, ErrorReply{fmt.Sprintf("key %d (%s): %v", i+1, k, err)})
				return
			}
		}
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("POST /v1/lock", func(w http.ResponseWriter, r *http.Request) {
		var req LockRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req); err != nil || strings.TrimSpace(req.Reason) == "" {
			reply(w, http.StatusBadRequest, ErrorReply{"lock needs a reason, e.g. {\"reason\": \"update to 1.4.0\"}"})
			return
		}
		if err := t.Lock(r.Context(), req.Reason); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, till.ErrBusy) {
				status = http.StatusConflict
			}
			reply(w, status, ErrorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("POST /v1/unlock", func(w http.ResponseWriter, r *http.Request) {
		if err := t.Unlock(r.Context()); err != nil {
			reply(w, http.StatusInternalServerError, ErrorReply{err.Error()})
			return
		}
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("GET /v1/screen.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		if err := s.WritePNG(w); err != nil {
			reply(w, http.StatusInternalServerError, ErrorReply{"screen: " + err.Error()})
		}
	})
	mux.HandleFunc("GET /v1/journal", func(w http.ResponseWriter, r *http.Request) {
		f, err := filter(r)
		if err != nil {
			reply(w, http.StatusBadRequest, ErrorReply{err.Error()})
			return
		}
		// A JSON array of sales, streamed one sale at a time.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Trailer", TrailerRows+", "+TrailerError)
		enc, n := json.NewEncoder(w), 0
		open := r.URL.Query().Get("open") != ""
		add := func(s store.Sale) error {
			if open && s.CaptureState() != store.CaptureReserved {
				return nil
			}
			sep := ","
			if n == 0 {
				sep = "["
			}
			n++
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
			return enc.Encode(s)
		}
		err = a.Sales(f, add)
		if err == nil {
			err = j.Journal(f, add)
		}
		if err == nil && n == 0 {
			_, err = io.WriteString(w, "[")
		}
		if err == nil {
			_, err = io.WriteString(w, "]\n")
		}
		if err != nil {
			w.Header().Set(TrailerError, strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		w.Header().Set(TrailerRows, strconv.Itoa(n))
	})
	mux.HandleFunc("GET /v1/export", func(w http.ResponseWriter, r *http.Request) {
		f, err := filter(r)
		format := r.URL.Query().Get("format")
		if err == nil && format != "json" && format != "csv" {
			err = fmt.Errorf("format %q: use json or csv", format)
		}
		if err != nil {
			reply(w, http.StatusBadRequest, ErrorReply{err.Error()})
			return
		}
		w.Header().Set("Content-Type", map[string]string{"csv": "text/csv", "json": "application/x-ndjson"}[format])
		// The trailer says how it ended: the rows sent, or the error that
		// cut the stream short, so a client never takes part for the whole.
		w.Header().Set("Trailer", TrailerRows+", "+TrailerError)
		out, _ := store.NewRowWriter(format, w) // format checked above
		// --open: only reservations not yet captured (remote orders
		// waiting for dispatch); archives hold final sales only, so the
		// filter costs a walk, not a second index.
		open := r.URL.Query().Get("open") != ""
		// One journal: the archives and the live database merged in time
		// order, one row at a time from a read transaction that ends with
		// the stream (a client that goes away fails the next write).
		n := 0
		err = a.Rows(j, f, func(r store.Row) error {
			if open && r.Capture != store.CaptureReserved {
				return nil
			}
			n++
			return out.Write(r)
		})
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			w.Header().Set(TrailerError, strings.ReplaceAll(err.Error(), "\n", " "))
			return
		}
		w.Header().Set(TrailerRows, strconv.Itoa(n))
	})
	mux.HandleFunc("POST /v1/journal/archive", func(w http.ResponseWriter, r *http.Request) {
		before, err := parseTime(r.URL.Query().Get("before"))
		if err != nil || before.IsZero() {
			reply(w, http.StatusBadRequest, ErrorReply{"archive needs --before DATE (2026-01-31 or RFC 3339)"})
			return
		}
		n, file, err := a.Write(j, before)
		if err != nil {
			reply(w, http.StatusInternalServerError, ErrorReply{"archive: " + err.Error()})
			return
		}
		reply(w, http.StatusOK, ArchiveReply{Archived: n, File: file})
	})
	mux.HandleFunc("GET /v1/check", func(w http.ResponseWriter, r *http.Request) { serveCheck(w, r, j) })
	mux.HandleFunc("POST /v1/scan", func(w http.ResponseWriter, r *http.Request) {
		if err := t.Scan(r.Context(), r.URL.Query().Get("code")); err != nil {
			reply(w, http.StatusConflict, ErrorReply{"scan: " + err.Error()})
			return
		}
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("POST /v1/capture", func(w http.ResponseWriter, r *http.Request) {
		ref := r.URL.Query().Get("reference")
		if err := t.Capture(r.Context(), ref); err != nil {
			status := http.StatusConflict
			if errors.Is(err, store.ErrNotFound) {
				status = http.StatusNotFound
			}
			reply(w, status, ErrorReply{"capture: " + err.Error()})
			return
		}
		reply(w, http.StatusOK, t.Status())
	})
	mux.HandleFunc("POST /v1/reprint", func(w http.ResponseWriter, r *http.Request) {
		ref := r.URL.Query().Get("reference")
		if err := t.Reprint(r.Context(), ref); err != nil {
			reply(w, http.StatusConflict, ErrorReply{"reprint: " + err.Error()})
			return
		}
		reply(w, http.StatusOK, t.Status())
	})
	return mux
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Listen opens the unix socket at path, replacing a stale one left by a
// crash (but not one that still answers: that is another kassed).
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s is in use: is another kassed running on this data directory?", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket %s: %w", path, err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	return l, nil
}
