package main

import (
	"slices"
	"strings"
	"time"

	"kasse/payment/vipps/vippssim"
	"kasse/store"
)

// ledger is every sale and refund of every database the registers had,
// lost and restored ones included. One sale is one (reference, created)
// pair: a restored copy holds the same sales again, a reused reference a
// new sale under an old name.
type ledger struct {
	sales   map[string][]store.Sale   // by reference
	refunds map[string][]store.Refund // by refund id
	byRef   map[string][]store.Refund // by the sale's reference
}

func (s *soak) ledger() ledger {
	l := ledger{sales: map[string][]store.Sale{}, refunds: map[string][]store.Refund{}, byRef: map[string][]store.Refund{}}
	for _, r := range []*reg{s.a, s.b} {
		for _, g := range r.gens {
			for _, x := range g.sales {
				ss := l.sales[x.Reference]
				if i := slices.IndexFunc(ss, func(y store.Sale) bool { return y.Created.Equal(x.Created) }); i >= 0 {
					ss[i] = x // the later database knows more
				} else {
					l.sales[x.Reference] = append(ss, x)
				}
			}
			for _, x := range g.refunds {
				rs := l.refunds[x.ID]
				if i := slices.IndexFunc(rs, func(y store.Refund) bool { return y.Created.Equal(x.Created) }); i >= 0 {
					rs[i] = x
				} else {
					l.refunds[x.ID] = append(rs, x)
				}
			}
		}
	}
	for _, rs := range l.refunds {
		for _, x := range rs {
			l.byRef[x.Reference] = append(l.byRef[x.Reference], x)
		}
	}
	return l
}

// check compares what the registers recorded, showed and printed with what
// Vipps holds.
func (s *soak) check() {
	list, err := s.simPayments()
	if err != nil {
		s.bad("reading the simulator: %v", err)
		return
	}
	l := s.ledger()
	s.mu.Lock()
	obs := s.obs
	s.rep.badReplies = s.prx.forgedCounts()
	s.mu.Unlock()
	bad := s.bad

	// References: one sale per reference, one refund per refund id, and a
	// refund id never a sale's reference, across registers and databases.
	for ref, ss := range l.sales {
		s.rep.sales += len(ss)
		if len(ss) > 1 {
			var what []string
			for _, x := range ss {
				what = append(what, x.Created.Format("15:04:05.000")+" "+x.Amount.String()+" "+x.State)
			}
			bad("reference %s used for %d sales: %s", ref, len(ss), strings.Join(what, "; "))
		}
	}
	for id, rs := range l.refunds {
		if len(rs) > 1 {
			bad("refund id %s used for %d refunds (of %s and %s)", id, len(rs), rs[0].Reference, rs[1].Reference)
		}
		if _, base, ok := strings.Cut(id, "-"); ok && len(l.sales[base]) > 0 {
			bad("refund id %s reuses the reference of sale %s", id, base)
		}
	}

	truth := map[string]vippssim.PaymentInfo{}
	api := &truthAPI{base: s.simURL, secret: s.secret, subKey: s.subKey}
	for _, p := range list {
		truth[p.Reference] = p
		s.checkPayment(p, l, obs, api)
	}
	for ref, ss := range l.sales {
		x := ss[len(ss)-1]
		if _, ok := truth[ref]; !ok && x.State == store.StateCaptured {
			bad("%s is captured in the journal, Vipps has no such payment", ref)
		}
		switch x.State {
		case store.StateCreated, store.StateWaiting, store.StateAuthorized:
			bad("%s is not final in the journal after the registers settled: %s", ref, x.State)
		}
	}
	for ref, rs := range l.byRef {
		if _, ok := truth[ref]; ok {
			continue
		}
		for _, x := range rs {
			if x.State == store.RefundDone {
				bad("refund %s of %s is done in %s's journal, Vipps has no such payment", x.ID, ref, x.Store)
			}
		}
	}
	// Every "paid" screen: a payment of this sale, captured at Vipps.
	for ref, ps := range obs.paid {
		p, ok := truth[ref]
		switch {
		case !ok:
			bad("paid screen: %s showed paid (%d øre), Vipps has no such payment", ref, ps.value)
		case p.Aggregate.Captured.Value != ps.value:
			bad("paid screen: %s showed paid %d øre, Vipps captured %s (state %s)", ref, ps.value, p.Aggregate.Captured, p.State)
		}
		if k, kok := obs.keyed[ref]; ok && kok && p.CreatedAt.Before(k.at.Add(-500*time.Millisecond)) {
			bad("paid screen: %s showed paid for the sale keyed at %s, but Vipps created that payment at %s, before it was keyed",
				ref, k.at.Format("15:04:05.000"), p.CreatedAt.Local().Format("15:04:05.000"))
		}
	}
	for ref, must := range obs.decided {
		if _, ok := truth[ref]; must && !ok {
			bad("%s: the till decided to capture it, Vipps has no such payment", ref)
		}
	}
	s.checkReceipts(truth, l)
	s.checkJournal(truth)
}

// checkJournal: the electronic journals of every database the registers
// had, each transaction once (a restored copy holds the same entries, with
// the same signatures), hold every capture and refund Vipps holds, with
// its amount, and nothing Vipps does not: the X and Z reports and the
// SAF-T export are made from them alone.
func (s *soak) checkJournal(truth map[string]vippssim.PaymentInfo) {
	sold, returned := map[string]int64{}, map[string]int64{}
	seen := map[string]bool{}
	for _, r := range []*reg{s.a, s.b} {
		for _, g := range r.gens {
			for _, e := range g.journal {
				if seen[e.Signature] {
					continue
				}
				seen[e.Signature] = true
				switch e.Code {
				case store.TransCashSale:
					if sold[e.Reference] != 0 {
						s.bad("journal: %s journaled as sold twice", e.Reference)
					}
					sold[e.Reference] += e.Amount
				case store.TransReturn:
					returned[e.Reference] -= e.Amount
				}
			}
		}
	}
	for ref, p := range truth {
		if got, want := sold[ref], p.Aggregate.Captured.Value; got != want {
			s.bad("journal: %s journaled sold %d øre, Vipps captured %d", ref, got, want)
		}
		if got, want := returned[ref], p.Aggregate.Refunded.Value; got != want {
			s.bad("journal: %s journaled returned %d øre, Vipps refunded %d", ref, got, want)
		}
	}
	for ref, v := range sold {
		if _, ok := truth[ref]; !ok {
			s.bad("journal: %s journaled sold %d øre, Vipps has no such payment", ref, v)
		}
	}
	s.rep.journaled = len(seen)
}

// checkPayment compares one payment at Vipps with the ledger and with what
// the soak keyed and saw.
func (s *soak) checkPayment(p vippssim.PaymentInfo, l ledger, obs observations, api *truthAPI) {
	bad := s.bad
	ref, ag := p.Reference, p.Aggregate
	ss := l.sales[ref]
	if len(ss) == 0 {
		bad("%s exists at Vipps (%s %s, captured %s) but in no journal", ref, p.API, p.State, ag.Captured)
		return
	}
	sale := ss[len(ss)-1]
	if p.Amount.Value != sale.Amount.Value {
		bad("amount: %s is %s in the journal, %s at Vipps", ref, sale.Amount, p.Amount)
	}
	if k, ok := obs.keyed[ref]; ok && k.amount != p.Amount.Value {
		bad("amount: %s keyed %d øre (flow %s), Vipps holds a payment of %s", ref, k.amount, k.flow, p.Amount)
	}
	moves, err := api.moves(p, msnA)
	if err != nil {
		bad("reading %s's history at Vipps: %v", ref, err)
		return
	}
	var captures, refunded []move
	var capSum int64
	for _, m := range moves {
		if m.op == "capture" {
			captures = append(captures, m)
			capSum += m.amount
		} else {
			refunded = append(refunded, m)
		}
	}
	captured := ag.Captured.Value > 0
	switch {
	case len(captures) > 1:
		bad("%s captured %d times at Vipps (%d øre in all)", ref, len(captures), capSum)
	case capSum != ag.Captured.Value:
		bad("%s: captures in the event log add up to %d øre, the aggregate says %s", ref, capSum, ag.Captured)
	}
	switch {
	case captured && sale.State != store.StateCaptured:
		bad("%s captured %s at Vipps, the journal says %s", ref, ag.Captured, sale.State)
	case !captured && sale.State == store.StateCaptured:
		bad("%s is captured in the journal, not at Vipps (%s)", ref, p.State)
	case captured && ag.Captured.Value != sale.Amount.Value:
		bad("%s captured %s of a sale of %s", ref, ag.Captured, sale.Amount)
	}
	if captured {
		s.rep.captured++
		s.rep.capturedBy[strings.Trim(p.API+"-"+p.UserFlow, "-")]++
	}
	if obs.decided[ref] && !captured {
		bad("%s: the till decided to capture it (log), Vipps did not capture it (%s, cancelled %s)", ref, p.State, ag.Cancelled)
	}
	if left := ag.Authorized.Value - ag.Captured.Value - ag.Cancelled.Value; left > 0 {
		bad("%s is left authorized: %s authorized, %s captured, %s cancelled", ref, ag.Authorized, ag.Captured, ag.Cancelled)
	}
	if p.State == "CREATED" || p.State == "INITIATE" {
		bad("%s is still open (%s) after the registers settled", ref, p.State)
	}

	// Refunds: each made at Vipps under the id of a refund a register
	// logged, at most once, for its amount; none logged done without it.
	made := map[string]int{}
	var refSum int64
	for _, m := range refunded {
		refSum += m.amount
		made[m.key]++
		rs := l.refunds[m.key]
		switch {
		case len(rs) == 0:
			bad("%s: a refund of %d øre at Vipps (key %q) matches no refund a register logged", ref, m.amount, m.key)
		case rs[len(rs)-1].Amount.Value != m.amount:
			bad("%s: refund %s is %s in the journal, %d øre at Vipps", ref, m.key, rs[len(rs)-1].Amount, m.amount)
		}
	}
	for key, n := range made {
		if n > 1 {
			bad("%s: refund %s made %d times at Vipps", ref, key, n)
		}
	}
	var logged int64
	for _, x := range l.byRef[ref] {
		switch {
		case x.State == store.RefundDone && made[x.ID] == 0:
			bad("%s: refund %s (%s, %s) is done in the journal, Vipps never made it", ref, x.ID, x.Amount, x.Store)
		case x.State == store.RefundFailed && made[x.ID] > 0:
			bad("%s: refund %s is failed in the journal, Vipps made it", ref, x.ID)
		case x.State == store.RefundPending:
			bad("%s: refund %s still pending after the registers settled", ref, x.ID)
		}
		if x.State == store.RefundDone {
			logged += x.Amount.Value
			s.rep.refunds++
		}
		if x.OriginStore != "SOAK1" {
			bad("%s: refund %s has origin store %q", ref, x.ID, x.OriginStore)
		}
	}
	if refSum != ag.Refunded.Value || logged != ag.Refunded.Value {
		bad("%s: Vipps refunded %s (events %d øre), the registers logged %d øre done", ref, ag.Refunded, refSum, logged)
	}
	if ag.Refunded.Value > ag.Captured.Value {
		bad("%s refunded %s of %s captured", ref, ag.Refunded, ag.Captured)
	}
	s.rep.netHeld += ag.Captured.Value - ag.Refunded.Value
}
