package till

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
	"kasse/store"
)

// fakeEngine records what the till asks of the payment engine and answers
// as told. Outcomes are fed to the till by the tests themselves.
type fakeEngine struct {
	calls      []string
	sellErr    error
	refundErr  error
	lookUpErr  error
	captureErr error
	status     payment.Status
	cashier    string
}

func (f *fakeEngine) Start(context.Context, func(payment.Outcome)) error { return nil }
func (f *fakeEngine) Events() <-chan func()                              { return nil }
func (f *fakeEngine) Tick()                                              {}
func (f *fakeEngine) Sell(a money.Amount, phone string) error {
	f.calls = append(f.calls, fmt.Sprintf("sell %d %s", a.Value, phone))
	return f.sellErr
}
func (f *fakeEngine) SellRemote(a money.Amount, phone string) error {
	f.calls = append(f.calls, fmt.Sprintf("remote %d %s", a.Value, phone))
	return f.sellErr
}
func (f *fakeEngine) Capture(ref string) error {
	f.calls = append(f.calls, "capture "+ref)
	return f.captureErr
}
func (f *fakeEngine) Cancel()  { f.calls = append(f.calls, "cancel") }
func (f *fakeEngine) Dismiss() { f.calls = append(f.calls, "dismiss") }
func (f *fakeEngine) LookUp(code string) error {
	f.calls = append(f.calls, "lookup "+code)
	return f.lookUpErr
}
func (f *fakeEngine) Refund(a money.Amount) error {
	f.calls = append(f.calls, fmt.Sprintf("refund %d", a.Value))
	return f.refundErr
}
func (f *fakeEngine) Reprint(ref string) error { f.calls = append(f.calls, "reprint "+ref); return nil }
func (f *fakeEngine) SetCashier(id string)     { f.cashier = id }
func (f *fakeEngine) Status() payment.Status   { return f.status }

// fakeScreen keeps what the till last showed.
type fakeScreen struct {
	last  display.Screen
	shown int
}

func (f *fakeScreen) Show(s display.Screen) error { f.last, f.shown = s, f.shown+1; return nil }

var allStates = []string{StateIdle, StateKeying, StatePhone, StateCreating, StateWaiting, StateCancelling,
	StateCapturing, StateDone, StateRefundScan, StateRefundRead, StateRefundAmount, StateRefundPIN, StateRefunding,
	StateStarting, StateLogin, StateLocked, StateUpdating, StateCaptureRef, StateReportPIN, StateReporting}

// fakePINs: cashiers 1 (PIN 1111) and 2 (2222), supervisor 9 (9999).
type fakePINs struct{ checks, approvals int }

var pins = map[string]string{"1": "1111", "2": "2222", "9": "9999"}

func (f *fakePINs) Login() bool       { return true }
func (f *fakePINs) Supervisors() bool { return true }
func (f *fakePINs) Check(id, pin string) bool {
	f.checks++
	p, ok := pins[id]
	return ok && p == pin
}
func (f *fakePINs) Supervisor(pin string) (string, bool) {
	f.checks++
	if pin != pins["9"] {
		return "", false
	}
	f.approvals++
	return "9", true
}

// fakeJournal keeps the till's events.
type fakeJournal struct{ events []Event }

func (f *fakeJournal) Record(ev Event) error { f.events = append(f.events, ev); return nil }

func (f *fakeJournal) kinds() []string {
	var k []string
	for _, ev := range f.events {
		k = append(k, ev.Kind)
	}
	return k
}

var lookup = payment.Lookup{Reference: "OSLO1-2-k7f3-17", OriginStore: "OSLO1", OriginLane: "2",
	Refundable: money.Amount{Value: 20000, Currency: "NOK"}}

// tillIn returns a till as it stands in state, with what that state holds
// keyed (an amount, a phone number, a looked-up sale).
func tillIn(state string, online bool) (*Till, *fakeEngine, *fakeScreen) {
	t, e, s, _ := tillAt(state, online, time.Now)
	return t, e, s
}

// tillAt is tillIn with the till's clock and its event record.
func tillAt(state string, online bool, now func() time.Time) (*Till, *fakeEngine, *fakeScreen, *fakeJournal) {
	e := &fakeEngine{status: payment.Status{Online: online}}
	s := &fakeScreen{}
	j := &fakeJournal{}
	t := New(Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken", Currency: "NOK", CountryCode: "47",
		PINs: &fakePINs{}, Journal: j, Now: now, Chain: []string{"BERGEN", "TROMSO"}, LockAfter: 5 * time.Minute}, e, s)
	t.state, t.cashier = state, "1"
	switch state {
	case StateKeying:
		t.digits = "12500"
	case StatePhone:
		t.digits, t.phone = "12500", "9123456"
	case StateRefundAmount:
		t.refund = refundKeys{sale: lookup}
	case StateRefundPIN:
		t.refund = refundKeys{sale: lookup, amount: money.Amount{Value: 5000, Currency: "NOK"}}
	case StateLogin:
		t.cashier = ""
	}
	return t, e, s, j
}

// Every key in every state: the till never panics, stays in a state it
// knows, and a refused key changes nothing. Money moves only where the
// cashier can mean it: a sale from the amount or the phone number, a
// refund from the refund amount, a cancel while a payment is open.
func TestEveryKeyInEveryState(t *testing.T) {
	known := append(slices.Clone(allStates), "")
	for _, online := range []bool{true, false} {
		for _, state := range allStates {
			for _, name := range device.Names() {
				k := device.Key(name)
				tl, e, s := tillIn(state, online)
				before := struct {
					state, digits, phone string
					shown                int
				}{tl.state, tl.digits, tl.phone, s.shown}
				err := tl.handleKey(k)
				where := fmt.Sprintf("online %v, %s, key %s", online, state, k)
				if !slices.Contains(known, tl.state) {
					t.Fatalf("%s: unknown state %q", where, tl.state)
				}
				shownRefusal := tl.state == StateDone && s.last.Kind == display.Error // e.g. pay with no amount
				if err != nil && len(e.calls) == 0 && !shownRefusal && (tl.state != before.state || tl.digits != before.digits || tl.phone != before.phone) {
					t.Errorf("%s: refused (%v) yet moved from %+v to %s %q %q", where, err, before, tl.state, tl.digits, tl.phone)
				}
				for _, c := range e.calls {
					switch {
					case strings.HasPrefix(c, "sell"):
						if !(k == device.KeyPay && (state == StateKeying || state == StatePhone)) {
							t.Errorf("%s: a sale was started (%s)", where, c)
						}
					case strings.HasPrefix(c, "remote"):
						if !(k == device.KeyPay && state == StatePhone) {
							t.Errorf("%s: a remote order was started (%s)", where, c)
						}
					case strings.HasPrefix(c, "capture"):
						if !(k == device.KeyPay && state == StateCaptureRef) {
							t.Errorf("%s: a capture was asked for (%s)", where, c)
						}
					case strings.HasPrefix(c, "refund"):
						if state != StateRefundPIN {
							t.Errorf("%s: a refund was asked for (%s)", where, c)
						}
					case c == "cancel":
						if k != device.KeyCancel || (state != StateCreating && state != StateWaiting) {
							t.Errorf("%s: a payment was cancelled", where)
						}
					}
				}
			}
		}
	}
}

// The transitions a cashier relies on, key by key.
func TestKeys(t *testing.T) {
	for _, c := range []struct {
		state  string
		online bool
		keys   []string
		want   string   // state after
		calls  []string // asked of the engine
		err    bool     // the last key is refused
	}{
		{StateIdle, true, []string{"1", "2", "5", "0", "0"}, StateKeying, nil, false},
		{StateIdle, true, []string{"0", "0"}, StateIdle, nil, false}, // leading zeros key nothing
		{StateKeying, true, []string{"back", "back", "back", "back", "back"}, StateIdle, nil, false},
		{StateKeying, true, []string{"pay"}, StateKeying, []string{"sell 12500 "}, false},
		{StateKeying, true, []string{"phone"}, StatePhone, nil, false},
		{StatePhone, true, []string{"pay"}, StatePhone, nil, true}, // 7 digits is no mobile number
		{StatePhone, true, []string{"8", "pay"}, StatePhone, []string{"sell 12500 4791234568"}, false},
		{StatePhone, true, []string{"cancel"}, StateKeying, nil, false},
		{StateIdle, true, []string{"pay"}, StateDone, nil, true}, // no amount
		{StateCreating, true, []string{"cancel"}, StateCreating, []string{"cancel"}, false},
		{StateWaiting, true, []string{"cancel"}, StateWaiting, []string{"cancel"}, false},
		{StateWaiting, true, []string{"5"}, StateWaiting, nil, true},
		{StateCapturing, true, []string{"cancel"}, StateCapturing, nil, true},
		{StateCapturing, true, []string{"clear"}, StateCapturing, nil, true}, // online: wait for it
		{StateCapturing, false, []string{"clear"}, StateIdle, []string{"dismiss"}, false},
		{StateCancelling, false, []string{"clear"}, StateIdle, []string{"dismiss"}, false},
		{StateDone, true, []string{"7"}, StateKeying, []string{"dismiss"}, false},
		{StateDone, true, []string{"clear"}, StateIdle, []string{"dismiss"}, false},
		{StateIdle, true, []string{"refund"}, StateRefundScan, []string{"dismiss"}, false},
		{StateRefundScan, true, []string{"5"}, StateRefundScan, nil, false}, // digits key a reference here, never a sale
		{StateRefundScan, true, []string{"pay"}, StateRefundScan, nil, true},
		{StateRefundScan, true, []string{"2", "-", "k", "7", "f", "3", "-", "1", "7", "pay"}, StateRefundScan, []string{"lookup OSLO1-2-k7f3-17"}, false},
		{StateRefundScan, true, []string{"store", "store", "7", "-", "a", "b", "c", "d", "-", "00", "back", "pay"}, StateRefundScan, []string{"lookup TROMSO-7-abcd-0"}, false},
		{StateRefundScan, true, []string{"store", "store", "store", "1", "pay"}, StateRefundScan, []string{"lookup OSLO1-1"}, false}, // the chooser wraps round
		{StateRefundScan, true, []string{"7", "clear", "clear"}, StateIdle, []string{"dismiss"}, false},                              // clear the typing, then leave
		{StateRefundScan, true, []string{"clear"}, StateIdle, []string{"dismiss"}, false},
		{StateRefundAmount, true, []string{"pay"}, StateRefundAmount, nil, false},                                                     // asks to confirm
		{StateRefundAmount, true, []string{"pay", "pay"}, StateRefundPIN, nil, false},                                                 // all, once a supervisor approves
		{StateRefundAmount, true, []string{"pay", "pay", "9", "9", "9", "9", "pay"}, StateRefundPIN, []string{"refund 20000"}, false}, // approved
		{StateRefundAmount, true, []string{"pay", "5", "pay", "9", "9", "9", "9", "pay"}, StateRefundPIN, []string{"refund 5"}, false},
		{StateRefundAmount, true, []string{"0", "pay"}, StateRefundAmount, nil, true},                     // a keyed 0 is zero: refused
		{StateRefundAmount, true, []string{"2", "0", "0", "0", "1", "pay"}, StateRefundAmount, nil, true}, // above what is left
		{StateRefundPIN, true, []string{"1", "1", "1", "1", "pay"}, StateRefundPIN, nil, true},            // a cashier's PIN is no supervisor's
		{StateRefundPIN, true, []string{"cancel"}, StateRefundAmount, nil, false},
		{StateRefundPIN, true, []string{"9", "9", "9", "back", "9", "9", "pay"}, StateRefundPIN, []string{"refund 5000"}, false},
		{StateRefundAmount, true, []string{"cancel"}, StateIdle, []string{"dismiss"}, false},
		{StateRefunding, true, []string{"clear"}, StateRefunding, nil, true},
		{StateRefunding, false, []string{"clear"}, StateIdle, []string{"dismiss"}, false},
		{StateStarting, true, []string{"1"}, StateStarting, nil, true},
	} {
		name := fmt.Sprintf("%s %v %v", c.state, c.online, c.keys)
		tl, e, _ := tillIn(c.state, c.online)
		var err error
		for _, k := range c.keys {
			key, perr := device.ParseKey(k)
			if perr != nil {
				t.Fatal(perr)
			}
			err = tl.handleKey(key)
		}
		if tl.state != c.want || !slices.Equal(e.calls, c.calls) || (err != nil) != c.err {
			t.Errorf("%s: state %s, calls %q, err %v; want %s, %q, error %v", name, tl.state, e.calls, err, c.want, c.calls, c.err)
		}
	}
}

// What the engine refuses reaches the cashier as a screen, and the amount
// stays keyed for another try.
func TestSellRefused(t *testing.T) {
	for _, c := range []struct {
		err   error
		title string
	}{
		{payment.ErrUnreachable, "Vipps is unreachable"},
		{fmt.Errorf("amount 0,50 kr is %w", payment.ErrBelowMinimum), "Check the amount"},
	} {
		tl, e, s := tillIn(StateKeying, true)
		e.sellErr = c.err
		if err := tl.handleKey(device.KeyPay); !errors.Is(err, c.err) {
			t.Fatalf("pay: %v, want %v", err, c.err)
		}
		if tl.state != StateDone || s.last.Title != c.title {
			t.Errorf("after %v: %s %q, want done %q", c.err, tl.state, s.last.Title, c.title)
		}
	}
}

// Every outcome in every state: the till ends where the outcome says and
// shows the shopper people's words, never an API error or a reference.
func TestEveryOutcomeInEveryState(t *testing.T) {
	sale := store.Sale{Reference: "OSLO1-2-k7f3-17", Amount: money.Amount{Value: 12500, Currency: "NOK"}}
	refund := store.Refund{ID: "refund-OSLO1-2-k7f3-18", Reference: sale.Reference, Amount: money.Amount{Value: 5000, Currency: "NOK"}}
	same := "" // the state does not change
	for _, c := range []struct {
		o      payment.Outcome
		state  string
		screen display.Kind
	}{
		{payment.Outcome{Kind: payment.Creating, Sale: sale}, StateCreating, display.Working},
		{payment.Outcome{Kind: payment.Restarting, Sale: sale}, same, display.Working},
		{payment.Outcome{Kind: payment.Preparing, Sale: sale}, StateWaiting, display.Working},
		{payment.Outcome{Kind: payment.ShowQR, Sale: sale, QR: "https://qr.vipps.no/28/2/01/031/4791234567"}, StateWaiting, display.QR},
		{payment.Outcome{Kind: payment.PushSent, Sale: sale}, StateWaiting, display.Working},
		{payment.Outcome{Kind: payment.NetworkDown, Sale: sale}, same, display.Waiting},
		{payment.Outcome{Kind: payment.Cancelling, Sale: sale}, StateCancelling, display.Working},
		{payment.Outcome{Kind: payment.Approved, Sale: sale}, StateCapturing, display.Working},
		{payment.Outcome{Kind: payment.CaptureWaiting, Sale: sale}, same, display.Waiting},
		{payment.Outcome{Kind: payment.Paid, Sale: sale}, StateDone, display.Paid},
		{payment.Outcome{Kind: payment.Cancelled, Sale: sale}, StateDone, display.Cancelled},
		{payment.Outcome{Kind: payment.Stopped, Sale: sale}, StateDone, display.Failed},
		{payment.Outcome{Kind: payment.Expired, Sale: sale}, StateDone, display.Expired},
		{payment.Outcome{Kind: payment.NotCompleted, Sale: sale}, StateDone, display.Error},
		{payment.Outcome{Kind: payment.Unreachable, Sale: sale}, StateDone, display.Error},
		{payment.Outcome{Kind: payment.RegisterFault}, StateDone, display.Error},
		{payment.Outcome{Kind: payment.RefundReading, Lookup: lookup}, StateRefundRead, display.Working},
		{payment.Outcome{Kind: payment.RefundReadable, Lookup: lookup}, StateRefundAmount, display.Amount},
		{payment.Outcome{Kind: payment.RefundNoSale}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.RefundNoReply}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.RefundNotOurs}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.RefundedInFull}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.NeverPaid}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.Refunding, Refund: refund}, StateRefunding, display.Working},
		{payment.Outcome{Kind: payment.RefundWaiting, Refund: refund}, same, display.Waiting},
		{payment.Outcome{Kind: payment.Refunded, Refund: refund}, StateDone, display.Paid},
		{payment.Outcome{Kind: payment.RefundRefused, Refund: refund}, StateRefundScan, display.Error},
		{payment.Outcome{Kind: payment.Problem, Detail: "vipps POST /epayment/v1/payments: 400 Bad Request (trace 42)"}, same, ""},
	} {
		for _, state := range allStates {
			tl, _, s := tillIn(state, true)
			tl.outcome(c.o)
			want := c.state
			if want == same {
				want = state
			}
			if tl.state != want {
				t.Errorf("%s in %s: state %s, want %s", c.o.Kind, state, tl.state, want)
			}
			if c.screen != "" && s.last.Kind != c.screen {
				t.Errorf("%s in %s: screen %s, want %s", c.o.Kind, state, s.last.Kind, c.screen)
			}
			if c.screen == "" && s.shown != 0 {
				t.Errorf("%s in %s: the shopper's screen changed to %+v", c.o.Kind, state, s.last)
			}
			words := s.last.Title + " " + s.last.Message
			for _, raw := range []string{"vipps ", "trace", "/epayment", "refund-OSLO1", "http"} {
				if strings.Contains(words, raw) {
					t.Errorf("%s in %s: the shopper reads %q", c.o.Kind, state, words)
				}
			}
			if c.o.Kind == payment.Problem && tl.lastErr != c.o.Detail {
				t.Errorf("a problem did not reach the status: lastErr %q", tl.lastErr)
			}
		}
	}
}

// The status shows the refund's amount on its result screen (issue 7, bug
// 9), and what is keyed before that.
func TestStatusAmounts(t *testing.T) {
	tl, _, _ := tillIn(StateRefunding, true)
	tl.outcome(payment.Outcome{Kind: payment.Refunded, Refund: store.Refund{Amount: money.Amount{Value: 15000, Currency: "NOK"}}})
	tl.running.Store(true)
	tl.publish()
	if st := tl.Status(); st.State != StateDone || st.Amount != "150,00 kr" {
		t.Fatalf("after a full refund: %+v, want done 150,00 kr", st)
	}
	tl.handleKey(device.Key5)
	tl.publish()
	if st := tl.Status(); st.State != StateKeying || st.Amount != "0,05 kr" {
		t.Fatalf("after 5: %+v, want keying 0,05 kr", st)
	}
}

// During a refund the status shows what it gives back: all that is left,
// or what was keyed.
func TestStatusShowsTheRefundAmount(t *testing.T) {
	tl, e, _ := tillIn(StateRefundAmount, true)
	e.status.Refund = &lookup
	tl.running.Store(true)
	tl.publish()
	if st := tl.Status(); st.Amount != "200,00 kr" || st.Refund == nil || st.Refund.Refundable != "200,00 kr" {
		t.Fatalf("refund with nothing keyed: %+v", st)
	}
	tl.handleKey(device.Key5)
	tl.publish()
	if st := tl.Status(); st.Amount != "0,05 kr" {
		t.Fatalf("after keying 5: %+v", st)
	}
}
