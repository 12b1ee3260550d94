package vippssim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// qrLink is one QR made by the QR API: a short URL that leads to an eCom
// landing page, and the image format asked for.
type qrLink struct {
	orderID string
	target  string // the landing page
	format  string // "text/targetUrl", "image/png" or "image/svg+xml"
	size    int
	expires time.Time
}

// defaultQRSize is used when the Size header is absent.
const defaultQRSize = 1024

// titledError is the error object of the QR and Order management APIs
// (QrErrorResponse, ErrorResponse): title, detail and instance.
type titledError struct {
	Title    string `json:"title"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
}

func (s *Server) titled(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, plainJSON, titledError{Title: title, Detail: detail, Instance: s.uuid()})
}

// oneTimeQR serves POST /qr/v1: a QR of an eCom landing page made by
// this simulator.
func (s *Server) oneTimeQR(w http.ResponseWriter, r *http.Request) {
	format := r.Header.Get("Accept")
	switch format {
	case "image/*":
		format = "image/png"
	case "image/png", "image/svg+xml", "text/targetUrl":
	default:
		s.titled(w, http.StatusUnsupportedMediaType, "Unsupported Media Type",
			fmt.Sprintf("Accept %q: ask for image/png, image/svg+xml or text/targetUrl", format))
		return
	}
	size := defaultQRSize
	if v := r.Header.Get("Size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 || n > 2000 {
			s.titled(w, http.StatusBadRequest, "Validation error", fmt.Sprintf("Size %q must be a number of pixels from 100 to 2000", v))
			return
		}
		size = n
	}
	var body struct {
		URL string `json:"url"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
		s.titled(w, http.StatusBadRequest, "Validation error", "the body must be {\"url\": <landing page url>}: "+err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.ecom[s.landingOrder(r, body.URL)]
	if p == nil {
		s.titled(w, http.StatusBadRequest, "Validation error",
			"Supplied landing page token is not valid: send the url from POST /ecomm/v2/payments unchanged")
		return
	}
	now := s.clock.Now()
	s.advanceECom(p, now)
	if p.state != ecomInitiate {
		title, detail := "Order not pending", fmt.Sprintf("payment %s is %s: start a new payment", p.orderID, p.state)
		if p.state == ecomRejected {
			title, detail = "Order timeout", "Payment has already timed out: start a new payment with a new orderId"
		}
		s.titled(w, http.StatusBadRequest, title, detail)
		return
	}
	// The QR is worth as much as the landing page it leads to.
	expires := p.created.Add(PaymentLifetime)
	if !p.opened {
		expires = p.created.Add(LandingLifetime)
	}
	id := s.randomHex(10)
	s.qrLinks[id] = qrLink{orderID: p.orderID, target: p.url, format: format, size: size, expires: expires}
	u := baseURL(r) + "/vippssim/s/" + id
	if format != "text/targetUrl" {
		u = baseURL(r) + "/vippssim/qrimg/" + id
	}
	writeJSON(w, http.StatusOK, plainJSON, map[string]any{"url": u, "expiresIn": int(expires.Sub(now) / time.Second)})
}

// landingOrder returns the orderId of a landing-page url served by this
// simulator, or "". Callers hold s.mu.
func (s *Server) landingOrder(r *http.Request, raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host != r.Host || u.Path != landingPath {
		return ""
	}
	return s.landing[u.Query().Get("token")]
}

func (s *Server) link(w http.ResponseWriter, r *http.Request) (qrLink, bool) {
	s.mu.Lock()
	l, ok := s.qrLinks[r.PathValue("id")]
	now := s.clock.Now()
	s.mu.Unlock()
	switch {
	case !ok:
		http.Error(w, "no such QR", http.StatusNotFound)
	case !now.Before(l.expires):
		http.Error(w, "this QR has expired: the payment must be started again", http.StatusGone)
		ok = false
	}
	return l, ok
}

// qrShort is the short URL a QR holds: it leads a scanning phone to the
// landing page.
func (s *Server) qrShort(w http.ResponseWriter, r *http.Request) {
	if l, ok := s.link(w, r); ok {
		http.Redirect(w, r, l.target, http.StatusFound)
	}
}

// qrImage serves the image of an image QR; like the provider's, it needs
// no credentials.
func (s *Server) qrImage(w http.ResponseWriter, r *http.Request) {
	l, ok := s.link(w, r)
	if !ok {
		return
	}
	short := baseURL(r) + "/vippssim/s/" + r.PathValue("id")
	var b []byte
	var err error
	if l.format == "image/svg+xml" {
		b, err = qrImageSVG(short, l.size)
	} else {
		b, err = qrImagePNG(short, l.size)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", l.format)
	w.Write(b)
}
