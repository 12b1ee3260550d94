package control

import (
	"fmt"
	"net/http"
	"time"

	"kasse/store"
)

// ArchiveReply is the answer to POST /v1/journal/archive.
type ArchiveReply struct {
	Archived int    `json:"archived"`
	File     string `json:"file,omitempty"`
}

func filter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	since, err := parseTime(q.Get("since"))
	if err != nil {
		return store.Filter{}, err
	}
	if st := q.Get("store"); st != "" {
		if err := store.CheckPrefix(st); err != nil {
			return store.Filter{}, err
		}
	}
	return store.Filter{Since: since, Store: q.Get("store")}, nil
}

// parseTime takes a date (local midnight) or an RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: use 2026-01-31 or 2026-01-31T15:04:05+01:00", s)
	}
	return t, nil
}
