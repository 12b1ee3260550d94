package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"kasse/store"
	"kasse/till"
)

// maintenance is the order of database changes, one every 20–40 s while
// SOAK1 is idle: so even a short run restores an older copy and loses the
// file once.
var maintenance = []string{"backup-db", "restore-db", "backup-db", "lose-db"}

// maintOps is the -db flag: the database changes the soak makes, in order.
var maintOps = flagList("db", strings.Join(maintenance, ","), "database changes while SOAK1 is stopped, in turn (backup-db, restore-db, lose-db; empty: none)")

// operate plays cashier and shopper at store A until ctx ends: it keys
// sales (most of them approved, so that a third or more end captured),
// answers the phone prompt of the push flow, rejects and cancels a few,
// refunds some of A's own sales and, now and then, stops A to change its
// database.
func (s *soak) operate(ctx context.Context, rng *rand.Rand) {
	a := s.a
	nextMaint, maint := time.Now().Add(time.Duration(20+rng.IntN(20))*time.Second), 0
	var phoneFor int64 // the amount keyed before the push flow's phone prompt
	var keyedAt time.Time
	approved := "" // the shopper approves a payment once
	for ctx.Err() == nil {
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		if !s.alive(a) {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := a.ctl.status(c)
		if err != nil {
			cancel()
			continue
		}
		switch st.State {
		case till.StateIdle, till.StateKeying:
			phoneFor = 0
			if len(*maintOps) > 0 && time.Now().After(nextMaint) && st.Outbox == 0 && st.PrintQueue == 0 {
				op := (*maintOps)[maint%len(*maintOps)]
				if op != "restore-db" || len(a.backups) > 0 {
					s.maintain(a, op, rng)
				}
				maint++
				nextMaint = time.Now().Add(time.Duration(20+rng.IntN(20)) * time.Second)
				break
			}
			if rng.IntN(100) < 15 {
				if ref := s.capturedSale(c, rng); ref != "" {
					s.count(s.rep.ops, "refund-own")
					s.refund(c, a, ref, rng)
				}
				break
			}
			amount := int64(100 + rng.IntN(99900))
			if amount == 201 {
				amount = 202 // 2,01 is the test amount whose result stays unknown for an hour
			}
			keys := append(strings.Split(fmt.Sprint(amount), ""), "pay")
			if st.State == till.StateKeying {
				keys = append([]string{"clear"}, keys...)
			}
			s.count(s.rep.ops, "sale")
			flow := a.flow
			keyedAt = time.Now()
			if st2, err := a.ctl.keys(c, keys...); err == nil {
				switch {
				case st2.State == till.StatePhone:
					phoneFor = amount
				case st2.Reference != "":
					s.keyedAs(st2.Reference, amount, flow, keyedAt)
				}
			}
		case till.StatePhone:
			keys := []string{"4"}
			for range 7 {
				keys = append(keys, fmt.Sprint(rng.IntN(10)))
			}
			if phoneFor == 0 {
				keys = []string{"cancel"} // the prompt of a sale keyed before a restart
			} else {
				keys = append(keys, "pay")
			}
			if st2, err := a.ctl.keys(c, keys...); err == nil && st2.Reference != "" && phoneFor > 0 {
				s.keyedAs(st2.Reference, phoneFor, a.flow, keyedAt)
			}
			phoneFor = 0
		case till.StateDone:
			a.ctl.keys(c, "clear")
		case till.StateWaiting:
			switch n := rng.IntN(100); {
			case st.Reference == approved:
			case n < 86:
				approved = st.Reference
				s.count(s.rep.ops, "approve")
				s.simDo("POST", "/vippssim/payments/"+st.Reference+"/approve", nil)
			case n < 89:
				s.count(s.rep.ops, "reject")
				s.simDo("POST", "/vippssim/payments/"+st.Reference+"/reject", nil)
			case n < 92:
				s.count(s.rep.ops, "cancel")
				a.ctl.keys(c, "cancel")
			}
		case till.StateCapturing, till.StateCancelling, till.StateRefunding:
			if !st.Online && rng.IntN(4) == 0 {
				s.count(s.rep.ops, "leave")
				a.ctl.keys(c, "clear")
			}
		case till.StateRefundScan, till.StateRefundAmount:
			a.ctl.keys(c, "cancel") // a refund interrupted by a restart
		}
		cancel()
	}
}

// capturedSale picks one of store A's captured sales from its journal.
func (s *soak) capturedSale(ctx context.Context, rng *rand.Rand) string {
	sales, err := s.a.ctl.journal(ctx)
	if err != nil {
		return ""
	}
	var refs []string
	for _, sale := range sales {
		if sale.State == store.StateCaptured {
			refs = append(refs, sale.Reference)
		}
	}
	if len(refs) == 0 {
		return ""
	}
	return refs[rng.IntN(len(refs))]
}

// refund makes a partial (or, without an amount, full) refund of ref at r.
func (s *soak) refund(ctx context.Context, r *reg, ref string, rng *rand.Rand) {
	if _, err := r.ctl.keys(ctx, "refund"); err != nil {
		return
	}
	if _, err := r.ctl.scan(ctx, ref); err != nil {
		r.ctl.keys(ctx, "cancel")
		return
	}
	for i := 0; i < 50; i++ {
		st, err := r.ctl.status(ctx)
		if err != nil || st.State == till.StateDone || st.State == till.StateRefundScan {
			r.ctl.keys(ctx, "cancel")
			return
		}
		if st.State == till.StateRefundAmount {
			keys := []string{"pay", "pay"} // all: pay, and pay again to confirm
			if rng.IntN(2) == 0 {
				keys = append(strings.Split(fmt.Sprint(1+rng.IntN(5000)), ""), "pay")
			}
			keys = append(append(keys, pinKeys()...), "pay") // the supervisor approves
			if _, err := r.ctl.keys(ctx, keys...); err != nil {
				r.ctl.keys(ctx, "cancel")
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// refunds plays store B: it refunds sales of store A now and then, with
// SOAK1's MSN from chain.msn (partner keys).
func (s *soak) refunds(ctx context.Context, b *reg, rng *rand.Rand) {
	for ctx.Err() == nil {
		time.Sleep(time.Duration(500+rng.IntN(1000)) * time.Millisecond)
		if !s.alive(b) {
			continue
		}
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		if st, err := b.ctl.status(c); err == nil {
			switch st.State {
			case till.StateDone, till.StateRefundScan, till.StateRefundAmount:
				b.ctl.keys(c, "cancel")
			case till.StateRefunding:
				if !st.Online && rng.IntN(4) == 0 {
					b.ctl.keys(c, "clear")
				}
			case till.StateIdle:
				if ref := s.capturedSale(c, rng); ref != "" {
					s.count(s.rep.ops, "refund-cross-store")
					s.refund(c, b, ref, rng)
				}
			}
		}
		cancel()
	}
}

// settle waits until the healed register has nothing left to do.
func (s *soak) settle(r *reg) error {
	deadline := time.Now().Add(3 * time.Minute)
	var last till.Status
	quiet := 0
	for time.Now().Before(deadline) {
		s.alive(r)
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := r.ctl.status(c)
		if err == nil {
			last = st
			switch st.State {
			case till.StateWaiting, till.StatePhone, till.StateDone, till.StateRefundScan, till.StateRefundAmount:
				r.ctl.keys(c, "cancel")
			case till.StateIdle:
				if st.Outbox == 0 && st.PrintQueue == 0 {
					quiet++
					if quiet >= 3 {
						cancel()
						return nil
					}
				} else {
					quiet = 0
				}
			}
		}
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not settle in 3 minutes: %+v", r.prefix, last)
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	*l = nil
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l = append(*l, x)
		}
	}
	return nil
}

func flagList(name, def, usage string) *[]string {
	l := &listFlag{}
	l.Set(def)
	flag.Var(l, name, usage)
	return (*[]string)(l)
}
