package vipps

import (
	"context"
	"net/http"

	"kasse/money"
)

// The ePayment writes as Requests, so the register can store the exact bytes
// in its outbox before sending them (and resend the same bytes after a crash).

// CreateRequest is POST /epayment/v1/payments.
func CreateRequest(p CreatePayment, idemKey string) (Request, error) {
	return Build(http.MethodPost, "/epayment/v1/payments", idemKey, p)
}

// CaptureRequest is POST …/{reference}/capture.
func CaptureRequest(ref string, amount money.Amount, idemKey string) (Request, error) {
	return Build(http.MethodPost, paymentPath(ref, "/capture"), idemKey, modification{amount})
}

// RefundRequest is POST …/{reference}/refund.
func RefundRequest(ref string, amount money.Amount, idemKey string) (Request, error) {
	return Build(http.MethodPost, paymentPath(ref, "/refund"), idemKey, modification{amount})
}

// CancelRequest is POST …/{reference}/cancel (no body).
func CancelRequest(ref string, idemKey string) Request {
	return Request{Method: http.MethodPost, Path: paymentPath(ref, "/cancel"), IdempotencyKey: idemKey}
}

// Ping fetches a fresh access token: the cheapest call that proves Vipps is
// reachable with these credentials, used while the register is offline.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.accessToken(ctx, true)
	return err
}
