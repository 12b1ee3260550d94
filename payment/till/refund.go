package till

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment/vipps"
	"kasse/printer/receipt"
	"kasse/store"
)

// Refund states of the till.
const (
	StateRefundScan   = "refund-scan"   // waiting for the receipt's barcode
	StateRefundRead   = "refund-read"   // reading the sale from Vipps
	StateRefundAmount = "refund-amount" // the cashier keys how much
	StateRefunding    = "refunding"     // the refund is on its way
)

const opRefund = "refund"

// RefundInfo is the refund on the till, for kassectl status.
type RefundInfo struct {
	Reference   string `json:"reference"`
	OriginStore string `json:"originStore"`
	OriginLane  string `json:"originLane"`
	Refundable  string `json:"refundable,omitempty"`
	Amount      string `json:"amount,omitempty"`
}

// refundCtx is the refund the cashier is making.
type refundCtx struct {
	ref        store.Reference
	msn        string // option A: the origin store's MSN
	api        string // "" (ePayment) or apiECom, where the sale's payment lives
	refundable money.Amount
	amount     money.Amount
	id         string
	keyed      bool // the cashier keyed digits (a keyed 0 is not "all")
	confirmAll bool // pay with nothing keyed asked to refund all; pay again confirms
}

// Scan hands the till a scanned code (a receipt's barcode, from a USB
// scanner or kassectl scan) and waits until it is handled.
func (t *Till) Scan(ctx context.Context, code string) error {
	return t.onLoop(ctx, func() error { return t.scanned(code) })
}

func (t *Till) startRefund() {
	t.sale, t.digits, t.lastErr, t.rf = nil, "", "", nil
	t.state = StateRefundScan
	t.show(display.Screen{Kind: display.Working, Title: "Refund", Message: "Scan the barcode on the sale's receipt."})
}

// refundKey handles keys during a refund.
func (t *Till) refundKey(k device.Key) error {
	if k == device.KeyCancel || (k == device.KeyClear && t.state != StateRefundAmount) {
		t.rf, t.digits, t.state = nil, "", StateIdle
		t.show(display.Screen{Kind: display.Idle, Title: t.cfg.StoreName})
		return nil
	}
	if t.state != StateRefundAmount {
		return fmt.Errorf("key %q does nothing now: scan the receipt, or press cancel", k)
	}
	rf := t.rf
	if k != device.KeyPay {
		rf.confirmAll = false
	}
	switch d, digit := k.Digit(); {
	case digit:
		t.digits, rf.keyed = trimAmount(t.digits+d), true
	case k == device.KeyBack && t.digits != "":
		t.digits = t.digits[:len(t.digits)-1]
	case k == device.KeyBack:
		rf.keyed = false
	case k == device.KeyClear:
		t.digits, rf.keyed = "", false
	case k == device.KeyPay && !rf.keyed && !rf.confirmAll:
		// Refunding everything is never one key press away.
		rf.confirmAll = true
		t.showRefund(fmt.Sprintf("Refund all %s? Press pay again to confirm, or key an amount.", rf.refundable))
		return nil
	case k == device.KeyPay:
		return t.confirmRefund()
	default:
		return fmt.Errorf("key %q is not used in a refund: key an amount, pay, or cancel", k)
	}
	t.showRefund("")
	return nil
}

func trimAmount(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

func (t *Till) scanned(code string) error {
	if t.state != StateRefundScan {
		return fmt.Errorf("a scanned code is only used for refunds: press refund first")
	}
	ref, err := store.ParseReference(code)
	if err != nil {
		// The parser's message would repeat the whole code: a scanner
		// sends anything, at any length.
		err = fmt.Errorf("scanned code %s is not a receipt reference of the form PREFIX-LANE-TAG-N (e.g. OSLO1-2-k7f3-17)", quoteScan(code))
		t.fail("refund: %v", err)
		t.show(display.Screen{Kind: display.Error, Title: "Refund not possible", Message: sayNotOurReceipt})
		return err
	}
	if ref.Prefix != t.cfg.Store && !slices.Contains(t.cfg.ChainStores, ref.Prefix) {
		err := fmt.Errorf("reference %s belongs to store %s, which is not in this chain: check chain.stores in the config", code, ref.Prefix)
		t.fail("refund: %v", err)
		t.show(display.Screen{Kind: display.Error, Title: "Refund not possible", Message: sayNotOurReceipt})
		return err
	}
	rf := &refundCtx{ref: ref, msn: t.cfg.ChainMSN[ref.Prefix]}
	t.rf = rf
	t.state = StateRefundRead
	t.show(display.Screen{Kind: display.Working, Title: "Refund", Message: "Reading the sale from Vipps MobilePay…"})
	r := vipps.Request{Method: http.MethodGet, Path: "/epayment/v1/payments/" + code}
	if t.rf.msn != "" {
		r.Header = http.Header{"Merchant-Serial-Number": {t.rf.msn}}
	}
	t.background(func() func() {
		ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
		defer cancel()
		var p vipps.Payment
		err := t.pay.Do(ctx, r, &p)
		if err == nil {
			err = p.Fits("GET "+code, code, money.Amount{})
		}
		api := ""
		if vipps.StatusOf(err) == 404 {
			// Not an ePayment payment: perhaps the eCom flow's, read with
			// the origin store's MSN as its refund will be (option A).
			sale := store.Sale{Reference: code, Amount: money.Amount{Currency: t.cfg.Currency}, API: apiECom}
			// rf, not t.rf: the loop owns t.rf, and a cancel clears it.
			ep, eerr := t.readECom(ctx, sale, rf.msn)
			if eerr == nil {
				eerr = ep.Fits("details "+code, code, money.Amount{})
			}
			if eerr == nil {
				p, err, api = ep, nil, apiECom
			}
		}
		return func() {
			if t.rf == rf { // not a refund started since
				rf.api = api
			}
			t.refundRead(code, p, err)
		}
	})
	return nil
}

// refundRead shows what can be refunded: what Vipps says was captured and
// not yet refunded, whichever register did either.
func (t *Till) refundRead(code string, p vipps.Payment, err error) {
	if t.state != StateRefundRead || t.rf == nil || t.rf.ref.String() != code {
		return
	}
	t.noteNetwork(err)
	t.logUnusable(err)
	if err != nil {
		msg, say := explain(err), sayRefundNoReply
		if vipps.StatusOf(err) == 404 {
			msg, say = fmt.Sprintf("Vipps MobilePay has no payment %s: check the receipt", code), sayRefundNoSale
		}
		t.fail("refund %s: %s", code, msg)
		t.state = StateRefundScan // still in the refund: scan again, or cancel
		t.show(display.Screen{Kind: display.Error, Title: "Refund not possible", Message: say})
		return
	}
	ag := p.Aggregate
	t.rf.refundable = money.Amount{Value: ag.Captured.Value - ag.Refunded.Value, Currency: p.Amount.Currency}
	if t.rf.refundable.Value <= 0 {
		t.state = StateRefundScan // still in the refund: digits keyed now must not start a sale
		t.fail("refund %s: nothing left to refund (captured %s, refunded %s)", code, ag.Captured, ag.Refunded)
		msg := sayRefundedInFull
		if ag.Captured.Value == 0 {
			msg = "This sale was never paid: there is nothing to refund."
		}
		t.show(display.Screen{Kind: display.Error, Title: "Nothing to refund", Message: msg})
		return
	}
	t.state, t.digits = StateRefundAmount, ""
	t.showRefund("")
}

func (t *Till) refundAmount() money.Amount {
	if t.digits == "" && !t.rf.keyed {
		return t.rf.refundable
	}
	a := t.amount()
	a.Currency = t.rf.refundable.Currency
	return a
}

func (t *Till) showRefund(problem string) {
	rf := t.rf
	msg := fmt.Sprintf("Sale %s from store %s lane %s. Refundable %s. Key an amount, or press pay to refund all.",
		rf.ref, rf.ref.Prefix, rf.ref.Lane, rf.refundable)
	if problem != "" {
		msg = problem
	}
	t.show(display.Screen{Kind: display.Amount, Title: "Refund", Amount: t.refundAmount().String(), Message: msg})
}

// confirmRefund stores the refund and its request before sending it.
func (t *Till) confirmRefund() error {
	rf := t.rf
	a := t.refundAmount()
	if a.Value <= 0 || a.Value > rf.refundable.Value {
		err := fmt.Errorf("refund of %s is not possible: at most %s is left on %s", a, rf.refundable, rf.ref)
		t.fail("%v", err)
		t.showRefund(fmt.Sprintf("At most %s can be refunded. Key another amount.", rf.refundable))
		return err
	}
	t.lastErr = ""
	// A reference of this register's own series keys the refund: unique
	// forever, and fixed before the request exists so a retry reuses it.
	id, err := t.journal.NextReference(t.cfg.Store, t.cfg.Lane)
	if err != nil {
		return t.storeFailed(err)
	}
	ref := rf.ref.String()
	var op store.Op
	if rf.api == apiECom {
		msn := cmp.Or(rf.msn, t.cfg.ECommMSN)
		rf.amount, rf.id = a, "ref-"+id // an X-Request-Id: at most 40 characters
		r, err := vipps.ECommActionRequest(msn, opRefund, ref, rf.id, a.Value)
		if err != nil {
			return err
		}
		op = newOp(opRefund, ref, a.Value, r)
		op.API, op.IdempotencyKey = apiECom, rf.id
	} else {
		rf.amount, rf.id = a, "refund-"+id
		r, err := vipps.RefundRequest(ref, a, rf.id)
		if err != nil {
			return err
		}
		op = newOp(opRefund, ref, a.Value, r)
	}
	op.MSN = rf.msn
	ids, err := t.journal.PutRefund(store.Refund{ID: rf.id, Reference: ref, Store: t.cfg.Store, Lane: t.cfg.Lane,
		Amount: a, State: store.RefundPending}, op)
	if err != nil {
		return t.storeFailed(err)
	}
	t.state = StateRefunding
	t.show(display.Screen{Kind: display.Working, Title: "Refunding…", Amount: a.String()})
	t.cfg.Logf("refund %s: %s of sale %s (store %s)", rf.id, a, ref, rf.ref.Prefix)
	t.out.add(t.withIDs(ids, ref)...)
	t.drain()
	return nil
}

// refundAnswered handles Vipps's answer to a refund, whether the cashier
// still waits for it or it was left to the outbox.
func (t *Till) refundAnswered(op store.Op, err error) {
	current := t.state == StateRefunding && t.rf != nil && t.rf.id == op.IdempotencyKey
	if err != nil && vipps.IsTemporary(err) {
		t.later(op, err)
		if current {
			t.show(display.Screen{Kind: display.Waiting, Title: "Refund waiting for network", Amount: t.rf.amount.String(),
				Message: "The refund is stored and goes through when Vipps MobilePay answers."})
		}
		return
	}
	if err != nil && op.API != apiECom && !t.out.inflight[op.ID] {
		// Refused for good, says Vipps; but an earlier attempt of the same
		// key may have gone through with its answer lost. The event log
		// knows: check it before recording a failure.
		t.out.inflight[op.ID] = true
		r := vipps.Request{Method: http.MethodGet, Path: "/epayment/v1/payments/" + op.Reference + "/events"}
		if op.MSN != "" {
			r.Header = http.Header{"Merchant-Serial-Number": {op.MSN}}
		}
		t.background(func() func() {
			ctx, cancel := context.WithTimeout(t.ctx, 10*time.Second)
			defer cancel()
			var events []vipps.Event
			gerr := t.pay.Do(ctx, r, &events)
			return func() {
				delete(t.out.inflight, op.ID)
				switch {
				case gerr != nil:
					t.later(op, gerr) // ask again later; the refund stays pending
				case slices.ContainsFunc(events, func(e vipps.Event) bool {
					return e.Name == "REFUNDED" && e.Success && e.IdempotencyKey == op.IdempotencyKey
				}):
					t.finishRefund(op, nil)
				default:
					t.finishRefund(op, err)
				}
			}
		})
		return
	}
	t.finishRefund(op, err)
}

// finishRefund records the refund's outcome with its op done, and tells
// the cashier if it is the refund on the till.
func (t *Till) finishRefund(op store.Op, err error) {
	if _, ok := t.out.ops[op.ID]; !ok {
		return
	}
	current := t.state == StateRefunding && t.rf != nil && t.rf.id == op.IdempotencyKey
	refunds, rerr := t.journal.RefundsFor(op.Reference)
	if rerr != nil {
		t.fail("refund: %v", rerr)
		return
	}
	i := slices.IndexFunc(refunds, func(r store.Refund) bool { return r.ID == op.IdempotencyKey })
	if i < 0 {
		t.fail("refund %s: no record of it", op.IdempotencyKey)
		return
	}
	r := refunds[i]
	r.State = store.RefundDone
	if err != nil {
		r.State, r.Error = store.RefundFailed, explain(err)
	}
	var ferr error
	if r.State == store.RefundDone {
		// The slip is queued in the same commit: a refund Vipps made
		// always gets its slip, whatever power cut comes next.
		var body []byte
		if body, ferr = json.Marshal(t.slip(r)); ferr == nil {
			_, ferr = t.journal.FinishRefundPrint(r, []uint64{op.ID}, store.PrintJob{Receipt: body})
		}
	} else {
		_, ferr = t.journal.FinishRefund(r, []uint64{op.ID})
	}
	if ferr != nil {
		t.storeFailed(ferr)
		return
	}
	t.out.remove(op.ID)
	t.cfg.Logf("refund %s: %s", r.ID, r.State)
	if r.State == store.RefundDone {
		t.prn.queued++
		t.kickPrinter()
	}
	if !current {
		return
	}
	t.result = r.Amount
	if err != nil {
		// Still in the refund: digits keyed now must not start a sale.
		t.state, t.rf, t.digits = StateRefundScan, nil, ""
		t.fail("refund %s: %s", r.ID, r.Error)
		t.show(display.Screen{Kind: display.Error, Title: "Refund refused", Amount: r.Amount.String(), Message: sayRefundRefused})
		return
	}
	t.state, t.rf = StateDone, nil
	t.show(display.Screen{Kind: display.Paid, Title: "Refunded", Amount: r.Amount.String(), Message: sayRefunded})
}

// slip is the refund slip for r, printed through the durable print queue.
func (t *Till) slip(r store.Refund) receipt.Receipt {
	return receipt.Receipt{
		StoreName: t.cfg.StoreName, StoreLines: t.cfg.StoreLines, Store: t.cfg.Store, Lane: t.cfg.Lane,
		Reference: r.Reference, Time: t.cfg.Now(), Currency: r.Amount.Currency,
		Lines: []receipt.Line{{Text: fmt.Sprintf("Refund, sale of store %s", r.OriginStore), Quantity: 1,
			Amount: r.Amount.Value, TaxRate: t.cfg.TaxRate}},
		Total: r.Amount.Value, PaymentMethod: "Vipps MobilePay", Refund: true,
	}
}

func (t *Till) refundInfo() *RefundInfo {
	if t.rf == nil {
		return nil
	}
	info := &RefundInfo{Reference: t.rf.ref.String(), OriginStore: t.rf.ref.Prefix, OriginLane: t.rf.ref.Lane}
	if t.rf.refundable.Value > 0 {
		info.Refundable, info.Amount = t.rf.refundable.String(), t.refundAmount().String()
	}
	return info
}
