package hq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"kasse/money"
	"kasse/payment/vipps"
	"kasse/store"
)

// Vipps is what kassehq needs of one store's Vipps client
// (*vipps.Client, holding that store's keys and MSN).
type Vipps interface {
	Do(ctx context.Context, r vipps.Request, out any) error
	Get(ctx context.Context, ref string) (vipps.Payment, error)
	Events(ctx context.Context, ref string) ([]vipps.Event, error)
	ECommDetails(ctx context.Context, msn, orderID string) (vipps.ECommDetails, error)
}

// Unit is one store's sales unit: its MSN and a client with its keys.
type Unit struct {
	MSN   string
	Vipps Vipps
}

// Service reads and refunds any store's sales with that store's keys,
// journaling every refund request before it acts.
type Service struct {
	units   map[string]Unit // by store prefix
	journal *Journal
	logf    func(string, ...any)
	locks   keyedLock
}

// NewService serves the stores in units (keyed by reference prefix).
func NewService(units map[string]Unit, j *Journal, logf func(string, ...any)) *Service {
	return &Service{units: units, journal: j, logf: logf, locks: keyedLock{held: map[string]chan struct{}{}}}
}

func problem(status int, format string, args ...any) *Problem {
	return &Problem{Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf(format, args...)}
}

// unitFor maps a reference to its origin store's sales unit.
func (s *Service) unitFor(ref string) (store.Reference, Unit, error) {
	r, err := store.ParseReference(ref)
	if err != nil {
		return r, Unit{}, problem(http.StatusBadRequest, "%v: scan the receipt's barcode again", err)
	}
	u, ok := s.units[r.Prefix]
	if !ok {
		return r, Unit{}, problem(http.StatusNotFound, "kassehq has no keys for store %s: head office adds its file to kassehq's secrets directory (stores/%s.toml) and restarts kassehq", r.Prefix, r.Prefix)
	}
	return r, u, nil
}

// LookUp reads a sale from Vipps with its origin store's keys: ePayment,
// or eCom when ePayment does not know the reference.
func (s *Service) LookUp(ctx context.Context, ref string) (Payment, error) {
	r, u, err := s.unitFor(ref)
	if err != nil {
		return Payment{}, err
	}
	return s.read(ctx, r, u)
}

func (s *Service) read(ctx context.Context, r store.Reference, u Unit) (Payment, error) {
	ref := r.String()
	out := Payment{Reference: ref, OriginStore: r.Prefix, API: APIEPayment}
	p, err := u.Vipps.Get(ctx, ref)
	if err == nil {
		err = p.Fits("GET "+ref, ref, money.Amount{})
	}
	if vipps.StatusOf(err) == http.StatusNotFound {
		var d vipps.ECommDetails
		d, err = u.Vipps.ECommDetails(ctx, "", ref)
		if err == nil {
			// eCom v2 takes NOK only, in øre.
			of := func(v int64) money.Amount { return money.Amount{Value: v, Currency: "NOK"} }
			p = vipps.Payment{Reference: ref, State: d.Status, Amount: of(d.Reserved),
				Aggregate: vipps.Aggregate{Captured: of(d.Captured), Refunded: of(d.Refunded)}}
			out.API = APIECom
			if d.Refunded > d.Captured || d.Captured > d.Reserved {
				err = vipps.Unusable("details "+ref, http.StatusOK, "refunded %d, captured %d, reserved %d do not add up", d.Refunded, d.Captured, d.Reserved)
			}
		}
	}
	if err != nil {
		return Payment{}, s.vippsProblem("reading "+ref, r.Prefix, err)
	}
	ag := p.Aggregate
	out.State, out.Amount, out.Captured, out.Refunded = p.State, p.Amount, ag.Captured, ag.Refunded
	out.Captured.Currency, out.Refunded.Currency = p.Amount.Currency, p.Amount.Currency
	out.Refundable = money.Amount{Value: max(0, ag.Captured.Value-ag.Refunded.Value), Currency: p.Amount.Currency}
	return out, nil
}

// vippsProblem turns a Vipps error into kassehq's answer: what the
// register (or head office) can do about it.
func (s *Service) vippsProblem(what, prefix string, err error) *Problem {
	s.logf("%s for store %s: %v", what, prefix, err)
	switch st := vipps.StatusOf(err); {
	case st == http.StatusNotFound:
		return problem(http.StatusNotFound, "Vipps MobilePay has no payment for %s under store %s's sales unit: check the receipt", what[len("reading "):], prefix)
	case vipps.IsTemporary(err):
		return problem(http.StatusServiceUnavailable, "Vipps MobilePay did not answer kassehq (%v): try again with the same key", err)
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return problem(http.StatusBadGateway, "Vipps MobilePay refused store %s's keys: head office checks stores/%s.toml in kassehq's secrets directory", prefix, prefix)
	}
	return problem(http.StatusBadGateway, "Vipps MobilePay refused %s: %v", what, err)
}

// VippsKey is the idempotency key kassehq sends to Vipps for a register's
// key: fixed by the register's, so a retry and a resumed request after a
// crash resend the same one; at most 40 characters (eCom's X-Request-Id).
func VippsKey(register, key string) string {
	h := sha256.Sum256([]byte(register + "\x00" + key))
	return "hq-" + hex.EncodeToString(h[:16])
}

func checkRequest(who Identity, req RefundRequest) error {
	bad := func(format string, args ...any) error { return problem(http.StatusBadRequest, format, args...) }
	switch {
	case req.IdempotencyKey == "" || len(req.IdempotencyKey) > 50 || !printable(req.IdempotencyKey):
		return bad("idempotencyKey must be 1–50 printable ASCII characters, the same on every retry")
	case req.Amount.Value <= 0 || req.Amount.Value > money.MaxValue:
		return bad("amount %d is not a positive amount in minor units (øre, cent)", req.Amount.Value)
	case !money.ValidCurrency(req.Amount.Currency):
		return bad("currency %q: use NOK, DKK or EUR", req.Amount.Currency)
	case len(req.Cashier) > 64 || !printable(req.Cashier):
		return bad("cashier must be at most 64 printable ASCII characters")
	case store.CheckLane(req.Lane) != nil:
		return bad("lane %q: use the register's lane, 1–4 letters or digits", req.Lane)
	case req.Store != who.Store:
		return problem(http.StatusForbidden, "register %s's certificate is for store %s, not %s: issue it a certificate for its store with kassehq register %s --store %s",
			who.Register, who.Store, req.Store, who.Register, req.Store)
	}
	return nil
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// sameRequest reports whether rec was journaled for req.
func sameRequest(rec Refund, req RefundRequest) bool {
	return rec.Reference == req.Reference && rec.Amount == req.Amount && rec.Store == req.Store &&
		rec.Lane == req.Lane && rec.Cashier == req.Cashier
}

// Refund makes the refund req asks for, once per (register, key): the
// request is journaled before anything is read or sent; a retry returns
// the recorded result, or resumes where the first attempt stopped. The
// answer is the journal's record (done or refused), or a *Problem.
func (s *Service) Refund(ctx context.Context, who Identity, req RefundRequest) (Refund, error) {
	if err := checkRequest(who, req); err != nil {
		return Refund{}, err
	}
	r, u, err := s.unitFor(req.Reference)
	if err != nil {
		return Refund{}, err
	}
	// One request at a time per sale: two refunds cannot both pass the
	// refundable check, and a retry waits for the attempt still running.
	unlock, err := s.locks.lock(ctx, req.Reference)
	if err != nil {
		return Refund{}, problem(http.StatusServiceUnavailable, "another request for %s is still running: try again with the same key", req.Reference)
	}
	defer unlock()

	rec, found, err := s.journal.Get(who.Register, req.IdempotencyKey)
	if err != nil {
		return Refund{}, s.journalProblem(err)
	}
	switch {
	case found && !sameRequest(rec, req):
		return Refund{}, problem(http.StatusConflict, "idempotency key %s was used for another refund (%s of %s): use a new key for a new refund",
			req.IdempotencyKey, rec.Amount, rec.Reference)
	case found && (rec.State == StateDone || rec.State == StateRefused):
		return rec, nil
	case !found:
		rec = Refund{Register: who.Register, IdempotencyKey: req.IdempotencyKey, Reference: req.Reference, OriginStore: r.Prefix,
			MSN: u.MSN, Store: req.Store, Lane: req.Lane, Cashier: req.Cashier, Amount: req.Amount, State: StateReceived}
		if rec, err = s.journal.Put(rec); err != nil { // intent before action
			return Refund{}, s.journalProblem(err)
		}
		s.logf("refund %s/%s: %s of %s (store %s) for store %s, cashier %q", who.Register, req.IdempotencyKey, req.Amount, req.Reference, r.Prefix, req.Store, req.Cashier)
	}
	if rec.State == StateReceived {
		if rec, err = s.prepare(ctx, r, u, rec); err != nil || rec.State == StateRefused {
			return rec, err
		}
	}
	return s.send(ctx, u, rec)
}

// prepare reads the sale, refuses more than is left, and journals the
// exact Vipps request (state sent) before it can leave.
func (s *Service) prepare(ctx context.Context, r store.Reference, u Unit, rec Refund) (Refund, error) {
	p, err := s.read(ctx, r, u)
	var pr *Problem
	if errors.As(err, &pr) && pr.Status == http.StatusNotFound {
		return s.refuse(rec, pr.Detail)
	}
	if err != nil {
		return rec, err // not decided: the record stays received
	}
	switch {
	case rec.Amount.Currency != p.Refundable.Currency:
		return s.refuse(rec, fmt.Sprintf("the sale was in %s, not %s", p.Refundable.Currency, rec.Amount.Currency))
	case rec.Amount.Value > p.Refundable.Value:
		return s.refuse(rec, fmt.Sprintf("refund of %s is more than is left on %s: at most %s (captured %s, refunded %s)",
			rec.Amount, rec.Reference, p.Refundable, p.Captured, p.Refunded))
	}
	key := VippsKey(rec.Register, rec.IdempotencyKey)
	var vr vipps.Request
	if p.API == APIECom {
		vr, err = vipps.ECommActionRequest(u.MSN, "refund", rec.Reference, key, rec.Amount.Value)
	} else {
		vr, err = vipps.RefundRequest(rec.Reference, rec.Amount, key)
	}
	if err != nil {
		return s.refuse(rec, err.Error())
	}
	rec.API, rec.Vipps, rec.State = p.API, &vr, StateSent
	if rec, err = s.journal.Put(rec); err != nil {
		return rec, s.journalProblem(err)
	}
	return rec, nil
}

// send sends (or resends) the journaled Vipps request and journals what
// came of it.
func (s *Service) send(ctx context.Context, u Unit, rec Refund) (Refund, error) {
	var p vipps.Payment
	var out any = &p
	if rec.API == APIECom {
		out = nil // the summary: /details is the truth if in doubt
	}
	err := u.Vipps.Do(ctx, *rec.Vipps, out)
	if err == nil && rec.API != APIECom {
		err = p.Fits("refund "+rec.Reference, rec.Reference, money.Amount{})
	}
	if err != nil && !vipps.IsTemporary(err) && s.madeEarlier(ctx, u, rec) {
		err = nil // refused now, but an earlier attempt went through
	}
	switch {
	case err == nil:
		rec.State, rec.LastError = StateDone, ""
	case vipps.IsTemporary(err):
		rec.Attempts++
		rec.LastError = err.Error()
		if _, jerr := s.journal.Put(rec); jerr != nil {
			return rec, s.journalProblem(jerr)
		}
		s.logf("refund %s/%s: no answer from Vipps (%v): kept, resent on the register's retry", rec.Register, rec.IdempotencyKey, err)
		return rec, problem(http.StatusServiceUnavailable, "Vipps MobilePay did not answer kassehq: the refund is kept; try again with the same key")
	default:
		return s.refuse(rec, err.Error())
	}
	rec, jerr := s.journal.Put(rec)
	if jerr != nil {
		return rec, s.journalProblem(jerr)
	}
	s.logf("refund %s/%s: done", rec.Register, rec.IdempotencyKey)
	return rec, nil
}

// madeEarlier asks Vipps whether a refund with this record's key already
// went through (its answer lost), before a refusal is recorded.
func (s *Service) madeEarlier(ctx context.Context, u Unit, rec Refund) bool {
	key := VippsKey(rec.Register, rec.IdempotencyKey)
	if rec.API == APIECom {
		d, err := u.Vipps.ECommDetails(ctx, "", rec.Reference)
		return err == nil && slices.ContainsFunc(d.Log, func(l vipps.ECommLogEntry) bool {
			return l.Operation == vipps.OpRefund && l.Success && l.RequestID == key
		})
	}
	events, err := u.Vipps.Events(ctx, rec.Reference)
	return err == nil && slices.ContainsFunc(events, func(e vipps.Event) bool {
		return e.Name == "REFUNDED" && e.Success && e.IdempotencyKey == key
	})
}

func (s *Service) refuse(rec Refund, why string) (Refund, error) {
	rec.State, rec.Error = StateRefused, why
	rec, err := s.journal.Put(rec)
	if err != nil {
		return rec, s.journalProblem(err)
	}
	s.logf("refund %s/%s: refused: %s", rec.Register, rec.IdempotencyKey, why)
	return rec, nil
}

func (s *Service) journalProblem(err error) *Problem {
	s.logf("%v", err)
	return problem(http.StatusInternalServerError, "kassehq could not write its journal: head office checks kassehq's log and disk; try again with the same key")
}

// keyedLock is a mutex per key that a waiter can give up on.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

func (k *keyedLock) lock(ctx context.Context, key string) (func(), error) {
	for {
		k.mu.Lock()
		ch, busy := k.held[key]
		if !busy {
			ch = make(chan struct{})
			k.held[key] = ch
			k.mu.Unlock()
			return func() {
				k.mu.Lock()
				delete(k.held, key)
				k.mu.Unlock()
				close(ch)
			}, nil
		}
		k.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
