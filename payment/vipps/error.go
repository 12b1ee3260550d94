package vipps

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is an RFC 7807 error body (application/problem+json).
type Problem struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
	TraceID string `json:"traceId"`
}

// Error is a failed API call: no answer (Err set, Status 0), an error reply,
// or a 2xx reply the register cannot use (Unusable: cut off, not the JSON the
// API documents, or about another payment). An unusable reply is retried
// like no answer, but Vipps did answer: it never means "offline".
type Error struct {
	Op         string
	Status     int
	Unusable   bool
	Problem    *Problem
	RetryAfter time.Duration // from a 429 or 503 reply
	Hint       string        // what the user can do
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vipps %s: ", e.Op)
	switch {
	case e.Status == 0:
		fmt.Fprintf(&b, "no answer (%v)", e.Err)
	case e.Unusable:
		fmt.Fprintf(&b, "unusable %d reply (%v)", e.Status, e.Err)
	case e.Problem != nil:
		fmt.Fprintf(&b, "%d %s", e.Status, e.Problem.Title)
		if e.Problem.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Problem.Detail)
		}
		if e.Problem.TraceID != "" {
			fmt.Fprintf(&b, " (trace %s)", e.Problem.TraceID)
		}
	default:
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later: no answer,
// an unusable reply, 429 or a 5xx. A 4xx other than 429 will fail the same
// way again.
func (e *Error) Temporary() bool {
	return e.Status == 0 || e.Unusable || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Unusable is the error for a 2xx reply that does not fit the request:
// treated as no answer (retry with the same key, reconcile), never as money
// moved, and logged with what was wrong.
func Unusable(op string, status int, format string, args ...any) *Error {
	return &Error{Op: op, Status: status, Unusable: true, Err: fmt.Errorf(format, args...)}
}

// IsUnusable reports whether err is a 2xx reply that did not fit.
func IsUnusable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Unusable
}

// IsTemporary reports whether err is a Vipps error worth retrying.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Temporary()
}

// StatusOf returns the HTTP status of a Vipps error reply, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func newError(op string, resp *http.Response, body []byte, now time.Time) *Error {
	e := &Error{Op: op, Status: resp.StatusCode}
	var p Problem
	if q := otherProblem(body); q != nil {
		e.Problem = q
	} else if json.Unmarshal(body, &p) == nil && p.Title != "" {
		e.Problem = &p
	} else if s := strings.TrimSpace(string(body)); s != "" {
		e.Err = errors.New(clip(s))
	}
	if p := e.Problem; p != nil {
		p.Type, p.Title, p.Detail, p.TraceID = clip(p.Type), clip(p.Title), clip(p.Detail), clip(p.TraceID)
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// maxQuoted is how much of a reply's text an error repeats: errors go to
// the log at every poll and to kassectl status, whatever the reply's size.
const maxQuoted = 200

// clip cuts s to maxQuoted bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	i := maxQuoted
	for i > maxQuoted-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// maxRetryAfter caps a Retry-After: the provider's rate limits count per
// minute, and a far longer wait (or an overflowed one) would leave a
// capture or cancel parked for years.
const maxRetryAfter = 2 * time.Minute

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// otherProblem reads the eCom API's error formats into a Problem: its array
// of {errorGroup, errorCode, errorMessage, contextId}, and the gateway's
// {responseInfo, result} object. It returns nil for anything else.
func otherProblem(body []byte) *Problem {
	var list []struct {
		Group   string `json:"errorGroup"`
		Code    string `json:"errorCode"`
		Message string `json:"errorMessage"`
		Context string `json:"contextId"`
	}
	if json.Unmarshal(body, &list) == nil && len(list) > 0 {
		p := &Problem{Title: strings.TrimSpace(list[0].Group + " error " + list[0].Code), TraceID: list[0].Context}
		msgs := make([]string, 0, len(list))
		for _, l := range list {
			msgs = append(msgs, l.Message)
		}
		p.Detail = strings.Join(msgs, "; ")
		return p
	}
	var azure struct {
		ResponseInfo *struct {
			ResponseCode    int    `json:"responseCode"`
			ResponseMessage string `json:"responseMessage"`
		} `json:"responseInfo"`
		Result struct {
			Message string `json:"message"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &azure) == nil && azure.ResponseInfo != nil {
		return &Problem{Title: azure.ResponseInfo.ResponseMessage, Status: azure.ResponseInfo.ResponseCode, Detail: azure.Result.Message}
	}
	return nil
}
