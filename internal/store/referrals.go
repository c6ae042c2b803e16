package store

import (
	"context"
	"fmt"
	"time"

	"github.com/haven-hotline/haven"
)

// Referral records (issue 5): the areas agencies cover, the jurisdiction
// rules, referrals of reports to agencies, and the outcomes and messages
// that agencies and the hotline exchange about them. The rules that give
// these records their meaning live in internal/referral.

// AgencyArea is a place an agency covers: a whole country (ISO 3166-1
// alpha-2, "US") or one subdivision of it (ISO 3166-2, "US-CA").
type AgencyArea struct {
	AgencyID string
	Country  string
	Region   string // "" for the whole country
}

// JurisdictionRule is one line of the ordered table that turns a report's
// location into suggested agencies. A rule applies to a place when its
// Country is empty (anywhere) or equal, and its Region is empty (anywhere
// in the country) or equal. It then chooses either one named agency
// (AgencyID) or every agency of AgencyKind whose areas cover the place.
type JurisdictionRule struct {
	ID         string
	Position   int // rules apply in ascending position
	Label      string
	Country    string
	Region     string
	AgencyKind haven.AgencyKind
	AgencyID   string
	// Fallback rules apply only when the rules before them chose nobody
	// ("the international liaison for everything else").
	Fallback  bool
	CreatedBy string
	CreatedAt time.Time
}

// Referral is a report made available to one agency. It is never
// overwritten: revoking it fills the Revoked fields, and referring the
// report to the agency again adds a new referral.
type Referral struct {
	ID             string
	ReportID       int64
	AgencyID       string
	ReferredBy     string
	ReferredAt     time.Time
	Note           string
	AcknowledgedAt time.Time
	AcknowledgedBy string
	RevokedAt      time.Time
	RevokedBy      string
	RevokeReason   string
}

// Live reports whether the referral has not been revoked.
func (r *Referral) Live() bool { return r.RevokedAt.IsZero() }

// Acknowledged reports whether the agency has acknowledged the referral.
func (r *Referral) Acknowledged() bool { return !r.AcknowledgedAt.IsZero() }

// ReferralOutcome is one entry of the outcome history of a referral, as
// the agency recorded it; the latest entry is the current outcome.
type ReferralOutcome struct {
	ID         string
	ReferralID string
	Code       string
	Note       string
	RecordedBy string
	RecordedAt time.Time
}

// Senders of referral messages.
const (
	SenderAgency  = "agency"
	SenderHotline = "hotline"
)

// ReferralMessage is one message of the thread between an agency and the
// hotline about a referral.
type ReferralMessage struct {
	ID         string
	ReferralID string
	Sender     string // SenderAgency or SenderHotline
	AuthorID   string
	At         time.Time
	Text       string
}

// SetAgencyAreas replaces the areas of an agency.
func (tx *Tx) SetAgencyAreas(ctx context.Context, agencyID string, areas []AgencyArea) error {
	if _, err := tx.exec(ctx, `DELETE FROM agency_areas WHERE agency_id = $1`, agencyID); err != nil {
		return fmt.Errorf("set agency areas: %w", err)
	}
	for _, a := range areas {
		if _, err := tx.exec(ctx, `INSERT INTO agency_areas (agency_id, country, region) VALUES ($1, $2, $3)`,
			agencyID, a.Country, a.Region); err != nil {
			return fmt.Errorf("set agency areas: %w", err)
		}
	}
	return nil
}

func (tx *Tx) agencyAreas(ctx context.Context, q string, args ...any) ([]AgencyArea, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list agency areas: %w", err)
	}
	defer rows.Close()
	var out []AgencyArea
	for rows.Next() {
		var a AgencyArea
		if err := rows.Scan(&a.AgencyID, &a.Country, &a.Region); err != nil {
			return nil, fmt.Errorf("list agency areas: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AgencyAreas lists the areas of one agency, by country then region.
func (tx *Tx) AgencyAreas(ctx context.Context, agencyID string) ([]AgencyArea, error) {
	return tx.agencyAreas(ctx, `SELECT agency_id, country, region FROM agency_areas WHERE agency_id = $1
		ORDER BY country, region`, agencyID)
}

// AllAgencyAreas lists the areas of every agency.
func (tx *Tx) AllAgencyAreas(ctx context.Context) ([]AgencyArea, error) {
	return tx.agencyAreas(ctx, `SELECT agency_id, country, region FROM agency_areas ORDER BY agency_id, country, region`)
}

// AreasCovering lists the areas that cover a place: the whole country, or
// the region itself. Region-level areas come first.
func (tx *Tx) AreasCovering(ctx context.Context, country, region string) ([]AgencyArea, error) {
	return tx.agencyAreas(ctx, `SELECT agency_id, country, region FROM agency_areas
		WHERE country = $1 AND (region = '' OR region = $2) ORDER BY region DESC, agency_id`, country, region)
}

const ruleColumns = `id, position, label, country, region, agency_kind, agency_id, fallback, created_by, created_at`

func scanRule(row interface{ Scan(...any) error }) (*JurisdictionRule, error) {
	var r JurisdictionRule
	var kind string
	err := row.Scan(&r.ID, &r.Position, &r.Label, &r.Country, &r.Region, &kind, scanNullString{&r.AgencyID},
		&r.Fallback, &r.CreatedBy, utcTime{&r.CreatedAt})
	if err != nil {
		return nil, notFound(err)
	}
	r.AgencyKind = haven.AgencyKind(kind)
	return &r, nil
}

// CreateJurisdictionRule inserts a rule.
func (tx *Tx) CreateJurisdictionRule(ctx context.Context, r *JurisdictionRule) error {
	_, err := tx.exec(ctx, `INSERT INTO jurisdiction_rules (`+ruleColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.ID, r.Position, r.Label, r.Country, r.Region, string(r.AgencyKind), nullString(r.AgencyID), r.Fallback,
		r.CreatedBy, ts(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("create jurisdiction rule: %w", err)
	}
	return nil
}

// JurisdictionRule returns one rule.
func (tx *Tx) JurisdictionRule(ctx context.Context, id string) (*JurisdictionRule, error) {
	r, err := scanRule(tx.queryRow(ctx, `SELECT `+ruleColumns+` FROM jurisdiction_rules WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get jurisdiction rule: %w", err)
	}
	return r, nil
}

// JurisdictionRules lists the rules in the order they apply.
func (tx *Tx) JurisdictionRules(ctx context.Context) ([]*JurisdictionRule, error) {
	rows, err := tx.query(ctx, `SELECT `+ruleColumns+` FROM jurisdiction_rules ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("list jurisdiction rules: %w", err)
	}
	defer rows.Close()
	var out []*JurisdictionRule
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("list jurisdiction rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetJurisdictionRulePosition moves a rule.
func (tx *Tx) SetJurisdictionRulePosition(ctx context.Context, id string, position int) error {
	err := mustAffect(tx.exec(ctx, `UPDATE jurisdiction_rules SET position = $2 WHERE id = $1`, id, position))
	if err != nil {
		return fmt.Errorf("move jurisdiction rule: %w", err)
	}
	return nil
}

// DeleteJurisdictionRule removes a rule.
func (tx *Tx) DeleteJurisdictionRule(ctx context.Context, id string) error {
	err := mustAffect(tx.exec(ctx, `DELETE FROM jurisdiction_rules WHERE id = $1`, id))
	if err != nil {
		return fmt.Errorf("delete jurisdiction rule: %w", err)
	}
	return nil
}

const referralColumns = `id, report_id, agency_id, referred_by, referred_at, note, acknowledged_at, acknowledged_by,
	revoked_at, revoked_by, revoke_reason`

func scanReferral(row interface{ Scan(...any) error }, more ...any) (*Referral, error) {
	var r Referral
	dest := append([]any{&r.ID, &r.ReportID, &r.AgencyID, &r.ReferredBy, utcTime{&r.ReferredAt}, &r.Note,
		nullTime{&r.AcknowledgedAt}, &r.AcknowledgedBy, nullTime{&r.RevokedAt}, &r.RevokedBy, &r.RevokeReason}, more...)
	if err := row.Scan(dest...); err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

// CreateReferral inserts a referral. A live referral of the same report to
// the same agency gives ErrConflict.
func (tx *Tx) CreateReferral(ctx context.Context, r *Referral) error {
	_, err := tx.exec(ctx, `INSERT INTO referrals (`+referralColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.ReportID, r.AgencyID, r.ReferredBy, ts(r.ReferredAt), r.Note, ts(r.AcknowledgedAt), r.AcknowledgedBy,
		ts(r.RevokedAt), r.RevokedBy, r.RevokeReason)
	if err != nil {
		return fmt.Errorf("create referral: %w", err)
	}
	return nil
}

// Referral returns one referral by ID.
func (tx *Tx) Referral(ctx context.Context, id string) (*Referral, error) {
	r, err := scanReferral(tx.queryRow(ctx, `SELECT `+referralColumns+` FROM referrals WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("get referral: %w", err)
	}
	return r, nil
}

// LiveReferral returns the unrevoked referral of a report to an agency, or
// ErrNotFound. lock takes a row lock on PostgreSQL, for changes.
func (tx *Tx) LiveReferral(ctx context.Context, reportID int64, agencyID string, lock bool) (*Referral, error) {
	suffix := ""
	if lock {
		suffix = tx.d.ForUpdate()
	}
	r, err := scanReferral(tx.queryRow(ctx, `SELECT `+referralColumns+` FROM referrals
		WHERE report_id = $1 AND agency_id = $2 AND revoked_at IS NULL`+suffix, reportID, agencyID))
	if err != nil {
		return nil, fmt.Errorf("get live referral: %w", err)
	}
	return r, nil
}

// ReportReferrals lists every referral of a report, revoked ones included,
// oldest first.
func (tx *Tx) ReportReferrals(ctx context.Context, reportID int64) ([]*Referral, error) {
	rows, err := tx.query(ctx, `SELECT `+referralColumns+` FROM referrals WHERE report_id = $1 ORDER BY referred_at, id`, reportID)
	if err != nil {
		return nil, fmt.Errorf("list report referrals: %w", err)
	}
	defer rows.Close()
	var out []*Referral
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, fmt.Errorf("list report referrals: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// AgencyReferralRow is a row of an agency's referral list: the live
// referral and what the list shows of its report.
type AgencyReferralRow struct {
	*Referral
	IncidentType   haven.IncidentType
	ReportSource   haven.ReportSource
	ReportOpenedAt time.Time
	Escalate       bool
	LatestOutcome  string // "" until the agency records one
	Messages       int
}

// AgencyReferrals lists the live referrals of an agency, newest first.
// beforeID pages through the list ("" for the newest): referral IDs sort
// by creation time.
func (tx *Tx) AgencyReferrals(ctx context.Context, agencyID, beforeID string, limit int) ([]*AgencyReferralRow, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := tx.query(ctx, `SELECT x.id, x.report_id, x.agency_id, x.referred_by, x.referred_at, x.note,
		x.acknowledged_at, x.acknowledged_by, x.revoked_at, x.revoked_by, x.revoke_reason,
		r.incident_type, r.source, r.opened_at, r.escalate,
		(SELECT o.code FROM referral_outcomes o WHERE o.referral_id = x.id ORDER BY o.recorded_at DESC, o.id DESC LIMIT 1),
		(SELECT COUNT(*) FROM referral_messages m WHERE m.referral_id = x.id)
		FROM referrals x JOIN reports r ON r.id = x.report_id
		WHERE x.agency_id = $1 AND x.revoked_at IS NULL AND ($2 = '' OR x.id < $2)
		ORDER BY x.id DESC LIMIT $3`, agencyID, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list agency referrals: %w", err)
	}
	defer rows.Close()
	var out []*AgencyReferralRow
	for rows.Next() {
		var row AgencyReferralRow
		var typ, source string
		ref, err := scanReferral(rows, &typ, &source, utcTime{&row.ReportOpenedAt}, &row.Escalate,
			scanNullString{&row.LatestOutcome}, &row.Messages)
		if err != nil {
			return nil, fmt.Errorf("list agency referrals: %w", err)
		}
		row.Referral, row.IncidentType, row.ReportSource = ref, haven.IncidentType(typ), haven.ReportSource(source)
		out = append(out, &row)
	}
	return out, rows.Err()
}

// AcknowledgeReferral records the agency's acknowledgement of a live
// referral. An acknowledged or revoked referral gives ErrNotFound.
func (tx *Tx) AcknowledgeReferral(ctx context.Context, id, by string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE referrals SET acknowledged_at = $2, acknowledged_by = $3
		WHERE id = $1 AND acknowledged_at IS NULL AND revoked_at IS NULL`, id, ts(at), by))
	if err != nil {
		return fmt.Errorf("acknowledge referral: %w", err)
	}
	return nil
}

// RevokeReferral revokes a live referral. A revoked one gives ErrNotFound.
func (tx *Tx) RevokeReferral(ctx context.Context, id, by, reason string, at time.Time) error {
	err := mustAffect(tx.exec(ctx, `UPDATE referrals SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
		WHERE id = $1 AND revoked_at IS NULL`, id, ts(at), by, reason))
	if err != nil {
		return fmt.Errorf("revoke referral: %w", err)
	}
	return nil
}

// AddReferralOutcome appends to a referral's outcome history.
func (tx *Tx) AddReferralOutcome(ctx context.Context, o *ReferralOutcome) error {
	_, err := tx.exec(ctx, `INSERT INTO referral_outcomes (id, referral_id, code, note, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, o.ID, o.ReferralID, o.Code, o.Note, o.RecordedBy, ts(o.RecordedAt))
	if err != nil {
		return fmt.Errorf("add referral outcome: %w", err)
	}
	return nil
}

// ReferralOutcomes lists a referral's outcome history, oldest first.
func (tx *Tx) ReferralOutcomes(ctx context.Context, referralID string) ([]*ReferralOutcome, error) {
	rows, err := tx.query(ctx, `SELECT id, referral_id, code, note, recorded_by, recorded_at FROM referral_outcomes
		WHERE referral_id = $1 ORDER BY recorded_at, id`, referralID)
	if err != nil {
		return nil, fmt.Errorf("list referral outcomes: %w", err)
	}
	defer rows.Close()
	var out []*ReferralOutcome
	for rows.Next() {
		var o ReferralOutcome
		if err := rows.Scan(&o.ID, &o.ReferralID, &o.Code, &o.Note, &o.RecordedBy, utcTime{&o.RecordedAt}); err != nil {
			return nil, fmt.Errorf("list referral outcomes: %w", err)
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

// AddReferralMessage appends to a referral's message thread.
func (tx *Tx) AddReferralMessage(ctx context.Context, m *ReferralMessage) error {
	_, err := tx.exec(ctx, `INSERT INTO referral_messages (id, referral_id, sender, author_id, at, text)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.ID, m.ReferralID, m.Sender, m.AuthorID, ts(m.At), m.Text)
	if err != nil {
		return fmt.Errorf("add referral message: %w", err)
	}
	return nil
}

// ReferralMessages lists a referral's messages, oldest first.
func (tx *Tx) ReferralMessages(ctx context.Context, referralID string) ([]*ReferralMessage, error) {
	rows, err := tx.query(ctx, `SELECT id, referral_id, sender, author_id, at, text FROM referral_messages
		WHERE referral_id = $1 ORDER BY at, id`, referralID)
	if err != nil {
		return nil, fmt.Errorf("list referral messages: %w", err)
	}
	defer rows.Close()
	var out []*ReferralMessage
	for rows.Next() {
		var m ReferralMessage
		if err := rows.Scan(&m.ID, &m.ReferralID, &m.Sender, &m.AuthorID, utcTime{&m.At}, &m.Text); err != nil {
			return nil, fmt.Errorf("list referral messages: %w", err)
		}
		out = append(out, &m)
	}
	return out, rows.Err()
}

// FeedbackReport is one filed report of a submitter, for the ESP
// feedback: when it was received and whether it is referred.
type FeedbackReport struct {
	OpenedAt time.Time
	Referred bool
}

// FeedbackOutcome is the current outcome of one live referral of a
// submitter's report, with when the report was received.
type FeedbackOutcome struct {
	OpenedAt time.Time
	Code     string
}

// SubmitterFeedback returns the raw material of a submitter's feedback:
// each finished report received since the given time, and the current
// outcome of each live referral of those reports that has one. The
// caller aggregates and suppresses; nothing here names a report or an
// agency.
func (tx *Tx) SubmitterFeedback(ctx context.Context, submitterID string, since time.Time) ([]FeedbackReport, []FeedbackOutcome, error) {
	rows, err := tx.query(ctx, `SELECT r.opened_at,
		CASE WHEN EXISTS (SELECT 1 FROM referrals x WHERE x.report_id = r.id AND x.revoked_at IS NULL) THEN 1 ELSE 0 END
		FROM reports r WHERE r.submitter_id = $1 AND r.status = 'finished' AND r.opened_at >= $2`, submitterID, ts(since))
	if err != nil {
		return nil, nil, fmt.Errorf("submitter feedback: %w", err)
	}
	var reports []FeedbackReport
	for rows.Next() {
		var f FeedbackReport
		var referred int
		if err := rows.Scan(utcTime{&f.OpenedAt}, &referred); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("submitter feedback: %w", err)
		}
		f.Referred = referred == 1
		reports = append(reports, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("submitter feedback: %w", err)
	}
	rows, err = tx.query(ctx, `SELECT r.opened_at,
		(SELECT o.code FROM referral_outcomes o WHERE o.referral_id = x.id ORDER BY o.recorded_at DESC, o.id DESC LIMIT 1)
		FROM referrals x JOIN reports r ON r.id = x.report_id
		WHERE r.submitter_id = $1 AND r.status = 'finished' AND r.opened_at >= $2 AND x.revoked_at IS NULL`,
		submitterID, ts(since))
	if err != nil {
		return nil, nil, fmt.Errorf("submitter feedback: %w", err)
	}
	defer rows.Close()
	var outcomes []FeedbackOutcome
	for rows.Next() {
		var f FeedbackOutcome
		if err := rows.Scan(utcTime{&f.OpenedAt}, scanNullString{&f.Code}); err != nil {
			return nil, nil, fmt.Errorf("submitter feedback: %w", err)
		}
		if f.Code != "" {
			outcomes = append(outcomes, f)
		}
	}
	return reports, outcomes, rows.Err()
}
