package till

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kasse/clock"
	"kasse/device"
	"kasse/display"
	"kasse/money"
	"kasse/payment"
	"kasse/store"
)

func press(t *testing.T, tl *Till, keys ...string) error {
	t.Helper()
	var err error
	for _, k := range keys {
		key, perr := device.ParseKey(k)
		if perr != nil {
			t.Fatal(perr)
		}
		err = tl.handleKey(key)
	}
	return err
}

// The shift's workflows, key by key: login, lock (by key and by idle
// time), unlock, logout; the cashier reaches the engine (and so every
// sale and receipt), and every refused PIN is journaled without the PIN.
func TestShift(t *testing.T) {
	for _, c := range []struct {
		name    string
		state   string
		keys    []string
		idle    time.Duration // the clock moves on after the keys, then the till ticks
		want    string
		cashier string   // on the engine after
		events  []string // journaled
		err     bool
	}{
		{"login", StateLogin, []string{"1", "pay", "1", "1", "1", "1", "pay"}, 0, StateIdle, "1", []string{EventLogin}, false},
		{"login wrong PIN", StateLogin, []string{"1", "pay", "2", "2", "2", "2", "pay"}, 0, StateLogin, "", []string{EventLoginRefused}, true},
		{"login unknown cashier", StateLogin, []string{"7", "pay", "1", "1", "1", "1", "pay"}, 0, StateLogin, "", []string{EventLoginRefused}, true},
		{"login back and cancel", StateLogin, []string{"3", "back", "2", "pay", "9", "cancel", "2", "pay", "2", "2", "2", "2", "pay"}, 0, StateIdle, "2", []string{EventLogin}, false},
		{"login: pay with no number", StateLogin, []string{"pay"}, 0, StateLogin, "", nil, true},
		{"login: no sale before it", StateLogin, []string{"5", "0", "0", "phone"}, 0, StateLogin, "", nil, true},
		{"logout", StateIdle, []string{"logout"}, 0, StateLogin, "", []string{EventLogout}, false},
		{"logout while keying", StateKeying, []string{"logout"}, 0, StateLogin, "", []string{EventLogout}, false},
		{"lock key", StateIdle, []string{"lock"}, 0, StateLocked, "", []string{EventLock}, false},
		{"idle lock", StateKeying, nil, 5 * time.Minute, StateLocked, "", []string{EventLock}, false},
		{"no idle lock yet", StateKeying, nil, 4 * time.Minute, StateKeying, "", nil, false},
		{"no idle lock while a payment waits", StateWaiting, nil, time.Hour, StateWaiting, "", nil, false},
		{"unlock", StateLocked, []string{"1", "1", "1", "1", "pay"}, 0, StateIdle, "", []string{EventUnlock}, false},
		{"unlock with another's PIN", StateLocked, []string{"2", "2", "2", "2", "pay"}, 0, StateLocked, "", []string{EventUnlockRefused}, true},
		{"logout from the lock", StateLocked, []string{"logout"}, 0, StateLogin, "", []string{EventLogout}, false},
		{"locked: no refund", StateLocked, []string{"refund"}, 0, StateLocked, "", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := clock.NewManual(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
			tl, e, s, j := tillAt(c.state, true, clk.Now)
			tl.running.Store(true)
			tl.lastKey = clk.Now()
			err := press(t, tl, c.keys...)
			if c.idle > 0 {
				clk.Advance(c.idle)
				tl.idleLock()
			}
			if tl.state != c.want || (err != nil) != c.err || !slices.Equal(j.kinds(), c.events) {
				t.Fatalf("state %s, err %v, events %v; want %s, error %v, %v", tl.state, err, j.kinds(), c.want, c.err, c.events)
			}
			if c.cashier != "" && (e.cashier != c.cashier || tl.cashier != c.cashier) {
				t.Fatalf("cashier %q on the engine, %q on the till; want %q", e.cashier, tl.cashier, c.cashier)
			}
			if c.want == StateLogin && (e.cashier != "" || tl.cashier != "") {
				t.Fatalf("logged out, yet cashier %q", tl.cashier)
			}
			tl.publish()
			st := fmt.Sprintf("%+v %v %+v %v", tl.Status(), err, s.last, j.events)
			for _, pin := range []string{"1111", "2222", "9999"} {
				if strings.Contains(st, pin) {
					t.Fatalf("a PIN shows: %s", st)
				}
			}
		})
	}
}

// Supervisor PIN: three wrong ones lock refunds for a minute, each is
// journaled; a right one before that resets the count.
func TestSupervisorPINLocksRefunds(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	tl, e, s, j := tillAt(StateRefundPIN, true, clk.Now)
	for i := range 2 {
		if err := press(t, tl, "1", "2", "3", "4", "pay"); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d tries left", 2-i)) {
			t.Fatalf("try %d: %v", i+1, err)
		}
	}
	if err := press(t, tl, "5", "5", "5", "5", "pay"); err == nil || tl.state != StateDone || s.last.Title != "Refunds locked" {
		t.Fatalf("third wrong PIN: %v, %s %q", err, tl.state, s.last.Title)
	}
	if want := []string{EventRefundPINRefused, EventRefundPINRefused, EventRefundPINRefused, EventRefundsLocked}; !slices.Equal(j.kinds(), want) {
		t.Fatalf("events %v, want %v", j.kinds(), want)
	}
	if j.events[0].Cashier != "1" {
		t.Fatalf("refusal journaled for %q, want the cashier at the till", j.events[0].Cashier)
	}
	clk.Advance(59 * time.Second)
	if err := press(t, tl, "refund"); err == nil || !strings.Contains(err.Error(), "locked for 1 s") || tl.state == StateRefundScan {
		t.Fatalf("refund during the lock: %v, %s", err, tl.state)
	}
	if err := tl.scanned("OSLO1-2-k7f3-17"); err == nil || slices.Contains(e.calls, "lookup OSLO1-2-k7f3-17") {
		t.Fatalf("a scan during the lock: %v, %v", err, e.calls)
	}
	clk.Advance(time.Second)
	if err := press(t, tl, "refund"); err != nil || tl.state != StateRefundScan {
		t.Fatalf("after the minute: %v, %s", err, tl.state)
	}
	for _, c := range e.calls {
		if strings.HasPrefix(c, "refund") {
			t.Fatalf("refunded without a PIN: %v", e.calls)
		}
	}

	// Two wrong, one right: the count starts again.
	tl, e, _, j = tillAt(StateRefundPIN, true, clk.Now)
	press(t, tl, "1", "pay", "2", "pay")
	if err := press(t, tl, "9", "9", "9", "9", "pay"); err != nil || !slices.Contains(e.calls, "refund 5000") {
		t.Fatalf("right PIN: %v, %v", err, e.calls)
	}
	if last := j.events[len(j.events)-1]; last.Kind != EventRefundApproved || last.Cashier != "9" || !strings.Contains(last.Detail, "50,00") {
		t.Fatalf("approval journaled as %+v", last)
	}
	if tl.pinFails != 0 {
		t.Fatalf("fails %d after a right PIN", tl.pinFails)
	}
}

// With no supervisor configured, no refund starts, and the message says
// what to configure.
type noSupervisors struct{ fakePINs }

func (noSupervisors) Supervisors() bool { return false }

func TestNoSupervisorNoRefund(t *testing.T) {
	tl, e, s := tillIn(StateIdle, true)
	tl.cfg.PINs = &noSupervisors{}
	if err := press(t, tl, "refund"); err == nil || !strings.Contains(err.Error(), "supervisor = true") || s.last.Kind != display.Error {
		t.Fatalf("refund: %v, %+v", err, s.last)
	}
	if err := tl.scanned("OSLO1-2-k7f3-17"); err == nil || len(e.calls) != 0 {
		t.Fatalf("scan: %v, calls %v", err, e.calls)
	}
}

// A scan at rest starts the refund and reads the sale; elsewhere it is
// refused and nothing moves.
func TestScanStartsARefund(t *testing.T) {
	for _, c := range []struct {
		state string
		calls []string
		err   bool
	}{
		{StateIdle, []string{"dismiss", "lookup OSLO1-2-k7f3-17"}, false},
		{StateDone, []string{"dismiss", "lookup OSLO1-2-k7f3-17"}, false},
		{StateRefundScan, []string{"lookup OSLO1-2-k7f3-17"}, false},
		{StateKeying, nil, true},
		{StateWaiting, nil, true},
		{StateLogin, nil, true},
		{StateLocked, nil, true},
		{StateRefundPIN, nil, true},
	} {
		tl, e, _ := tillIn(c.state, true)
		err := tl.scanned("OSLO1-2-k7f3-17")
		if (err != nil) != c.err || !slices.Equal(e.calls, c.calls) {
			t.Errorf("scan in %s: %v, calls %v; want %v", c.state, err, e.calls, c.calls)
		}
	}
}

// The copy key reprints the last paid sale once.
func TestCopyLastReceipt(t *testing.T) {
	tl, e, _ := tillIn(StateIdle, true)
	if err := press(t, tl, "copy"); err == nil {
		t.Fatal("a copy with no sale yet")
	}
	tl.outcome(payment.Outcome{Kind: payment.Paid, Sale: store.Sale{Reference: "OSLO1-2-k7f3-17", Amount: money.Amount{Value: 100, Currency: "NOK"}}})
	if err := press(t, tl, "copy"); err != nil || tl.state != StateDone || !slices.Equal(e.calls, []string{"reprint OSLO1-2-k7f3-17"}) {
		t.Fatalf("copy: %v, %s, %v", err, tl.state, e.calls)
	}
	if err := press(t, tl, "copy"); err == nil || !strings.Contains(err.Error(), "one copy per sale") || len(e.calls) != 1 {
		t.Fatalf("second copy: %v, %v", err, e.calls)
	}
}

// The idle screen tells the cashier when Vipps is unreachable or the
// printer needs attention, and updates when that changes.
func TestIdleNotice(t *testing.T) {
	tl, e, s := tillIn(StateIdle, false)
	tl.running.Store(true)
	tl.idle()
	if s.last.Message != sayUnreachable {
		t.Fatalf("offline: %q", s.last.Message)
	}
	e.status = payment.Status{Online: true, Printer: "printer: out of paper"}
	tl.refreshNotice()
	if s.last.Message != sayPrinter {
		t.Fatalf("printer: %q", s.last.Message)
	}
	e.status = payment.Status{Online: true}
	tl.refreshNotice()
	if s.last.Message != "" {
		t.Fatalf("all well: %q", s.last.Message)
	}
	// A cancel is never held up by a notice.
	tl, e, _ = tillIn(StateWaiting, false)
	if err := press(t, tl, "cancel"); err != nil || !slices.Equal(e.calls, []string{"cancel"}) {
		t.Fatalf("cancel offline: %v %v", err, e.calls)
	}
}

// chanSource is a key source: it sends what it is given.
type chanSource struct{ evs []device.Event }

func (c chanSource) Name() string { return "test" }
func (c chanSource) Run(ctx context.Context, out chan<- device.Event) error {
	for _, ev := range c.evs {
		select {
		case out <- ev:
		case <-ctx.Done():
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// Keys and scans from a source reach the running till; a refused one
// shows in the status.
func TestSourcesFeedTheTill(t *testing.T) {
	e := &fakeEngine{status: payment.Status{Online: true}}
	s := &fakeScreen{}
	tl := New(Config{Store: "OSLO1", Lane: "2", Currency: "NOK", PINs: &fakePINs{}}, e, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go tl.Run(ctx)
	var evs []device.Event
	for _, k := range []device.Key{"1", "pay", "1", "1", "1", "1", "pay", "5", "0", "0", "phone", "x"} {
		evs = append(evs, device.Event{Key: k, Source: "test"})
	}
	go tl.Listen(ctx, chanSource{evs})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if st := tl.Status(); st.State == StatePhone && st.Cashier == "1" && strings.Contains(st.LastError, "x") {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("status %+v", tl.Status())
}
