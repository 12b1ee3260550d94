package till

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"kasse/clock"
	"kasse/device"
	"kasse/money"
	"kasse/payment"
	"kasse/store"
)

// modelEngine plays the payment engine as the simulator would answer:
// each sale or refund the till starts gets outcomes, one per "outcome"
// step of the fuzz input, until a final one. It checks the till's side of
// the contract: one payment at a time, a refund only after a read sale,
// within what is refundable, and only after a supervisor's PIN.
type modelEngine struct {
	t      *testing.T
	report func(payment.Outcome)
	pins   *fakePINs
	online bool

	sale    string // the running sale's phase: creating, waiting, capturing, cancelling; "" none
	saleN   int
	read    string // the refund: reading, readable, refunding; "" none
	left    money.Amount
	started int // payments and refunds started
	ended   int // … and brought to a final state
	refunds int
}

func (m *modelEngine) Start(_ context.Context, r func(payment.Outcome)) error {
	m.report = r
	return nil
}
func (m *modelEngine) Events() <-chan func() { return nil }
func (m *modelEngine) Tick()                 {}
func (m *modelEngine) SetCashier(string)     {}
func (m *modelEngine) Reprint(string) error  { return nil }

func (m *modelEngine) Status() payment.Status { return payment.Status{Online: m.online} }

func (m *modelEngine) sold() store.Sale {
	return store.Sale{Reference: fmt.Sprintf("OSLO1-2-k7f3-%d", m.saleN), Amount: money.Amount{Value: 100, Currency: "NOK"}}
}

func (m *modelEngine) Sell(a money.Amount, _ string) error {
	if m.sale != "" || m.read != "" {
		m.t.Fatalf("a sale started while another payment runs (sale %q, refund %q)", m.sale, m.read)
	}
	if err := a.Check(); err != nil {
		m.t.Fatalf("the till asked for a sale of %s: %v", a, err)
	}
	if !m.online {
		return payment.ErrUnreachable
	}
	m.sale, m.saleN, m.started = "creating", m.saleN+1, m.started+1
	m.report(payment.Outcome{Kind: payment.Creating, Sale: m.sold()})
	return nil
}

// A remote order runs as a push sale does, as far as the till sees.
func (m *modelEngine) SellRemote(a money.Amount, phone string) error { return m.Sell(a, phone) }
func (m *modelEngine) Capture(string) error                          { return nil }

func (m *modelEngine) Cancel() {
	if m.sale == "creating" || m.sale == "waiting" {
		m.sale = "cancelling"
		m.report(payment.Outcome{Kind: payment.Cancelling, Sale: m.sold()})
	}
}

// Dismiss: the outbox finishes what is left (as the real engine's does);
// but a payment the shopper could still approve must never be left.
func (m *modelEngine) Dismiss() {
	switch m.sale {
	case "creating", "waiting":
		m.t.Fatalf("the till let go of a payment the shopper can still approve (%s)", m.sale)
	case "capturing", "cancelling":
		m.sale, m.ended = "", m.ended+1
	}
	if m.read == "refunding" {
		m.ended++
	}
	m.read = ""
}

func (m *modelEngine) LookUp(string) error {
	if m.sale != "" || m.read == "refunding" {
		m.t.Fatalf("a look-up while a payment runs (sale %q, refund %q)", m.sale, m.read)
	}
	m.read = "reading"
	m.report(payment.Outcome{Kind: payment.RefundReading})
	return nil
}

func (m *modelEngine) Refund(a money.Amount) error {
	if m.read != "readable" {
		m.t.Fatalf("a refund with no sale read (%q)", m.read)
	}
	if a.Value <= 0 || a.Value > m.left.Value {
		m.t.Fatalf("a refund of %d with %d refundable", a.Value, m.left.Value)
	}
	if m.pins.approvals <= m.refunds {
		m.t.Fatalf("refund %d without a supervisor's PIN (%d approvals)", m.refunds+1, m.pins.approvals)
	}
	m.refunds++
	m.read, m.started = "refunding", m.started+1
	m.report(payment.Outcome{Kind: payment.Refunding, Refund: store.Refund{Amount: a}})
	return nil
}

// step moves the running payment on by one outcome, chosen by b.
func (m *modelEngine) step(b byte) {
	pick := func(ks ...payment.Kind) payment.Kind { return ks[int(b)%len(ks)] }
	sale := m.sold()
	switch m.sale {
	case "creating":
		k := pick(payment.ShowQR, payment.NetworkDown, payment.Unreachable, payment.NotCompleted, payment.Problem)
		if k == payment.ShowQR {
			m.sale = "waiting"
		}
		if k == payment.Unreachable || k == payment.NotCompleted {
			m.sale, m.ended = "", m.ended+1
		}
		m.report(payment.Outcome{Kind: k, Sale: sale, QR: "https://qr.vipps.no/28/2/01/031/4791234567", Detail: "trace 42"})
		return
	case "waiting":
		k := pick(payment.Approved, payment.Cancelled, payment.Expired, payment.Stopped, payment.NetworkDown)
		switch k {
		case payment.Approved:
			m.sale = "capturing"
		case payment.Cancelled, payment.Expired, payment.Stopped:
			m.sale, m.ended = "", m.ended+1
		}
		m.report(payment.Outcome{Kind: k, Sale: sale})
		return
	case "capturing":
		k := pick(payment.Paid, payment.CaptureWaiting)
		if k == payment.Paid {
			m.sale, m.ended = "", m.ended+1
		}
		m.report(payment.Outcome{Kind: k, Sale: sale})
		return
	case "cancelling":
		m.sale, m.ended = "", m.ended+1
		m.report(payment.Outcome{Kind: payment.Cancelled, Sale: sale})
		return
	}
	switch m.read {
	case "reading":
		k := pick(payment.RefundReadable, payment.RefundReadable, payment.RefundNoSale, payment.RefundNoReply, payment.RefundedInFull)
		if k == payment.RefundReadable {
			m.read, m.left = "readable", money.Amount{Value: 1 + int64(b)*97, Currency: "NOK"}
		} else {
			m.read = ""
		}
		m.report(payment.Outcome{Kind: k, Lookup: payment.Lookup{Reference: "OSLO1-2-k7f3-1", OriginStore: "OSLO1", OriginLane: "2", Refundable: m.left}})
	case "refunding":
		k := pick(payment.Refunded, payment.RefundRefused, payment.RefundWaiting)
		if k != payment.RefundWaiting {
			m.read, m.ended = "", m.ended+1
		}
		m.report(payment.Outcome{Kind: k, Refund: store.Refund{Amount: money.Amount{Value: 100, Currency: "NOK"}}})
	}
}

// running reports whether a payment or refund has not ended.
func (m *modelEngine) running() bool { return m.sale != "" || m.read == "refunding" }

// FuzzTill feeds random key sequences, scans, clock jumps and the
// engine's outcomes (as the simulator gives them) to the till. Property:
// no panic; the till stays in a state it knows; no second payment while
// one runs; no refund above what is refundable, or without a supervisor's
// PIN; and it is never stuck: cancel, clear and the outcomes that follow
// always bring it back to rest, with every started payment final.
func FuzzTill(f *testing.F) {
	names := device.Names()
	key := func(n string) byte { return byte(slices.Index(names, n)) }
	f.Add([]byte{0x40, key("1"), 0x40, key("pay"), 0x40, key("1"), 0x40, key("1"), 0x40, key("1"), 0x40, key("1"), 0x40, key("pay"),
		0x40, key("5"), 0x40, key("pay"), 0x80, 0, 0x80, 0, 0x80, 0, 0x80, 0})
	f.Add([]byte{0x40, key("refund"), 0xc0, 1, 0x80, 0, 0x40, key("pay"), 0x40, key("pay"), 0x40, key("9"), 0x40, key("9"),
		0x40, key("9"), 0x40, key("9"), 0x40, key("pay"), 0x80, 0})
	f.Add([]byte{0x40, key("refund"), 0x40, key("store"), 0x40, key("2"), 0x40, key("pay"), 0x80, 0, 0x40, key("pay"),
		0x40, key("pay"), 0x40, key("1"), 0x40, key("pay"), 0x40, key("2"), 0x40, key("pay"), 0x40, key("3"), 0x40, key("pay"), 0x00, 200})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, data []byte) {
	names := device.Names()
	{
		clk := clock.NewManual(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
		pins := &fakePINs{}
		m := &modelEngine{t: t, pins: pins, online: true}
		tl := New(Config{Store: "OSLO1", Lane: "2", StoreName: "Butikken", Currency: "NOK", CountryCode: "47",
			PINs: pins, Journal: &fakeJournal{}, Now: clk.Now, LockAfter: 5 * time.Minute, Chain: []string{"BERGEN"}}, m, &fakeScreen{})
		tl.running.Store(true)
		m.Start(context.Background(), tl.outcome)
		tl.toLogin("")
		known := append(slices.Clone(allStates), "")
		check := func(what string) {
			if !slices.Contains(known, tl.state) {
				t.Fatalf("after %s: unknown state %q", what, tl.state)
			}
			tl.publish()
		}
		for i := 0; i+1 < len(data); i += 2 {
			op, arg := data[i], data[i+1]
			switch op >> 6 {
			case 0: // the clock moves on, the till ticks
				clk.Advance(time.Duration(arg) * 5 * time.Second)
				tl.idleLock()
				tl.refreshNotice()
			case 1: // a key
				tl.handleKey(device.Key(names[int(arg)%len(names)]))
			case 2: // the engine moves on
				m.step(arg)
			case 3: // a scan, or the network changes
				switch arg % 4 {
				case 0:
					m.online = !m.online
				case 1:
					tl.scanned("OSLO1-2-k7f3-1")
				default:
					tl.scanned(string(data[i:]))
				}
			}
			check(fmt.Sprintf("step %d (%#x %#x)", i/2, op, arg))
		}
		// Never stuck: cancel and clear, and let the engine finish, until
		// the till rests; a payment left running counts as stuck.
		m.online = true
		for n := 0; ; n++ {
			rest := tl.state == StateIdle || tl.state == StateLogin || tl.state == StateLocked
			if rest && !m.running() {
				break
			}
			if n > 40 {
				t.Fatalf("stuck in %s (sale %q, refund %q)", tl.state, m.sale, m.read)
			}
			tl.handleKey(device.KeyCancel)
			m.step(byte(n))
			tl.handleKey(device.KeyCancel)
			tl.handleKey(device.KeyClear)
			check("draining")
		}
		if m.started != m.ended {
			t.Fatalf("%d payments and refunds started, %d ended", m.started, m.ended)
		}
	}
}
