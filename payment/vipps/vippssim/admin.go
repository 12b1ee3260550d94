package vippssim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"time"

	"rsc.io/qr"

	"kasse/money"
)

// ErrUnknownPayment is returned for a reference the simulator never saw.
var ErrUnknownPayment = errors.New("vippssim: no payment with that reference")

// Aggregate sums what happened to a payment's money.
type Aggregate struct {
	Authorized money.Amount `json:"authorizedAmount"`
	Cancelled  money.Amount `json:"cancelledAmount"`
	Captured   money.Amount `json:"capturedAmount"`
	Refunded   money.Amount `json:"refundedAmount"`
}

// PaymentInfo is the simulator's truth about one payment, as listed by
// GET /vippssim/payments. For eCom, Reference is the orderId, State the
// simulator's eCom state (INITIATE, RESERVE, CAPTURE, REFUND, CANCEL,
// FAILED or REJECTED) and the reserved amount counts as authorized.
type PaymentInfo struct {
	API          string       `json:"api"` // "epayment" or "ecom"
	Reference    string       `json:"reference"`
	PSPReference string       `json:"pspReference"`
	State        string       `json:"state"`
	Amount       money.Amount `json:"amount"`
	Aggregate    Aggregate    `json:"aggregate"`
	UserFlow     string       `json:"userFlow"`
	CreatedAt    time.Time    `json:"createdAt"`
	ExpiresAt    time.Time    `json:"expiresAt"`
	RedirectURL  string       `json:"redirectUrl,omitempty"`
	Description  string       `json:"paymentDescription,omitempty"`
	Interaction  string       `json:"customerInteraction,omitempty"`
	// Receipt is the receipt sent in the ePayment create call or to Order
	// management, as JSON.
	Receipt json.RawMessage `json:"receipt,omitempty"`
}

func (p *payment) info() PaymentInfo {
	return PaymentInfo{
		API:          "epayment",
		Reference:    p.reference,
		PSPReference: p.psp,
		State:        p.state,
		Amount:       p.amount,
		Aggregate:    p.aggregate(),
		UserFlow:     p.userFlow,
		CreatedAt:    p.created,
		ExpiresAt:    p.expires,
		RedirectURL:  p.redirectURL,
		Description:  p.description,
		Interaction:  p.interaction,
		Receipt:      p.receipt,
	}
}

// Payments returns every payment, oldest first, brought up to date.
func (s *Server) Payments() []PaymentInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	out := make([]PaymentInfo, 0, len(s.payments)+len(s.ecom))
	for _, p := range s.payments {
		s.advance(p, now)
		out = append(out, p.info())
	}
	for _, p := range s.ecom {
		s.advanceECom(p, now)
		out = append(out, p.info())
	}
	slices.SortFunc(out, func(a, b PaymentInfo) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Reference, b.Reference)
	})
	return out
}

// Payment returns one payment, brought up to date.
func (s *Server) Payment(reference string) (PaymentInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.payments[reference]; p != nil {
		s.advance(p, s.clock.Now())
		return p.info(), true
	}
	if p := s.ecom[reference]; p != nil {
		s.advanceECom(p, s.clock.Now())
		return p.info(), true
	}
	return PaymentInfo{}, false
}

// Approve makes the shopper approve the payment (ePayment reference or
// eCom orderId) in the app. The issuer may still refuse a test amount.
func (s *Server) Approve(reference string) error {
	return s.shopper(reference, s.approve, s.approveECom)
}

// Reject makes the shopper decline the payment in the app (ePayment:
// ABORTED; eCom: CANCEL).
func (s *Server) Reject(reference string) error {
	return s.shopper(reference, s.reject, s.rejectECom)
}

func (s *Server) shopper(reference string, act func(*payment) error, ecom func(*ecomPayment) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if p := s.payments[reference]; p != nil {
		s.advance(p, now)
		return act(p)
	}
	if p := s.ecom[reference]; p != nil {
		s.advanceECom(p, now)
		return ecom(p)
	}
	return fmt.Errorf("%w: %q", ErrUnknownPayment, reference)
}

func (s *Server) adminList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, plainJSON, s.Payments())
}

func (s *Server) adminApprove(w http.ResponseWriter, r *http.Request) {
	s.adminAct(w, r, s.Approve)
}

func (s *Server) adminReject(w http.ResponseWriter, r *http.Request) {
	s.adminAct(w, r, s.Reject)
}

// adminAct answers JSON to programs and sends a browser (the landing
// page's form) back to the page.
func (s *Server) adminAct(w http.ResponseWriter, r *http.Request, act func(string) error) {
	ref := r.PathValue("reference")
	if err := act(ref); err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrUnknownPayment) {
			status = http.StatusNotFound
		}
		s.problem(w, r, status, probInvalidState, http.StatusText(status), err.Error())
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		http.Redirect(w, r, "/vippssim/pay/"+ref, http.StatusSeeOther)
		return
	}
	info, _ := s.Payment(ref)
	writeJSON(w, http.StatusOK, plainJSON, info)
}

// qrCode serves the redirectUrl of a QR payment: the QR image for the image
// formats, and for TEXT/TARGETURL (whose URL the register draws itself) the
// page a scanning phone lands on.
func (s *Server) qrCode(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("reference")
	s.mu.Lock()
	p := s.payments[ref]
	var format, flow string
	var size int
	if p != nil {
		format, size, flow = p.qrFormat, p.qrSize, p.userFlow
	}
	s.mu.Unlock()
	if flow != flowQR {
		http.Error(w, "no QR payment with that reference", http.StatusNotFound)
		return
	}
	target := baseURL(r) + "/vippssim/pay/" + ref
	switch format {
	case qrPNG:
		b, err := qrImagePNG(target, size)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
	case qrSVG:
		b, err := qrImageSVG(target, size)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write(b)
	default:
		s.landingPage(w, r)
	}
}

// quietZone is the white border the QR standard asks for, in modules.
const quietZone = 4

// qrImagePNG draws text as a size×size PNG.
func qrImagePNG(text string, size int) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encoding the QR code: %w", err)
	}
	n := c.Size + 2*quietZone
	size = max(size, n)
	scale := size / n
	off := (size - n*scale) / 2
	img := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y := range c.Size {
		for x := range c.Size {
			if !c.Black(x, y) {
				continue
			}
			x0, y0 := off+(x+quietZone)*scale, off+(y+quietZone)*scale
			draw.Draw(img, image.Rect(x0, y0, x0+scale, y0+scale), image.NewUniform(color.Black), image.Point{}, draw.Src)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("encoding the QR PNG: %w", err)
	}
	return b.Bytes(), nil
}

// qrImageSVG draws text as an SVG, one square per dark module.
func qrImageSVG(text string, size int) ([]byte, error) {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encoding the QR code: %w", err)
	}
	n := c.Size + 2*quietZone
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quietZone, y+quietZone)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}

// landingPage is what a phone shows after scanning the QR: the payment and
// buttons to approve or reject it, so a demo can be paid by hand.
func (s *Server) landingPage(w http.ResponseWriter, r *http.Request) {
	info, ok := s.Payment(r.PathValue("reference"))
	if !ok {
		http.Error(w, "no payment with that reference", http.StatusNotFound)
		return
	}
	s.renderLanding(w, info)
}

func (s *Server) renderLanding(w http.ResponseWriter, info PaymentInfo) {
	page := template.Must(template.New("pay").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>vippssim {{.Reference}}</title></head>
<body style="font-family:sans-serif;max-width:30em;margin:2em auto">
<h1>{{.Amount}}</h1>
<p>{{.Description}}</p>
<p>Reference {{.Reference}}: <b>{{.State}}</b></p>
{{if or (eq .State "CREATED") (eq .State "INITIATE")}}
<form method="post" action="/vippssim/payments/{{.Reference}}/approve"><button>Approve</button></form>
<form method="post" action="/vippssim/payments/{{.Reference}}/reject"><button>Reject</button></form>
{{end}}
</body></html>
`))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.Execute(w, struct {
		PaymentInfo
		Amount string
	}{info, info.Amount.String()})
}
