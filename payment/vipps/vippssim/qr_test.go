package vippssim

import (
	"bytes"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"kasse/payment/vipps/vippsspec"
)

func (e *env) qr(landing, accept, size string) (int, map[string]any) {
	e.t.Helper()
	h := e.apiHeaders("")
	h.Set("Accept", accept)
	if size != "" {
		h.Set("Size", size)
	}
	status, _, b := e.call("POST", "/qr/v1", h, map[string]any{"url": landing})
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("QR reply %s: %v", b, err)
	}
	return status, out
}

func testQR(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, nil)
	e.login()
	landing := e.initiate("qr-1", 1000)
	status, out := e.qr(landing, "image/png", "200")
	if status != http.StatusOK || out["expiresIn"] != float64(300) {
		t.Fatalf("png QR: %d %v", status, out)
	}
	path := strings.TrimPrefix(out["url"].(string), e.srv.URL)
	status, h, b := e.call("GET", path, nil, nil)
	if status != http.StatusOK || h.Get("Content-Type") != "image/png" {
		t.Fatalf("image: %d %s", status, h.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 200 {
		t.Errorf("image: %v %v", err, img)
	}
	if status, out := e.qr(landing, "image/svg+xml", ""); status != http.StatusOK {
		t.Errorf("svg QR: %d %v", status, out)
	}
	e.takeViolations()
	for name, c := range map[string]struct{ url, accept, size string }{
		"foreign url":    {"https://api.vipps.no" + landingPath + "?token=abc", "text/targetUrl", ""},
		"unknown token":  {e.srv.URL + landingPath + "?token=abc", "text/targetUrl", ""},
		"size too large": {landing, "text/targetUrl", "2001"},
	} {
		if status, out := e.qr(c.url, c.accept, c.size); status != http.StatusBadRequest || out["title"] == nil || out["instance"] == nil {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
	if _, resp := e.takeViolations(); len(resp) > 0 {
		t.Errorf("QR errors break the contract: %v", resp)
	}
	if status, _, _ := e.call("GET", "/vippssim/s/nosuch", nil, nil); status != http.StatusNotFound {
		t.Errorf("unknown short URL: %d", status)
	}
	if status, out := e.qr(landing, "text/targetUrl", ""); status != http.StatusOK || !strings.HasPrefix(out["url"].(string), e.srv.URL+"/") {
		t.Errorf("text QR: %d %v", status, out)
	}
}
