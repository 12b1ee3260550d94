// Package vippsspec checks HTTP traffic against the published Vipps MobilePay
// OpenAPI documents, so that tests prove both the register's client and the
// simulator speak the provider's contract rather than each other's habits.
//
// The documents live outside the repository (../shared/vipps-openapi from the
// module root) and are read as data; nothing is fetched from the network.
package vippsspec

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// ErrNotFound reports that the spec folder is absent; tests skip on it.
var ErrNotFound = errors.New("vipps OpenAPI folder not found")

// receiptURL is the remote document epayment-v1.yaml $refs for its Receipt
// schema; it is answered from the local copy of the same tag.
const (
	receiptHost = "raw.githubusercontent.com"
	receiptPath = "/vippsas/vipps-order-management-api/2.3.24/docs/swagger.yaml"
	receiptFile = "order-management-2.3.24.yaml"
)

// Dir finds the spec folder as <module root>/../shared/vipps-openapi, walking
// up from the working directory to the directory that holds go.mod.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the vipps OpenAPI folder: %w", err)
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			dir := filepath.Join(d, "..", "shared", "vipps-openapi")
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return "", fmt.Errorf("%w: expected %s next to the module root; put the provider's documents there", ErrNotFound, filepath.Clean(dir))
			}
			return filepath.Clean(dir), nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w: no go.mod above %s, run from inside the module", ErrNotFound, wd)
		}
		d = parent
	}
}

// Open finds and loads the documents for a test, skipping the test when the
// folder is absent and failing it when a document does not load.
func Open(t testing.TB) *Validator {
	t.Helper()
	dir, err := Dir()
	if errors.Is(err, ErrNotFound) {
		t.Skipf("skipping contract check: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// docRouter pairs a document with a router that ignores its server hosts.
type docRouter struct {
	name   string
	router routers.Router
}

// Load reads the documents in dir and prepares one router per document.
func Load(dir string) (*Validator, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("vipps OpenAPI folder %s: %w", dir, err)
	}
	v := &Validator{}
	// Every API the project talks to. All are required: a document that
	// stops loading must fail loudly, not shrink the checks.
	for _, name := range []string{
		"epayment-v1.yaml",
		"accesstoken.yaml",
		"ecom-v2.yaml",
		"qr-v1.yaml",
		"order-management-v2.yaml",
	} {
		doc, err := loadDocument(abs, name)
		if err != nil {
			return nil, err
		}
		rebase(doc)
		disambiguateOneOf(doc)
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			return nil, fmt.Errorf("vipps OpenAPI %s: building the router: %w", name, err)
		}
		v.docs = append(v.docs, docRouter{name: name, router: r})
	}
	return v, nil
}

func loadDocument(dir, name string) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = true
	l.Context = context.Background()
	l.ReadFromURIFunc = func(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
		return readLocal(dir, u)
	}
	doc, err := l.LoadFromFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("vipps OpenAPI %s does not load (is the folder complete and unchanged?): %w", name, err)
	}
	// The provider's examples and defaults do not always fit their own
	// schemas (expires_in: 3600 for a string; ecom-v2's addressType default
	// "H" against the pattern "^\[A-Z]$"); they are documentation, and the
	// request and response checks below still apply the schemas themselves.
	if err := doc.Validate(l.Context,
		openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation(),
	); err != nil {
		return nil, fmt.Errorf("vipps OpenAPI %s is not a valid document: %w", name, err)
	}
	return doc, nil
}

// readLocal serves $refs from dir only: the remote Receipt document maps to
// its local copy, and anything else outside dir is refused.
func readLocal(dir string, u *url.URL) ([]byte, error) {
	switch u.Scheme {
	case "http", "https":
		if u.Host == receiptHost && u.Path == receiptPath {
			return os.ReadFile(filepath.Join(dir, receiptFile))
		}
		return nil, fmt.Errorf("refusing to fetch %s: the documents must resolve from %s", u, dir)
	case "", "file":
		p := filepath.Clean(filepath.FromSlash(u.Path))
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("refusing to read %s: outside %s", p, dir)
		}
		return os.ReadFile(p)
	default:
		return nil, fmt.Errorf("refusing to read %s: unsupported scheme", u)
	}
}

// rebase keeps only the path of the document's servers, so that a request to
// the simulator on 127.0.0.1:port matches (the QR API lives under /qr).
func rebase(doc *openapi3.T) {
	base := ""
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil {
			base = strings.TrimSuffix(u.Path, "/")
		}
	}
	if base == "" {
		doc.Servers = nil
		return
	}
	doc.Servers = openapi3.Servers{&openapi3.Server{URL: base}}
}

// disambiguateOneOf repairs oneOf choices whose alternatives declare
// properties but require none (ePayment's Customer: phoneNumber, personalQr
// or customerToken). As published, any object matches every alternative, so
// oneOf rejects even a correct {"phoneNumber": ...}. The description says
// "specifying more than one of these will result in an error": making each
// alternative require its own properties gives exactly that meaning.
func disambiguateOneOf(doc *openapi3.T) {
	if doc.Components == nil {
		return
	}
	for _, ref := range doc.Components.Schemas {
		if ref == nil || ref.Value == nil {
			continue
		}
		for _, alt := range ref.Value.OneOf {
			s := alt.Value
			if s == nil || len(s.Required) > 0 || len(s.Properties) == 0 {
				continue
			}
			for name := range s.Properties {
				s.Required = append(s.Required, name)
			}
			slices.Sort(s.Required)
		}
	}
}
