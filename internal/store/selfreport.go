package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// SelfReport is a survivor's self-report by hash: the case the person
// holds with its number and secret. Context and Contact are sealed by the
// caller (internal/selfreport); the store never sees them in clear.
type SelfReport struct {
	ID            string
	Number        string
	SecretHash    []byte // SHA-256 of the normalised secret
	Relation      string
	ContextSealed []byte
	Lang          string
	Notify        string
	ContactSealed []byte
	CreatedAt     time.Time
	UpdatedAt     time.Time
	WithdrawnAt   time.Time
}

const selfReportColumns = `id, number, secret_hash, relation, context_sealed, lang, notify, contact_sealed, created_at, updated_at, withdrawn_at`

func scanSelfReport(row interface{ Scan(...any) error }) (*SelfReport, error) {
	var r SelfReport
	err := row.Scan(&r.ID, &r.Number, &r.SecretHash, &r.Relation, &r.ContextSealed, &r.Lang, &r.Notify, &r.ContactSealed,
		utcTime{&r.CreatedAt}, utcTime{&r.UpdatedAt}, nullTime{&r.WithdrawnAt})
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateSelfReport stores a new case.
func (tx *Tx) CreateSelfReport(ctx context.Context, r *SelfReport) error {
	_, err := tx.exec(ctx, `INSERT INTO self_reports (`+selfReportColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.Number, r.SecretHash, r.Relation, r.ContextSealed, r.Lang, r.Notify, r.ContactSealed, ts(r.CreatedAt), ts(r.UpdatedAt),
		ts(r.WithdrawnAt))
	if err != nil {
		return fmt.Errorf("create self-report: %w", err)
	}
	return nil
}

// SelfReportByNumber returns the case with a number.
func (tx *Tx) SelfReportByNumber(ctx context.Context, number string) (*SelfReport, error) {
	r, err := scanSelfReport(tx.queryRow(ctx, `SELECT `+selfReportColumns+` FROM self_reports WHERE number = $1`, number))
	if err != nil {
		return nil, fmt.Errorf("get self-report: %w", err)
	}
	return r, nil
}

// UpdateSelfReport stores a case's notification choice, contact and
// withdrawal.
func (tx *Tx) UpdateSelfReport(ctx context.Context, r *SelfReport) error {
	err := mustAffect(tx.exec(ctx, `UPDATE self_reports SET notify = $2, contact_sealed = $3, updated_at = $4, withdrawn_at = $5 WHERE id = $1`,
		r.ID, r.Notify, r.ContactSealed, ts(r.UpdatedAt), ts(r.WithdrawnAt)))
	if err != nil {
		return fmt.Errorf("update self-report: %w", err)
	}
	return nil
}

// AddSelfReportHash links a bank entry to a case.
func (tx *Tx) AddSelfReportHash(ctx context.Context, reportID string, entryID int64, at time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO self_report_hashes (report_id, entry_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		reportID, entryID, ts(at))
	if err != nil {
		return fmt.Errorf("add self-report hash: %w", err)
	}
	return nil
}

// SelfReportEntries returns the IDs of the bank entries of a case, oldest
// first.
func (tx *Tx) SelfReportEntries(ctx context.Context, reportID string) ([]int64, error) {
	rows, err := tx.query(ctx, `SELECT entry_id FROM self_report_hashes WHERE report_id = $1 ORDER BY added_at, entry_id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("list self-report hashes: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list self-report hashes: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// CountSelfReports returns how many cases there are and how many were
// withdrawn.
func (tx *Tx) CountSelfReports(ctx context.Context) (total, withdrawn int64, err error) {
	err = tx.queryRow(ctx, `SELECT COUNT(*), COUNT(withdrawn_at) FROM self_reports`).Scan(&total, &withdrawn)
	if err != nil {
		return 0, 0, fmt.Errorf("count self-reports: %w", err)
	}
	return total, withdrawn, nil
}

// SelfReportEntryShared reports whether a bank entry is also held by
// another case that has not been withdrawn.
func (tx *Tx) SelfReportEntryShared(ctx context.Context, entryID int64, exceptReport string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT COUNT(*) FROM self_report_hashes h JOIN self_reports r ON r.id = h.report_id
		WHERE h.entry_id = $1 AND h.report_id <> $2 AND r.withdrawn_at IS NULL`, entryID, exceptReport).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check shared self-report hash: %w", err)
	}
	return n > 0, nil
}

// HashEntriesOfBankChangedSince returns a bank's entries changed after seq
// (added, changed or removed), in change order, at most limit.
func (tx *Tx) HashEntriesOfBankChangedSince(ctx context.Context, bankID string, seq int64, limit int) ([]*haven.HashEntry, error) {
	return tx.hashEntries(ctx, `SELECT `+entryColumns+` FROM hash_entries WHERE bank_id = $1 AND change_seq > $2 ORDER BY change_seq LIMIT $3`,
		bankID, seq, limit)
}
