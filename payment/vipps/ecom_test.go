package vipps_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"kasse/payment/vipps"
	"kasse/payment/vipps/vippssim"
	"kasse/payment/vipps/vippsspec"
)

func ecomPayment(orderID string, amount int64) vipps.ECommPayment {
	return vipps.ECommPayment{
		OrderID:         orderID,
		Amount:          amount,
		TransactionText: "Kasse 1 sale",
		CallbackPrefix:  "https://shop.example.com/vipps",
		FallBack:        "https://shop.example.com",
	}
}

// location follows nothing: it returns where url redirects.
func location(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: status %d, want a redirect", url, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func testECommEndToEnd(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	c := e.client
	init, err := c.InitiateECom(ctx, ecomPayment("kasse1-e2e-0001", 25000))
	if err != nil {
		t.Fatal(err)
	}
	if init.OrderID != "kasse1-e2e-0001" || !strings.HasPrefix(init.URL, e.srv.URL+"/") {
		t.Fatalf("initiate: %+v, want a landing page on %s", init, e.srv.URL)
	}

	// The QR to draw: a short URL that leads to the landing page.
	text, err := c.OneTimeQR(ctx, init.URL, vipps.QRTargetURL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if text.ExpiresIn != 300 {
		t.Errorf("expiresIn %d, want 300 (the unopened landing page's 5 minutes)", text.ExpiresIn)
	}
	if got := location(t, text.URL); got != init.URL {
		t.Errorf("short URL leads to %q, want the landing page %q", got, init.URL)
	}

	// The QR as an image of the requested size, which decodes to a URL
	// that leads to the same landing page.
	e.clock.Advance(time.Minute)
	img, err := c.OneTimeQR(ctx, init.URL, vipps.QRPNG, 300)
	if err != nil {
		t.Fatal(err)
	}
	if img.ExpiresIn != 240 {
		t.Errorf("expiresIn %d after a minute, want 240", img.ExpiresIn)
	}
	pic, err := c.FetchImage(ctx, img.URL)
	if err != nil {
		t.Fatal(err)
	}
	if b := pic.Bounds(); b.Dx() != 300 || b.Dy() != 300 {
		t.Errorf("image %v, want 300×300", b)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(pic)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the PNG does not decode as a QR: %v", err)
	}
	if got := location(t, res.GetText()); got != init.URL {
		t.Errorf("the PNG's QR leads to %q, want %q", got, init.URL)
	}
	if img.URL == text.URL {
		t.Error("the image URL and the short URL are the same")
	}

	d, err := c.ECommDetails(ctx, "", init.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != vipps.ECommPending || d.Final() || d.LastOperation != vipps.OpInitiate {
		t.Errorf("before approval: %+v", d)
	}

	if err := c.ApproveECom(ctx, init.OrderID); err != nil {
		t.Fatal(err)
	}
	d, err = c.ECommDetails(ctx, "", init.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != vipps.ECommReserved || d.Reserved != 25000 || d.RemainingToCapture != 25000 || d.LastOperation != vipps.OpReserve {
		t.Errorf("after approval: %+v", d)
	}

	sum, err := c.CaptureECom(ctx, init.OrderID, 0, "capture-1")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Captured != 25000 || sum.RemainingToCapture != 0 || sum.RemainingToRefund != 25000 {
		t.Errorf("capture of all: %+v", sum)
	}
	// A resend with the same X-Request-Id changes nothing.
	again, err := c.CaptureECom(ctx, init.OrderID, 0, "capture-1")
	if err != nil || again != sum {
		t.Errorf("resent capture: %+v %v, want %+v", again, err, sum)
	}

	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{{
			Name: "Brød", ID: "7038010009457", TotalAmount: 25000, TotalAmountExcludingTax: 21739, TotalTaxAmount: 3261, TaxRate: 1500,
			UnitInfo: &vipps.UnitInfo{UnitPrice: 25000, Quantity: "1", QuantityUnit: "PCS"},
		}},
		BottomLine: vipps.BottomLine{Currency: "NOK", PosID: "lane-1", ReceiptNumber: init.OrderID},
	}
	for i := range 2 {
		if err := c.SendReceipt(ctx, "ECOM", init.OrderID, receipt); err != nil {
			t.Errorf("receipt %d: %v", i+1, err)
		}
	}
	var conflicts int
	for _, r := range e.sim.Requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/order-management/") && r.Status == http.StatusConflict {
			conflicts++
		}
	}
	if conflicts != 1 {
		t.Errorf("%d receipt conflicts, want 1: the second POST must be refused and taken as success", conflicts)
	}

	sum, err = c.RefundECom(ctx, init.OrderID, 5000, "refund-1")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Refunded != 5000 || sum.RemainingToRefund != 20000 {
		t.Errorf("partial refund: %+v", sum)
	}
	d, err = c.ECommDetails(ctx, "", init.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, l := range d.Log {
		ops = append(ops, l.Operation)
	}
	if strings.Join(ops, " ") != "INITIATE RESERVE CAPTURE REFUND" || d.Captured != 25000 || d.Refunded != 5000 {
		t.Errorf("details: log %v, %+v", ops, d.ECommSummary)
	}
	if l := d.Log[len(d.Log)-1]; l.RequestID != "refund-1" || l.Amount != 5000 || !l.Success || l.Time.IsZero() {
		t.Errorf("refund log line %+v", l)
	}

	info, ok := e.sim.Payment(init.OrderID)
	if !ok || info.API != "ecom" || info.Aggregate.Captured.Value != 25000 || info.Aggregate.Refunded.Value != 5000 ||
		!strings.Contains(string(info.Receipt), `"receiptNumber":"kasse1-e2e-0001"`) {
		t.Errorf("admin view %+v receipt %s", info, info.Receipt)
	}
}

func testECommInitiateTwice(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	if _, err := e.client.InitiateECom(ctx, ecomPayment("twice-1", 1000)); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.InitiateECom(ctx, ecomPayment("twice-1", 1000))
	ve := asError(t, err)
	if ve.Status != http.StatusBadRequest || ve.Temporary() || ve.Problem == nil ||
		!strings.Contains(ve.Problem.Detail, "already in use") || !strings.HasPrefix(ve.Problem.Title, "Payment error") {
		t.Errorf("second initiate: %v", err)
	}
	if !strings.Contains(err.Error(), "already in use") {
		t.Errorf("the message %q does not say why", err)
	}
	// An ePayment reference and an eCom orderId share one namespace.
	e.createQR("shared-ref-1", 1000)
	if _, err := e.client.InitiateECom(ctx, ecomPayment("shared-ref-1", 1000)); vipps.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("eCom initiate of an ePayment reference: %v", err)
	}
}

func testECommCancel(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	c := e.client
	// Before approval: the payment is cancelled whole.
	if _, err := c.InitiateECom(ctx, ecomPayment("cancel-1", 1000)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelECom(ctx, "cancel-1", "cancel-1-a"); err != nil {
		t.Fatal(err)
	}
	if d, err := c.ECommDetails(ctx, "", "cancel-1"); err != nil || d.Status != vipps.ECommCancelled || !d.Final() {
		t.Errorf("cancelled before approval: %+v %v", d, err)
	}
	if err := c.ApproveECom(ctx, "cancel-1"); vipps.StatusOf(err) != http.StatusBadRequest {
		t.Errorf("approve after cancel: %v", err)
	}
	// After a partial capture: the rest is released.
	if _, err := c.InitiateECom(ctx, ecomPayment("cancel-2", 1000)); err != nil {
		t.Fatal(err)
	}
	if err := c.ApproveECom(ctx, "cancel-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CaptureECom(ctx, "cancel-2", 400, "cap"); err != nil {
		t.Fatal(err)
	}
	sum, err := c.CancelECom(ctx, "cancel-2", "cancel-2-a")
	if err != nil || sum.Captured != 400 || sum.RemainingToCapture != 0 {
		t.Errorf("cancel after partial capture: %+v %v", sum, err)
	}
	if d, _ := c.ECommDetails(ctx, "", "cancel-2"); d.Cancelled != 600 || d.Status != vipps.ECommReserved {
		t.Errorf("details after release: %+v", d)
	}
	// Timeouts: an unopened landing page dies after 5 minutes.
	if _, err := c.InitiateECom(ctx, ecomPayment("timeout-1", 1000)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	if d, err := c.ECommDetails(ctx, "", "timeout-1"); err != nil || d.Status != vipps.ECommCancelled || d.LastOperation != vipps.OpCancel {
		t.Errorf("after 5 minutes unopened: %+v %v", d, err)
	}
}

func testQRErrors(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	_, err := e.client.OneTimeQR(ctx, "https://example.com/not-a-landing-page", vipps.QRTargetURL, 0)
	if ve := asError(t, err); ve.Status != http.StatusBadRequest || ve.Problem == nil || !strings.Contains(ve.Problem.Detail, "not valid") {
		t.Errorf("foreign url: %v", err)
	}
	init, err := e.client.InitiateECom(ctx, ecomPayment("qr-timeout-1", 1000))
	if err != nil {
		t.Fatal(err)
	}
	img, err := e.client.OneTimeQR(ctx, init.URL, vipps.QRPNG, 150)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Minute)
	_, err = e.client.OneTimeQR(ctx, init.URL, vipps.QRTargetURL, 0)
	if ve := asError(t, err); ve.Status != http.StatusBadRequest || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("QR of a timed-out payment: %v", err)
	}
	if _, err := e.client.FetchImage(ctx, img.URL); vipps.StatusOf(err) != http.StatusGone {
		t.Errorf("expired image: %v", err)
	}
	if _, err := e.client.OneTimeQR(ctx, init.URL, vipps.QRPNG, 50); err == nil {
		t.Error("size 50 accepted")
	}
}

func testTestAmounts(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{})
	ctx := context.Background()
	c := e.client
	for _, value := range []int64{151, 182, 183, 186} {
		ref := "declined-" + itoa(value)
		e.createQR(ref, value)
		if err := c.Approve(ctx, ref); err != nil {
			t.Fatal(err)
		}
		p, err := c.Get(ctx, ref)
		if err != nil || p.State != vipps.Aborted || p.Aggregate.Authorized.Value != 0 {
			t.Errorf("ePayment %d øre: %+v %v, want ABORTED with nothing authorized", value, p, err)
		}
		evs, err := c.Events(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(evs); n < 2 || evs[n-2].Name != vipps.Authorized || evs[n-2].Success || evs[n-1].Name != vipps.Aborted {
			t.Errorf("ePayment %d øre events %+v: want a failed AUTHORIZED then ABORTED", value, evs)
		}

		order := "declined-ecom-" + itoa(value)
		if _, err := c.InitiateECom(ctx, ecomPayment(order, value)); err != nil {
			t.Fatal(err)
		}
		if err := c.ApproveECom(ctx, order); err != nil {
			t.Fatal(err)
		}
		d, err := c.ECommDetails(ctx, "", order)
		if err != nil || d.Status != vipps.ECommFailed || d.LastOperation != vipps.OpReserve || d.LastSuccess || !d.Final() {
			t.Errorf("eCom %d øre: %+v %v, want a failed RESERVE", value, d, err)
		}
		if _, err := c.CaptureECom(ctx, order, 0, "cap"); vipps.StatusOf(err) != http.StatusBadRequest {
			t.Errorf("capture of a refused eCom payment: %v", err)
		}
	}
	// Next to a test amount, an ordinary one is authorized.
	e.createQR("ordinary-1", 152)
	if err := c.Approve(ctx, "ordinary-1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Get(ctx, "ordinary-1"); p.State != vipps.Authorized {
		t.Errorf("152 øre: %s", p.State)
	}
}

func testUnknownResult(t *testing.T, spec *vippsspec.Validator) {
	e := newEnv(t, spec, options{sim: func(c *vippssim.Config) { c.TokenTTL = 24 * time.Hour }})
	ctx := context.Background()
	c := e.client
	e.createQR("unknown-0001", 201)
	if _, err := c.InitiateECom(ctx, ecomPayment("unknown-ecom-1", 201)); err != nil {
		t.Fatal(err)
	}
	if err := c.Approve(ctx, "unknown-0001"); err != nil {
		t.Fatal(err)
	}
	if err := c.ApproveECom(ctx, "unknown-ecom-1"); err != nil {
		t.Fatal(err)
	}
	// Well past the 10-minute life, the result is still unknown.
	e.clock.Advance(vippssim.UnknownResultDelay - time.Second)
	if p, err := c.Get(ctx, "unknown-0001"); err != nil || p.State != vipps.Created {
		t.Errorf("ePayment after 59:59: %+v %v, want CREATED", p, err)
	}
	if d, err := c.ECommDetails(ctx, "", "unknown-ecom-1"); err != nil || d.Status != vipps.ECommPending {
		t.Errorf("eCom after 59:59: %+v %v, want pending", d, err)
	}
	e.clock.Advance(time.Second)
	if p, err := c.Get(ctx, "unknown-0001"); err != nil || p.State != vipps.Authorized || p.Aggregate.Authorized.Value != 201 {
		t.Errorf("ePayment after an hour: %+v %v, want AUTHORIZED", p, err)
	}
	if d, err := c.ECommDetails(ctx, "", "unknown-ecom-1"); err != nil || d.Status != vipps.ECommReserved || d.Reserved != 201 {
		t.Errorf("eCom after an hour: %+v %v, want RESERVED", d, err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
