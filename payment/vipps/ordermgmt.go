package vipps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Receipt is the order lines and bottom line shown with a payment in the
// app: sent inside an ePayment create, or to Order management for eCom.
type Receipt struct {
	OrderLines []OrderLine `json:"orderLines"`
	BottomLine BottomLine  `json:"bottomLine"`
}

// OrderLine is one line; amounts in minor units, TotalAmount =
// TotalAmountExcludingTax + TotalTaxAmount.
type OrderLine struct {
	Name                    string    `json:"name"`
	ID                      string    `json:"id"`
	TotalAmount             int64     `json:"totalAmount"`
	TotalAmountExcludingTax int64     `json:"totalAmountExcludingTax"`
	TotalTaxAmount          int64     `json:"totalTaxAmount"`
	TaxRate                 int       `json:"taxRate"` // hundredths of a percent: 2500 is 25 %
	Discount                int64     `json:"discount,omitempty"`
	UnitInfo                *UnitInfo `json:"unitInfo,omitempty"`
	IsReturn                bool      `json:"isReturn,omitempty"`
}

// MarshalJSON adds taxPercentage: the receipt schema ePayment refers to
// (Order management 2.3.24) requires it, while the current one prefers
// taxRate, so one line serves both. Norwegian rates are whole percents.
func (l OrderLine) MarshalJSON() ([]byte, error) {
	type plain OrderLine
	return json.Marshal(struct {
		plain
		TaxPercentage int `json:"taxPercentage"`
	}{plain(l), l.TaxRate / 100})
}

// UnitInfo is the quantity and unit price of a line.
type UnitInfo struct {
	UnitPrice    int64  `json:"unitPrice"`
	Quantity     string `json:"quantity"`               // like "2" or "0.822"
	QuantityUnit string `json:"quantityUnit,omitempty"` // PCS, KG, …
}

// BottomLine sums up the receipt.
type BottomLine struct {
	Currency      string `json:"currency"`
	PosID         string `json:"posId,omitempty"`         // the lane
	ReceiptNumber string `json:"receiptNumber,omitempty"` // the reference
}

// SendReceipt posts the receipt of a payment to Order management. A
// payment has one receipt: when the provider already has it (409, as after
// a resend whose first answer was lost) that is success.
func (c *Client) SendReceipt(ctx context.Context, paymentType, orderID string, r Receipt) error {
	if paymentType != "ECOM" && paymentType != "RECURRING" {
		return fmt.Errorf("receipt for %s: payment type %q must be ECOM (ePayment and eCom) or RECURRING", orderID, paymentType)
	}
	err := c.do(ctx, call{
		method: http.MethodPost,
		path:   "/order-management/v2/" + paymentType + "/receipts/" + url.PathEscape(orderID),
		body:   r,
	})
	if StatusOf(err) == http.StatusConflict {
		return nil
	}
	return err
}

// ReceiptRequest is the receipt POST as the outbox stores it (eCom: the
// receipt goes to Order management after the capture; a 409 on a resend
// means it is there already).
func ReceiptRequest(orderID string, r Receipt) (Request, error) {
	return Build(http.MethodPost, "/order-management/v2/ECOM/receipts/"+url.PathEscape(orderID), "", r)
}
