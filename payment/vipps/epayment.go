package vipps

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"kasse/money"
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

// knownStates are the states epayment-v1.yaml lists.
var knownStates = map[string]bool{Created: true, Authorized: true, Aborted: true, Expired: true, Terminated: true}

// Fits checks a reply about a payment against what the register asked
// about: the reference is ours, the state is one the API documents, the
// amount is the sale's (amount.Value 0: not known, e.g. a scanned receipt),
// and the aggregate adds up. A reply that does not fit is an Unusable error:
// no answer, retried and logged with the detail, never money moved.
func (p Payment) Fits(op, ref string, amount money.Amount) error {
	bad := func(format string, args ...any) error {
		return Unusable(op, http.StatusOK, "reply about %s: "+format, append([]any{ref}, args...)...)
	}
	ag := p.Aggregate
	cur := p.Amount.Currency
	switch {
	case p.Reference != ref:
		return bad("it is about reference %q", clip(p.Reference))
	case !knownStates[p.State]:
		return bad("state %q is not one the API documents", clip(p.State))
	case p.Amount.Value <= 0 || p.Amount.Value > money.MaxValue:
		return bad("amount %d is not one the API takes", p.Amount.Value)
	case !money.ValidCurrency(cur):
		// A scanned receipt's amount is not known: without this its
		// refund would go out in whatever currency the reply names.
		return bad("currency %q is not one the API documents", clip(cur))
	case amount.Value != 0 && (p.Amount.Value != amount.Value || cur != amount.Currency):
		return bad("amount %d %s, but the sale is %d %s", p.Amount.Value, clip(cur), amount.Value, amount.Currency)
	}
	for _, a := range []money.Amount{ag.Authorized, ag.Cancelled, ag.Captured, ag.Refunded} {
		if a.Value < 0 || (a.Value != 0 && a.Currency != cur) {
			return bad("aggregate amount %d %q does not fit the payment's %s", a.Value, clip(a.Currency), cur)
		}
	}
	switch {
	case ag.Authorized.Value > p.Amount.Value:
		return bad("authorized %d is more than the amount %d", ag.Authorized.Value, p.Amount.Value)
	case ag.Captured.Value > ag.Authorized.Value:
		return bad("captured %d is more than the authorized %d", ag.Captured.Value, ag.Authorized.Value)
	case ag.Captured.Value+ag.Cancelled.Value > p.Amount.Value:
		// Cancelled before approval shows the whole amount cancelled.
		return bad("captured %d and cancelled %d are more than the amount %d", ag.Captured.Value, ag.Cancelled.Value, p.Amount.Value)
	case ag.Refunded.Value > ag.Captured.Value:
		return bad("refunded %d is more than the captured %d", ag.Refunded.Value, ag.Captured.Value)
	case p.State == Created && ag.Authorized.Value != 0:
		return bad("it is CREATED yet %d is authorized", ag.Authorized.Value)
	}
	return nil
}
