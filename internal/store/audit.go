package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/haven-hotline/haven"
)

// AuditChains lists the audit chains (their head rows), in order.
func (tx *Tx) AuditChains(ctx context.Context) ([]int, error) {
	rows, err := tx.query(ctx, `SELECT id FROM audit_head ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list audit chains: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// StrayAuditChains lists chains that have events but no head row.
func (tx *Tx) StrayAuditChains(ctx context.Context) ([]int, error) {
	rows, err := tx.query(ctx, `SELECT DISTINCT chain FROM audit_events WHERE chain NOT IN (SELECT id FROM audit_head) ORDER BY chain`)
	if err != nil {
		return nil, fmt.Errorf("list stray audit chains: %w", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var c int
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AuditHead returns the head of an audit chain: the sequence number and
// hash of its last event.
func (tx *Tx) AuditHead(ctx context.Context, chain int) (seq int64, hash string, err error) {
	return tx.auditHead(ctx, chain, "")
}

// LockAuditHead returns the head of an audit chain and locks it until the
// transaction ends, so appends to one chain are serialised.
func (tx *Tx) LockAuditHead(ctx context.Context, chain int) (seq int64, hash string, err error) {
	return tx.auditHead(ctx, chain, tx.d.ForUpdate())
}

func (tx *Tx) auditHead(ctx context.Context, chain int, suffix string) (seq int64, hash string, err error) {
	err = tx.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = $1`+suffix, chain).Scan(&seq, &hash)
	if err != nil {
		return 0, "", fmt.Errorf("read audit head: %w", notFound(err))
	}
	return seq, hash, nil
}

// AppendAuditEvent inserts a chained event and moves the head to it. The
// caller (package audit) has computed Seq, PrevHash and Hash under the head
// lock.
func (tx *Tx) AppendAuditEvent(ctx context.Context, e *haven.AuditEvent) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("encode audit details: %w", err)
	}
	if e.Details == nil {
		details = []byte("{}")
	}
	_, err = tx.exec(ctx, `INSERT INTO audit_events (chain, seq, id, at, type, actor_id, actor_role, agency_id,
		source_addr, object_type, object_id, outcome, purpose, request_id, details, prev_hash, hash)
		VALUES ($17, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		e.Seq, e.ID, ts(e.At), e.Type, e.ActorID, string(e.ActorRole), e.AgencyID, e.SourceAddr,
		e.ObjectType, e.ObjectID, string(e.Outcome), e.Purpose, e.RequestID, string(details), e.PrevHash, e.Hash, e.Chain)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	if err := mustAffect(tx.exec(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = $3`, e.Seq, e.Hash, e.Chain)); err != nil {
		return fmt.Errorf("move audit head: %w", err)
	}
	return nil
}

const auditColumns = `chain, seq, id, at, type, actor_id, actor_role, agency_id, source_addr, object_type,
	object_id, outcome, purpose, request_id, details, prev_hash, hash`

func scanAuditEvent(row interface{ Scan(...any) error }) (*haven.AuditEvent, error) {
	var e haven.AuditEvent
	var role, outcome, details string
	err := row.Scan(&e.Chain, &e.Seq, &e.ID, utcTime{&e.At}, &e.Type, &e.ActorID, &role, &e.AgencyID, &e.SourceAddr,
		&e.ObjectType, &e.ObjectID, &outcome, &e.Purpose, &e.RequestID, &details, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, notFound(err)
	}
	e.ActorRole, e.Outcome = haven.Role(role), haven.Outcome(outcome)
	if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
		// A tampered details column must not stop verification: keep the
		// raw text so the chain check reports the event as modified.
		e.Details = map[string]string{"\x00raw": details}
	}
	return &e, nil
}

// AuditEvents calls fn for each event of a chain with seq > after, in seq
// order, at most limit events (0 for all).
func (tx *Tx) AuditEvents(ctx context.Context, chain int, after int64, limit int, fn func(*haven.AuditEvent) error) error {
	q := `SELECT ` + auditColumns + ` FROM audit_events WHERE chain = $1 AND seq > $2 ORDER BY seq`
	args := []any{chain, after}
	if limit > 0 {
		q += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return fmt.Errorf("list audit events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// AuditFilter narrows RecentAuditEvents.
type AuditFilter struct {
	Type       string
	ActorID    string
	ObjectType string
	ObjectID   string
	BeforeID   string // "" for the newest; event IDs sort by time
	Limit      int
}

// RecentAuditEvents lists events newest first.
func (tx *Tx) RecentAuditEvents(ctx context.Context, f AuditFilter) ([]*haven.AuditEvent, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := tx.query(ctx, `SELECT `+auditColumns+` FROM audit_events
		WHERE ($1 = '' OR type = $1) AND ($2 = '' OR actor_id = $2) AND ($3 = '' OR object_type = $3)
		AND ($4 = '' OR object_id = $4) AND ($5 = '' OR id < $5)
		ORDER BY id DESC LIMIT $6`, f.Type, f.ActorID, f.ObjectType, f.ObjectID, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list recent audit events: %w", err)
	}
	defer rows.Close()
	var out []*haven.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list recent audit events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
