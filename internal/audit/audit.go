// Package audit writes Haven's append-only audit log and verifies it.
//
// Every event is written in the same transaction as the action it records,
// so an action whose event cannot be written fails. Events form a chain:
// each holds the hash of the previous one, and its own hash is an HMAC,
// keyed by a secret that the database holds only wrapped by the master
// key, over all its fields and that previous hash. Someone who can write to
// the database but does not hold the master key can therefore neither
// change, delete, insert nor reorder events without Verify naming the first
// bad one. A head row, updated with each append, shows a truncated tail.
//
// Identifying values (an e-mail typed at the sign-in page, a phone
// number…) never go into an event in clear: Pseudonym turns them into a
// keyed hash that still lets an auditor find every event about the same
// value.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// Log appends to and verifies the audit chains.
//
// The log is several independent chains (each with its own head row), so
// that concurrent transactions on PostgreSQL do not all queue on one row:
// a transaction appends to one chain, chosen from the actor and the
// request, so one request's events stay in order in one chain.
type Log struct {
	chainKey  []byte
	pseudoKey []byte
	clock     haven.Clock
	chains    int
	// failures counts appends that failed (the action failed with them).
	failures atomic.Int64
}

// WriteFailures returns how many audit events could not be written since
// the process started; each failed the action it recorded. Operations
// alert on any increase (haven_audit_write_failures_total).
func (l *Log) WriteFailures() int64 { return l.failures.Load() }

// New returns a Log keyed by the chain and pseudonym keys, appending to
// the given number of chains (at least 1; the database must have a head
// row for each).
func New(chainKey, pseudoKey []byte, clock haven.Clock, chains int) *Log {
	if chains < 1 {
		chains = 1
	}
	return &Log{chainKey: chainKey, pseudoKey: pseudoKey, clock: clock, chains: chains}
}

// chainFor picks the chain of a new event.
func (l *Log) chainFor(ev *haven.AuditEvent) int {
	if l.chains == 1 {
		return 1
	}
	h := fnv.New32a()
	h.Write([]byte(ev.ActorID))
	h.Write([]byte{0})
	h.Write([]byte(ev.RequestID))
	return 1 + int(h.Sum32()%uint32(l.chains))
}

// Pseudonym returns the keyed hash that stands for an identifying value in
// audit details: the same value always gives the same pseudonym, and the
// value cannot be recovered from it without the key.
func (l *Log) Pseudonym(value string) string {
	m := hmac.New(sha256.New, l.pseudoKey)
	m.Write([]byte(strings.TrimSpace(value)))
	return "hmac:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// Entry describes an event to record; the log fills in the rest.
type Entry struct {
	Type       string
	ObjectType string
	ObjectID   string
	Outcome    haven.Outcome // default success
	Purpose    string
	Details    map[string]string
}

// Record appends an event for actor inside tx. If it fails, the caller must
// fail the action (returning the error rolls the transaction back).
func (l *Log) Record(ctx context.Context, tx *store.Tx, actor haven.Actor, e Entry) error {
	if e.Outcome == "" {
		e.Outcome = haven.OutcomeSuccess
	}
	actorID := actor.UserID
	if actor.System {
		actorID = "system"
	}
	ev := &haven.AuditEvent{
		Type:       e.Type,
		ActorID:    actorID,
		ActorRole:  actor.Role,
		AgencyID:   actor.AgencyID,
		SourceAddr: actor.Addr,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		Outcome:    e.Outcome,
		Purpose:    e.Purpose,
		RequestID:  actor.RequestID,
		Details:    e.Details,
	}
	if actor.System {
		ev.ActorRole = ""
	}
	return l.Append(ctx, tx, ev)
}

// Append chains ev after the current head and writes it inside tx. It
// sets ID and At when empty, and always sets Seq, PrevHash and Hash.
func (l *Log) Append(ctx context.Context, tx *store.Tx, ev *haven.AuditEvent) (err error) {
	defer func() {
		if err != nil {
			l.failures.Add(1)
		}
	}()
	if ev.Type == "" || ev.Outcome == "" {
		return fmt.Errorf("append audit event: type and outcome are required")
	}
	chain := tx.AuditChain()
	if chain == 0 {
		chain = l.chainFor(ev)
		tx.SetAuditChain(chain)
	}
	seq, head, err := tx.LockAuditHead(ctx, chain)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	if ev.ID == "" {
		ev.ID = haven.NewID()
	}
	if ev.At.IsZero() {
		ev.At = l.clock.Now()
	}
	ev.At = ev.At.UTC().Truncate(time.Millisecond)
	if len(ev.Details) == 0 {
		ev.Details = nil
	}
	ev.Chain, ev.Seq, ev.PrevHash = chain, seq+1, head
	ev.Hash = l.hash(ev)
	if err := tx.AppendAuditEvent(ctx, ev); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// hash computes the chained HMAC of an event over every stored field.
func (l *Log) hash(ev *haven.AuditEvent) string {
	details := ev.Details
	if details == nil {
		details = map[string]string{}
	}
	// A JSON array gives an unambiguous encoding; map keys are sorted by
	// encoding/json, so the same event always gives the same bytes.
	fields := []any{
		"haven-audit-v1", ev.Seq, ev.ID, ev.At.UTC().Format("2006-01-02T15:04:05.000Z"), ev.Type,
		ev.ActorID, string(ev.ActorRole), ev.AgencyID, ev.SourceAddr, ev.ObjectType, ev.ObjectID,
		string(ev.Outcome), ev.Purpose, ev.RequestID, details, ev.PrevHash,
	}
	// Chain 1 is the chain of the single-chain log, whose events were
	// hashed without a chain number; the others include theirs.
	if ev.Chain != 1 {
		fields = append(fields, ev.Chain)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		panic(err) // strings and numbers always marshal
	}
	m := hmac.New(sha256.New, l.chainKey)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// Problem describes the first fault Verify found.
type Problem struct {
	Chain  int    // the chain of the event
	Seq    int64  // sequence number in its chain of the first bad event (or where it should be)
	ID     string // its ID, when the event exists
	Reason string
}

func (p *Problem) String() string {
	if p.ID != "" {
		return fmt.Sprintf("event %d (chain %d, %s): %s", p.Seq, p.Chain, p.ID, p.Reason)
	}
	return fmt.Sprintf("event %d (chain %d): %s", p.Seq, p.Chain, p.Reason)
}

// Result is the outcome of Verify.
type Result struct {
	Events  int64    // events checked
	Chains  int      // chains checked
	Problem *Problem // nil when every chain is intact
}

// Verify walks every chain in order and returns the first problem, if
// any. An error is returned only when the database cannot be read.
func (l *Log) Verify(ctx context.Context, s *store.Store) (Result, error) {
	var res Result
	var chains, stray []int
	err := s.View(ctx, func(tx *store.Tx) (err error) {
		if chains, err = tx.AuditChains(ctx); err != nil {
			return err
		}
		stray, err = tx.StrayAuditChains(ctx)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("verify audit chain: %w", err)
	}
	if len(stray) > 0 {
		res.Problem = &Problem{Chain: stray[0], Seq: 1, Reason: "events belong to a chain that has no head: they were inserted outside Haven, or the chain's head was deleted"}
		return res, nil
	}
	if len(chains) == 0 {
		res.Problem = &Problem{Chain: 1, Seq: 1, Reason: "the chain head records are missing"}
		return res, nil
	}
	for _, c := range chains {
		res.Chains++
		if err := l.verifyChain(ctx, s, c, &res); err != nil {
			return res, err
		}
		if res.Problem != nil {
			return res, nil
		}
	}
	return res, nil
}

func (l *Log) verifyChain(ctx context.Context, s *store.Store, chain int, res *Result) error {
	var prevSeq int64
	prevHash := ""
	const batch = 1000
	for res.Problem == nil {
		n := 0
		err := s.View(ctx, func(tx *store.Tx) error {
			return tx.AuditEvents(ctx, chain, prevSeq, batch, func(ev *haven.AuditEvent) error {
				n++
				if res.Problem != nil {
					return nil
				}
				res.Events++
				switch {
				case ev.Seq != prevSeq+1:
					res.Problem = &Problem{Chain: chain, Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: the next event is %d, so events were deleted", ev.Seq)}
				case ev.PrevHash != prevHash:
					res.Problem = &Problem{Chain: chain, Seq: ev.Seq, ID: ev.ID, Reason: "does not follow the event before it: events were inserted, deleted or reordered"}
				case !hmac.Equal([]byte(l.hash(ev)), []byte(ev.Hash)):
					res.Problem = &Problem{Chain: chain, Seq: ev.Seq, ID: ev.ID, Reason: "its content does not match its hash: the event was modified or forged"}
				}
				prevSeq, prevHash = ev.Seq, ev.Hash
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("verify audit chain %d: %w", chain, err)
		}
		if n < batch {
			break
		}
	}
	if res.Problem != nil {
		return nil
	}
	var headSeq int64
	var headHash string
	err := s.View(ctx, func(tx *store.Tx) (err error) {
		headSeq, headHash, err = tx.AuditHead(ctx, chain)
		return err
	})
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) {
			res.Problem = &Problem{Chain: chain, Seq: prevSeq + 1, Reason: "the chain head record is missing"}
			return nil
		}
		return fmt.Errorf("verify audit chain %d: %w", chain, err)
	}
	if headSeq != prevSeq || headHash != prevHash {
		if headSeq > prevSeq {
			res.Problem = &Problem{Chain: chain, Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: the chain ends at %d but %d events were written, so events at the end were deleted", prevSeq, headSeq)}
		} else {
			res.Problem = &Problem{Chain: chain, Seq: headSeq, Reason: "the chain head does not match the last event: events were appended outside Haven or the head was altered"}
		}
	}
	return nil
}

// Denied records a refused action of actor in a transaction of its own
// (the action's was never begun, or was rolled back) and returns err, the
// refusal, so that services can write `return nil, s.audit.Denied(…)`.
// When the event cannot be written, that failure is returned instead,
// wrapping it.
func (l *Log) Denied(ctx context.Context, s *store.Store, actor haven.Actor, typ, objType, objID string, err error) error {
	werr := s.InTx(ctx, func(tx *store.Tx) error {
		return l.Record(ctx, tx, actor, Entry{Type: typ, ObjectType: objType, ObjectID: objID,
			Outcome: haven.OutcomeDenied, Details: map[string]string{"reason": haven.ErrorKind(err).String()}})
	})
	if werr != nil {
		return fmt.Errorf("record denial: %w", werr)
	}
	return err
}
