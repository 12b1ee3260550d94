package vippsspec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// maxBodyInReport keeps violation messages readable.
const maxBodyInReport = 300

// Validator checks request/response pairs against the loaded documents and
// keeps every violation it saw. It is safe for concurrent use.
type Validator struct {
	docs []docRouter

	mu         sync.Mutex
	violations []string
	count      int
}

// Violations returns the violations recorded so far, oldest first.
func (v *Validator) Violations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.violations...)
}

// Count is the number of request/response pairs matched to a document and
// validated, so a test can prove the contract was really checked.
func (v *Validator) Count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.count
}

// Reset forgets the violations and the count.
func (v *Validator) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations, v.count = nil, 0
}

// Check fails t with every violation recorded so far.
func (v *Validator) Check(t testing.TB) {
	t.Helper()
	vs := v.Violations()
	if len(vs) == 0 {
		return
	}
	t.Errorf("%d Vipps OpenAPI contract violation(s):\n  %s", len(vs), strings.Join(vs, "\n  "))
}

func (v *Validator) record(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
}

func (v *Validator) counted() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.count++
}

// find returns the route of the document owning r's path, or nil when no
// document knows the path. A known path with an undocumented method is
// reported as such, with a nil route.
func (v *Validator) find(r *http.Request) (doc string, route *routers.Route, params map[string]string, err error) {
	for _, d := range v.docs {
		route, params, err := d.router.FindRoute(r)
		switch {
		case err == nil:
			return d.name, route, params, nil
		case errors.Is(err, routers.ErrMethodNotAllowed):
			return d.name, nil, nil, err
		}
	}
	return "", nil, nil, nil
}

func options() *openapi3filter.Options {
	o := &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		// The simulator checks credentials itself; the contract check only
		// needs to know which scheme applies.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
		},
	}
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		at := "/" + strings.Join(err.JSONPointer(), "/")
		reason := err.Reason
		if reason == "" {
			reason = "does not match schema field " + err.SchemaField
		}
		return fmt.Sprintf("at %s: %s", at, reason)
	})
	return o
}

// Middleware validates each request before next sees it and each response
// after next wrote it. Paths that belong to no document (the simulator's own
// /vippssim/ endpoints, say) pass through unchecked.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, route, params, err := v.find(r)
		if route == nil {
			if err != nil {
				v.counted()
				v.record("%s %s: %s has no operation for method %s", r.Method, r.URL.Path, doc, r.Method)
			}
			next.ServeHTTP(w, r)
			return
		}
		v.counted()

		body, err := io.ReadAll(r.Body)
		if err != nil {
			v.record("%s %s: reading the request body: %v", r.Method, r.URL.Path, err)
		}
		r.Body.Close()

		// Validate a copy so next gets the body exactly as it was sent.
		vr := r.Clone(r.Context())
		vr.Body = io.NopCloser(bytes.NewReader(body))
		vr.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		opts := options()
		in := &openapi3filter.RequestValidationInput{
			Request:    vr,
			PathParams: params,
			Route:      route,
			Options:    opts,
		}
		ctx := context.Background()
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			v.record("%s %s (%s %s): request: %s%s", r.Method, r.URL.Path, doc, route.Operation.OperationID, oneLine(err), showBody(body))
		}

		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}

		resp := rec.buf.Bytes()
		where := fmt.Sprintf("%s %s (%s %s) -> %d", r.Method, r.URL.Path, doc, route.Operation.OperationID, rec.status)
		if msg := v.checkStatus(route, rec.status, rec.Header(), resp); msg != "" {
			v.record("%s: response: %s%s", where, msg, showBody(resp))
			return
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in,
			Status:                 rec.status,
			Header:                 rec.Header(),
			Body:                   io.NopCloser(bytes.NewReader(resp)),
			Options:                opts,
		}
		if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
			v.record("%s: response: %s%s", where, oneLine(err), showBody(resp))
		}
	})
}

// checkStatus judges a status the operation does not declare. Success
// statuses must be declared. The provider documents its error statuses
// globally rather than per operation, so an undeclared 4xx/5xx passes when
// its body is the document's own Problem object.
func (v *Validator) checkStatus(route *routers.Route, status int, h http.Header, body []byte) string {
	ops := route.Operation.Responses
	if ops == nil || ops.Status(status) != nil || ops.Default() != nil {
		return ""
	}
	if status < 400 {
		return fmt.Sprintf("status %d is not declared by the operation", status)
	}
	problem := problemSchema(route.Spec)
	if problem == nil {
		return ""
	}
	ct := h.Get("Content-Type")
	if base, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(base)) != "application/problem+json" {
		return fmt.Sprintf("undeclared error status %d must carry application/problem+json, got %q", status, ct)
	}
	var val any
	if err := json.Unmarshal(body, &val); err != nil {
		return fmt.Sprintf("undeclared error status %d: body is not JSON: %v", status, err)
	}
	if err := problem.VisitJSON(val, openapi3.MultiErrors(), openapi3.DisableSchemaErrorDetails()); err != nil {
		return fmt.Sprintf("undeclared error status %d: body is not a Problem: %s", status, oneLine(err))
	}
	return ""
}

func problemSchema(doc *openapi3.T) *openapi3.Schema {
	if doc == nil || doc.Components == nil {
		return nil
	}
	if ref := doc.Components.Schemas["Problem"]; ref != nil {
		return ref.Value
	}
	return nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func showBody(b []byte) string {
	if len(b) == 0 {
		return " (empty body)"
	}
	s := string(b)
	if len(s) > maxBodyInReport {
		s = s[:maxBodyInReport] + "…"
	}
	return " (body: " + strings.Join(strings.Fields(s), " ") + ")"
}

// recorder passes the response through while keeping a copy to validate.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Fresh returns a validator that shares v's loaded documents (loading them
// takes a noticeable fraction of a second) but has no findings of its own,
// for tests that each want their own record.
func (v *Validator) Fresh() *Validator {
	return &Validator{docs: v.docs}
}
