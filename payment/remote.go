package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kasse/money"
	"kasse/store"
)

// Remote orders (distance selling): the shop takes an order by phone and
// charges a customer who is not in the shop. The payment is a push to the
// customer's app with customerInteraction CUSTOMER_NOT_PRESENT; the money
// is captured at once ("now", goods handed over digitally) or reserved
// until the order is dispatched ("dispatch").

// The capture rules of RemoteRule.Capture.
const (
	CaptureNow      = "now"
	CaptureDispatch = "dispatch"
)

// DefaultHold is how long a remote order's reservation waits for dispatch
// when the config says nothing: well inside the shortest capture deadline
// (14 days in Denmark and Finland) and the few days some card issuers keep
// a reservation.
const DefaultHold = 72 * time.Hour

// RemoteRule is the shop's rule for remote orders.
type RemoteRule struct {
	// Capture is CaptureNow or CaptureDispatch (the default: capture only
	// what was sent, as the provider's capture rules ask).
	Capture string
	// Hold is how long a reservation waits for dispatch before it is
	// cancelled. Vipps MobilePay cancels an uncaptured payment itself after
	// 180 days in Norway and 14 days in Denmark and Finland, and card
	// payments may lapse sooner ("Payment capture deadlines",
	// https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/operations/capture/):
	// cancelling first keeps the journal's word the truth.
	Hold time.Duration
}

func (r RemoteRule) withDefaults() RemoteRule {
	if r.Capture == "" {
		r.Capture = CaptureDispatch
	}
	if r.Hold <= 0 {
		r.Hold = DefaultHold
	}
	return r
}

// Why Capture refuses.
var (
	ErrNotReserved = errors.New("nothing is reserved to capture")
	ErrNotRemote   = errors.New("not a remote order: sales in the shop are captured at the till")
)

// SellRemote starts a remote order of a: a push to the customer's phone
// (country code and number) with CUSTOMER_NOT_PRESENT and a description
// naming the shop and the order. The number follows Sell's rule: never
// stored unless vipps.keep_phone_numbers.
func (e *Engine) SellRemote(a money.Amount, phone string) error {
	if phone == "" {
		err := errors.New("a remote order needs the customer's phone number: key it after the amount")
		e.fail("%v", err)
		return err
	}
	return e.sell(a, phone, true)
}

// remoteDescription names the shop and the order in the customer's app,
// within ePayment's 100 characters.
func (e *Engine) remoteDescription(ref string) string {
	d := fmt.Sprintf("%s: order %s", e.cfg.StoreName, ref)
	if e.cfg.StoreName == "" {
		d = "Order " + ref
	}
	if r := []rune(d); len(r) > 100 {
		d = string(r[:100])
	}
	return d
}

// waitsForDispatch reports whether an approval of s is kept reserved
// rather than captured: a remote order under the dispatch rule that is not
// yet reserved (a reserved one is captured when Capture says so).
func (e *Engine) waitsForDispatch(s *store.Sale) bool {
	return s.Remote && e.cfg.Remote.Capture == CaptureDispatch && s.State != store.StateAuthorized
}

// reserve records a remote order's approval: the sale stays authorized,
// with nothing in the outbox, until Capture or its hold runs out.
func (e *Engine) reserve(s *store.Sale) {
	s.State, s.Authorized, s.Error = store.StateAuthorized, e.cfg.Now(), ""
	done := e.out.idsFor(s.Reference)
	if _, err := e.journal.Finish(*s, done); err != nil {
		e.storeFailed(err)
		return
	}
	e.out.remove(done...)
	e.holds.add(s.Reference, s.Authorized)
	e.cfg.Logf("sale %s: remote order reserved; capture it at dispatch (kassectl capture %s) within %s", s.Reference, s.Reference, e.cfg.Remote.Hold)
	if e.isCurrent(s.Reference) && e.phase != PhaseDone {
		e.phase = PhaseDone
		e.tell(Reserved)
	}
}

// Capture captures a reserved remote order: the order was dispatched. The
// capture intent is committed before it leaves, and the outbox sends it
// (now, or when Vipps answers again); the receipt prints when it is
// confirmed. Call it on the loop.
func (e *Engine) Capture(ref string) error {
	s := e.cur
	if !e.isCurrent(ref) {
		got, err := e.journal.Sale(ref)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("order %s: %w: check the reference (kassectl journal --open lists the reserved orders)", ref, store.ErrNotFound)
		} else if err != nil {
			return fmt.Errorf("order %s: %w", ref, err)
		}
		s = &got
	}
	switch {
	case !s.Remote:
		return fmt.Errorf("order %s: %w", ref, ErrNotRemote)
	case s.State == store.StateCaptured:
		return fmt.Errorf("order %s is already captured: %w", ref, ErrNotReserved)
	case s.State != store.StateAuthorized:
		return fmt.Errorf("order %s is %s: %w", ref, s.State, ErrNotReserved)
	case len(e.out.idsFor(ref)) > 0:
		return nil // its capture (or cancel) is on its way already
	}
	e.holds.remove(ref)
	e.cfg.Logf("capture %s decided: the remote order was dispatched", ref)
	e.transition(s, opCapture)
	return nil
}

// holds are the remote orders reserved until dispatch, by reference, with
// the time of their approval; few enough to keep in memory.
type holds map[string]time.Time

func (h *holds) add(ref string, at time.Time) {
	if *h == nil {
		*h = holds{}
	}
	(*h)[ref] = at
}

func (h holds) remove(ref string) { delete(h, ref) }

// loadHolds finds the reservations a former run left, off the loop: it
// reads the sales of the longest capture deadline (older ones Vipps has
// cancelled itself), which can take seconds on a large journal.
func (e *Engine) loadHolds() {
	since := e.cfg.Now().Add(-180 * 24 * time.Hour)
	e.background(func() func() {
		found := map[string]time.Time{}
		err := e.journal.Journal(store.Filter{Since: since}, func(s store.Sale) error {
			if s.Remote && s.State == store.StateAuthorized {
				found[s.Reference] = cmpOr(s.Authorized, s.Created)
			}
			return e.ctx.Err()
		})
		return func() {
			if err != nil && !errors.Is(err, context.Canceled) {
				e.fail("reading the reserved remote orders: %v", err)
			}
			for ref, at := range found {
				if _, mine := e.holds[ref]; !mine {
					e.holds.add(ref, at)
				}
			}
			if len(found) > 0 {
				e.cfg.Logf("%d remote orders reserved, waiting for dispatch", len(found))
			}
		}
	})
}

func cmpOr(t, or time.Time) time.Time {
	if t.IsZero() {
		return or
	}
	return t
}

// expireHolds cancels, through the outbox, the reservations whose hold has
// run out: the money goes back to the customer before Vipps or the card
// issuer lets it lapse.
func (e *Engine) expireHolds() {
	now := e.cfg.Now()
	for ref, at := range e.holds {
		if now.Sub(at) < e.cfg.Remote.Hold || len(e.out.idsFor(ref)) > 0 {
			continue
		}
		e.holds.remove(ref)
		s, ok := e.saleFor(ref)
		if !ok || s.State != store.StateAuthorized {
			continue
		}
		e.cfg.Logf("sale %s: remote order not dispatched within %s: cancelling its reservation", ref, e.cfg.Remote.Hold)
		s.Error = fmt.Sprintf("not dispatched within %s: reservation cancelled", e.cfg.Remote.Hold)
		e.transition(s, opCancel)
	}
}
