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
	"strings"
	"time"

	"github.com/haven-hotline/haven"
	"github.com/haven-hotline/haven/internal/store"
)

// Log appends to and verifies the audit chain.
type Log struct {
	chainKey  []byte
	pseudoKey []byte
	clock     haven.Clock
}

// New returns a Log keyed by the chain and pseudonym keys.
func New(chainKey, pseudoKey []byte, clock haven.Clock) *Log {
	return &Log{chainKey: chainKey, pseudoKey: pseudoKey, clock: clock}
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
func (l *Log) Append(ctx context.Context, tx *store.Tx, ev *haven.AuditEvent) error {
	if ev.Type == "" || ev.Outcome == "" {
		return fmt.Errorf("append audit event: type and outcome are required")
	}
	seq, head, err := tx.LockAuditHead(ctx)
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
	ev.Seq, ev.PrevHash = seq+1, head
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
	b, err := json.Marshal([]any{
		"haven-audit-v1", ev.Seq, ev.ID, ev.At.UTC().Format("2006-01-02T15:04:05.000Z"), ev.Type,
		ev.ActorID, string(ev.ActorRole), ev.AgencyID, ev.SourceAddr, ev.ObjectType, ev.ObjectID,
		string(ev.Outcome), ev.Purpose, ev.RequestID, details, ev.PrevHash,
	})
	if err != nil {
		panic(err) // strings and numbers always marshal
	}
	m := hmac.New(sha256.New, l.chainKey)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// Problem describes the first fault Verify found.
type Problem struct {
	Seq    int64  // sequence number of the first bad event (or where it should be)
	ID     string // its ID, when the event exists
	Reason string
}

func (p *Problem) String() string {
	if p.ID != "" {
		return fmt.Sprintf("event %d (%s): %s", p.Seq, p.ID, p.Reason)
	}
	return fmt.Sprintf("event %d: %s", p.Seq, p.Reason)
}

// Result is the outcome of Verify.
type Result struct {
	Events  int64    // events checked
	HeadSeq int64    // the head's sequence number
	Problem *Problem // nil when the chain is intact
}

// Verify walks the whole chain in order and returns the first problem, if
// any. An error is returned only when the database cannot be read.
func (l *Log) Verify(ctx context.Context, s *store.Store) (Result, error) {
	var res Result
	var prevSeq int64
	prevHash := ""
	const batch = 1000
	for res.Problem == nil {
		n := 0
		err := s.View(ctx, func(tx *store.Tx) error {
			return tx.AuditEvents(ctx, prevSeq, batch, func(ev *haven.AuditEvent) error {
				n++
				if res.Problem != nil {
					return nil
				}
				res.Events++
				switch {
				case ev.Seq != prevSeq+1:
					res.Problem = &Problem{Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: the next event is %d, so events were deleted", ev.Seq)}
				case ev.PrevHash != prevHash:
					res.Problem = &Problem{Seq: ev.Seq, ID: ev.ID, Reason: "does not follow the event before it: events were inserted, deleted or reordered"}
				case !hmac.Equal([]byte(l.hash(ev)), []byte(ev.Hash)):
					res.Problem = &Problem{Seq: ev.Seq, ID: ev.ID, Reason: "its content does not match its hash: the event was modified or forged"}
				}
				prevSeq, prevHash = ev.Seq, ev.Hash
				return nil
			})
		})
		if err != nil {
			return res, fmt.Errorf("verify audit chain: %w", err)
		}
		if n < batch {
			break
		}
	}
	var headSeq int64
	var headHash string
	err := s.View(ctx, func(tx *store.Tx) (err error) {
		headSeq, headHash, err = tx.AuditHead(ctx)
		return err
	})
	if err != nil {
		if haven.IsKind(err, haven.KindNotFound) && res.Problem == nil {
			res.Problem = &Problem{Seq: prevSeq + 1, Reason: "the chain head record is missing"}
			return res, nil
		}
		return res, fmt.Errorf("verify audit chain: %w", err)
	}
	res.HeadSeq = headSeq
	if res.Problem == nil && (headSeq != prevSeq || headHash != prevHash) {
		if headSeq > prevSeq {
			res.Problem = &Problem{Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: the log ends at %d but %d events were written, so events at the end were deleted", prevSeq, headSeq)}
		} else {
			res.Problem = &Problem{Seq: headSeq, Reason: "the chain head does not match the last event: events were appended outside Haven or the head was altered"}
		}
	}
	return res, nil
}
