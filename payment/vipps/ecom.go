package vipps

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"kasse/money"
)

// ecomJSON is the content type ecom-v2.yaml declares for every body.
const ecomJSON = "application/json;charset=UTF-8"

// request is an API call with headers of its own (eCom's X-Request-Id and
// charset content type, the QR API's Accept and Size), which call does not
// carry. It follows the same rules: a bearer token, and after a 401 one
// fresh token and one resend of exactly the same bytes.
type request struct {
	method, path string
	header       http.Header
	contentType  string // of the body; default application/json
	body         any
	out          any
}

func (c *Client) exchange(ctx context.Context, q request) error {
	r, err := Build(q.method, q.path, "", q.body)
	if err != nil {
		return err
	}
	r.Header = q.header.Clone()
	if q.contentType != "" && r.Body != nil {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Set("Content-Type", q.contentType)
	}
	return c.Do(ctx, r, q.out)
}

// ECommPayment is an eCom v2 payment as the register starts it: the
// shopper scans a QR of the landing page (skipLandingPage false).
type ECommPayment struct {
	OrderID         string // ^[a-zA-Z0-9-]{1,50}$, never reused
	Amount          int64  // øre, at least 100
	TransactionText string // shown in the app, at most 100 characters
	CallbackPrefix  string // https; the provider posts updates below it
	FallBack        string // https; where the shopper's phone goes afterwards
	IsApp           bool
	SkipLandingPage bool
}

// ECommInitiated is the initiate reply: URL is the landing page, valid for
// five minutes unless opened.
type ECommInitiated struct {
	OrderID string `json:"orderId"`
	URL     string `json:"url"`
}

type ecomMerchant struct {
	MerchantSerialNumber string `json:"merchantSerialNumber"`
	CallbackPrefix       string `json:"callbackPrefix,omitempty"`
	FallBack             string `json:"fallBack,omitempty"`
	IsApp                *bool  `json:"isApp,omitempty"`
}

type ecomInitiate struct {
	CustomerInfo struct{}     `json:"customerInfo"` // required, and empty at a register
	MerchantInfo ecomMerchant `json:"merchantInfo"`
	Transaction  struct {
		OrderID         string `json:"orderId"`
		Amount          int64  `json:"amount"`
		TransactionText string `json:"transactionText"`
		SkipLandingPage bool   `json:"skipLandingPage"`
	} `json:"transaction"`
}

func ecomPath(orderID, tail string) string {
	return "/ecomm/v2/payments/" + url.PathEscape(orderID) + tail
}

// InitiateECom starts an eCom payment. Initiate is NOT idempotent: the
// provider refuses a second initiate of the same orderId, and a resend after
// an unclear result (timeout, dropped connection) may fail although the
// first one succeeded. After such a result read ECommDetails first; if the
// payment is unknown there, start again with a new orderId. Never resend
// blindly.
func (c *Client) InitiateECom(ctx context.Context, p ECommPayment) (ECommInitiated, error) {
	r, err := ECommInitiateRequest(c.cfg.MSN, p)
	if err != nil {
		return ECommInitiated{}, err
	}
	var out ECommInitiated
	err = c.Do(ctx, r, &out)
	return out, err
}

// The eCom operations in a payment's log.
const (
	OpInitiate = "INITIATE"
	OpReserve  = "RESERVE"
	OpSale     = "SALE"
	OpCapture  = "CAPTURE"
	OpRefund   = "REFUND"
	OpCancel   = "CANCEL"
	OpVoid     = "VOID"
)

// The states ECommDetails.Status reports, read from the log.
const (
	ECommPending   = "PENDING"   // waiting for the shopper
	ECommReserved  = "RESERVED"  // approved: see the amounts for captures and refunds
	ECommCancelled = "CANCELLED" // cancelled or timed out before approval
	ECommFailed    = "FAILED"    // the issuer refused the reservation
)

// ECommLogEntry is one line of transactionLogHistory.
type ECommLogEntry struct {
	Operation       string    `json:"operation"`
	Amount          int64     `json:"amount"`
	Success         bool      `json:"operationSuccess"`
	RequestID       string    `json:"requestId"`
	TransactionID   string    `json:"transactionId"`
	TransactionText string    `json:"transactionText"`
	Time            time.Time `json:"timeStamp"`
}

// ECommSummary is the transactionSummary of a payment, in øre.
type ECommSummary struct {
	Captured           int64 `json:"capturedAmount"`
	Refunded           int64 `json:"refundedAmount"`
	RemainingToCapture int64 `json:"remainingAmountToCapture"`
	RemainingToRefund  int64 `json:"remainingAmountToRefund"`
}

// ECommDetails is what the register needs of /details: the state read from
// the log, the amounts, and the log itself (oldest first).
type ECommDetails struct {
	OrderID string
	Status  string // ECommPending, ECommReserved, ECommCancelled or ECommFailed
	// Reserved is what the shopper approved; Cancelled what was released.
	Reserved, Cancelled int64
	ECommSummary
	// LastOperation is the newest log line's operation; LastSuccess whether
	// it succeeded (a failed RESERVE is a refused card).
	LastOperation string
	LastSuccess   bool
	Log           []ECommLogEntry
}

// Final reports whether the payment will not change without the register:
// anything but waiting for the shopper.
func (d ECommDetails) Final() bool { return d.Status != ECommPending }

// ECommDetails reads a payment's log and summary. msn "" is the client's
// own; with partner keys (option A) the origin store's MSN reads its sales.
func (c *Client) ECommDetails(ctx context.Context, msn, orderID string) (ECommDetails, error) {
	var raw struct {
		OrderID string          `json:"orderId"`
		Log     []ECommLogEntry `json:"transactionLogHistory"`
		Summary ECommSummary    `json:"transactionSummary"`
	}
	var h http.Header
	if msn != "" {
		h = http.Header{"Merchant-Serial-Number": {msn}}
	}
	err := c.exchange(ctx, request{method: http.MethodGet, path: ecomPath(orderID, "/details"), header: h, out: &raw})
	if err != nil {
		return ECommDetails{}, err
	}
	d := ECommDetails{OrderID: raw.OrderID, ECommSummary: raw.Summary, Status: ECommPending}
	// The provider lists the log newest first; keep it in time order.
	for i := len(raw.Log) - 1; i >= 0; i-- {
		d.Log = append(d.Log, raw.Log[i])
	}
	failed := false
	for _, l := range d.Log {
		// Bounded amounts keep the sums exact (no wrap-around into a
		// plausible reservation).
		if l.Amount < 0 || l.Amount > money.MaxValue {
			return ECommDetails{}, Unusable("GET details", http.StatusOK, "reply about %s: %s amount %d is out of range", orderID, clip(l.Operation), l.Amount)
		}
		switch {
		case (l.Operation == OpReserve || l.Operation == OpSale) && l.Success:
			d.Reserved += l.Amount
		case l.Operation == OpReserve && !l.Success:
			failed = true
		case (l.Operation == OpCancel || l.Operation == OpVoid) && l.Success:
			d.Cancelled += l.Amount
		}
	}
	switch {
	case d.Reserved > 0:
		d.Status = ECommReserved
	case failed:
		d.Status = ECommFailed
	case d.Cancelled > 0:
		d.Status = ECommCancelled
	}
	if n := len(d.Log); n > 0 {
		d.LastOperation, d.LastSuccess = d.Log[n-1].Operation, d.Log[n-1].Success
	}
	return d, nil
}

type ecomAction struct {
	MerchantInfo ecomMerchant `json:"merchantInfo"`
	Transaction  struct {
		Amount          int64  `json:"amount,omitempty"` // left out: the whole remaining amount
		TransactionText string `json:"transactionText"`
	} `json:"transaction"`
	ShouldReleaseRemainingFunds bool `json:"shouldReleaseRemainingFunds,omitempty"`
}

// ECommInitiateRequest is the initiate as the outbox stores it. Never resend
// it blindly (see InitiateECom).
func ECommInitiateRequest(msn string, p ECommPayment) (Request, error) {
	var b ecomInitiate
	isApp := p.IsApp
	b.MerchantInfo = ecomMerchant{MerchantSerialNumber: msn, CallbackPrefix: p.CallbackPrefix, FallBack: p.FallBack, IsApp: &isApp}
	b.Transaction.OrderID = p.OrderID
	b.Transaction.Amount = p.Amount
	b.Transaction.TransactionText = p.TransactionText
	b.Transaction.SkipLandingPage = p.SkipLandingPage
	r, err := Build(http.MethodPost, "/ecomm/v2/payments", "", b)
	r.Header = http.Header{"Content-Type": {ecomJSON}}
	return r, err
}

// ECommActionRequest is a capture, refund or cancel ("capture", "refund",
// "cancel") as the outbox stores it: the X-Request-Id makes a resend safe.
func ECommActionRequest(msn, kind, orderID, requestID string, amount int64) (Request, error) {
	if requestID == "" || len(requestID) > 40 {
		return Request{}, fmt.Errorf("eCom %s of %s: the X-Request-Id must have 1 to 40 characters, not %d", kind, orderID, len(requestID))
	}
	method, text, release := http.MethodPost, "Captured at the register", false
	switch kind {
	case "refund":
		text = "Refunded at the register"
	case "cancel":
		method, text, release, amount = http.MethodPut, "Cancelled at the register", true, 0
	}
	var b ecomAction
	b.MerchantInfo.MerchantSerialNumber = msn
	b.Transaction.Amount = amount
	b.Transaction.TransactionText = text
	b.ShouldReleaseRemainingFunds = release
	r, err := Build(method, ecomPath(orderID, "/"+kind), "", b)
	r.Header = http.Header{"Content-Type": {ecomJSON}, "X-Request-Id": {requestID}}
	return r, err
}

func (c *Client) ecomAction(ctx context.Context, kind, orderID, requestID string, amount int64) (ECommSummary, error) {
	r, err := ECommActionRequest(c.cfg.MSN, kind, orderID, requestID, amount)
	if err != nil {
		return ECommSummary{}, err
	}
	var out struct {
		Summary ECommSummary `json:"transactionSummary"`
	}
	err = c.Do(ctx, r, &out)
	return out.Summary, err
}

// CaptureECom captures amount øre (0: all that is reserved and left). The
// requestID makes a resend after an unclear result safe: reuse it, with the
// same amount, to retry.
func (c *Client) CaptureECom(ctx context.Context, orderID string, amount int64, requestID string) (ECommSummary, error) {
	return c.ecomAction(ctx, "capture", orderID, requestID, amount)
}

// RefundECom refunds amount øre (0: all captured and not yet refunded).
func (c *Client) RefundECom(ctx context.Context, orderID string, amount int64, requestID string) (ECommSummary, error) {
	return c.ecomAction(ctx, "refund", orderID, requestID, amount)
}

// CancelECom stops a payment the shopper has not approved, or releases
// what is reserved and not captured (also after a partial capture).
func (c *Client) CancelECom(ctx context.Context, orderID, requestID string) (ECommSummary, error) {
	return c.ecomAction(ctx, "cancel", orderID, requestID, 0)
}

// ApproveECom is the test environment's force-approve: it plays the shopper.
func (c *Client) ApproveECom(ctx context.Context, orderID string) error {
	return c.exchange(ctx, request{
		method: http.MethodPost, path: "/ecomm/v2/integration-test/payments/" + url.PathEscape(orderID) + "/approve",
		contentType: ecomJSON, body: struct{}{},
	})
}
