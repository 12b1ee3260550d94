// Package hq is kassehq, the chain's refund service for option B: where each
// store is its own Vipps MobilePay sales unit with its own API keys, head
// office holds every store's keys, and a register that refunds another
// store's sale asks kassehq instead of Vipps. Registers reach it over HTTPS
// with a client certificate each (pki.go); every refund request is
// journaled in bbolt before kassehq acts on it (journal.go), so a retry
// after a lost answer never refunds twice (service.go).
package hq

import (
	"fmt"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
)

// The API's paths.
const (
	PathRefunds  = "/v1/refunds"
	PathPayments = "/v1/payments/" // + reference
)

// RefundRequest is what a register sends to POST /v1/refunds. The
// register stores these exact bytes in its outbox before they leave and
// resends them, key and all, until it has an answer.
type RefundRequest struct {
	// IdempotencyKey is the register's: the same key is the same refund.
	IdempotencyKey string       `json:"idempotencyKey"`
	Reference      string       `json:"reference"` // the sale's, PREFIX-LANE-TAG-N
	Amount         money.Amount `json:"amount"`
	Store          string       `json:"store"` // the refunding store; must be the certificate's
	Lane           string       `json:"lane"`
	Cashier        string       `json:"cashier,omitempty"` // cashier or supervisor who approved it
}

// The states of a refund in kassehq's journal.
const (
	StateReceived = "received" // journaled; nothing sent to Vipps yet
	StateSent     = "sent"     // the Vipps request is journaled and may have left: resend it, never another
	StateDone     = "done"     // Vipps confirmed the refund
	StateRefused  = "refused"  // refused for good (see Error); nothing was refunded
)

// Refund is one register's refund request as kassehq journals it, and its
// answer. It holds no secret: the keys stay in the secrets directory.
type Refund struct {
	Register       string       `json:"register"` // the client certificate's name
	IdempotencyKey string       `json:"idempotencyKey"`
	Reference      string       `json:"reference"`
	OriginStore    string       `json:"originStore"`
	MSN            string       `json:"msn,omitempty"` // the origin store's, sent to Vipps
	API            string       `json:"api,omitempty"` // epayment or ecom, once read
	Store          string       `json:"store"`
	Lane           string       `json:"lane"`
	Cashier        string       `json:"cashier,omitempty"`
	Amount         money.Amount `json:"amount"`
	// Vipps is the exact request kassehq sends (its idempotency key is
	// derived from the register's), stored before it first leaves.
	Vipps     *vipps.Request `json:"vipps,omitempty"`
	State     string         `json:"state"`
	Error     string         `json:"error,omitempty"`
	Attempts  int            `json:"attempts,omitempty"`
	LastError string         `json:"lastError,omitempty"`
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
}

// Payment is GET /v1/payments/{reference}: a sale of any store of the
// chain as Vipps holds it, and what is left to refund.
type Payment struct {
	Reference   string       `json:"reference"`
	OriginStore string       `json:"originStore"`
	API         string       `json:"api"` // epayment or ecom
	State       string       `json:"state"`
	Amount      money.Amount `json:"amount"`
	Captured    money.Amount `json:"captured"`
	Refunded    money.Amount `json:"refunded"`
	Refundable  money.Amount `json:"refundable"`
}

// Problem is an error answer (application/problem+json): Detail says what
// to do.
type Problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// The APIs a sale's payment may live in.
const (
	APIEPayment = "epayment"
	APIECom     = "ecom"
)
