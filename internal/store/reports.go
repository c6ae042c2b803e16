package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// NextReportNumber returns the next report number. Numbers are integers,
// as the ESP API requires, and never reused.
func (tx *Tx) NextReportNumber(ctx context.Context) (int64, error) {
	var n int64
	err := tx.queryRow(ctx, tx.d.NextReportNumberSQL()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("next report number: %w", notFound(err))
	}
	return n, nil
}

// reportContent is everything of a report's document, kept as JSON so that
// every element survives (lossless storage); the columns beside it hold
// what queries need.
type reportContent struct {
	BatchedReason  string                 `json:"batchedReason,omitempty"`
	Incident       haven.IncidentSummary  `json:"incident"`
	Internet       []haven.InternetDetail `json:"internet,omitempty"`
	LawEnforcement *haven.LawEnforcement  `json:"lawEnforcement,omitempty"`
	Reporter       haven.Reporter         `json:"reporter"`
	Reported       []haven.Involved       `json:"reported,omitempty"`
	Recipients     []haven.Involved       `json:"recipients,omitempty"`
	Victims        []haven.Involved       `json:"victims,omitempty"`
	AdditionalInfo string                 `json:"additionalInfo,omitempty"`
}

func contentOf(r *haven.Report) ([]byte, error) {
	return json.Marshal(reportContent{BatchedReason: r.BatchedReason, Incident: r.Incident, Internet: r.Internet,
		LawEnforcement: r.LawEnforcement, Reporter: r.Reporter, Reported: r.Reported, Recipients: r.Recipients,
		Victims: r.Victims, AdditionalInfo: r.AdditionalInfo})
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateReport inserts a report (without its files). sealedCallback is the
// phone caller's callback details, already sealed. A repeated
// idempotency key of the same submitter gives ErrConflict.
func (tx *Tx) CreateReport(ctx context.Context, r *haven.Report, sealedCallback []byte, expiresAt time.Time) error {
	content, err := contentOf(r)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	var idem any
	if r.IdempotencyKey != "" {
		idem = r.IdempotencyKey
	}
	_, err = tx.exec(ctx, `INSERT INTO reports (id, source, status, submitter_id, opened_at, modified_at, finished_at,
		closed_at, expires_at, incident_type, incident_at, escalate, batched, language, idempotency_key, followup_secret,
		content, callback) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		r.ID, string(r.Source), string(r.Status), r.SubmitterID, ts(r.OpenedAt), ts(r.ModifiedAt), ts(r.FinishedAt),
		ts(r.ClosedAt), ts(expiresAt), string(r.Incident.Type), ts(r.Incident.DateTime), r.Incident.Escalate != nil,
		r.BatchedReason != "", r.Language, idem, nullBytes(r.FollowupSecret), string(content), nullBytes(sealedCallback))
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	return nil
}

// UpdateReportContent replaces the document part of a report.
func (tx *Tx) UpdateReportContent(ctx context.Context, r *haven.Report) error {
	content, err := contentOf(r)
	if err != nil {
		return fmt.Errorf("update report: %w", err)
	}
	err = mustAffect(tx.exec(ctx, `UPDATE reports SET content = $2, incident_type = $3, incident_at = $4, escalate = $5,
		batched = $6, modified_at = $7 WHERE id = $1`, r.ID, string(content), string(r.Incident.Type),
		ts(r.Incident.DateTime), r.Incident.Escalate != nil, r.BatchedReason != "", ts(r.ModifiedAt)))
	if err != nil {
		return fmt.Errorf("update report: %w", err)
	}
	return nil
}

const reportColumns = `id, source, status, submitter_id, opened_at, modified_at, finished_at, closed_at, language,
	idempotency_key, followup_secret, content`

func scanReport(row interface{ Scan(...any) error }) (*haven.Report, error) {
	var r haven.Report
	var source, status, content string
	var idem scanNullString
	idem.s = &r.IdempotencyKey
	err := row.Scan(&r.ID, &source, &status, &r.SubmitterID, utcTime{&r.OpenedAt}, utcTime{&r.ModifiedAt},
		nullTime{&r.FinishedAt}, nullTime{&r.ClosedAt}, &r.Language, idem, &r.FollowupSecret, &content)
	if err != nil {
		return nil, notFound(err)
	}
	r.Source, r.Status = haven.ReportSource(source), haven.ReportStatus(status)
	var c reportContent
	if err := json.Unmarshal([]byte(content), &c); err != nil {
		return nil, fmt.Errorf("decode report %d: %w", r.ID, err)
	}
	r.BatchedReason, r.Incident, r.Internet, r.LawEnforcement = c.BatchedReason, c.Incident, c.Internet, c.LawEnforcement
	r.Reporter, r.Reported, r.Recipients, r.Victims, r.AdditionalInfo = c.Reporter, c.Reported, c.Recipients, c.Victims, c.AdditionalInfo
	return &r, nil
}

// Report returns a report with its files (but not its callback details).
// lock takes a row lock on PostgreSQL, for state changes.
func (tx *Tx) Report(ctx context.Context, id int64, lock bool) (*haven.Report, error) {
	suffix := ""
	if lock {
		suffix = tx.d.ForUpdate()
	}
	r, err := scanReport(tx.queryRow(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1`+suffix, id))
	if err != nil {
		return nil, fmt.Errorf("get report: %w", err)
	}
	if r.Files, err = tx.ReportFiles(ctx, id); err != nil {
		return nil, err
	}
	return r, nil
}

// ReportCallback returns the sealed callback details of a report, or nil.
func (tx *Tx) ReportCallback(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	if err := tx.queryRow(ctx, `SELECT callback FROM reports WHERE id = $1`, id).Scan(&b); err != nil {
		return nil, fmt.Errorf("get report callback: %w", notFound(err))
	}
	return b, nil
}

// ReportByIdempotencyKey finds the report a submitter made with a key.
func (tx *Tx) ReportByIdempotencyKey(ctx context.Context, submitterID, key string) (int64, error) {
	var id int64
	err := tx.queryRow(ctx, `SELECT id FROM reports WHERE submitter_id = $1 AND idempotency_key = $2`, submitterID, key).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("get report by idempotency key: %w", notFound(err))
	}
	return id, nil
}

// SetReportState records a lifecycle change. expiresAt is when an open
// report lapses (zero once it is no longer open).
func (tx *Tx) SetReportState(ctx context.Context, id int64, status haven.ReportStatus, modifiedAt, finishedAt, closedAt, expiresAt time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE reports SET status = $2, modified_at = $3, finished_at = $4, closed_at = $5,
		expires_at = $6 WHERE id = $1`, id, string(status), ts(modifiedAt), ts(finishedAt), ts(closedAt), ts(expiresAt)))
	if err != nil {
		return fmt.Errorf("set report state: %w", err)
	}
	return nil
}

// ExpiredReports returns up to limit open reports whose expiry has passed.
func (tx *Tx) ExpiredReports(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := tx.query(ctx, `SELECT id FROM reports WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`, ts(now), limit)
	if err != nil {
		return nil, fmt.Errorf("list expired reports: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ReportFilter narrows Reports.
type ReportFilter struct {
	Status      haven.ReportStatus
	Source      haven.ReportSource
	SubmitterID string
	BeforeID    int64 // 0 for the newest
	Limit       int
}

// ReportSummary is a row of the report list.
type ReportSummary struct {
	ID           int64
	Source       haven.ReportSource
	Status       haven.ReportStatus
	SubmitterID  string
	OpenedAt     time.Time
	FinishedAt   time.Time
	IncidentType haven.IncidentType
	IncidentAt   time.Time
	Escalate     bool
	Batched      bool
	Files        int
}

// Reports lists reports, newest first.
func (tx *Tx) Reports(ctx context.Context, f ReportFilter) ([]*ReportSummary, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := tx.query(ctx, `SELECT r.id, r.source, r.status, r.submitter_id, r.opened_at, r.finished_at,
		r.incident_type, r.incident_at, r.escalate, r.batched,
		(SELECT COUNT(*) FROM report_files f WHERE f.report_id = r.id)
		FROM reports r WHERE ($1 = '' OR r.status = $1) AND ($2 = '' OR r.source = $2) AND ($3 = '' OR r.submitter_id = $3)
		AND ($4 = 0 OR r.id < $4) ORDER BY r.id DESC LIMIT $5`,
		string(f.Status), string(f.Source), f.SubmitterID, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list reports: %w", err)
	}
	defer rows.Close()
	var out []*ReportSummary
	for rows.Next() {
		var s ReportSummary
		var source, status, typ string
		if err := rows.Scan(&s.ID, &source, &status, &s.SubmitterID, utcTime{&s.OpenedAt}, nullTime{&s.FinishedAt},
			&typ, nullTime{&s.IncidentAt}, &s.Escalate, &s.Batched, &s.Files); err != nil {
			return nil, fmt.Errorf("list reports: %w", err)
		}
		s.Source, s.Status, s.IncidentType = haven.ReportSource(source), haven.ReportStatus(status), haven.IncidentType(typ)
		out = append(out, &s)
	}
	return out, rows.Err()
}

const fileColumns = `id, report_id, acquisition_id, item_id, filename, content_type, size, md5, sha1, sha256,
	uploaded_at, details, details_at`

func scanReportFile(row interface{ Scan(...any) error }) (*haven.ReportFile, error) {
	var f haven.ReportFile
	var details scanNullString
	var raw string
	details.s = &raw
	err := row.Scan(&f.ID, &f.ReportID, &f.AcquisitionID, &f.ItemID, &f.Filename, &f.ContentType, &f.Size, &f.MD5,
		&f.SHA1, &f.SHA256, utcTime{&f.UploadedAt}, details, nullTime{&f.DetailsAt})
	if err != nil {
		return nil, notFound(err)
	}
	if raw != "" {
		f.Details = new(haven.FileDetails)
		if err := json.Unmarshal([]byte(raw), f.Details); err != nil {
			return nil, fmt.Errorf("decode file details %s: %w", f.ID, err)
		}
	}
	return &f, nil
}

// AddReportFile attaches a file to a report, after the files already
// there.
func (tx *Tx) AddReportFile(ctx context.Context, f *haven.ReportFile) error {
	var seq int
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM report_files WHERE report_id = $1`, f.ReportID).Scan(&seq); err != nil {
		return fmt.Errorf("add report file: %w", err)
	}
	_, err := tx.exec(ctx, `INSERT INTO report_files (id, report_id, seq, acquisition_id, item_id, filename, content_type,
		size, md5, sha1, sha256, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		f.ID, f.ReportID, seq, f.AcquisitionID, f.ItemID, f.Filename, f.ContentType, f.Size, f.MD5, f.SHA1, f.SHA256, ts(f.UploadedAt))
	if err != nil {
		return fmt.Errorf("add report file: %w", err)
	}
	return nil
}

// ReportFiles lists a report's files in upload order.
func (tx *Tx) ReportFiles(ctx context.Context, reportID int64) ([]*haven.ReportFile, error) {
	rows, err := tx.query(ctx, `SELECT `+fileColumns+` FROM report_files WHERE report_id = $1 ORDER BY seq`, reportID)
	if err != nil {
		return nil, fmt.Errorf("list report files: %w", err)
	}
	defer rows.Close()
	var out []*haven.ReportFile
	for rows.Next() {
		f, err := scanReportFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SetReportFileDetails stores the metadata of a file of a report.
func (tx *Tx) SetReportFileDetails(ctx context.Context, reportID int64, fileID string, d *haven.FileDetails, at time.Time) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("set file details: %w", err)
	}
	err = mustAffect(tx.exec(ctx, `UPDATE report_files SET details = $3, details_at = $4 WHERE report_id = $1 AND id = $2`,
		reportID, fileID, string(b), ts(at)))
	if err != nil {
		return fmt.Errorf("set file details: %w", err)
	}
	return nil
}

// DeleteReportFiles removes a report's file records and returns them.
func (tx *Tx) DeleteReportFiles(ctx context.Context, reportID int64) ([]*haven.ReportFile, error) {
	files, err := tx.ReportFiles(ctx, reportID)
	if err != nil {
		return nil, err
	}
	if _, err := tx.exec(ctx, `DELETE FROM report_files WHERE report_id = $1`, reportID); err != nil {
		return nil, fmt.Errorf("delete report files: %w", err)
	}
	return files, nil
}

// ItemInUse reports whether any report file still refers to an evidence
// item.
func (tx *Tx) ItemInUse(ctx context.Context, itemID string) (bool, error) {
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM report_files WHERE item_id = $1`, itemID).Scan(&n); err != nil {
		return false, fmt.Errorf("item in use: %w", err)
	}
	return n > 0, nil
}

// ReportFollowup is a message a public reporter added later.
type ReportFollowup struct {
	ID       string
	ReportID int64
	At       time.Time
	Text     string
	Language string
}

// AddFollowup stores a follow-up message.
func (tx *Tx) AddFollowup(ctx context.Context, f *ReportFollowup) error {
	_, err := tx.exec(ctx, `INSERT INTO report_followups (id, report_id, at, text, language) VALUES ($1, $2, $3, $4, $5)`,
		f.ID, f.ReportID, ts(f.At), f.Text, f.Language)
	if err != nil {
		return fmt.Errorf("add follow-up: %w", err)
	}
	return nil
}

// Followups lists a report's follow-ups, oldest first.
func (tx *Tx) Followups(ctx context.Context, reportID int64) ([]*ReportFollowup, error) {
	rows, err := tx.query(ctx, `SELECT id, report_id, at, text, language FROM report_followups WHERE report_id = $1 ORDER BY at, id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	defer rows.Close()
	var out []*ReportFollowup
	for rows.Next() {
		var f ReportFollowup
		if err := rows.Scan(&f.ID, &f.ReportID, utcTime{&f.At}, &f.Text, &f.Language); err != nil {
			return nil, err
		}
		out = append(out, &f)
	}
	return out, rows.Err()
}
