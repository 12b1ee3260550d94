package vipps_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/payment/vipps/vippsspec"
)

func testEPaymentReceipt(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	r := vipps.Receipt{
		OrderLines: []vipps.OrderLine{
			{Name: "Kaffe", ID: "1", TotalAmount: 4000, TotalAmountExcludingTax: 3200, TotalTaxAmount: 800, TaxRate: 2500},
			{Name: "Bolle", ID: "2", TotalAmount: 2300, TotalAmountExcludingTax: 2000, TotalTaxAmount: 300, TaxRate: 1500},
		},
		BottomLine: vipps.BottomLine{Currency: "NOK", PosID: "lane-2", ReceiptNumber: "kasse1-receipt-1"},
	}
	_, err := e.client.Create(ctx, vipps.CreatePayment{
		Amount:              money.Amount{Value: 6300, Currency: "NOK"},
		PaymentMethod:       vipps.PaymentMethod{Type: "WALLET"},
		Reference:           "kasse1-receipt-1",
		UserFlow:            "QR",
		CustomerInteraction: "CUSTOMER_PRESENT",
		PaymentDescription:  "Kasse 1 sale",
		Receipt:             &r,
	}, "create-receipt-1")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := e.sim.Payment("kasse1-receipt-1")
	for _, want := range []string{`"taxRate":2500`, `"taxPercentage":25`, `"taxPercentage":15`, `"posId":"lane-2"`} {
		if !strings.Contains(string(info.Receipt), want) {
			t.Errorf("stored receipt %s lacks %s", info.Receipt, want)
		}
	}
	// The receipt is already there: sending it again is success.
	if err := e.client.SendReceipt(ctx, "ECOM", "kasse1-receipt-1", r); err != nil {
		t.Errorf("receipt after create: %v", err)
	}
	// An unknown payment is a real error.
	err = e.client.SendReceipt(ctx, "ECOM", "no-such-order", r)
	if ve := asError(t, err); ve.Status != http.StatusNotFound || ve.Problem == nil || ve.Problem.Detail == "" {
		t.Errorf("receipt for an unknown order: %v", err)
	}
	if err := e.client.SendReceipt(ctx, "SALE", "kasse1-receipt-1", r); err == nil {
		t.Error("payment type SALE accepted")
	}
}
