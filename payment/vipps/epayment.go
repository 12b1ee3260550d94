package vipps

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"kasse/payment/money"
)

// The ePayment states (epayment-v1.yaml, State).
const (
	Created    = "CREATED"
	Authorized = "AUTHORIZED"
	Aborted    = "ABORTED"
	Expired    = "EXPIRED"
	Terminated = "TERMINATED"
)

// CreatePayment is the ePayment create body, limited to what a register sends.
type CreatePayment struct {
	Amount              money.Amount   `json:"amount"`
	PaymentMethod       PaymentMethod  `json:"paymentMethod"`
	Reference           string         `json:"reference"`
	UserFlow            string         `json:"userFlow"`
	CustomerInteraction string         `json:"customerInteraction,omitempty"`
	QRFormat            *QRFormat      `json:"qrFormat,omitempty"`
	PaymentDescription  string         `json:"paymentDescription,omitempty"`
	Customer            *Customer      `json:"customer,omitempty"`
	Metadata            map[string]any `json:"metadata,omitempty"`
	Receipt             *Receipt       `json:"receipt,omitempty"`
}

// PaymentMethod is always WALLET at a register.
type PaymentMethod struct {
	Type string `json:"type"`
}

// QRFormat asks for the QR as a target URL to draw ourselves, or an image.
type QRFormat struct {
	Format string `json:"format"`
	Size   int    `json:"size,omitempty"`
}

// Customer is the shopper's phone number for the PUSH_MESSAGE flow.
type Customer struct {
	PhoneNumber string `json:"phoneNumber"`
}

// CreatedPayment is the create reply.
type CreatedPayment struct {
	Reference   string `json:"reference"`
	RedirectURL string `json:"redirectUrl"`
}

// Aggregate is the money that moved on a payment.
type Aggregate struct {
	Authorized money.Amount `json:"authorizedAmount"`
	Cancelled  money.Amount `json:"cancelledAmount"`
	Captured   money.Amount `json:"capturedAmount"`
	Refunded   money.Amount `json:"refundedAmount"`
}

// Payment is the GET reply, and the modification reply.
type Payment struct {
	Reference   string       `json:"reference"`
	State       string       `json:"state"`
	Amount      money.Amount `json:"amount"`
	Aggregate   Aggregate    `json:"aggregate"`
	PSPRef      string       `json:"pspReference"`
	RedirectURL string       `json:"redirectUrl,omitempty"`
}

// Final reports whether the payment's state can no longer change by itself.
func (p Payment) Final() bool { return p.State != Created }

// Event is one line of a payment's event log.
type Event struct {
	Reference      string       `json:"reference"`
	Name           string       `json:"name"`
	Amount         money.Amount `json:"amount"`
	Timestamp      time.Time    `json:"timestamp"`
	IdempotencyKey string       `json:"idempotencyKey"`
	Success        bool         `json:"success"`
}

type modification struct {
	ModificationAmount money.Amount `json:"modificationAmount"`
}

func paymentPath(ref string, tail string) string {
	return "/epayment/v1/payments/" + url.PathEscape(ref) + tail
}

// Create starts a payment. The idempotency key makes a resend after an
// unclear result safe: the same key and body give the same answer.
func (c *Client) Create(ctx context.Context, p CreatePayment, idemKey string) (CreatedPayment, error) {
	var out CreatedPayment
	err := c.do(ctx, call{method: http.MethodPost, path: "/epayment/v1/payments", idemKey: idemKey, body: p, out: &out})
	return out, err
}

// Get reads a payment's state and aggregate.
func (c *Client) Get(ctx context.Context, ref string) (Payment, error) {
	var out Payment
	err := c.do(ctx, call{method: http.MethodGet, path: paymentPath(ref, ""), out: &out})
	return out, err
}

// Events reads a payment's event log.
func (c *Client) Events(ctx context.Context, ref string) ([]Event, error) {
	var out []Event
	err := c.do(ctx, call{method: http.MethodGet, path: paymentPath(ref, "/events"), out: &out})
	return out, err
}

// Capture takes amount of an authorised payment.
func (c *Client) Capture(ctx context.Context, ref string, amount money.Amount, idemKey string) (Payment, error) {
	var out Payment
	err := c.do(ctx, call{method: http.MethodPost, path: paymentPath(ref, "/capture"), idemKey: idemKey, body: modification{amount}, out: &out})
	return out, err
}

// Refund returns amount of a captured payment to the shopper.
func (c *Client) Refund(ctx context.Context, ref string, amount money.Amount, idemKey string) (Payment, error) {
	var out Payment
	err := c.do(ctx, call{method: http.MethodPost, path: paymentPath(ref, "/refund"), idemKey: idemKey, body: modification{amount}, out: &out})
	return out, err
}

// Cancel stops a payment that is not captured: before approval it ends
// TERMINATED; after approval the reservation is released.
func (c *Client) Cancel(ctx context.Context, ref string, idemKey string) (Payment, error) {
	var out Payment
	err := c.do(ctx, call{method: http.MethodPost, path: paymentPath(ref, "/cancel"), idemKey: idemKey, out: &out})
	return out, err
}

// Approve is the test environment's force-approve: it plays the shopper.
func (c *Client) Approve(ctx context.Context, ref string) error {
	return c.do(ctx, call{method: http.MethodPost, path: "/epayment/v1/test/payments/" + url.PathEscape(ref) + "/approve", body: struct{}{}})
}
