package vipps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"kasse/money"
	"kasse/payment/vipps"
)

// The fuzz targets drive the client's real request path (token, send,
// decode) with an in-memory transport answering the fuzzed bytes: no
// sockets, so each run is fast and nothing but the reply varies.

const (
	fuzzToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fuzz-access-token"
	fuzzRef   = "OSLO1-2-k7f3-17"
	// maxErrorText bounds an error's text: it goes to the log at every
	// poll and to kassectl status, whatever the reply's size.
	maxErrorText = 2048
)

var fuzzNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// replay answers the token request with a valid token (or tokenBody, when
// set) and every other request with status, header and body.
type replay struct {
	status    int
	header    http.Header
	body      []byte
	tokenBody []byte
	tokens    int
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	status, header, body := r.status, r.header, r.body
	if req.URL.Path == "/accesstoken/get" {
		r.tokens++
		status, header, body = http.StatusOK, nil, r.tokenBody
		if body == nil {
			body = []byte(`{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1764507600","not_before":"1764504000","resource":"00000002-0000-0000-c000-000000000000","access_token":"` + fuzzToken + `"}`)
		}
	}
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
}

func fuzzClient(t *testing.T, rt http.RoundTripper) *vipps.Client {
	c, err := vipps.New(vipps.Config{
		BaseURL: "https://apitest.vipps.no", MSN: msn,
		Credentials: vipps.Credentials{ClientID: id, ClientSecret: secret, SubscriptionKey: subKey},
		System:      vipps.System{Name: "kasse", Version: "fuzz"},
		HTTP:        &http.Client{Transport: rt},
		Now:         func() time.Time { return fuzzNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkAnswered is the rule for a 2xx reply: it is used, or it is an
// unusable reply (retried like no answer), never "offline" (status 0) and
// never a refusal, and its error text is bounded and free of secrets.
func checkAnswered(t *testing.T, what string, status int, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !vipps.IsUnusable(err) || !vipps.IsTemporary(err) || vipps.StatusOf(err) != status {
		t.Fatalf("%s: a %d reply gave %v (unusable %v, temporary %v, status %d): want an unusable, temporary error",
			what, status, err, vipps.IsUnusable(err), vipps.IsTemporary(err), vipps.StatusOf(err))
	}
	checkText(t, what, err.Error())
}

func checkText(t *testing.T, what, msg string) {
	t.Helper()
	if len(msg) > maxErrorText {
		t.Fatalf("%s: error text is %d bytes, want at most %d: %.200q…", what, len(msg), maxErrorText, msg)
	}
	for _, s := range []string{secret, subKey, fuzzToken} {
		if strings.Contains(msg, s) {
			t.Fatalf("%s: error text holds a secret: %q", what, msg)
		}
	}
}

// checkFits states, independently of Fits, what the till relies on in a
// reply Fits accepted: ours, a documented state, and money that adds up.
func checkFits(t *testing.T, p vipps.Payment, want money.Amount) {
	t.Helper()
	ag, cur := p.Aggregate, p.Amount.Currency
	known := map[string]bool{vipps.Created: true, vipps.Authorized: true, vipps.Aborted: true, vipps.Expired: true, vipps.Terminated: true}
	switch {
	case p.Reference != fuzzRef:
		t.Fatalf("accepted a reply about %q", p.Reference)
	case !known[p.State]:
		t.Fatalf("accepted state %q", p.State)
	case !money.ValidCurrency(cur):
		t.Fatalf("accepted currency %q", cur)
	case p.Amount.Value <= 0 || p.Amount.Value > money.MaxValue:
		t.Fatalf("accepted amount %d", p.Amount.Value)
	case want.Value != 0 && p.Amount != want:
		t.Fatalf("accepted amount %v for a sale of %v", p.Amount, want)
	}
	for _, a := range []money.Amount{ag.Authorized, ag.Cancelled, ag.Captured, ag.Refunded} {
		if a.Value < 0 || a.Value > p.Amount.Value || (a.Value != 0 && a.Currency != cur) {
			t.Fatalf("accepted aggregate amount %v of a %v payment", a, p.Amount)
		}
	}
	if ag.Captured.Value > ag.Authorized.Value || ag.Refunded.Value > ag.Captured.Value ||
		ag.Captured.Value+ag.Cancelled.Value > p.Amount.Value || (p.State == vipps.Created && ag.Authorized.Value != 0) {
		t.Fatalf("accepted an aggregate that does not add up: %s %+v of %v", p.State, ag, p.Amount)
	}
}

func nok(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }

func paymentJSON(state string, amount, authorized, captured, cancelled, refunded int64) []byte {
	p := vipps.Payment{Reference: fuzzRef, State: state, Amount: nok(amount), PSPRef: "7686f7788898767977",
		Aggregate: vipps.Aggregate{Authorized: nok(authorized), Captured: nok(captured), Cancelled: nok(cancelled), Refunded: nok(refunded)}}
	b, _ := json.Marshal(p)
	return b
}

// FuzzEPaymentReply feeds a 200 reply to every ePayment call the register
// makes. Property: a 2xx is used or unusable (never offline, never a
// refusal); a payment Fits accepts is ours, in a documented state, and its
// money adds up, both for a sale (amount known) and a scanned receipt
// (amount unknown).
func FuzzEPaymentReply(f *testing.F) {
	f.Add(paymentJSON(vipps.Created, 12500, 0, 0, 0, 0))
	f.Add(paymentJSON(vipps.Authorized, 12500, 12500, 0, 0, 0))
	f.Add(paymentJSON(vipps.Authorized, 12500, 12500, 12500, 0, 2500))
	f.Add(paymentJSON(vipps.Authorized, 12500, 12500, 5000, 7500, 0))
	f.Add(paymentJSON(vipps.Terminated, 12500, 0, 0, 12500, 0))
	f.Add([]byte(`{"reference":"OSLO1-2-k7f3-17","redirectUrl":"https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=eyJraWQiOiJqd3RrZXkiLC"}`))
	f.Add([]byte(`[{"reference":"OSLO1-2-k7f3-17","pspReference":"7686f7788898767977","name":"CREATED","amount":{"currency":"NOK","value":12500},"timestamp":"2026-11-30T12:00:00Z","idempotencyKey":"OSLO1-2-k7f3-17-create","success":true},` +
		`{"reference":"OSLO1-2-k7f3-17","pspReference":"7686f7788898767978","name":"AUTHORIZED","amount":{"currency":"NOK","value":12500},"timestamp":"2026-11-30T12:00:09.5Z","idempotencyKey":"","success":true}]`))
	f.Add([]byte(`{"reference":"OSLO1-2-k7f3-17","state":"AUTHORIZED","amount":{"value":12500,"currency":"NOK"},"aggregate":{"authorizedAmount":{"value":99999999,"currency":"NOK"}}}`))
	f.Add([]byte(`{"reference":"OSLO1-2-k7f3-17","state":"AUTH`))
	f.Add([]byte(`"ok"`))
	f.Add([]byte(`{"reference":"` + strings.Repeat("OSLO1-2-k7f3-17", 300) + `","state":"AUTHORIZED"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rt := &replay{status: http.StatusOK, body: body}
		c := fuzzClient(t, rt)
		ctx := context.Background()

		p, err := c.Get(ctx, fuzzRef)
		checkAnswered(t, "get", 200, err)
		if err == nil {
			sale := nok(12500)
			if ferr := p.Fits("GET", fuzzRef, sale); ferr == nil {
				checkFits(t, p, sale)
			} else {
				checkAnswered(t, "get, fits the sale", 200, ferr)
			}
			if ferr := p.Fits("GET", fuzzRef, money.Amount{}); ferr == nil {
				checkFits(t, p, money.Amount{})
			} else {
				checkAnswered(t, "get, fits a scanned receipt", 200, ferr)
			}
		}
		_, err = c.Capture(ctx, fuzzRef, nok(12500), "OSLO1-2-k7f3-17-capture")
		checkAnswered(t, "capture", 200, err)
		_, err = c.Events(ctx, fuzzRef)
		checkAnswered(t, "events", 200, err)
		_, err = c.Create(ctx, vipps.CreatePayment{Amount: nok(12500), Reference: fuzzRef}, "OSLO1-2-k7f3-17-create")
		checkAnswered(t, "create", 200, err)
		if rt.tokens != 1 {
			t.Fatalf("%d token requests for one client, want 1 (cached)", rt.tokens)
		}
	})
}

func detailsJSON(orderID string, log ...string) []byte {
	return []byte(`{"orderId":"` + orderID + `","transactionLogHistory":[` + strings.Join(log, ",") +
		`],"transactionSummary":{"capturedAmount":0,"refundedAmount":0,"remainingAmountToCapture":12500,"remainingAmountToRefund":0}}`)
}

func logLine(op string, amount int64, ok bool) string {
	b, _ := json.Marshal(vipps.ECommLogEntry{Operation: op, Amount: amount, Success: ok, TransactionID: "5001420062",
		TransactionText: "Kjøp i butikk", RequestID: "", Time: fuzzNow})
	return string(b)
}

// FuzzECommReply feeds a 2xx reply to every eCom, QR and Order management
// call. Property: a 2xx is used or unusable; the details' state and sums
// are what the log says (newest first in the reply, exact sums without
// wrap-around); a receipt is delivered whatever its 201 body holds (the
// API answers a bare JSON string).
func FuzzECommReply(f *testing.F) {
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpInitiate, 12500, true)))
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpReserve, 12500, true), logLine(vipps.OpInitiate, 12500, true)))
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpCapture, 12500, true), logLine(vipps.OpReserve, 12500, true), logLine(vipps.OpInitiate, 12500, true)))
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpReserve, 151, false), logLine(vipps.OpInitiate, 151, true)))
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpCancel, 12500, true), logLine(vipps.OpInitiate, 12500, true)))
	f.Add(detailsJSON(fuzzRef, logLine(vipps.OpReserve, 9223372036854775807, true), logLine(vipps.OpSale, 2, true)))
	f.Add([]byte(`{"orderId":"OSLO1-2-k7f3-17","url":"https://api.vipps.no/dwo-api-application/v1/deeplink/vippsgateway?v=2&token=eyJraWQiOiJqd3RrZXkiLC"}`))
	f.Add([]byte(`{"orderId":"OSLO1-2-k7f3-17","transactionInfo":{"amount":12500,"status":"Captured","timeStamp":"2026-11-30T12:00:00Z","transactionId":"5001420062","transactionText":"Captured at the register"},"transactionSummary":{"capturedAmount":12500,"remainingAmountToCapture":0,"refundedAmount":0,"remainingAmountToRefund":12500}}`))
	f.Add([]byte(`{"url":"https://qr.vipps.no/generate/qr.png?uri=https%3A%2F%2Fapi.vipps.no","expiresIn":300}`))
	f.Add([]byte(`"The receipt was added to the order"`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, &replay{status: http.StatusOK, body: body})
		ctx := context.Background()

		d, err := c.ECommDetails(ctx, "", fuzzRef)
		checkAnswered(t, "details", 200, err)
		if err == nil {
			checkDetails(t, body, d)
		}
		_, err = c.InitiateECom(ctx, vipps.ECommPayment{OrderID: fuzzRef, Amount: 12500, TransactionText: "Kjøp i butikk"})
		checkAnswered(t, "initiate", 200, err)
		_, err = c.CaptureECom(ctx, fuzzRef, 12500, "OSLO1-2-k7f3-17-c1")
		checkAnswered(t, "capture", 200, err)
		_, err = c.OneTimeQR(ctx, "https://api.vipps.no/landing", vipps.QRTargetURL, 240)
		checkAnswered(t, "QR", 200, err)

		rc := fuzzClient(t, &replay{status: http.StatusCreated, body: body})
		if err := rc.SendReceipt(ctx, "ECOM", fuzzRef, vipps.Receipt{BottomLine: vipps.BottomLine{Currency: "NOK"}}); err != nil {
			t.Fatalf("a 201 receipt reply gave %v: a delivered receipt is delivered whatever the body", err)
		}
	})
}

// checkDetails recomputes the state from the raw log with exact sums.
func checkDetails(t *testing.T, body []byte, d vipps.ECommDetails) {
	t.Helper()
	var raw struct {
		Log []vipps.ECommLogEntry `json:"transactionLogHistory"`
	}
	// An empty body leaves the reply's zero value (the till's Fits then
	// refuses it: no orderId).
	if err := json.Unmarshal(body, &raw); err != nil && len(body) > 0 {
		t.Fatalf("the client accepted a reply the test cannot read: %v", err)
	}
	n := len(raw.Log)
	if len(d.Log) != n {
		t.Fatalf("log has %d lines, the reply %d", len(d.Log), n)
	}
	reserved, cancelled := new(big.Int), new(big.Int)
	failed := false
	for i, l := range raw.Log {
		if d.Log[n-1-i] != l {
			t.Fatalf("log line %d is not the reply's line %d reversed", n-1-i, i)
		}
		switch {
		case (l.Operation == vipps.OpReserve || l.Operation == vipps.OpSale) && l.Success:
			reserved.Add(reserved, big.NewInt(l.Amount))
		case l.Operation == vipps.OpReserve && !l.Success:
			failed = true
		case (l.Operation == vipps.OpCancel || l.Operation == vipps.OpVoid) && l.Success:
			cancelled.Add(cancelled, big.NewInt(l.Amount))
		}
	}
	if reserved.Cmp(big.NewInt(d.Reserved)) != 0 || cancelled.Cmp(big.NewInt(d.Cancelled)) != 0 {
		t.Fatalf("reserved %d, cancelled %d; the log sums to %v and %v", d.Reserved, d.Cancelled, reserved, cancelled)
	}
	want := vipps.ECommPending
	switch {
	case reserved.Sign() > 0:
		want = vipps.ECommReserved
	case failed:
		want = vipps.ECommFailed
	case cancelled.Sign() > 0:
		want = vipps.ECommCancelled
	}
	if d.Status != want || d.Final() != (want != vipps.ECommPending) {
		t.Fatalf("status %s (final %v), the log says %s", d.Status, d.Final(), want)
	}
	if n > 0 && (d.LastOperation != raw.Log[0].Operation || d.LastSuccess != raw.Log[0].Success) {
		t.Fatalf("last operation %s %v, the newest line is %s %v", d.LastOperation, d.LastSuccess, raw.Log[0].Operation, raw.Log[0].Success)
	}
}

func pngOf(w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if (x/8+y/8)%2 == 0 {
				img.SetGray(x, y, color.Gray{})
			} else {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// maxQRSide is the largest image the QR API makes (its Size header,
// 100–2000 pixels).
const maxQRSide = 2000

// FuzzQRImage feeds a QR image reply to FetchImage. Property: an accepted
// image is no larger than the QR API makes, so a hostile or broken reply
// cannot make the register decode gigabytes of pixels.
func FuzzQRImage(f *testing.F) {
	f.Add(pngOf(240, 240))
	f.Add(pngOf(100, 100))
	f.Add(pngOf(2001, 1))
	f.Add([]byte("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c := fuzzClient(t, &replay{status: http.StatusOK, header: http.Header{"Content-Type": {"image/png"}}, body: body})
		img, err := c.FetchImage(context.Background(), "https://qr.vipps.no/generate/qr.png?uri=x")
		if err != nil {
			if vipps.StatusOf(err) != 200 {
				t.Fatalf("a refused image gave %v, want an error with status 200", err)
			}
			checkText(t, "QR image", err.Error())
			return
		}
		if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > maxQRSide || b.Dy() > maxQRSide {
			t.Fatalf("accepted a %v image: the QR API makes 100–%d pixels", b, maxQRSide)
		}
	})
}

// FuzzErrorReply feeds an error reply (problem+json, eCom's error array,
// the gateway's object, or anything) with a Retry-After header. Property:
// the error keeps the status, is temporary exactly for 429 and 5xx, waits
// at most maxRetryAfter, and its text is bounded and free of secrets.
func FuzzErrorReply(f *testing.F) {
	f.Add(uint16(400), "", []byte(`{"type":"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#validation-error","title":"Bad Request","detail":"Input validation failed","status":400,"traceId":"f70b8bf7-c843-4bea-95d9-94725b19895f","extraDetails":[{"name":"Amount","reason":"Must be greater than 0"}]}`))
	f.Add(uint16(409), "", []byte(`{"type":"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/problems#conflict","title":"Conflict","detail":"Idempotency key already used with another body","status":409,"traceId":"a2f6c4e4-0d51-4b6f-9b7c-2a9d5c3f1e11"}`))
	f.Add(uint16(400), "", []byte(`[{"errorGroup":"Payment","errorCode":"42","errorMessage":"Refused by issuer because of expired card","contextId":"b4b6c0f4-3d8e-4c0a-a4b3-8a9f3c7d2e10"}]`))
	f.Add(uint16(401), "", []byte(`{"responseInfo":{"responseCode":401,"responseMessage":"Unauthorized"},"result":{"message":"Access denied due to invalid subscription key."}}`))
	f.Add(uint16(429), "30", []byte(`{"type":"about:blank","title":"Too Many Requests","status":429}`))
	f.Add(uint16(503), "Mon, 30 Nov 2026 12:00:40 GMT", []byte("<html><body>Service Unavailable</body></html>"))
	f.Add(uint16(503), "Fri, 31 Dec 9999 23:59:59 GMT", []byte(""))
	f.Add(uint16(503), "9300000000", []byte(""))
	f.Add(uint16(400), "", []byte(`{"title":"Bad Request","detail":"`+strings.Repeat("Input validation failed. ", 200)+`","status":400}`))
	f.Add(uint16(400), "", []byte(`[`+strings.Repeat(`{"errorGroup":"Payment","errorCode":"42","errorMessage":"Refused","contextId":"b4b6c0f4"},`, 300)+`{}]`))
	f.Fuzz(func(t *testing.T, code uint16, retry string, body []byte) {
		status := 400 + int(code)%200
		c := fuzzClient(t, &replay{status: status, header: http.Header{"Retry-After": {retry}}, body: body})
		_, err := c.Get(context.Background(), fuzzRef)
		var ve *vipps.Error
		if !errors.As(err, &ve) {
			t.Fatalf("a %d reply gave %v, want a *vipps.Error", status, err)
		}
		if ve.Status != status || ve.Unusable {
			t.Fatalf("a %d reply gave status %d (unusable %v)", status, ve.Status, ve.Unusable)
		}
		if temp := status == 429 || status >= 500; ve.Temporary() != temp {
			t.Fatalf("a %d reply: temporary %v, want %v", status, ve.Temporary(), temp)
		}
		if ve.RetryAfter < 0 || ve.RetryAfter > maxRetryAfter {
			t.Fatalf("Retry-After %q gave a wait of %v, want 0 to %v", retry, ve.RetryAfter, maxRetryAfter)
		}
		checkText(t, "error reply", err.Error())
	})
}

// maxRetryAfter is the longest wait a Retry-After may impose: the
// provider's rate limits count per minute.
const maxRetryAfter = 2 * time.Minute

// FuzzTokenReply feeds the access token reply. Property: an accepted token
// is the reply's access_token, is sent as the bearer of the next call, and
// stays valid for a while after now (no overflowed or past expiry, which
// would fetch a token before every call); a refused one says why without
// the credentials.
func FuzzTokenReply(f *testing.F) {
	f.Add([]byte(`{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"3600","expires_on":"1764507600","not_before":"1764504000","resource":"00000002-0000-0000-c000-000000000000","access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik1uQ19WWmNB"}`))
	f.Add([]byte(`{"token_type":"Bearer","expires_in":"86400","access_token":"eyJ0eXAi"}`))
	f.Add([]byte(`{"token_type":"Bearer","expires_in":3600,"access_token":"eyJ0eXAi"}`))
	f.Add([]byte(`{"token_type":"Bearer","expires_in":"9223372036854775807","access_token":"eyJ0eXAi"}`))
	f.Add([]byte(`{"token_type":"Bearer","expires_in":"-1","access_token":"eyJ0eXAi"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var bearers []string
		tokens := 0
		rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if req.URL.Path == "/accesstoken/get" {
				tokens++
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: req}, nil
			}
			bearers = append(bearers, req.Header.Get("Authorization"))
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(paymentJSON(vipps.Created, 100, 0, 0, 0, 0))), Request: req}, nil
		})
		now := fuzzNow
		const margin = time.Minute
		c, err := vipps.New(vipps.Config{BaseURL: "https://apitest.vipps.no", MSN: msn,
			Credentials: vipps.Credentials{ClientID: id, ClientSecret: secret, SubscriptionKey: subKey},
			HTTP:        &http.Client{Transport: rt}, Now: func() time.Time { return now }, TokenMargin: margin})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(context.Background(), fuzzRef)
		if err != nil {
			if len(bearers) != 0 {
				t.Fatalf("a call went out after the token failed: %v", err)
			}
			checkText(t, "token", err.Error())
			return
		}
		var r struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   string `json:"expires_in"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("accepted a token reply the test cannot read: %v", err)
		}
		if len(bearers) != 1 || r.AccessToken == "" || bearers[0] != "Bearer "+r.AccessToken {
			t.Fatalf("sent %q for access_token %q", bearers, r.AccessToken)
		}
		secs, err := strconv.ParseInt(r.ExpiresIn, 10, 64)
		if err != nil || secs <= 0 {
			t.Fatalf("accepted expires_in %q", r.ExpiresIn)
		}
		// A token that outlives the margin by more than a second serves
		// the next call a second later: an overflowed or past expiry
		// would fetch a token before every call.
		now = now.Add(time.Second)
		if _, err := c.Get(context.Background(), fuzzRef); err != nil {
			t.Fatalf("second call: %v", err)
		}
		if long := secs > int64((margin+2*time.Second)/time.Second); long && tokens != 1 {
			t.Fatalf("expires_in %q: %d token requests for two calls a second apart, want 1", r.ExpiresIn, tokens)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
