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

// SelfReportNews is a piece of news for a self-report's holder: a copy of
// one of their pictures was reported (kind "sighting", in CyberTipline
// report CybertipReport, which the person is never shown).
type SelfReportNews struct {
	ID             string
	CaseID         string
	Kind           string
	CybertipReport int64
	CreatedAt      time.Time
	SentAt         time.Time
	SentBy         string
	Note           string
}

const newsColumns = `id, report_id, kind, cybertip_report, created_at, sent_at, sent_by, note`

func (tx *Tx) news(ctx context.Context, q string, args ...any) ([]*SelfReportNews, error) {
	rows, err := tx.query(ctx, `SELECT `+newsColumns+` FROM self_report_news `+q, args...)
	if err != nil {
		return nil, fmt.Errorf("list self-report news: %w", err)
	}
	defer rows.Close()
	var out []*SelfReportNews
	for rows.Next() {
		var n SelfReportNews
		if err := rows.Scan(&n.ID, &n.CaseID, &n.Kind, &n.CybertipReport, utcTime{&n.CreatedAt}, nullTime{&n.SentAt}, &n.SentBy, &n.Note); err != nil {
			return nil, fmt.Errorf("list self-report news: %w", err)
		}
		out = append(out, &n)
	}
	return out, rows.Err()
}

// AddSelfReportNews stores a piece of news once (a second sighting of the
// same case in the same report is not news) and reports whether it is new.
func (tx *Tx) AddSelfReportNews(ctx context.Context, n *SelfReportNews) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO self_report_news (`+newsColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (report_id, kind, cybertip_report) DO NOTHING`,
		n.ID, n.CaseID, n.Kind, n.CybertipReport, ts(n.CreatedAt), ts(n.SentAt), n.SentBy, n.Note)
	if err != nil {
		return false, fmt.Errorf("add self-report news: %w", err)
	}
	k, err := res.RowsAffected()
	return k == 1, err
}

// UnsentSelfReportNews lists the news not yet passed on, oldest first.
func (tx *Tx) UnsentSelfReportNews(ctx context.Context, limit int) ([]*SelfReportNews, error) {
	return tx.news(ctx, `WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1`, limit)
}

// SelfReportNewsOf lists a case's news, newest first.
func (tx *Tx) SelfReportNewsOf(ctx context.Context, caseID string) ([]*SelfReportNews, error) {
	return tx.news(ctx, `WHERE report_id = $1 ORDER BY created_at DESC, id`, caseID)
}

// MarkSelfReportNewsSent records that a piece of news was passed on.
func (tx *Tx) MarkSelfReportNewsSent(ctx context.Context, id, by, note string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE self_report_news SET sent_at = $2, sent_by = $3, note = $4 WHERE id = $1 AND sent_at IS NULL`,
		id, ts(at), by, note))
	if err != nil {
		return fmt.Errorf("mark self-report news sent: %w", err)
	}
	return nil
}

// SelfReportByID returns a case by its ID.
func (tx *Tx) SelfReportByID(ctx context.Context, id string) (*SelfReport, error) {
	r, err := scanSelfReport(tx.queryRow(ctx, `SELECT `+selfReportColumns+` FROM self_reports WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get self-report: %w", err)
	}
	return r, nil
}

// SelfReportsHoldingEntry lists the open cases (not withdrawn) that hold a
// bank entry.
func (tx *Tx) SelfReportsHoldingEntry(ctx context.Context, entryID int64) ([]*SelfReport, error) {
	rows, err := tx.query(ctx, `SELECT `+prefixed("r.", selfReportColumns)+` FROM self_reports r JOIN self_report_hashes h ON h.report_id = r.id
		WHERE h.entry_id = $1 AND r.withdrawn_at IS NULL ORDER BY r.created_at`, entryID)
	if err != nil {
		return nil, fmt.Errorf("list self-reports of an entry: %w", err)
	}
	defer rows.Close()
	var out []*SelfReport
	for rows.Next() {
		r, err := scanSelfReport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
